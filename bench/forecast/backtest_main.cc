// Runs the short-window backtest of BENCHMARK.md in process and prints the
// projection speed. Usage:
//   kpi_backtest --data m3_yearly.csv --windows 2,3,5,7 --out forecasts.csv
//                [--calibration FILE] [--repeat N]

#include <fstream>
#include <iostream>
#include <sstream>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_split.h"
#include "lib/forecast/backtest.h"
#include "lib/forecast/engine.h"

ABSL_FLAG(std::string, data, "", "series in the m3_yearly.csv format");
ABSL_FLAG(std::string, windows, "2,3,5,7", "window lengths k, comma-separated");
ABSL_FLAG(std::string, out, "", "forecast CSV to write");
ABSL_FLAG(std::string, calibration, "",
          "calibration file to use instead of the compiled-in one");
ABSL_FLAG(int, repeat, 1, "run the backtest this many times (timing)");

int main(int argc, char** argv) {
  absl::ParseCommandLine(argc, argv);
  kpi::forecast::BacktestOptions o;
  o.data_path = absl::GetFlag(FLAGS_data);
  o.out_path = absl::GetFlag(FLAGS_out);
  if (o.data_path.empty() || o.out_path.empty()) {
    std::cerr << "--data and --out are required\n";
    return 2;
  }
  o.windows.clear();
  for (absl::string_view w :
       absl::StrSplit(absl::GetFlag(FLAGS_windows), ',')) {
    int k;
    if (!absl::SimpleAtoi(w, &k)) {
      std::cerr << "--windows: \"" << w << "\" is not an integer\n";
      return 2;
    }
    o.windows.push_back(k);
  }
  std::unique_ptr<kpi::forecast::Engine> engine;
  if (!absl::GetFlag(FLAGS_calibration).empty()) {
    std::ifstream f(absl::GetFlag(FLAGS_calibration));
    std::stringstream text;
    text << f.rdbuf();
    if (!f) {
      std::cerr << "cannot read " << absl::GetFlag(FLAGS_calibration) << "\n";
      return 1;
    }
    auto e = kpi::forecast::Engine::Create(text.str());
    if (!e.ok()) {
      std::cerr << e.status() << "\n";
      return 1;
    }
    engine = *std::move(e);
    o.engine = engine.get();
  }
  double seconds = 0;
  int projections = 0;
  for (int r = 0; r < std::max(1, absl::GetFlag(FLAGS_repeat)); ++r) {
    absl::StatusOr<kpi::forecast::BacktestSummary> s =
        kpi::forecast::RunBacktest(o);
    if (!s.ok()) {
      std::cerr << s.status() << "\n";
      return 1;
    }
    seconds += s->seconds;
    projections += s->projections;
  }
  std::cout << "projections " << projections << " seconds " << seconds
            << " per_second " << projections / seconds << "\n";
  return 0;
}
