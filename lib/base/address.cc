#include "lib/base/address.h"

#include <arpa/inet.h>

#include <string>

#include "absl/strings/ascii.h"

namespace kpi::base {

bool IsLoopbackAddress(std::string_view address) {
  if (address.substr(0, 5) == "unix:") return true;
  std::string_view host = address;
  if (!host.empty() && host.front() == '[') {
    const size_t close = host.find(']');
    if (close == std::string_view::npos) return false;
    host = host.substr(1, close - 1);
  } else if (host.find(':') != host.rfind(':')) {
    // A bare IPv6 address, no port.
  } else if (const size_t colon = host.find(':');
             colon != std::string_view::npos) {
    host = host.substr(0, colon);
  }
  const std::string h = absl::AsciiStrToLower(std::string(host));
  if (h == "localhost") return true;
  in_addr v4;
  if (inet_pton(AF_INET, h.c_str(), &v4) == 1) {
    return (ntohl(v4.s_addr) >> 24) == 127;
  }
  in6_addr v6;
  if (inet_pton(AF_INET6, h.c_str(), &v6) == 1) {
    return IN6_IS_ADDR_LOOPBACK(&v6);
  }
  return false;
}

}  // namespace kpi::base
