// Where a ProjectKpi call's server time goes, without gRPC: the handler's
// two steps (the cache checked without blocking, which gRPC's thread runs;
// the blocking rest, which the service's pool runs) and its store reads,
// called in process over a SQLite file seeded with the builtin Asahikawa
// dataset. Usage:
//   kpi_project_path --db DIR/kpi.sqlite3 [--kpi NAME] [--iterations 20000]
// Prints one line per step: "step NAME us_per_call X".

#include <grpcpp/grpcpp.h>

#include <functional>
#include <iostream>
#include <optional>
#include <string>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/strings/str_format.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "lib/forecast/engine.h"
#include "lib/storage/repository.h"
#include "services/server/builtin_dataset.h"
#include "services/convert.h"
#include "services/server/forecast_service.h"
#include "services/server/kpi_service.h"

ABSL_FLAG(std::string, db, "", "SQLite file to create (must not exist)");
ABSL_FLAG(std::string, kpi,
          "strategies/asahikawa-2020/kpis/children-growing-healthily",
          "KPI to project");
ABSL_FLAG(int, iterations, 20000, "calls per step");

namespace {

// Runs `step` `n` times; false as soon as one call fails.
bool Time(const std::string& name, int n, const std::function<bool()>& step) {
  const absl::Time start = absl::Now();
  for (int i = 0; i < n; ++i) {
    if (!step()) {
      std::cerr << "kpi_project_path: " << name << " failed\n";
      return false;
    }
  }
  const double us = absl::ToDoubleMicroseconds(absl::Now() - start) / n;
  std::cout << absl::StrFormat("step %-34s us_per_call %.1f\n", name, us);
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  absl::ParseCommandLine(argc, argv);
  using namespace kpi;  // NOLINT(build/namespaces): main only
  auto repository = storage::OpenRepository(absl::GetFlag(FLAGS_db));
  if (!repository.ok()) {
    std::cerr << "kpi_project_path: " << repository.status() << "\n";
    return 1;
  }
  auto proto =
      services::DatasetFromJson(std::string(services::BuiltinDatasetJson()));
  services::Violations violations;
  const domain::Dataset dataset = services::FromProto(*proto, "", &violations);
  if (!proto.ok() || !violations.empty() ||
      !services::ImportDomainDataset(**repository, dataset, false, "").ok()) {
    std::cerr << "kpi_project_path: cannot seed the builtin dataset\n";
    return 1;
  }
  const std::string kpi = absl::GetFlag(FLAGS_kpi);
  const int n = absl::GetFlag(FLAGS_iterations);
  storage::Repository& repo = **repository;
  services::ForecastService uncached(&repo, &forecast::DefaultEngine(), 0);
  services::ForecastService cached(&repo, &forecast::DefaultEngine(), 1024);
  v1::ProjectKpiRequest request;
  request.set_name(kpi);
  std::string wire;
  // Primes the cache, and the state TryChangeSequence answers from.
  v1::ProjectKpiResponse primed;
  std::optional<int64_t> known;
  if (!cached.ProjectKpiBlocking(request, std::nullopt, &primed).ok() ||
      !cached.ProjectKpiBlocking(request, std::nullopt, &primed).ok()) {
    std::cerr << "kpi_project_path: cannot project " << kpi << "\n";
    return 1;
  }
  bool ok = Time("store ChangeSequence", n,
                 [&] { return repo.ChangeSequence().ok(); }) &&
            Time("store TryChangeSequence", n,
                 [&] { return repo.TryChangeSequence().has_value(); }) &&
            Time("store GetKpi", n, [&] { return repo.GetKpi(kpi).ok(); }) &&
            Time("store AllObservations", n,
                 [&] { return repo.AllObservations(kpi).ok(); }) &&
            Time("ProjectKpi handler, no cache", n,
                 [&] {
                   v1::ProjectKpiResponse response;
                   return uncached
                       .ProjectKpiBlocking(request, std::nullopt, &response)
                       .ok();
                 }) &&
            Time("ProjectKpi handler, cache hit", n, [&] {
              // What gRPC's thread runs for a hit, and the serialization of
              // the cached message, which is sent as it is.
              auto hit = cached.CachedWithoutBlocking(request, &known);
              return hit != nullptr && hit->SerializeToString(&wire);
            });
  if (ok) {
    std::cout << absl::StrFormat("response_bytes %d cache_hits %d\n",
                                 wire.size(),
                                 cached.projection_cache_stats().hits);
  }
  return ok ? 0 : 1;
}
