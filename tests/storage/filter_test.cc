#include "lib/storage/filter.h"

#include <string>
#include <variant>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "lib/base/field_violations.h"
#include "lib/base/status_matchers.h"

namespace kpi::storage {
namespace {

using domain::ResourceType;
using ::kpi::testing::IsOk;
using ::kpi::testing::StatusIs;
using ::testing::AllOf;
using ::testing::ElementsAre;
using ::testing::Field;
using ::testing::HasSubstr;

// Every error names the request's "filter" field in a violation, which the
// gRPC edge sends as the google.rpc.BadRequest detail kpi_service.proto
// promises.
MATCHER_P(HasFilterViolation, text, "") {
  return ::testing::ExplainMatchResult(
      ElementsAre(
          AllOf(Field(&base::FieldViolation::field, "filter"),
                Field(&base::FieldViolation::description, HasSubstr(text)))),
      base::GetFieldViolations(arg.status()), result_listener);
}

TEST(ParseFilterTest, EmptyFilterHasNoConditions) {
  auto parsed = ParseFilter(ResourceType::kKpi, "  ");
  ASSERT_THAT(parsed, IsOk());
  EXPECT_TRUE(parsed->empty());
}

TEST(ParseFilterTest, ParsesConditionsJoinedByAnd) {
  auto parsed = ParseFilter(ResourceType::kObservation,
                            "fiscal_year>=2020 AND fiscal_year <= 2024 AND "
                            "status != OBSERVATION_STATUS_PROVISIONAL");
  ASSERT_THAT(parsed, IsOk());
  ASSERT_EQ(parsed->size(), 3u);
  EXPECT_EQ((*parsed)[0].field, "fiscal_year");
  EXPECT_EQ((*parsed)[0].op, FilterOp::kGe);
  EXPECT_EQ(std::get<int64_t>((*parsed)[0].value), 2020);
  EXPECT_EQ((*parsed)[1].op, FilterOp::kLe);
  EXPECT_EQ(std::get<int64_t>((*parsed)[1].value), 2024);
  EXPECT_EQ((*parsed)[2].field, "status");
  EXPECT_EQ((*parsed)[2].op, FilterOp::kNe);
  EXPECT_EQ(std::get<int64_t>((*parsed)[2].value), 2);
}

TEST(ParseFilterTest, NamesMayBeQuotedEitherWayOrBare) {
  for (const char* filter :
       {"goal = \"strategies/s/goals/g1\"", "goal = 'strategies/s/goals/g1'",
        "goal=strategies/s/goals/g1"}) {
    SCOPED_TRACE(filter);
    auto parsed = ParseFilter(ResourceType::kKpi, filter);
    ASSERT_THAT(parsed, IsOk());
    ASSERT_EQ(parsed->size(), 1u);
    EXPECT_EQ(std::get<std::string>((*parsed)[0].value),
              "strategies/s/goals/g1");
  }
}

TEST(ParseFilterTest, ShortFormsResolveUnderTheParentStrategy) {
  auto parsed = ParseFilter(ResourceType::kKpi,
                            "goal = goal-1 AND measure = 'm2'", "strategies/s");
  ASSERT_THAT(parsed, IsOk());
  ASSERT_EQ(parsed->size(), 2u);
  EXPECT_EQ(std::get<std::string>((*parsed)[0].value),
            "strategies/s/goals/goal-1");
  EXPECT_EQ(std::get<std::string>((*parsed)[1].value),
            "strategies/s/measures/m2");
  // The canonical form holds the full names.
  EXPECT_EQ(FormatFilter(ResourceType::kKpi, *parsed),
            "goal = \"strategies/s/goals/goal-1\" AND measure = "
            "\"strategies/s/measures/m2\"");
  // A measure's parent measure, under a wildcard-free strategy.
  auto measures =
      ParseFilter(ResourceType::kMeasure, "parent = m1", "strategies/s");
  ASSERT_THAT(measures, IsOk());
  EXPECT_EQ(std::get<std::string>((*measures)[0].value),
            "strategies/s/measures/m1");
  // Full names are taken as they are, whatever the parent.
  auto full = ParseFilter(ResourceType::kKpi, "goal = strategies/t/goals/g",
                          "strategies/s");
  ASSERT_THAT(full, IsOk());
  EXPECT_EQ(std::get<std::string>((*full)[0].value), "strategies/t/goals/g");
  // Without a strategy to resolve under, an ID is refused, saying why.
  for (const char* parent : {"", "strategies/-"}) {
    SCOPED_TRACE(parent);
    auto refused = ParseFilter(ResourceType::kKpi, "goal = g1", parent);
    EXPECT_THAT(
        refused,
        StatusIs(absl::StatusCode::kInvalidArgument,
                 AllOf(HasSubstr("\"g1\" at position 7 is an ID"),
                       HasSubstr("strategies/{strategy}/goals/{goal}"))));
    EXPECT_THAT(refused, HasFilterViolation("names no strategy"));
  }
  // Neither a full name nor an ID: both forms are named.
  EXPECT_THAT(ParseFilter(ResourceType::kKpi, "goal = Goal_1", "strategies/s"),
              HasFilterViolation("or the ID alone (goal = g1)"));
}

TEST(ParseFilterTest, TextFieldsOfKpis) {
  auto parsed = ParseFilter(ResourceType::kKpi,
                            "unit = \"%\" AND display_name : '空港' AND "
                            "display_name != \"観光入込客数\"");
  ASSERT_THAT(parsed, IsOk());
  ASSERT_EQ(parsed->size(), 3u);
  EXPECT_EQ((*parsed)[0].field, "unit");
  EXPECT_EQ((*parsed)[0].op, FilterOp::kEq);
  EXPECT_EQ(std::get<std::string>((*parsed)[0].value), "%");
  EXPECT_EQ((*parsed)[1].field, "display_name");
  EXPECT_EQ((*parsed)[1].op, FilterOp::kHas);
  EXPECT_EQ(std::get<std::string>((*parsed)[1].value), "空港");
  EXPECT_EQ((*parsed)[2].op, FilterOp::kNe);
  const std::string canonical = FormatFilter(ResourceType::kKpi, *parsed);
  EXPECT_EQ(canonical,
            "unit = \"%\" AND display_name : \"空港\" AND display_name != "
            "\"観光入込客数\"");
  auto again = ParseFilter(ResourceType::kKpi, canonical);
  ASSERT_THAT(again, IsOk());
  EXPECT_EQ(FormatFilter(ResourceType::kKpi, *again), canonical);
}

TEST(ParseFilterTest, StatusAndRatingOfKpis) {
  auto parsed = ParseFilter(ResourceType::kKpi,
                            "status = OBSERVATION_STATUS_PROVISIONAL AND "
                            "rating != RATING_REVISE");
  ASSERT_THAT(parsed, IsOk());
  ASSERT_EQ(parsed->size(), 2u);
  EXPECT_EQ(std::get<int64_t>((*parsed)[0].value), 2);
  EXPECT_EQ(std::get<int64_t>((*parsed)[1].value), 3);
  EXPECT_THAT(ParseFilter(ResourceType::kKpi, "status = ON_TRACK"),
              HasFilterViolation("\"ON_TRACK\" at position 9 is not a value "
                                 "of status; accepted: "
                                 "OBSERVATION_STATUS_UNSPECIFIED"));
}

TEST(ParseFilterTest, EnumsMapToTheirNumbers) {
  auto kind = ParseFilter(ResourceType::kKpi, "kind = KPI_KIND_PERIOD_SUM");
  ASSERT_THAT(kind, IsOk());
  EXPECT_EQ(std::get<int64_t>((*kind)[0].value), 3);
  auto rating =
      ParseFilter(ResourceType::kEvaluation, "rating = RATING_REVISE");
  ASSERT_THAT(rating, IsOk());
  EXPECT_EQ(std::get<int64_t>((*rating)[0].value), 3);
}

TEST(ParseFilterTest, UnknownFieldListsTheAcceptedFields) {
  auto ordinal = ParseFilter(ResourceType::kKpi, "ordinal = 1");
  EXPECT_THAT(ordinal,
              StatusIs(absl::StatusCode::kInvalidArgument,
                       AllOf(HasSubstr("filter"), HasSubstr("\"ordinal\""),
                             HasSubstr("goal, measure, kind, unit, "
                                       "display_name, status, rating"))));
  EXPECT_THAT(ordinal, HasFilterViolation("accepted fields for kpis"));
  EXPECT_THAT(
      ParseFilter(ResourceType::kMeasure, "kind = KPI_KIND_LEVEL"),
      StatusIs(absl::StatusCode::kInvalidArgument,
               HasSubstr("accepted fields for measures: goal, parent")));
}

TEST(ParseFilterTest, BadValuesSayWhatIsAccepted) {
  struct Case {
    ResourceType type;
    const char* filter;
    const char* expected;
  } cases[] = {
      {ResourceType::kKpi, "kind = LEVEL",
       "KPI_KIND_LEVEL, KPI_KIND_RUNNING_TOTAL"},
      {ResourceType::kObservation, "fiscal_year = twenty", "not an integer"},
      {ResourceType::kKpi, "goal = \"goals/g\"",
       "strategies/{strategy}/goals/{goal}"},
      {ResourceType::kKpi, "kind < KPI_KIND_LEVEL", "only supports = and !="},
      {ResourceType::kKpi,
       "measure = \"strategies/s/measures/m\" OR kind = "
       "KPI_KIND_LEVEL",
       "expected AND"},
      {ResourceType::kKpi, "(kind = KPI_KIND_LEVEL)", "parentheses"},
      {ResourceType::kKpi, "kind KPI_KIND_LEVEL", "not an operator"},
      {ResourceType::kKpi, "kind =", "missing value"},
      {ResourceType::kKpi, "kind = KPI_KIND_LEVEL AND", "missing condition"},
      {ResourceType::kKpi, "goal = \"strategies/s", "unterminated string"},
      {ResourceType::kKpi, "kind == KPI_KIND_LEVEL", "not an operator"},
      {ResourceType::kStrategy, "name = \"x\"", "cannot be filtered"},
      {ResourceType::kKpi, "unit : \"%\"",
       "unit at position 7 does not support : (contains); accepted: = and !="},
      {ResourceType::kObservation, "fiscal_year : 2020",
       "accepted: = != < <= > >="},
      {ResourceType::kKpi, "display_name < \"a\"",
       "only supports =, != and : (contains)"},
      {ResourceType::kKpi, "display_name : \"\"", "needs a non-empty text"},
      {ResourceType::kKpi, "unit =: \"%\"", "\"=:\" is not an operator"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.filter);
    auto parsed = ParseFilter(c.type, c.filter);
    EXPECT_THAT(parsed,
                StatusIs(absl::StatusCode::kInvalidArgument,
                         AllOf(HasSubstr("filter"), HasSubstr(c.expected))));
    EXPECT_THAT(parsed, HasFilterViolation(c.expected));
  }
}

TEST(FormatFilterTest, WritesTheCanonicalFormThatParsesBack) {
  auto parsed = ParseFilter(ResourceType::kObservation,
                            "fiscal_year>=2020 AND status!=OBSERVATION_STATUS_"
                            "PROVISIONAL AND fiscal_year < 2024");
  ASSERT_THAT(parsed, IsOk());
  const std::string canonical =
      FormatFilter(ResourceType::kObservation, *parsed);
  EXPECT_EQ(canonical,
            "fiscal_year >= 2020 AND status != OBSERVATION_STATUS_PROVISIONAL "
            "AND fiscal_year < 2024");
  auto again = ParseFilter(ResourceType::kObservation, canonical);
  ASSERT_THAT(again, IsOk());
  EXPECT_EQ(FormatFilter(ResourceType::kObservation, *again), canonical);

  auto names = ParseFilter(ResourceType::kKpi,
                           "goal='strategies/s/goals/g1' AND kind = "
                           "KPI_KIND_LEVEL");
  ASSERT_THAT(names, IsOk());
  EXPECT_EQ(FormatFilter(ResourceType::kKpi, *names),
            "goal = \"strategies/s/goals/g1\" AND kind = KPI_KIND_LEVEL");
  EXPECT_EQ(FormatFilter(ResourceType::kKpi, {}), "");
}

TEST(FilterOpSqlTest, SpellsEveryOperator) {
  EXPECT_EQ(FilterOpSql(FilterOp::kEq), "=");
  EXPECT_EQ(FilterOpSql(FilterOp::kNe), "<>");
  EXPECT_EQ(FilterOpSql(FilterOp::kLt), "<");
  EXPECT_EQ(FilterOpSql(FilterOp::kLe), "<=");
  EXPECT_EQ(FilterOpSql(FilterOp::kGt), ">");
  EXPECT_EQ(FilterOpSql(FilterOp::kGe), ">=");
  EXPECT_EQ(FilterOpSql(FilterOp::kHas), "");
}

// Found by tests/fuzz/filter_fuzzer: tokens were quoted whole.
TEST(ParseFilterTest, QuotesAShortValidPrefixOfTheInput) {
  auto bytes =
      ParseFilter(ResourceType::kKpi, "kind = KPI_KIND_LEVEL AND \xFF");
  EXPECT_THAT(bytes,
              HasFilterViolation("unknown field \"\\xFF\" at position 26"));
  auto long_value = ParseFilter(ResourceType::kObservation,
                                "fiscal_year = " + std::string(5000, '9'));
  EXPECT_THAT(long_value, HasFilterViolation("…\" (5000 bytes) at position 14 "
                                             "is not an integer"));
  EXPECT_LT(long_value.status().message().size(), 400u);
}

TEST(ParseFilterTest, CapsTheNumberOfConditions) {
  std::string filter = "fiscal_year >= 2000";
  for (size_t i = 1; i < kMaxFilterConditions; ++i) {
    filter += " AND fiscal_year >= 2000";
  }
  auto parsed = ParseFilter(ResourceType::kObservation, filter);
  ASSERT_THAT(parsed, IsOk());
  EXPECT_EQ(parsed->size(), kMaxFilterConditions);
  filter += " AND status = OBSERVATION_STATUS_FINAL";
  parsed = ParseFilter(ResourceType::kObservation, filter);
  EXPECT_THAT(parsed, StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(parsed, HasFilterViolation(
                          "17 conditions; accepted: at most 16 conditions "
                          "joined by AND"));
}

}  // namespace
}  // namespace kpi::storage
