// Coherent paths: medians that do not turn, intervals that never narrow,
// values reported at their resolution (so that a count can reach 0), over
// closed forms, every M3 window of the backtest and 待機児童-like series.

#include "lib/forecast/path.h"

#include <cmath>
#include <cstdlib>
#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "lib/base/status_matchers.h"
#include "lib/forecast/backtest.h"
#include "lib/forecast/engine.h"
#include "lib/forecast/nig.h"
#include "tests/forecast/test_series.h"

namespace kpi::forecast {
namespace {

using domain::Direction;
using domain::ValueDomain;
using ::kpi::testing::IsOk;
using ::testing::DoubleNear;
using ::testing::ElementsAre;

const std::vector<double> kLevels = {0.025, 0.1, 0.25, 0.5, 0.75, 0.9, 0.975};

TEST(IsotonicFitTest, PoolsAdjacentViolators) {
  EXPECT_THAT(IsotonicFit({1, 3, 2}, {1, 1, 1}, true),
              ElementsAre(1, 2.5, 2.5));
  EXPECT_THAT(IsotonicFit({1, 3, 2}, {1, 1, 3}, true),
              ElementsAre(1, 2.25, 2.25));
  EXPECT_THAT(IsotonicFit({3, 1, 2, 0}, {1, 1, 1, 1}, false),
              ElementsAre(3, 1.5, 1.5, 0));
  EXPECT_THAT(IsotonicFit({4, 3, 2, 1}, {1, 1, 1, 1}, true),
              ElementsAre(2.5, 2.5, 2.5, 2.5));
  EXPECT_THAT(IsotonicFit({1, 2, 3}, {1, 1, 1}, true), ElementsAre(1, 2, 3));
}

TEST(ReportingResolutionTest, LargestPowerOfTenDividingEveryValue) {
  EXPECT_EQ(ReportingResolution({45, 38, 25, 12}), 1);
  EXPECT_EQ(ReportingResolution({1200, 3400}), 1);  // at most 1
  EXPECT_EQ(ReportingResolution({113.50000000000001, 45.9}), 0.1);
  EXPECT_DOUBLE_EQ(ReportingResolution({2.67, 2.19}), 0.01);
  EXPECT_DOUBLE_EQ(ReportingResolution({M_PI}), 1e-6);
}

// A normal distribution on the log scale (a log-normal value).
Distribution LogNormal(double median, double sigma) {
  const StudentT t{std::log(median), sigma, 1e9};
  Distribution d;
  d.quantile = [t](double p) { return std::exp(StudentTQuantile(t, p)); };
  d.cdf = [t](double v) { return v <= 0 ? 0.0 : StudentTCdf(t, std::log(v)); };
  return d;
}

TEST(ReportedAtResolutionTest, BelowHalfAUnitReadsZero) {
  const Distribution d = ReportedAtResolution(LogNormal(1, 1), 1);
  // P(reported = 0) = P(value < 0.5) = Phi(log 0.5).
  const double p0 = StudentTCdf({0, 1, 1e9}, std::log(0.5));
  EXPECT_NEAR(d.cdf(0), p0, 1e-9);
  EXPECT_NEAR(d.cdf(0.3), p0, 1e-9);
  EXPECT_EQ(d.cdf(-1), 0);
  EXPECT_EQ(d.quantile(p0 * 0.9), 0);
  EXPECT_GT(d.quantile(p0 * 1.1), 0.5);
  EXPECT_NEAR(d.cdf(2), LogNormal(1, 1).cdf(2), 1e-12);
}

// The falling count's zigzag (medians 11.8, 13.4, 12.6 after 12): the
// isotonic fit on the log scale, anchored at 12, is 12, then the mean of
// log 13.4 and log 12.6 twice.
TEST(MakeCoherentTest, ZigzagMediansBecomeTheirMonotoneFit) {
  const Transform log = Transform::ForDomain(ValueDomain::kNonNegative, {12});
  std::vector<Distribution> path = {LogNormal(11.8, 0.2), LogNormal(13.4, 0.3),
                                    LogNormal(12.6, 0.4)};
  std::vector<double> q;
  MakeCoherent(
      log, 12, [](double v) { return v; }, kLevels, &path, &q);
  const double pooled = std::exp(0.5 * (std::log(13.4) + std::log(12.6)));
  EXPECT_NEAR(path[0].quantile(0.5), 12, 1e-6);
  EXPECT_NEAR(path[1].quantile(0.5), pooled, 1e-9);
  EXPECT_NEAR(path[2].quantile(0.5), pooled, 1e-9);
  // Shifted, not reshaped: the spread on the log scale is kept (it grows).
  EXPECT_NEAR(std::log(path[2].quantile(0.9) / path[2].quantile(0.5)),
              0.4 * StudentTQuantile({0, 1, 1e9}, 0.9), 1e-9);
  // The quantiles written are the distributions'; quantiles and
  // probabilities still come from one distribution.
  for (size_t h = 0; h < path.size(); ++h) {
    for (size_t i = 0; i < kLevels.size(); ++i) {
      EXPECT_NEAR(q[h * kLevels.size() + i], path[h].quantile(kLevels[i]),
                  1e-9 * q[h * kLevels.size() + i]);
    }
  }
  for (const Distribution& d : path) {
    for (double p : {0.025, 0.1, 0.5, 0.9, 0.975}) {
      EXPECT_NEAR(d.cdf(d.quantile(p)), p, 1e-9);
    }
  }
}

TEST(MakeCoherentTest, ANarrowingIntervalIsWidenedJustEnough) {
  const Transform log = Transform::ForDomain(ValueDomain::kNonNegative, {10});
  // A fast fall on the log scale: the same log spread gives a narrower
  // interval in the KPI's unit one year later.
  std::vector<Distribution> path = {LogNormal(10, 0.3), LogNormal(5, 0.3)};
  const double w80_before = path[1].quantile(0.9) - path[1].quantile(0.1);
  std::vector<double> q;
  MakeCoherent(
      log, 12, [](double v) { return v; }, kLevels, &path, &q);
  for (const auto& level : kWidthLevels) {
    const double w0 = path[0].quantile(level[1]) - path[0].quantile(level[0]);
    const double w1 = path[1].quantile(level[1]) - path[1].quantile(level[0]);
    EXPECT_GE(w1, w0 * (1 - 1e-9));
  }
  // The binding level is matched, not exceeded.
  double slack = 1e9;
  for (const auto& level : kWidthLevels) {
    const double w0 = path[0].quantile(level[1]) - path[0].quantile(level[0]);
    const double w1 = path[1].quantile(level[1]) - path[1].quantile(level[0]);
    slack = std::min(slack, w1 / w0 - 1);
  }
  EXPECT_NEAR(slack, 0, 1e-9);
  EXPECT_GT(path[1].quantile(0.9) - path[1].quantile(0.1), w80_before);
  EXPECT_NEAR(path[1].quantile(0.5), 5, 1e-9);
  for (double p : {0.025, 0.1, 0.5, 0.9, 0.975}) {
    EXPECT_NEAR(path[1].cdf(path[1].quantile(p)), p, 1e-9);
  }
}

// Violations of a projection's path, starting from `anchor`.
struct Violations {
  int turns = 0;
  int narrowings = 0;
};

Violations Check(const Projection& p, double anchor) {
  Violations v;
  std::vector<double> medians = {anchor};
  for (const YearProjection& y : p.years) medians.push_back(y.median);
  bool up = true, down = true;
  for (size_t i = 1; i < medians.size(); ++i) {
    const double tol = 1e-9 * std::max(1.0, std::fabs(medians[i - 1]));
    up &= medians[i] >= medians[i - 1] - tol;
    down &= medians[i] <= medians[i - 1] + tol;
  }
  if (!up && !down) ++v.turns;
  for (size_t i = 1; i < p.years.size(); ++i) {
    const YearProjection& a = p.years[i - 1];
    const YearProjection& b = p.years[i];
    for (auto [lo, hi] :
         {std::pair{&YearProjection::interval_50, &YearProjection::interval_50},
          std::pair{&YearProjection::interval_80, &YearProjection::interval_80},
          std::pair{&YearProjection::interval_95,
                    &YearProjection::interval_95}}) {
      const double wa = (a.*lo).upper - (a.*lo).lower;
      const double wb = (b.*hi).upper - (b.*hi).lower;
      if (wb < wa - 1e-9 * std::max(1.0, wa)) ++v.narrowings;
    }
  }
  return v;
}

std::string SourceDir() {
  const char* dir = std::getenv("KPI_SOURCE_DIR");
  return dir != nullptr ? dir : ".";
}

// Every window of the short-window backtest (shared/BENCHMARK.md): the last
// k = 2, 3, 5, 7 training points of the 645 M3 yearly series, 6 years ahead.
TEST(CoherentPathTest, EveryM3WindowOfTheBacktest) {
  absl::StatusOr<std::vector<YearlySeries>> data = ReadYearlySeriesCsv(
      SourceDir() + "/tests/forecast/data/m3_yearly_last7.csv");
  ASSERT_THAT(data, IsOk());
  ASSERT_EQ(data->size(), 645u);
  int windows = 0, turns = 0, narrowings = 0;
  for (const YearlySeries& s : *data) {
    for (int k : {2, 3, 5, 7}) {
      SeriesInput in;
      in.id = s.id;
      in.value_domain = ValueDomain::kNonNegative;
      const int n = static_cast<int>(s.train_values.size());
      for (int i = n - k; i < n; ++i) {
        Point p;
        p.fiscal_year = s.train_years[i];
        p.value = s.train_values[i];
        in.points.push_back(p);
      }
      in.target_fiscal_year = s.train_years.back() + 6;
      absl::StatusOr<Projection> p = DefaultEngine().Project(in);
      ASSERT_THAT(p, IsOk()) << s.id << " k " << k;
      const Violations v = Check(*p, s.train_values.back());
      turns += v.turns;
      narrowings += v.narrowings;
      ++windows;
    }
  }
  EXPECT_EQ(windows, 645 * 4);
  EXPECT_EQ(turns, 0);
  EXPECT_EQ(narrowings, 0);
}

SeriesInput Counts(std::vector<std::pair<int, double>> points, double target) {
  SeriesInput in = Series(std::move(points), 2024);
  in.id = "waiting-children";
  in.direction = Direction::kDecrease;
  in.target_value = target;
  in.unit = "人";
  return in;
}

// 待機児童ゼロ: a count can reach 0, the probability of 0 is P(value < 0.5),
// and the status follows the average yearly changes.
TEST(ZeroTargetTest, AFallingCountCanReachZero) {
  absl::StatusOr<Projection> p = DefaultEngine().Project(
      Counts({{2018, 10}, {2019, 6}, {2020, 3}, {2021, 1}}, 0));
  ASSERT_THAT(p, IsOk());
  EXPECT_EQ(p->explanation.resolution, 1);
  EXPECT_EQ(p->status, ProgressStatus::kOnTrack);
  EXPECT_GT(p->attainment_probability, 0.01);
  for (const YearProjection& y : p->years) {
    EXPECT_GT(y.attainment_probability, 0) << y.fiscal_year;
    // Reported values are 0 or at least half a person.
    for (double v : {y.interval_95.lower, y.interval_80.lower}) {
      EXPECT_TRUE(v == 0 || v >= 0.5) << v;
    }
  }
  // The falling count of the issue with a target of 0: on track (-11 a year
  // against -7.5 needed), P(met) present though small, and the explanation
  // says why the two differ.
  p = DefaultEngine().Project(
      Counts({{2018, 45}, {2019, 38}, {2020, 25}, {2021, 12}}, 0));
  ASSERT_THAT(p, IsOk());
  EXPECT_EQ(p->status, ProgressStatus::kOnTrack);
  EXPECT_GT(p->years.front().attainment_probability, 0);
  EXPECT_EQ(p->explanation.discordance, Discordance::kProportional);
}

TEST(ZeroTargetTest, ASeriesAtZeroStaysLikelyAtZero) {
  absl::StatusOr<Projection> p = DefaultEngine().Project(
      Counts({{2017, 12}, {2018, 5}, {2019, 0}, {2020, 2}, {2021, 0}}, 0));
  ASSERT_THAT(p, IsOk());
  EXPECT_EQ(p->status, ProgressStatus::kAchieved);
  EXPECT_GT(p->attainment_probability, 0.5);
  EXPECT_EQ(p->years.front().median, 0);
  // "at least 0" is certain for a non-negative KPI.
  SeriesInput up = Counts({{2019, 3}, {2020, 2}}, 0);
  up.direction = Direction::kIncrease;
  up.probability_thresholds = {0, 1};
  p = DefaultEngine().Project(up);
  ASSERT_THAT(p, IsOk());
  EXPECT_EQ(p->attainment_probability, 1);
  EXPECT_EQ(p->years.back().threshold_probabilities[0], 1);
  EXPECT_LT(p->years.back().threshold_probabilities[1], 1);
}

// The falling count with target 5 of the issue: its medians zigzagged
// (11.8, 13.4, 12.6); now they follow one direction from 12.
TEST(CoherentPathTest, TheFallingCountOfTheIssue) {
  absl::StatusOr<Projection> p = DefaultEngine().Project(
      Counts({{2018, 45}, {2019, 38}, {2020, 25}, {2021, 12}}, 5));
  ASSERT_THAT(p, IsOk());
  const Violations v = Check(*p, 12);
  EXPECT_EQ(v.turns, 0);
  EXPECT_EQ(v.narrowings, 0);
}

}  // namespace
}  // namespace kpi::forecast
