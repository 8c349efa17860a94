#include "lib/base/quote.h"

#include <string>

#include "gtest/gtest.h"

namespace kpi::base {
namespace {

TEST(QuoteInputTest, QuotesShortTextAsItIs) {
  EXPECT_EQ(QuoteInput("令和3年度"), "\"令和3年度\"");
  EXPECT_EQ(QuoteInput(""), "\"\"");
  EXPECT_EQ(QuoteInput("a \"b\" \\c"), "\"a \\\"b\\\" \\\\c\"");
}

TEST(QuoteInputTest, EscapesControlCharactersAndBytesThatAreNotUtf8) {
  EXPECT_EQ(QuoteInput("a\nb\r\tc\x01"), "\"a\\nb\\r\\tc\\x01\"");
  // A cut character, a CP932 byte, a surrogate and an overlong '/'.
  EXPECT_EQ(QuoteInput("ＦＹ２０２\xEF\xBC"), "\"ＦＹ２０２\\xEF\\xBC\"");
  EXPECT_EQ(QuoteInput("\x88\xAE"), "\"\\x88\\xAE\"");
  EXPECT_EQ(QuoteInput("\xED\xA0\x80"), "\"\\xED\\xA0\\x80\"");
  EXPECT_EQ(QuoteInput("\xC0\xAF"), "\"\\xC0\\xAF\"");
}

TEST(QuoteInputTest, QuotesAShortPrefixOfLongInputAtACharacterBoundary) {
  const std::string long_ascii(100000, 'a');
  EXPECT_EQ(QuoteInput(long_ascii),
            "\"" + std::string(kMaxQuotedBytes, 'a') + "…\" (100000 bytes)");
  // 54 characters of 3 bytes: 53 fit in 160 bytes, the 54th would not.
  std::string kanji;
  for (int i = 0; i < 54; ++i) kanji += "旭";
  std::string want = "\"";
  for (int i = 0; i < 53; ++i) want += "旭";
  EXPECT_EQ(QuoteInput(kanji), want + "…\" (162 bytes)");
}

}  // namespace
}  // namespace kpi::base
