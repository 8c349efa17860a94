#include "services/kpictl/format.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "lib/i18n/catalogue.h"

namespace kpi::kpictl {
namespace {

struct Range {
  char32_t first;
  char32_t last;
};

// East Asian Width W and F (Unicode 15, EastAsianWidth.txt), merged into
// the blocks that matter for text; ranges are sorted for binary search.
constexpr Range kWide[] = {
    {0x1100, 0x115F},   {0x231A, 0x231B},   {0x2329, 0x232A},
    {0x23E9, 0x23EC},   {0x23F0, 0x23F0},   {0x23F3, 0x23F3},
    {0x25FD, 0x25FE},   {0x2614, 0x2615},   {0x2648, 0x2653},
    {0x267F, 0x267F},   {0x2693, 0x2693},   {0x26A1, 0x26A1},
    {0x26AA, 0x26AB},   {0x26BD, 0x26BE},   {0x26C4, 0x26C5},
    {0x26CE, 0x26CE},   {0x26D4, 0x26D4},   {0x26EA, 0x26EA},
    {0x26F2, 0x26F3},   {0x26F5, 0x26F5},   {0x26FA, 0x26FA},
    {0x26FD, 0x26FD},   {0x2705, 0x2705},   {0x270A, 0x270B},
    {0x2728, 0x2728},   {0x274C, 0x274C},   {0x274E, 0x274E},
    {0x2753, 0x2755},   {0x2757, 0x2757},   {0x2795, 0x2797},
    {0x27B0, 0x27B0},   {0x27BF, 0x27BF},   {0x2B1B, 0x2B1C},
    {0x2B50, 0x2B50},   {0x2B55, 0x2B55},   {0x2E80, 0x303E},
    {0x3041, 0x3247},   {0x3250, 0x4DBF},   {0x4E00, 0xA4CF},
    {0xA960, 0xA97F},   {0xAC00, 0xD7A3},   {0xF900, 0xFAFF},
    {0xFE10, 0xFE19},   {0xFE30, 0xFE6F},   {0xFF00, 0xFF60},
    {0xFFE0, 0xFFE6},   {0x16FE0, 0x16FE4}, {0x17000, 0x18CFF},
    {0x1AFF0, 0x1B2FF}, {0x1F004, 0x1F004}, {0x1F0CF, 0x1F0CF},
    {0x1F18E, 0x1F18E}, {0x1F191, 0x1F19A}, {0x1F200, 0x1F251},
    {0x1F260, 0x1F265}, {0x1F300, 0x1F64F}, {0x1F680, 0x1F6FF},
    {0x1F7E0, 0x1F7EB}, {0x1F90C, 0x1F9FF}, {0x1FA70, 0x1FAFF},
    {0x20000, 0x2FFFD}, {0x30000, 0x3FFFD},
};

// Characters that take no column: combining marks (general category Mn of
// the scripts likely in this data), zero-width spaces and joiners, and
// variation selectors.
constexpr Range kZero[] = {
    {0x0300, 0x036F}, {0x0483, 0x0489}, {0x0591, 0x05BD}, {0x0610, 0x061A},
    {0x064B, 0x065F}, {0x0E31, 0x0E31}, {0x0E34, 0x0E3A}, {0x0E47, 0x0E4E},
    {0x1AB0, 0x1AFF}, {0x1DC0, 0x1DFF}, {0x200B, 0x200F}, {0x202A, 0x202E},
    {0x2060, 0x2064}, {0x20D0, 0x20FF}, {0x302A, 0x302D}, {0x3099, 0x309A},
    {0xFE00, 0xFE0F}, {0xFE20, 0xFE2F}, {0xFEFF, 0xFEFF}, {0xE0100, 0xE01EF},
};

template <size_t N>
bool InRanges(const Range (&ranges)[N], char32_t c) {
  const Range* end = ranges + N;
  const Range* it = std::upper_bound(
      ranges, end, c, [](char32_t v, const Range& r) { return v < r.first; });
  if (it == ranges) return false;
  --it;
  return c >= it->first && c <= it->last;
}

int CodePointWidth(char32_t c) {
  if (c == 0) return 0;
  if (InRanges(kZero, c)) return 0;
  if (InRanges(kWide, c)) return 2;
  return 1;
}

// Decodes one UTF-8 sequence at text[*i], advancing *i. Returns false (and
// advances by one byte) for an invalid sequence.
bool DecodeUtf8(absl::string_view text, size_t* i, char32_t* out) {
  const auto byte = [&](size_t k) {
    return static_cast<unsigned char>(text[k]);
  };
  const unsigned char b0 = byte(*i);
  int length = 0;
  char32_t c = 0;
  if (b0 < 0x80) {
    *out = b0;
    ++*i;
    return true;
  } else if ((b0 & 0xE0) == 0xC0) {
    length = 2;
    c = b0 & 0x1F;
  } else if ((b0 & 0xF0) == 0xE0) {
    length = 3;
    c = b0 & 0x0F;
  } else if ((b0 & 0xF8) == 0xF0) {
    length = 4;
    c = b0 & 0x07;
  } else {
    ++*i;
    return false;
  }
  if (*i + length > text.size()) {
    ++*i;
    return false;
  }
  for (int k = 1; k < length; ++k) {
    const unsigned char b = byte(*i + k);
    if ((b & 0xC0) != 0x80) {
      ++*i;
      return false;
    }
    c = (c << 6) | (b & 0x3F);
  }
  *i += length;
  *out = c;
  return true;
}

std::string GroupThousands(absl::string_view digits) {
  std::string out;
  const size_t n = digits.size();
  for (size_t k = 0; k < n; ++k) {
    if (k > 0 && (n - k) % 3 == 0) out.push_back(',');
    out.push_back(digits[k]);
  }
  return out;
}

}  // namespace

int DisplayWidth(absl::string_view text) {
  int width = 0;
  size_t i = 0;
  while (i < text.size()) {
    char32_t c = 0;
    width += DecodeUtf8(text, &i, &c) ? CodePointWidth(c) : 1;
  }
  return width;
}

std::string PadToWidth(absl::string_view text, int width, bool align_right) {
  const int pad = width - DisplayWidth(text);
  if (pad <= 0) return std::string(text);
  const std::string spaces(pad, ' ');
  return align_right ? absl::StrCat(spaces, text) : absl::StrCat(text, spaces);
}

TextTable::TextTable(std::vector<std::string> headers,
                     std::vector<bool> right_aligned)
    : headers_(std::move(headers)), right_aligned_(std::move(right_aligned)) {
  right_aligned_.resize(headers_.size(), false);
}

void TextTable::AddRow(std::vector<std::string> cells) {
  cells.resize(headers_.size());
  rows_.push_back(std::move(cells));
}

std::string TextTable::Render() const {
  std::vector<int> widths(headers_.size(), 0);
  for (size_t c = 0; c < headers_.size(); ++c) {
    widths[c] = DisplayWidth(headers_[c]);
    for (const auto& row : rows_) {
      widths[c] = std::max(widths[c], DisplayWidth(row[c]));
    }
  }
  const auto render_line = [&](const std::vector<std::string>& cells) {
    std::string line;
    for (size_t c = 0; c < cells.size(); ++c) {
      if (c > 0) line += "  ";
      line += PadToWidth(cells[c], widths[c], right_aligned_[c]);
    }
    line.erase(line.find_last_not_of(' ') + 1);
    return line + "\n";
  };
  std::string out = render_line(headers_);
  std::vector<std::string> rule;
  for (int w : widths) rule.push_back(std::string(w, '-'));
  out += render_line(rule);
  for (const auto& row : rows_) out += render_line(row);
  return out;
}

std::string CsvField(absl::string_view field) {
  const bool needs_quotes =
      field.find_first_of(",\"\r\n") != absl::string_view::npos ||
      (!field.empty() && (field.front() == ' ' || field.back() == ' '));
  if (!needs_quotes) return std::string(field);
  std::string out = "\"";
  for (char c : field) {
    if (c == '"') out.push_back('"');
    out.push_back(c);
  }
  out.push_back('"');
  return out;
}

std::string CsvRecord(const std::vector<std::string>& fields) {
  std::string out;
  for (size_t i = 0; i < fields.size(); ++i) {
    if (i > 0) out.push_back(',');
    out += CsvField(fields[i]);
  }
  out.push_back('\n');
  return out;
}

std::string JsonString(absl::string_view text) {
  std::string out = "\"";
  for (char ch : text) {
    const unsigned char c = static_cast<unsigned char>(ch);
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      default:
        if (c < 0x20 || c == 0x7F) {
          out += absl::StrFormat("\\u%04x", c);
        } else {
          out.push_back(ch);
        }
    }
  }
  out.push_back('"');
  return out;
}

std::string FormatValue(double value) { return i18n::FormatNumber(value); }

namespace {

// Decimals of the shortest "%.15g" form of `value` (0.1 + 0.2 -> 1,
// 2.67 -> 2, 1e-07 -> 7).
int WrittenDecimals(double value) {
  if (!std::isfinite(value)) return 0;
  std::string text = absl::StrFormat("%.15g", std::fabs(value));
  const size_t e = text.find('e');
  int exponent = 0;
  if (e != std::string::npos) {
    exponent = std::atoi(text.c_str() + e + 1);
    text.resize(e);
  }
  const size_t dot = text.find('.');
  const int fraction =
      dot == std::string::npos ? 0 : static_cast<int>(text.size() - dot - 1);
  return std::max(0, fraction - exponent);
}

// True for units that count in thousands or more (千人, 万人, 百万円, 億円):
// their values carry a decimal by custom.
bool IsScaledUnit(absl::string_view unit) {
  for (absl::string_view prefix : {"千", "万", "百万", "十万", "億"}) {
    if (unit.substr(0, prefix.size()) == prefix &&
        unit.size() > prefix.size()) {
      return true;
    }
  }
  return false;
}

}  // namespace

int DisplayDecimals(absl::string_view unit,
                    const std::vector<double>& written) {
  int decimals = unit == "%" || unit == "％" || IsScaledUnit(unit) ? 1 : 0;
  for (double v : written) decimals = std::max(decimals, WrittenDecimals(v));
  return std::min(decimals, 3);
}

std::string FormatDisplay(double value, int decimals) {
  if (!std::isfinite(value)) return FormatValue(value);
  const double magnitude = std::fabs(value);
  const int integer_digits =
      magnitude < 1 ? 1
                    : static_cast<int>(std::floor(std::log10(magnitude))) + 1;
  decimals = std::clamp(std::min(decimals, 4 - integer_digits), 0, 3);
  const std::string text = absl::StrFormat("%.*f", decimals, magnitude);
  const size_t dot = text.find('.');
  const std::string integer = text.substr(0, dot);
  const std::string fraction = dot == std::string::npos ? "" : text.substr(dot);
  const bool zero = text.find_first_not_of("0.") == std::string::npos;
  return absl::StrCat(value < 0 && !zero ? "-" : "", GroupThousands(integer),
                      fraction);
}

std::string FormatProbability(double p) { return i18n::FormatProbability(p); }

std::string FormatCsvNumber(double value) {
  std::string out;
  AppendCsvNumber(value, &out);
  return out;
}

namespace {

// 10^0 .. 10^14, all exact in a double.
constexpr double kPow10[] = {1e0, 1e1, 1e2,  1e3,  1e4,  1e5,  1e6, 1e7,
                             1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14};

char* ToCharsByPrintfRules(double value, char* out) {
  // std::to_chars with a precision is specified as printf's "%.10g".
  return std::to_chars(out, out + kCsvNumberMaxBytes, value,
                       std::chars_format::general, 10)
      .ptr;
}

}  // namespace

char* CsvNumberToChars(double value, char* out) {
  // Batch output formats about 70 numbers a series, and the general
  // conversion costs ~110 ns each. Values whose "%.10g" is plain decimal
  // (exponent -4 to 9) are formatted here from a 10-digit integer instead;
  // the scaling multiplies by an exact power of ten, so its only error is
  // one rounding (under 2e-6 of a unit in the 10th digit), and a value that
  // close to a rounding tie goes the exact way. Output is identical.
  const double a = std::fabs(value);
  if (!(a >= 1e-4 && a < 1e10)) return ToCharsByPrintfRules(value, out);
  // The decimal exponent e, 10^e <= a < 10^(e+1), from the binary one:
  // floor(e2 * log10(2)) is e or e - 1.
  uint64_t bits;
  std::memcpy(&bits, &a, sizeof(bits));
  const int e2 = static_cast<int>((bits >> 52) & 0x7ff) - 1023;
  int e = std::clamp((e2 * 1233) >> 12, -4, 9);
  double scaled = a * kPow10[9 - e];
  if (scaled >= 1e10 && e < 9) scaled = a * kPow10[9 - ++e];
  if (scaled < 1e9 && e > -4) scaled = a * kPow10[9 - --e];
  if (!(scaled >= 1e9 && scaled < 1e10)) {
    return ToCharsByPrintfRules(value, out);
  }
  const double floor = std::floor(scaled);
  const double fraction = scaled - floor;
  if (std::fabs(fraction - 0.5) < 1e-5) {
    return ToCharsByPrintfRules(value, out);
  }
  uint64_t digits = static_cast<uint64_t>(floor) + (fraction > 0.5 ? 1 : 0);
  if (digits >= 10000000000ULL) {  // rounded up to the next power of ten
    digits /= 10;
    ++e;
  }
  if (e > 9) return ToCharsByPrintfRules(value, out);
  char text[10];
  for (int k = 9; k >= 0; --k) {
    text[k] = static_cast<char>('0' + digits % 10);
    digits /= 10;
  }
  int significant = 10;
  while (significant > 1 && text[significant - 1] == '0') --significant;
  if (value < 0) *out++ = '-';
  if (e >= 0) {
    // e + 1 digits before the point.
    const int whole = e + 1;
    out = std::copy(text, text + whole, out);
    if (significant > whole) {
      *out++ = '.';
      out = std::copy(text + whole, text + significant, out);
    }
  } else {
    *out++ = '0';
    *out++ = '.';
    out = std::fill_n(out, -e - 1, '0');
    out = std::copy(text, text + significant, out);
  }
  return out;
}

void AppendCsvNumber(double value, std::string* out) {
  char buffer[kCsvNumberMaxBytes];
  out->append(buffer, CsvNumberToChars(value, buffer));
}

}  // namespace kpi::kpictl
