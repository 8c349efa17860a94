#include "lib/dataset/text_encoding.h"

#include <errno.h>
#include <iconv.h>

#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "lib/base/status_matchers.h"

namespace kpi::dataset {
namespace {

using ::kpi::testing::IsOk;
using ::kpi::testing::StatusIs;
using ::testing::HasSubstr;

// Encodes UTF-8 text as CP932 with iconv, as a spreadsheet on Windows
// saves it.
std::string ToCp932(const std::string& utf8) {
  iconv_t cd = iconv_open("CP932", "UTF-8");
  EXPECT_NE(cd, reinterpret_cast<iconv_t>(-1));
  std::string out(2 * utf8.size() + 4, '\0');
  char* in = const_cast<char*>(utf8.data());
  size_t in_left = utf8.size();
  char* o = out.data();
  size_t out_left = out.size();
  EXPECT_NE(iconv(cd, &in, &in_left, &o, &out_left), static_cast<size_t>(-1))
      << errno;
  iconv_close(cd);
  out.resize(out.size() - out_left);
  return out;
}

TEST(DecodeTextTest, Utf8PassesUnchanged) {
  const std::string text = "kpi,value\n子どもたち,50.6\n";
  absl::StatusOr<DecodedText> decoded = DecodeText(text, "a.csv");
  ASSERT_THAT(decoded, IsOk());
  EXPECT_EQ(decoded->text, text);
  EXPECT_EQ(decoded->encoding, TextEncoding::kUtf8);
  EXPECT_EQ(DecodeText("", "empty.csv")->text, "");
}

TEST(DecodeTextTest, StripsUtf8ByteOrderMark) {
  absl::StatusOr<DecodedText> decoded =
      DecodeText("\xEF\xBB\xBFkpi,value\n旭川,1\n", "bom.csv");
  ASSERT_THAT(decoded, IsOk());
  EXPECT_EQ(decoded->text, "kpi,value\n旭川,1\n");
  EXPECT_EQ(decoded->encoding, TextEncoding::kUtf8WithBom);
  EXPECT_EQ(TextEncodingName(decoded->encoding), "UTF-8 with BOM");
  EXPECT_THAT(DecodeText("\xEF\xBB\xBF"
                         "ab\x88\xAE",
                         "bom.csv"),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       "bom.csv: starts with a UTF-8 byte order mark but "
                       "byte 5 is not UTF-8; save it as UTF-8"));
}

TEST(DecodeTextTest, ConvertsCp932Exactly) {
  // 旭川 (88AE 90EC), the NEC special ① (8740), ～ (8160, U+FF5E in CP932),
  // a backslash (5C stays U+005C) and half-width カ (B6).
  absl::StatusOr<DecodedText> decoded =
      DecodeText("\x88\xAE\x90\xEC\x87\x40\x81\x60\x5C\xB6", "sjis.csv");
  ASSERT_THAT(decoded, IsOk());
  EXPECT_EQ(decoded->text, "旭川①\xEF\xBD\x9E\\ｶ");
  EXPECT_EQ(decoded->encoding, TextEncoding::kCp932);
  EXPECT_EQ(TextEncodingName(decoded->encoding), "CP932");

  const std::string csv =
      "kpi,fiscal_year,value,source_note\r\n"
      "strategies/asahikawa-2020/kpis/disabled-employment-rate,令和3年度,"
      "2.67,\"令和2年度実績 ※令和3年度分は9月頃確定予定\"\r\n";
  const std::string cp932 = ToCp932(csv);
  ASSERT_NE(cp932, csv);
  decoded = DecodeText(cp932, "sjis.csv");
  ASSERT_THAT(decoded, IsOk());
  EXPECT_EQ(decoded->text, csv);
  EXPECT_EQ(decoded->encoding, TextEncoding::kCp932);
}

TEST(DecodeTextTest, RejectsWhatIsNeitherUtf8NorCp932) {
  // 0x80 and 0xFD are not bytes of CP932; 0x81 0x20 is a lead byte without
  // its trail byte.
  EXPECT_THAT(DecodeText("abc\x80", "bad.csv"),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       "bad.csv: not UTF-8 (line 1, byte 3) and not "
                       "Shift_JIS/CP932 (line 1, byte 3); save it as UTF-8"));
  EXPECT_THAT(DecodeText("kpi\n\x88\xAE\xFD", "bad.csv"),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       "bad.csv: not UTF-8 (line 2, byte 4) and not "
                       "Shift_JIS/CP932 (line 2, byte 6); save it as UTF-8"));
  EXPECT_THAT(DecodeText("\x81\x20", "bad.csv"),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("not Shift_JIS/CP932 (line 1, byte 0)")));
}

TEST(DecodeTextTest, RejectsUtf16AndNul) {
  EXPECT_THAT(DecodeText(std::string("\xFF\xFEk\0p\0", 6), "u16.csv"),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("u16.csv: is UTF-16 or UTF-32 (it starts "
                                 "with that byte order mark); convert it to "
                                 "UTF-8")));
  EXPECT_THAT(
      DecodeText(std::string("\xFE\xFF\0k", 4), "u16.csv"),
      StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("is UTF-16")));
  EXPECT_THAT(DecodeText(std::string("k\0p\0i\0", 6), "u16.csv"),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("u16.csv: has a NUL byte at byte 1")));
}

TEST(DecodeTextTest, RejectsEucJpRatherThanGarbleIt) {
  // あいう in EUC-JP reads in CP932 as the half-width ､｢､､､ｦ.
  EXPECT_THAT(
      DecodeText("\xA4\xA2\xA4\xA4\xA4\xA6", "euc.csv"),
      StatusIs(absl::StatusCode::kInvalidArgument,
               HasSubstr("euc.csv: not UTF-8 (line 1, byte 0); it reads as "
                         "EUC-JP")));
  // Half-width katakana beside kanji that EUC-JP cannot hold is CP932.
  absl::StatusOr<DecodedText> decoded =
      DecodeText(ToCp932("ﾃｽﾄ旭川"), "sjis.csv");
  ASSERT_THAT(decoded, IsOk());
  EXPECT_EQ(decoded->text, "ﾃｽﾄ旭川");
}

// 旭川市 is E6 97 AD E5 B7 9D E5 B8 82 in UTF-8 and 88 AE 90 EC 8E 73 in
// CP932. Its UTF-8 bytes also read as CP932 (譌ｭ蟾晏ｸ...), so a UTF-8 file
// spoilt by one stray byte must not be "converted" whole.
TEST(DecodeTextTest, AsahikawaCityInEitherEncoding) {
  const std::string csv = "kpi,value\n旭川市,1\n";
  absl::StatusOr<DecodedText> decoded = DecodeText(csv, "utf8.csv");
  ASSERT_THAT(decoded, IsOk());
  EXPECT_EQ(decoded->text, csv);
  EXPECT_EQ(decoded->encoding, TextEncoding::kUtf8);

  ASSERT_EQ(ToCp932("旭川市"), "\x88\xAE\x90\xEC\x8E\x73");
  decoded = DecodeText(ToCp932(csv), "sjis.csv");
  ASSERT_THAT(decoded, IsOk());
  EXPECT_EQ(decoded->text, csv);
  EXPECT_EQ(decoded->encoding, TextEncoding::kCp932);
}

TEST(DecodeTextTest, RejectsUtf8WithOneCp932Row) {
  const std::string mixed =
      "kpi,value\n旭川市,1\n" + ToCp932("旭川市,2\n") + "旭川市,3\n";
  EXPECT_THAT(DecodeText(mixed, "mixed.csv"),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       "mixed.csv: mixes encodings: line 2 is UTF-8 but line "
                       "3 is not (byte 22); save the whole file as UTF-8"));
  // The CP932 row first, the UTF-8 rows after it.
  EXPECT_THAT(
      DecodeText(ToCp932("旭川市,2\n") + "旭川市,3\n", "mixed.csv"),
      StatusIs(absl::StatusCode::kInvalidArgument,
               HasSubstr("line 2 is UTF-8 but line 1 is not (byte 0)")));
}

TEST(DecodeTextTest, RejectsUtf8WithACutCharacter) {
  // 市 cut after its first two bytes, in a file with other UTF-8 rows.
  EXPECT_THAT(DecodeText("kpi,value\n旭川市,1\n旭川\xE5\xB8,2\n", "cut.csv"),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("cut.csv: mixes encodings: line 2 is UTF-8 "
                                 "but line 3 is not (byte 28)")));
  // The only non-ASCII row, cut: UTF-8 up to a character cut short.
  EXPECT_THAT(DecodeText("kpi,value\n旭川\xE5\xB8,2\n", "cut.csv"),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       "cut.csv: line 2 is UTF-8 with a character cut short "
                       "at byte 16; save the whole file as UTF-8"));
  EXPECT_THAT(DecodeText("kpi,value\n旭川\xE5\xB8", "cut.csv"),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("line 2 is UTF-8 with a character cut short "
                                 "at byte 16")));
}

TEST(DecodeOwnedTextTest, AgreesWithDecodeText) {
  const std::string utf8 = "kpi,value\n旭川市,1\n";
  for (const std::string& bytes : {utf8, "\xEF\xBB\xBF" + utf8, ToCp932(utf8),
                                   std::string(), std::string("abc\x80"),
                                   std::string("\xEF\xBB\xBF"
                                               "a\0b",
                                               6),
                                   std::string("a\0b", 3),
                                   std::string("\xFF\xFE"
                                               "a\0",
                                               4),
                                   std::string("kpi\n\x88\xAE\xFD")}) {
    SCOPED_TRACE(bytes);
    const absl::StatusOr<DecodedText> viewed = DecodeText(bytes, "a.csv");
    const absl::StatusOr<DecodedText> owned = DecodeOwnedText(bytes, "a.csv");
    ASSERT_EQ(owned.status(), viewed.status());
    if (!viewed.ok()) continue;
    EXPECT_EQ(owned->text, viewed->text);
    EXPECT_EQ(owned->encoding, viewed->encoding);
  }
}

TEST(DecodeOwnedTextTest, Utf8KeepsItsBufferInsteadOfACopy) {
  // kpictl import holds a whole file: UTF-8 must not be held twice.
  std::string bytes = "kpi,value\n" + std::string(1 << 20, 'x') + "\n";
  const char* const buffer = bytes.data();
  absl::StatusOr<DecodedText> decoded =
      DecodeOwnedText(std::move(bytes), "big.csv");
  ASSERT_THAT(decoded, IsOk());
  EXPECT_EQ(decoded->text.data(), buffer);
  EXPECT_EQ(decoded->encoding, TextEncoding::kUtf8);

  std::string with_bom = "\xEF\xBB\xBF" + std::string(1 << 20, 'y');
  const char* const bom_buffer = with_bom.data();
  decoded = DecodeOwnedText(std::move(with_bom), "bom.csv");
  ASSERT_THAT(decoded, IsOk());
  EXPECT_EQ(decoded->text.data(), bom_buffer);
  EXPECT_EQ(decoded->text, std::string(1 << 20, 'y'));
  EXPECT_EQ(decoded->encoding, TextEncoding::kUtf8WithBom);
}

}  // namespace
}  // namespace kpi::dataset
