#ifndef KPI_SERVICES_KPICTL_REPORT_H_
#define KPI_SERVICES_KPICTL_REPORT_H_

// `kpictl report [--strategy S] [--lang ja|en] --out DIR`: the strategy
// report through ReportService.RenderReport, written as DIR/index.html and
// one DIR/<kpi>.svg per KPI (the charts the HTML holds). The server draws
// both, so the files are what other systems embedding the RPC get.

#include "absl/status/status.h"
#include "kpi/v1/report_service.grpc.pb.h"
#include "services/kpictl/commands.h"
#include "services/kpictl/rpc.h"

namespace kpi::kpictl {

// Writes the report of --strategy (or of the only strategy in the store)
// in options.language into options.out, creating the directory if needed,
// and prints the path of index.html on `out`. INVALID_ARGUMENT without --out,
// or when --strategy is missing and the store holds several strategies (it
// lists them); the call's error (NOT_FOUND with the closest names for an
// unknown strategy); INTERNAL naming the file that cannot be written; a
// chart file name that is not "<id>.svg" is refused (DATA_LOSS), so that a
// server cannot write outside DIR.
absl::Status RunReport(const Rpc& rpc,
                       kpi::v1::ReportService::StubInterface& reports,
                       const Options& options, const Streams& io);

}  // namespace kpi::kpictl

#endif  // KPI_SERVICES_KPICTL_REPORT_H_
