// The explanation the engine attaches to every projection: the scenario
// rule for shock years (recovery or a blend), the trend beside the
// projection, the calibration's damping, and why status and probability
// differ.

#include "lib/forecast/explain.h"

#include <cmath>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "lib/base/status_matchers.h"
#include "lib/forecast/embedded_calibration.h"
#include "lib/forecast/engine.h"
#include "tests/forecast/test_series.h"

namespace kpi::forecast {
namespace {

using domain::Direction;
using domain::ValueDomain;
using ::kpi::testing::IsOk;
using ::testing::DoubleNear;
using ::testing::ElementsAre;

TEST(ScenarioRuleTest, UnfavourableShocksWithEnoughPointsAssumeRecovery) {
  SeriesInput in = Series(
      {{2016, 100}, {2017, 103}, {2018, 106}, {2019, 109}, {2020, 60}}, 2024);
  in.target_value = 120;
  in.shock_fiscal_years = {2020, 2021};
  absl::StatusOr<ScenarioProjections> p = DefaultEngine().ProjectScenarios(in);
  ASSERT_THAT(p, IsOk());
  const ScenarioExplanation& sc = p->projection.explanation.scenario;
  EXPECT_EQ(sc.rule, ScenarioRule::kRecovery);
  EXPECT_EQ(p->projection.shock_treatment, ShockTreatment::kExclude);
  EXPECT_THAT(sc.shock_fiscal_years, ElementsAre(2020, 2021));
  EXPECT_EQ(sc.points_without_shocks, 4);
  EXPECT_THAT(sc.left_out_fiscal_years, ElementsAre(2020));
  EXPECT_TRUE(sc.latest_left_out);
  EXPECT_FALSE(sc.shock_favourable);
  ASSERT_TRUE(p->alternative.has_value());
  EXPECT_EQ(p->alternative->shock_treatment, ShockTreatment::kInclude);
  EXPECT_EQ(p->alternative->explanation.scenario.rule,
            ScenarioRule::kComparison);
  // Both probabilities, whichever the headline.
  ASSERT_EQ(sc.outcomes.size(), 2u);
  EXPECT_EQ(sc.outcomes[0].shock_treatment, ShockTreatment::kExclude);
  EXPECT_EQ(sc.outcomes[0].weight, 1);
  EXPECT_EQ(sc.outcomes[0].attainment_probability,
            p->projection.attainment_probability);
  EXPECT_EQ(sc.outcomes[1].weight, 0);
  EXPECT_EQ(sc.outcomes[1].attainment_probability,
            p->alternative->attainment_probability);
  // Project() gives the same headline.
  absl::StatusOr<Projection> headline = DefaultEngine().Project(in);
  ASSERT_THAT(headline, IsOk());
  EXPECT_EQ(headline->projected_value, p->projection.projected_value);
}

// Asahikawa's airport: excluding FY2020-21 leaves one point, FY2018.
TEST(ScenarioRuleTest, OnePointLeftBlendsBothScenariosHalfAndHalf) {
  SeriesInput in = Series({{2018, 113.5}, {2021, 45.9}}, 2024);
  in.target_value = 145;
  in.shock_fiscal_years = {2020, 2021};
  absl::StatusOr<ScenarioProjections> p = DefaultEngine().ProjectScenarios(in);
  ASSERT_THAT(p, IsOk());
  const Projection& blend = p->projection;
  const ScenarioExplanation& sc = blend.explanation.scenario;
  EXPECT_EQ(sc.rule, ScenarioRule::kBlendFewPoints);
  EXPECT_EQ(blend.shock_treatment, ShockTreatment::kBlend);
  EXPECT_EQ(sc.recovery_weight, 0.5);
  EXPECT_EQ(sc.points_without_shocks, 1);
  EXPECT_TRUE(sc.latest_left_out);
  ASSERT_EQ(sc.outcomes.size(), 2u);
  // The blend's distribution is the mixture, P(y <= v) the mean of the
  // two, then made coherent along the path (path.h): P(met) stays between
  // the two and near their mean.
  const double mean = 0.5 * sc.outcomes[0].attainment_probability +
                      0.5 * sc.outcomes[1].attainment_probability;
  EXPECT_NEAR(blend.attainment_probability, mean, 0.02);
  EXPECT_GT(blend.attainment_probability,
            sc.outcomes[1].attainment_probability);
  EXPECT_LT(blend.attainment_probability,
            sc.outcomes[0].attainment_probability);
  // The recovery part alone repeats FY2018; the blend does not.
  EXPECT_DOUBLE_EQ(sc.outcomes[0].projected_value, 113.5);
  EXPECT_LT(blend.projected_value, 113.5);
  EXPECT_GT(blend.projected_value, sc.outcomes[1].projected_value);
  for (const YearProjection& y : blend.years) {
    EXPECT_LE(y.interval_95.lower, y.interval_80.lower);
    EXPECT_LE(y.interval_80.lower, y.median);
    EXPECT_LE(y.median, y.interval_80.upper);
    EXPECT_LE(y.interval_80.upper, y.interval_95.upper);
  }
  EXPECT_EQ(p->alternative->shock_treatment, ShockTreatment::kInclude);
  EXPECT_EQ(blend.points_used, 2);
}

// tourist-repeat-rate: 58 in FY2018, 77.2 in the pandemic's FY2021.
TEST(ScenarioRuleTest, FavourableShockYearsAreNotHidden) {
  SeriesInput in =
      Series({{2015, 55}, {2016, 56}, {2017, 57}, {2018, 58}, {2021, 77.2}},
             2024, ValueDomain::kPercent);
  in.target_value = 66;
  in.shock_fiscal_years = {2020, 2021};
  absl::StatusOr<ScenarioProjections> p = DefaultEngine().ProjectScenarios(in);
  ASSERT_THAT(p, IsOk());
  EXPECT_EQ(p->projection.explanation.scenario.rule,
            ScenarioRule::kBlendFavourable);
  EXPECT_TRUE(p->projection.explanation.scenario.shock_favourable);
  EXPECT_EQ(p->projection.status, ProgressStatus::kAchieved);
  // For a lower-is-better KPI the same values are unfavourable.
  in.direction = Direction::kDecrease;
  in.target_value = 50;
  p = DefaultEngine().ProjectScenarios(in);
  ASSERT_THAT(p, IsOk());
  EXPECT_EQ(p->projection.explanation.scenario.rule, ScenarioRule::kRecovery);
}

TEST(ScenarioRuleTest, ARequestedTreatmentIsFollowed) {
  SeriesInput in = Series({{2018, 113.5}, {2021, 45.9}}, 2024);
  in.target_value = 145;
  in.shock_fiscal_years = {2020, 2021};
  for (ShockTreatment t : {ShockTreatment::kExclude, ShockTreatment::kInclude,
                           ShockTreatment::kBlend}) {
    in.shock_treatment = t;
    absl::StatusOr<ScenarioProjections> p =
        DefaultEngine().ProjectScenarios(in);
    ASSERT_THAT(p, IsOk());
    EXPECT_EQ(p->projection.shock_treatment, t);
    EXPECT_EQ(p->projection.explanation.scenario.rule,
              ScenarioRule::kRequested);
  }
  in.shock_fiscal_years.clear();
  absl::StatusOr<ScenarioProjections> none =
      DefaultEngine().ProjectScenarios(in);
  ASSERT_THAT(none, IsOk());
  EXPECT_EQ(none->projection.explanation.scenario.rule,
            ScenarioRule::kNoShocks);
  EXPECT_TRUE(none->projection.explanation.scenario.outcomes.empty());
  EXPECT_FALSE(none->alternative.has_value());
}

TEST(TrendComparisonTest, ContinuesTheLeastSquaresSlopeOnTheModelScale) {
  // Exactly 10% a year: the trend continued is 121 * 1.1^4 in FY2024.
  SeriesInput in = Series({{2018, 100}, {2019, 110}, {2020, 121}}, 2024);
  absl::StatusOr<Projection> p = DefaultEngine().Project(in);
  ASSERT_THAT(p, IsOk());
  ASSERT_TRUE(p->explanation.trend.has_value());
  const TrendComparison& t = *p->explanation.trend;
  EXPECT_EQ(t.first_fiscal_year, 2018);
  EXPECT_EQ(t.last_fiscal_year, 2020);
  EXPECT_EQ(t.points, 3);
  EXPECT_EQ(t.horizon_years, 4);
  const double extrapolated = 121 * std::pow(1.1, 4);
  EXPECT_NEAR(t.extrapolated_value, extrapolated, 1e-9);
  EXPECT_NEAR(t.change_per_year, (extrapolated - 121) / 4, 1e-9);
  EXPECT_NEAR(t.share_kept,
              std::log(p->projected_value / 121) / (4 * std::log(1.1)), 1e-9);
  EXPECT_EQ(p->explanation.calibration_version, "m3-train-v3");
  // One point: no trend.
  p = DefaultEngine().Project(Series({{2020, 50}}, 2024));
  ASSERT_THAT(p, IsOk());
  EXPECT_FALSE(p->explanation.trend.has_value());
}

// Without a calibration row the location is the posterior drift, whose mean
// for a straight window is sum(steps) / (kappa0 + span): the share kept is
// span / (kappa0 + span).
TEST(TrendComparisonTest, CalibratedShareOfThePriorOnlyModelIsItsShrinkage) {
  absl::StatusOr<Calibration> c =
      ParseCalibration("version prior-test\nparam kappa0 2\n");
  ASSERT_THAT(c, IsOk());
  EXPECT_NEAR(CalibratedTrendShare(*c, {2018, 2019, 2020}, 4), 2.0 / 4, 1e-6);
  EXPECT_NEAR(CalibratedTrendShare(*c, {2014, 2016, 2018, 2020}, 4), 6.0 / 8,
              1e-6);
  EXPECT_EQ(CalibratedTrendShare(*c, {2020}, 4), 1);
}

// The projection reports the shipped calibration's share for its own
// window: 3 consecutive years, 4 years ahead.
TEST(TrendComparisonTest, ReportsTheShippedCalibrationsShare) {
  absl::StatusOr<Calibration> c = ParseCalibration(absl::string_view(
      EmbeddedCalibrationText().data(), EmbeddedCalibrationText().size()));
  ASSERT_THAT(c, IsOk());
  SeriesInput in = Series({{2018, 100}, {2019, 110}, {2020, 121}}, 2024);
  absl::StatusOr<Projection> p = DefaultEngine().Project(in);
  ASSERT_THAT(p, IsOk());
  const double share = CalibratedTrendShare(*c, {2018, 2019, 2020}, 4);
  EXPECT_EQ(p->explanation.trend->calibrated_share, share);
  // A short trend is damped, not reversed and not amplified.
  EXPECT_GT(share, 0.0);
  EXPECT_LT(share, 1.0);
}

Projection Judged(ProgressStatus status, double probability) {
  Projection p;
  p.target_value = 10;
  p.direction = Direction::kIncrease;
  p.status = status;
  p.attainment_probability = probability;
  TrendComparison t;
  t.extrapolated_value = 12;  // the trend meets the target
  p.explanation.trend = t;
  return p;
}

TEST(DiscordanceTest, OnlyWhenStatusAndProbabilityPointDifferentWays) {
  EXPECT_EQ(FindDiscordance(Judged(ProgressStatus::kOnTrack, 0.6)),
            Discordance::kNone);
  EXPECT_EQ(FindDiscordance(Judged(ProgressStatus::kOnTrack, 0.3)),
            Discordance::kCalibration);
  // "50%" on screen never contradicts.
  EXPECT_EQ(FindDiscordance(Judged(ProgressStatus::kAchieved, 0.497)),
            Discordance::kNone);
  EXPECT_EQ(FindDiscordance(Judged(ProgressStatus::kAccelerationNeeded, 0.1)),
            Discordance::kNone);
  EXPECT_EQ(FindDiscordance(Judged(ProgressStatus::kAccelerationNeeded, 0.9)),
            Discordance::kNone);
  EXPECT_EQ(FindDiscordance(Judged(ProgressStatus::kLimitedProgress, 0.2)),
            Discordance::kNone);
  // Limited progress at P > 0.5 with a trend that reaches the target: the
  // recent trend differs from the pace since the base year.
  EXPECT_EQ(FindDiscordance(Judged(ProgressStatus::kLimitedProgress, 0.7)),
            Discordance::kTrendPeriod);
  Projection short_trend = Judged(ProgressStatus::kOnTrack, 0.3);
  short_trend.explanation.trend->extrapolated_value = 9;
  EXPECT_EQ(FindDiscordance(short_trend), Discordance::kTrendPeriod);
  Projection no_target = Judged(ProgressStatus::kOnTrack, 0.0);
  no_target.target_value.reset();
  EXPECT_EQ(FindDiscordance(no_target), Discordance::kNone);
}

TEST(DiscordanceTest, ScenarioProportionalAndSpread) {
  Projection left_out = Judged(ProgressStatus::kAchieved, 0.2);
  left_out.explanation.scenario.latest_left_out = true;
  EXPECT_EQ(FindDiscordance(left_out), Discordance::kScenario);

  Projection zero = Judged(ProgressStatus::kOnTrack, 0.05);
  zero.target_value = 0;
  zero.direction = Direction::kDecrease;
  zero.value_domain = ValueDomain::kNonNegative;
  EXPECT_EQ(FindDiscordance(zero), Discordance::kProportional);

  Projection one_point = Judged(ProgressStatus::kDeteriorating, 0.6);
  one_point.explanation.trend.reset();
  EXPECT_EQ(FindDiscordance(one_point), Discordance::kSpread);
}

TEST(DiscordanceTest, TheEngineFindsItForTheSurveyAndTheRecentTrend) {
  // The README's survey: on track, but most outcomes fall short.
  SeriesInput survey = Series({{2015, 55.5}, {2017, 58.1}, {2019, 59.9}}, 2024,
                              ValueDomain::kPercent);
  survey.target_value = 65;
  absl::StatusOr<Projection> p = DefaultEngine().Project(survey);
  ASSERT_THAT(p, IsOk());
  EXPECT_EQ(p->status, ProgressStatus::kOnTrack);
  EXPECT_LT(p->attainment_probability, 0.5);
  EXPECT_EQ(p->explanation.discordance, Discordance::kCalibration);
  EXPECT_EQ(p->explanation.likelihood, LikelihoodOf(p->attainment_probability));
}

TEST(LikelihoodTest, IpccScale) {
  EXPECT_EQ(LikelihoodOf(1.0), Likelihood::kVirtuallyCertain);
  EXPECT_EQ(LikelihoodOf(0.99), Likelihood::kVirtuallyCertain);
  EXPECT_EQ(LikelihoodOf(0.95), Likelihood::kVeryLikely);
  EXPECT_EQ(LikelihoodOf(0.66), Likelihood::kLikely);
  EXPECT_EQ(LikelihoodOf(0.5), Likelihood::kAboutAsLikelyAsNot);
  EXPECT_EQ(LikelihoodOf(0.33), Likelihood::kUnlikely);
  EXPECT_EQ(LikelihoodOf(0.10), Likelihood::kVeryUnlikely);
  EXPECT_EQ(LikelihoodOf(0.0), Likelihood::kExceptionallyUnlikely);
}

}  // namespace
}  // namespace kpi::forecast
