#include "services/kpictl/rpc.h"

#include <chrono>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "google/rpc/error_details.pb.h"
#include "google/rpc/status.pb.h"
#include "services/kpictl/kpi_lookup.h"

namespace kpi::kpictl {
namespace {

constexpr int kMaxResponseBytes = 64 << 20;

// Sends one unary request with the deadline of `rpc`, returning the
// response or the converted error.
template <typename Response, typename Stub, typename Request, typename Method>
absl::StatusOr<Response> Call(const Rpc& rpc, Stub* stub, Method method,
                              const Request& request, absl::string_view name) {
  grpc::ClientContext context;
  SetDeadline(&context, rpc.timeout);
  Response response;
  grpc::Status status = (stub->*method)(&context, request, &response);
  if (!status.ok()) return FromGrpc(status, name);
  return response;
}

}  // namespace

std::shared_ptr<grpc::Channel> MakeChannel(const std::string& target) {
  grpc::ChannelArguments args;
  args.SetMaxReceiveMessageSize(kMaxResponseBytes);
  return grpc::CreateCustomChannel(target, grpc::InsecureChannelCredentials(),
                                   args);
}

void SetDeadline(grpc::ClientContext* context, absl::Duration timeout) {
  context->set_deadline(std::chrono::system_clock::now() +
                        absl::ToChronoMicroseconds(timeout));
}

absl::Status FromGrpc(const grpc::Status& status, absl::string_view method) {
  if (status.ok()) return absl::OkStatus();
  std::string message = absl::StrCat(method, ": ", status.error_message());
  google::rpc::Status details;
  if (!status.error_details().empty() &&
      details.ParseFromString(status.error_details())) {
    for (const google::protobuf::Any& any : details.details()) {
      google::rpc::BadRequest bad_request;
      if (!any.UnpackTo(&bad_request)) continue;
      for (const auto& violation : bad_request.field_violations()) {
        const std::string line =
            absl::StrCat(violation.field(), ": ", violation.description());
        if (!absl::StrContains(status.error_message(), line)) {
          absl::StrAppend(&message, "\n  ", line);
        }
      }
    }
  }
  return absl::Status(static_cast<absl::StatusCode>(status.error_code()),
                      message);
}

absl::StatusOr<std::vector<kpi::v1::Strategy>> ListAllStrategies(
    const Rpc& rpc) {
  using kpi::v1::ListStrategiesRequest;
  using kpi::v1::ListStrategiesResponse;
  return ListAll<ListStrategiesRequest, ListStrategiesResponse,
                 kpi::v1::Strategy>(
      ListStrategiesRequest(),
      [&](const ListStrategiesRequest& request) {
        return Call<ListStrategiesResponse>(
            rpc, rpc.kpi, &kpi::v1::KpiService::StubInterface::ListStrategies,
            request, "ListStrategies");
      },
      [](const ListStrategiesResponse& r) { return r.strategies(); });
}

absl::StatusOr<std::vector<kpi::v1::Kpi>> ListAllKpis(
    const Rpc& rpc, const std::string& parent) {
  using kpi::v1::ListKpisRequest;
  using kpi::v1::ListKpisResponse;
  ListKpisRequest request;
  request.set_parent(parent);
  return ListAll<ListKpisRequest, ListKpisResponse, kpi::v1::Kpi>(
      request,
      [&](const ListKpisRequest& r) {
        return Call<ListKpisResponse>(
            rpc, rpc.kpi, &kpi::v1::KpiService::StubInterface::ListKpis, r,
            "ListKpis");
      },
      [](const ListKpisResponse& r) { return r.kpis(); });
}

absl::StatusOr<std::vector<kpi::v1::Kpi>> ListKpisInStrategyOrder(
    const Rpc& rpc, const std::string& parent) {
  absl::StatusOr<std::vector<kpi::v1::Kpi>> kpis = ListAllKpis(rpc, parent);
  if (!kpis.ok() || kpis->empty()) return kpis;
  absl::StatusOr<std::vector<kpi::v1::Goal>> goals = ListAllGoals(rpc, parent);
  if (!goals.ok()) return goals.status();
  absl::StatusOr<std::vector<kpi::v1::Measure>> measures =
      ListAllMeasures(rpc, parent);
  if (!measures.ok()) return measures.status();
  SortInStrategyOrder(*goals, *measures, &*kpis);
  return kpis;
}

absl::StatusOr<std::vector<kpi::v1::Goal>> ListAllGoals(
    const Rpc& rpc, const std::string& parent) {
  using kpi::v1::ListGoalsRequest;
  using kpi::v1::ListGoalsResponse;
  ListGoalsRequest request;
  request.set_parent(parent);
  return ListAll<ListGoalsRequest, ListGoalsResponse, kpi::v1::Goal>(
      request,
      [&](const ListGoalsRequest& r) {
        return Call<ListGoalsResponse>(
            rpc, rpc.kpi, &kpi::v1::KpiService::StubInterface::ListGoals, r,
            "ListGoals");
      },
      [](const ListGoalsResponse& r) { return r.goals(); });
}

absl::StatusOr<std::vector<kpi::v1::Measure>> ListAllMeasures(
    const Rpc& rpc, const std::string& parent) {
  using kpi::v1::ListMeasuresRequest;
  using kpi::v1::ListMeasuresResponse;
  ListMeasuresRequest request;
  request.set_parent(parent);
  return ListAll<ListMeasuresRequest, ListMeasuresResponse, kpi::v1::Measure>(
      request,
      [&](const ListMeasuresRequest& r) {
        return Call<ListMeasuresResponse>(
            rpc, rpc.kpi, &kpi::v1::KpiService::StubInterface::ListMeasures, r,
            "ListMeasures");
      },
      [](const ListMeasuresResponse& r) { return r.measures(); });
}

absl::StatusOr<std::vector<kpi::v1::Observation>> ListAllObservations(
    const Rpc& rpc, const std::string& kpi) {
  using kpi::v1::ListObservationsRequest;
  using kpi::v1::ListObservationsResponse;
  ListObservationsRequest request;
  request.set_parent(kpi);
  return ListAll<ListObservationsRequest, ListObservationsResponse,
                 kpi::v1::Observation>(
      request,
      [&](const ListObservationsRequest& r) {
        return Call<ListObservationsResponse>(
            rpc, rpc.kpi, &kpi::v1::KpiService::StubInterface::ListObservations,
            r, "ListObservations");
      },
      [](const ListObservationsResponse& r) { return r.observations(); });
}

absl::StatusOr<std::vector<kpi::v1::Evaluation>> ListAllEvaluations(
    const Rpc& rpc, const std::string& measure) {
  using kpi::v1::ListEvaluationsRequest;
  using kpi::v1::ListEvaluationsResponse;
  ListEvaluationsRequest request;
  request.set_parent(measure);
  return ListAll<ListEvaluationsRequest, ListEvaluationsResponse,
                 kpi::v1::Evaluation>(
      request,
      [&](const ListEvaluationsRequest& r) {
        return Call<ListEvaluationsResponse>(
            rpc, rpc.kpi, &kpi::v1::KpiService::StubInterface::ListEvaluations,
            r, "ListEvaluations");
      },
      [](const ListEvaluationsResponse& r) { return r.evaluations(); });
}

std::string StrategyName(absl::string_view strategy) {
  if (absl::StartsWith(strategy, "strategies/")) return std::string(strategy);
  return absl::StrCat("strategies/", strategy);
}

absl::StatusOr<std::string> ResolveKpiName(const Rpc& rpc,
                                           absl::string_view kpi,
                                           absl::string_view strategy) {
  if (absl::StrContains(kpi, '/')) return std::string(kpi);
  std::string parent;
  if (!strategy.empty()) {
    parent = StrategyName(strategy);
  } else {
    absl::StatusOr<std::vector<kpi::v1::Strategy>> strategies =
        ListAllStrategies(rpc);
    if (!strategies.ok()) return strategies.status();
    if (strategies->size() != 1) {
      return absl::InvalidArgumentError(absl::StrCat(
          "KPI '", kpi, "' is not a full name and the store holds ",
          strategies->size(),
          " strategies: pass the full name (strategies/{strategy}/kpis/{kpi}) "
          "or --strategy"));
    }
    parent = strategies->front().name();
  }
  absl::StatusOr<std::vector<kpi::v1::Kpi>> kpis = ListAllKpis(rpc, parent);
  if (!kpis.ok()) return kpis.status();
  return MatchKpi(*kpis, kpi, parent);
}

std::string ShortId(absl::string_view name) {
  const size_t slash = name.rfind('/');
  return std::string(slash == absl::string_view::npos ? name
                                                      : name.substr(slash + 1));
}

}  // namespace kpi::kpictl
