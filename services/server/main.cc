// kpi_server: serves kpi.v1.KpiService and kpi.v1.ForecastService on a
// SQLite file or a PostgreSQL database. See deploy/README.md and --help.

#include <signal.h>

#include <cstdint>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <memory>
#include <sstream>
#include <string>
#include <thread>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/time.h"
#include "lib/base/status_macros.h"
#include "lib/storage/repository.h"
#include "services/server/builtin_dataset.h"
#include "services/convert.h"
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
          "Largest request or response, in bytes (applies to both).");
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
ABSL_FLAG(bool, log_calls, true,
          "Log one line per call on stderr: method, status code, latency.");

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

  ServerOptions options;
  options.listen_address = absl::GetFlag(FLAGS_listen);
  options.repository = repository->get();
  options.max_message_bytes = absl::GetFlag(FLAGS_max_message_bytes);
  options.log_calls = absl::GetFlag(FLAGS_log_calls);
  options.projection_cache_entries =
      static_cast<size_t>(absl::GetFlag(FLAGS_projection_cache_entries));
  options.project_kpi_threads = absl::GetFlag(FLAGS_project_kpi_threads);
  absl::StatusOr<std::unique_ptr<Server>> server =
      Server::Start(std::move(options));
  if (!server.ok()) {
    std::cerr << "kpi_server: " << server.status().message() << "\n";
    return 1;
  }
  std::cerr << "kpi_server listening on " << (*server)->address() << "\n"
            << std::flush;

  // SIGTERM and SIGINT are blocked in every thread (see main) and taken
  // here, outside any signal handler, so shutdown may lock and block.
  std::thread signals([&server, grace] {
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    int signal_number = 0;
    sigwait(&set, &signal_number);
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

int main(int argc, char** argv) {
  // Before any thread starts, so that every thread inherits the mask and
  // only the dedicated thread receives these signals.
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGINT);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);

  absl::SetProgramUsageMessage(
      "Serves kpi.v1.KpiService and kpi.v1.ForecastService (KPIs of municipal "
      "strategies and their projections) over gRPC, with server reflection "
      "and the grpc.health.v1 health service.\n"
      "Usage: kpi_server [--listen=127.0.0.1:50051] [--db=var/kpi.sqlite3] "
      "[--seed_dataset=builtin|none|FILE] [flags]");
  absl::ParseCommandLine(argc, argv);
  return kpi::services::Run();
}
