#include "lib/dataset/terms.h"

#include <initializer_list>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "lib/base/utf8.h"

namespace kpi::dataset {
namespace {

absl::string_view AsAbsl(std::string_view s) { return {s.data(), s.size()}; }

template <typename E>
struct Term {
  E value;
  // The API's enum name without its prefix, e.g. "CARRIED_OVER".
  std::string_view name;
  // Other English spellings (compared after the same folding as name).
  std::initializer_list<std::string_view> english;
  // Japanese words; the first is the one written.
  std::initializer_list<std::string_view> japanese;
};

// The words of Japanese statistics releases: 速報 (first release) and 確報 /
// 確定 (final), 概数 and 概算 (rounded or early figures), 見込み (an
// expected figure before the year closes, as in 決算見込み), 推計 / 推定
// (an estimate a later count may replace), 据置 (a figure held from an
// earlier year because nothing newer was measured).
const Term<domain::ObservationStatus> kStatusTerms[] = {
    {domain::ObservationStatus::kFinal,
     "FINAL",
     {},
     {"確定値", "確定", "確報値", "確報", "確定数", "実績値", "実績", "決算値",
      "決算"}},
    {domain::ObservationStatus::kProvisional,
     "PROVISIONAL",
     {},
     {"暫定値", "暫定", "速報値", "速報", "概数値", "概数", "概算値", "概算",
      "見込み値", "見込値", "見込み", "見込", "推計値", "推計", "推定値",
      "推定"}},
    {domain::ObservationStatus::kCarriedOver,
     "CARRIED_OVER",
     {},
     {"据置", "据え置き", "据置き", "据置値", "前年度値", "前年値", "前回値",
      "前回調査値"}},
};

const Term<domain::Aggregation> kAggregationTerms[] = {
    {domain::Aggregation::kMean, "MEAN", {"AVERAGE"}, {"平均", "平均値"}},
    {domain::Aggregation::kSum,
     "SUM",
     {"TOTAL"},
     {"合計", "合計値", "累計", "総計", "計"}},
};

const Term<domain::Direction> kDirectionTerms[] = {
    {domain::Direction::kIncrease,
     "INCREASE",
     {"HIGHER", "UP"},
     {"増加", "上昇", "増", "高いほど良い", "↑"}},
    {domain::Direction::kDecrease,
     "DECREASE",
     {"LOWER", "DOWN"},
     {"減少", "低下", "減", "低いほど良い", "↓"}},
};

const Term<domain::ValueDomain> kValueDomainTerms[] = {
    {domain::ValueDomain::kReal, "REAL", {}, {"実数"}},
    {domain::ValueDomain::kNonNegative,
     "NON_NEGATIVE",
     {"NONNEGATIVE"},
     {"非負", "0以上"}},
    {domain::ValueDomain::kPercent,
     "PERCENT",
     {"%", "SHARE"},
     {"割合", "百分率", "％"}},
};

const Term<domain::KpiKind> kKindTerms[] = {
    {domain::KpiKind::kLevel,
     "LEVEL",
     {},
     {"水準", "単年度", "単年", "年度値"}},
    {domain::KpiKind::kRunningTotal,
     "RUNNING_TOTAL",
     {"CUMULATIVE"},
     {"累計", "累計数", "累積"}},
    {domain::KpiKind::kPeriodSum,
     "PERIOD_SUM",
     {},
     {"期間累計", "期間合計", "計画期間累計"}},
};

bool IsSpace(char32_t c) {
  return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == 0x3000;
}

// The cell as code points without surrounding spaces and one pair of
// enclosing brackets; full-width ASCII (ＦＩＮＡＬ, ０) folded to ASCII
// except ％, which is a word of its own.
std::u32string Normalize(std::string_view cell) {
  std::u32string s;
  for (size_t i = 0; i < cell.size();) {
    char32_t c = base::NextCodePoint(cell, &i);
    if (c >= 0xFF01 && c <= 0xFF5E && c != 0xFF05) c -= 0xFEE0;
    s.push_back(c);
  }
  const auto trim = [](std::u32string* t) {
    while (!t->empty() && IsSpace(t->back())) t->pop_back();
    size_t start = 0;
    while (start < t->size() && IsSpace((*t)[start])) ++start;
    t->erase(0, start);
  };
  trim(&s);
  static constexpr char32_t kBrackets[][2] = {
      {'(', ')'},       {'[', ']'}, {0x3010, 0x3011},  // 【】
      {0x3014, 0x3015},                                // 〔〕
      {0x300C, 0x300D},                                // 「」
  };
  if (s.size() >= 2) {
    for (const auto& pair : kBrackets) {
      if (s.front() == pair[0] && s.back() == pair[1]) {
        s = s.substr(1, s.size() - 2);
        trim(&s);
        break;
      }
    }
  }
  return s;
}

std::string ToUtf8(const std::u32string& s) {
  std::string out;
  for (char32_t c : s) base::AppendCodePoint(c, &out);
  return out;
}

// Upper case, '-' and ' ' as '_': "carried over" -> "CARRIED_OVER".
std::string FoldEnglish(std::string_view s) {
  std::string out = absl::AsciiStrToUpper(std::string(s));
  for (char& c : out) {
    if (c == '-' || c == ' ') c = '_';
  }
  return out;
}

template <typename E, size_t N>
absl::StatusOr<E> ParseTerm(std::string_view cell, const Term<E> (&terms)[N],
                            std::string_view prefix, std::string_view what) {
  const std::string word = ToUtf8(Normalize(cell));
  if (word.empty()) return static_cast<E>(0);
  std::string english = FoldEnglish(word);
  if (english.compare(0, prefix.size(), prefix.data(), prefix.size()) == 0) {
    english.erase(0, prefix.size());
  }
  for (const Term<E>& t : terms) {
    if (english == t.name) return t.value;
    for (std::string_view e : t.english) {
      if (english == FoldEnglish(e)) return t.value;
    }
    for (std::string_view j : t.japanese) {
      if (word == j) return t.value;
    }
  }
  std::vector<std::string> accepted;
  for (const Term<E>& t : terms) {
    std::vector<absl::string_view> words;
    for (std::string_view w : t.english) words.push_back(AsAbsl(w));
    for (std::string_view w : t.japanese) words.push_back(AsAbsl(w));
    std::string entry(t.name);
    if (!words.empty()) {
      absl::StrAppend(&entry, " (", absl::StrJoin(words, ", "), ")");
    }
    accepted.push_back(std::move(entry));
  }
  return absl::InvalidArgumentError(
      absl::StrCat("\"", AsAbsl(cell), "\" is not ", AsAbsl(what),
                   "; accepted: ", absl::StrJoin(accepted, "; "),
                   ", English names in any case (with or without ",
                   AsAbsl(prefix), "), or blank"));
}

template <typename E, size_t N>
std::string_view WriteTerm(E value, const Term<E> (&terms)[N], bool japanese) {
  for (const Term<E>& t : terms) {
    if (t.value == value) return japanese ? *t.japanese.begin() : t.name;
  }
  return "";
}

}  // namespace

absl::StatusOr<domain::ObservationStatus> ParseObservationStatusTerm(
    std::string_view cell) {
  return ParseTerm(cell, kStatusTerms, "OBSERVATION_STATUS_", "a status");
}

absl::StatusOr<domain::Aggregation> ParseAggregationTerm(
    std::string_view cell) {
  return ParseTerm(cell, kAggregationTerms, "AGGREGATION_", "an aggregation");
}

absl::StatusOr<domain::Direction> ParseDirectionTerm(std::string_view cell) {
  return ParseTerm(cell, kDirectionTerms, "DIRECTION_", "a direction");
}

absl::StatusOr<domain::ValueDomain> ParseValueDomainTerm(
    std::string_view cell) {
  return ParseTerm(cell, kValueDomainTerms, "VALUE_DOMAIN_", "a value domain");
}

absl::StatusOr<domain::KpiKind> ParseKpiKindTerm(std::string_view cell) {
  return ParseTerm(cell, kKindTerms, "KPI_KIND_", "a KPI kind");
}

std::string_view ObservationStatusTerm(domain::ObservationStatus status,
                                       bool japanese) {
  return WriteTerm(status, kStatusTerms, japanese);
}

std::string_view AggregationTerm(domain::Aggregation aggregation,
                                 bool japanese) {
  return WriteTerm(aggregation, kAggregationTerms, japanese);
}

std::vector<std::string_view> JapaneseObservationStatusTerms(
    domain::ObservationStatus status) {
  for (const auto& t : kStatusTerms) {
    if (t.value == status) return {t.japanese.begin(), t.japanese.end()};
  }
  return {};
}

}  // namespace kpi::dataset
