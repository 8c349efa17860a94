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
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "google/protobuf/arena.h"
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
  const auto cell = [&](int col) -> absl::string_view {
    if (col < 0 || col >= static_cast<int>(row.size())) return {};
    return absl::StripAsciiWhitespace(row[col]);
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
  const absl::string_view target_value = cell(target_value_col_);
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
  const absl::string_view target_year = cell(target_year_col_);
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
                    kpi::v1::StreamProjectSeriesRequest* request) {
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
  const double last = series.Last().second;
  for (double ratio : kThresholdRatios) {
    s->add_probability_thresholds(ratio * last);
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
  *out << ForecastHeader(with_target);

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
      AddBatchSeries(series, options.horizon, &request);
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
      } else {
        status =
            AppendForecastRows(series, result.projection(), with_target, &rows);
      }
      if (!status.ok())
        failed.push_back({series.series_id, series.line, status});
    }
    *out << rows;
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
