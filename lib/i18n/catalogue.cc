#include "lib/i18n/catalogue.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdlib>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
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
    {MessageId::kColumnChangeTime, "日時 (UTC)", "time (UTC)"},
    {MessageId::kColumnActor, "実行者", "actor"},
    {MessageId::kColumnOperation, "操作", "operation"},
    {MessageId::kColumnResource, "対象", "resource"},
    {MessageId::kColumnEtags, "etag 前→後", "etag before->after"},
    {MessageId::kColumnSummary, "内容", "summary"},
    {MessageId::kFieldMeasure, "施策", "measure"},
    {MessageId::kFieldKind, "種類", "kind"},
    {MessageId::kFieldSumPeriod, "$0からの累計", "sum from $0"},
    {MessageId::kFieldMeasured, "測定方法", "measured"},
    {MessageId::kFieldShockYears, "ショック年", "shock years"},
    {MessageId::kKpiCount, "KPI $0件", "$0 KPIs"},
    {MessageId::kObservationsHeading, "実績値 ($0件)", "observations ($0)"},
    {MessageId::kRevisedLine, "  $0 を $1 に $5 が修正: 旧値 $2 ($3)、理由: $4",
     "  revised $0 on $1 by $5: was $2 ($3), reason: $4"},
    {MessageId::kEvaluationsHeading, "施策 $0 $1 の評価 ($2件)",
     "evaluations of $0 $1 ($2)"},
    {MessageId::kFiscalYearSpan, "$0〜$1", "$0 to $1"},

    // $0: the target year (FiscalYearLabel), $1: the median with its unit,
    // $2, $3: the 80% interval's ends.
    {MessageId::kExplainProjected,
     "$0の予測値 (中央値) は$1、80%予測区間は$2〜$3です。",
     "The projection for $0 is $1 (median; 80% interval $2 to $3)."},
    // $0: the number of points, $1: their span, $2: the trend's change per
    // year (signed), $3: the trend continued to the target year, $4: the
    // target year.
    {MessageId::kExplainTrend,
     "使用した$0点 ($1) の傾向 (年$2) をそのまま延ばすと、$4には$3になります。",
     "The trend of the $0 points used ($1, $2 a year), continued, would reach "
     "$3 in $4."},
    {MessageId::kExplainTrendTotal,
     "これまでのペース ($1、年$2) が続くと、$4には$3になります ($0点)。",
     "At the pace so far ($1, $2 a year), the total would reach $3 in $4 ($0 "
     "points)."},
    // $0: the share of the trend's change the median keeps, $1: the
    // calibration's version, $2: the number of points, $3: the share of a
    // steady trend the calibration keeps, $4: the horizon in years.
    {MessageId::kExplainTrendShare,
     "予測の中央値の変化は、その傾向の$0です。較正 ($1) では、$2点の系列は"
     "$4年先までに安定した傾向の$3を保ちました。",
     "The median moves $0 as far: in the calibration ($1), windows of $2 "
     "points kept $3 of a steady trend over $4 years."},
    // $0: the calibration's version.
    {MessageId::kExplainTrendTurns,
     "予測の中央値は、その傾向とは逆の方向に動きます。較正 ($0) で、このような"
     "系列は傾向が反転することが多かったためです。",
     "The median moves the other way instead: series like this one often "
     "turned in the calibration ($0)."},
    // $0: the fiscal year of the one point.
    {MessageId::kExplainTrendNone,
     "使用した観測点は$"
     "0の1点のみです。傾向は推定できないため、その値から予測し、"
     "ばらつきは類似の系列から借りています。",
     "Only one point is used ($0): the projection starts from it with no trend "
     "of its own, and its spread is borrowed from similar series."},
    // $0: the shock years, $1: the other scenario's outcome
    // (kExplainOutcome*).
    {MessageId::kExplainScenarioRecovery,
     "ショック年 ($0) "
     "は除いて推計し、ショック前の傾向への回復を想定しています。"
     "ショック年もデータとして使うと、$1です。",
     "The shock years ($0) are left out: the projection assumes a return to "
     "the pre-shock path. With them as data, $1."},
    {MessageId::kExplainScenarioExcluded,
     "このシナリオではショック年 ($0) を除いて推計しています (回復を想定)。"
     "ショック年もデータとして使うと、$1です。",
     "This scenario leaves the shock years ($0) out (a recovery is assumed). "
     "With them as data, $1."},
    {MessageId::kExplainScenarioIncluded,
     "このシナリオではショック年 ($0) も通常のデータとして使っています。"
     "除いて回復を想定すると、$1です。",
     "This scenario uses the shock years ($0) as ordinary data. Leaving them "
     "out (assuming a recovery), $1."},
    // $0: the shock years, $1: points left without them, $2: the recovery
    // weight, $3: its outcome, $4: the shocks-as-data weight, $5: its
    // outcome.
    {MessageId::kExplainScenarioBlendFewPoints,
     "ショック年 ($0) を除くと観測点が$1点しか残らないため、2つのシナリオを"
     "混合しています: ショック前の傾向への回復 (重み$2、$3) と、ショック年も"
     "データとして使う場合 (重み$4、$5)。",
     "Leaving out the shock years ($0) would leave $1 point(s), so two "
     "scenarios are blended: a return to the pre-shock path (weight $2; $3) "
     "and the shock years as data (weight $4; $5)."},
    {MessageId::kExplainScenarioBlendFavourable,
     "ショック年 ($0) の値は望ましい方向に動いており、除くとそれが隠れるため "
     "(除いた場合の観測点は$1点)、2つのシナリオを混合しています: ショック前の"
     "傾向への回復 (重み$2、$3) と、ショック年もデータとして使う場合 (重み$4、"
     "$5)。",
     "The shock years ($0) moved the KPI the favourable way, and leaving them "
     "out ($1 point(s) would remain) would hide that, so two scenarios are "
     "blended: a return to the pre-shock path (weight $2; $3) and the shock "
     "years as data (weight $4; $5)."},
    {MessageId::kExplainScenarioBlendRequested,
     "指定により、2つのシナリオを混合しています "
     "(ショック年$0、除いた場合の観測点"
     "は$1点): ショック前の傾向への回復 (重み$2、$3) "
     "と、ショック年もデータとして"
     "使う場合 (重み$4、$5)。",
     "Two scenarios are blended, as requested (shock years $0; $1 point(s) "
     "without them): a return to the pre-shock path (weight $2; $3) and the "
     "shock years as data (weight $4; $5)."},
    // $0: a probability.
    {MessageId::kExplainOutcomeProbability, "達成確率$0", "P(met) $0"},
    // $0: a value with its unit.
    {MessageId::kExplainOutcomeMedian, "中央値$0", "median $0"},
    // $0: the latest value, $1: its year, $2: the target, $3: the target
    // year, $4: the status words.
    {MessageId::kExplainPaceAchieved,
     "最新値$0 ($1) は、既に$3の目標$2を満たしています (進捗区分: $4)。",
     "The latest value, $0 ($1), already meets the target of $2 for $3 "
     "(status: $4)."},
    // $0: the target, $1: the target year, $2: the change per year needed,
    // $3: the base value, $4: the base year, $5: the change per year
    // observed, $6: the latest value, $7: its year, $8: the status words.
    {MessageId::kExplainPace,
     "$1の目標$0には、$4の$3から年$2の変化が必要です。$7の$6までの実績は年$5"
     "でした (進捗区分: $8)。",
     "The target of $0 for $1 needs $2 a year from $3 in $4; $5 a year was "
     "observed, to $6 in $7 (status: $8)."},
    // $0: the target, $1: the target year, $2: the status words.
    {MessageId::kExplainPaceInsufficient,
     "$1の目標は$0です。比べられる2年分の実測値がないため、進捗のペースは判定"
     "できません (進捗区分: $2)。",
     "The target is $0 for $1; there are no two measured years to compare "
     "paces (status: $2)."},
    {MessageId::kExplainNoTarget,
     "目標がないため、達成確率と進捗区分はありません。",
     "There is no target, so there is no probability of meeting it and no "
     "status."},
    // $0: the probability, $1: the likelihood words.
    {MessageId::kExplainProbability, "目標を達成する確率は$0 ($1) です。",
     "The probability of meeting the target is $0: $1."},
    // $0: the latest measurement's year, $1: its value.
    {MessageId::kExplainDiscordScenario,
     "進捗区分と確率が食い違うのは、進捗区分が最新の実測値 ($0の$1) で判定する"
     "のに対し、回復シナリオはその値を除いて予測しているためです。",
     "Status and probability differ because the status reads the latest "
     "measurement ($1 in $0), which the recovery scenario leaves out."},
    // $0: the base year, $1: the latest year, $2: the span of the points
    // used.
    {MessageId::kExplainDiscordTrendReaches,
     "進捗区分と確率が食い違うのは、進捗区分が$0から$1までのペースで判定する"
     "のに対し、予測は使用した点 ($2) の傾向に従い、その傾向は目標に届くため"
     "です。",
     "Status and probability differ because the status measures the pace "
     "from $0 to $1, while the projection follows the trend of the points used "
     "($2), which reaches the target."},
    {MessageId::kExplainDiscordTrendFallsShort,
     "進捗区分と確率が食い違うのは、進捗区分が$0から$1までのペースで判定する"
     "のに対し、予測は使用した点 ($2) の傾向に従い、その傾向は目標に届かない"
     "ためです。",
     "Status and probability differ because the status measures the pace "
     "from $0 to $1, while the projection follows the trend of the points used "
     "($2), which falls short of the target."},
    // $0: the share of the trend the median keeps, $1: the number of points.
    {MessageId::kExplainDiscordDamped,
     "進捗区分と確率が食い違うのは、進捗区分が実績のペースがそのまま続くと"
     "みなすのに対し、予測は$1点の傾向を類似系列の実績に基づいて割り引き "
     "(変化の"
     "$0)、目標に届かない結果が多くなるためです。",
     "Status and probability differ because the status assumes the observed "
     "pace continues in full, while the projection, as similar series did, "
     "keeps $0 of a trend of $1 points, so most outcomes fall short."},
    {MessageId::kExplainDiscordSlips,
     "進捗区分と確率が食い違うのは、最新値は目標を満たしているものの、予測では"
     "類似系列の実績から目標を下回る方向に戻る可能性が高いためです。",
     "Status and probability differ because the latest value meets the "
     "target, but the projection expects it to slip back below, as similar "
     "series did."},
    {MessageId::kExplainDiscordReverses,
     "進捗区分と確率が食い違うのは、進捗区分が実績のペースがそのまま続くと"
     "みなすのに対し、予測は類似系列の実績から傾向の反転を見込むためです。",
     "Status and probability differ because the status assumes the observed "
     "pace continues, while the projection expects the trend to turn, as "
     "similar series did."},
    {MessageId::kExplainDiscordTurns,
     "進捗区分と確率が食い違うのは、これまでのペースは遅いものの、予測では類似"
     "系列の実績から目標に向かう動きを見込むためです。",
     "Status and probability differ because, although the pace so far is "
     "slow, the projection expects a move toward the target, as similar "
     "series made."},
    // $0: the change per year observed, $1: the change per year needed,
    // $2: the year 0 would be reached at the observed pace.
    {MessageId::kExplainDiscordProportional,
     "進捗区分と確率が食い違うのは、進捗区分が年平均の変化 (実績 年$0、必要 "
     "年$1) "
     "で判定し、このペースなら$2に0に達するのに対し、予測は比率での変化を用いる"
     "ため、値が報告単位の半分を下回って0と報告される場合にしか0に達しないため"
     "です。",
     "Status and probability differ because the status compares average "
     "yearly changes ($0 a year observed, $1 needed), at which 0 would be "
     "reached in $2, while the projection works with changes in proportion, "
     "which reach 0 only when the value falls below half its reporting "
     "unit."},
    {MessageId::kExplainDiscordSpread,
     "進捗区分と確率が食い違うのは、予測に使える点が1点のみで独自の傾向がなく、"
     "確率が類似系列の変動幅を反映しているためです。",
     "Status and probability differ because only one point is used: the "
     "projection has no trend of its own, and the probability reflects how "
     "far similar series moved."},
    // $0: half the reporting unit.
    {MessageId::kExplainZeroReported,
     "$0未満の予測値は0として報告される値とみなします。",
     "A projected value below $0 counts as reported as 0."},

    // $0: the likelihood words, $1: the probability.
    {MessageId::kSummaryLikelihood, "$0 ($1)", "$0 ($1)"},
    // $0: the median with its unit, $1: the target year.
    {MessageId::kSummaryNoTarget, "目標なし、$1の中央値$0",
     "no target; median $0 in $1"},
    // $0: the recovery outcome, $1: the shocks-as-data outcome.
    {MessageId::kSummaryBlend, "回復 ($0) とショック込み ($1) の混合",
     "blend of recovery ($0) and shocks as data ($1)"},
    // $0: the shocks-as-data outcome.
    {MessageId::kSummaryRecovery, "回復を想定 (ショック込みでは$0)",
     "assumes recovery (shocks as data: $0)"},
    // $0: the recovery outcome.
    {MessageId::kSummaryAsData, "ショック年もデータとして使用 (回復想定では$0)",
     "shocks as data (assuming recovery: $0)"},
    // $0: the span of the points used, $1: the trend continued, $2: the
    // target year.
    {MessageId::kSummaryTrend, "$0の傾向では$2に$1",
     "trend of $0 reaches $1 in $2"},
    {MessageId::kSummaryNoTrend, "1点のみで傾向なし", "one point, no trend"},
    // $0: the latest measurement's year.
    {MessageId::kSummaryDiscordScenario,
     "進捗区分は予測で除いた$0の実測値による",
     "the status reads $0, which the projection leaves out"},
    // $0: the span of the points used.
    {MessageId::kSummaryDiscordTrendReaches, "$0の傾向は目標に届く",
     "the trend of $0 reaches the target"},
    {MessageId::kSummaryDiscordTrendFallsShort, "$0の傾向は目標に届かない",
     "the trend of $0 falls short of the target"},
    // $0: the share kept, $1: the number of points.
    {MessageId::kSummaryDiscordDamped, "$1点の傾向は変化の$0に割り引き",
     "a $1-point trend is kept at $0, as similar series did"},
    {MessageId::kSummaryDiscordSlips, "目標を下回る方向への戻りを想定",
     "expected to slip back below the target"},
    {MessageId::kSummaryDiscordReverses, "類似系列の実績から傾向の反転を想定",
     "the trend is expected to turn, as similar series did"},
    {MessageId::kSummaryDiscordTurns, "目標に向かう反転を想定",
     "expected to turn toward the target"},
    {MessageId::kSummaryDiscordProportional,
     "比率で予測 (0は報告単位の半分未満のみ)",
     "projected in proportion (0 only below half a unit)"},
    {MessageId::kSummaryDiscordSpread, "1点のみで傾向なし",
     "one point: no trend of its own"},
    // kpictl batch's columns: English headings are identifiers, so that a
    // program reads the file by name.
    {MessageId::kColumnSeriesId, "系列ID", "series_id"},
    {MessageId::kColumnFiscalYear, "年度", "fiscal_year"},
    {MessageId::kColumnEraYear, "和暦", "era_year"},
    {MessageId::kColumnMedian, "中央値", "median"},
    {MessageId::kColumnLower50, "50%区間下限", "lower_50"},
    {MessageId::kColumnUpper50, "50%区間上限", "upper_50"},
    {MessageId::kColumnLower80, "80%区間下限", "lower_80"},
    {MessageId::kColumnUpper80, "80%区間上限", "upper_80"},
    {MessageId::kColumnLower95, "95%区間下限", "lower_95"},
    {MessageId::kColumnUpper95, "95%区間上限", "upper_95"},
    {MessageId::kColumnAttainmentProbability, "目標達成確率",
     "attainment_probability"},

    // Fan charts (lib/report/fan_chart.h): legend entries and axis titles.
    {MessageId::kChartObserved, "実績値", "observed"},
    {MessageId::kChartProvisional, "実績値 (暫定値)", "observed (provisional)"},
    {MessageId::kChartCarriedOver, "実績値 (据置)", "observed (carried over)"},
    {MessageId::kChartMedian, "予測 (中央値)", "projection (median)"},
    {MessageId::kChartBand, "$0%予測区間", "$0% interval"},
    {MessageId::kChartTarget, "目標", "target"},
    {MessageId::kChartAlternative, "別シナリオ: $0", "other scenario: $0"},
    {MessageId::kChartShockYears, "ショック年", "shock years"},
    {MessageId::kChartAxisYear, "年度", "fiscal year"},
    {MessageId::kChartAxisUnit, "単位: $0", "unit: $0"},
    // The chart's <desc>. $0: the number of observations, $1, $2: the first
    // and last fiscal years (FiscalYearInText).
    {MessageId::kChartDescObserved, "実績値$0点 ($1〜$2)。",
     "$0 observations ($1 to $2)."},
    // $0: the last projected year, $1: the median with its unit, $2, $3:
    // the 80% interval's ends.
    {MessageId::kChartDescProjected,
     "$0の予測中央値は$1、80%予測区間は$2〜$3。",
     "Projected median for $0: $1, 80% interval $2 to $3."},
    // $0: the target year, $1: the target with its unit, $2: the
    // probability, $3: the likelihood words.
    {MessageId::kChartDescTarget, "$0の目標$1の達成確率は$2 ($3)。",
     "Target $1 in $0: probability of meeting it $2 ($3)."},
    // $0: the scenario's name, $1: its median in the last year.
    {MessageId::kChartDescAlternative, "別シナリオ ($0) の中央値は$1。",
     "Other scenario ($0): median $1."},
    {MessageId::kScenarioRecovery, "ショック前の傾向へ回復",
     "recovery to the pre-shock path"},
    {MessageId::kScenarioAsData, "ショック年もデータとして使用",
     "shock years as data"},
    {MessageId::kScenarioBlend, "2つのシナリオの混合", "blend of both"},

    // The strategy report (lib/report/report.h). $0: the strategy's name,
    // $1: the evaluation's fiscal year (FiscalYearLabel).
    {MessageId::kReportTitle, "$0 KPI評価報告 $1", "$0: KPI report, $1"},
    // $0: the date (FormatDate).
    {MessageId::kReportPrepared, "作成日: $0", "Prepared on $0"},
    {MessageId::kReportSummary, "概要", "Summary"},
    {MessageId::kReportStatusCounts, "進捗区分別のKPI数", "KPIs by status"},
    {MessageId::kReportLowestFirst, "達成確率の低い順",
     "By probability of meeting the target, lowest first"},
    // $0: the goal's number.
    {MessageId::kReportGoal, "基本目標$0", "Goal $0"},
    // $0: the evaluation's fiscal year (FiscalYearInText).
    {MessageId::kReportCityRating, "市の評価 ($0)", "City's rating ($0)"},
    {MessageId::kReportSuggestedRating, "達成確率からの提案",
     "Suggested from the likelihoods"},
    // $0: the mean probability, $1: the number of KPIs it is taken over.
    {MessageId::kReportRuleBasis, "KPI $1件の達成確率の平均 $0",
     "mean probability of meeting the targets of $1 KPI(s): $0"},
    {MessageId::kReportRule,
     "提案の規則: 施策のKPIの達成確率の平均 "
     "(達成が見込まれる目標の割合の期待値) "
     "が66%以上なら「継続」(現状の取組で目標に届く見込み)、33%超66%未満なら"
     "「継続発展」(取組の拡充が必要)、33%以下なら「見直し」("
     "現状の取組では目標に"
     "届かない見込み)。目標のないKPIは数えません。",
     "Suggestion rule: the mean of the probabilities that the measure's KPIs "
     "meet their targets (the expected share of its targets met): 66% or "
     "more suggests continue (the current efforts reach the targets), more "
     "than 33% and less than 66% continue and expand (more effort needed), "
     "33% or less revise (the current efforts fall short). KPIs without a "
     "target are not counted."},
    // $0: measures where both agree, $1: measures with both.
    {MessageId::kReportAgreement,
     "市の評価と提案が一致した施策: $1施策中$0施策",
     "The city's rating and the suggestion agree for $0 of $1 measures"},
    {MessageId::kReportNoRating, "評価なし", "no rating"},
    {MessageId::kReportNoSuggestion, "提案なし (達成確率のあるKPIがない)",
     "no suggestion (no KPI with a probability)"},
    {MessageId::kReportProjected, "予測 (中央値、80%予測区間)",
     "projected (median, 80% interval)"},
    {MessageId::kReportProbability, "達成確率", "probability of meeting it"},
    {MessageId::kReportExplanation, "説明", "explanation"},
    {MessageId::kReportWarnings, "注意", "warnings"},
    {MessageId::kReportCityAssessment, "KPIの現状認識 (市)",
     "The city's assessment of its KPIs"},
    {MessageId::kReportCityViewpoint, "評価の視点 (市)",
     "The city's viewpoint"},
    // $0: why (the error's message).
    {MessageId::kReportNotProjected, "予測できません: $0",
     "cannot be projected: $0"},
    // $0: a count of KPIs.
    {MessageId::kReportCount, "$0件", "$0"},
    {MessageId::kReportMeasure, "施策", "measure"},
    // $0: the KPI's name.
    {MessageId::kReportChart, "$0の推移と予測", "$0: observed and projected"},
    {MessageId::kReportProgressStatus, "進捗区分", "status"},
    {MessageId::kReportCityOutlook, "今後の考え方 (市)", "The city's outlook"},
    // $0: the calibration's version, $1: KPIs, $2: rolling windows, $3:
    // forecasts checked.
    {MessageId::kSkillHeading,
     "較正 $0 の実績 (保存済みKPI $1件の履歴、移動窓 $2、検証した予測 $3件)",
     "How calibration $0 did on the store's history ($1 KPIs, $2 rolling "
     "windows, $3 forecasts checked)"},
    // $0: the KPIs scored.
    {MessageId::kSkillSampled,
     "KPIが多いため、均等に選んだ$0件で評価しました。",
     "The store holds more KPIs; $0 of them, spread evenly, were scored."},
    {MessageId::kSkillColumnMeasure, "指標", "measure"},
    {MessageId::kSkillColumnMeasured, "実測", "measured"},
    {MessageId::kSkillColumnIdeal, "理想", "ideal"},
    {MessageId::kSkillCoverage80, "80%予測区間に入った割合",
     "share inside the 80% interval"},
    {MessageId::kSkillCoverage95, "95%予測区間に入った割合",
     "share inside the 95% interval"},
    {MessageId::kSkillBrier, "ブライアスコア (到達確率の誤差)",
     "Brier score (error of the probabilities)"},
    {MessageId::kSkillMase, "MASE (中央値の誤差÷平均年変化)",
     "MASE (median error / mean yearly change)"},
    {MessageId::kSkillLowerIsBetter, "低いほど良い", "lower is better"},
    {MessageId::kSkillReading,
     "各KPIの過去の年を隠して2・3・5・7年分から1〜6年先を予測し、実績と比べた"
     "結果です。区間に入った割合が理想より低ければ予測区間は狭すぎ、高ければ広"
     "すぎます。",
     "Each KPI's later years were hidden, projected from 2, 3, 5 and 7 years "
     "before them (1 to 6 years ahead) and compared with what was measured. "
     "A share below the ideal means the intervals are too narrow, above it "
     "too wide."},
    {MessageId::kCalibrateColumnNew, "新しい較正", "new"},
    {MessageId::kCalibrateColumnInUse, "使用中の較正", "in use"},
    {MessageId::kCalibrateScore, "スコア (SQL + 8×Brier)",
     "score (SQL + 8 x Brier)"},
    // $0: the new calibration's version, $1: the stored version number.
    {MessageId::kCalibrateSwitched,
     "交差検証で使用中の較正より良かったため、$0 (第$1版) に切り替えました。"
     "全てのレプリカが従います。",
     "Switched to $0 (version $1): it scored better out of sample than the "
     "calibration in use. Every replica follows."},
    // $0: the calibration kept.
    {MessageId::kCalibrateKeptNotBetter,
     "新しい較正は交差検証で良くならなかったため、$0 を使い続けます。",
     "Keeping $0: the new calibration did not score better out of sample."},
    {MessageId::kCalibrateKeptBuiltIn,
     "KPIの数が少なく、組み込みの較正 $0 から離れる根拠がないため、そのまま"
     "使い続けます。",
     "Keeping the built-in calibration $0: the store's KPIs give no reason "
     "to depart from it."},
    {MessageId::kCalibrateValidateOnly,
     "--validate_only: 何も保存・切替していません。",
     "--validate_only: nothing stored or switched."},
    // $0: the strength in pseudo-series.
    {MessageId::kCalibrateShrinkage,
     "組み込みの較正への縮小: 擬似系列$0件分 (交差検証で選択)",
     "Shrunk toward the built-in calibration by $0 pseudo-series (chosen by "
     "cross-validation)"},
    {MessageId::kCalibrateShrinkageInfinite,
     "組み込みの較正への縮小: 完全 (組み込みのまま)",
     "Shrunk toward the built-in calibration completely (kept as it is)"},
    // $0: the KPIs left out.
    {MessageId::kCalibrateSkipped, "観測が2点未満のKPI $0件は使っていません。",
     "$0 KPIs with fewer than two points were not used."},
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
  return LikelihoodMessage(forecast::LikelihoodOf(probability));
}

MessageId LikelihoodMessage(forecast::Likelihood likelihood) {
  using forecast::Likelihood;
  switch (likelihood) {
    case Likelihood::kVirtuallyCertain:
      return MessageId::kLikelihoodVirtuallyCertain;
    case Likelihood::kVeryLikely:
      return MessageId::kLikelihoodVeryLikely;
    case Likelihood::kLikely:
      return MessageId::kLikelihoodLikely;
    case Likelihood::kAboutAsLikelyAsNot:
      return MessageId::kLikelihoodAboutAsLikelyAsNot;
    case Likelihood::kUnlikely:
      return MessageId::kLikelihoodUnlikely;
    case Likelihood::kVeryUnlikely:
      return MessageId::kLikelihoodVeryUnlikely;
    case Likelihood::kExceptionallyUnlikely:
      return MessageId::kLikelihoodExceptionallyUnlikely;
    case Likelihood::kUnspecified:
      break;
  }
  return MessageId::kLikelihoodNoTarget;
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

std::string FiscalYearInText(int fiscal_year, Language language) {
  if (language == Language::kEn) return absl::StrCat("FY", fiscal_year);
  return fiscal::FormatFiscalYear(fiscal_year);
}

std::string FormatNumber(double value) {
  if (std::isnan(value)) return "nan";
  if (std::isinf(value)) return value > 0 ? "inf" : "-inf";
  const double magnitude = std::fabs(value);
  int decimals = 0;
  if (magnitude > 0) {
    decimals = std::clamp(
        3 - static_cast<int>(std::floor(std::log10(magnitude))), 0, 3);
  }
  std::string text = absl::StrFormat("%.*f", decimals, magnitude);
  if (text.find('.') != std::string::npos) {
    text.erase(text.find_last_not_of('0') + 1);
    if (text.back() == '.') text.pop_back();
  }
  const size_t dot = text.find('.');
  std::string integer = text.substr(0, dot);
  const std::string fraction = dot == std::string::npos ? "" : text.substr(dot);
  for (int i = static_cast<int>(integer.size()) - 3; i > 0; i -= 3) {
    integer.insert(i, ",");
  }
  const bool negative = value < 0 && text != "0";
  return absl::StrCat(negative ? "-" : "", integer, fraction);
}

std::string FormatSignedNumber(double value) {
  const std::string text = FormatNumber(value);
  if (text == "0" || text[0] == '-' || text == "nan") return text;
  return absl::StrCat("+", text);
}

std::string FormatProbability(double probability) {
  if (std::isnan(probability)) return "nan";
  if (probability <= 0) return "0%";
  if (probability >= 1) return "100%";
  const double percent = std::round(probability * 100);
  if (percent < 1) return "<1%";
  if (percent > 99) return ">99%";
  return absl::StrFormat("%.0f%%", percent);
}

std::string FormatValueWithUnit(double value, std::string_view unit) {
  const bool spaced =
      !unit.empty() && absl::ascii_isalpha(static_cast<unsigned char>(unit[0]));
  return absl::StrCat(FormatNumber(value), spaced ? " " : "",
                      absl::string_view(unit.data(), unit.size()));
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
