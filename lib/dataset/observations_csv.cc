#include "lib/dataset/observations_csv.h"

#include <algorithm>
#include <cmath>
#include <optional>
#include <utility>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "lib/base/field_violations.h"
#include "lib/base/quote.h"
#include "lib/dataset/csv.h"
#include "lib/dataset/terms.h"
#include "lib/domain/names.h"
#include "lib/domain/validation.h"
#include "lib/fiscal/era.h"

namespace kpi::dataset {
namespace {

using base::FieldViolation;
using domain::Aggregation;
using domain::Observation;
using domain::ObservationStatus;

absl::string_view AsAbsl(std::string_view s) { return {s.data(), s.size()}; }

constexpr char kSummary[] = "invalid observations CSV";

// Folds full-width ASCII (０-９, ，, ．, －) and U+2212 to ASCII and the
// ideographic space to a space; returns nullopt when other non-ASCII
// characters remain.
std::optional<std::string> FoldToAscii(std::string_view cell) {
  std::string out;
  for (size_t i = 0; i < cell.size();) {
    const unsigned char b0 = static_cast<unsigned char>(cell[i]);
    if (b0 < 0x80) {
      out.push_back(static_cast<char>(b0));
      ++i;
      continue;
    }
    if (b0 < 0xE0 || b0 > 0xEF || i + 2 >= cell.size()) return std::nullopt;
    const char32_t cp =
        ((b0 & 0x0F) << 12) |
        ((static_cast<unsigned char>(cell[i + 1]) & 0x3F) << 6) |
        (static_cast<unsigned char>(cell[i + 2]) & 0x3F);
    i += 3;
    if (cp >= 0xFF01 && cp <= 0xFF5E) {
      out.push_back(static_cast<char>(cp - 0xFEE0));
    } else if (cp == 0x3000) {
      out.push_back(' ');
    } else if (cp == 0x2212) {
      out.push_back('-');
    } else {
      return std::nullopt;
    }
  }
  return out;
}

std::string Trim(std::string_view s) {
  return std::string(absl::StripAsciiWhitespace(AsAbsl(s)));
}

bool IsDigit(char c) { return c >= '0' && c <= '9'; }

constexpr char kNumberAccepted[] =
    "accepted: a decimal number such as 1669, 1,669, 50.6 or -3, with "
    "commas only between groups of three digits, full-width digits allowed, "
    "and no unit";

absl::StatusOr<double> ParseValue(std::string_view cell) {
  std::optional<std::string> folded = FoldToAscii(cell);
  const std::string shown = base::QuoteInput(cell);
  if (!folded.has_value()) {
    return absl::InvalidArgumentError(
        absl::StrCat(shown, " is not a number; ", kNumberAccepted));
  }
  const std::string s = Trim(*folded);
  if (s.empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat("required; ", kNumberAccepted));
  }
  size_t pos = 0;
  if (s[pos] == '-') ++pos;
  const size_t int_start = pos;
  while (pos < s.size() && (IsDigit(s[pos]) || s[pos] == ',')) ++pos;
  const std::string integer = s.substr(int_start, pos - int_start);
  bool syntax_ok = !integer.empty() && IsDigit(integer.front());
  if (pos < s.size() && s[pos] == '.') {
    const size_t frac_start = ++pos;
    while (pos < s.size() && IsDigit(s[pos])) ++pos;
    syntax_ok = syntax_ok && pos > frac_start;
  }
  if (pos < s.size() && (s[pos] == 'e' || s[pos] == 'E')) {
    ++pos;
    if (pos < s.size() && (s[pos] == '+' || s[pos] == '-')) ++pos;
    const size_t exp_start = pos;
    while (pos < s.size() && IsDigit(s[pos])) ++pos;
    syntax_ok = syntax_ok && pos > exp_start;
  }
  if (!syntax_ok || pos != s.size()) {
    return absl::InvalidArgumentError(
        absl::StrCat(shown, " is not a number; ", kNumberAccepted));
  }
  std::string digits;
  if (integer.find(',') != std::string::npos) {
    // Groups: 1 to 3 digits, then exactly 3 after each comma.
    size_t group = 0;
    bool first = true, grouping_ok = true;
    for (char c : integer) {
      if (c != ',') {
        ++group;
        continue;
      }
      grouping_ok =
          grouping_ok && group >= 1 && group <= 3 && (first || group == 3);
      first = false;
      group = 0;
    }
    grouping_ok = grouping_ok && group == 3;
    if (!grouping_ok) {
      return absl::InvalidArgumentError(absl::StrCat(
          shown,
          " has thousands separators out of place: commas must separate "
          "groups of three digits (1,669 or 1,234,567); ",
          kNumberAccepted));
    }
  }
  for (char c : s) {
    if (c != ',') digits.push_back(c);
  }
  double value;
  if (!absl::SimpleAtod(digits, &value) || !std::isfinite(value)) {
    return absl::InvalidArgumentError(
        absl::StrCat(shown, " is out of the range of a number"));
  }
  return value;
}

// The fewest significant digits that read back to exactly `value`.
std::string FormatValue(double value) {
  for (int precision = 1; precision < 17; ++precision) {
    std::string s = absl::StrFormat("%.*g", precision, value);
    double back;
    if (absl::SimpleAtod(s, &back) && back == value) return s;
  }
  return absl::StrFormat("%.17g", value);
}

// The line of byte `offset` of `text`.
int LineOf(std::string_view text, size_t offset) {
  return 1 + static_cast<int>(
                 std::count(text.begin(), text.begin() + offset, '\n'));
}

}  // namespace

const std::vector<std::string>& ObservationCsvColumns() {
  static const auto* const columns =
      new std::vector<std::string>{"kpi",
                                   "kpi_display_name",
                                   "unit",
                                   "fiscal_year",
                                   "fiscal_year_label",
                                   "first_fiscal_year",
                                   "aggregation",
                                   "value",
                                   "status",
                                   "source_note",
                                   "reported_fiscal_year"};
  return *columns;
}

const std::vector<std::string>& RequiredObservationCsvColumns() {
  static const auto* const columns =
      new std::vector<std::string>{"kpi", "fiscal_year", "value"};
  return *columns;
}

absl::StatusOr<std::vector<ObservationRow>> ParseObservationRows(
    std::string_view text, std::string_view source_name) {
  std::vector<FieldViolation> violations;
  const auto at = [&](int line, std::string_view column) {
    return column.empty()
               ? absl::StrFormat("%s:%d", source_name, line)
               : absl::StrFormat("%s:%d:%s", source_name, line, column);
  };
  const auto fail = [&] {
    return base::InvalidArgumentWithViolations(
        absl::StrFormat("%s: %s", source_name, kSummary), violations);
  };

  constexpr std::string_view kBom = "\xEF\xBB\xBF";
  if (text.substr(0, kBom.size()) == kBom) text.remove_prefix(kBom.size());
  if (std::optional<size_t> bad = domain::FindInvalidUtf8(text)) {
    violations.push_back(
        {at(LineOf(text, *bad), ""),
         absl::StrFormat("byte %d is not UTF-8; read the file through "
                         "DecodeText (UTF-8 or Shift_JIS/CP932)",
                         *bad)});
    return fail();
  }

  std::vector<CsvRecord> records = ParseCsv(text, source_name, &violations);
  const std::string all_columns = absl::StrJoin(ObservationCsvColumns(), ",");
  if (records.empty()) {
    violations.push_back(
        {at(1, ""), absl::StrCat("empty; the first line must be the header, "
                                 "e.g. ",
                                 all_columns)});
    return fail();
  }
  const CsvRecord& header = records.front();
  if (header.malformed) return fail();

  // Column name -> index in the file.
  absl::flat_hash_map<std::string, size_t> index;
  for (size_t i = 0; i < header.fields.size(); ++i) {
    const std::string name = absl::AsciiStrToLower(Trim(header.fields[i]));
    const auto& known = ObservationCsvColumns();
    if (std::find(known.begin(), known.end(), name) == known.end()) {
      // The path is the header line: the name is not one of ours, and may
      // be anything.
      violations.push_back(
          {at(header.line, ""),
           absl::StrFormat("unknown column %s (column %d); accepted "
                           "columns: %s",
                           base::QuoteInput(header.fields[i]), i + 1,
                           all_columns)});
    } else if (auto [it, inserted] = index.emplace(name, i); !inserted) {
      violations.push_back({at(header.line, name),
                            absl::StrFormat("column given twice (columns %d "
                                            "and %d)",
                                            it->second + 1, i + 1)});
    }
  }
  for (const std::string& required : RequiredObservationCsvColumns()) {
    if (!index.contains(required)) {
      violations.push_back(
          {at(header.line, required),
           absl::StrFormat(
               "required column \"%s\" is missing; required: %s", required,
               absl::StrJoin(RequiredObservationCsvColumns(), ", "))});
    }
  }
  if (!violations.empty()) return fail();

  std::vector<ObservationRow> rows;
  // Reserved whole, so that rows never move: line_of_name's keys view the
  // names they hold.
  rows.reserve(records.size());
  absl::flat_hash_map<std::string_view, int> line_of_name;
  for (size_t r = 1; r < records.size(); ++r) {
    // Released when this iteration ends, whichever way: the cells are not
    // held alongside the rows made of them.
    struct Release {
      CsvRecord& record;
      ~Release() { record = CsvRecord(); }
    } release{records[r]};
    const CsvRecord& record = records[r];
    if (record.malformed) continue;
    const int line = record.line;
    // Spreadsheets save rows of empty cells below the data.
    if (std::all_of(record.fields.begin(), record.fields.end(),
                    [](const std::string& f) { return Trim(f).empty(); })) {
      continue;
    }
    if (record.fields.size() != header.fields.size()) {
      violations.push_back(
          {at(line, ""),
           absl::StrFormat("%d cells, but the header has %d "
                           "columns",
                           record.fields.size(), header.fields.size())});
      continue;
    }
    const auto cell = [&](const char* column) -> std::string {
      auto it = index.find(column);
      return it == index.end() ? "" : record.fields[it->second];
    };
    const size_t before = violations.size();
    const auto bad = [&](const char* column, const absl::Status& status) {
      violations.push_back({at(line, column), std::string(status.message())});
    };

    ObservationRow row;
    row.line = line;
    row.kpi = Trim(cell("kpi"));
    row.kpi_display_name = cell("kpi_display_name");
    row.unit = cell("unit");
    Observation& o = row.observation;
    o.source_note = cell("source_note");

    if (row.kpi.empty()) {
      violations.push_back({at(line, "kpi"),
                            "required; accepted: a KPI name, "
                            "strategies/{strategy}/kpis/{kpi}"});
    } else if (absl::Status s =
                   domain::ParseName(row.kpi, domain::ResourceType::kKpi, "kpi")
                       .status();
               !s.ok()) {
      bad("kpi", s);
    }
    absl::StatusOr<fiscal::FiscalPeriod> period =
        fiscal::ParseFiscalPeriod(cell("fiscal_year"));
    if (period.ok()) {
      o.fiscal_year = period->last;
      if (!period->is_single_year()) o.first_fiscal_year = period->first;
    } else {
      bad("fiscal_year", period.status());
    }
    if (const std::string first = cell("first_fiscal_year");
        !Trim(first).empty()) {
      absl::StatusOr<int> year = fiscal::ParseFiscalYear(first);
      if (!year.ok()) {
        bad("first_fiscal_year", year.status());
      } else if (period.ok() && !period->is_single_year() &&
                 *year != period->first) {
        violations.push_back(
            {at(line, "first_fiscal_year"),
             absl::StrFormat("%d contradicts fiscal_year %s (%d to %d); "
                             "leave it blank or give %d",
                             *year, base::QuoteInput(cell("fiscal_year")),
                             period->first, period->last, period->first)});
      } else {
        o.first_fiscal_year = *year;
      }
    }
    // The era label a Japanese export writes beside the Western year: when
    // given it must name the same period.
    if (const std::string label = cell("fiscal_year_label");
        period.ok() && !Trim(label).empty()) {
      const int first =
          o.first_fiscal_year != 0 ? o.first_fiscal_year : o.fiscal_year;
      absl::StatusOr<fiscal::FiscalPeriod> labelled =
          fiscal::ParseFiscalPeriod(label);
      if (!labelled.ok()) {
        bad("fiscal_year_label", labelled.status());
      } else if (labelled->first != first || labelled->last != o.fiscal_year) {
        violations.push_back(
            {at(line, "fiscal_year_label"),
             absl::StrFormat(
                 "\"%s\" (%s) contradicts fiscal_year \"%s\" "
                 "(%s); correct one of them, or leave the label "
                 "blank",
                 label, fiscal::FormatRange(labelled->first, labelled->last),
                 cell("fiscal_year"),
                 fiscal::FormatRange(first, o.fiscal_year))});
      }
    }
    absl::StatusOr<Aggregation> aggregation =
        ParseAggregationTerm(cell("aggregation"));
    if (aggregation.ok()) {
      o.aggregation = *aggregation;
    } else {
      bad("aggregation", aggregation.status());
    }
    absl::StatusOr<double> value = ParseValue(cell("value"));
    if (value.ok()) {
      o.value = *value;
    } else {
      bad("value", value.status());
    }
    absl::StatusOr<ObservationStatus> status =
        ParseObservationStatusTerm(cell("status"));
    if (status.ok()) {
      o.status = *status;
    } else {
      bad("status", status.status());
    }
    if (const std::string reported = cell("reported_fiscal_year");
        !Trim(reported).empty()) {
      absl::StatusOr<int> year = fiscal::ParseFiscalYear(reported);
      if (year.ok()) {
        o.reported_fiscal_year = *year;
      } else {
        bad("reported_fiscal_year", year.status());
      }
    }
    if (violations.size() != before) continue;

    o.name = domain::MakeName(
        row.kpi, domain::ResourceType::kObservation,
        domain::FiscalYearId(o.first_fiscal_year, o.fiscal_year));
    std::vector<FieldViolation> semantic;
    domain::ValidateObservation(o, "", &semantic);
    for (FieldViolation& v : semantic) {
      violations.push_back(
          {at(line, v.field == "name" ? "kpi" : v.field), v.description});
    }
    if (!semantic.empty()) continue;

    if (auto it = line_of_name.find(o.name); it != line_of_name.end()) {
      violations.push_back(
          {at(line, "fiscal_year"),
           absl::StrFormat("lines %d and %d both give the observation %s "
                           "(the same KPI and period); keep one",
                           it->second, line, o.name)});
      continue;
    }
    rows.push_back(std::move(row));
    line_of_name.emplace(rows.back().observation.name, line);
  }
  if (!violations.empty()) return fail();
  return rows;
}

absl::StatusOr<std::vector<Observation>> ParseObservationsCsv(
    std::string_view text, std::string_view source_name) {
  absl::StatusOr<std::vector<ObservationRow>> rows =
      ParseObservationRows(text, source_name);
  if (!rows.ok()) return rows.status();
  std::vector<Observation> observations;
  observations.reserve(rows->size());
  for (ObservationRow& row : *rows) {
    observations.push_back(std::move(row.observation));
  }
  return observations;
}

absl::Status CheckRowsAgainstKpis(const std::vector<ObservationRow>& rows,
                                  const std::vector<domain::Kpi>& kpis,
                                  std::string_view source_name) {
  absl::flat_hash_map<std::string, const domain::Kpi*> by_name;
  for (const domain::Kpi& kpi : kpis) by_name[kpi.name] = &kpi;
  std::vector<FieldViolation> violations;
  for (const ObservationRow& row : rows) {
    const auto at = [&](const char* column) {
      return absl::StrFormat("%s:%d:%s", source_name, row.line, column);
    };
    auto it = by_name.find(row.kpi);
    if (it == by_name.end()) {
      violations.push_back(
          {at("kpi"),
           absl::StrFormat("no KPI named %s is stored or imported", row.kpi)});
      continue;
    }
    const domain::Kpi& kpi = *it->second;
    if (!row.kpi_display_name.empty() &&
        row.kpi_display_name != kpi.display_name) {
      violations.push_back(
          {at("kpi_display_name"),
           absl::StrFormat("%s is not the name of %s, which is %s; "
                           "check the kpi column, or leave this one blank",
                           base::QuoteInput(row.kpi_display_name), kpi.name,
                           base::QuoteInput(kpi.display_name))});
    }
    if (!row.unit.empty() && row.unit != kpi.unit) {
      violations.push_back(
          {at("unit"), absl::StrFormat("%s is not the unit of %s, which is %s; "
                                       "values must be in the KPI's unit",
                                       base::QuoteInput(row.unit), kpi.name,
                                       base::QuoteInput(kpi.unit))});
    }
    domain::ValidateValueInDomain(row.observation.value, kpi, at("value"),
                                  &violations);
  }
  return base::InvalidArgumentWithViolations(
      absl::StrFormat("%s: observations that do not fit their KPIs",
                      source_name),
      violations);
}

std::string WriteObservationsCsv(const domain::Dataset& dataset,
                                 const ObservationsCsvOptions& options) {
  absl::flat_hash_map<std::string, const domain::Kpi*> kpis;
  for (const domain::Kpi& kpi : dataset.kpis) kpis[kpi.name] = &kpi;
  std::vector<std::string> columns = ObservationCsvColumns();
  if (!options.japanese) {
    columns.erase(
        std::find(columns.begin(), columns.end(), "fiscal_year_label"));
  }
  std::string out;
  AppendCsvRecord(columns, &out);
  for (const Observation& o : dataset.observations) {
    const size_t cut = o.name.rfind("/observations/");
    const std::string kpi_name =
        cut == std::string::npos ? "" : o.name.substr(0, cut);
    auto it = kpis.find(kpi_name);
    const domain::Kpi* kpi = it == kpis.end() ? nullptr : it->second;
    const auto year = [](int y) {
      return y == 0 ? std::string() : absl::StrCat(y);
    };
    std::vector<std::string> cells = {kpi_name, kpi ? kpi->display_name : "",
                                      kpi ? kpi->unit : "",
                                      absl::StrCat(o.fiscal_year)};
    if (options.japanese) {
      cells.push_back(fiscal::FormatRange(
          o.first_fiscal_year != 0 ? o.first_fiscal_year : o.fiscal_year,
          o.fiscal_year));
    }
    cells.insert(
        cells.end(),
        {year(o.first_fiscal_year),
         std::string(AggregationTerm(o.aggregation, options.japanese)),
         FormatValue(o.value),
         std::string(ObservationStatusTerm(o.status, options.japanese)),
         o.source_note, year(o.reported_fiscal_year)});
    AppendCsvRecord(cells, &out);
  }
  return out;
}

}  // namespace kpi::dataset
