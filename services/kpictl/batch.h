#ifndef KPI_SERVICES_KPICTL_BATCH_H_
#define KPI_SERVICES_KPICTL_BATCH_H_

// `kpictl batch`: reads a CSV of ad-hoc series (series_id,year,value and
// optionally unit,value_domain,direction,kind,shock_years,target_value,
// target_fiscal_year), streams them through
// ForecastService.StreamProjectSeries and writes one row per series and
// fiscal year ahead: by default for people (fiscal year, era label with
// Japanese headings, median, 50/80/95% bounds, P(met)); with
// BatchFormat::kBenchmark in the format of the short-window backtest
// (series_id,k,h,q025,q10,q50,q90,q975,p090,p100,p110,p125, plus
// target_probability when the input has target columns).

#include <algorithm>
#include <cstdint>
#include <istream>
#include <memory>
#include <optional>
#include <ostream>
#include <string>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_set.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "kpi/v1/forecast_service.grpc.pb.h"
#include "lib/dataset/text_encoding.h"
#include "lib/i18n/catalogue.h"

namespace kpi::kpictl {

// Reads RFC 4180 records (quoted fields may hold commas, doubled quotes and
// line breaks; CRLF or LF line ends; a UTF-8 BOM at the start is skipped).
// Reads `in` in blocks, ahead of the record returned. Not thread-safe.
class CsvReader {
 public:
  // `buffer_bytes` (at least 1) is how much is read from `in` at a time.
  explicit CsvReader(std::istream* in, size_t buffer_bytes = 1 << 16)
      : in_(in), buffer_(std::max<size_t>(buffer_bytes, 1)) {}

  // Reads the next record into `fields`. Returns false at the end of the
  // input; INVALID_ARGUMENT naming the line for an unterminated quote or
  // text after a closing quote.
  absl::StatusOr<bool> Next(std::vector<std::string>* fields);

  // 1-based line on which the last record returned started.
  int line() const { return record_line_; }

 private:
  static constexpr int kEof = -1;
  // The next byte (0-255) or kEof, consumed or not.
  int Get() {
    if (pos_ == end_ && !Fill()) return kEof;
    return static_cast<unsigned char>(buffer_[pos_++]);
  }
  int Peek() {
    if (pos_ == end_ && !Fill()) return kEof;
    return static_cast<unsigned char>(buffer_[pos_]);
  }
  bool Fill();

  std::istream* in_;
  std::vector<char> buffer_;
  size_t pos_ = 0;
  size_t end_ = 0;
  int next_line_ = 1;
  int record_line_ = 0;
};

// One series read from the batch input.
struct BatchSeries {
  std::string series_id;
  // Line of its first row.
  int line = 0;
  // (fiscal year, value), in input order.
  std::vector<std::pair<int32_t, double>> points;
  std::optional<double> target_value;
  // 0 when not given.
  int32_t target_year = 0;
  // The optional series-level columns; unspecified (and "") when not given,
  // for the server's defaults.
  std::string unit;
  kpi::v1::ValueDomain value_domain = kpi::v1::VALUE_DOMAIN_UNSPECIFIED;
  kpi::v1::Direction direction = kpi::v1::DIRECTION_UNSPECIFIED;
  kpi::v1::KpiKind kind = kpi::v1::KPI_KIND_UNSPECIFIED;
  std::vector<int32_t> shock_years;
  // INVALID_ARGUMENT naming the line and column when one of its rows is
  // malformed; such a series is reported as failed and not sent.
  absl::Status status;

  // Fiscal year and value of the latest point. Requires points.
  std::pair<int32_t, double> Last() const;
};

// Groups the rows of a series CSV into series. The header must name
// series_id, year (or fiscal_year) and value; optional are target_value,
// target_fiscal_year (or target_year), unit, value_domain, direction, kind
// and shock_years. Other columns are not read (ignored_columns() names
// them). A series-level cell may be blank on some rows of its series but
// must not differ between rows. Years are whole numbers or era labels
// (令和2年度, R2); value_domain, direction and kind take the API's names and
// the Japanese words of lib/dataset/terms.h (非負, 減少, 累計, ...);
// shock_years lists years separated by ";", spaces or "、". Rows of one
// series must be contiguous. Not thread-safe.
class SeriesCsvReader {
 public:
  // Reads the header. INVALID_ARGUMENT naming `label` (the file name) when
  // the input is empty or a required column is missing.
  static absl::StatusOr<std::unique_ptr<SeriesCsvReader>> Create(
      std::istream* in, std::string label);

  // True when the header has target_value or target_year.
  bool has_target_columns() const {
    return target_value_col_ >= 0 || target_year_col_ >= 0;
  }

  // The header cells of the columns that are not read, as written.
  const std::vector<std::string>& ignored_columns() const {
    return ignored_columns_;
  }

  // The next series, or nullopt at the end. Problems within a series's rows
  // are in its `status`; the returned status is an error only when the
  // file itself cannot be read further (malformed quoting).
  absl::StatusOr<std::optional<BatchSeries>> Next();

 private:
  SeriesCsvReader(std::istream* in, std::string label)
      : csv_(in), label_(std::move(label)) {}
  absl::Status ParseRow(const std::vector<std::string>& row, int line,
                        BatchSeries* series);

  CsvReader csv_;
  std::string label_;
  int id_col_ = -1;
  int year_col_ = -1;
  int value_col_ = -1;
  int target_value_col_ = -1;
  int target_year_col_ = -1;
  int unit_col_ = -1;
  int value_domain_col_ = -1;
  int direction_col_ = -1;
  int kind_col_ = -1;
  int shock_years_col_ = -1;
  std::vector<std::string> ignored_columns_;
  // The first row of the next series, read ahead.
  std::optional<std::pair<std::vector<std::string>, int>> pending_;
  bool done_ = false;
  // True when `id` was read before; remembers it otherwise. The ids are
  // packed into blocks: about 30 bytes an id for jobs of millions.
  bool SeenBefore(absl::string_view id);
  absl::flat_hash_set<absl::string_view> seen_ids_;
  std::vector<std::unique_ptr<char[]>> id_blocks_;
  char* id_block_next_ = nullptr;  // free space of the last block
  size_t id_block_free_ = 0;
};

// Multipliers of the latest value whose exceedance probabilities are
// reported as p090, p100, p110 and p125.
inline constexpr double kThresholdRatios[] = {0.90, 1.00, 1.10, 1.25};

// Appends to `request` the series projecting `series` `horizon` years past
// its latest point (or to its target year), with its unit, domain,
// direction, kind and shock years, and with `thresholds` asking for
// P(y >= r * latest) for kThresholdRatios. Requires points.
void AddBatchSeries(const BatchSeries& series, int horizon,
                    kpi::v1::StreamProjectSeriesRequest* request,
                    bool thresholds = true);

// What `kpictl batch` writes.
enum class BatchFormat {
  // One row per series and fiscal year for people: series_id, fiscal_year,
  // (in Japanese, the era label: 令和6年度), median, lower_50, upper_50,
  // lower_80, upper_80, lower_95, upper_95, and attainment_probability when
  // the input has target columns; headings from the catalogue in the
  // language asked for.
  kYears,
  // The short-window backtest's format, which bench/ reads.
  kBenchmark,
};

// The header of the years format, ending in "\n".
std::string YearsHeader(bool with_target, i18n::Language language);

// Appends to `out` the years-format rows of one projected series, one per
// projected fiscal year, each ending in "\n". Numbers as FormatCsvNumber
// writes them; the probability is blank for a series without a target.
void AppendYearRows(const BatchSeries& series,
                    const kpi::v1::Projection& projection, bool with_target,
                    i18n::Language language, std::string* out);

// The benchmark-format header, ending in "\n".
std::string ForecastHeader(bool with_target);

// Appends to `out` the output rows of one projected series, one per
// projected year, each ending in "\n". INVALID_ARGUMENT (and nothing
// appended) when the projection lacks the threshold probabilities asked
// for.
absl::Status AppendForecastRows(const BatchSeries& series,
                                const kpi::v1::Projection& projection,
                                bool with_target, std::string* out);

struct BatchOptions {
  // Years to project past the latest point when a series has no target
  // year: 1 to 30.
  int horizon = 6;
  // Series per StreamProjectSeries request message: 1 to 1000. A few
  // hundred amortise the per-message cost of gRPC on both sides.
  int chunk_series = 250;
  // A progress line goes to `progress` at most this often.
  absl::Duration progress_interval = absl::Seconds(2);
  BatchFormat format = BatchFormat::kYears;
  // The language of the years format's headings and era labels.
  i18n::Language language = i18n::Language::kJa;
  // How the output is written; its preamble (a UTF-8 byte order mark)
  // first.
  dataset::TextEncoding encoding = dataset::TextEncoding::kUtf8;
};

struct BatchFailure {
  std::string series_id;
  int line = 0;
  absl::Status status;
};

struct BatchSummary {
  int64_t projected = 0;
  std::vector<BatchFailure> failures;
};

// Reads `in`, streams every well-formed series through `stub`, writes the
// forecast CSV to `out` and progress lines to `progress` (and a note naming
// the input columns not read). Returns the counts and the failed series;
// an error when the input cannot be read, the output cannot be written in
// the encoding asked for (INVALID_ARGUMENT naming the output line and the
// character), or the stream itself fails (then the summary so far is lost
// to the caller, the rows already written stay). Blocks; uses one extra
// thread.
absl::StatusOr<BatchSummary> RunBatch(
    kpi::v1::ForecastService::StubInterface* stub, std::istream* in,
    const std::string& label, std::ostream* out, std::ostream* progress,
    const BatchOptions& options);

}  // namespace kpi::kpictl

#endif  // KPI_SERVICES_KPICTL_BATCH_H_
