#include "services/kpictl/batch.h"

#include <algorithm>
#include <cmath>
#include <deque>
#include <map>
#include <thread>

#include "absl/base/thread_annotations.h"
#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/str_split.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "google/protobuf/arena.h"
#include "lib/base/quote.h"
#include "lib/dataset/encode_text.h"
#include "lib/dataset/terms.h"
#include "lib/fiscal/era.h"
#include "services/kpictl/format.h"
#include "services/kpictl/rpc.h"

namespace kpi::kpictl {
namespace {

bool IsBlank(const std::vector<std::string>& row) {
  return std::all_of(row.begin(), row.end(), [](const std::string& f) {
    return absl::StripAsciiWhitespace(f).empty();
  });
}

int FindColumn(const std::vector<std::string>& header,
               std::initializer_list<absl::string_view> names) {
  for (size_t i = 0; i < header.size(); ++i) {
    const std::string cell =
        absl::AsciiStrToLower(absl::StripAsciiWhitespace(header[i]));
    for (absl::string_view name : names) {
      if (cell == name) return static_cast<int>(i);
    }
  }
  return -1;
}

absl::string_view AsAbsl(std::string_view s) { return {s.data(), s.size()}; }

constexpr char kColumns[] =
    "series_id,year,value[,unit,value_domain,direction,kind,shock_years,"
    "target_value,target_fiscal_year]";

// A fiscal year as a person writes it: 2021, or an era label (令和3年度,
// R3). The whole number is tried first: batch files hold millions.
std::optional<int32_t> ParseYear(absl::string_view cell) {
  int32_t year = 0;
  if (absl::SimpleAtoi(cell, &year)) return year;
  absl::StatusOr<int> parsed =
      fiscal::ParseFiscalYear(std::string_view(cell.data(), cell.size()));
  if (parsed.ok()) return *parsed;
  return std::nullopt;
}

// "2020;2021", "2020 2021", "令和2年度、令和3年度": sorted, without repeats.
std::optional<std::vector<int32_t>> ParseYears(absl::string_view cell) {
  const std::string text = absl::StrReplaceAll(cell, {{"、", ";"}});
  std::vector<int32_t> years;
  for (absl::string_view part :
       absl::StrSplit(text, absl::ByAnyChar("; \t"), absl::SkipEmpty())) {
    std::optional<int32_t> year = ParseYear(part);
    if (!year.has_value()) return std::nullopt;
    years.push_back(*year);
  }
  std::sort(years.begin(), years.end());
  years.erase(std::unique(years.begin(), years.end()), years.end());
  return years;
}

std::string YearsText(const std::vector<int32_t>& years) {
  return absl::StrJoin(years, ";");
}

}  // namespace

bool CsvReader::Fill() {
  if (!in_->good()) return false;
  in_->read(buffer_.data(), static_cast<std::streamsize>(buffer_.size()));
  pos_ = 0;
  end_ = static_cast<size_t>(in_->gcount());
  return end_ > 0;
}

absl::StatusOr<bool> CsvReader::Next(std::vector<std::string>* fields) {
  fields->clear();
  if (Peek() == kEof) return false;
  record_line_ = next_line_;
  std::string field;
  if (record_line_ == 1) {
    // A UTF-8 byte order mark, as spreadsheet programs write; bytes that
    // only start like one are kept.
    for (const unsigned char b : {0xEF, 0xBB, 0xBF}) {
      if (Peek() != b) break;
      field.push_back(static_cast<char>(Get()));
    }
    if (field == "\xEF\xBB\xBF") field.clear();
  }
  bool quoted = false;       // inside quotes
  bool after_quote = false;  // a quoted field just closed
  while (true) {
    if (!quoted && !after_quote && pos_ < end_) {
      // The common case: copy a run of plain bytes at once.
      size_t stop = pos_;
      while (stop < end_) {
        const char c = buffer_[stop];
        if (c == ',' || c == '\n' || c == '\r' || c == '"') break;
        ++stop;
      }
      field.append(buffer_.data() + pos_, stop - pos_);
      pos_ = stop;
    }
    const int c = Get();
    if (c == kEof) {
      if (quoted) {
        return absl::InvalidArgumentError(absl::StrCat(
            "line ", record_line_,
            ": a quoted field is not closed before the end of the file"));
      }
      fields->push_back(std::move(field));
      return true;
    }
    if (quoted) {
      if (c == '"') {
        if (Peek() == '"') {
          Get();
          field.push_back('"');
        } else {
          quoted = false;
          after_quote = true;
        }
      } else {
        if (c == '\n') ++next_line_;
        field.push_back(static_cast<char>(c));
      }
      continue;
    }
    if (c == ',') {
      fields->push_back(std::move(field));
      field.clear();
      after_quote = false;
    } else if (c == '\n' || c == '\r') {
      if (c == '\r' && Peek() == '\n') Get();
      ++next_line_;
      fields->push_back(std::move(field));
      return true;
    } else if (c == '"' && field.empty() && !after_quote) {
      quoted = true;
    } else if (after_quote) {
      return absl::InvalidArgumentError(absl::StrCat(
          "line ", next_line_,
          ": text after a closing quote; quote the whole field and double "
          "any quote inside it"));
    } else {
      field.push_back(static_cast<char>(c));
    }
  }
}

std::pair<int32_t, double> BatchSeries::Last() const {
  return *std::max_element(points.begin(), points.end());
}

absl::StatusOr<std::unique_ptr<SeriesCsvReader>> SeriesCsvReader::Create(
    std::istream* in, std::string label) {
  std::unique_ptr<SeriesCsvReader> reader(
      new SeriesCsvReader(in, std::move(label)));
  std::vector<std::string> header;
  absl::StatusOr<bool> got = reader->csv_.Next(&header);
  if (!got.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat(reader->label_, ": ", got.status().message()));
  }
  if (!*got || IsBlank(header)) {
    return absl::InvalidArgumentError(absl::StrCat(
        reader->label_, ": no header; the first line must name the columns ",
        kColumns));
  }
  reader->id_col_ = FindColumn(header, {"series_id"});
  reader->year_col_ = FindColumn(header, {"year", "fiscal_year"});
  reader->value_col_ = FindColumn(header, {"value"});
  reader->target_value_col_ = FindColumn(header, {"target_value"});
  reader->target_year_col_ =
      FindColumn(header, {"target_year", "target_fiscal_year"});
  reader->unit_col_ = FindColumn(header, {"unit"});
  reader->value_domain_col_ = FindColumn(header, {"value_domain"});
  reader->direction_col_ = FindColumn(header, {"direction"});
  reader->kind_col_ = FindColumn(header, {"kind"});
  reader->shock_years_col_ =
      FindColumn(header, {"shock_years", "shock_fiscal_years"});
  std::vector<std::string> missing;
  if (reader->id_col_ < 0) missing.push_back("series_id");
  if (reader->year_col_ < 0) missing.push_back("year");
  if (reader->value_col_ < 0) missing.push_back("value");
  if (!missing.empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat(reader->label_, ":1: the header lacks ",
                     absl::StrJoin(missing, ", "), "; expected ", kColumns));
  }
  const int read[] = {reader->id_col_,           reader->year_col_,
                      reader->value_col_,        reader->target_value_col_,
                      reader->target_year_col_,  reader->unit_col_,
                      reader->value_domain_col_, reader->direction_col_,
                      reader->kind_col_,         reader->shock_years_col_};
  for (int i = 0; i < static_cast<int>(header.size()); ++i) {
    if (std::find(std::begin(read), std::end(read), i) == std::end(read)) {
      reader->ignored_columns_.push_back(header[i]);
    }
  }
  return reader;
}

absl::Status SeriesCsvReader::ParseRow(const std::vector<std::string>& row,
                                       int line, BatchSeries* series) {
  const auto where = [&](absl::string_view column) {
    return absl::StrCat(label_, ":", line, ":", column, ": ");
  };
  const auto cell = [&](int col) -> absl::string_view {
    if (col < 0 || col >= static_cast<int>(row.size())) return {};
    return absl::StripAsciiWhitespace(row[col]);
  };
  const int needed =
      1 + std::max({id_col_, year_col_, value_col_, target_value_col_,
                    target_year_col_, unit_col_, value_domain_col_,
                    direction_col_, kind_col_, shock_years_col_});
  if (static_cast<int>(row.size()) < needed) {
    return absl::InvalidArgumentError(
        absl::StrCat(label_, ":", line, ": ", row.size(),
                     " fields; the header names ", needed));
  }
  if (cell(id_col_).empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat(where("series_id"), "empty; every row names its series"));
  }
  const auto quote = [](absl::string_view text) {
    return base::QuoteInput(std::string_view(text.data(), text.size()));
  };
  const std::optional<int32_t> year = ParseYear(cell(year_col_));
  if (!year.has_value()) {
    return absl::InvalidArgumentError(absl::StrCat(
        where("year"), quote(cell(year_col_)),
        " is not a fiscal year; accepted: a year such as 2021 or an era "
        "label such as 令和3年度 or R3"));
  }
  double value = 0;
  if (!absl::SimpleAtod(cell(value_col_), &value) || !std::isfinite(value)) {
    return absl::InvalidArgumentError(absl::StrCat(
        where("value"), quote(cell(value_col_)),
        " is not a finite number; expected a decimal number such as 12.5"));
  }
  series->points.emplace_back(*year, value);
  // A series-level cell: blank, or the same on every row of the series.
  const auto differs = [&](absl::string_view column, absl::string_view given,
                           absl::string_view earlier) {
    return absl::InvalidArgumentError(absl::StrCat(
        where(column), quote(given), " differs from ", quote(earlier),
        " given earlier for series ", quote(series->series_id),
        "; a series has one ", column, " (leave it blank on other rows)"));
  };
  if (const absl::string_view unit = cell(unit_col_); !unit.empty()) {
    if (!series->unit.empty() && series->unit != unit) {
      return differs("unit", unit, series->unit);
    }
    series->unit = std::string(unit);
  }
  // value_domain, direction and kind: the API's names or Japanese words.
  const auto term = [&](auto parse, int col, absl::string_view column,
                        auto* field, auto to_name) -> absl::Status {
    const absl::string_view text = cell(col);
    if (text.empty()) return absl::OkStatus();
    auto parsed = parse(std::string_view(text.data(), text.size()));
    if (!parsed.ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat(where(column), parsed.status().message()));
    }
    using Proto = std::remove_pointer_t<decltype(field)>;
    const Proto given = static_cast<Proto>(*parsed);
    if (*field != Proto{} && *field != given) {
      return differs(column, text, to_name(*field));
    }
    *field = given;
    return absl::OkStatus();
  };
  absl::Status status =
      term(dataset::ParseValueDomainTerm, value_domain_col_, "value_domain",
           &series->value_domain,
           [](kpi::v1::ValueDomain v) { return kpi::v1::ValueDomain_Name(v); });
  if (!status.ok()) return status;
  status = term(dataset::ParseDirectionTerm, direction_col_, "direction",
                &series->direction, [](kpi::v1::Direction v) {
                  return kpi::v1::Direction_Name(v);
                });
  if (!status.ok()) return status;
  status = term(dataset::ParseKpiKindTerm, kind_col_, "kind", &series->kind,
                [](kpi::v1::KpiKind v) { return kpi::v1::KpiKind_Name(v); });
  if (!status.ok()) return status;
  if (const absl::string_view text = cell(shock_years_col_); !text.empty()) {
    std::optional<std::vector<int32_t>> years = ParseYears(text);
    if (!years.has_value()) {
      return absl::InvalidArgumentError(absl::StrCat(
          where("shock_years"), quote(text),
          " is not a list of fiscal years; accepted: years separated by "
          "\";\", spaces or \"、\", such as 2020;2021 or "
          "令和2年度、令和3年度"));
    }
    if (!series->shock_years.empty() && series->shock_years != *years) {
      return differs("shock_years", YearsText(*years),
                     YearsText(series->shock_years));
    }
    series->shock_years = *std::move(years);
  }
  const absl::string_view target_value = cell(target_value_col_);
  if (!target_value.empty()) {
    double t = 0;
    if (!absl::SimpleAtod(target_value, &t) || !std::isfinite(t)) {
      return absl::InvalidArgumentError(
          absl::StrCat(where("target_value"), quote(target_value),
                       " is not a finite number; expected a decimal number "
                       "such as 65"));
    }
    if (series->target_value.has_value() && *series->target_value != t) {
      return absl::InvalidArgumentError(
          absl::StrCat(where("target_value"), t, " differs from ",
                       *series->target_value, " given earlier for series ",
                       series->series_id, "; a series has one target"));
    }
    series->target_value = t;
  }
  const absl::string_view target_year = cell(target_year_col_);
  if (!target_year.empty()) {
    const std::optional<int32_t> parsed = ParseYear(target_year);
    if (!parsed.has_value()) {
      return absl::InvalidArgumentError(absl::StrCat(
          where("target_year"), quote(target_year),
          " is not a fiscal year; accepted: a year such as 2024 or an era "
          "label such as 令和6年度 or R6"));
    }
    const int32_t t = *parsed;
    if (series->target_year != 0 && series->target_year != t) {
      return absl::InvalidArgumentError(
          absl::StrCat(where("target_year"), t, " differs from ",
                       series->target_year, " given earlier for series ",
                       series->series_id, "; a series has one target year"));
    }
    series->target_year = t;
  }
  return absl::OkStatus();
}

absl::StatusOr<std::optional<BatchSeries>> SeriesCsvReader::Next() {
  const auto read = [&](std::vector<std::string>* row,
                        int* line) -> absl::StatusOr<bool> {
    while (true) {
      absl::StatusOr<bool> got = csv_.Next(row);
      if (!got.ok()) {
        return absl::InvalidArgumentError(
            absl::StrCat(label_, ": ", got.status().message()));
      }
      if (!*got) return false;
      if (!IsBlank(*row)) {
        *line = csv_.line();
        return true;
      }
    }
  };
  if (done_) return std::nullopt;
  std::vector<std::string> row;
  int line = 0;
  if (pending_.has_value()) {
    row = std::move(pending_->first);
    line = pending_->second;
    pending_.reset();
  } else {
    absl::StatusOr<bool> got = read(&row, &line);
    if (!got.ok()) return got.status();
    if (!*got) {
      done_ = true;
      return std::nullopt;
    }
  }
  const auto id_of = [&](const std::vector<std::string>& r) {
    return id_col_ < static_cast<int>(r.size())
               ? absl::StripAsciiWhitespace(r[id_col_])
               : absl::string_view();
  };
  BatchSeries series;
  series.series_id = std::string(id_of(row));
  series.line = line;
  series.status = ParseRow(row, line, &series);
  while (true) {
    absl::StatusOr<bool> got = read(&row, &line);
    if (!got.ok()) return got.status();
    if (!*got) {
      done_ = true;
      break;
    }
    if (id_of(row) != series.series_id) {
      pending_.emplace(std::move(row), line);
      break;
    }
    absl::Status status = ParseRow(row, line, &series);
    if (series.status.ok()) series.status = status;
  }
  if (SeenBefore(series.series_id) && series.status.ok()) {
    series.status = absl::InvalidArgumentError(absl::StrCat(
        label_, ":", series.line, ":series_id: series \"", series.series_id,
        "\" appeared earlier in the file; the rows of a series must be "
        "contiguous"));
  }
  return series;
}

bool SeriesCsvReader::SeenBefore(absl::string_view id) {
  if (seen_ids_.contains(id)) return true;
  if (id.size() > id_block_free_) {
    const size_t size = std::max<size_t>(1 << 16, id.size());
    id_blocks_.push_back(std::make_unique<char[]>(size));
    id_block_next_ = id_blocks_.back().get();
    id_block_free_ = size;
  }
  std::copy(id.begin(), id.end(), id_block_next_);
  seen_ids_.insert(absl::string_view(id_block_next_, id.size()));
  id_block_next_ += id.size();
  id_block_free_ -= id.size();
  return false;
}

void AddBatchSeries(const BatchSeries& series, int horizon,
                    kpi::v1::StreamProjectSeriesRequest* request,
                    bool thresholds) {
  kpi::v1::Series* s = request->add_series();
  s->set_series_id(series.series_id);
  s->mutable_points()->Reserve(static_cast<int>(series.points.size()));
  for (const auto& [year, value] : series.points) {
    kpi::v1::SeriesPoint* point = s->add_points();
    point->set_fiscal_year(year);
    point->set_value(value);
  }
  if (series.target_value.has_value()) {
    s->set_target_value(*series.target_value);
  }
  if (series.target_year != 0) {
    s->set_target_fiscal_year(series.target_year);
  } else {
    s->set_horizon(horizon);
  }
  if (!series.unit.empty()) s->set_unit(series.unit);
  s->set_value_domain(series.value_domain);
  s->set_direction(series.direction);
  s->set_kind(series.kind);
  s->mutable_shock_fiscal_years()->Add(series.shock_years.begin(),
                                       series.shock_years.end());
  if (!thresholds) return;
  const double last = series.Last().second;
  for (double ratio : kThresholdRatios) {
    s->add_probability_thresholds(ratio * last);
  }
}

std::string YearsHeader(bool with_target, i18n::Language language) {
  using i18n::MessageId;
  std::vector<std::string> columns;
  const auto add = [&](MessageId id) {
    columns.emplace_back(i18n::Text(id, language));
  };
  add(MessageId::kColumnSeriesId);
  add(MessageId::kColumnFiscalYear);
  if (language == i18n::Language::kJa) add(MessageId::kColumnEraYear);
  for (MessageId id : {MessageId::kColumnMedian, MessageId::kColumnLower50,
                       MessageId::kColumnUpper50, MessageId::kColumnLower80,
                       MessageId::kColumnUpper80, MessageId::kColumnLower95,
                       MessageId::kColumnUpper95}) {
    add(id);
  }
  if (with_target) add(MessageId::kColumnAttainmentProbability);
  return CsvRecord(columns);
}

void AppendYearRows(const BatchSeries& series,
                    const kpi::v1::Projection& projection, bool with_target,
                    i18n::Language language, std::string* out) {
  const std::string id = CsvField(series.series_id);
  const bool ja = language == i18n::Language::kJa;
  char numbers[8 * (kCsvNumberMaxBytes + 1) + 1];
  for (const kpi::v1::YearProjection& year : projection.years()) {
    absl::StrAppend(out, id, ",", year.fiscal_year());
    if (ja) {
      absl::StrAppend(out, ",",
                      i18n::FiscalYearInText(year.fiscal_year(), language));
    }
    char* end = numbers;
    for (double v :
         {year.median(), year.interval_50().lower(), year.interval_50().upper(),
          year.interval_80().lower(), year.interval_80().upper(),
          year.interval_95().lower(), year.interval_95().upper()}) {
      *end++ = ',';
      end = CsvNumberToChars(v, end);
    }
    if (with_target) {
      *end++ = ',';
      if (year.has_attainment_probability()) {
        end = CsvNumberToChars(year.attainment_probability(), end);
      }
    }
    *end++ = '\n';
    out->append(numbers, end);
  }
}

std::string ForecastHeader(bool with_target) {
  std::vector<std::string> columns = {"series_id", "k",    "h",    "q025",
                                      "q10",       "q50",  "q90",  "q975",
                                      "p090",      "p100", "p110", "p125"};
  if (with_target) columns.push_back("target_probability");
  return CsvRecord(columns);
}

absl::Status AppendForecastRows(const BatchSeries& series,
                                const kpi::v1::Projection& projection,
                                bool with_target, std::string* out) {
  for (const kpi::v1::YearProjection& year : projection.years()) {
    if (year.threshold_probabilities_size() !=
        static_cast<int>(std::size(kThresholdRatios))) {
      return absl::InvalidArgumentError(absl::StrCat(
          "series ", series.series_id, ": fiscal year ", year.fiscal_year(),
          " has ", year.threshold_probabilities_size(),
          " threshold probabilities; ", std::size(kThresholdRatios),
          " were asked for"));
    }
  }
  const int32_t last_year = series.Last().first;
  const std::string id = CsvField(series.series_id);
  // A row's numbers are written to a buffer and appended at once: batch
  // output is about 70 numbers a series.
  char numbers[13 * (kCsvNumberMaxBytes + 1)];
  for (const kpi::v1::YearProjection& year : projection.years()) {
    absl::StrAppend(out, id, ",", series.points.size(), ",",
                    year.fiscal_year() - last_year);
    char* end = numbers;
    for (double v :
         {year.interval_95().lower(), year.interval_80().lower(), year.median(),
          year.interval_80().upper(), year.interval_95().upper()}) {
      *end++ = ',';
      end = CsvNumberToChars(v, end);
    }
    for (double p : year.threshold_probabilities()) {
      *end++ = ',';
      end = CsvNumberToChars(p, end);
    }
    if (with_target) {
      *end++ = ',';
      if (series.target_value.has_value()) {
        end = CsvNumberToChars(year.attainment_probability(), end);
      }
    }
    *end++ = '\n';
    out->append(numbers, end);
  }
  return absl::OkStatus();
}

absl::StatusOr<BatchSummary> RunBatch(
    kpi::v1::ForecastService::StubInterface* stub, std::istream* in,
    const std::string& label, std::ostream* out, std::ostream* progress,
    const BatchOptions& options) {
  if (options.chunk_series < 1 || options.chunk_series > 1000) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "chunk_series: %d; accepted: 1 to 1000", options.chunk_series));
  }
  absl::StatusOr<std::unique_ptr<SeriesCsvReader>> reader =
      SeriesCsvReader::Create(in, label);
  if (!reader.ok()) return reader.status();
  const bool with_target = (*reader)->has_target_columns();
  const bool benchmark = options.format == BatchFormat::kBenchmark;
  if (!(*reader)->ignored_columns().empty()) {
    std::vector<std::string> quoted;
    for (const std::string& c : (*reader)->ignored_columns()) {
      quoted.push_back(base::QuoteInput(c));
    }
    *progress << "kpictl batch: " << label << ": not reading the column"
              << (quoted.size() > 1 ? "s " : " ") << absl::StrJoin(quoted, ", ")
              << "; read are " << kColumns << "\n";
  }
  // Rows are converted to the output's encoding a chunk at a time; a
  // character the encoding cannot hold stops the job, naming its line.
  int next_line = 1;
  const auto write = [&](const std::string& text) -> absl::Status {
    const int first_line = next_line;
    next_line += static_cast<int>(std::count(text.begin(), text.end(), '\n'));
    if (options.encoding != dataset::TextEncoding::kCp932) {
      *out << text;
      return absl::OkStatus();
    }
    absl::StatusOr<std::string> bytes =
        dataset::EncodeText(text, options.encoding, first_line);
    if (!bytes.ok()) {
      return absl::Status(
          bytes.status().code(),
          absl::StrCat("--encoding=",
                       AsAbsl(dataset::TextEncodingFlagValue(options.encoding)),
                       ": output ", bytes.status().message()));
    }
    *out << *bytes;
    return absl::OkStatus();
  };
  *out << dataset::EncodingPreamble(options.encoding);
  absl::Status header_status =
      write(benchmark ? ForecastHeader(with_target)
                      : YearsHeader(with_target, options.language));
  if (!header_status.ok()) return header_status;

  // The writer thread reads the input and sends it in chunks; this thread
  // reads the results, which come back one message per chunk in request
  // order, and matches them with the chunk sent at the same position.
  absl::Mutex mu;
  std::deque<std::vector<BatchSeries>> in_flight ABSL_GUARDED_BY(mu);
  BatchSummary summary ABSL_GUARDED_BY(mu);
  absl::Status input_status ABSL_GUARDED_BY(mu);

  grpc::ClientContext context;
  auto stream = stub->StreamProjectSeries(&context);
  std::thread writer([&] {
    kpi::v1::StreamProjectSeriesRequest request;
    std::vector<BatchSeries> chunk;
    std::vector<BatchFailure> unreadable;
    // Sends the chunk; false when the stream failed (Finish says why).
    const auto send = [&]() -> bool {
      {
        absl::MutexLock lock(&mu);
        for (BatchFailure& f : unreadable) {
          summary.failures.push_back(std::move(f));
        }
        unreadable.clear();
        if (chunk.empty()) return true;
        in_flight.push_back(std::move(chunk));
      }
      chunk.clear();
      const bool sent = stream->Write(request);
      request.Clear();
      return sent;
    };
    bool sent = true;
    while (sent) {
      absl::StatusOr<std::optional<BatchSeries>> next = (*reader)->Next();
      if (!next.ok()) {
        absl::MutexLock lock(&mu);
        input_status = next.status();
        break;
      }
      if (!next->has_value()) {
        sent = send();
        break;
      }
      BatchSeries& series = **next;
      if (!series.status.ok()) {
        unreadable.push_back({series.series_id, series.line, series.status});
        continue;
      }
      AddBatchSeries(series, options.horizon, &request, benchmark);
      chunk.push_back(std::move(series));
      if (static_cast<int>(chunk.size()) >= options.chunk_series) {
        sent = send();
      }
    }
    stream->WritesDone();
  });

  const absl::Time start = absl::Now();
  absl::Time last_progress = start;
  absl::Status output_status;
  // Each response is parsed onto an arena reset after the chunk (its first
  // block is reused): a chunk's results are thousands of small messages.
  std::vector<char> first_block(1 << 20);
  google::protobuf::ArenaOptions arena_options;
  arena_options.initial_block = first_block.data();
  arena_options.initial_block_size = first_block.size();
  google::protobuf::Arena arena(arena_options);
  std::string rows;
  while (true) {
    arena.Reset();
    auto* response = google::protobuf::Arena::CreateMessage<
        kpi::v1::StreamProjectSeriesResponse>(&arena);
    if (!stream->Read(response)) break;
    std::vector<BatchSeries> chunk;
    {
      absl::MutexLock lock(&mu);
      if (!in_flight.empty()) {
        chunk = std::move(in_flight.front());
        in_flight.pop_front();
      }
    }
    if (static_cast<size_t>(response->results_size()) != chunk.size()) {
      output_status = absl::InternalError(
          absl::StrCat("the server answered a chunk of ", chunk.size(),
                       " series with ", response->results_size(), " results"));
      break;
    }
    rows.clear();
    std::vector<BatchFailure> failed;
    for (size_t i = 0; i < chunk.size(); ++i) {
      const BatchSeries& series = chunk[i];
      const kpi::v1::ProjectionResult& result =
          response->results(static_cast<int>(i));
      absl::Status status;
      if (result.has_error()) {
        status =
            absl::Status(static_cast<absl::StatusCode>(result.error().code()),
                         result.error().message());
      } else if (benchmark) {
        status =
            AppendForecastRows(series, result.projection(), with_target, &rows);
      } else {
        AppendYearRows(series, result.projection(), with_target,
                       options.language, &rows);
      }
      if (!status.ok())
        failed.push_back({series.series_id, series.line, status});
    }
    output_status = write(rows);
    if (!output_status.ok()) break;
    absl::MutexLock lock(&mu);
    summary.projected += static_cast<int64_t>(chunk.size() - failed.size());
    for (BatchFailure& f : failed) summary.failures.push_back(std::move(f));
    const absl::Time now = absl::Now();
    if (now - last_progress >= options.progress_interval) {
      last_progress = now;
      const double rate =
          summary.projected / absl::ToDoubleSeconds(now - start);
      *progress << absl::StrFormat(
                       "kpictl batch: %d series projected, %d failed (%.0f/s)",
                       summary.projected, summary.failures.size(), rate)
                << std::endl;
    }
  }
  if (!output_status.ok()) context.TryCancel();
  writer.join();
  const grpc::Status finish = stream->Finish();
  absl::MutexLock lock(&mu);
  if (!input_status.ok()) return input_status;
  if (!output_status.ok()) return output_status;
  if (!finish.ok()) return FromGrpc(finish, "StreamProjectSeries");
  if (!in_flight.empty()) {
    size_t unanswered = 0;
    for (const auto& chunk : in_flight) unanswered += chunk.size();
    return absl::InternalError(absl::StrCat("the stream ended with ",
                                            unanswered, " series unanswered"));
  }
  if (!out->good()) {
    return absl::UnavailableError("could not write the output");
  }
  return summary;
}

}  // namespace kpi::kpictl
