#ifndef KPI_SERVICES_FORECAST_SERVICE_H_
#define KPI_SERVICES_FORECAST_SERVICE_H_

// kpi.v1.ForecastService: projections of stored KPIs (read through a
// storage::Repository) and of ad-hoc series, by a forecast::Engine. Nothing
// here writes to the store.
//
// Errors: INVALID_ARGUMENT with a google.rpc.BadRequest detail naming each
// bad field ("series.points[2].fiscal_year", "target_fiscal_year" with the
// accepted range); NOT_FOUND for an unknown KPI or strategy;
// FAILED_PRECONDITION when stored data cannot be projected (no observation,
// a target reference that does not resolve). Batch and streaming methods
// report per-item errors in ProjectionResult.error and succeed.
//
// Thread-safe: handlers run concurrently on gRPC's thread pool and share
// only the repository and the engine, both thread-safe.

#include <grpcpp/grpcpp.h>

#include "kpi/v1/forecast_service.grpc.pb.h"
#include "lib/forecast/engine.h"
#include "lib/storage/repository.h"
#include "services/projection_cache.h"

namespace kpi::services {

// Limits of the contract (proto/kpi/v1/forecast_service.proto).
inline constexpr int kMaxSeriesPoints = 200;
inline constexpr int kMaxBatchSeries = 1000;
inline constexpr int kMaxBatchKpis = 1000;
inline constexpr int kMaxYearsAhead = 30;
inline constexpr int kDefaultHorizon = 6;
inline constexpr int kMaxSeriesIdBytes = 256;
inline constexpr int kMaxThresholds = 16;

class ForecastService final : public v1::ForecastService::Service {
 public:
  // Neither is owned; both must outlive the service. ProjectKpi keeps up
  // to `projection_cache_entries` responses (services/projection_cache.h:
  // valid while the store's ChangeSequence() is unchanged); 0 caches none.
  ForecastService(storage::Repository* repository,
                  const forecast::Engine* engine,
                  size_t projection_cache_entries = 0);

  grpc::Status ProjectKpi(grpc::ServerContext*, const v1::ProjectKpiRequest*,
                          v1::ProjectKpiResponse*) override;
  // Hits and misses of ProjectKpi's cache so far.
  ProjectionCache::Stats projection_cache_stats() const {
    return cache_.stats();
  }
  grpc::Status ProjectSeries(grpc::ServerContext*,
                             const v1::ProjectSeriesRequest*,
                             v1::ProjectSeriesResponse*) override;
  grpc::Status BatchProjectKpis(grpc::ServerContext*,
                                const v1::BatchProjectKpisRequest*,
                                v1::BatchProjectKpisResponse*) override;
  grpc::Status BatchProjectSeries(grpc::ServerContext*,
                                  const v1::BatchProjectSeriesRequest*,
                                  v1::BatchProjectSeriesResponse*) override;
  // Reads one chunk, projects its series, writes their results, then reads
  // the next: the synchronous stream's blocking Write is the flow control,
  // so a client that reads slowly holds the server at one chunk (at most
  // kMaxBatchSeries series) in memory.
  grpc::Status StreamProjectSeries(
      grpc::ServerContext*,
      grpc::ServerReaderWriter<v1::StreamProjectSeriesResponse,
                               v1::StreamProjectSeriesRequest>*) override;

 private:
  storage::Repository* const repository_;
  const forecast::Engine* const engine_;
  const bool cache_enabled_;
  ProjectionCache cache_;
};

}  // namespace kpi::services

#endif  // KPI_SERVICES_FORECAST_SERVICE_H_
