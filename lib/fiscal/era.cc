#include "lib/fiscal/era.h"

#include <optional>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "lib/base/quote.h"

namespace kpi::fiscal {
namespace {

constexpr char kAccepted[] =
    "accepted: a Western year 1900-2200 (2021, 2021年度, FY2021), an era "
    "year 令和/R or 平成/H from 1 (元年; H31 = R1 = 2019, H32 = 2020), or "
    "昭和/S 1-64, with an optional 年度, or a range such as 令和2-6年度, "
    "H28-H30 or 2016-2018";

struct Era {
  char letter;
  const char* name;
  int base;     // calendar year of the era's year 0
  int last_ok;  // largest era number accepted when parsing
};

// Newest first.
constexpr Era kEras[] = {
    {'R', "令和", 2018, kMaxFiscalYear - 2018},
    {'H', "平成", 1988, kMaxFiscalYear - 1988},
    {'S', "昭和", 1925, 64},
};

const Era* EraByLetter(char letter) {
  for (const Era& era : kEras) {
    if (era.letter == letter) return &era;
  }
  return nullptr;
}

// The era whose first year is at or before `fiscal_year`; null before 1926.
const Era* EraOfYear(int fiscal_year) {
  for (const Era& era : kEras) {
    if (fiscal_year > era.base) return &era;
  }
  return nullptr;
}

enum class TokenKind { kEra, kNumber, kFy, kSuffix, kSeparator };

struct Token {
  TokenKind kind;
  char era = 0;    // kEra: 'R', 'H' or 'S'
  int number = 0;  // kNumber
  int digits = 0;  // kNumber: 0 for 元
};

// Decodes one UTF-8 code point at `*pos`; nullopt when invalid.
std::optional<char32_t> NextCodePoint(std::string_view s, size_t* pos) {
  const auto byte = [&](size_t i) { return static_cast<unsigned char>(s[i]); };
  const unsigned char b0 = byte(*pos);
  int len;
  char32_t cp;
  if (b0 < 0x80) {
    len = 1;
    cp = b0;
  } else if (b0 >= 0xC2 && b0 <= 0xDF) {
    len = 2;
    cp = b0 & 0x1F;
  } else if (b0 >= 0xE0 && b0 <= 0xEF) {
    len = 3;
    cp = b0 & 0x0F;
  } else if (b0 >= 0xF0 && b0 <= 0xF4) {
    len = 4;
    cp = b0 & 0x07;
  } else {
    return std::nullopt;
  }
  if (*pos + len > s.size()) return std::nullopt;
  for (int i = 1; i < len; ++i) {
    const unsigned char b = byte(*pos + i);
    if ((b & 0xC0) != 0x80) return std::nullopt;
    cp = (cp << 6) | (b & 0x3F);
  }
  if ((len == 3 && (cp < 0x800 || (cp >= 0xD800 && cp <= 0xDFFF))) ||
      (len == 4 && (cp < 0x10000 || cp > 0x10FFFF))) {
    return std::nullopt;
  }
  *pos += len;
  return cp;
}

// Folds full-width ASCII to ASCII, lower case to upper case, every range
// dash or tilde to '-', and the ideographic space to ' '.
char32_t Normalize(char32_t c) {
  if (c >= 0xFF01 && c <= 0xFF5E) c -= 0xFEE0;
  if (c == 0x3000 || c == '\t') return ' ';
  if (c >= 'a' && c <= 'z') return c - 'a' + 'A';
  switch (c) {
    case '~':
    case 0x301C:  // 〜 wave dash
    case 0x2010:  // ‐ hyphen
    case 0x2013:  // – en dash
    case 0x2014:  // — em dash
    case 0x2212:  // − minus sign
      return '-';
    default:
      return c;
  }
}

absl::Status Invalid(std::string_view label, std::string_view reason) {
  if (label.empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat("empty fiscal year; ", kAccepted));
  }
  return absl::InvalidArgumentError(
      absl::StrFormat("%s is not a fiscal year: %s; %s",
                      base::QuoteInput(label), reason, kAccepted));
}

absl::StatusOr<std::vector<Token>> Tokenize(std::string_view label) {
  std::vector<char32_t> cps;
  for (size_t pos = 0; pos < label.size();) {
    std::optional<char32_t> cp = NextCodePoint(label, &pos);
    if (!cp.has_value()) return Invalid(label, "not valid UTF-8");
    const char32_t c = Normalize(*cp);
    if (c != ' ') cps.push_back(c);
  }
  std::vector<Token> tokens;
  for (size_t i = 0; i < cps.size();) {
    const char32_t c = cps[i];
    const char32_t next = i + 1 < cps.size() ? cps[i + 1] : 0;
    if (c >= '0' && c <= '9') {
      Token t{TokenKind::kNumber};
      while (i < cps.size() && cps[i] >= '0' && cps[i] <= '9') {
        if (++t.digits > 4) return Invalid(label, "a number is too long");
        t.number = t.number * 10 + static_cast<int>(cps[i] - '0');
        ++i;
      }
      tokens.push_back(t);
      continue;
    }
    if (c == U'元') {
      tokens.push_back({TokenKind::kNumber, 0, 1, 0});
    } else if (c == 'R' || c == 'H' || c == 'S') {
      tokens.push_back({TokenKind::kEra, static_cast<char>(c)});
    } else if (c == U'令' && next == U'和') {
      tokens.push_back({TokenKind::kEra, 'R'});
      ++i;
    } else if (c == U'平' && next == U'成') {
      tokens.push_back({TokenKind::kEra, 'H'});
      ++i;
    } else if (c == U'昭' && next == U'和') {
      tokens.push_back({TokenKind::kEra, 'S'});
      ++i;
    } else if (c == 'F' && next == 'Y') {
      tokens.push_back({TokenKind::kFy});
      ++i;
    } else if (c == U'年') {
      tokens.push_back({TokenKind::kSuffix});
      if (next == U'度') ++i;
    } else if (c == '-') {
      tokens.push_back({TokenKind::kSeparator});
    } else {
      return Invalid(label, "unexpected text");
    }
    ++i;
  }
  return tokens;
}

// One side of a label: [FY] number [年度] or era number [年度].
struct Part {
  char era = 0;  // 0 for a Western year
  Token number;
  bool fy = false;
};

// Reads a part starting at tokens[*i]; `inherited_era` is the era of the
// first part, which the second may omit.
absl::StatusOr<Part> ReadPart(std::string_view label,
                              const std::vector<Token>& tokens, size_t* i,
                              char inherited_era) {
  Part part;
  if (*i < tokens.size() && tokens[*i].kind == TokenKind::kFy) {
    part.fy = true;
    ++*i;
  } else if (*i < tokens.size() && tokens[*i].kind == TokenKind::kEra) {
    part.era = tokens[*i].era;
    ++*i;
  } else {
    part.era = inherited_era;
  }
  if (*i >= tokens.size() || tokens[*i].kind != TokenKind::kNumber) {
    return Invalid(
        label, part.era != 0 && *i > 0 && tokens[*i - 1].kind == TokenKind::kEra
                   ? "the era has no year number"
                   : "a year number is missing");
  }
  part.number = tokens[*i];
  ++*i;
  if (*i < tokens.size() && tokens[*i].kind == TokenKind::kSuffix) ++*i;
  return part;
}

absl::StatusOr<int> PartYear(std::string_view label, const Part& part) {
  if (part.era == 0) {
    if (part.number.digits == 0) {
      return Invalid(label, "元 needs an era (令和元年度)");
    }
    if (part.number.digits != 4 || part.number.number < kMinFiscalYear ||
        part.number.number > kMaxFiscalYear) {
      return Invalid(label,
                     absl::StrCat("a year without an era must be a Western "
                                  "year from ",
                                  kMinFiscalYear, " to ", kMaxFiscalYear));
    }
    return part.number.number;
  }
  const Era* era = EraByLetter(part.era);
  if (part.number.number < 1) {
    return Invalid(label, absl::StrCat(era->name, " years start at 1 (元年)"));
  }
  if (part.number.number > era->last_ok) {
    return Invalid(
        label, era->letter == 'S'
                   ? std::string("昭和 ended in its 64th year")
                   : absl::StrCat(era->name, " years go up to ", era->last_ok));
  }
  return era->base + part.number.number;
}

}  // namespace

absl::StatusOr<FiscalPeriod> ParseFiscalPeriod(std::string_view label) {
  absl::StatusOr<std::vector<Token>> tokens_or = Tokenize(label);
  if (!tokens_or.ok()) return tokens_or.status();
  const std::vector<Token>& tokens = *tokens_or;
  if (tokens.empty()) return Invalid("", "");

  size_t i = 0;
  absl::StatusOr<Part> first = ReadPart(label, tokens, &i, 0);
  if (!first.ok()) return first.status();
  absl::StatusOr<int> first_year = PartYear(label, *first);
  if (!first_year.ok()) return first_year.status();
  if (i == tokens.size()) return FiscalPeriod{*first_year, *first_year};

  if (tokens[i].kind != TokenKind::kSeparator) {
    return Invalid(label, "unexpected text after the year");
  }
  ++i;
  absl::StatusOr<Part> second = ReadPart(label, tokens, &i, first->era);
  if (!second.ok()) return second.status();
  if (i != tokens.size()) {
    return Invalid(label, "unexpected text after the range");
  }
  absl::StatusOr<int> last_year = PartYear(label, *second);
  if (!last_year.ok()) return last_year.status();
  if (*last_year < *first_year) {
    return Invalid(label, absl::StrCat("the range is reversed (", *first_year,
                                       " is after ", *last_year, ")"));
  }
  return FiscalPeriod{*first_year, *last_year};
}

absl::StatusOr<int> ParseFiscalYear(std::string_view label) {
  absl::StatusOr<FiscalPeriod> period = ParseFiscalPeriod(label);
  if (!period.ok()) return period.status();
  if (!period->is_single_year()) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "%s is a range of fiscal years (%d-%d); a single year is "
        "expected, e.g. 令和3年度, R3 or 2021",
        base::QuoteInput(label), period->first, period->last));
  }
  return period->first;
}

namespace {

// The era number as written in a long label: 元 for 1.
std::string EraNumber(const Era& era, int fiscal_year) {
  const int n = fiscal_year - era.base;
  return n == 1 ? std::string("元") : absl::StrCat(n);
}

}  // namespace

std::string FormatFiscalYear(int fiscal_year) {
  const Era* era = EraOfYear(fiscal_year);
  if (era == nullptr) return absl::StrCat(fiscal_year, "年度");
  return absl::StrCat(era->name, EraNumber(*era, fiscal_year), "年度");
}

std::string FormatShort(int fiscal_year) {
  const Era* era = EraOfYear(fiscal_year);
  if (era == nullptr) return absl::StrCat(fiscal_year);
  return absl::StrCat(std::string(1, era->letter), fiscal_year - era->base);
}

std::string FormatRange(int first, int last) {
  if (first == last) return FormatFiscalYear(first);
  const Era* first_era = EraOfYear(first);
  const Era* last_era = EraOfYear(last);
  if (first_era == nullptr || last_era == nullptr) {
    return absl::StrCat(first, "-", last, "年度");
  }
  std::string out =
      absl::StrCat(first_era->name, EraNumber(*first_era, first), "-");
  if (last_era != first_era) absl::StrAppend(&out, last_era->name);
  absl::StrAppend(&out, EraNumber(*last_era, last), "年度");
  return out;
}

}  // namespace kpi::fiscal
