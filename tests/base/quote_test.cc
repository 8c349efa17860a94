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

// The bound is on the quoted text, escapes included: a message quoting two
// inputs of bytes that are not UTF-8 (4 bytes each as \xNN) stays short.
TEST(QuoteInputTest, CountsEscapesAgainstTheBound) {
  const std::string bytes(1000, '\xB5');
  std::string want = "\"";
  for (size_t i = 0; i < kMaxQuotedBytes / 4; ++i) want += "\\xB5";
  EXPECT_EQ(QuoteInput(bytes), want + "…\" (1000 bytes)");
  const std::string quotes(200, '"');
  std::string escaped = "\"";
  for (size_t i = 0; i < kMaxQuotedBytes / 2; ++i) escaped += "\\\"";
  EXPECT_EQ(QuoteInput(quotes), escaped + "…\" (200 bytes)");
}

}  // namespace
}  // namespace kpi::base
