#ifndef KPI_LIB_FORECAST_BACKTEST_H_
#define KPI_LIB_FORECAST_BACKTEST_H_

// The short-window yearly backtest of ../shared/BENCHMARK.md: for every
// series of a file in the m3_yearly.csv format and every window length k,
// the engine sees only the last k training points and forecasts the test
// years; the forecasts are written in the BENCHMARK.md forecast format.

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "lib/forecast/engine.h"

namespace kpi::forecast {

// One series of a file in the m3_yearly.csv format.
struct YearlySeries {
  std::string id;
  std::vector<int32_t> train_years;  // increasing
  std::vector<double> train_values;
  int test_points = 0;  // how many test rows follow the training part
};

// Reads `series_id,split,t,year,value` rows (a header first; quoted fields
// allowed; rows of a series may come in any order). NOT_FOUND when the file
// cannot be opened; INVALID_ARGUMENT naming the line and column otherwise.
// Series come out in order of first appearance. Thread-safe.
absl::StatusOr<std::vector<YearlySeries>> ReadYearlySeriesCsv(
    const std::string& path);

struct BacktestOptions {
  std::string data_path;                    // m3_yearly.csv format
  std::vector<int> windows = {2, 3, 5, 7};  // window lengths k, each >= 1
  std::string out_path;                     // forecast CSV to write
  // Steps forecast when a series has no test rows; otherwise its test rows.
  int default_horizon = 6;
  const Engine* engine = nullptr;  // nullptr: DefaultEngine()
  // Called after each series with (series done, series total); optional.
  std::function<void(int, int)> progress;
};

struct BacktestSummary {
  int series = 0;
  int projections = 0;  // series x windows projected
  double seconds = 0;   // wall time of the projections alone
};

// Runs the backtest. INVALID_ARGUMENT for a bad option (naming it) or data
// file, NOT_FOUND for a missing file, the engine's error (with the series
// and k) when a window cannot be projected, INTERNAL when the output cannot
// be written. Thread-safe (no shared state besides the files).
absl::StatusOr<BacktestSummary> RunBacktest(const BacktestOptions& options);

}  // namespace kpi::forecast

#endif  // KPI_LIB_FORECAST_BACKTEST_H_
