#include "services/kpictl_batch.h"

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
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "services/kpictl_format.h"
#include "services/kpictl_rpc.h"

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

}  // namespace

absl::StatusOr<bool> CsvReader::Next(std::vector<std::string>* fields) {
  fields->clear();
  if (in_->peek() == std::char_traits<char>::eof()) return false;
  record_line_ = next_line_;
  std::string field;
  if (record_line_ == 1) {
    // A UTF-8 byte order mark, as spreadsheet programs write; bytes that
    // only start like one are kept.
    for (const char b : {'\xEF', '\xBB', '\xBF'}) {
      if (in_->peek() != static_cast<unsigned char>(b)) break;
      field.push_back(static_cast<char>(in_->get()));
    }
    if (field == "\xEF\xBB\xBF") field.clear();
  }
  bool quoted = false;       // inside quotes
  bool after_quote = false;  // a quoted field just closed
  while (true) {
    const int c = in_->get();
    if (c == std::char_traits<char>::eof()) {
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
        if (in_->peek() == '"') {
          in_->get();
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
      if (c == '\r' && in_->peek() == '\n') in_->get();
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
    return absl::InvalidArgumentError(
        absl::StrCat(reader->label_,
                     ": no header; the first line must name the columns "
                     "series_id,year,value[,target_value,target_year]"));
  }
  reader->id_col_ = FindColumn(header, {"series_id"});
  reader->year_col_ = FindColumn(header, {"year", "fiscal_year"});
  reader->value_col_ = FindColumn(header, {"value"});
  reader->target_value_col_ = FindColumn(header, {"target_value"});
  reader->target_year_col_ =
      FindColumn(header, {"target_year", "target_fiscal_year"});
  std::vector<std::string> missing;
  if (reader->id_col_ < 0) missing.push_back("series_id");
  if (reader->year_col_ < 0) missing.push_back("year");
  if (reader->value_col_ < 0) missing.push_back("value");
  if (!missing.empty()) {
    return absl::InvalidArgumentError(absl::StrCat(
        reader->label_, ":1: the header lacks ", absl::StrJoin(missing, ", "),
        "; expected series_id,year,value[,target_value,target_year]"));
  }
  return reader;
}

absl::Status SeriesCsvReader::ParseRow(const std::vector<std::string>& row,
                                       int line, BatchSeries* series) {
  const auto where = [&](absl::string_view column) {
    return absl::StrCat(label_, ":", line, ":", column, ": ");
  };
  const auto cell = [&](int col) -> std::string {
    if (col < 0 || col >= static_cast<int>(row.size())) return "";
    return std::string(absl::StripAsciiWhitespace(row[col]));
  };
  const int needed = 1 + std::max({id_col_, year_col_, value_col_,
                                   target_value_col_, target_year_col_});
  if (static_cast<int>(row.size()) < needed) {
    return absl::InvalidArgumentError(
        absl::StrCat(label_, ":", line, ": ", row.size(),
                     " fields; the header names ", needed));
  }
  if (cell(id_col_).empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat(where("series_id"), "empty; every row names its series"));
  }
  int32_t year = 0;
  if (!absl::SimpleAtoi(cell(year_col_), &year)) {
    return absl::InvalidArgumentError(
        absl::StrCat(where("year"), "\"", cell(year_col_),
                     "\" is not a whole number; expected a fiscal year such "
                     "as 2021"));
  }
  double value = 0;
  if (!absl::SimpleAtod(cell(value_col_), &value) || !std::isfinite(value)) {
    return absl::InvalidArgumentError(absl::StrCat(
        where("value"), "\"", cell(value_col_),
        "\" is not a finite number; expected a decimal number such as 12.5"));
  }
  series->points.emplace_back(year, value);
  const std::string target_value = cell(target_value_col_);
  if (!target_value.empty()) {
    double t = 0;
    if (!absl::SimpleAtod(target_value, &t) || !std::isfinite(t)) {
      return absl::InvalidArgumentError(
          absl::StrCat(where("target_value"), "\"", target_value,
                       "\" is not a finite number"));
    }
    if (series->target_value.has_value() && *series->target_value != t) {
      return absl::InvalidArgumentError(
          absl::StrCat(where("target_value"), t, " differs from ",
                       *series->target_value, " given earlier for series ",
                       series->series_id, "; a series has one target"));
    }
    series->target_value = t;
  }
  const std::string target_year = cell(target_year_col_);
  if (!target_year.empty()) {
    int32_t t = 0;
    if (!absl::SimpleAtoi(target_year, &t)) {
      return absl::InvalidArgumentError(
          absl::StrCat(where("target_year"), "\"", target_year,
                       "\" is not a whole number; expected a fiscal year"));
    }
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
               ? std::string(absl::StripAsciiWhitespace(r[id_col_]))
               : std::string();
  };
  BatchSeries series;
  series.series_id = id_of(row);
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
  if (!seen_ids_.insert(series.series_id).second && series.status.ok()) {
    series.status = absl::InvalidArgumentError(absl::StrCat(
        label_, ":", series.line, ":series_id: series \"", series.series_id,
        "\" appeared earlier in the file; the rows of a series must be "
        "contiguous"));
  }
  return series;
}

kpi::v1::StreamProjectSeriesRequest MakeBatchRequest(const BatchSeries& series,
                                                     int horizon) {
  kpi::v1::StreamProjectSeriesRequest request;
  kpi::v1::Series* s = request.mutable_series();
  s->set_series_id(series.series_id);
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
  const double last = series.Last().second;
  for (double ratio : kThresholdRatios) {
    s->add_probability_thresholds(ratio * last);
  }
  return request;
}

std::string ForecastHeader(bool with_target) {
  std::vector<std::string> columns = {"series_id", "k",    "h",    "q025",
                                      "q10",       "q50",  "q90",  "q975",
                                      "p090",      "p100", "p110", "p125"};
  if (with_target) columns.push_back("target_probability");
  return CsvRecord(columns);
}

absl::StatusOr<std::string> ForecastRows(const BatchSeries& series,
                                         const kpi::v1::Projection& projection,
                                         bool with_target) {
  const int32_t last_year = series.Last().first;
  std::string out;
  for (const kpi::v1::YearProjection& year : projection.years()) {
    if (year.threshold_probabilities_size() !=
        static_cast<int>(std::size(kThresholdRatios))) {
      return absl::InvalidArgumentError(absl::StrCat(
          "series ", series.series_id, ": fiscal year ", year.fiscal_year(),
          " has ", year.threshold_probabilities_size(),
          " threshold probabilities; ", std::size(kThresholdRatios),
          " were asked for"));
    }
    std::vector<std::string> row = {
        series.series_id,
        absl::StrCat(series.points.size()),
        absl::StrCat(year.fiscal_year() - last_year),
        FormatCsvNumber(year.interval_95().lower()),
        FormatCsvNumber(year.interval_80().lower()),
        FormatCsvNumber(year.median()),
        FormatCsvNumber(year.interval_80().upper()),
        FormatCsvNumber(year.interval_95().upper())};
    for (double p : year.threshold_probabilities()) {
      row.push_back(FormatCsvNumber(p));
    }
    if (with_target) {
      row.push_back(series.target_value.has_value()
                        ? FormatCsvNumber(year.attainment_probability())
                        : "");
    }
    out += CsvRecord(row);
  }
  return out;
}

absl::StatusOr<BatchSummary> RunBatch(
    kpi::v1::ForecastService::StubInterface* stub, std::istream* in,
    const std::string& label, std::ostream* out, std::ostream* progress,
    const BatchOptions& options) {
  absl::StatusOr<std::unique_ptr<SeriesCsvReader>> reader =
      SeriesCsvReader::Create(in, label);
  if (!reader.ok()) return reader.status();
  const bool with_target = (*reader)->has_target_columns();
  *out << ForecastHeader(with_target);

  // The writer thread reads the input and sends; this thread reads the
  // results, which come back in request order, and matches each with the
  // series sent at the same position.
  absl::Mutex mu;
  std::deque<BatchSeries> in_flight ABSL_GUARDED_BY(mu);
  BatchSummary summary ABSL_GUARDED_BY(mu);
  absl::Status input_status ABSL_GUARDED_BY(mu);

  grpc::ClientContext context;
  auto stream = stub->StreamProjectSeries(&context);
  std::thread writer([&] {
    while (true) {
      absl::StatusOr<std::optional<BatchSeries>> next = (*reader)->Next();
      if (!next.ok()) {
        absl::MutexLock lock(&mu);
        input_status = next.status();
        break;
      }
      if (!next->has_value()) break;
      BatchSeries& series = **next;
      if (!series.status.ok()) {
        absl::MutexLock lock(&mu);
        summary.failures.push_back(
            {series.series_id, series.line, series.status});
        continue;
      }
      kpi::v1::StreamProjectSeriesRequest request =
          MakeBatchRequest(series, options.horizon);
      {
        absl::MutexLock lock(&mu);
        in_flight.push_back(std::move(series));
      }
      if (!stream->Write(request)) break;  // the stream failed; Finish says why
    }
    stream->WritesDone();
  });

  const absl::Time start = absl::Now();
  absl::Time last_progress = start;
  absl::Status output_status;
  kpi::v1::StreamProjectSeriesResponse response;
  while (stream->Read(&response)) {
    BatchSeries series;
    {
      absl::MutexLock lock(&mu);
      if (in_flight.empty()) {
        output_status = absl::InternalError(
            "the server sent more results than series were sent");
        break;
      }
      series = std::move(in_flight.front());
      in_flight.pop_front();
    }
    const kpi::v1::ProjectionResult& result = response.result();
    absl::Status status;
    if (result.has_error()) {
      status =
          absl::Status(static_cast<absl::StatusCode>(result.error().code()),
                       result.error().message());
    } else {
      absl::StatusOr<std::string> rows =
          ForecastRows(series, result.projection(), with_target);
      if (rows.ok()) {
        *out << *rows;
      } else {
        status = rows.status();
      }
    }
    absl::MutexLock lock(&mu);
    if (status.ok()) {
      ++summary.projected;
    } else {
      summary.failures.push_back({series.series_id, series.line, status});
    }
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
    return absl::InternalError(absl::StrCat(
        "the stream ended with ", in_flight.size(), " series unanswered"));
  }
  if (!out->good()) {
    return absl::UnavailableError("could not write the output");
  }
  return summary;
}

}  // namespace kpi::kpictl
