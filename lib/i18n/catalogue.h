#ifndef KPI_LIB_I18N_CATALOGUE_H_
#define KPI_LIB_I18N_CATALOGUE_H_

// The message catalogue: every text a reader sees (status words, warning
// labels, probabilities in words, fiscal-year labels, explanations), in
// Japanese and English, in one table (catalogue.cc). The API, kpictl and the
// reports all render through it, so that a word is translated once.
//
// Messages take positional arguments $0..$9 (absl::Substitute); the Japanese
// and English texts of one message take the same arguments. All functions
// are pure and thread-safe.

#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "absl/strings/substitute.h"
#include "lib/domain/model.h"
#include "lib/forecast/engine.h"

namespace kpi::i18n {

enum class Language { kJa = 0, kEn = 1 };

// "ja" or "en", with any region or encoding suffix ("ja-JP", "ja_JP.UTF-8",
// "en_US"), case-insensitive. INVALID_ARGUMENT (quoting a short prefix of
// the code) for anything else, including "".
absl::StatusOr<Language> ParseLanguage(std::string_view code);

// The language of the POSIX locale (LC_ALL, then LC_MESSAGES, then LANG):
// Japanese when it names ja, English otherwise.
Language LanguageFromEnvironment();

// "ja" or "en".
std::string_view LanguageCode(Language language);

// Every message of the catalogue. Append only in groups; the numbering is
// internal (never stored or sent).
enum class MessageId {
  // Progress statuses.
  kStatusUnspecified,
  kStatusAchieved,
  kStatusOnTrack,
  kStatusAccelerationNeeded,
  kStatusLimitedProgress,
  kStatusDeteriorating,
  kStatusInsufficientData,
  // Warnings: short labels.
  kWarningFewPoints,
  kWarningProvisionalLatest,
  kWarningStaleLatest,
  kWarningTargetOutsideRange,
  kWarningShockYears,
  kWarningReferenceTarget,
  kWarningLongHorizon,
  kWarningNoTarget,
  kWarningOther,
  // Probability of attainment in words (IPCC AR5 likelihood scale).
  kLikelihoodVirtuallyCertain,
  kLikelihoodVeryLikely,
  kLikelihoodLikely,
  kLikelihoodAboutAsLikelyAsNot,
  kLikelihoodUnlikely,
  kLikelihoodVeryUnlikely,
  kLikelihoodExceptionallyUnlikely,
  kLikelihoodNoTarget,
  // Fiscal years. $0: the Western year, $1: the era label (令和6年度).
  kFiscalYear,
  // A range of fiscal years. $0, $1: first and last Western years, $2: the
  // era label (平成28-30年度 in Japanese, H28-30 in English).
  kFiscalYearRange,
  // How final an observation is (kpictl show and list, Japanese CSV).
  kObservationFinal,
  kObservationProvisional,
  kObservationCarriedOver,
  // How a value over several years was formed.
  kAggregationMean,
  kAggregationSum,
  // KPI kinds and directions.
  kKindLevel,
  kKindRunningTotal,
  kKindPeriodSum,
  kDirectionIncrease,
  kDirectionDecrease,
  // The city's rating of a measure (継続発展 / 継続 / 見直し).
  kRatingContinueAndExpand,
  kRatingContinue,
  kRatingRevise,
  // Column headings and field names of kpictl's tables.
  kColumnKpi,
  kColumnName,
  kColumnUnit,
  kColumnBaseline,
  kColumnLatest,
  kColumnTarget,
  kColumnPeriod,
  kColumnValue,
  kColumnStatus,
  kColumnReported,
  kColumnSource,
  // Columns of kpictl changes (the change log).
  kColumnChangeTime,
  kColumnActor,
  kColumnOperation,
  kColumnResource,
  kColumnEtags,
  kColumnSummary,
  kFieldMeasure,
  kFieldKind,
  kFieldSumPeriod,  // $0: the first year's label
  kFieldMeasured,
  kFieldShockYears,
  // "$0 KPIs" after a strategy's title; $0 the count.
  kKpiCount,
  // Heading of show's observation table; $0 the count.
  kObservationsHeading,
  // A kept earlier state. $0 observation ID, $1 time, $2 value, $3 status,
  // $4 reason (may be empty), $5 who made the change ("-" when unknown).
  kRevisedLine,
  // Heading of the evaluations of a measure: $0 code, $1 title, $2 count.
  kEvaluationsHeading,
  // A span of fiscal years. $0, $1: the first and last (FiscalYearInText).
  kFiscalYearSpan,
  // Explanations of projections (lib/i18n/explanation.h), one sentence
  // each; the placeholders are documented at their rows in catalogue.cc.
  kExplainProjected,
  kExplainTrend,
  kExplainTrendTotal,
  kExplainTrendShare,
  kExplainTrendTurns,
  kExplainTrendNone,
  kExplainScenarioRecovery,
  kExplainScenarioExcluded,
  kExplainScenarioIncluded,
  kExplainScenarioBlendFewPoints,
  kExplainScenarioBlendFavourable,
  kExplainScenarioBlendRequested,
  kExplainOutcomeProbability,
  kExplainOutcomeMedian,
  kExplainPaceAchieved,
  kExplainPace,
  kExplainPaceInsufficient,
  kExplainNoTarget,
  kExplainProbability,
  kExplainDiscordScenario,
  kExplainDiscordTrendReaches,
  kExplainDiscordTrendFallsShort,
  kExplainDiscordDamped,
  kExplainDiscordSlips,
  kExplainDiscordReverses,
  kExplainDiscordTurns,
  kExplainDiscordProportional,
  kExplainDiscordSpread,
  kExplainZeroReported,
  // One-line summaries (kpictl project). $0: the likelihood words, $1: the
  // probability; then a clause.
  kSummaryLikelihood,
  kSummaryNoTarget,
  kSummaryBlend,
  kSummaryRecovery,
  kSummaryAsData,
  kSummaryTrend,
  kSummaryNoTrend,
  kSummaryDiscordScenario,
  kSummaryDiscordTrendReaches,
  kSummaryDiscordTrendFallsShort,
  kSummaryDiscordDamped,
  kSummaryDiscordSlips,
  kSummaryDiscordReverses,
  kSummaryDiscordTurns,
  kSummaryDiscordProportional,
  kSummaryDiscordSpread,
  // Column headings of kpictl batch's output, one row per series and
  // fiscal year (ja: 系列ID, 年度, 和暦, 中央値, ...).
  kColumnSeriesId,
  kColumnFiscalYear,
  kColumnEraYear,
  kColumnMedian,
  kColumnLower50,
  kColumnUpper50,
  kColumnLower80,
  kColumnUpper80,
  kColumnLower95,
  kColumnUpper95,
  kColumnAttainmentProbability,
  // Reports (lib/report): fan charts and the strategy report.
  kChartObserved,
  kChartProvisional,
  kChartCarriedOver,
  kChartMedian,
  kChartBand,  // $0: the level, 50/80/95
  kChartTarget,
  kChartAlternative,  // $0: the scenario's name
  kChartShockYears,
  kChartAxisYear,
  kChartAxisUnit,  // $0: the unit
  kChartDescObserved,
  kChartDescProjected,
  kChartDescTarget,
  kChartDescAlternative,
  kScenarioRecovery,
  kScenarioAsData,
  kScenarioBlend,
  kReportTitle,
  kReportPrepared,
  kReportSummary,
  kReportStatusCounts,
  kReportLowestFirst,
  kReportGoal,
  kReportCityRating,
  kReportSuggestedRating,
  kReportRuleBasis,
  kReportRule,
  kReportAgreement,
  kReportNoRating,
  kReportNoSuggestion,
  kReportProjected,
  kReportProbability,
  kReportExplanation,
  kReportWarnings,
  kReportCityAssessment,
  kReportCityViewpoint,
  kReportNotProjected,
  kReportCount,
  kReportMeasure,
  kReportChart,
  kReportProgressStatus,
  kReportCityOutlook,
  // kpictl skill and calibrate --server (ForecastService.GetCalibrationSkill,
  // CalibrateStore); placeholders documented at their rows.
  kSkillHeading,
  kSkillSampled,
  kSkillColumnMeasure,
  kSkillColumnMeasured,
  kSkillColumnIdeal,
  kSkillCoverage80,
  kSkillCoverage95,
  kSkillBrier,
  kSkillMase,
  kSkillLowerIsBetter,
  kSkillReading,
  kCalibrateColumnNew,
  kCalibrateColumnInUse,
  kCalibrateScore,
  kCalibrateSwitched,
  kCalibrateKeptNotBetter,
  kCalibrateKeptBuiltIn,
  kCalibrateValidateOnly,
  kCalibrateShrinkage,
  kCalibrateShrinkageInfinite,
  kCalibrateSkipped,
  kMessageCount,  // not a message
};

// The text of `id` in `language`, with its $n placeholders unfilled. Never
// empty for a message of the catalogue.
std::string_view Text(MessageId id, Language language);

// The text of `id` with its placeholders filled.
template <typename... Args>
std::string Format(MessageId id, Language language, const Args&... args) {
  const std::string_view text = Text(id, language);
  return absl::Substitute(absl::string_view(text.data(), text.size()), args...);
}

// Status words: ja 達成済み / en achieved, ...
std::string_view StatusLabel(forecast::ProgressStatus status,
                             Language language);

// Short warning labels: ja 観測点が少ない / en few points, ...
std::string_view WarningLabel(forecast::WarningCode code, Language language);

// The likelihood word for a probability of attainment, on the calibrated
// IPCC AR5 scale: >= 0.99 virtually certain, >= 0.90 very likely, >= 0.66
// likely, > 0.33 about as likely as not, > 0.10 unlikely, > 0.01 very
// unlikely, else exceptionally unlikely.
MessageId LikelihoodMessage(double probability);
MessageId LikelihoodMessage(forecast::Likelihood likelihood);
std::string_view LikelihoodWords(double probability, Language language);

// A fiscal year as a reader of `language` expects it: ja "令和6年度
// (FY2024)", en "FY2024 (R6)". Years before 1926 have no era label.
std::string FiscalYearLabel(int fiscal_year, Language language);

// A period of fiscal years: FiscalYearLabel for a single year (first == last
// or first == 0), else ja "平成28-30年度 (FY2016-2018)", en "FY2016-2018
// (H28-30)".
std::string FiscalPeriodLabel(int first_fiscal_year, int fiscal_year,
                              Language language);

// Words for the domain's enums, for kpictl and reports: 確定値 / final,
// 平均 / mean, 累計 (減少しない) / running total, 高いほど良い / higher is
// better, 継続発展 / continue and expand (継続発展). The unspecified value
// gives "-".
std::string_view ObservationStatusLabel(domain::ObservationStatus status,
                                        Language language);
std::string_view AggregationLabel(domain::Aggregation aggregation,
                                  Language language);
std::string_view KindLabel(domain::KpiKind kind, Language language);
std::string_view DirectionLabel(domain::Direction direction, Language language);
std::string_view RatingLabel(domain::Rating rating, Language language);
// A fiscal year inside a sentence: ja "令和6年度", en "FY2024" (the era is
// given once, by FiscalYearLabel, where the year first appears).
std::string FiscalYearInText(int fiscal_year, Language language);

// A number for a reader: four significant digits without an exponent (all
// digits of the integer part), at most three decimals, thousands separated
// by commas, trailing zeros dropped: 1669 -> "1,669", 113.5 -> "113.5",
// 45.634 -> "45.63", 0.96123 -> "0.961", -2.5 -> "-2.5". NaN and infinities
// print as "nan", "inf", "-inf".
std::string FormatNumber(double value);

// FormatNumber with a sign: "+1.06", "-11", "0".
std::string FormatSignedNumber(double value);

// A probability in [0, 1] as a whole percentage: "83%"; "<1%" and ">99%"
// near the ends so that neither reads as certainty; exactly 0 and 1 print as
// "0%" and "100%".
std::string FormatProbability(double probability);

// A value with its unit as written: "65%", "113.5万人", "1,669 visits"
// (a space only before a unit that starts with an ASCII letter).
std::string FormatValueWithUnit(double value, std::string_view unit);

}  // namespace kpi::i18n

#endif  // KPI_LIB_I18N_CATALOGUE_H_
