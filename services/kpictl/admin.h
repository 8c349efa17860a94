#ifndef KPI_SERVICES_KPICTL_ADMIN_H_
#define KPI_SERVICES_KPICTL_ADMIN_H_

// kpictl's operator subcommands: `health` (for probes and scripts). Same
// conventions as commands.h.

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "grpc/health/v1/health.grpc.pb.h"
#include "services/kpictl/commands.h"

namespace kpi::kpictl {

// `health [SERVICE]`: asks grpc.health.v1.Health/Check for SERVICE ("" for
// the server as a whole) and prints its status. OK only when SERVING:
// UNAVAILABLE names any other status, so that the exit code suits a
// container probe (with the TLS flags, where a plain gRPC probe cannot
// connect).
absl::Status RunHealth(grpc::health::v1::Health::StubInterface& health,
                       absl::Duration timeout,
                       const std::vector<std::string>& args, const Streams& io);

}  // namespace kpi::kpictl

#endif  // KPI_SERVICES_KPICTL_ADMIN_H_
