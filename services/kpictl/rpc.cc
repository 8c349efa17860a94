#include "services/kpictl/rpc.h"

#include <grpcpp/support/client_interceptor.h>

#include <chrono>
#include <fstream>
#include <sstream>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "google/rpc/error_details.pb.h"
#include "google/rpc/status.pb.h"
#include "lib/base/address.h"
#include "lib/base/status_macros.h"
#include "services/kpictl/kpi_lookup.h"

namespace kpi::kpictl {
namespace {

constexpr int kMaxResponseBytes = 64 << 20;

absl::StatusOr<std::string> ReadTextFile(absl::string_view flag,
                                         const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return absl::NotFoundError(
        absl::StrCat("--", flag, ": cannot read \"", path, "\""));
  }
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

// Adds the authorization metadata to every call of the channel, streams
// included.
class BearerTokenInterceptor : public grpc::experimental::Interceptor {
 public:
  explicit BearerTokenInterceptor(const std::string* value) : value_(value) {}
  void Intercept(
      grpc::experimental::InterceptorBatchMethods* methods) override {
    if (methods->QueryInterceptionHookPoint(
            grpc::experimental::InterceptionHookPoints::
                PRE_SEND_INITIAL_METADATA)) {
      methods->GetSendInitialMetadata()->emplace("authorization", *value_);
    }
    methods->Proceed();
  }

 private:
  const std::string* const value_;
};

class BearerTokenFactory
    : public grpc::experimental::ClientInterceptorFactoryInterface {
 public:
  explicit BearerTokenFactory(std::string value) : value_(std::move(value)) {}
  grpc::experimental::Interceptor* CreateClientInterceptor(
      grpc::experimental::ClientRpcInfo*) override {
    return new BearerTokenInterceptor(&value_);
  }

 private:
  const std::string value_;  // owned by the channel, which outlives calls
};

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

absl::StatusOr<std::shared_ptr<grpc::Channel>> MakeChannel(
    const ConnectOptions& options, std::ostream* warnings) {
  grpc::ChannelArguments args;
  args.SetMaxReceiveMessageSize(kMaxResponseBytes);
  const bool tls = options.tls || !options.ca_file.empty() ||
                   !options.cert_file.empty() || !options.key_file.empty() ||
                   !options.server_name.empty();
  std::shared_ptr<grpc::ChannelCredentials> credentials;
  if (tls) {
    if (options.cert_file.empty() != options.key_file.empty()) {
      return absl::InvalidArgumentError(
          "--tls_cert_file and --tls_key_file go together: give both (for a "
          "server that requires client certificates) or neither");
    }
    grpc::SslCredentialsOptions ssl;
    if (!options.ca_file.empty()) {
      KPI_ASSIGN_OR_RETURN(ssl.pem_root_certs,
                           ReadTextFile("tls_ca_file", options.ca_file));
    }
    if (!options.cert_file.empty()) {
      KPI_ASSIGN_OR_RETURN(ssl.pem_cert_chain,
                           ReadTextFile("tls_cert_file", options.cert_file));
      KPI_ASSIGN_OR_RETURN(ssl.pem_private_key,
                           ReadTextFile("tls_key_file", options.key_file));
    }
    if (!options.server_name.empty()) {
      args.SetSslTargetNameOverride(options.server_name);
    }
    credentials = grpc::SslCredentials(ssl);
  } else {
    credentials = grpc::InsecureChannelCredentials();
    if (!options.token.empty() && !base::IsLoopbackAddress(options.target) &&
        warnings != nullptr) {
      *warnings << "kpictl: warning: sending the bearer token without TLS to "
                << options.target
                << " (not this machine); use --tls_ca_file unless a mesh "
                   "encrypts the connection\n";
    }
  }
  std::vector<
      std::unique_ptr<grpc::experimental::ClientInterceptorFactoryInterface>>
      interceptors;
  if (!options.token.empty()) {
    interceptors.push_back(std::make_unique<BearerTokenFactory>(
        absl::StrCat("Bearer ", options.token)));
  }
  return grpc::experimental::CreateCustomChannelWithInterceptors(
      options.target, credentials, args, std::move(interceptors));
}

absl::StatusOr<std::string> ReadToken(const std::string& token_file,
                                      const char* environment) {
  std::string token;
  std::string source;
  if (!token_file.empty()) {
    KPI_ASSIGN_OR_RETURN(token, ReadTextFile("token_file", token_file));
    source = absl::StrCat("--token_file ", token_file);
  } else if (environment != nullptr) {
    token = environment;
    source = "KPI_TOKEN";
  } else {
    return std::string();
  }
  token = std::string(absl::StripAsciiWhitespace(token));
  if (token.empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat(source, " is empty; accepted: the token, one line"));
  }
  for (unsigned char c : token) {
    if (c <= 0x20 || c == 0x7f) {
      return absl::InvalidArgumentError(absl::StrCat(
          source,
          ": the token has spaces or control characters; accepted: one "
          "token on one line"));
    }
  }
  return token;
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
