#ifndef KPI_SERVICES_SERVER_KPI_SERVICE_H_
#define KPI_SERVICES_SERVER_KPI_SERVICE_H_

// kpi.v1.KpiService on a storage::Repository: standard methods (AIP-131..135)
// for every resource, and whole-dataset import and export.
//
// Every handler validates names (lib/domain/names.h) and resources
// (lib/domain/validation.h: the resource together with the stored resources
// it refers to) and answers INVALID_ARGUMENT with a google.rpc.BadRequest
// detail naming each bad field. Updates apply google.protobuf.FieldMask
// paths onto the stored resource and write it back guarded by its etag.
//
// Thread-safe: handlers run concurrently on gRPC's thread pool and share
// only the repository, which is thread-safe.

#include <grpcpp/grpcpp.h>

#include <memory>
#include <optional>
#include <string_view>

#include "kpi/v1/kpi_service.grpc.pb.h"
#include "lib/storage/repository.h"
#include "services/server/auth.h"

namespace kpi::services {

// The smallest message limit a server may have: the largest resource the
// caps of domain/validation.h allow (an observation with kMaxRevisions
// revisions of the longest texts, under 0.5 MiB) fits with room to spare.
inline constexpr int kMinMessageBytes = 1024 * 1024;

class KpiService final : public v1::KpiService::Service {
 public:
  // Neither is owned; both must outlive the service. `authorizer` (null:
  // no one is authenticated) identifies the author of each write; which
  // role may call which method it checks before any handler runs.
  //
  // `max_message_bytes` is the server's message limit: List pages and
  // ExportDataset pages end before it, and it must be at least
  // kMinMessageBytes so that the largest resource the caps allow
  // (domain/validation.h) fits in a response.
  explicit KpiService(storage::Repository* repository,
                      const Authorizer* authorizer = nullptr,
                      int max_message_bytes = 16 * 1024 * 1024);

  grpc::Status GetStrategy(grpc::ServerContext*, const v1::GetStrategyRequest*,
                           v1::Strategy*) override;
  grpc::Status ListStrategies(grpc::ServerContext*,
                              const v1::ListStrategiesRequest*,
                              v1::ListStrategiesResponse*) override;
  grpc::Status CreateStrategy(grpc::ServerContext*,
                              const v1::CreateStrategyRequest*,
                              v1::Strategy*) override;
  grpc::Status UpdateStrategy(grpc::ServerContext*,
                              const v1::UpdateStrategyRequest*,
                              v1::Strategy*) override;
  grpc::Status DeleteStrategy(grpc::ServerContext*,
                              const v1::DeleteStrategyRequest*,
                              google::protobuf::Empty*) override;

  grpc::Status GetGoal(grpc::ServerContext*, const v1::GetGoalRequest*,
                       v1::Goal*) override;
  grpc::Status ListGoals(grpc::ServerContext*, const v1::ListGoalsRequest*,
                         v1::ListGoalsResponse*) override;
  grpc::Status CreateGoal(grpc::ServerContext*, const v1::CreateGoalRequest*,
                          v1::Goal*) override;
  grpc::Status UpdateGoal(grpc::ServerContext*, const v1::UpdateGoalRequest*,
                          v1::Goal*) override;
  grpc::Status DeleteGoal(grpc::ServerContext*, const v1::DeleteGoalRequest*,
                          google::protobuf::Empty*) override;

  grpc::Status GetMeasure(grpc::ServerContext*, const v1::GetMeasureRequest*,
                          v1::Measure*) override;
  grpc::Status ListMeasures(grpc::ServerContext*,
                            const v1::ListMeasuresRequest*,
                            v1::ListMeasuresResponse*) override;
  grpc::Status CreateMeasure(grpc::ServerContext*,
                             const v1::CreateMeasureRequest*,
                             v1::Measure*) override;
  grpc::Status UpdateMeasure(grpc::ServerContext*,
                             const v1::UpdateMeasureRequest*,
                             v1::Measure*) override;
  grpc::Status DeleteMeasure(grpc::ServerContext*,
                             const v1::DeleteMeasureRequest*,
                             google::protobuf::Empty*) override;

  grpc::Status GetKpi(grpc::ServerContext*, const v1::GetKpiRequest*,
                      v1::Kpi*) override;
  grpc::Status ListKpis(grpc::ServerContext*, const v1::ListKpisRequest*,
                        v1::ListKpisResponse*) override;
  grpc::Status CreateKpi(grpc::ServerContext*, const v1::CreateKpiRequest*,
                         v1::Kpi*) override;
  grpc::Status UpdateKpi(grpc::ServerContext*, const v1::UpdateKpiRequest*,
                         v1::Kpi*) override;
  grpc::Status DeleteKpi(grpc::ServerContext*, const v1::DeleteKpiRequest*,
                         google::protobuf::Empty*) override;

  grpc::Status GetObservation(grpc::ServerContext*,
                              const v1::GetObservationRequest*,
                              v1::Observation*) override;
  grpc::Status ListObservations(grpc::ServerContext*,
                                const v1::ListObservationsRequest*,
                                v1::ListObservationsResponse*) override;
  grpc::Status CreateObservation(grpc::ServerContext*,
                                 const v1::CreateObservationRequest*,
                                 v1::Observation*) override;
  grpc::Status UpdateObservation(grpc::ServerContext*,
                                 const v1::UpdateObservationRequest*,
                                 v1::Observation*) override;
  grpc::Status DeleteObservation(grpc::ServerContext*,
                                 const v1::DeleteObservationRequest*,
                                 google::protobuf::Empty*) override;

  grpc::Status GetEvaluation(grpc::ServerContext*,
                             const v1::GetEvaluationRequest*,
                             v1::Evaluation*) override;
  grpc::Status ListEvaluations(grpc::ServerContext*,
                               const v1::ListEvaluationsRequest*,
                               v1::ListEvaluationsResponse*) override;
  grpc::Status CreateEvaluation(grpc::ServerContext*,
                                const v1::CreateEvaluationRequest*,
                                v1::Evaluation*) override;
  grpc::Status UpdateEvaluation(grpc::ServerContext*,
                                const v1::UpdateEvaluationRequest*,
                                v1::Evaluation*) override;
  grpc::Status DeleteEvaluation(grpc::ServerContext*,
                                const v1::DeleteEvaluationRequest*,
                                google::protobuf::Empty*) override;

  grpc::Status GetReference(grpc::ServerContext*,
                            const v1::GetReferenceRequest*,
                            v1::Reference*) override;
  grpc::Status ListReferences(grpc::ServerContext*,
                              const v1::ListReferencesRequest*,
                              v1::ListReferencesResponse*) override;
  grpc::Status CreateReference(grpc::ServerContext*,
                               const v1::CreateReferenceRequest*,
                               v1::Reference*) override;
  grpc::Status UpdateReference(grpc::ServerContext*,
                               const v1::UpdateReferenceRequest*,
                               v1::Reference*) override;
  grpc::Status DeleteReference(grpc::ServerContext*,
                               const v1::DeleteReferenceRequest*,
                               google::protobuf::Empty*) override;

  grpc::Status ImportDataset(grpc::ServerContext*,
                             const v1::ImportDatasetRequest*,
                             v1::ImportDatasetResponse*) override;
  grpc::Status ExportDataset(grpc::ServerContext*,
                             const v1::ExportDatasetRequest*,
                             v1::ExportDatasetResponse*) override;

  grpc::Status ListChanges(grpc::ServerContext*, const v1::ListChangesRequest*,
                           v1::ListChangesResponse*) override;

 private:
  // The repository as the caller of `context` writes to it: every write
  // handler goes through it, so that each write is recorded (change log,
  // observation revisions) as made by the caller's token label, client
  // certificate subject or "anonymous" (AuthorOf). UNAUTHENTICATED when the
  // caller's token was revoked since the call was authorized.
  absl::StatusOr<std::unique_ptr<storage::Repository>> WriterFor(
      const grpc::ServerContextBase& context) const;

  storage::Repository* const repository_;
  const Authorizer* const authorizer_;
  // Bytes a response may spend on resources: the message limit less room
  // for the page token and framing.
  const size_t response_budget_;
};

// Validates `dataset` (lib/domain/validation.h: every resource, and the
// references between them resolved against the dataset and the store) and,
// unless `validate_only`, writes it in one transaction. With validate_only
// the counts are those an import would report, found by looking each name
// up. Field paths in violations start with `path` ("dataset." for the RPC,
// "" for a file). A resource's etag, when given, must be the stored one of
// the resource it replaces: ABORTED naming it otherwise (with validate_only
// too), nothing written. Used by ImportDataset and by kpi_server's seeding.
// Thread-safe.
absl::StatusOr<storage::ImportResult> ImportDomainDataset(
    storage::Repository& repository, const domain::Dataset& dataset,
    bool validate_only, std::string_view path);

// Validates `dataset` as ImportDomainDataset does and imports it only when
// the store holds no strategy, checked in the write transaction so that of
// several replicas seeding one empty store exactly one imports. nullopt when
// the store was not empty. Thread-safe.
absl::StatusOr<std::optional<storage::ImportResult>> SeedEmptyStore(
    storage::Repository& repository, const domain::Dataset& dataset);

}  // namespace kpi::services

#endif  // KPI_SERVICES_SERVER_KPI_SERVICE_H_
