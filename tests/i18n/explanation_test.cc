#include "lib/i18n/explanation.h"

#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace kpi::i18n {
namespace {

using forecast::Discordance;
using forecast::ProgressStatus;
using forecast::Projection;
using forecast::ScenarioRule;
using forecast::ShockTreatment;
using ::testing::HasSubstr;
using ::testing::Not;

// The README's survey (55.5, 58.1, 59.9 every other year from FY2015,
// target 65% in FY2024) as the engine explains it.
Projection Survey() {
  Projection p;
  p.id = "survey";
  p.unit = "%";
  p.target_value = 65;
  p.target_fiscal_year = 2024;
  p.value_domain = domain::ValueDomain::kPercent;
  forecast::YearProjection y;
  y.fiscal_year = 2024;
  y.median = 61;
  y.interval_80 = {55.77, 65.69};
  p.years.push_back(y);
  p.projected_value = 61;
  p.attainment_probability = 0.1353;
  p.status = ProgressStatus::kOnTrack;
  p.progress = {2015, 55.5, 2019, 59.9, 1.0556, 1.1, 1.087};
  p.fiscal_years_used = {2015, 2017, 2019};
  p.points_used = 3;
  forecast::TrendComparison t;
  t.first_fiscal_year = 2015;
  t.last_fiscal_year = 2019;
  t.points = 3;
  t.extrapolated_value = 65.18;
  t.change_per_year = 1.056;
  t.horizon_years = 5;
  t.share_kept = 0.2;
  t.calibrated_share = 0.04;
  p.explanation.trend = t;
  p.explanation.scenario.rule = ScenarioRule::kNoShocks;
  p.explanation.likelihood = forecast::Likelihood::kUnlikely;
  p.explanation.discordance = Discordance::kCalibration;
  p.explanation.calibration_version = "m3-train-v2";
  return p;
}

TEST(ExplanationTest, SurveyInEnglish) {
  EXPECT_EQ(
      ExplanationText(Survey(), Language::kEn),
      "The projection for FY2024 (R6) is 61% (median; 80% interval 55.77 to "
      "65.69). The trend of the 3 points used (FY2015 to FY2019, +1.056 a "
      "year), continued, would reach 65.18% in FY2024. The median moves 20% "
      "as far: in the calibration (m3-train-v2), windows of 3 points kept 4% "
      "of a steady trend over 5 years. The target of 65% for FY2024 needs "
      "+1.056 a year from 55.5% in FY2015; +1.1 a year was observed, to 59.9% "
      "in FY2019 (status: on track). The probability of meeting the target is "
      "14%: unlikely. Status and probability differ because the status "
      "assumes the observed pace continues in full, while the projection, as "
      "similar series did, keeps 20% of a trend of 3 points, so most outcomes "
      "fall short.");
  EXPECT_EQ(ExplanationSummary(Survey(), Language::kEn),
            "unlikely (14%); a 3-point trend is kept at 20%, as similar "
            "series did");
}

TEST(ExplanationTest, SurveyInJapanese) {
  EXPECT_EQ(
      ExplanationText(Survey(), Language::kJa),
      "令和6年度 (FY2024)の予測値 (中央値) は61%、80%予測区間は55.77〜65.69で"
      "す。使用した3点 (平成27年度〜令和元年度) の傾向 (年+1.056) をそのまま延"
      "ばすと、令和6年度には65.18%になります。予測の中央値の変化は、その傾向の"
      "20%です。較正 (m3-train-v2) では、3点の系列は5年先までに安定した傾向の"
      "4%を保ちました。令和6年度の目標65%には、平成27年度の55.5%から年+1.056"
      "の変化が必要です。令和元年度の59.9%までの実績は年+1.1でした (進捗区分: "
      "順調)。目標を達成する確率は14% (可能性が低い) です。進捗区分と確率が食"
      "い違うのは、進捗区分が実績のペースがそのまま続くとみなすのに対し、予測"
      "は3点の傾向を類似系列の実績に基づいて割り引き (変化の20%)、目標に届か"
      "ない結果が多くなるためです。");
  EXPECT_EQ(ExplanationSummary(Survey(), Language::kJa),
            "可能性が低い (14%)、3点の傾向は変化の20%に割り引き");
}

TEST(ExplanationTest, ABlendStatesBothScenariosAndTheirWeights) {
  Projection p = Survey();
  p.unit = "万人";
  p.status = ProgressStatus::kDeteriorating;
  p.explanation.discordance = Discordance::kNone;
  p.shock_treatment = ShockTreatment::kBlend;
  forecast::ScenarioExplanation& sc = p.explanation.scenario;
  sc.rule = ScenarioRule::kBlendFewPoints;
  sc.shock_fiscal_years = {2020, 2021};
  sc.points_without_shocks = 1;
  sc.recovery_weight = 0.5;
  sc.outcomes = {{ShockTreatment::kExclude, 0.5, 113.5, 0.2551, 1},
                 {ShockTreatment::kInclude, 0.5, 50.71, 0.0301, 2}};
  const std::string en = ExplanationText(p, Language::kEn);
  EXPECT_THAT(en, HasSubstr("Leaving out the shock years (FY2020 to FY2021) "
                            "would leave 1 point(s), so two scenarios are "
                            "blended: a return to the pre-shock path (weight "
                            "50%; P(met) 26%) and the shock years as data "
                            "(weight 50%; P(met) 3%)."));
  // A blend follows two paths: no single share of the trend.
  EXPECT_THAT(en, Not(HasSubstr("moves 20% as far")));
  EXPECT_EQ(
      ExplanationSummary(p, Language::kJa),
      "可能性が低い (14%)、回復 (達成確率26%) とショック込み (達成確率3%) "
      "の混合");
  EXPECT_THAT(ExplanationText(p, Language::kJa),
              HasSubstr("ショック年 (令和2年度〜令和3年度) を除くと観測点が1点"
                        "しか残らないため"));
}

TEST(ExplanationTest, NoTargetNoProbability) {
  Projection p = Survey();
  p.target_value.reset();
  p.explanation.discordance = Discordance::kNone;
  p.explanation.likelihood = forecast::Likelihood::kUnspecified;
  const std::string en = ExplanationText(p, Language::kEn);
  EXPECT_THAT(en, HasSubstr("There is no target"));
  EXPECT_THAT(en, Not(HasSubstr("probability of meeting the target is")));
  EXPECT_EQ(ExplanationSummary(p, Language::kEn),
            "no target; median 61% in FY2024; trend of FY2015 to FY2019 "
            "reaches 65.18% in FY2024");
}

// Every combination renders with every placeholder filled, a one-line
// summary, and the reason sentence exactly when there is a discordance.
TEST(ExplanationTest, EveryDiscordanceAndStatusRendersCompletely) {
  const Discordance kinds[] = {
      Discordance::kNone,         Discordance::kScenario,
      Discordance::kTrendPeriod,  Discordance::kCalibration,
      Discordance::kProportional, Discordance::kSpread};
  const ProgressStatus statuses[] = {
      ProgressStatus::kAchieved,           ProgressStatus::kOnTrack,
      ProgressStatus::kAccelerationNeeded, ProgressStatus::kLimitedProgress,
      ProgressStatus::kDeteriorating,      ProgressStatus::kInsufficientData};
  for (Language language : {Language::kJa, Language::kEn}) {
    for (Discordance d : kinds) {
      for (ProgressStatus s : statuses) {
        for (double share : {0.4, -0.3}) {
          Projection p = Survey();
          p.status = s;
          p.explanation.discordance = d;
          p.explanation.trend->share_kept = share;
          const std::string text = ExplanationText(p, language);
          const std::string summary = ExplanationSummary(p, language);
          EXPECT_EQ(text.find('$'), std::string::npos) << text;
          EXPECT_EQ(summary.find('$'), std::string::npos) << summary;
          EXPECT_EQ(summary.find('\n'), std::string::npos);
          const bool why = text.find(language == Language::kJa
                                         ? "進捗区分と確率が食い違うのは"
                                         : "Status and probability differ") !=
                           std::string::npos;
          EXPECT_EQ(why, d != Discordance::kNone)
              << static_cast<int>(d) << " " << text;
        }
      }
    }
  }
}

}  // namespace
}  // namespace kpi::i18n
