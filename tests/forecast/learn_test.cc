#include "lib/forecast/learn.h"

#include <cmath>
#include <random>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "lib/base/status_matchers.h"
#include "lib/forecast/engine.h"
#include "lib/forecast/model.h"
#include "lib/forecast/training_data.h"

namespace kpi::forecast {
namespace {

using ::kpi::testing::IsOk;
using ::kpi::testing::StatusIs;
using ::testing::HasSubstr;

// Log random walks with drift: z_t = z_{t-1} + mu_i + sigma * e_t, with
// mu_i ~ N(drift_mean, drift_sd) per series and e_t standard normal.
struct Process {
  double drift_mean = 0.02;
  double drift_sd = 0.02;
  double sigma = 0.02;
};

std::vector<double> Path(const Process& p, int n, std::mt19937_64& rng) {
  std::normal_distribution<double> normal;
  const double mu = p.drift_mean + p.drift_sd * normal(rng);
  std::vector<double> y;
  double z = std::log(100.0);
  for (int t = 0; t < n; ++t) {
    if (t > 0) z += mu + p.sigma * normal(rng);
    y.push_back(std::exp(z));
  }
  return y;
}

std::vector<TrainingSeries> Simulate(const Process& p, int series, int points,
                                     uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::vector<TrainingSeries> out;
  for (int i = 0; i < series; ++i) {
    TrainingSeries s;
    s.id = absl::StrCat("s", i);
    s.values = Path(p, points, rng);
    for (int t = 0; t < points; ++t) s.years.push_back(2000 + t);
    out.push_back(std::move(s));
  }
  return out;
}

// The benchmark's long format: `train` rows, then `test` rows that hold
// `test_value` (or the series' own continuation when it is negative).
std::string LongCsv(const std::vector<TrainingSeries>& series, int train,
                    double test_value) {
  std::string csv = "series_id,split,t,year,value\n";
  for (const TrainingSeries& s : series) {
    for (size_t t = 0; t < s.values.size(); ++t) {
      const bool is_train = static_cast<int>(t) < train;
      const double v = is_train || test_value < 0 ? s.values[t] : test_value;
      absl::StrAppendFormat(&csv, "%s,%s,%d,%d,%.17g\n", s.id,
                            is_train ? "train" : "test", t + 1, s.years[t], v);
    }
  }
  return csv;
}

const Calibration& Builtin() { return DefaultEngine().calibration(); }

LearnOptions Shrunk(const std::string& version) {
  LearnOptions o;
  o.version = version;
  o.prior = &Builtin();
  return o;
}

// Coverage of the 80% and 95% intervals of `engine` on the next six values
// after windows of k points at the end of 12 points of each path.
std::pair<double, double> Coverage(const Engine& engine,
                                   const std::vector<TrainingSeries>& fresh,
                                   int k) {
  int in80 = 0, in95 = 0, n = 0;
  for (const TrainingSeries& s : fresh) {
    SeriesInput in;
    in.id = s.id;
    in.value_domain = domain::ValueDomain::kNonNegative;
    for (int t = 12 - k; t < 12; ++t) {
      Point p;
      p.fiscal_year = s.years[t];
      p.value = s.values[t];
      in.points.push_back(p);
    }
    in.target_fiscal_year = s.years[11] + 6;
    absl::StatusOr<Projection> p = engine.Project(in);
    EXPECT_THAT(p, IsOk());
    if (!p.ok()) continue;
    for (int h = 1; h <= 6; ++h) {
      const double y = s.values[11 + h];
      const YearProjection& yp = p->years[h - 1];
      in80 += yp.interval_80.lower <= y && y <= yp.interval_80.upper;
      in95 += yp.interval_95.lower <= y && y <= yp.interval_95.upper;
      ++n;
    }
  }
  return {static_cast<double>(in80) / n, static_cast<double>(in95) / n};
}

TEST(LearnTest, TestRowsCannotReachTheCalibration) {
  const std::vector<TrainingSeries> series =
      Simulate(Process{0.01, 0.03, 0.08}, 40, 16, 7);
  // The same training parts; the test parts hold the real continuation, a
  // huge constant, or are missing.
  std::vector<std::string> texts;
  for (const std::string& csv :
       {LongCsv(series, 10, -1), LongCsv(series, 10, 1e12),
        LongCsv(series, 10, 0)}) {
    absl::StatusOr<TrainingData> d = ParseTrainingCsv(csv, "sim.csv");
    ASSERT_THAT(d, IsOk());
    EXPECT_EQ(d->test_rows_skipped, 40 * 6);
    absl::StatusOr<LearnedCalibration> l =
        LearnCalibration(d->series, Shrunk("leak-check"));
    ASSERT_THAT(l, IsOk());
    texts.push_back(l->text);
  }
  std::vector<TrainingSeries> train_only = series;
  for (TrainingSeries& s : train_only) {
    s.values.resize(10);
    s.years.resize(10);
  }
  absl::StatusOr<LearnedCalibration> l =
      LearnCalibration(train_only, Shrunk("leak-check"));
  ASSERT_THAT(l, IsOk());
  EXPECT_EQ(texts[0], l->text);
  EXPECT_EQ(texts[1], l->text);
  EXPECT_EQ(texts[2], l->text);
  // And the continuation would have changed it, had it been read.
  absl::StatusOr<LearnedCalibration> all =
      LearnCalibration(series, Shrunk("leak-check"));
  ASSERT_THAT(all, IsOk());
  EXPECT_NE(all->text, l->text);
}

TEST(LearnTest, RecordsWhereItCameFromAndParsesBack) {
  const std::vector<TrainingSeries> series =
      Simulate(Process{0.01, 0.02, 0.05}, 60, 9, 11);
  absl::StatusOr<LearnedCalibration> l =
      LearnCalibration(series, Shrunk("city-2024"));
  ASSERT_THAT(l, IsOk());
  EXPECT_EQ(l->report.series_used, 60);
  // Windows of k = 1..10 points followed by a point, in 9 points: the sum
  // over k = 1..8 of 9 - k, per series.
  EXPECT_EQ(l->report.windows, 60 * 36);
  EXPECT_EQ(l->calibration.source.series, 60);
  EXPECT_EQ(l->calibration.source.windows, l->report.windows);
  EXPECT_EQ(l->calibration.source.shrunk_toward, Builtin().version);
  EXPECT_EQ(l->calibration.source.shrink_strength, l->report.strength);
  EXPECT_EQ(l->report.candidates.size(), 2 * std::size(kShrinkStrengths) + 1);
  EXPECT_THAT(l->text, HasSubstr("\nsource series 60 windows 2160\n"));
  EXPECT_THAT(l->text,
              HasSubstr(absl::StrCat("\nshrinkage toward ", Builtin().version,
                                     " strength ")));
  absl::StatusOr<std::unique_ptr<Engine>> e = Engine::Create(l->text);
  ASSERT_THAT(e, IsOk());
  EXPECT_EQ((*e)->calibration_version(), "city-2024");
  EXPECT_EQ((*e)->calibration().source.series, 60);
  // The prior's held-out score is the prior scored on every window.
  ASSERT_TRUE(l->report.prior_held_out.has_value());
  EXPECT_NEAR(l->report.candidates.back().score,
              ScoreCalibration(Builtin(), series).score, 1e-9);
  EXPECT_NEAR(l->report.prior_held_out->score,
              ScoreCalibration(Builtin(), series).score, 1e-9);
}

TEST(LearnTest, ATinySetGivesNearlyTheBuiltInCalibration) {
  // One city's 30 KPIs of 8 years, far more volatile than M3: on their own
  // they would call for intervals several times wider.
  const std::vector<TrainingSeries> series =
      Simulate(Process{0.0, 0.05, 0.25}, 30, 8, 3);
  absl::StatusOr<LearnedCalibration> l =
      LearnCalibration(series, Shrunk("tiny"));
  ASSERT_THAT(l, IsOk());
  EXPECT_GE(l->report.strength, 100);
  absl::StatusOr<std::unique_ptr<Engine>> e = Engine::Create(l->text);
  ASSERT_THAT(e, IsOk());
  // A KPI projected with it: its intervals are within a fifth of the
  // built-in's.
  for (const TrainingSeries& s : Simulate(Process{0.0, 0.05, 0.25}, 20, 5, 9)) {
    SeriesInput in;
    in.value_domain = domain::ValueDomain::kNonNegative;
    for (size_t t = 0; t < s.values.size(); ++t) {
      in.points.push_back(
          Point{s.years[t], 0, domain::Aggregation::kUnspecified, s.values[t]});
    }
    in.target_fiscal_year = s.years.back() + 4;
    absl::StatusOr<Projection> mine = (*e)->Project(in);
    absl::StatusOr<Projection> builtin = DefaultEngine().Project(in);
    ASSERT_THAT(mine, IsOk());
    ASSERT_THAT(builtin, IsOk());
    for (size_t y = 0; y < mine->years.size(); ++y) {
      const auto width = [](const Interval& i) { return i.upper - i.lower; };
      const double ratio = width(mine->years[y].interval_80) /
                           width(builtin->years[y].interval_80);
      EXPECT_GT(ratio, 0.8) << y;
      EXPECT_LT(ratio, 1.25) << y;
    }
  }
}

TEST(LearnTest, ALargeSetFromAKnownProcessRecoversItsCoverage) {
  // Smooth series (1% noise a year, M3's is several times that): the
  // built-in intervals are far too wide for them.
  const Process smooth{0.02, 0.005, 0.01};
  const std::vector<TrainingSeries> series = Simulate(smooth, 800, 14, 5);
  absl::StatusOr<LearnedCalibration> l =
      LearnCalibration(series, Shrunk("smooth"));
  ASSERT_THAT(l, IsOk());
  EXPECT_LE(l->report.strength, 30);
  absl::StatusOr<std::unique_ptr<Engine>> e = Engine::Create(l->text);
  ASSERT_THAT(e, IsOk());
  const std::vector<TrainingSeries> fresh = Simulate(smooth, 800, 18, 99);
  for (int k : {2, 3, 5, 7}) {
    const auto [cov80, cov95] = Coverage(**e, fresh, k);
    EXPECT_NEAR(cov80, 0.80, 0.03) << k;
    EXPECT_NEAR(cov95, 0.95, 0.015) << k;
    const auto [builtin80, builtin95] = Coverage(DefaultEngine(), fresh, k);
    EXPECT_GT(builtin80, 0.9) << k;
    EXPECT_GT(builtin95, 0.99) << k;
  }
}

TEST(LearnTest, RefusesWhatItCannotLearnFrom) {
  const std::vector<TrainingSeries> few =
      Simulate(Process{0.01, 0.02, 0.05}, 10, 8, 1);
  LearnOptions own;
  own.version = "own";
  EXPECT_THAT(LearnCalibration(few, own),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("at least 20 series")));
  EXPECT_THAT(LearnCalibration(few, Shrunk("bad version")),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("version: \"bad version\"")));
  std::vector<TrainingSeries> single_points = few;
  for (TrainingSeries& s : single_points) {
    s.values.resize(1);
    s.years.resize(1);
  }
  EXPECT_THAT(LearnCalibration(single_points, Shrunk("x")),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("two points or more")));
}

// What the store's calibration learns from a KPI is what the engine fits:
// shock years and carried-over values left out, totals as increments, every
// point kept (not only the last ten).
TEST(TrainingSeriesOfTest, TheHistoryAsTheEngineFitsIt) {
  SeriesInput level;
  level.id = "level";
  level.value_domain = domain::ValueDomain::kNonNegative;
  for (int year = 2000; year < 2014; ++year) {
    Point p;
    p.fiscal_year = year;
    p.value = 100 + year - 2000;
    if (year == 2013) p.status = domain::ObservationStatus::kCarriedOver;
    level.points.push_back(p);
  }
  level.shock_fiscal_years = {2005};
  std::optional<TrainingSeries> s = TrainingSeriesOf(level);
  ASSERT_TRUE(s.has_value());
  EXPECT_EQ(s->id, "level");
  EXPECT_EQ(s->value_domain, domain::ValueDomain::kNonNegative);
  ASSERT_EQ(s->years.size(), 12u);  // 14 less the shock and the carried-over
  EXPECT_EQ(s->years.front(), 2000);
  EXPECT_EQ(s->years[5], 2006);
  EXPECT_EQ(s->years.back(), 2012);
  EXPECT_EQ(s->values.back(), 112);
  // Shocks as data when the input says so.
  level.shock_treatment = ShockTreatment::kInclude;
  EXPECT_EQ(TrainingSeriesOf(level)->years.size(), 13u);

  SeriesInput total;
  total.kind = domain::KpiKind::kRunningTotal;
  total.value_domain = domain::ValueDomain::kNonNegative;
  for (auto [year, value] :
       {std::pair{2018, 10.0}, {2019, 14.0}, {2021, 20.0}, {2022, 19.0}}) {
    Point p;
    p.fiscal_year = year;
    p.value = value;
    total.points.push_back(p);
  }
  s = TrainingSeriesOf(total);
  ASSERT_TRUE(s.has_value());
  EXPECT_EQ(s->years, (std::vector<int32_t>{2019, 2021, 2022}));
  // Yearly increments, averaged over the gap, never negative.
  EXPECT_EQ(s->values, (std::vector<double>{4, 3, 0}));

  SeriesInput period = total;
  period.kind = domain::KpiKind::kPeriodSum;
  period.period_first_fiscal_year = 2018;
  s = TrainingSeriesOf(period);
  ASSERT_TRUE(s.has_value());
  EXPECT_EQ(s->years, (std::vector<int32_t>{2018, 2019, 2021, 2022}));
  EXPECT_EQ(s->values.front(), 10);  // from zero before the period

  SeriesInput one;
  one.points.push_back(Point{2020, 0, domain::Aggregation::kUnspecified, 5});
  EXPECT_FALSE(TrainingSeriesOf(one).has_value());
  SeriesInput bad = one;
  bad.points.push_back(bad.points.front());  // the same year twice
  EXPECT_FALSE(TrainingSeriesOf(bad).has_value());
}

// Learning stops at its deadline instead of running on in the server.
TEST(LearnTest, StopsAtItsDeadline) {
  std::vector<TrainingSeries> series;
  for (int i = 0; i < 30; ++i) {
    TrainingSeries s;
    s.id = absl::StrCat("s", i);
    for (int y = 0; y < 8; ++y) {
      s.years.push_back(2000 + y);
      s.values.push_back(100 + i + 3 * y);
    }
    series.push_back(s);
  }
  LearnOptions options;
  options.version = "late";
  options.prior = &DefaultEngine().calibration();
  options.deadline = absl::Now() - absl::Seconds(1);
  EXPECT_THAT(
      LearnCalibration(series, options).status(),
      StatusIs(absl::StatusCode::kDeadlineExceeded, HasSubstr("deadline")));
}

}  // namespace
}  // namespace kpi::forecast
