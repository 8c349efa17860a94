#include "services/server/server.h"

#include <grpcpp/health_check_service_interface.h>
#include <grpcpp/support/server_interceptor.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <thread>
#include <utility>
#include <vector>

#include "absl/random/random.h"
#include "absl/status/status.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_replace.h"
#include "google/protobuf/descriptor.h"
#include "lib/base/address.h"
#include "services/server/forecast_service.h"
#include "services/server/kpi_service.h"
#include "services/server/reflection_service.h"
#include "services/server/report_service.h"
#include "services/server/served_descriptors.h"

namespace kpi::services {
namespace {

using grpc::experimental::InterceptionHookPoints;

using LogSink = std::function<void(std::string_view)>;

void WriteToStderr(std::string_view line) {
  std::string out(line);
  out.push_back('\n');
  // One write per line so that lines of concurrent calls do not interleave.
  std::fwrite(out.data(), 1, out.size(), stderr);
}

// Logs "rpc <method> <code> <latency>" when the call's status is sent (or,
// for a call that ends without one, as CANCELLED when it is torn down).
class CallLogInterceptor : public grpc::experimental::Interceptor {
 public:
  CallLogInterceptor(std::string method, const LogSink* sink)
      : method_(std::move(method)), sink_(sink), start_(absl::Now()) {}

  ~CallLogInterceptor() override {
    if (!logged_) Log(grpc::StatusCode::CANCELLED);
  }

  void Intercept(
      grpc::experimental::InterceptorBatchMethods* methods) override {
    if (methods->QueryInterceptionHookPoint(
            InterceptionHookPoints::PRE_SEND_STATUS)) {
      Log(methods->GetSendStatus().error_code());
    }
    methods->Proceed();
  }

 private:
  void Log(grpc::StatusCode code) {
    logged_ = true;
    const double ms = absl::ToDoubleMilliseconds(absl::Now() - start_);
    (*sink_)(absl::StrFormat(
        "rpc %s %s %.2fms", method_,
        absl::StatusCodeToString(static_cast<absl::StatusCode>(code)), ms));
  }

  const std::string method_;
  const LogSink* const sink_;
  const absl::Time start_;
  bool logged_ = false;
};

class CallLogFactory
    : public grpc::experimental::ServerInterceptorFactoryInterface {
 public:
  explicit CallLogFactory(LogSink sink) : sink_(std::move(sink)) {}

  grpc::experimental::Interceptor* CreateServerInterceptor(
      grpc::experimental::ServerRpcInfo* info) override {
    return new CallLogInterceptor(info->method(), &sink_);
  }

 private:
  const LogSink sink_;  // outlives every interceptor: owned by the server
};

// The gRPC error edge, one place for every handler: a status whose message
// could show internals is replaced before it is sent, and a request that is
// not a protobuf message of the method's type is INVALID_ARGUMENT.
//
// Server faults (INTERNAL, UNKNOWN, DATA_LOSS) and errors that come straight
// from the store (messages starting "sqlite: " or "postgresql: ", which
// quote SQL, file paths and connection strings) go to the client as a short
// message with a request id; the original message is logged under that id.
//
// gRPC 1.51 answers a request it cannot deserialize with INTERNAL and an
// empty message (synchronous methods) or UNIMPLEMENTED (callback methods),
// before any handler runs. The interceptor sees that as a POST_RECV_MESSAGE
// without a message and says what was wrong instead.
class ErrorEdgeInterceptor : public grpc::experimental::Interceptor {
 public:
  ErrorEdgeInterceptor(std::string method, const LogSink* sink)
      : method_(std::move(method)), sink_(sink) {}

  void Intercept(
      grpc::experimental::InterceptorBatchMethods* methods) override {
    if (methods->QueryInterceptionHookPoint(
            InterceptionHookPoints::POST_RECV_MESSAGE) &&
        methods->GetRecvMessage() == nullptr) {
      undeserializable_ = true;
    }
    if (methods->QueryInterceptionHookPoint(
            InterceptionHookPoints::PRE_SEND_STATUS)) {
      const grpc::Status status = methods->GetSendStatus();
      if (undeserializable_ &&
          (status.error_code() == grpc::StatusCode::INTERNAL ||
           status.error_code() == grpc::StatusCode::UNIMPLEMENTED)) {
        methods->ModifySendStatus(grpc::Status(
            grpc::StatusCode::INVALID_ARGUMENT,
            absl::StrFormat(
                "the request is not a %s message in the protobuf binary "
                "encoding (it may be cut short, or written for another "
                "method); accepted: that message, serialized",
                RequestTypeName())));
      } else if (HidesInternals(status)) {
        methods->ModifySendStatus(Scrub(status));
      }
    }
    methods->Proceed();
  }

 private:
  static bool HidesInternals(const grpc::Status& status) {
    switch (status.error_code()) {
      case grpc::StatusCode::OK:
        return false;
      case grpc::StatusCode::INTERNAL:
      case grpc::StatusCode::UNKNOWN:
      case grpc::StatusCode::DATA_LOSS:
        return true;
      default:
        return absl::StartsWith(status.error_message(), "sqlite: ") ||
               absl::StartsWith(status.error_message(), "postgresql: ");
    }
  }

  grpc::Status Scrub(const grpc::Status& status) const {
    const std::string id = NewRequestId();
    std::string original = status.error_message();
    absl::StrReplaceAll({{"\n", "\\n"}}, &original);
    (*sink_)(
        absl::StrFormat("error request_id=%s rpc %s %s: %s", id, method_,
                        absl::StatusCodeToString(
                            static_cast<absl::StatusCode>(status.error_code())),
                        original));
    std::string what;
    switch (status.error_code()) {
      case grpc::StatusCode::UNAVAILABLE:
        what = "the store is unavailable or busy; retry with backoff";
        break;
      case grpc::StatusCode::ABORTED:
        what =
            "the store rolled the call back after a conflict with a "
            "concurrent one; retry";
        break;
      case grpc::StatusCode::DEADLINE_EXCEEDED:
        what = "the store did not answer in time; retry";
        break;
      case grpc::StatusCode::RESOURCE_EXHAUSTED:
        what = "the store is out of space or memory; retry later";
        break;
      case grpc::StatusCode::INTERNAL:
      case grpc::StatusCode::UNKNOWN:
      case grpc::StatusCode::DATA_LOSS:
        what = "internal error: this is the server's fault, not the request's";
        break;
      default:
        what = "the store refused the call";
        break;
    }
    return grpc::Status(
        status.error_code(),
        absl::StrFormat("%s; request id %s (the server's log has the details "
                        "under it; quote it when reporting this)",
                        what, id));
  }

  // "kpi.v1.GetKpiRequest" for "/kpi.v1.KpiService/GetKpi".
  std::string RequestTypeName() const {
    std::string full = method_.size() > 1 ? method_.substr(1) : method_;
    std::replace(full.begin(), full.end(), '/', '.');
    const google::protobuf::MethodDescriptor* method =
        google::protobuf::DescriptorPool::generated_pool()->FindMethodByName(
            full);
    return method != nullptr ? method->input_type()->full_name()
                             : std::string("request");
  }

  // 16 hex digits, unique in practice across calls and replicas.
  static std::string NewRequestId() {
    static absl::Mutex mu(absl::kConstInit);
    static absl::BitGen* gen ABSL_GUARDED_BY(mu) = new absl::BitGen();
    absl::MutexLock lock(&mu);
    return absl::StrFormat("%016x", absl::Uniform<uint64_t>(*gen));
  }

  const std::string method_;
  const LogSink* const sink_;
  bool undeserializable_ = false;
};

class ErrorEdgeFactory
    : public grpc::experimental::ServerInterceptorFactoryInterface {
 public:
  explicit ErrorEdgeFactory(LogSink sink) : sink_(std::move(sink)) {}

  grpc::experimental::Interceptor* CreateServerInterceptor(
      grpc::experimental::ServerRpcInfo* info) override {
    return new ErrorEdgeInterceptor(info->method(), &sink_);
  }

 private:
  const LogSink sink_;  // outlives every interceptor: owned by the server
};

// "host:port" with the port replaced; the host part is kept as written
// ("[::1]", "0.0.0.0", "localhost").
std::string WithPort(const std::string& address, int port) {
  const size_t colon = address.rfind(':');
  const std::string host =
      colon == std::string::npos ? address : address.substr(0, colon);
  return absl::StrCat(host, ":", port);
}

}  // namespace

int DefaultProjectKpiThreads() {
  return std::max(4, 2 * static_cast<int>(std::thread::hardware_concurrency()));
}

absl::StatusOr<std::unique_ptr<Server>> Server::Start(ServerOptions options) {
  if (options.repository == nullptr) {
    return absl::InvalidArgumentError("ServerOptions.repository is required");
  }
  if (options.max_message_bytes <= 0) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "max_message_bytes: %d; accepted: a positive number of bytes",
        options.max_message_bytes));
  }
  if (options.listen_address.rfind(':') == std::string::npos) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "listen address \"%s\" has no port; accepted: host:port, e.g. "
        "127.0.0.1:50051 (port 0 picks a free one)",
        options.listen_address));
  }
  if (options.project_kpi_threads < 0) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "project_kpi_threads: %d; accepted: 1 or more, or 0 for the default "
        "(%d here)",
        options.project_kpi_threads, DefaultProjectKpiThreads()));
  }
  if (options.tls == nullptr && !options.allow_insecure &&
      !base::IsLoopbackAddress(options.listen_address)) {
    return absl::FailedPreconditionError(absl::StrFormat(
        "refusing to serve plaintext on %s, which is not a loopback address: "
        "give --tls_cert_file and --tls_key_file, or --allow_insecure when "
        "something else encrypts the traffic (a mesh sidecar); see the "
        "README's security section",
        options.listen_address));
  }
  if (options.authorizer != nullptr &&
      options.authorizer->client_certificates() &&
      (options.tls == nullptr ||
       !options.tls->client_certificates_required())) {
    return absl::FailedPreconditionError(
        "the authorizer identifies callers by client certificate, but the "
        "server does not require one (--tls_client_ca_file)");
  }

  grpc::EnableDefaultHealthCheckService(true);

  std::unique_ptr<Server> server(new Server());
  // Reflection serves the descriptors with their comments; it lists every
  // service of this server.
  std::vector<std::string> services = {
      grpc::reflection::v1alpha::ServerReflection::service_full_name()};
  for (std::string_view name : kHealthServiceNames) {
    if (!name.empty()) services.emplace_back(name);
  }
  absl::StatusOr<std::unique_ptr<ReflectionService>> reflection =
      ReflectionService::Create(ServedDescriptorSet(), std::move(services));
  if (!reflection.ok()) {
    return absl::InternalError(absl::StrCat("reflection cannot start: ",
                                            reflection.status().message()));
  }
  server->reflection_service_ = *std::move(reflection);
  server->kpi_service_ =
      std::make_unique<KpiService>(options.repository, options.authorizer);
  server->forecast_service_ = std::make_unique<ForecastService>(
      options.repository, options.engine, options.projection_cache_entries,
      options.project_kpi_threads > 0 ? options.project_kpi_threads
                                      : DefaultProjectKpiThreads(),
      options.authorizer);
  // The store's calibration from the first call on (services/server/
  // store_calibration.h).
  if (absl::Status s = server->forecast_service_->calibration().Refresh();
      !s.ok()) {
    return absl::Status(
        s.code(),
        absl::StrCat("cannot read the store's calibration: ", s.message()));
  }
  // The report projects with the calibration in use, as ProjectKpi does.
  server->report_service_ = std::make_unique<ReportService>(
      options.repository, &server->forecast_service_->calibration(),
      options.clock != nullptr ? options.clock : base::Clock::Real());

  grpc::ServerBuilder builder;
  builder.AddChannelArgument(GRPC_ARG_ALLOW_REUSEPORT, 0);
  builder.SetMaxReceiveMessageSize(options.max_message_bytes);
  builder.SetMaxSendMessageSize(options.max_message_bytes);
  builder.AddListeningPort(
      options.listen_address,
      MakeServerCredentials(options.tls, options.authorizer), &server->port_);
  builder.RegisterService(server->kpi_service_.get());
  builder.RegisterService(server->forecast_service_.get());
  builder.RegisterService(server->report_service_.get());
  builder.RegisterService(server->reflection_service_.get());
  {
    const LogSink sink =
        options.log_sink ? std::move(options.log_sink) : LogSink(WriteToStderr);
    std::vector<
        std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface>>
        interceptors;
    // First, so that the call log records the code the client gets.
    interceptors.push_back(std::make_unique<ErrorEdgeFactory>(sink));
    if (options.log_calls) {
      interceptors.push_back(std::make_unique<CallLogFactory>(sink));
    }
    builder.experimental().SetInterceptorCreators(std::move(interceptors));
  }
  server->server_ = builder.BuildAndStart();
  if (server->server_ == nullptr || server->port_ == 0) {
    if (server->server_ != nullptr) server->server_->Shutdown();
    server->server_ = nullptr;
    return absl::UnavailableError(absl::StrFormat(
        "cannot listen on %s: the port is in use or the address is not one "
        "of this machine (SO_REUSEPORT is off, so a port cannot be shared); "
        "choose another --listen address, or port 0 for a free one",
        options.listen_address));
  }
  server->address_ = WithPort(options.listen_address, server->port_);
  grpc::HealthCheckServiceInterface* health =
      server->server_->GetHealthCheckService();
  for (std::string_view name : kHealthServiceNames) {
    health->SetServingStatus(std::string(name), true);
  }
  return server;
}

Server::~Server() {
  if (server_ == nullptr) return;
  Shutdown(absl::ZeroDuration());
  server_->Wait();
}

std::string Server::calibration_in_use() const {
  return forecast_service_->calibration().Current()->calibration_version();
}

void Server::Shutdown(absl::Duration grace) {
  {
    absl::MutexLock lock(&mu_);
    if (shut_down_) return;
    shut_down_ = true;
  }
  // Health checkers see NOT_SERVING before the listener closes.
  server_->GetHealthCheckService()->SetServingStatus(false);
  server_->Shutdown(absl::ToChronoTime(absl::Now() + grace));
}

void Server::Wait() { server_->Wait(); }

}  // namespace kpi::services
