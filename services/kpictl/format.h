#ifndef KPI_SERVICES_KPICTL_FORMAT_H_
#define KPI_SERVICES_KPICTL_FORMAT_H_

// Rendering helpers of kpictl: terminal display width of UTF-8 text (so that
// columns holding Japanese names line up), aligned text tables, CSV records
// (RFC 4180) and JSON string literals, and the number formats of the tables.
// Everything here is pure and thread-safe.

#include <string>
#include <vector>

#include "absl/strings/string_view.h"

namespace kpi::kpictl {

// Columns `text` takes on a terminal: 2 for East Asian Wide and Fullwidth
// characters (kanji, kana, fullwidth forms, most emoji), 0 for combining
// marks, zero-width characters and variation selectors, 1 otherwise
// (East Asian Ambiguous characters such as ① count as 1, as in the usual
// non-CJK terminal setting). Invalid UTF-8 bytes count 1 each.
int DisplayWidth(absl::string_view text);

// `text` padded with spaces to `width` columns, on the right (left-aligned)
// or on the left (right-aligned). Text already wider is returned unchanged:
// names are never truncated.
std::string PadToWidth(absl::string_view text, int width, bool align_right);

// An aligned text table: a header row, a rule of dashes, then the rows;
// columns separated by two spaces, trailing spaces trimmed.
class TextTable {
 public:
  // `right_aligned[i]` right-aligns column i (numbers); missing entries
  // mean left-aligned.
  explicit TextTable(std::vector<std::string> headers,
                     std::vector<bool> right_aligned = {});

  // Adds a row; missing trailing cells are empty, extra cells are ignored.
  void AddRow(std::vector<std::string> cells);

  // The rendered table, each line ending in '\n'.
  std::string Render() const;

 private:
  std::vector<std::string> headers_;
  std::vector<bool> right_aligned_;
  std::vector<std::vector<std::string>> rows_;
};

// One CSV field: quoted (with doubled quotes) when it holds a comma, a
// quote, CR or LF, or leading/trailing spaces; unchanged otherwise.
std::string CsvField(absl::string_view field);

// A CSV record of `fields` ending in "\n".
std::string CsvRecord(const std::vector<std::string>& fields);

// `text` as a JSON string literal, quotes included. UTF-8 is kept as is;
// quotes, backslashes and control characters are escaped.
std::string JsonString(absl::string_view text);

// A value for a table cell: four significant digits without an exponent
// (all digits of the integer part), at most three decimals, thousands
// separated by commas, trailing zeros dropped: 1669 -> "1,669",
// 113.5 -> "113.5", 45.634 -> "45.63", 0.96123 -> "0.961", -2.5 -> "-2.5".
// NaN and infinities print as "nan", "inf", "-inf".
std::string FormatValue(double value);

// How many decimals a person expects for a KPI's values: as many as its
// own data were written with (113.5 -> 1, 2.67 -> 2, 1669 -> 0; at most 3),
// and at least the unit's usual: 1 for "%" and for units counted in
// thousands or ten-thousands (万人, 千泊, 百万円, 万件), 0 otherwise (人, 件,
// 回, 円). `written` holds the KPI's baseline, target and observed values.
int DisplayDecimals(absl::string_view unit, const std::vector<double>& written);

// `value` for a table cell with `decimals` decimals (trailing zeros kept,
// so a column lines up: 55.0, 58.1), but never more than four significant
// digits after the point's left (12,345.6 -> "12,346"), thousands separated
// by commas. NaN and infinities as FormatValue. The API keeps full
// precision; this is display only.
std::string FormatDisplay(double value, int decimals);

// A probability in [0, 1] as a whole percentage: "83%"; "<1%" and ">99%"
// near the ends so that neither reads as certainty.
std::string FormatProbability(double p);

// A number for CSV output: up to 10 significant digits, no thousands
// separators ("%.10g").
std::string FormatCsvNumber(double value);
// Appends FormatCsvNumber(value) to `out`.
void AppendCsvNumber(double value, std::string* out);
// Writes FormatCsvNumber(value) at `out`, which has room for
// kCsvNumberMaxBytes; returns the end of what was written.
inline constexpr int kCsvNumberMaxBytes = 32;
char* CsvNumberToChars(double value, char* out);

}  // namespace kpi::kpictl

#endif  // KPI_SERVICES_KPICTL_FORMAT_H_
