#include "lib/base/clock.h"

#include "absl/time/clock.h"
#include "gtest/gtest.h"

namespace kpi::base {
namespace {

TEST(ClockTest, FakeClockAdvancesOnlyWhenTold) {
  FakeClock clock(absl::FromUnixSeconds(1000));
  EXPECT_EQ(clock.Now(), absl::FromUnixSeconds(1000));
  clock.Advance(absl::Seconds(5));
  EXPECT_EQ(clock.Now(), absl::FromUnixSeconds(1005));
  clock.Set(absl::FromUnixSeconds(7));
  EXPECT_EQ(clock.Now(), absl::FromUnixSeconds(7));
}

TEST(ClockTest, RealClockIsNearAbslNow) {
  EXPECT_LT(absl::AbsDuration(Clock::Real()->Now() - absl::Now()),
            absl::Seconds(5));
}

}  // namespace
}  // namespace kpi::base
