#ifndef KPI_LIB_FORECAST_TRAINING_DATA_H_
#define KPI_LIB_FORECAST_TRAINING_DATA_H_

// The series a calibration is learned from (see learn.h), and the CSV files
// they come in. Two layouts are read, told apart by the header:
//   - the benchmark's long format `series_id,split,t,year,value`
//     (../shared/BENCHMARK.md): with a `split` column only `train` rows are
//     read; `test` rows are counted and skipped before their values are
//     looked at, so nothing of a test part can reach the learning;
//   - kpictl batch's input `series_id,year,value[,target_value,target_year]`
//     (`fiscal_year` is accepted for `year`; targets are ignored).
// Column order is free, names are case-insensitive, unknown columns are
// ignored. Rows of a series may come in any order; they are ordered by `t`
// when there is such a column, by year otherwise.

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "lib/domain/model.h"

namespace kpi::forecast {

// One series' history, oldest first.
struct TrainingSeries {
  std::string id;
  std::vector<int32_t> years;  // strictly increasing; gaps allowed
  std::vector<double> values;  // finite
  // The scale it is learned on, as the engine would project it:
  // NON_NEGATIVE (log) when no value is negative, REAL otherwise; PERCENT
  // (logit) only when the caller says so.
  domain::ValueDomain value_domain = domain::ValueDomain::kNonNegative;
};

struct TrainingData {
  std::vector<TrainingSeries> series;  // in order of first appearance
  int64_t rows_read = 0;               // rows that became points
  int64_t test_rows_skipped = 0;       // `split` = test, never parsed
};

// Limits of ParseTrainingCsv, against files that would exhaust memory.
inline constexpr size_t kMaxTrainingCsvBytes = size_t{512} << 20;
inline constexpr int kMaxTrainingSeries = 1'000'000;
inline constexpr int kMaxTrainingPointsPerSeries = 10'000;
inline constexpr size_t kMaxTrainingSeriesIdBytes = 256;

// Parses `text` (UTF-8, RFC 4180 quoting, LF or CRLF). `source_name` (e.g.
// the file name) starts every error message. INVALID_ARGUMENT naming the
// line and column and what is accepted for: a missing header column, a
// split other than train or test, a year or t that is not an integer, a
// value that is not a finite number, two rows of a series with the same t
// or year, years that do not increase with t, a file over the limits above.
// Thread-safe.
absl::StatusOr<TrainingData> ParseTrainingCsv(std::string_view text,
                                              std::string_view source_name);

}  // namespace kpi::forecast

#endif  // KPI_LIB_FORECAST_TRAINING_DATA_H_
