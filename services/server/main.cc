// kpi_server: serves kpi.v1.KpiService and kpi.v1.ForecastService on a
// SQLite file or a PostgreSQL database. See deploy/README.md and --help.

#include <signal.h>

#include <cstdint>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <memory>
#include <optional>
#include <sstream>
#include <string>
#include <thread>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "absl/flags/usage_config.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/time.h"
#include "lib/base/status_macros.h"
#include "lib/forecast/engine.h"
#include "lib/storage/repository.h"
#include "services/convert.h"
#include "services/server/auth.h"
#include "services/server/builtin_dataset.h"
#include "services/server/credentials.h"
#include "services/server/kpi_service.h"
#include "services/server/server.h"

ABSL_FLAG(std::string, listen, "127.0.0.1:50051",
          "Address to serve on, host:port. A port another process holds is "
          "an error (SO_REUSEPORT is off); port 0 picks a free one (the "
          "chosen port is printed).");
ABSL_FLAG(std::string, db, "var/kpi.sqlite3",
          "The store: a SQLite file path (created with its directory when "
          "missing) or a postgresql:// (or postgres://) URL.");
ABSL_FLAG(std::string, seed_dataset, "builtin",
          "Imported on the first start of an EMPTY store (no strategy): "
          "\"builtin\" for the Asahikawa dataset compiled into this binary, a "
          "path to a kpi.v1.Dataset JSON file, or \"none\".");
ABSL_FLAG(int32_t, max_message_bytes, 16 * 1024 * 1024,
          "Largest request or response, in bytes (applies to both); at "
          "least 1048576 (1 MiB), which the largest resource the length caps "
          "allow fits in. List and ExportDataset pages end before it.");
ABSL_FLAG(absl::Duration, shutdown_grace, absl::Seconds(20),
          "On SIGTERM or SIGINT: how long calls in flight may run before they "
          "are cancelled (e.g. 20s, 500ms).");
ABSL_FLAG(int32_t, db_pool_size, 8,
          "PostgreSQL: connections per process. Ignored for SQLite.");
ABSL_FLAG(int32_t, projection_cache_entries, 1024,
          "ProjectKpi responses kept in memory, each valid until the next "
          "write to the store by any replica; 0 turns the cache off.");
ABSL_FLAG(int32_t, project_kpi_threads, 0,
          "Threads that run the ProjectKpi calls which need the store (cache "
          "misses, and hits that cannot be checked without waiting; on "
          "PostgreSQL every call); cache hits checked without waiting are "
          "answered on gRPC's own threads. Idle ones also help project the "
          "chunks of BatchProjectSeries and StreamProjectSeries (one per "
          "other core). 0 means twice the hardware threads, at least 4.");
// Resource bounds (README "Limits"); the defaults suit a 512 MiB container.
ABSL_FLAG(int64_t, max_memory_bytes, 32 << 20,
          "Memory gRPC may hold for connections, calls and messages in "
          "flight (a grpc::ResourceQuota): at least twice "
          "--max_message_bytes, or 0 for no quota. gRPC buffers a request "
          "whole before comparing it with --max_message_bytes, so this is "
          "what bounds the memory an oversized request costs (measured: a "
          "1 GB request raises the peak RSS by about this much, not 1 GB); "
          "past it a stream is reset with RESOURCE_EXHAUSTED.");
ABSL_FLAG(int32_t, max_threads, 64,
          "Threads of gRPC's pool, which runs every handler; calls beyond it "
          "wait for a thread. At least 4.");
ABSL_FLAG(int32_t, max_concurrent_streams, 32,
          "Streaming calls (StreamProjectSeries, reflection) open at once; one "
          "more is refused with RESOURCE_EXHAUSTED. 0 for no cap.");
ABSL_FLAG(absl::Duration, stream_idle_timeout, absl::Seconds(60),
          "A stream with no message either way for this long is ended with "
          "DEADLINE_EXCEEDED. 0 for none.");
ABSL_FLAG(absl::Duration, default_deadline, absl::Seconds(60),
          "A unary call whose client set no deadline is ended with "
          "DEADLINE_EXCEEDED after this long. 0 for none.");
ABSL_FLAG(absl::Duration, keepalive_time, absl::Minutes(1),
          "HTTP/2 keepalive: ping a connection after this long without "
          "activity. 0 for never.");
ABSL_FLAG(absl::Duration, keepalive_timeout, absl::Seconds(20),
          "Close a connection whose keepalive ping is not answered within "
          "this long.");
ABSL_FLAG(absl::Duration, max_connection_age, absl::Minutes(30),
          "Ask a connection to go away (GOAWAY) after this long, so that "
          "clients reconnect and spread over replicas. 0 for never.");
ABSL_FLAG(absl::Duration, max_connection_age_grace, absl::Minutes(1),
          "After --max_connection_age, calls still running may finish within "
          "this long; then the connection is closed.");
ABSL_FLAG(absl::Duration, max_connection_idle, absl::Minutes(10),
          "Close a connection with no call for this long. 0 for never.");
ABSL_FLAG(std::string, calibration, "",
          "A calibration file (kpictl calibrate --data ... --out FILE) to "
          "project with instead of the store's: the server then ignores the "
          "calibration the store learned (ForecastService.CalibrateStore, "
          "which it refuses). Empty: the store's active calibration, the "
          "built-in one until CalibrateStore switches it; replicas follow a "
          "switch at their next ProjectKpi cache miss, and within 30 s for "
          "other calls.");
ABSL_FLAG(bool, log_calls, true,
          "Log one line per call on stderr: method, status code, latency.");

// Transport security and authorization (README "Security").
ABSL_FLAG(std::string, tls_cert_file, "",
          "PEM file of the server's TLS certificate (then any intermediates). "
          "With --tls_key_file the server speaks TLS only; re-read on SIGHUP.");
ABSL_FLAG(std::string, tls_key_file, "",
          "PEM file of the unencrypted private key of --tls_cert_file; "
          "re-read on SIGHUP.");
ABSL_FLAG(std::string, tls_client_ca_file, "",
          "PEM file of the CA that signs client certificates: every client "
          "must then present a certificate it signed (mutual TLS). Without "
          "--auth_tokens_file, the certificate's subject identifies the "
          "caller, with the role --client_cert_role; with it, a token is "
          "required too and gives the role. Re-read on SIGHUP.");
ABSL_FLAG(bool, allow_insecure, false,
          "Serve plaintext on a non-loopback --listen address. Without TLS "
          "the server refuses any address but 127.0.0.0/8, [::1] and "
          "localhost, unless this is set: for a mesh sidecar that terminates "
          "(m)TLS in front of it.");
ABSL_FLAG(std::string, auth_tokens_file, "",
          "Bearer tokens that may call the API, one per line: ROLE "
          "SHA256_HEX LABEL (ROLE reader, writer or admin; the token's "
          "SHA-256 as `printf %s TOKEN | sha256sum` prints it; LABEL, who "
          "holds it, is recorded as the author of its writes). Calls then "
          "need `authorization: Bearer TOKEN` (UNAUTHENTICATED without, "
          "PERMISSION_DENIED below the method's role); health and reflection "
          "stay open. reader: Get, List, Export, projections; writer: also "
          "Create, Update, ImportDataset; admin: also Delete, reference "
          "tables and the change log (ListChanges). Re-read on SIGHUP (a bad "
          "file keeps the tokens in use).");
ABSL_FLAG(std::string, client_cert_role, "reader",
          "With --tls_client_ca_file and no --auth_tokens_file: the role of "
          "every client whose certificate verifies (reader, writer or "
          "admin). For different roles per client, use tokens.");

namespace kpi::services {
namespace {

absl::StatusOr<std::string> ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return absl::NotFoundError(
        absl::StrCat("--seed_dataset: cannot read \"", path,
                     "\"; accepted: builtin, none, or a readable JSON file"));
  }
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

// Imports the seed dataset when the store holds no strategy yet.
absl::Status Seed(storage::Repository& repository, const std::string& seed) {
  if (seed == "none") return absl::OkStatus();
  KPI_ASSIGN_OR_RETURN(const bool empty, repository.IsEmpty());
  if (!empty) return absl::OkStatus();
  std::string source;
  std::string json;
  if (seed == "builtin") {
    source = absl::StrCat("the builtin dataset (",
                          std::string(BuiltinDatasetSource()), ")");
    json = std::string(BuiltinDatasetJson());
  } else {
    source = seed;
    KPI_ASSIGN_OR_RETURN(json, ReadFile(seed));
  }
  absl::StatusOr<v1::Dataset> proto = DatasetFromJson(json);
  if (!proto.ok()) {
    return absl::Status(proto.status().code(),
                        absl::StrCat(source, ": ", proto.status().message()));
  }
  Violations violations;
  const domain::Dataset dataset = FromProto(*proto, "", &violations);
  if (!violations.empty()) {
    return base::InvalidArgumentWithViolations(
        absl::StrCat(source, " is not a valid dataset:"), violations);
  }
  absl::StatusOr<std::optional<storage::ImportResult>> imported =
      SeedEmptyStore(repository, dataset);
  if (!imported.ok()) {
    return absl::Status(imported.status().code(),
                        absl::StrCat("cannot import ", source, ": ",
                                     imported.status().message()));
  }
  if (!imported->has_value()) {
    std::cerr << "kpi_server: another process seeded the store first; "
                 "nothing imported\n";
    return absl::OkStatus();
  }
  std::cerr << absl::StrFormat(
      "kpi_server: the store was empty; imported %s (%d resources)\n", source,
      (*imported)->created_count + (*imported)->replaced_count);
  return absl::OkStatus();
}

// The TLS certificates (null for plaintext) and the authorizer the flags
// ask for. INVALID_ARGUMENT / NOT_FOUND naming the flag.
absl::Status SetUpSecurity(std::unique_ptr<TlsCertificates>* tls,
                           std::unique_ptr<Authorizer>* authorizer) {
  TlsOptions tls_options;
  tls_options.cert_file = absl::GetFlag(FLAGS_tls_cert_file);
  tls_options.key_file = absl::GetFlag(FLAGS_tls_key_file);
  tls_options.client_ca_file = absl::GetFlag(FLAGS_tls_client_ca_file);
  if (!tls_options.cert_file.empty() || !tls_options.key_file.empty() ||
      !tls_options.client_ca_file.empty()) {
    KPI_ASSIGN_OR_RETURN(*tls, TlsCertificates::Load(tls_options));
  }
  AuthOptions auth;
  auth.tokens_file = absl::GetFlag(FLAGS_auth_tokens_file);
  auth.client_certificates = !tls_options.client_ca_file.empty();
  const std::string role = absl::GetFlag(FLAGS_client_cert_role);
  const std::optional<Role> client_cert_role = ParseRole(role);
  if (!client_cert_role.has_value()) {
    return absl::InvalidArgumentError(
        absl::StrCat("--client_cert_role=", role,
                     " is not a role; accepted: reader, "
                     "writer, admin"));
  }
  auth.client_cert_role = *client_cert_role;
  KPI_ASSIGN_OR_RETURN(*authorizer, Authorizer::Create(std::move(auth)));
  return absl::OkStatus();
}

// "TLS, mutual TLS, 3 bearer tokens": what the start line reports.
std::string SecuritySummary(const TlsCertificates* tls,
                            const Authorizer& authorizer) {
  std::string out = tls == nullptr                        ? "plaintext"
                    : tls->client_certificates_required() ? "mutual TLS"
                                                          : "TLS";
  if (!absl::GetFlag(FLAGS_auth_tokens_file).empty()) {
    absl::StrAppend(&out, ", bearer tokens required");
  } else if (authorizer.client_certificates()) {
    absl::StrAppend(&out, ", client certificates have role ",
                    absl::GetFlag(FLAGS_client_cert_role));
  } else {
    absl::StrAppend(&out, ", no authentication");
  }
  return out;
}

// SIGHUP: re-reads the tokens file and the TLS files; whatever fails to
// load keeps what is in use (Authorizer::Reload logs its own outcome).
void Reload(TlsCertificates* tls, Authorizer& authorizer) {
  authorizer.Reload().IgnoreError();
  if (tls == nullptr) return;
  if (absl::Status s = tls->Reload(); !s.ok()) {
    std::cerr << "kpi_server: SIGHUP: TLS reload failed, keeping the "
                 "certificates in use: "
              << s.message() << "\n";
  } else {
    std::cerr << "kpi_server: SIGHUP: TLS certificates reloaded; new "
                 "connections use them\n";
  }
}

int Run() {
  const std::string db = absl::GetFlag(FLAGS_db);
  const int pool_size = absl::GetFlag(FLAGS_db_pool_size);
  const absl::Duration grace = absl::GetFlag(FLAGS_shutdown_grace);
  if (absl::GetFlag(FLAGS_projection_cache_entries) < 0) {
    std::cerr << "kpi_server: --projection_cache_entries="
              << absl::GetFlag(FLAGS_projection_cache_entries)
              << " is negative; accepted: 0 (no cache) or more\n";
    return 2;
  }
  if (absl::GetFlag(FLAGS_project_kpi_threads) < 0) {
    std::cerr << "kpi_server: --project_kpi_threads="
              << absl::GetFlag(FLAGS_project_kpi_threads)
              << " is negative; accepted: 1 or more, or 0 for the default ("
              << DefaultProjectKpiThreads() << " here)\n";
    return 2;
  }
  if (pool_size <= 0) {
    std::cerr << "kpi_server: --db_pool_size=" << pool_size
              << " is not positive; accepted: 1 or more\n";
    return 2;
  }
  if (grace < absl::ZeroDuration()) {
    std::cerr << "kpi_server: --shutdown_grace=" << absl::FormatDuration(grace)
              << " is negative; accepted: 0s or more\n";
    return 2;
  }

  std::unique_ptr<forecast::Engine> pinned;
  if (const std::string file = absl::GetFlag(FLAGS_calibration);
      !file.empty()) {
    std::ifstream in(file, std::ios::binary);
    if (!in) {
      std::cerr << "kpi_server: --calibration=" << file
                << ": cannot read the file; accepted: a calibration file "
                   "written by kpictl calibrate\n";
      return 2;
    }
    std::ostringstream text;
    text << in.rdbuf();
    absl::StatusOr<std::unique_ptr<forecast::Engine>> engine =
        forecast::Engine::Create(text.str());
    if (!engine.ok()) {
      std::cerr << "kpi_server: --calibration=" << file << ": "
                << engine.status().message() << "\n";
      return 2;
    }
    pinned = *std::move(engine);
  }

  storage::RepositoryOptions repository_options;
  repository_options.pool_size = pool_size;
  absl::StatusOr<std::unique_ptr<storage::Repository>> repository =
      storage::OpenRepository(db, repository_options);
  if (!repository.ok()) {
    std::cerr << "kpi_server: cannot open --db=" << db << ": "
              << repository.status().message() << "\n";
    return 1;
  }
  if (absl::Status seeded =
          Seed(**repository, absl::GetFlag(FLAGS_seed_dataset));
      !seeded.ok()) {
    std::cerr << "kpi_server: " << seeded.message() << "\n";
    return 1;
  }

  std::unique_ptr<TlsCertificates> tls;
  std::unique_ptr<Authorizer> authorizer;
  if (absl::Status security = SetUpSecurity(&tls, &authorizer);
      !security.ok()) {
    std::cerr << "kpi_server: " << security.message() << "\n";
    return 2;
  }

  ServerOptions options;
  options.listen_address = absl::GetFlag(FLAGS_listen);
  options.tls = tls.get();
  options.allow_insecure = absl::GetFlag(FLAGS_allow_insecure);
  options.authorizer = authorizer.get();
  options.repository = repository->get();
  options.max_message_bytes = absl::GetFlag(FLAGS_max_message_bytes);
  options.max_memory_bytes = absl::GetFlag(FLAGS_max_memory_bytes);
  options.max_threads = absl::GetFlag(FLAGS_max_threads);
  options.max_concurrent_streams = absl::GetFlag(FLAGS_max_concurrent_streams);
  options.stream_idle_timeout = absl::GetFlag(FLAGS_stream_idle_timeout);
  options.default_deadline = absl::GetFlag(FLAGS_default_deadline);
  options.keepalive_time = absl::GetFlag(FLAGS_keepalive_time);
  options.keepalive_timeout = absl::GetFlag(FLAGS_keepalive_timeout);
  options.max_connection_age = absl::GetFlag(FLAGS_max_connection_age);
  options.max_connection_age_grace =
      absl::GetFlag(FLAGS_max_connection_age_grace);
  options.max_connection_idle = absl::GetFlag(FLAGS_max_connection_idle);
  options.log_calls = absl::GetFlag(FLAGS_log_calls);
  options.projection_cache_entries =
      static_cast<size_t>(absl::GetFlag(FLAGS_projection_cache_entries));
  options.project_kpi_threads = absl::GetFlag(FLAGS_project_kpi_threads);
  options.engine = pinned.get();
  absl::StatusOr<std::unique_ptr<Server>> server =
      Server::Start(std::move(options));
  if (!server.ok()) {
    std::cerr << "kpi_server: " << server.status().message() << "\n";
    return 1;
  }
  std::cerr << "kpi_server: " << SecuritySummary(tls.get(), *authorizer) << "\n"
            << "kpi_server: calibration " << (*server)->calibration_in_use()
            << (pinned != nullptr ? " (--calibration, fixed)"
                                  : " (the store's; CalibrateStore switches "
                                    "it)")
            << "\n"
            << "kpi_server listening on " << (*server)->address() << "\n"
            << std::flush;

  // SIGTERM, SIGINT and SIGHUP are blocked in every thread (see main) and
  // taken here, outside any signal handler, so shutdown may lock and block.
  std::thread signals([&server, &tls, &authorizer, grace] {
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGHUP);
    int signal_number = 0;
    while (sigwait(&set, &signal_number) == 0 && signal_number == SIGHUP) {
      Reload(tls.get(), *authorizer);
    }
    std::cerr << "kpi_server: "
              << (signal_number == SIGTERM ? "SIGTERM" : "SIGINT")
              << ": not serving any more; finishing calls in flight within "
              << absl::FormatDuration(grace) << "\n";
    (*server)->Shutdown(grace);
  });
  (*server)->Wait();
  signals.join();
  std::cerr << "kpi_server: stopped\n";
  return 0;
}

}  // namespace
}  // namespace kpi::services

namespace {

bool IsServerFlagFile(absl::string_view path) {
  return absl::StrContains(path, "services/server/");
}

}  // namespace

int main(int argc, char** argv) {
  // Before any thread starts, so that every thread inherits the mask and
  // only the dedicated thread receives these signals.
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGHUP);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);

  // --help lists kpi_server's own flags (defined in this file), not
  // Abseil's defaults, which match only files named after the binary.
  absl::FlagsUsageConfig config;
  config.contains_help_flags = IsServerFlagFile;
  config.contains_helpshort_flags = IsServerFlagFile;
  absl::SetFlagsUsageConfig(config);
  absl::SetProgramUsageMessage(
      "Serves kpi.v1.KpiService and kpi.v1.ForecastService (KPIs of municipal "
      "strategies and their projections) over gRPC, with server reflection "
      "and the grpc.health.v1 health service.\n"
      "Security: without TLS the server listens on loopback only (or with "
      "--allow_insecure behind a mesh); --tls_cert_file/--tls_key_file turn "
      "on TLS, --tls_client_ca_file mutual TLS; --auth_tokens_file requires "
      "bearer tokens with roles reader/writer/admin. SIGHUP re-reads the "
      "tokens and certificates.\n"
      "Usage: kpi_server [--listen=127.0.0.1:50051] [--db=var/kpi.sqlite3] "
      "[--seed_dataset=builtin|none|FILE] [flags]");
  absl::ParseCommandLine(argc, argv);
  return kpi::services::Run();
}
