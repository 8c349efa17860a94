#include "lib/base/closest.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace kpi::base {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;

TEST(EditDistanceTest, CountsCodePoints) {
  EXPECT_EQ(EditDistance("", ""), 0);
  EXPECT_EQ(EditDistance("abc", ""), 3);
  EXPECT_EQ(EditDistance("kitten", "sitting"), 3);
  EXPECT_EQ(EditDistance("airport-pasengers", "airport-passengers"), 1);
  // One kanji is one edit, though it is three bytes.
  EXPECT_EQ(EditDistance("空港乗客数", "空港乗降客数"), 1);
  EXPECT_EQ(EditDistance("旭川", "旭山"), 1);
  EXPECT_EQ(EditDistance("ABC", "abc"), 0);
}

std::vector<Candidate> SeedKpis() {
  return {
      {"strategies/s/kpis/airport-passengers",
       {"airport-passengers", "空港乗降客数"}},
      {"strategies/s/kpis/bus-rides-per-capita",
       {"bus-rides-per-capita", "市民一人当たりの路線バスの年間利用回数"}},
      {"strategies/s/kpis/new-farmers", {"new-farmers", "新規就農者数"}},
      {"strategies/s/kpis/new-businesses", {"new-businesses", "新規開業件数"}},
  };
}

TEST(ClosestLabelsTest, TyposInIdsAndNames) {
  EXPECT_THAT(ClosestLabels("airport-pasengers", SeedKpis()),
              ElementsAre("strategies/s/kpis/airport-passengers"));
  EXPECT_THAT(ClosestLabels("空港乗客数", SeedKpis()),
              ElementsAre("strategies/s/kpis/airport-passengers"));
  EXPECT_THAT(ClosestLabels("新規就農数", SeedKpis()),
              ElementsAre("strategies/s/kpis/new-farmers"));
  // Nearest first.
  EXPECT_THAT(ClosestLabels("new-busineses", SeedKpis()),
              ElementsAre("strategies/s/kpis/new-businesses"));
  EXPECT_THAT(ClosestLabels("新規", SeedKpis()),
              ElementsAre("strategies/s/kpis/new-farmers",
                          "strategies/s/kpis/new-businesses"));
  // A fragment of a long name.
  EXPECT_THAT(ClosestLabels("路線バス", SeedKpis()),
              ElementsAre("strategies/s/kpis/bus-rides-per-capita"));
  EXPECT_THAT(ClosestLabels("new-farmer", SeedKpis(), 1),
              ElementsAre("strategies/s/kpis/new-farmers"));
}

TEST(ClosestLabelsTest, NothingImplausible) {
  EXPECT_THAT(ClosestLabels("population", SeedKpis()), IsEmpty());
  EXPECT_THAT(ClosestLabels("", SeedKpis()), IsEmpty());
  EXPECT_THAT(ClosestLabels("x", {}), IsEmpty());
}

}  // namespace
}  // namespace kpi::base
