#include "lib/forecast/progress.h"

#include <cmath>

#include "gtest/gtest.h"

namespace kpi::forecast {
namespace {

struct Case {
  const char* name;
  ProgressInput in;
  ProgressStatus status;
  double ratio;
};

TEST(ProgressTest, OpenSdgCategories) {
  using domain::Direction;
  const Case cases[] = {
      // Base 100 (2015), latest 121 (2017): 10%/yr observed; target 161.05
      // (2020): 10%/yr required.
      {"on track",
       {2015, 100, 2017, 121, 2020, 161.051, Direction::kIncrease},
       ProgressStatus::kOnTrack,
       1.0},
      {"acceleration needed",
       {2015, 100, 2017, 121, 2020, 200, Direction::kIncrease},
       ProgressStatus::kAccelerationNeeded,
       0.1 / (std::pow(2.0, 0.2) - 1)},
      {"limited",
       {2015, 100, 2017, 102, 2020, 200, Direction::kIncrease},
       ProgressStatus::kLimitedProgress,
       (std::sqrt(1.02) - 1) / (std::pow(2.0, 0.2) - 1)},
      {"deteriorating",
       {2015, 100, 2017, 90, 2020, 200, Direction::kIncrease},
       ProgressStatus::kDeteriorating,
       (std::sqrt(0.9) - 1) / (std::pow(2.0, 0.2) - 1)},
      {"achieved",
       {2015, 100, 2017, 210, 2020, 200, Direction::kIncrease},
       ProgressStatus::kAchieved,
       0},
      // Lower is better: falling toward a lower target is progress.
      {"decrease on track",
       {2015, 100, 2017, 81, 2020, 59.049, Direction::kDecrease},
       ProgressStatus::kOnTrack,
       1.0},
      {"decrease achieved",
       {2015, 100, 2017, 50, 2020, 60, Direction::kDecrease},
       ProgressStatus::kAchieved,
       0},
      {"decrease deteriorating",
       {2015, 100, 2017, 110, 2020, 60, Direction::kDecrease},
       ProgressStatus::kDeteriorating,
       0},
      {"no observed years",
       {2017, 100, 2017, 100, 2020, 150, Direction::kIncrease},
       ProgressStatus::kInsufficientData,
       0},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    const ProgressAssessment a = AssessProgress(c.in);
    EXPECT_EQ(a.status, c.status);
    if (c.ratio != 0) {
      EXPECT_NEAR(a.progress.growth_ratio, c.ratio, 1e-9);
    }
  }
}

TEST(ProgressTest, ChangesPerYearAndZeroBase) {
  ProgressInput in{2015, 0, 2019, 8, 2025, 20, domain::Direction::kIncrease};
  const ProgressAssessment a = AssessProgress(in);
  EXPECT_DOUBLE_EQ(a.progress.required_change_per_year, 2.0);
  EXPECT_DOUBLE_EQ(a.progress.observed_change_per_year, 2.0);
  // A zero base has no compound rate: average changes per year, 2 / 2.
  EXPECT_NEAR(a.progress.growth_ratio, 1.0, 1e-12);
  EXPECT_EQ(a.status, ProgressStatus::kOnTrack);
}

// 待機児童ゼロ: 45, 38, 25, 12 from FY2018, target 0 in FY2024. -11 a year
// observed beats the -7.5 needed.
TEST(ProgressTest, ATargetOfZeroComparesAverageChanges) {
  ProgressInput in{2018, 45, 2021, 12, 2024, 0, domain::Direction::kDecrease};
  ProgressAssessment a = AssessProgress(in);
  EXPECT_DOUBLE_EQ(a.progress.required_change_per_year, -7.5);
  EXPECT_DOUBLE_EQ(a.progress.observed_change_per_year, -11);
  EXPECT_NEAR(a.progress.growth_ratio, 11 / 7.5, 1e-12);
  EXPECT_EQ(a.status, ProgressStatus::kOnTrack);
  // Slower than needed: -3 a year against -7.5.
  in.latest_value = 36;
  a = AssessProgress(in);
  EXPECT_NEAR(a.progress.growth_ratio, 0.4, 1e-12);
  EXPECT_EQ(a.status, ProgressStatus::kLimitedProgress);
  // Reached.
  in.latest_value = 0;
  EXPECT_EQ(AssessProgress(in).status, ProgressStatus::kAchieved);
  // Rising away from 0.
  in.latest_value = 50;
  EXPECT_EQ(AssessProgress(in).status, ProgressStatus::kDeteriorating);
}

TEST(ProgressTest, SignMismatchFallsBackToLinearChange) {
  // From -10 to 5 against a target of 20: compound growth is undefined.
  ProgressInput in{2015, -10, 2020, 5, 2025, 20, domain::Direction::kIncrease};
  const ProgressAssessment a = AssessProgress(in);
  EXPECT_NEAR(a.progress.growth_ratio, 3.0 / 3.0, 1e-12);
  EXPECT_EQ(a.status, ProgressStatus::kOnTrack);
}

TEST(ProgressTest, LinearModeForPeriodSums) {
  // 30 counted in 3 of 5 years against 100: 10/yr observed, 20/yr needed.
  ProgressInput in{2019, 0, 2022, 30, 2024, 100, domain::Direction::kIncrease,
                   true};
  const ProgressAssessment a = AssessProgress(in);
  EXPECT_NEAR(a.progress.growth_ratio, 0.5, 1e-12);
  EXPECT_EQ(a.status, ProgressStatus::kLimitedProgress);
}

}  // namespace
}  // namespace kpi::forecast
