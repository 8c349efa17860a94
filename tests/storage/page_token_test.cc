#include "lib/storage/page_token.h"

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

// The violation the gRPC edge sends as the google.rpc.BadRequest detail
// kpi_service.proto promises: one, on `field`, saying what is accepted.
MATCHER_P(HasOneViolationOn, field, "") {
  return ::testing::ExplainMatchResult(
      ElementsAre(AllOf(
          Field(&base::FieldViolation::field, field),
          Field(&base::FieldViolation::description, HasSubstr("accepted")))),
      base::GetFieldViolations(arg.status()), result_listener);
}

TEST(PageSizeTest, DefaultsCapsAndRejectsNegative) {
  EXPECT_EQ(*EffectivePageSize(0), 100);
  EXPECT_EQ(*EffectivePageSize(1), 1);
  EXPECT_EQ(*EffectivePageSize(1000), 1000);
  EXPECT_EQ(*EffectivePageSize(5000), 1000);
  EXPECT_THAT(
      EffectivePageSize(-1),
      StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("page_size: -1")));
  EXPECT_THAT(EffectivePageSize(-1), HasOneViolationOn("page_size"));
}

TEST(PageTokenTest, RoundTripsTheLastName) {
  const std::string token =
      EncodePageToken(ResourceType::kKpi, "strategies/s",
                      "kind = KPI_KIND_LEVEL", "strategies/s/kpis/k-07");
  auto last = DecodePageToken(ResourceType::kKpi, "strategies/s",
                              "kind = KPI_KIND_LEVEL", token);
  ASSERT_THAT(last, IsOk());
  EXPECT_EQ(*last, "strategies/s/kpis/k-07");
  // Opaque: the name is not readable in the token.
  EXPECT_EQ(token.find("kpis"), std::string::npos);
}

TEST(PageTokenTest, EmptyTokenIsTheFirstPage) {
  auto last = DecodePageToken(ResourceType::kGoal, "strategies/s", "", "");
  ASSERT_THAT(last, IsOk());
  EXPECT_EQ(*last, "");
}

TEST(PageTokenTest, IsBoundToCollectionParentAndFilter) {
  const std::string token = EncodePageToken(ResourceType::kKpi, "strategies/a",
                                            "", "strategies/a/kpis/x");
  EXPECT_THAT(DecodePageToken(ResourceType::kKpi, "strategies/b", "", token),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("page_token: was issued for a different")));
  EXPECT_THAT(DecodePageToken(ResourceType::kKpi, "strategies/b", "", token),
              HasOneViolationOn("page_token"));
  EXPECT_THAT(
      DecodePageToken(ResourceType::kKpi, "strategies/a",
                      "kind = KPI_KIND_LEVEL", token),
      StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("page_token")));
  EXPECT_THAT(
      DecodePageToken(ResourceType::kGoal, "strategies/a", "", token),
      StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("page_token")));
  // Parent and filter do not run into each other.
  const std::string split =
      EncodePageToken(ResourceType::kKpi, "ab", "c", "strategies/a/kpis/x");
  EXPECT_THAT(DecodePageToken(ResourceType::kKpi, "a", "bc", split),
              StatusIs(absl::StatusCode::kInvalidArgument));
}

TEST(PageTokenTest, RejectsGarbage) {
  for (const char* token : {"not a token!", "AAAA", "abc", "%%%"}) {
    SCOPED_TRACE(token);
    EXPECT_THAT(DecodePageToken(ResourceType::kKpi, "strategies/a", "", token),
                StatusIs(absl::StatusCode::kInvalidArgument,
                         HasSubstr("is not a page token this service issued")));
    EXPECT_THAT(DecodePageToken(ResourceType::kKpi, "strategies/a", "", token),
                HasOneViolationOn("page_token"));
  }
}

// Found by tests/fuzz/page_token_fuzzer: the token was quoted whole, so a
// 100 KB token made a message larger than gRPC's trailers allow.
TEST(PageTokenTest, QuotesAShortValidPrefixOfTheToken) {
  auto bytes = DecodePageToken(ResourceType::kKpi, "strategies/a", "", "a\xFF");
  EXPECT_THAT(bytes, StatusIs(absl::StatusCode::kInvalidArgument,
                              HasSubstr("\"a\\xFF\" is not a page token")));
  auto long_token = DecodePageToken(ResourceType::kKpi, "strategies/a", "",
                                    std::string(100000, 'A'));
  EXPECT_THAT(long_token,
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("…\" (100000 bytes) is not a page token")));
  EXPECT_LT(long_token.status().message().size(), 400u);
}

}  // namespace
}  // namespace kpi::storage
