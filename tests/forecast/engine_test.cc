#include "lib/forecast/engine.h"

#include <cmath>
#include <cstring>
#include <limits>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "lib/base/field_violations.h"
#include "lib/base/status_matchers.h"
#include "lib/domain/validation.h"
#include "lib/forecast/check_finite.h"
#include "tests/forecast/test_series.h"

namespace kpi::forecast {
namespace {

using domain::Direction;
using domain::KpiKind;
using domain::ObservationStatus;
using domain::ValueDomain;
using ::kpi::testing::IsOk;
using ::kpi::testing::StatusIs;
using ::testing::Contains;
using ::testing::ElementsAre;
using ::testing::Field;
using ::testing::HasSubstr;

bool HasWarning(const Projection& p, WarningCode code) {
  for (const Warning& w : p.warnings) {
    if (w.code == code) return true;
  }
  return false;
}

void ExpectOrdered(const YearProjection& y) {
  EXPECT_LE(y.interval_95.lower, y.interval_80.lower);
  EXPECT_LE(y.interval_80.lower, y.interval_50.lower);
  EXPECT_LE(y.interval_50.lower, y.median);
  EXPECT_LE(y.median, y.interval_50.upper);
  EXPECT_LE(y.interval_50.upper, y.interval_80.upper);
  EXPECT_LE(y.interval_80.upper, y.interval_95.upper);
}

TEST(EngineTest, ProjectsEveryYearToTheTarget) {
  SeriesInput in = Series(
      {{2016, 100}, {2017, 104}, {2018, 108}, {2019, 113}, {2020, 117}}, 2024);
  in.target_value = 130;
  absl::StatusOr<Projection> p = DefaultEngine().Project(in);
  ASSERT_THAT(p, IsOk());
  ASSERT_EQ(p->years.size(), 4u);
  EXPECT_EQ(p->years.front().fiscal_year, 2021);
  EXPECT_EQ(p->years.back().fiscal_year, 2024);
  for (const YearProjection& y : p->years) ExpectOrdered(y);
  // A steady rise of about 4% a year continues (117 * 1.04^4 = 137), damped
  // as rises like it were in the training windows, so that 130 is likely
  // but not certain.
  EXPECT_GT(p->projected_value, 125);
  EXPECT_LT(p->projected_value, 145);
  EXPECT_GT(p->attainment_probability, 0.2);
  EXPECT_LT(p->attainment_probability, 0.95);
  EXPECT_EQ(p->points_used, 5);
  EXPECT_EQ(p->status, ProgressStatus::kOnTrack);
  EXPECT_THAT(p->method, HasSubstr("m3-train-v3"));
  // The years widen with the horizon.
  EXPECT_LT(p->years[0].interval_80.upper - p->years[0].interval_80.lower,
            p->years[3].interval_80.upper - p->years[3].interval_80.lower);
}

TEST(EngineTest, QuantilesAndProbabilitiesComeFromOneDistribution) {
  SeriesInput in = Series({{2018, 50}, {2019, 55}, {2020, 53}}, 2023);
  absl::StatusOr<Projection> first = DefaultEngine().Project(in);
  ASSERT_THAT(first, IsOk());
  const YearProjection& y = first->years.back();
  in.probability_thresholds = {y.median, y.interval_80.upper,
                               y.interval_95.lower};
  absl::StatusOr<Projection> p = DefaultEngine().Project(in);
  ASSERT_THAT(p, IsOk());
  EXPECT_THAT(p->years.back().threshold_probabilities,
              ElementsAre(::testing::DoubleNear(0.5, 1e-9),
                          ::testing::DoubleNear(0.1, 1e-9),
                          ::testing::DoubleNear(0.975, 1e-9)));
  EXPECT_TRUE(HasWarning(*p, WarningCode::kFewPoints));
  EXPECT_TRUE(HasWarning(*p, WarningCode::kNoTarget));
}

TEST(EngineTest, DeterministicBitForBit) {
  SeriesInput in = Series({{2015, 3.2}, {2017, 4.1}, {2019, 3.9}, {2021, 5.0}},
                          2026, ValueDomain::kPercent);
  in.target_value = 6;
  absl::StatusOr<Projection> a = DefaultEngine().Project(in);
  absl::StatusOr<Projection> b = DefaultEngine().Project(in);
  ASSERT_THAT(a, IsOk());
  ASSERT_THAT(b, IsOk());
  ASSERT_EQ(a->years.size(), b->years.size());
  for (size_t i = 0; i < a->years.size(); ++i) {
    EXPECT_EQ(
        std::memcmp(&a->years[i].median, &b->years[i].median, sizeof(double)),
        0);
    EXPECT_EQ(std::memcmp(&a->years[i].interval_95, &b->years[i].interval_95,
                          sizeof(Interval)),
              0);
  }
  EXPECT_EQ(a->attainment_probability, b->attainment_probability);
}

TEST(EngineTest, ConstantSeriesStaysPutWithNarrowIntervals) {
  SeriesInput in = Series(
      {{2016, 40}, {2017, 40}, {2018, 40}, {2019, 40}, {2020, 40}}, 2023);
  absl::StatusOr<Projection> p = DefaultEngine().Project(in);
  ASSERT_THAT(p, IsOk());
  EXPECT_NEAR(p->years[0].median, 40, 1.0);
  EXPECT_GT(p->years[0].interval_95.upper, p->years[0].interval_95.lower);
  EXPECT_LT(p->years[0].interval_95.upper - p->years[0].interval_95.lower, 20);
}

TEST(EngineTest, ZerosStayNonNegative) {
  SeriesInput in = Series({{2017, 0}, {2018, 2}, {2019, 0}, {2020, 1}}, 2024);
  in.target_value = 3;
  absl::StatusOr<Projection> p = DefaultEngine().Project(in);
  ASSERT_THAT(p, IsOk());
  for (const YearProjection& y : p->years) {
    ExpectOrdered(y);
    EXPECT_GE(y.interval_95.lower, 0);
    EXPECT_TRUE(std::isfinite(y.interval_95.upper));
  }
  EXPECT_GT(p->attainment_probability, 0.0);
  EXPECT_LT(p->attainment_probability, 0.8);
}

TEST(EngineTest, OnePointStillGivesADistribution) {
  SeriesInput in = Series({{2020, 250}}, 2024);
  in.target_value = 300;
  absl::StatusOr<Projection> p = DefaultEngine().Project(in);
  ASSERT_THAT(p, IsOk());
  const YearProjection& y = p->years.back();
  ExpectOrdered(y);
  EXPECT_GT(y.interval_80.upper - y.interval_80.lower, 10);
  EXPECT_GT(p->attainment_probability, 0.02);
  EXPECT_LT(p->attainment_probability, 0.6);
  EXPECT_EQ(p->status, ProgressStatus::kInsufficientData);
  EXPECT_TRUE(HasWarning(*p, WarningCode::kFewPoints));
}

TEST(EngineTest, TwoPointsAndGaps) {
  SeriesInput two = Series({{2018, 10}, {2020, 12}}, 2024);
  absl::StatusOr<Projection> p = DefaultEngine().Project(two);
  ASSERT_THAT(p, IsOk());
  EXPECT_THAT(p->fiscal_years_used, ElementsAre(2018, 2020));
  EXPECT_EQ(p->years.size(), 4u);
  EXPECT_GT(p->years.back().median, 11);

  // A survey every other year: the steps over two years are two years' worth.
  SeriesInput gaps =
      Series({{2013, 50}, {2015, 52}, {2017, 54.1}, {2019, 56.2}, {2021, 58.5}},
             2025, ValueDomain::kPercent);
  p = DefaultEngine().Project(gaps);
  ASSERT_THAT(p, IsOk());
  EXPECT_EQ(p->points_used, 5);
  EXPECT_GT(p->years.back().median, 58.5);
  EXPECT_LT(p->years.back().median, 64);
}

TEST(EngineTest, TargetAlreadyMet) {
  SeriesInput in =
      Series({{2018, 80}, {2019, 85}, {2020, 90}, {2021, 96}}, 2024);
  in.target_value = 85;
  absl::StatusOr<Projection> p = DefaultEngine().Project(in);
  ASSERT_THAT(p, IsOk());
  EXPECT_EQ(p->status, ProgressStatus::kAchieved);
  EXPECT_GT(p->attainment_probability, 0.85);
}

TEST(EngineTest, DecreasingDirectionCountsTheLowerTail) {
  SeriesInput in =
      Series({{2017, 30}, {2018, 28}, {2019, 27}, {2020, 25}}, 2024);
  in.direction = Direction::kDecrease;
  in.target_value = 22;
  in.probability_thresholds = {22};
  absl::StatusOr<Projection> p = DefaultEngine().Project(in);
  ASSERT_THAT(p, IsOk());
  const YearProjection& y = p->years.back();
  EXPECT_NEAR(y.attainment_probability, 1 - y.threshold_probabilities[0],
              1e-12);
  EXPECT_GT(p->attainment_probability, 0.3);
  EXPECT_LT(p->years.back().median, 24);
  EXPECT_EQ(p->direction, Direction::kDecrease);
  EXPECT_EQ(p->status, ProgressStatus::kOnTrack);
}

// The calibration shifts a window's median by what windows like it did next
// in training (M3's falls often reverted), but never by more than half the
// predicted change: a KPI that falls steadily is projected below its last
// value every year and lower at the end of the horizon than at its start,
// from two points or from seven.
TEST(EngineTest, SteadilyFallingSeriesProjectsFalling) {
  const std::vector<std::vector<std::pair<int, double>>> windows = {
      {{2019, 100}, {2020, 95}},
      {{2018, 100}, {2019, 97}, {2020, 94}},
      {{2016, 100}, {2017, 98}, {2018, 96}, {2019, 94}, {2020, 92}},
      {{2014, 50},
       {2015, 48},
       {2016, 47},
       {2017, 45},
       {2018, 44},
       {2019, 42},
       {2020, 41}}};
  for (const auto& points : windows) {
    absl::StatusOr<Projection> p =
        DefaultEngine().Project(Series(points, 2026));
    ASSERT_THAT(p, IsOk());
    for (const YearProjection& y : p->years) {
      EXPECT_LT(y.median, points.back().second)
          << points.size() << " points, FY" << y.fiscal_year;
    }
    EXPECT_LT(p->years.back().median, p->years.front().median)
        << points.size() << " points";
  }
}

TEST(EngineTest, PercentStaysWithinBounds) {
  SeriesInput in = Series({{2018, 97.5}, {2019, 98.6}, {2020, 99.4}}, 2030,
                          ValueDomain::kPercent);
  in.target_value = 100;
  absl::StatusOr<Projection> p = DefaultEngine().Project(in);
  ASSERT_THAT(p, IsOk());
  for (const YearProjection& y : p->years) {
    EXPECT_LE(y.interval_95.upper, 100);
    EXPECT_GE(y.interval_95.lower, 0);
  }
  EXPECT_TRUE(HasWarning(*p, WarningCode::kLongHorizon));
}

TEST(EngineTest, RunningTotalPastItsTargetIsCertain) {
  SeriesInput in = Series({{2018, 100}, {2019, 130}, {2020, 170}}, 2024);
  in.kind = KpiKind::kRunningTotal;
  in.target_value = 150;
  absl::StatusOr<Projection> p = DefaultEngine().Project(in);
  ASSERT_THAT(p, IsOk());
  EXPECT_EQ(p->attainment_probability, 1.0);
  EXPECT_EQ(p->status, ProgressStatus::kAchieved);
  for (const YearProjection& y : p->years) {
    EXPECT_GE(y.interval_95.lower, 170);
    EXPECT_EQ(y.attainment_probability, 1.0);
  }
  EXPECT_THAT(p->method, HasSubstr("running total"));
}

TEST(EngineTest, RunningTotalNeverFalls) {
  SeriesInput in = Series({{2018, 100}, {2019, 101}, {2020, 101}}, 2024);
  in.kind = KpiKind::kRunningTotal;
  in.target_value = 140;
  absl::StatusOr<Projection> p = DefaultEngine().Project(in);
  ASSERT_THAT(p, IsOk());
  double previous = 101;
  for (const YearProjection& y : p->years) {
    EXPECT_GE(y.interval_95.lower, 101);
    EXPECT_GE(y.median, previous);
    previous = y.median;
  }
  EXPECT_LT(p->attainment_probability, 0.05);
}

TEST(EngineTest, PeriodSumThatCannotReachItsTarget) {
  // 令和2-6年度累計: 10 a year so far, target 1000 by FY2024.
  SeriesInput in = Series({{2020, 10}, {2021, 21}, {2022, 30}}, 2024);
  in.kind = KpiKind::kPeriodSum;
  in.period_first_fiscal_year = 2020;
  in.target_value = 1000;
  absl::StatusOr<Projection> p = DefaultEngine().Project(in);
  ASSERT_THAT(p, IsOk());
  EXPECT_LT(p->attainment_probability, 0.01);
  EXPECT_GT(p->projected_value, 45);
  EXPECT_LT(p->projected_value, 60);
  EXPECT_EQ(p->status, ProgressStatus::kLimitedProgress);

  // The same period sum with a target near its pace (about 48 expected).
  in.target_value = 48;
  p = DefaultEngine().Project(in);
  ASSERT_THAT(p, IsOk());
  EXPECT_GT(p->attainment_probability, 0.25);
  EXPECT_LT(p->attainment_probability, 0.75);
}

TEST(EngineTest, CarriedOverLatestIsLeftOut) {
  SeriesInput in =
      Series({{2017, 10}, {2018, 12}, {2019, 14}, {2020, 14}}, 2023);
  in.points.back().status = ObservationStatus::kCarriedOver;
  absl::StatusOr<Projection> p = DefaultEngine().Project(in);
  ASSERT_THAT(p, IsOk());
  EXPECT_THAT(p->fiscal_years_used, ElementsAre(2017, 2018, 2019));
  EXPECT_TRUE(HasWarning(*p, WarningCode::kStaleLatest));
  EXPECT_EQ(p->years.front().fiscal_year, 2021);
}

TEST(EngineTest, ProvisionalLatestIsWarned) {
  SeriesInput in = Series({{2019, 10}, {2020, 12}}, 2023);
  in.points.back().status = ObservationStatus::kProvisional;
  absl::StatusOr<Projection> p = DefaultEngine().Project(in);
  ASSERT_THAT(p, IsOk());
  EXPECT_TRUE(HasWarning(*p, WarningCode::kProvisionalLatest));
}

TEST(EngineTest, ShockYearsExcludedOrIncluded) {
  SeriesInput in = Series({{2016, 100},
                           {2017, 103},
                           {2018, 106},
                           {2019, 109},
                           {2020, 60},
                           {2021, 70}},
                          2024);
  in.shock_fiscal_years = {2020, 2021};
  absl::StatusOr<Projection> excluded = DefaultEngine().Project(in);
  ASSERT_THAT(excluded, IsOk());
  EXPECT_EQ(excluded->shock_treatment, ShockTreatment::kExclude);
  EXPECT_THAT(excluded->fiscal_years_used, ElementsAre(2016, 2017, 2018, 2019));
  EXPECT_TRUE(HasWarning(*excluded, WarningCode::kShockYears));
  in.shock_treatment = ShockTreatment::kInclude;
  absl::StatusOr<Projection> included = DefaultEngine().Project(in);
  ASSERT_THAT(included, IsOk());
  EXPECT_EQ(included->points_used, 6);
  EXPECT_GT(excluded->projected_value, included->projected_value);
}

TEST(EngineTest, StatusReadsTheObservedShockYearsWhateverTheScenario) {
  // Asahikawa's airport: 113.5 in FY2018, 45.9 in the pandemic's FY2021.
  SeriesInput in = Series({{2018, 113.5}, {2021, 45.9}}, 2024);
  in.target_value = 145;
  in.shock_fiscal_years = {2020, 2021};
  for (ShockTreatment t :
       {ShockTreatment::kExclude, ShockTreatment::kInclude}) {
    in.shock_treatment = t;
    absl::StatusOr<Projection> p = DefaultEngine().Project(in);
    ASSERT_THAT(p, IsOk());
    EXPECT_EQ(p->status, ProgressStatus::kDeteriorating);
    EXPECT_EQ(p->progress.latest_fiscal_year, 2021);
    EXPECT_DOUBLE_EQ(p->progress.latest_value, 45.9);
  }
}

TEST(EngineTest, RangeBaselineIsAPointInItsMiddle) {
  SeriesInput in = Series({{2020, 120}, {2021, 125}}, 2024);
  domain::Baseline b;
  b.value = 100;
  b.fiscal_year = 2019;
  b.first_fiscal_year = 2015;
  b.aggregation = domain::Aggregation::kMean;
  in.baseline = b;
  in.target_value = 150;
  absl::StatusOr<Projection> p = DefaultEngine().Project(in);
  ASSERT_THAT(p, IsOk());
  EXPECT_THAT(p->fiscal_years_used, ElementsAre(2019, 2020, 2021));
  // The base of the growth ratio is the range's first year.
  EXPECT_EQ(p->progress.base_fiscal_year, 2015);
  EXPECT_DOUBLE_EQ(p->progress.base_value, 100);
}

TEST(EngineTest, TargetFarOutsideTheRangeIsWarned) {
  SeriesInput in = Series({{2018, 10}, {2019, 11}, {2020, 12}}, 2024);
  in.target_value = 100;
  in.target_from_reference = true;
  absl::StatusOr<Projection> p = DefaultEngine().Project(in);
  ASSERT_THAT(p, IsOk());
  EXPECT_TRUE(HasWarning(*p, WarningCode::kTargetOutsideRange));
  EXPECT_TRUE(HasWarning(*p, WarningCode::kReferenceTarget));
  EXPECT_LT(p->attainment_probability, 0.01);
}

TEST(EngineTest, ValidationNamesTheFields) {
  SeriesInput in = Series({{2018, 10}, {2018, 11}, {2020, 120}}, 2020,
                          ValueDomain::kPercent);
  in.probability_thresholds.assign(17, 1.0);
  absl::StatusOr<Projection> p = DefaultEngine().Project(in);
  EXPECT_THAT(p, StatusIs(absl::StatusCode::kInvalidArgument));
  std::vector<std::string> fields;
  for (const base::FieldViolation& v : base::GetFieldViolations(p.status())) {
    fields.push_back(v.field);
  }
  EXPECT_THAT(fields,
              ElementsAre("points[1].fiscal_year", "points[2].value",
                          "target_fiscal_year", "probability_thresholds"));
  EXPECT_THAT(std::string(p.status().message()),
              HasSubstr("from 0 to 100 (VALUE_DOMAIN_PERCENT)"));
  EXPECT_THAT(DefaultEngine().Project(SeriesInput()),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("points: at least one point")));
  SeriesInput nan = Series({{2018, std::nan("")}}, 2020);
  EXPECT_THAT(DefaultEngine().Project(nan),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("points[0].value: must be a finite number")));
}

TEST(EngineTest, CreateRejectsABrokenCalibration) {
  EXPECT_THAT(
      Engine::Create("dims 0 3\n"),
      StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("line 1")));
  EXPECT_EQ(DefaultEngine().calibration_version(), "m3-train-v3");
}

// Series drawn from the model's own prior (random walk with drift on the log
// scale, drift and variance from the normal-inverse-gamma prior): the
// closed-form Student-t predictive is then exactly calibrated, so the
// intervals of the uncalibrated engine must cover at their nominal rates.
TEST(EngineTest, BayesianPredictiveCoversAtNominalRateOnItsOwnModel) {
  absl::StatusOr<std::unique_ptr<Engine>> engine = Engine::Create(
      "version prior-test\nparam sigma_pool 0.05\nparam n0 6\nparam kappa0 "
      "2\n");
  ASSERT_THAT(engine, IsOk());
  std::mt19937_64 rng(20240601);
  std::gamma_distribution<double> gamma(3.0, 1.0 / (3.0 * 0.05 * 0.05));
  std::normal_distribution<double> normal;
  const int kSeries = 3000;
  int in80 = 0, in95 = 0, in50 = 0;
  for (int s = 0; s < kSeries; ++s) {
    const double sigma = 1 / std::sqrt(gamma(rng));
    const double drift = sigma / std::sqrt(2.0) * normal(rng);
    const int k = 2 + s % 5;
    double z = std::log(100.0);
    SeriesInput in;
    in.value_domain = ValueDomain::kNonNegative;
    for (int i = 0; i < k; ++i) {
      if (i > 0) z += drift + sigma * normal(rng);
      Point p;
      p.fiscal_year = 2010 + i;
      p.value = std::exp(z);
      in.points.push_back(p);
    }
    const int h = 1 + s % 3;
    in.target_fiscal_year = 2010 + k - 1 + h;
    for (int i = 0; i < h; ++i) z += drift + sigma * normal(rng);
    const double truth = std::exp(z);
    absl::StatusOr<Projection> p = (*engine)->Project(in);
    ASSERT_THAT(p, IsOk());
    const YearProjection& y = p->years.back();
    in50 += y.interval_50.lower <= truth && truth <= y.interval_50.upper;
    in80 += y.interval_80.lower <= truth && truth <= y.interval_80.upper;
    in95 += y.interval_95.lower <= truth && truth <= y.interval_95.upper;
  }
  // Three binomial standard errors.
  EXPECT_NEAR(in50 / double(kSeries), 0.50, 3 * std::sqrt(0.25 / kSeries));
  EXPECT_NEAR(in80 / double(kSeries), 0.80, 3 * std::sqrt(0.16 / kSeries));
  EXPECT_NEAR(in95 / double(kSeries), 0.95, 3 * std::sqrt(0.0475 / kSeries));
}

// The shipped calibration on series it never saw, simulated random walks
// with drift at volatilities typical of yearly data: intervals cover near
// their nominal rates.
TEST(EngineTest, ShippedCalibrationCoversSimulatedRandomWalks) {
  std::mt19937_64 rng(7);
  std::normal_distribution<double> normal;
  std::uniform_real_distribution<double> uniform(0, 1);
  const int kSeries = 3000;
  int in80 = 0, in95 = 0;
  for (int s = 0; s < kSeries; ++s) {
    const double sigma = 0.02 + 0.08 * uniform(rng);
    const double drift = 0.03 * normal(rng);
    const int k = 3 + s % 5;
    double z = std::log(1000.0);
    SeriesInput in;
    in.value_domain = ValueDomain::kNonNegative;
    for (int i = 0; i < k; ++i) {
      if (i > 0) z += drift + sigma * normal(rng);
      Point p;
      p.fiscal_year = 2000 + i;
      p.value = std::exp(z);
      in.points.push_back(p);
    }
    const int h = 1 + s % 4;
    in.target_fiscal_year = 2000 + k - 1 + h;
    for (int i = 0; i < h; ++i) z += drift + sigma * normal(rng);
    const double truth = std::exp(z);
    absl::StatusOr<Projection> p = DefaultEngine().Project(in);
    ASSERT_THAT(p, IsOk());
    const YearProjection& y = p->years.back();
    in80 += y.interval_80.lower <= truth && truth <= y.interval_80.upper;
    in95 += y.interval_95.lower <= truth && truth <= y.interval_95.upper;
  }
  // Learned on M3, whose errors have fatter tails than a Gaussian random
  // walk: the intervals may be a little wide here, never narrow.
  EXPECT_GE(in80 / double(kSeries), 0.77);
  EXPECT_LE(in80 / double(kSeries), 0.88);
  EXPECT_GE(in95 / double(kSeries), 0.93);
  EXPECT_LE(in95 / double(kSeries), 0.995);
}

// Every number a projection holds, with where it is.
std::vector<std::pair<std::string, double>> NumbersOf(const Projection& p) {
  std::vector<std::pair<std::string, double>> out = {
      {"projected_value", p.projected_value},
      {"attainment_probability", p.attainment_probability},
      {"progress.base_value", p.progress.base_value},
      {"progress.latest_value", p.progress.latest_value},
      {"progress.required_change_per_year",
       p.progress.required_change_per_year},
      {"progress.observed_change_per_year",
       p.progress.observed_change_per_year},
      {"progress.growth_ratio", p.progress.growth_ratio}};
  for (const YearProjection& y : p.years) {
    for (double v :
         {y.median, y.interval_50.lower, y.interval_50.upper,
          y.interval_80.lower, y.interval_80.upper, y.interval_95.lower,
          y.interval_95.upper, y.attainment_probability}) {
      out.push_back({"years", v});
    }
  }
  return out;
}

// Finite values near the largest double used to give projected_value = inf,
// an interval [-inf, inf] and "on track": magnitudes above
// domain::kMaxValueMagnitude are refused, naming the field and the bound.
TEST(EngineTest, RefusesMagnitudesTheEngineCannotCarry) {
  SeriesInput in = Series({{2016, 1e308}, {2017, 1.2e308}, {2018, 1.5e308}},
                          2024, ValueDomain::kReal);
  in.target_value = 1.7e308;
  absl::StatusOr<Projection> p = DefaultEngine().Project(in);
  EXPECT_THAT(p, StatusIs(absl::StatusCode::kInvalidArgument));
  const std::vector<base::FieldViolation> v =
      base::GetFieldViolations(p.status());
  ASSERT_FALSE(v.empty()) << p.status();
  EXPECT_EQ(v[0].field, "points[0].value");
  EXPECT_THAT(v[0].description, HasSubstr("1e+15"));
  EXPECT_THAT(p.status().message(), HasSubstr("target_value"));

  in = Series({{2016, -2e15}, {2017, 1}}, 2024, ValueDomain::kReal);
  EXPECT_THAT(DefaultEngine().Project(in),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("points[0].value")));
  in = Series({{2016, 1}, {2017, 2}}, 2024, ValueDomain::kReal);
  in.probability_thresholds = {1e300};
  EXPECT_THAT(DefaultEngine().Project(in),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("probability_thresholds[0]")));
}

// At the bound, every level and total projection is finite.
TEST(EngineTest, ProjectionsAtTheBoundAreFinite) {
  const double m = domain::kMaxValueMagnitude;
  for (KpiKind kind : {KpiKind::kLevel, KpiKind::kRunningTotal}) {
    for (ValueDomain d : {ValueDomain::kReal, ValueDomain::kNonNegative}) {
      SeriesInput in =
          Series({{2014, 0.2 * m}, {2016, 0.5 * m}, {2018, 0.9 * m}, {2019, m}},
                 2049, d);
      in.kind = kind;
      in.target_value = m;
      absl::StatusOr<Projection> p = DefaultEngine().Project(in);
      ASSERT_THAT(p, IsOk());
      for (const auto& [where, value] : NumbersOf(*p)) {
        EXPECT_TRUE(std::isfinite(value)) << where << " = " << value;
      }
    }
  }
  SeriesInput in = Series({{2018, -m}, {2019, m}}, 2049, ValueDomain::kReal);
  in.target_value = -m;
  absl::StatusOr<Projection> p = DefaultEngine().Project(in);
  ASSERT_THAT(p, IsOk());
  for (const auto& [where, value] : NumbersOf(*p)) {
    EXPECT_TRUE(std::isfinite(value)) << where << " = " << value;
  }
}

// The last guard: a projection holding a non-finite number is never
// returned (INTERNAL naming the field: the engine's fault, not the input's).
TEST(EngineTest, CheckFiniteRefusesANonFiniteProjection) {
  Projection p;
  p.years.resize(2);
  EXPECT_THAT(CheckFinite(p), IsOk());
  p.years[1].interval_95.upper = std::numeric_limits<double>::infinity();
  EXPECT_THAT(CheckFinite(p),
              StatusIs(absl::StatusCode::kInternal,
                       HasSubstr("years[1].interval_95.upper")));
  p.years[1].interval_95.upper = 0;
  p.projected_value = std::nan("");
  EXPECT_THAT(CheckFinite(p), StatusIs(absl::StatusCode::kInternal,
                                       HasSubstr("projected_value")));
}

}  // namespace
}  // namespace kpi::forecast
