#include "services/server/server.h"

#include <grpc/grpc.h>
#include <grpcpp/health_check_service_interface.h>
#include <grpcpp/resource_quota.h>
#include <grpcpp/support/server_interceptor.h>
#include <malloc.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <limits>
#include <optional>
#include <thread>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_set.h"
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

}  // namespace

// Ends the calls that pass a limit gRPC does not enforce on its own: a unary
// call without a client deadline that runs past the default deadline, a
// stream with no message either way for the idle timeout, and a stream
// opened while the cap is reached. It ends a call with
// grpc_call_cancel_with_status, which sends the client that code and message
// (thread-safe, from any thread, while a reference to the call is held) and
// makes a handler blocked in Read() return. The handler of a unary call runs
// on to its end, but its answer is dropped. Thread-safe.
class CallWatch {
 public:
  // One call; owned by its interceptor, registered from the first hook to
  // the interceptor's destruction.
  struct Entry {
    grpc_call* call = nullptr;  // referenced while registered
    bool streaming = false;
    absl::Time expires = absl::InfiniteFuture();   // when to end it
    grpc::StatusCode code = grpc::StatusCode::OK;  // what to end it with
    std::string message;
    std::string note;        // for the call log
    bool ended = false;      // the watch ended the call
    absl::Time last_active;  // streams: the last message
  };

  CallWatch(absl::Duration default_deadline, absl::Duration idle_timeout,
            int max_streams)
      : default_deadline_(Positive(default_deadline)),
        idle_timeout_(Positive(idle_timeout)),
        max_streams_(max_streams),
        thread_([this] { Run(); }) {}

  ~CallWatch() {
    {
      absl::MutexLock lock(&mu_);
      stopping_ = true;
    }
    thread_.join();
  }

  // Registers a call whose client deadline is `client_deadline`
  // (InfiniteFuture when none); `call` gets a reference until Remove.
  void Add(Entry* entry, grpc_call* call, bool streaming,
           absl::Time client_deadline) {
    grpc_call_ref(call);
    const absl::Time now = absl::Now();
    absl::MutexLock lock(&mu_);
    entry->call = call;
    entry->streaming = streaming;
    entry->last_active = now;
    if (streaming) {
      ++open_streams_;
      if (max_streams_ > 0 && open_streams_ > max_streams_) {
        Schedule(entry, now, grpc::StatusCode::RESOURCE_EXHAUSTED,
                 absl::StrFormat(
                     "%d streams are open, the most this server keeps "
                     "(--max_concurrent_streams); close one or retry later",
                     max_streams_),
                 "stream cap");
      } else if (idle_timeout_ != absl::InfiniteDuration()) {
        Schedule(entry, now + idle_timeout_,
                 grpc::StatusCode::DEADLINE_EXCEEDED,
                 absl::StrFormat(
                     "the stream was idle (no message either way) for %s, "
                     "the server's --stream_idle_timeout; open a new stream "
                     "when there is more to send",
                     absl::FormatDuration(idle_timeout_)),
                 "idle stream");
      }
    } else if (client_deadline == absl::InfiniteFuture() &&
               default_deadline_ != absl::InfiniteDuration()) {
      Schedule(entry, now + default_deadline_,
               grpc::StatusCode::DEADLINE_EXCEEDED,
               absl::StrFormat(
                   "the call set no deadline and ran for %s, the server's "
                   "--default_deadline; set a deadline, or ask for less",
                   absl::FormatDuration(default_deadline_)),
               "default deadline");
    }
    entries_.insert(entry);
  }

  // A message went either way: restarts a stream's idle time.
  void Touch(Entry* entry) {
    if (!entry->streaming || idle_timeout_ == absl::InfiniteDuration()) return;
    const absl::Time now = absl::Now();
    absl::MutexLock lock(&mu_);
    if (entry->ended || entry->code != grpc::StatusCode::DEADLINE_EXCEEDED) {
      return;
    }
    entry->expires = now + idle_timeout_;
  }

  // Unregisters the call, drops the reference; after it returns the watch
  // no longer touches `entry`.
  void Remove(Entry* entry) {
    grpc_call* call;
    {
      absl::MutexLock lock(&mu_);
      if (entries_.erase(entry) == 0) return;
      if (entry->streaming) --open_streams_;
      call = entry->call;
    }
    grpc_call_unref(call);
  }

  // Whether the watch ended the call, and with what; for the call log.
  bool Ended(Entry* entry, grpc::StatusCode* code, std::string* note) {
    absl::MutexLock lock(&mu_);
    if (!entry->ended) return false;
    *code = entry->code;
    *note = entry->note;
    return true;
  }

 private:
  static absl::Duration Positive(absl::Duration d) {
    return d <= absl::ZeroDuration() ? absl::InfiniteDuration() : d;
  }

  void Schedule(Entry* entry, absl::Time when, grpc::StatusCode code,
                std::string message, std::string note)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    entry->expires = when;
    entry->code = code;
    entry->message = std::move(message);
    entry->note = std::move(note);
    if (when < next_wakeup_) cv_.Signal();
  }

  void Run() {
    absl::MutexLock lock(&mu_);
    while (!stopping_) {
      const absl::Time now = absl::Now();
      absl::Time next = absl::InfiniteFuture();
      for (Entry* entry : entries_) {
        if (entry->ended) continue;
        if (entry->expires <= now) {
          entry->ended = true;
          grpc_call_cancel_with_status(
              entry->call, static_cast<grpc_status_code>(entry->code),
              entry->message.c_str(), nullptr);
        } else {
          next = std::min(next, entry->expires);
        }
      }
      // Also wake now and then, so that a Touch that moved an expiry
      // later costs no signal.
      next_wakeup_ = std::min(next, now + absl::Seconds(1));
      cv_.WaitWithDeadline(&mu_, next_wakeup_);
    }
  }

  const absl::Duration default_deadline_;
  const absl::Duration idle_timeout_;
  const int max_streams_;
  absl::Mutex mu_;
  absl::CondVar cv_;
  absl::flat_hash_set<Entry*> entries_ ABSL_GUARDED_BY(mu_);
  int open_streams_ ABSL_GUARDED_BY(mu_) = 0;
  absl::Time next_wakeup_ ABSL_GUARDED_BY(mu_) = absl::InfinitePast();
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  std::thread thread_;  // last: starts after the members it reads
};

namespace {

// Gives back to the system the heap memory freed since, at most once per 50
// ms: a trim locks each glibc arena while it walks it, and a client that
// cancels calls before sending a request whole comes here too.
void TrimFreedMemory() {
  using Clock = std::chrono::steady_clock;
  constexpr Clock::duration kInterval = std::chrono::milliseconds(50);
  static std::atomic<Clock::rep> next{0};
  const Clock::rep now = Clock::now().time_since_epoch().count();
  Clock::rep due = next.load(std::memory_order_relaxed);
  // Only the thread that moves the deadline on trims.
  if (now < due || !next.compare_exchange_strong(due, now + kInterval.count(),
                                                 std::memory_order_relaxed)) {
    return;
  }
  malloc_trim(0);
}

// Registers each call with the CallWatch and, when `sink` is set, logs
// "rpc <method> <code> <latency>" when the call's status is sent (or, for a
// call that ends without one, as CANCELLED when it is torn down; for a call
// the watch ended, with the watch's code and why).
class CallInterceptor : public grpc::experimental::Interceptor {
 public:
  CallInterceptor(grpc::experimental::ServerRpcInfo* info, CallWatch* watch,
                  const LogSink* sink)
      : info_(info),
        method_(info->method()),
        streaming_(info->type() !=
                   grpc::experimental::ServerRpcInfo::Type::UNARY),
        watch_(watch),
        sink_(sink),
        start_(absl::Now()) {}

  ~CallInterceptor() override {
    // Log first: it reads the call, which Remove releases.
    if (!logged_) Log(grpc::StatusCode::CANCELLED);
    if (registered_) watch_->Remove(&entry_);
  }

  void Intercept(
      grpc::experimental::InterceptorBatchMethods* methods) override {
    if (!registered_) Register();
    if (methods->QueryInterceptionHookPoint(
            InterceptionHookPoints::POST_RECV_MESSAGE) ||
        methods->QueryInterceptionHookPoint(
            InterceptionHookPoints::PRE_SEND_MESSAGE)) {
      if (registered_) watch_->Touch(&entry_);
    }
    if (methods->QueryInterceptionHookPoint(
            InterceptionHookPoints::PRE_SEND_STATUS)) {
      Log(methods->GetSendStatus().error_code());
    }
    methods->Proceed();
  }

 private:
  void Register() {
    grpc::ServerContextBase* context = info_->server_context();
    grpc_call* call = context == nullptr ? nullptr : context->c_call();
    if (call == nullptr) return;
    registered_ = true;
    const absl::Time deadline = absl::FromChrono(context->deadline());
    // gRPC reports "no deadline" as a time centuries ahead.
    const bool no_deadline = deadline > absl::Now() + absl::Hours(24 * 365);
    watch_->Add(&entry_, call, streaming_,
                no_deadline ? absl::InfiniteFuture() : deadline);
  }

  void Log(grpc::StatusCode code) {
    logged_ = true;
    std::string note;
    if (registered_ && !watch_->Ended(&entry_, &code, &note) &&
        grpc_call_failed_before_recv_message(entry_.call)) {
      // The request never arrived whole: the memory quota's reclaimer reset
      // the stream (RESOURCE_EXHAUSTED for the client), or the client went
      // away. gRPC's own handler would log INTERNAL.
      code = grpc::StatusCode::RESOURCE_EXHAUSTED;
      note = "request not received whole: over the memory quota";
      // Give back what the refused request held. glibc keeps freed blocks
      // in the arena of the thread that read them, with a trim threshold
      // raised by large frees, so the next such request, read on another
      // thread, cost another quota: peak RSS reached 3 to 3.5 times
      // --max_message_bytes instead of about twice (tests/e2e/
      // test_limits.py). Capping arenas (M_ARENA_MAX=1) or fixing the mmap
      // threshold did too, but cost 30 to 60% of the throughput
      // (bench/load).
      TrimFreedMemory();
    }
    if (sink_ == nullptr) return;
    const double ms = absl::ToDoubleMilliseconds(absl::Now() - start_);
    std::string line = absl::StrFormat(
        "rpc %s %s %.2fms", method_,
        absl::StatusCodeToString(static_cast<absl::StatusCode>(code)), ms);
    if (!note.empty()) absl::StrAppend(&line, " (", note, ")");
    (*sink_)(line);
  }

  grpc::experimental::ServerRpcInfo* const info_;
  const std::string method_;
  const bool streaming_;
  CallWatch* const watch_;
  const LogSink* const sink_;  // null: no log
  const absl::Time start_;
  CallWatch::Entry entry_;
  bool registered_ = false;
  bool logged_ = false;
};

class CallInterceptorFactory
    : public grpc::experimental::ServerInterceptorFactoryInterface {
 public:
  CallInterceptorFactory(CallWatch* watch, std::optional<LogSink> sink)
      : watch_(watch), sink_(std::move(sink)) {}

  grpc::experimental::Interceptor* CreateServerInterceptor(
      grpc::experimental::ServerRpcInfo* info) override {
    return new CallInterceptor(info, watch_,
                               sink_.has_value() ? &*sink_ : nullptr);
  }

 private:
  CallWatch* const watch_;             // outlives the server
  const std::optional<LogSink> sink_;  // owned by the server
};

// gRPC's synchronous server keeps up to 2 threads polling for calls, which
// also run handlers: fewer than this starves it.
constexpr int kMinThreads = 4;

// A duration as a gRPC channel argument; zero and infinite mean never.
int Milliseconds(absl::Duration d) {
  if (d <= absl::ZeroDuration() || d == absl::InfiniteDuration()) {
    return std::numeric_limits<int>::max();
  }
  return static_cast<int>(std::min<int64_t>(absl::ToInt64Milliseconds(d),
                                            std::numeric_limits<int>::max()));
}

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
  if (options.max_message_bytes < kMinMessageBytes) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "max_message_bytes: %d; accepted: %d (1 MiB) or more, so that the "
        "largest resource the length caps allow fits in a response",
        options.max_message_bytes, kMinMessageBytes));
  }
  if (options.max_memory_bytes < 0 ||
      (options.max_memory_bytes > 0 &&
       options.max_memory_bytes < 2 * int64_t{options.max_message_bytes})) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "max_memory_bytes: %d; accepted: 0 (no quota) or at least twice "
        "max_message_bytes (%d here)",
        options.max_memory_bytes, 2 * int64_t{options.max_message_bytes}));
  }
  if (options.max_threads < kMinThreads) {
    return absl::InvalidArgumentError(
        absl::StrFormat("max_threads: %d; accepted: %d or more",
                        options.max_threads, kMinThreads));
  }
  if (options.max_concurrent_streams < 0) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "max_concurrent_streams: %d; accepted: 0 (no cap) or more",
        options.max_concurrent_streams));
  }
  for (const auto& [name, value] :
       {std::pair<const char*, absl::Duration>{"stream_idle_timeout",
                                               options.stream_idle_timeout},
        {"default_deadline", options.default_deadline},
        {"keepalive_time", options.keepalive_time},
        {"keepalive_timeout", options.keepalive_timeout},
        {"max_connection_age", options.max_connection_age},
        {"max_connection_age_grace", options.max_connection_age_grace},
        {"max_connection_idle", options.max_connection_idle}}) {
    if (value < absl::ZeroDuration()) {
      return absl::InvalidArgumentError(
          absl::StrFormat("%s: %s is negative; accepted: 0 or more", name,
                          absl::FormatDuration(value)));
    }
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
  server->kpi_service_ = std::make_unique<KpiService>(
      options.repository, options.authorizer, options.max_message_bytes);
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
  grpc::ResourceQuota quota("kpi_server");
  if (options.max_memory_bytes > 0) {
    quota.Resize(static_cast<size_t>(options.max_memory_bytes));
  }
  quota.SetMaxThreads(options.max_threads);
  builder.SetResourceQuota(quota);
  builder.AddChannelArgument(GRPC_ARG_KEEPALIVE_TIME_MS,
                             Milliseconds(options.keepalive_time));
  builder.AddChannelArgument(GRPC_ARG_KEEPALIVE_TIMEOUT_MS,
                             Milliseconds(options.keepalive_timeout));
  builder.AddChannelArgument(GRPC_ARG_MAX_CONNECTION_AGE_MS,
                             Milliseconds(options.max_connection_age));
  builder.AddChannelArgument(GRPC_ARG_MAX_CONNECTION_AGE_GRACE_MS,
                             Milliseconds(options.max_connection_age_grace));
  builder.AddChannelArgument(GRPC_ARG_MAX_CONNECTION_IDLE_MS,
                             Milliseconds(options.max_connection_idle));
  server->call_watch_ = std::make_unique<CallWatch>(
      options.default_deadline, options.stream_idle_timeout,
      options.max_concurrent_streams);
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
    // Always: it also enforces the limits of CallWatch; it logs only with
    // log_calls.
    interceptors.push_back(std::make_unique<CallInterceptorFactory>(
        server->call_watch_.get(),
        options.log_calls ? std::optional<LogSink>(sink) : std::nullopt));
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
