// The in-process side of the batch benchmark: reads the same series CSV as
// `kpictl batch`, builds each series's engine input exactly as the server
// does for a StreamProjectSeries item (kpictl's request, then the server's
// proto conversion), and times forecast::Engine::Project alone over all of
// them, on one thread or on --threads threads each passing over all of them.
// Usage:
//   kpi_engine_rate --in SERIES.csv [--horizon 6] [--min_seconds 2]
//                   [--threads 1]
// Prints "series N failed F seconds S per_second R" on stdout.

#include <algorithm>
#include <atomic>
#include <fstream>
#include <iostream>
#include <string>
#include <thread>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/strings/str_format.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "lib/forecast/engine.h"
#include "services/convert.h"
#include "services/kpictl/batch.h"

ABSL_FLAG(std::string, in, "", "series CSV (series_id,year,value,...)");
ABSL_FLAG(int, horizon, 6, "years past the last point without a target");
ABSL_FLAG(double, min_seconds, 2.0,
          "repeat the pass over all series until this much time is spent");
ABSL_FLAG(int, threads, 1, "threads projecting at once, each over all series");

int main(int argc, char** argv) {
  absl::ParseCommandLine(argc, argv);
  std::ifstream file(absl::GetFlag(FLAGS_in), std::ios::binary);
  if (!file) {
    std::cerr << "kpi_engine_rate: cannot open --in=" << absl::GetFlag(FLAGS_in)
              << "\n";
    return 2;
  }
  auto reader = kpi::kpictl::SeriesCsvReader::Create(&file, "in");
  if (!reader.ok()) {
    std::cerr << "kpi_engine_rate: " << reader.status() << "\n";
    return 1;
  }
  const int horizon = absl::GetFlag(FLAGS_horizon);
  std::vector<kpi::forecast::SeriesInput> inputs;
  int64_t unreadable = 0;
  while (true) {
    auto next = (*reader)->Next();
    if (!next.ok()) {
      std::cerr << "kpi_engine_rate: " << next.status() << "\n";
      return 1;
    }
    if (!next->has_value()) break;
    if (!(*next)->status.ok()) {
      ++unreadable;
      continue;
    }
    kpi::v1::StreamProjectSeriesRequest request;
    kpi::kpictl::AddBatchSeries(**next, horizon, &request);
    kpi::services::Violations violations;
    kpi::forecast::SeriesInput input = kpi::services::SeriesFromProto(
        request.series(0), request.options(), "series", "options", &violations);
    if (!violations.empty()) {
      ++unreadable;
      continue;
    }
    if (input.target_fiscal_year == 0) {
      input.target_fiscal_year = (*next)->Last().first + horizon;
    }
    inputs.push_back(std::move(input));
  }
  if (inputs.empty()) {
    std::cerr << "kpi_engine_rate: no series in the input\n";
    return 1;
  }

  const kpi::forecast::Engine& engine = kpi::forecast::DefaultEngine();
  const absl::Duration min_time =
      absl::Seconds(absl::GetFlag(FLAGS_min_seconds));
  const int threads = std::max(1, absl::GetFlag(FLAGS_threads));
  std::atomic<int64_t> projected{0};
  std::atomic<int64_t> failed{0};
  std::vector<double> checksums(threads);  // keeps the results observable
  const absl::Time start = absl::Now();
  std::vector<std::thread> workers;
  for (int t = 0; t < threads; ++t) {
    workers.emplace_back([&, t] {
      int64_t mine = 0;
      int64_t mine_failed = 0;
      do {
        for (const kpi::forecast::SeriesInput& input : inputs) {
          absl::StatusOr<kpi::forecast::Projection> p = engine.Project(input);
          if (p.ok()) {
            checksums[t] += p->projected_value;
          } else {
            ++mine_failed;
          }
          ++mine;
        }
      } while (absl::Now() - start < min_time);
      projected += mine;
      failed += mine_failed;
    });
  }
  for (std::thread& w : workers) w.join();
  const absl::Duration spent = absl::Now() - start;
  double checksum = 0;
  for (double c : checksums) checksum += c;
  const double seconds = absl::ToDoubleSeconds(spent);
  std::cout << absl::StrFormat(
      "series %d failed %d unreadable %d seconds %.3f per_second %.1f "
      "checksum %.6g\n",
      projected.load(), failed.load(), unreadable, seconds,
      projected.load() / seconds, checksum);
  return 0;
}
