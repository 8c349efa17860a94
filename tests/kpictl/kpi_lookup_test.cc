#include "services/kpictl/kpi_lookup.h"

#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "lib/base/status_matchers.h"

namespace kpi::kpictl {
namespace {

using ::kpi::testing::IsOkAndHolds;
using ::kpi::testing::StatusIs;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

kpi::v1::Kpi MakeKpi(const std::string& id, const std::string& name,
                     const std::string& english = "",
                     const std::string& measure = "", int ordinal = 0) {
  kpi::v1::Kpi k;
  k.set_name("strategies/s/kpis/" + id);
  k.set_display_name(name);
  k.set_english_name(english);
  k.set_measure(measure.empty() ? "" : "strategies/s/measures/" + measure);
  k.set_ordinal(ordinal);
  return k;
}

std::vector<kpi::v1::Kpi> Kpis() {
  return {MakeKpi("airport-passengers", "空港乗降客数",
                  "Asahikawa Airport passengers"),
          MakeKpi("new-farmers", "新規就農者数", "New farmers"),
          MakeKpi("new-businesses", "新規開業件数", "New businesses"),
          MakeKpi("tourist-spending-per-person",
                  "本圏域を訪れる観光客の旅行消費額(一人あたり)")};
}

TEST(MatchKpiTest, IdNameEnglishNameAndUniquePrefix) {
  const auto kpis = Kpis();
  for (const char* typed :
       {"airport-passengers", "空港乗降客数", "空港", "空 港 乗",
        "asahikawa airport passengers", "ＡＩＲＰＯＲＴ", "airport"}) {
    EXPECT_THAT(MatchKpi(kpis, typed, "strategies/s"),
                IsOkAndHolds("strategies/s/kpis/airport-passengers"))
        << typed;
  }
  // Full-width parentheses as a Japanese keyboard types them.
  EXPECT_THAT(MatchKpi(kpis, "本圏域を訪れる観光客の旅行消費額（一人あたり）",
                       "strategies/s"),
              IsOkAndHolds("strategies/s/kpis/tourist-spending-per-person"));
  // An exact ID wins over a longer one it starts.
  auto more = kpis;
  more.push_back(MakeKpi("new-farmers-women", "女性新規就農者数"));
  EXPECT_THAT(MatchKpi(more, "new-farmers", "strategies/s"),
              IsOkAndHolds("strategies/s/kpis/new-farmers"));
}

TEST(MatchKpiTest, AmbiguousTypoEmpty) {
  const auto kpis = Kpis();
  EXPECT_THAT(MatchKpi(kpis, "新規", "strategies/s"),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("\"新規\" starts the ID or name of 2 KPIs of "
                                 "strategies/s: new-farmers (新規就農者数), "
                                 "new-businesses (新規開業件数); type more")));
  EXPECT_THAT(MatchKpi(kpis, "airport-pasengers", "strategies/s"),
              StatusIs(absl::StatusCode::kNotFound,
                       HasSubstr("no KPI of strategies/s has the ID or name "
                                 "\"airport-pasengers\"; closest: "
                                 "airport-passengers (空港乗降客数)")));
  EXPECT_THAT(MatchKpi(kpis, "人口", "strategies/s"),
              StatusIs(absl::StatusCode::kNotFound,
                       HasSubstr("kpictl list shows them")));
  EXPECT_THAT(MatchKpi(kpis, " ", "strategies/s"),
              StatusIs(absl::StatusCode::kInvalidArgument));
}

TEST(SortInStrategyOrderTest, GoalMeasureCodeOrdinal) {
  std::vector<kpi::v1::Goal> goals(2);
  goals[0].set_name("strategies/s/goals/goal-1");
  goals[0].set_number(1);
  goals[1].set_name("strategies/s/goals/goal-2");
  goals[1].set_number(2);
  const auto measure = [](const std::string& id, const std::string& goal,
                          const std::string& code,
                          const std::string& parent = "") {
    kpi::v1::Measure m;
    m.set_name("strategies/s/measures/" + id);
    m.set_goal("strategies/s/goals/" + goal);
    m.set_code(code);
    if (!parent.empty()) m.set_parent("strategies/s/measures/" + parent);
    return m;
  };
  const std::vector<kpi::v1::Measure> measures = {
      measure("g2-e", "goal-2", "エ"),
      measure("g2-e-1", "goal-2", "エ①", "g2-e"),
      measure("g2-a", "goal-2", "ア"),
      measure("g1-u", "goal-1", "ウ"),
      measure("g1-i", "goal-1", "イ"),
      measure("g2-e-10", "goal-2", "エ⑩", "g2-e"),
      measure("g2-e-2", "goal-2", "エ②", "g2-e"),
      measure("n10", "goal-1", "(10)"),
      measure("n9", "goal-1", "9")};
  std::vector<kpi::v1::Kpi> kpis = {
      MakeKpi("z", "", "", "g2-e-1", 0), MakeKpi("y", "", "", "g2-a", 1),
      MakeKpi("x", "", "", "g2-a", 0),   MakeKpi("w", "", "", "g1-u", 0),
      MakeKpi("v", "", "", "g1-i", 2),   MakeKpi("u", "", "", "g2-e-10", 0),
      MakeKpi("t", "", "", "g2-e-2", 0), MakeKpi("s", "", "", "unknown", 0),
      MakeKpi("r", "", "", "g2-e", 0),   MakeKpi("q", "", "", "n10", 0),
      MakeKpi("p", "", "", "n9", 0)};
  SortInStrategyOrder(goals, measures, &kpis);
  std::vector<std::string> ids;
  for (const auto& k : kpis) ids.push_back(k.name().substr(18));
  // Goal 1: 9 < (10) (numbers as numbers, before kana), イ < ウ; goal 2:
  // ア (ordinals 0, 1), エ, its sub-measures エ① < エ② < エ⑩; an unknown
  // measure last.
  EXPECT_THAT(
      ids, ElementsAre("p", "q", "v", "w", "x", "y", "r", "z", "t", "u", "s"));
}

}  // namespace
}  // namespace kpi::kpictl
