#include "lib/base/field_violations.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "lib/base/status_matchers.h"

namespace kpi::base {
namespace {

using ::kpi::testing::IsOk;
using ::kpi::testing::StatusIs;
using ::testing::HasSubstr;

TEST(FieldViolationsTest, RoundTripsThroughPayload) {
  absl::Status s = InvalidArgumentWithViolations(
      "dataset is invalid",
      {{"kpis[3].unit", "required"},
       {"observations[0].value", "\"1,2,3\" is\tnot a number"}});
  EXPECT_THAT(s, StatusIs(absl::StatusCode::kInvalidArgument,
                          HasSubstr("kpis[3].unit: required")));
  std::vector<FieldViolation> v = GetFieldViolations(s);
  ASSERT_EQ(v.size(), 2u);
  EXPECT_EQ(v[0].field, "kpis[3].unit");
  EXPECT_EQ(v[0].description, "required");
  EXPECT_EQ(v[1].field, "observations[0].value");
  EXPECT_EQ(v[1].description, "\"1,2,3\" is not a number");
}

TEST(FieldViolationsTest, EmptyIsOkAndOtherStatusesHaveNone) {
  EXPECT_THAT(InvalidArgumentWithViolations("x", {}), IsOk());
  EXPECT_TRUE(GetFieldViolations(absl::NotFoundError("x")).empty());
}

TEST(FieldViolationsTest, MessageListsAtMostTwenty) {
  std::vector<FieldViolation> many(25, {"f", "bad"});
  absl::Status s = InvalidArgumentWithViolations("many", many);
  EXPECT_THAT(s.message(), HasSubstr("and 5 more"));
  EXPECT_EQ(GetFieldViolations(s).size(), 25u);
}

}  // namespace
}  // namespace kpi::base
