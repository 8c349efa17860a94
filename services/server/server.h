#ifndef KPI_SERVICES_SERVER_SERVER_H_
#define KPI_SERVICES_SERVER_SERVER_H_

// The kpi_server gRPC server: KpiService, ForecastService and ReportService
// on one port,
// with server reflection (v1alpha, what Debian's gRPC 1.51 serves), the
// standard health service (a serving status per service name, described
// through reflection), message size limits, SO_REUSEPORT off (a taken port
// is an error) and a one-line log per call.

#include <grpcpp/grpcpp.h>

#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "lib/base/clock.h"
#include "lib/forecast/engine.h"
#include "lib/storage/repository.h"
#include "services/server/auth.h"
#include "services/server/credentials.h"

namespace kpi::services {

class KpiService;
class ForecastService;
class ReportService;
class ReflectionService;

struct ServerOptions {
  // host:port; port 0 picks a free port (see Server::port()).
  std::string listen_address = "127.0.0.1:0";
  // Required; not owned; must outlive the server.
  storage::Repository* repository = nullptr;
  // Pins the calibration (kpi_server --calibration FILE): not owned. Null
  // follows the store's active calibration (the built-in one until
  // ForecastService.CalibrateStore switches it), read at start and checked
  // as services/server/store_calibration.h says.
  const forecast::Engine* engine = nullptr;
  // The time ReportService dates its reports by; null means the real clock.
  // Not owned; must outlive the server.
  const base::Clock* clock = nullptr;
  // Largest request or response, in bytes.
  int max_message_bytes = 16 * 1024 * 1024;
  // ProjectKpi responses cached (services/server/projection_cache.h); 0 for
  // none.
  size_t projection_cache_entries = 1024;
  // Threads running the ProjectKpi calls that may block on the store (cache
  // misses, and hits that cannot be validated without waiting); 0 for
  // DefaultProjectKpiThreads(). Other calls run on gRPC's synchronous pool.
  int project_kpi_threads = 0;
  // TLS certificates (services/server/credentials.h); null serves plaintext,
  // which needs a loopback listen_address unless allow_insecure. Not owned;
  // must outlive the server.
  TlsCertificates* tls = nullptr;
  // Plaintext on a non-loopback address (behind a mesh sidecar that
  // terminates TLS).
  bool allow_insecure = false;
  // Checks every call before its handler runs (services/server/auth.h);
  // null, or not enabled(): every call is allowed and writes are recorded as
  // "anonymous". Not owned; must outlive the server.
  const Authorizer* authorizer = nullptr;
  // One line per call: "rpc /kpi.v1.KpiService/GetKpi OK 0.41ms".
  bool log_calls = true;
  // Receives each call line (without newline), from gRPC's threads; must be
  // thread-safe. Null writes each line to stderr in one write.
  std::function<void(std::string_view line)> log_sink;
};

// The default of ServerOptions::project_kpi_threads: twice the hardware
// threads, at least 4, as on PostgreSQL those threads mostly wait for the
// server's answers. Thread-safe.
int DefaultProjectKpiThreads();

// The service names the health service reports on: each gRPC service of the
// server and "" (the server as a whole).
inline constexpr std::string_view kHealthServiceNames[] = {
    "kpi.v1.KpiService", "kpi.v1.ForecastService", "kpi.v1.ReportService",
    "grpc.health.v1.Health", ""};

// A running server. Thread-safe: Shutdown and Wait may be called from any
// thread, Shutdown more than once.
class Server {
 public:
  // Builds and starts the server. INVALID_ARGUMENT for missing or bad
  // options; FAILED_PRECONDITION for plaintext on a non-loopback address
  // without allow_insecure, or mutual-TLS authorization without client
  // certificates; UNAVAILABLE when the address cannot be bound (in use, or not
  // an address of this machine).
  static absl::StatusOr<std::unique_ptr<Server>> Start(ServerOptions options);

  // Shuts down with no grace if still running.
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  // The bound port.
  int port() const { return port_; }
  // The listen address with the bound port, e.g. "127.0.0.1:43121".
  const std::string& address() const { return address_; }

  // The version label of the calibration projections use now.
  std::string calibration_in_use() const;

  // Marks every service NOT_SERVING, stops accepting calls, lets calls in
  // flight finish until `grace` has passed and cancels those still running
  // then. Returns when every call has finished, those handed to
  // ForecastService's thread pool included. Later calls do nothing.
  void Shutdown(absl::Duration grace);

  // Blocks until the server has shut down.
  void Wait();

 private:
  Server() = default;

  // The services outlive server_ (destroyed first), whose shutdown
  // finishes every call, so no task of ForecastService's pool is left.
  std::unique_ptr<KpiService> kpi_service_;
  std::unique_ptr<ForecastService> forecast_service_;
  std::unique_ptr<ReportService> report_service_;
  std::unique_ptr<ReflectionService> reflection_service_;
  std::unique_ptr<grpc::Server> server_;
  int port_ = 0;
  std::string address_;
  absl::Mutex mu_;
  bool shut_down_ ABSL_GUARDED_BY(mu_) = false;
};

}  // namespace kpi::services

#endif  // KPI_SERVICES_SERVER_SERVER_H_
