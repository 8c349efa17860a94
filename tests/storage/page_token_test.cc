#include "lib/storage/page_token.h"

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "lib/base/field_violations.h"
#include "lib/base/status_matchers.h"
#include "lib/domain/validation.h"

namespace kpi::storage {
namespace {

using domain::ResourceType;
using ::kpi::testing::IsOk;
using ::kpi::testing::IsOkAndHolds;
using ::kpi::testing::StatusIs;
using ::testing::AllOf;
using ::testing::ElementsAre;
using ::testing::Field;
using ::testing::HasSubstr;
using ::testing::Not;

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

// A fixed key: tokens here are the same on every run.
const PageTokens& Tokens() {
  static const auto* const kTokens =
      new PageTokens(std::string(PageTokens::kKeyBytes, 'k'));
  return *kTokens;
}

std::string EncodePageToken(ResourceType collection, std::string_view parent,
                            std::string_view filter,
                            std::string_view last_name) {
  return Tokens().Encode(collection, parent, filter, last_name);
}

absl::StatusOr<std::string> DecodePageToken(ResourceType collection,
                                            std::string_view parent,
                                            std::string_view filter,
                                            std::string_view token) {
  return Tokens().Decode(collection, parent, filter, token);
}

std::string Raw(const std::string& token) {
  std::string raw;
  EXPECT_TRUE(absl::WebSafeBase64Unescape(token, &raw)) << token;
  return raw;
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

// The format, pinned: what tests/fuzz/make_seeds.py computes with Python's
// hmac for the same key (version 2, the cursor, HMAC-SHA256 of the version
// and the length-prefixed collection, parent, filter and cursor).
TEST(PageTokenTest, HasTheDocumentedFormat) {
  // Python pads with "="; the service does not, and takes either.
  const std::string golden =
      "AnN0cmF0ZWdpZXMvcy9rcGlzL2stMDeE-ZqWZSK2dl6RFZ-"
      "sh3KXBP06ovsMn9AWQMLuxagoW"
      "g";
  EXPECT_EQ(EncodePageToken(ResourceType::kKpi, "strategies/s",
                            "kind = KPI_KIND_LEVEL", "strategies/s/kpis/k-07"),
            golden);
  for (const std::string& token : {golden, golden + "=="}) {
    EXPECT_THAT(DecodePageToken(ResourceType::kKpi, "strategies/s",
                                "kind = KPI_KIND_LEVEL", token),
                IsOkAndHolds("strategies/s/kpis/k-07"));
  }
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
                       HasSubstr("page_token: is not one this store issued "
                                 "for this request (kpis under "
                                 "\"strategies/b\" with filter \"\")")));
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
                       HasSubstr("…\" (100000 bytes) is too long: page "
                                 "tokens have at most 1024 bytes")));
  EXPECT_THAT(long_token, HasOneViolationOn("page_token"));
  EXPECT_LT(long_token.status().message().size(), 400u);
}

// Every byte is covered by the MAC: flipping any one bit of the version, the
// cursor or the MAC itself is refused. A token whose MAC does not match is
// not quoted (one of another version is, up to base::kMaxQuotedBytes).
TEST(PageTokenTest, RefusesAnyFlippedByte) {
  const std::string token = EncodePageToken(ResourceType::kKpi, "strategies/a",
                                            "", "strategies/a/kpis/x");
  const std::string raw = Raw(token);
  ASSERT_EQ(raw.size(), 1 + 19 + 32u);  // version, cursor, HMAC-SHA256
  for (size_t i = 0; i < raw.size(); ++i) {
    for (int bit : {0, 7}) {
      SCOPED_TRACE(absl::StrCat("byte ", i, " bit ", bit));
      std::string forged = raw;
      forged[i] = static_cast<char>(forged[i] ^ (1 << bit));
      const std::string forged_token = absl::WebSafeBase64Escape(forged);
      auto decoded =
          DecodePageToken(ResourceType::kKpi, "strategies/a", "", forged_token);
      EXPECT_THAT(decoded, StatusIs(absl::StatusCode::kInvalidArgument,
                                    HasSubstr("page_token")));
      EXPECT_THAT(decoded, HasOneViolationOn("page_token"));
      if (i > 0) {
        EXPECT_THAT(decoded.status().message(),
                    AllOf(HasSubstr("is not one this store issued"),
                          Not(HasSubstr(forged_token))));
      }
    }
  }
}

TEST(PageTokenTest, RefusesATruncatedOrLengthenedToken) {
  const std::string token = EncodePageToken(ResourceType::kKpi, "strategies/a",
                                            "", "strategies/a/kpis/x");
  const std::string raw = Raw(token);
  for (size_t cut = 1; cut < raw.size(); ++cut) {
    SCOPED_TRACE(absl::StrCat("first ", cut, " bytes"));
    EXPECT_THAT(DecodePageToken(ResourceType::kKpi, "strategies/a", "",
                                absl::WebSafeBase64Escape(raw.substr(0, cut))),
                StatusIs(absl::StatusCode::kInvalidArgument));
  }
  for (const std::string& extra :
       {std::string(1, '\0'), std::string("x"), raw.substr(1)}) {
    EXPECT_THAT(DecodePageToken(ResourceType::kKpi, "strategies/a", "",
                                absl::WebSafeBase64Escape(raw + extra)),
                StatusIs(absl::StatusCode::kInvalidArgument));
    // The cursor lengthened, the MAC kept at the end.
    std::string moved = raw;
    moved.insert(1 + 19, extra);
    EXPECT_THAT(DecodePageToken(ResourceType::kKpi, "strategies/a", "",
                                absl::WebSafeBase64Escape(moved)),
                StatusIs(absl::StatusCode::kInvalidArgument));
  }
  // The longest token accepted is the request's cap.
  const std::string longest(domain::kMaxPageTokenBytes, 'A');
  EXPECT_THAT(DecodePageToken(ResourceType::kKpi, "strategies/a", "", longest),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("is not a page token")));
  EXPECT_THAT(
      DecodePageToken(ResourceType::kKpi, "strategies/a", "", longest + "A"),
      StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("is too long")));
}

// A token made with another key (another store) is refused; one made with
// an equal key (a replica of the same store) is accepted.
TEST(PageTokenTest, IsBoundToTheKey) {
  const std::string token = EncodePageToken(ResourceType::kKpi, "strategies/a",
                                            "", "strategies/a/kpis/x");
  std::string other_key(PageTokens::kKeyBytes, 'k');
  other_key.back() = 'j';
  EXPECT_THAT(PageTokens(other_key).Decode(ResourceType::kKpi, "strategies/a",
                                           "", token),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("issued by another store")));
  const PageTokens replica(std::string(PageTokens::kKeyBytes, 'k'));
  EXPECT_THAT(replica.Decode(ResourceType::kKpi, "strategies/a", "", token),
              IsOk());
}

TEST(PageTokenTest, NewKeysAreRandomAndFull) {
  auto a = PageTokens::NewKey();
  auto b = PageTokens::NewKey();
  ASSERT_THAT(a, IsOk());
  ASSERT_THAT(b, IsOk());
  EXPECT_EQ(a->size(), PageTokens::kKeyBytes);
  EXPECT_NE(*a, *b);
}

// A token of the same cursor for the change log and for a resource list
// are told apart (the collection is MACed with the rest).
TEST(PageTokenTest, IsBoundToACollectionId) {
  const std::string token = Tokens().Encode("changes", "", "f", "5:1");
  EXPECT_THAT(Tokens().Decode("changes", "", "f", token), IsOk());
  EXPECT_THAT(Tokens().Decode("changez", "", "f", token),
              StatusIs(absl::StatusCode::kInvalidArgument));
}

}  // namespace
}  // namespace kpi::storage
