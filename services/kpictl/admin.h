#ifndef KPI_SERVICES_KPICTL_ADMIN_H_
#define KPI_SERVICES_KPICTL_ADMIN_H_

// kpictl's operator subcommands: `health` (for probes and scripts) and
// `changes` (the change log). Same conventions as commands.h.

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "grpc/health/v1/health.grpc.pb.h"
#include "services/kpictl/commands.h"
#include "services/kpictl/rpc.h"

namespace kpi::kpictl {

// `health [SERVICE]`: asks grpc.health.v1.Health/Check for SERVICE ("" for
// the server as a whole) and prints its status. OK only when SERVING:
// UNAVAILABLE names any other status, so that the exit code suits a
// container probe (with the TLS flags, where a plain gRPC probe cannot
// connect).
absl::Status RunHealth(grpc::health::v1::Health::StubInterface& health,
                       absl::Duration timeout,
                       const std::vector<std::string>& args, const Streams& io);

// What `changes` lists (its flags).
struct ChangesOptions {
  std::string actor;  // --actor: exactly as the log shows it; "" for all
  std::string since;  // --since: RFC 3339 time, inclusive; "" for no bound
  std::string until;  // --until: RFC 3339 time, exclusive; "" for no bound
  int limit = 50;     // --limit: most entries shown; 0 for all
};

// `changes [RESOURCE]`: the change log, newest first (KpiService.ListChanges,
// role admin), as a table (--lang) or one JSON object per line
// (--format=json). RESOURCE limits it to a resource and what is under it
// (a full name, e.g. strategies/s/kpis/k). INVALID_ARGUMENT for a bad
// --since/--until or format; the server's errors otherwise
// (PERMISSION_DENIED for a caller below admin).
absl::Status RunChanges(const Rpc& rpc, const std::vector<std::string>& args,
                        const Options& options, const ChangesOptions& changes,
                        const Streams& io);

}  // namespace kpi::kpictl

#endif  // KPI_SERVICES_KPICTL_ADMIN_H_
