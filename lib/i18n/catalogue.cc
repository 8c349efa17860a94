#include "lib/i18n/catalogue.h"

#include <array>
#include <cstdlib>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "lib/fiscal/era.h"

namespace kpi::i18n {
namespace {

struct Entry {
  MessageId id;
  const char* ja;
  const char* en;
};

// One row per message, in MessageId order (checked at compile time; a test
// checks that no text is empty and that both languages use the same
// placeholders).
constexpr Entry kCatalogue[] = {
    {MessageId::kStatusUnspecified, "未評価", "not assessed"},
    {MessageId::kStatusAchieved, "達成済み", "achieved"},
    {MessageId::kStatusOnTrack, "順調", "on track"},
    {MessageId::kStatusAccelerationNeeded, "加速が必要", "acceleration needed"},
    {MessageId::kStatusLimitedProgress, "進捗が限定的", "limited progress"},
    {MessageId::kStatusDeteriorating, "悪化", "deteriorating"},
    {MessageId::kStatusInsufficientData, "データ不足", "insufficient data"},

    {MessageId::kWarningFewPoints, "観測点が少ない", "few points"},
    {MessageId::kWarningProvisionalLatest, "最新値が暫定値",
     "provisional latest"},
    {MessageId::kWarningStaleLatest, "最新値が据置・古い", "stale latest"},
    {MessageId::kWarningTargetOutsideRange, "目標が観測範囲から遠い",
     "target far outside range"},
    {MessageId::kWarningShockYears, "ショック年あり", "shock years"},
    {MessageId::kWarningReferenceTarget, "目標は参照表による",
     "target from reference table"},
    {MessageId::kWarningLongHorizon, "長期の予測", "long horizon"},
    {MessageId::kWarningNoTarget, "目標なし", "no target"},
    {MessageId::kWarningOther, "注意", "caveat"},

    {MessageId::kLikelihoodVirtuallyCertain, "ほぼ確実", "virtually certain"},
    {MessageId::kLikelihoodVeryLikely, "可能性が非常に高い", "very likely"},
    {MessageId::kLikelihoodLikely, "可能性が高い", "likely"},
    {MessageId::kLikelihoodAboutAsLikelyAsNot, "五分五分",
     "about as likely as not"},
    {MessageId::kLikelihoodUnlikely, "可能性が低い", "unlikely"},
    {MessageId::kLikelihoodVeryUnlikely, "可能性が非常に低い", "very unlikely"},
    {MessageId::kLikelihoodExceptionallyUnlikely, "ほぼ不可能",
     "exceptionally unlikely"},
    {MessageId::kLikelihoodNoTarget, "目標なし", "no target"},

    {MessageId::kFiscalYear, "$1 (FY$0)", "FY$0 ($1)"},
    {MessageId::kFiscalYearRange, "$2 (FY$0-$1)", "FY$0-$1 ($2)"},

    {MessageId::kObservationFinal, "確定値", "final"},
    {MessageId::kObservationProvisional, "暫定値", "provisional"},
    {MessageId::kObservationCarriedOver, "据置", "carried over"},
    {MessageId::kAggregationMean, "平均", "mean"},
    {MessageId::kAggregationSum, "合計", "sum"},
    {MessageId::kKindLevel, "各年度の水準", "level"},
    {MessageId::kKindRunningTotal, "累計 (減少しない)", "running total"},
    {MessageId::kKindPeriodSum, "計画期間の累計", "sum over the plan period"},
    {MessageId::kDirectionIncrease, "高いほど良い", "higher is better"},
    {MessageId::kDirectionDecrease, "低いほど良い", "lower is better"},
    {MessageId::kRatingContinueAndExpand, "継続発展",
     "continue and expand (継続発展)"},
    {MessageId::kRatingContinue, "継続", "continue (継続)"},
    {MessageId::kRatingRevise, "見直し", "revise (見直し)"},

    {MessageId::kColumnKpi, "KPI", "KPI"},
    {MessageId::kColumnName, "名称", "name"},
    {MessageId::kColumnUnit, "単位", "unit"},
    {MessageId::kColumnBaseline, "基準値", "baseline"},
    {MessageId::kColumnLatest, "最新値", "latest"},
    {MessageId::kColumnTarget, "目標値", "target"},
    {MessageId::kColumnPeriod, "年度", "period"},
    {MessageId::kColumnValue, "値", "value"},
    {MessageId::kColumnStatus, "状態", "status"},
    {MessageId::kColumnReported, "報告年度", "reported"},
    {MessageId::kColumnSource, "出典・備考", "source"},
    {MessageId::kFieldMeasure, "施策", "measure"},
    {MessageId::kFieldKind, "種類", "kind"},
    {MessageId::kFieldSumPeriod, "$0からの累計", "sum from $0"},
    {MessageId::kFieldMeasured, "測定方法", "measured"},
    {MessageId::kFieldShockYears, "ショック年", "shock years"},
    {MessageId::kKpiCount, "KPI $0件", "$0 KPIs"},
    {MessageId::kObservationsHeading, "実績値 ($0件)", "observations ($0)"},
    {MessageId::kRevisedLine, "  $0 を $1 に修正: 旧値 $2 ($3)、理由: $4",
     "  revised $0 on $1: was $2 ($3), reason: $4"},
    {MessageId::kEvaluationsHeading, "施策 $0 $1 の評価 ($2件)",
     "evaluations of $0 $1 ($2)"},
};

constexpr bool RowsInIdOrder() {
  for (size_t i = 0; i < std::size(kCatalogue); ++i) {
    if (static_cast<size_t>(kCatalogue[i].id) != i) return false;
  }
  return true;
}
static_assert(std::size(kCatalogue) ==
                  static_cast<size_t>(MessageId::kMessageCount),
              "one catalogue row per MessageId");
static_assert(RowsInIdOrder(), "catalogue rows must be in MessageId order");

std::string Lower(std::string_view s) {
  return absl::AsciiStrToLower(std::string(s));
}

}  // namespace

absl::StatusOr<Language> ParseLanguage(std::string_view code) {
  const std::string lower = Lower(code);
  // The primary subtag: up to the first '-', '_' or '.'.
  const std::string primary = lower.substr(0, lower.find_first_of("-_."));
  if (primary == "ja") return Language::kJa;
  if (primary == "en") return Language::kEn;
  const std::string quoted(code.substr(0, 16));
  return absl::InvalidArgumentError(absl::StrCat(
      "language_code \"", quoted, code.size() > quoted.size() ? "..." : "",
      "\" is not supported; accepted: ja (Japanese) or en (English), with "
      "an optional region such as ja-JP"));
}

Language LanguageFromEnvironment() {
  for (const char* name : {"LC_ALL", "LC_MESSAGES", "LANG"}) {
    const char* value = std::getenv(name);
    if (value == nullptr || *value == '\0') continue;
    return absl::StartsWithIgnoreCase(value, "ja") ? Language::kJa
                                                   : Language::kEn;
  }
  return Language::kEn;
}

std::string_view LanguageCode(Language language) {
  return language == Language::kJa ? "ja" : "en";
}

std::string_view Text(MessageId id, Language language) {
  const auto index = static_cast<size_t>(id);
  if (index >= std::size(kCatalogue)) return "?";
  const Entry& entry = kCatalogue[index];
  return language == Language::kJa ? entry.ja : entry.en;
}

std::string_view StatusLabel(forecast::ProgressStatus status,
                             Language language) {
  using forecast::ProgressStatus;
  switch (status) {
    case ProgressStatus::kAchieved:
      return Text(MessageId::kStatusAchieved, language);
    case ProgressStatus::kOnTrack:
      return Text(MessageId::kStatusOnTrack, language);
    case ProgressStatus::kAccelerationNeeded:
      return Text(MessageId::kStatusAccelerationNeeded, language);
    case ProgressStatus::kLimitedProgress:
      return Text(MessageId::kStatusLimitedProgress, language);
    case ProgressStatus::kDeteriorating:
      return Text(MessageId::kStatusDeteriorating, language);
    case ProgressStatus::kInsufficientData:
      return Text(MessageId::kStatusInsufficientData, language);
    case ProgressStatus::kUnspecified:
      break;
  }
  return Text(MessageId::kStatusUnspecified, language);
}

std::string_view WarningLabel(forecast::WarningCode code, Language language) {
  using forecast::WarningCode;
  switch (code) {
    case WarningCode::kFewPoints:
      return Text(MessageId::kWarningFewPoints, language);
    case WarningCode::kProvisionalLatest:
      return Text(MessageId::kWarningProvisionalLatest, language);
    case WarningCode::kStaleLatest:
      return Text(MessageId::kWarningStaleLatest, language);
    case WarningCode::kTargetOutsideRange:
      return Text(MessageId::kWarningTargetOutsideRange, language);
    case WarningCode::kShockYears:
      return Text(MessageId::kWarningShockYears, language);
    case WarningCode::kReferenceTarget:
      return Text(MessageId::kWarningReferenceTarget, language);
    case WarningCode::kLongHorizon:
      return Text(MessageId::kWarningLongHorizon, language);
    case WarningCode::kNoTarget:
      return Text(MessageId::kWarningNoTarget, language);
    case WarningCode::kUnspecified:
      break;
  }
  return Text(MessageId::kWarningOther, language);
}

MessageId LikelihoodMessage(double probability) {
  if (probability >= 0.99) return MessageId::kLikelihoodVirtuallyCertain;
  if (probability >= 0.90) return MessageId::kLikelihoodVeryLikely;
  if (probability >= 0.66) return MessageId::kLikelihoodLikely;
  if (probability > 0.33) return MessageId::kLikelihoodAboutAsLikelyAsNot;
  if (probability > 0.10) return MessageId::kLikelihoodUnlikely;
  if (probability > 0.01) return MessageId::kLikelihoodVeryUnlikely;
  return MessageId::kLikelihoodExceptionallyUnlikely;
}

std::string_view LikelihoodWords(double probability, Language language) {
  return Text(LikelihoodMessage(probability), language);
}

std::string FiscalYearLabel(int fiscal_year, Language language) {
  const std::string era = language == Language::kJa
                              ? fiscal::FormatFiscalYear(fiscal_year)
                              : fiscal::FormatShort(fiscal_year);
  if (fiscal_year < 1926) {
    return language == Language::kJa ? era : absl::StrCat("FY", fiscal_year);
  }
  return Format(MessageId::kFiscalYear, language, fiscal_year, era);
}

}  // namespace kpi::i18n

namespace kpi::i18n {

std::string FiscalPeriodLabel(int first_fiscal_year, int fiscal_year,
                              Language language) {
  if (first_fiscal_year == 0 || first_fiscal_year == fiscal_year) {
    return FiscalYearLabel(fiscal_year, language);
  }
  if (first_fiscal_year < 1926) {  // no era label
    return language == Language::kJa
               ? absl::StrCat(first_fiscal_year, "-", fiscal_year, "年度")
               : absl::StrCat("FY", first_fiscal_year, "-", fiscal_year);
  }
  std::string era;
  if (language == Language::kJa) {
    era = fiscal::FormatRange(first_fiscal_year, fiscal_year);
  } else {
    // H28-30, or H30-R2 across an era change.
    const std::string first = fiscal::FormatShort(first_fiscal_year);
    const std::string last = fiscal::FormatShort(fiscal_year);
    const bool same_era =
        !first.empty() && !last.empty() && first.front() == last.front();
    era = absl::StrCat(first, "-", same_era ? last.substr(1) : last);
  }
  return Format(MessageId::kFiscalYearRange, language, first_fiscal_year,
                fiscal_year, era);
}

std::string_view ObservationStatusLabel(domain::ObservationStatus status,
                                        Language language) {
  switch (status) {
    case domain::ObservationStatus::kFinal:
      return Text(MessageId::kObservationFinal, language);
    case domain::ObservationStatus::kProvisional:
      return Text(MessageId::kObservationProvisional, language);
    case domain::ObservationStatus::kCarriedOver:
      return Text(MessageId::kObservationCarriedOver, language);
    case domain::ObservationStatus::kUnspecified:
      break;
  }
  return "-";
}

std::string_view AggregationLabel(domain::Aggregation aggregation,
                                  Language language) {
  switch (aggregation) {
    case domain::Aggregation::kMean:
      return Text(MessageId::kAggregationMean, language);
    case domain::Aggregation::kSum:
      return Text(MessageId::kAggregationSum, language);
    case domain::Aggregation::kUnspecified:
      break;
  }
  return "-";
}

std::string_view KindLabel(domain::KpiKind kind, Language language) {
  switch (kind) {
    case domain::KpiKind::kLevel:
      return Text(MessageId::kKindLevel, language);
    case domain::KpiKind::kRunningTotal:
      return Text(MessageId::kKindRunningTotal, language);
    case domain::KpiKind::kPeriodSum:
      return Text(MessageId::kKindPeriodSum, language);
    case domain::KpiKind::kUnspecified:
      break;
  }
  return "-";
}

std::string_view DirectionLabel(domain::Direction direction,
                                Language language) {
  switch (direction) {
    case domain::Direction::kIncrease:
      return Text(MessageId::kDirectionIncrease, language);
    case domain::Direction::kDecrease:
      return Text(MessageId::kDirectionDecrease, language);
    case domain::Direction::kUnspecified:
      break;
  }
  return "-";
}

std::string_view RatingLabel(domain::Rating rating, Language language) {
  switch (rating) {
    case domain::Rating::kContinueAndExpand:
      return Text(MessageId::kRatingContinueAndExpand, language);
    case domain::Rating::kContinue:
      return Text(MessageId::kRatingContinue, language);
    case domain::Rating::kRevise:
      return Text(MessageId::kRatingRevise, language);
    case domain::Rating::kUnspecified:
      break;
  }
  return "-";
}

}  // namespace kpi::i18n
