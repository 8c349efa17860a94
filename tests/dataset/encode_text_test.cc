#include "lib/dataset/encode_text.h"

#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "lib/base/status_matchers.h"
#include "lib/dataset/text_encoding.h"

namespace kpi::dataset {
namespace {

using ::kpi::testing::IsOk;
using ::kpi::testing::IsOkAndHolds;
using ::kpi::testing::StatusIs;
using ::testing::HasSubstr;

constexpr char kCsv[] =
    "kpi,kpi_display_name,value\n"
    "strategies/s/kpis/a,障がい者の雇用率①,2.67\n"
    "strategies/s/kpis/b,冬期(12〜3月)観光客宿泊延数−髙,1\n";

TEST(ParseTextEncodingTest, NamesAndAliases) {
  EXPECT_THAT(ParseTextEncoding("utf-8", "--encoding"),
              IsOkAndHolds(TextEncoding::kUtf8));
  EXPECT_THAT(ParseTextEncoding("UTF8", "--encoding"),
              IsOkAndHolds(TextEncoding::kUtf8));
  EXPECT_THAT(ParseTextEncoding("utf-8-bom", "--encoding"),
              IsOkAndHolds(TextEncoding::kUtf8WithBom));
  EXPECT_THAT(ParseTextEncoding("utf-8-sig", "--encoding"),
              IsOkAndHolds(TextEncoding::kUtf8WithBom));
  EXPECT_THAT(ParseTextEncoding("CP932", "--encoding"),
              IsOkAndHolds(TextEncoding::kCp932));
  EXPECT_THAT(ParseTextEncoding("Shift_JIS", "--encoding"),
              IsOkAndHolds(TextEncoding::kCp932));
  EXPECT_THAT(ParseTextEncoding("euc-jp", "--encoding"),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("--encoding=euc-jp is not an encoding; "
                                 "accepted: utf-8, utf-8-bom")));
  for (TextEncoding e : {TextEncoding::kUtf8, TextEncoding::kUtf8WithBom,
                         TextEncoding::kCp932}) {
    EXPECT_THAT(ParseTextEncoding(TextEncodingFlagValue(e), "f"),
                IsOkAndHolds(e));
  }
}

TEST(EncodeFileTest, EveryEncodingReadsBackThroughDecodeText) {
  for (TextEncoding e : {TextEncoding::kUtf8, TextEncoding::kUtf8WithBom,
                         TextEncoding::kCp932}) {
    SCOPED_TRACE(TextEncodingName(e));
    absl::StatusOr<std::string> bytes = EncodeFile(kCsv, e);
    ASSERT_THAT(bytes, IsOk());
    absl::StatusOr<DecodedText> back = DecodeText(*bytes, "out.csv");
    ASSERT_THAT(back, IsOk());
    EXPECT_EQ(back->encoding, e);
    if (e == TextEncoding::kCp932) {
      // The two characters JIS and Windows map differently come back as
      // CP932's own: 〜 as ～, − as －.
      std::string expected = kCsv;
      expected.replace(expected.find("〜"), 3, "～");
      expected.replace(expected.find("−"), 3, "－");
      EXPECT_EQ(back->text, expected);
    } else {
      EXPECT_EQ(back->text, kCsv);
    }
  }
  EXPECT_EQ(EncodeFile("a", TextEncoding::kUtf8WithBom).value(),
            "\xEF\xBB\xBF"
            "a");
  EXPECT_EQ(EncodeFile("a", TextEncoding::kUtf8).value(), "a");
  // 障 in CP932 is 0x8FE1; ① 0x8740 (NEC special character); 髙 0xFBFC (IBM).
  const std::string sjis = EncodeFile("障①髙", TextEncoding::kCp932).value();
  EXPECT_EQ(sjis, "\x8F\xE1\x87\x40\xFB\xFC");
}

TEST(EncodeTextTest, Cp932RefusesWithTheRow) {
  const std::string text =
      "kpi,name\n"
      "strategies/s/kpis/a,ok\n"
      "strategies/s/kpis/b,\xF0\xA0\xAE\xB7野家\n";  // 𠮷 (U+20BB7)
  EXPECT_THAT(
      EncodeText(text, TextEncoding::kCp932),
      StatusIs(absl::StatusCode::kInvalidArgument,
               HasSubstr("line 3 (strategies/s/kpis/b): \"\xF0\xA0\xAE\xB7\" "
                         "(U+20BB7) has no code in CP932")));
  // A part of a file counts lines from where it starts.
  EXPECT_THAT(EncodeText(text, TextEncoding::kCp932, 101),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("line 103 (strategies/s/kpis/b)")));
  EXPECT_THAT(EncodeText("x,😀\n", TextEncoding::kCp932),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("(U+1F600) has no code in CP932")));
  // ¥ would be written as 0x5C, which reads back as a backslash.
  EXPECT_THAT(
      EncodeText("a\nprice,¥100\n", TextEncoding::kCp932),
      StatusIs(absl::StatusCode::kInvalidArgument,
               HasSubstr("line 2 (price): \"¥\" (U+00A5) has no code of its "
                         "own (its code reads back as U+005C) in CP932")));
  EXPECT_THAT(EncodeText("a,😀", TextEncoding::kCp932).status().message(),
              HasSubstr("--encoding=utf-8-bom or utf-8"));
  // UTF-8 either way holds everything.
  EXPECT_THAT(EncodeText(text, TextEncoding::kUtf8WithBom), IsOkAndHolds(text));
}

}  // namespace
}  // namespace kpi::dataset
