#ifndef KPI_LIB_BASE_ADDRESS_H_
#define KPI_LIB_BASE_ADDRESS_H_

// Network addresses as the server's --listen and kpictl's --server take
// them: "host:port", IPv6 hosts in brackets.

#include <string_view>

namespace kpi::base {

// Whether `address` ("host:port", or a bare host) reaches only this
// machine: 127.0.0.0/8, [::1], localhost, or a unix: socket. The wildcards
// 0.0.0.0 and [::], other addresses and other host names are not.
// Thread-safe.
bool IsLoopbackAddress(std::string_view address);

}  // namespace kpi::base

#endif  // KPI_LIB_BASE_ADDRESS_H_
