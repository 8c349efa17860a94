#include "lib/domain/names.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "lib/base/status_matchers.h"

namespace kpi::domain {
namespace {

using ::kpi::testing::IsOk;
using ::kpi::testing::StatusIs;
using ::testing::HasSubstr;

TEST(IdTest, AcceptsAndRejects) {
  struct Case {
    const char* id;
    bool valid;
  } cases[] = {
      {"a", true},           {"asahikawa-2020", true},
      {"fy2016-2018", true}, {"", false},
      {"A", false},          {"1a", false},
      {"a-", false},         {"a_b", false},
      {"旭川", false},       {"a/b", false},
  };
  for (const Case& c : cases) {
    EXPECT_EQ(IsValidId(c.id), c.valid) << c.id;
  }
  EXPECT_TRUE(IsValidId(std::string(63, 'a')));
  EXPECT_FALSE(IsValidId(std::string(64, 'a')));
}

TEST(NameTest, ParsesEachType) {
  auto obs = ParseName("strategies/s/kpis/k/observations/fy2021",
                       ResourceType::kObservation, "name");
  ASSERT_THAT(obs, IsOk());
  EXPECT_EQ(obs->parent, "strategies/s/kpis/k");
  EXPECT_EQ(obs->id, "fy2021");

  auto strategy = ParseName("strategies/s", ResourceType::kStrategy, "name");
  ASSERT_THAT(strategy, IsOk());
  EXPECT_EQ(strategy->parent, "");
  EXPECT_EQ(strategy->id, "s");

  auto eval = ParseAnyName("strategies/s/measures/m/evaluations/fy2021", "x");
  ASSERT_THAT(eval, IsOk());
  EXPECT_EQ(eval->type, ResourceType::kEvaluation);
  EXPECT_EQ(eval->parent, "strategies/s/measures/m");
}

TEST(NameTest, RejectsWithPatternInMessage) {
  EXPECT_THAT(ParseName("strategies/s/goals/g", ResourceType::kKpi, "kpi.name"),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("strategies/{strategy}/kpis/{kpi}")));
  EXPECT_THAT(ParseName("", ResourceType::kKpi, "name"),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("name is required")));
  EXPECT_THAT(ParseName("strategies/S", ResourceType::kStrategy, "name"),
              StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(ParseAnyName("strategies/s/foo/x", "name"),
              StatusIs(absl::StatusCode::kInvalidArgument));
}

TEST(ListParentTest, WildcardsStandForEveryId) {
  auto plain = ParseListParent("strategies/s/measures/m",
                               ResourceType::kMeasure, "parent");
  ASSERT_THAT(plain, IsOk());
  EXPECT_FALSE(plain->wildcard);
  EXPECT_EQ(plain->like_pattern, "");

  auto every_measure = ParseListParent("strategies/s/measures/-",
                                       ResourceType::kMeasure, "parent");
  ASSERT_THAT(every_measure, IsOk());
  EXPECT_TRUE(every_measure->wildcard);
  EXPECT_EQ(every_measure->like_pattern, "strategies/s/measures/%");
  EXPECT_EQ(every_measure->fixed_ancestor, "strategies/s");

  auto everywhere =
      ParseListParent("strategies/-/kpis/-", ResourceType::kKpi, "parent");
  ASSERT_THAT(everywhere, IsOk());
  EXPECT_EQ(everywhere->like_pattern, "strategies/%/kpis/%");
  EXPECT_EQ(everywhere->fixed_ancestor, "");

  auto strategies =
      ParseListParent("strategies/-", ResourceType::kStrategy, "parent");
  ASSERT_THAT(strategies, IsOk());
  EXPECT_EQ(strategies->like_pattern, "strategies/%");

  // "-" is an ID, never a collection, and the rest must still be a name.
  for (const char* bad : {"strategies/s/-/m", "-/s/measures/m",
                          "strategies/s/kpis/-", "strategies/s/measures/--"}) {
    SCOPED_TRACE(bad);
    EXPECT_THAT(
        ParseListParent(bad, ResourceType::kMeasure, "parent"),
        StatusIs(absl::StatusCode::kInvalidArgument,
                 HasSubstr("strategies/{strategy}/measures/{measure}")));
  }
  EXPECT_THAT(
      ParseListParent("strategies/s/kpis/-", ResourceType::kMeasure, "parent"),
      StatusIs(absl::StatusCode::kInvalidArgument,
               HasSubstr("or - for every one (AIP-159)")));
}

TEST(NameTest, MakesNamesAndFiscalYearIds) {
  EXPECT_EQ(MakeName("strategies/s", ResourceType::kKpi, "k"),
            "strategies/s/kpis/k");
  EXPECT_EQ(MakeName("", ResourceType::kReference, "r"), "references/r");
  EXPECT_EQ(FiscalYearId(0, 2021), "fy2021");
  EXPECT_EQ(FiscalYearId(2021, 2021), "fy2021");
  EXPECT_EQ(FiscalYearId(2016, 2018), "fy2016-2018");
}

}  // namespace
}  // namespace kpi::domain
