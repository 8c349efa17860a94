#ifndef KPI_SERVICES_KPICTL_RPC_H_
#define KPI_SERVICES_KPICTL_RPC_H_

// kpictl's side of gRPC: the connection, per-call deadlines, error
// conversion (with the google.rpc.BadRequest field violations the server
// attaches), and paging through List methods.

#include <memory>
#include <ostream>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "grpcpp/grpcpp.h"
#include "kpi/v1/forecast_service.grpc.pb.h"
#include "kpi/v1/kpi_service.grpc.pb.h"

namespace kpi::kpictl {

// The stubs and settings every command talks through. The stubs are not
// owned; gRPC stubs are thread-safe.
struct Rpc {
  kpi::v1::KpiService::StubInterface* kpi = nullptr;
  kpi::v1::ForecastService::StubInterface* forecast = nullptr;
  // Deadline of each unary call, from its start.
  absl::Duration timeout = absl::Seconds(30);
};

// How to reach the server.
struct ConnectOptions {
  std::string target;  // "host:port"
  // TLS when set, or when any file below is given; the server is checked
  // against ca_file (PEM), or the system's CAs when it is empty.
  bool tls = false;
  std::string ca_file;
  // PEM: the client's certificate and key, for a server that requires
  // mutual TLS. Both or neither.
  std::string cert_file;
  std::string key_file;
  // The name the server's certificate must carry, when it is not the host
  // of `target` (e.g. connecting by IP address).
  std::string server_name;
  // Sent as "authorization: Bearer TOKEN" with every call; "" for none.
  std::string token;
};

// A channel per `options`, accepting responses up to 64 MiB (a whole
// exported store). NOT_FOUND / INVALID_ARGUMENT for unreadable or
// inconsistent TLS files; connection errors show up as UNAVAILABLE on the
// first call. Warns on `warnings` when a token would travel unencrypted to
// another machine.
absl::StatusOr<std::shared_ptr<grpc::Channel>> MakeChannel(
    const ConnectOptions& options, std::ostream* warnings);

// The bearer token: the content of `token_file` when given (surrounding
// whitespace removed), else `environment` (the KPI_TOKEN variable's value,
// null when unset), else "". INVALID_ARGUMENT for an empty token or one
// with spaces or control characters; NOT_FOUND for an unreadable file.
absl::StatusOr<std::string> ReadToken(const std::string& token_file,
                                      const char* environment);

// `context` with the deadline now + `timeout`.
void SetDeadline(grpc::ClientContext* context, absl::Duration timeout);

// The gRPC status as an absl::Status with the same code and the message
// prefixed by the method ("GetKpi: ..."). Field violations of a
// google.rpc.BadRequest in the error details are appended one per line
// ("\n  field: description") unless the message already lists them.
absl::Status FromGrpc(const grpc::Status& status, absl::string_view method);

// Every item of a List method, following next_page_token to the end with
// page_size 1000. `call` sends one request and returns the response or the
// converted error; `items` returns the repeated field of a response.
// Returns the first error.
template <typename Request, typename Response, typename Item, typename Call,
          typename Items>
absl::StatusOr<std::vector<Item>> ListAll(Request request, Call call,
                                          Items items) {
  std::vector<Item> out;
  request.set_page_size(1000);
  while (true) {
    absl::StatusOr<Response> response = call(request);
    if (!response.ok()) return response.status();
    for (const Item& item : items(*response)) out.push_back(item);
    if (response->next_page_token().empty()) return out;
    request.set_page_token(response->next_page_token());
  }
}

// Every strategy, in name order.
absl::StatusOr<std::vector<kpi::v1::Strategy>> ListAllStrategies(
    const Rpc& rpc);

// Every KPI of `parent` ("strategies/{strategy}"), in name order.
absl::StatusOr<std::vector<kpi::v1::Kpi>> ListAllKpis(
    const Rpc& rpc, const std::string& parent);

// Every KPI of `parent` in the order the strategy presents them (goal,
// measure, ordinal: SortInStrategyOrder), as people read the plan.
absl::StatusOr<std::vector<kpi::v1::Kpi>> ListKpisInStrategyOrder(
    const Rpc& rpc, const std::string& parent);

// Every goal and every measure of `parent`, in name order.
absl::StatusOr<std::vector<kpi::v1::Goal>> ListAllGoals(
    const Rpc& rpc, const std::string& parent);
absl::StatusOr<std::vector<kpi::v1::Measure>> ListAllMeasures(
    const Rpc& rpc, const std::string& parent);

// Every observation of a KPI, in name order.
absl::StatusOr<std::vector<kpi::v1::Observation>> ListAllObservations(
    const Rpc& rpc, const std::string& kpi);

// Every evaluation of a measure, in name order.
absl::StatusOr<std::vector<kpi::v1::Evaluation>> ListAllEvaluations(
    const Rpc& rpc, const std::string& measure);

// "strategies/{strategy}" from "{strategy}" or the full name.
std::string StrategyName(absl::string_view strategy);

// The full KPI name for what a person typed: a full name as is (the server
// checks it); otherwise, among the KPIs of `strategy` (or of the only
// strategy in the store), the one whose ID, Japanese display name or English
// name is exactly `kpi`, else the only one whose ID or name starts with it
// (空港 finds 空港乗降客数). Names compare with full-width letters and
// digits folded to ASCII and spaces ignored. NOT_FOUND listing the closest
// IDs and names (edit distance) when nothing matches; INVALID_ARGUMENT
// listing the candidates when a prefix fits several, or when the store
// holds several strategies and none is given; errors of the List calls
// otherwise.
absl::StatusOr<std::string> ResolveKpiName(const Rpc& rpc,
                                           absl::string_view kpi,
                                           absl::string_view strategy);

// The last segment of a resource name ("strategies/s/kpis/k" -> "k").
std::string ShortId(absl::string_view name);

}  // namespace kpi::kpictl

#endif  // KPI_SERVICES_KPICTL_RPC_H_
