#ifndef KPI_SERVICES_SERVER_FORECAST_SERVICE_H_
#define KPI_SERVICES_SERVER_FORECAST_SERVICE_H_

// kpi.v1.ForecastService: projections of stored KPIs (read through a
// storage::Repository) and of ad-hoc series, by a forecast::Engine, and the
// store calibrating itself (services/server/store_calibration.h): only
// CalibrateStore writes to the store.
//
// Errors: INVALID_ARGUMENT with a google.rpc.BadRequest detail naming each
// bad field ("series.points[2].fiscal_year", "target_fiscal_year" with the
// accepted range); NOT_FOUND for an unknown KPI or strategy;
// FAILED_PRECONDITION when stored data cannot be projected (no observation,
// a target reference that does not resolve). Batch and streaming methods
// report per-item errors in ProjectionResult.error and succeed.
//
// Thread-safe: handlers run concurrently and share the repository, the
// engine, ProjectKpi's cache and its thread pool, all thread-safe.
//
// ProjectKpi is a callback method, the others synchronous (gRPC's pool). A
// ProjectKpi cache hit that the repository validates without blocking
// (Repository::TryChangeSequence) is answered on the gRPC thread that
// received the call, saving the hand-off to a synchronous pool thread, which
// costs more than the hit itself; everything else runs on this service's
// own thread pool, so that no gRPC thread waits on the store.

#include <grpcpp/grpcpp.h>
#include <grpcpp/support/message_allocator.h>

#include <atomic>
#include <cstdint>
#include <memory>
#include <optional>

#include "kpi/v1/forecast_service.grpc.pb.h"
#include "lib/base/thread_pool.h"
#include "lib/forecast/engine.h"
#include "lib/i18n/catalogue.h"
#include "lib/storage/repository.h"
#include "services/server/auth.h"
#include "services/server/projection_cache.h"
#include "services/server/store_calibration.h"

namespace kpi::services {

// Limits of the contract (proto/kpi/v1/forecast_service.proto).
inline constexpr int kMaxSeriesPoints = 200;
inline constexpr int kMaxBatchSeries = 1000;
inline constexpr int kMaxBatchKpis = 1000;
inline constexpr int kMaxYearsAhead = 30;
inline constexpr int kDefaultHorizon = 6;
inline constexpr int kMaxSeriesIdBytes = 256;
inline constexpr int kMaxThresholds = 16;

class ForecastService final
    : public v1::ForecastService::WithCallbackMethod_ProjectKpi<
          v1::ForecastService::Service> {
 public:
  // None is owned; all must outlive the service. A non-null `engine` pins
  // the calibration (kpi_server --calibration); null follows the store's
  // (StoreCalibration; the caller runs Refresh() through calibration() at
  // start). `authorizer` (null: everyone is "anonymous") names the creator
  // of a stored calibration. ProjectKpi keeps up
  // to `projection_cache_entries` responses
  // (services/server/projection_cache.h: valid while the store's
  // ChangeSequence() is unchanged); 0 caches none. ProjectKpi calls that may
  // block run on `project_kpi_threads` threads (at least 1); idle ones also
  // help project batch and stream chunks (ProjectChunk). Destruction waits for
  // the tasks queued on them: shut the gRPC server down first, which finishes
  // every call in flight.
  ForecastService(storage::Repository* repository,
                  const forecast::Engine* engine,
                  size_t projection_cache_entries = 0,
                  int project_kpi_threads = 4,
                  const Authorizer* authorizer = nullptr);

  // Never waits on the store on the calling gRPC thread: answers a cache hit
  // validated by Repository::TryChangeSequence at once, and hands anything
  // else to the thread pool, which calls Finish (CANCELLED, without doing
  // the work, for a call cancelled while it waited). Errors as the
  // synchronous version's were.
  grpc::ServerUnaryReactor* ProjectKpi(
      grpc::CallbackServerContext* context,
      const v1::ProjectKpiRequest* request,
      v1::ProjectKpiResponse* response) override;
  // ProjectKpi's two steps, public so that kpi_project_path (bench/load)
  // can time them in process; thread-safe.
  //
  // The cached response if a hit is validated without blocking, else null.
  // Never waits on the store. `*known`: the store state the cache was
  // checked at, or nullopt when none was known without blocking.
  std::shared_ptr<const v1::ProjectKpiResponse> CachedWithoutBlocking(
      const v1::ProjectKpiRequest& request, std::optional<int64_t>* known);
  // The rest of the call, on the calling thread, which may block on the
  // store: what the pool runs once CachedWithoutBlocking found no hit at
  // `known`. Errors as ProjectKpi's.
  grpc::Status ProjectKpiBlocking(const v1::ProjectKpiRequest& request,
                                  std::optional<int64_t> known,
                                  v1::ProjectKpiResponse* response);

  // Hits and misses of ProjectKpi's cache so far.
  ProjectionCache::Stats projection_cache_stats() const {
    return cache_.stats();
  }
  // Of those hits, the ones answered on gRPC's thread, without the pool.
  int64_t project_kpi_inline_hits() const { return inline_hits_.load(); }
  // The calibration in use and the store's.
  StoreCalibration& calibration() { return calibration_; }

  grpc::Status CalibrateStore(grpc::ServerContext*,
                              const v1::CalibrateStoreRequest*,
                              v1::CalibrateStoreResponse*) override;
  grpc::Status GetCalibrationSkill(grpc::ServerContext*,
                                   const v1::GetCalibrationSkillRequest*,
                                   v1::CalibrationSkill*) override;
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
  const Authorizer* const authorizer_;
  StoreCalibration calibration_;
  const bool cache_enabled_;
  ProjectionCache cache_;
  // Projects the ad-hoc `series` into as many new `results`, in order,
  // numbered from `first_index`, explained in `language`, on this thread and
  // idle pool threads.
  void ProjectChunk(
      const forecast::Engine& engine,
      const google::protobuf::RepeatedPtrField<v1::Series>& series,
      const v1::ScenarioOptions& options, i18n::Language language,
      int64_t first_index,
      google::protobuf::RepeatedPtrField<v1::ProjectionResult>* results);

  std::atomic<int64_t> inline_hits_{0};
  // Lets a hit send the cached response itself instead of a copy.
  std::unique_ptr<
      grpc::MessageAllocator<v1::ProjectKpiRequest, v1::ProjectKpiResponse>>
      project_kpi_messages_;
  // Last: destroyed first, so its tasks finish before what they use goes.
  base::ThreadPool pool_;
};

}  // namespace kpi::services

#endif  // KPI_SERVICES_SERVER_FORECAST_SERVICE_H_
