#include "lib/forecast/training_data.h"

#include <algorithm>
#include <cmath>
#include <tuple>
#include <utility>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "lib/base/field_violations.h"
#include "lib/dataset/csv.h"

namespace kpi::forecast {
namespace {

int FindColumn(const std::vector<std::string>& header,
               std::initializer_list<absl::string_view> names) {
  for (size_t i = 0; i < header.size(); ++i) {
    const std::string h =
        absl::AsciiStrToLower(absl::StripAsciiWhitespace(header[i]));
    for (absl::string_view n : names) {
      if (h == n) return static_cast<int>(i);
    }
  }
  return -1;
}

// One row of a series before ordering: (order key, year, value, line).
struct Row {
  int64_t key;
  int32_t year;
  double value;
  int line;
};

}  // namespace

absl::StatusOr<TrainingData> ParseTrainingCsv(std::string_view text,
                                              std::string_view source_name) {
  const std::string name(source_name);
  if (text.size() > kMaxTrainingCsvBytes) {
    return absl::InvalidArgumentError(
        absl::StrCat(name, ": ", text.size(), " bytes; at most ",
                     kMaxTrainingCsvBytes, " bytes are read"));
  }
  // A UTF-8 byte order mark (Excel writes one) is not part of the header.
  if (text.substr(0, 3) == "\xEF\xBB\xBF") text.remove_prefix(3);
  std::vector<base::FieldViolation> violations;
  std::vector<dataset::CsvRecord> records =
      dataset::ParseCsv(text, name, &violations);
  if (!violations.empty()) {
    return base::InvalidArgumentWithViolations(
        absl::StrCat(name, ": not a readable CSV file"), violations);
  }
  if (records.empty()) {
    return absl::InvalidArgumentError(absl::StrCat(
        name,
        ": empty; expected a header series_id,split,t,year,value or "
        "series_id,year,value"));
  }
  const std::vector<std::string>& header = records[0].fields;
  const int id_col = FindColumn(header, {"series_id"});
  const int year_col = FindColumn(header, {"year", "fiscal_year"});
  const int value_col = FindColumn(header, {"value"});
  const int split_col = FindColumn(header, {"split"});
  const int t_col = FindColumn(header, {"t"});
  std::vector<std::string> missing;
  if (id_col < 0) missing.push_back("series_id");
  if (year_col < 0) missing.push_back("year");
  if (value_col < 0) missing.push_back("value");
  if (!missing.empty()) {
    return absl::InvalidArgumentError(absl::StrCat(
        name, ":", records[0].line, ": the header lacks ",
        absl::StrJoin(missing, ", "),
        "; expected series_id,split,t,year,value (the benchmark's long "
        "format) or series_id,year,value[,target_value,target_year] "
        "(kpictl batch)"));
  }
  const int needed = std::max({id_col, year_col, value_col, split_col, t_col});

  TrainingData out;
  absl::flat_hash_map<std::string, size_t> index;
  std::vector<std::vector<Row>> rows;
  for (size_t r = 1; r < records.size(); ++r) {
    const dataset::CsvRecord& rec = records[r];
    const auto bad = [&](absl::string_view column, const std::string& what) {
      return absl::InvalidArgumentError(
          absl::StrCat(name, ":", rec.line, ":", column, ": ", what));
    };
    if (static_cast<int>(rec.fields.size()) <= needed) {
      return bad("row", absl::StrCat(rec.fields.size(),
                                     " fields; the header names at least ",
                                     needed + 1));
    }
    const absl::string_view id = absl::StripAsciiWhitespace(rec.fields[id_col]);
    if (id.empty())
      return bad("series_id", "empty; every row names its series");
    if (id.size() > kMaxTrainingSeriesIdBytes) {
      return bad(
          "series_id",
          absl::StrCat("longer than ", kMaxTrainingSeriesIdBytes, " bytes"));
    }
    if (split_col >= 0) {
      const std::string split = absl::AsciiStrToLower(
          absl::StripAsciiWhitespace(rec.fields[split_col]));
      if (split == "test") {
        // Held out: neither its year nor its value is read.
        ++out.test_rows_skipped;
        continue;
      }
      if (split != "train") {
        return bad("split", absl::StrCat("\"", rec.fields[split_col],
                                         "\"; expected train or test"));
      }
    }
    int32_t year = 0;
    if (!absl::SimpleAtoi(absl::StripAsciiWhitespace(rec.fields[year_col]),
                          &year) ||
        year < -100000 || year > 100000) {
      return bad(header[year_col], absl::StrCat("\"", rec.fields[year_col],
                                                "\" is not an integer year"));
    }
    int64_t key = year;
    if (t_col >= 0 &&
        !absl::SimpleAtoi(absl::StripAsciiWhitespace(rec.fields[t_col]),
                          &key)) {
      return bad("t", absl::StrCat("\"", rec.fields[t_col],
                                   "\" is not an integer position"));
    }
    double value = 0;
    if (!absl::SimpleAtod(absl::StripAsciiWhitespace(rec.fields[value_col]),
                          &value) ||
        !std::isfinite(value)) {
      return bad("value", absl::StrCat("\"", rec.fields[value_col],
                                       "\" is not a finite number"));
    }
    auto [it, inserted] = index.try_emplace(std::string(id), rows.size());
    if (inserted) {
      if (rows.size() >= static_cast<size_t>(kMaxTrainingSeries)) {
        return bad("series_id",
                   absl::StrCat("more than ", kMaxTrainingSeries, " series"));
      }
      rows.emplace_back();
      out.series.emplace_back();
      out.series.back().id = std::string(id);
    }
    std::vector<Row>& series_rows = rows[it->second];
    if (series_rows.size() >=
        static_cast<size_t>(kMaxTrainingPointsPerSeries)) {
      return bad("series_id",
                 absl::StrCat("series \"", id, "\" has more than ",
                              kMaxTrainingPointsPerSeries, " points"));
    }
    series_rows.push_back(Row{key, year, value, rec.line});
    ++out.rows_read;
  }
  const std::string order = t_col >= 0 ? std::string("t") : header[year_col];
  for (size_t s = 0; s < rows.size(); ++s) {
    std::vector<Row>& rs = rows[s];
    std::stable_sort(rs.begin(), rs.end(),
                     [](const Row& a, const Row& b) { return a.key < b.key; });
    TrainingSeries& ts = out.series[s];
    bool negative = false;
    for (size_t i = 0; i < rs.size(); ++i) {
      if (i > 0 && rs[i].key == rs[i - 1].key) {
        return absl::InvalidArgumentError(
            absl::StrCat(name, ":", rs[i].line, ":", order, ": series \"",
                         ts.id, "\" has a row with the same ", order,
                         " on line ", rs[i - 1].line, "; one row per ", order));
      }
      if (i > 0 && rs[i].year <= rs[i - 1].year) {
        return absl::InvalidArgumentError(absl::StrCat(
            name, ":", rs[i].line, ":", header[year_col], ": series \"", ts.id,
            "\": year ", rs[i].year, " does not follow year ", rs[i - 1].year,
            " (line ", rs[i - 1].line, "); years must increase with t"));
      }
      ts.years.push_back(rs[i].year);
      ts.values.push_back(rs[i].value);
      negative |= rs[i].value < 0;
    }
    ts.value_domain = negative ? domain::ValueDomain::kReal
                               : domain::ValueDomain::kNonNegative;
  }
  return out;
}

}  // namespace kpi::forecast
