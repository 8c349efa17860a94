#ifndef KPI_SERVICES_SERVER_REPORT_SERVICE_H_
#define KPI_SERVICES_SERVER_REPORT_SERVICE_H_

// kpi.v1.ReportService: a strategy's report (lib/report/report.h) and its
// fan charts, read from a storage::Repository and projected by a
// forecast::Engine exactly as ForecastService.ProjectKpi projects by
// default. Nothing here writes to the store.
//
// Errors: INVALID_ARGUMENT with a google.rpc.BadRequest detail for a
// malformed strategy name or an unknown language_code; NOT_FOUND (with the
// closest names) for an unknown strategy; storage errors as they come.
//
// Thread-safe: calls run concurrently on gRPC's synchronous pool and share
// the repository, engine and clock, all thread-safe.

#include <grpcpp/grpcpp.h>

#include "kpi/v1/report_service.grpc.pb.h"
#include "lib/base/clock.h"
#include "lib/forecast/engine.h"
#include "lib/storage/repository.h"
#include "services/server/store_calibration.h"

namespace kpi::services {

class ReportService final : public v1::ReportService::Service {
 public:
  // None is owned; all must outlive the service. The report's date is the
  // clock's day in Japan (UTC+9), where its readers are.
  // Projections use `calibration`'s engine in use (the store's, or the
  // pinned one), as ForecastService's do.
  ReportService(storage::Repository* repository, StoreCalibration* calibration,
                const base::Clock* clock);

  grpc::Status RenderReport(grpc::ServerContext* context,
                            const v1::RenderReportRequest* request,
                            v1::RenderReportResponse* response) override;

 private:
  storage::Repository* const repository_;
  StoreCalibration* const calibration_;
  const base::Clock* const clock_;
};

}  // namespace kpi::services

#endif  // KPI_SERVICES_SERVER_REPORT_SERVICE_H_
