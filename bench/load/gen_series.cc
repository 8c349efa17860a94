// Writes a deterministic series CSV for `kpictl batch` to stdout, so that a
// job of any size can be streamed without a file:
//   kpi_gen_series --series 1000000 [--seed 1] [--bad_every 0] |
//     kpictl batch --format=benchmark --in - --out FORECASTS.csv
// Columns: series_id,year,value,target_value,target_year. Each series has 2
// to 8 yearly points (a noisy trend, like a municipal KPI) and a target 5
// years after its last point. With --bad_every K, every K-th series gets a
// target year equal to its last point's, which the server must reject for
// that series alone (INVALID_ARGUMENT in the result stream).

#include <cstdint>
#include <cstdio>
#include <iostream>
#include <string>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/strings/str_format.h"

ABSL_FLAG(int64_t, series, 1000, "number of series to write");
ABSL_FLAG(uint64_t, seed, 1, "seed of the generator");
ABSL_FLAG(int64_t, bad_every, 0,
          "every K-th series (1-based) gets an invalid target year; 0: none");

namespace {

// SplitMix64: a fixed, portable sequence for a given seed.
class Rng {
 public:
  explicit Rng(uint64_t seed) : state_(seed) {}
  uint64_t Next() {
    uint64_t z = (state_ += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
  }
  // Uniform on [0, 1).
  double Uniform() { return static_cast<double>(Next() >> 11) * 0x1.0p-53; }

 private:
  uint64_t state_;
};

}  // namespace

int main(int argc, char** argv) {
  absl::ParseCommandLine(argc, argv);
  const int64_t count = absl::GetFlag(FLAGS_series);
  const int64_t bad_every = absl::GetFlag(FLAGS_bad_every);
  if (count < 0 || bad_every < 0) {
    std::cerr << "kpi_gen_series: --series and --bad_every must be >= 0\n";
    return 2;
  }
  Rng rng(absl::GetFlag(FLAGS_seed));
  std::string out = "series_id,year,value,target_value,target_year\n";
  for (int64_t i = 1; i <= count; ++i) {
    const int points = 2 + static_cast<int>(rng.Next() % 7);
    const int last_year = 2016 + static_cast<int>(rng.Next() % 8);
    const int first_year = last_year - points + 1;
    double value = 50 + 9950 * rng.Uniform();
    const double drift = value * (0.04 * rng.Uniform() - 0.02);
    const int target_year =
        bad_every > 0 && i % bad_every == 0 ? last_year : last_year + 5;
    const double target = value * (1.0 + 0.1 * rng.Uniform());
    for (int year = first_year; year <= last_year; ++year) {
      absl::StrAppendFormat(&out, "s%d,%d,%.4f,%.4f,%d\n", i, year, value,
                            target, target_year);
      value += drift + value * 0.03 * (rng.Uniform() - 0.5);
    }
    if (out.size() > (1 << 16)) {
      if (std::fwrite(out.data(), 1, out.size(), stdout) != out.size()) {
        return 1;  // the reader went away
      }
      out.clear();
    }
  }
  if (std::fwrite(out.data(), 1, out.size(), stdout) != out.size()) return 1;
  return std::fflush(stdout) == 0 ? 0 : 1;
}
