#include "services/kpictl/format.h"

#include <cmath>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace kpi::kpictl {
namespace {

using ::testing::ElementsAre;

TEST(DisplayWidthTest, CountsColumns) {
  struct Case {
    const char* text;
    int width;
  };
  const Case cases[] = {
      {"", 0},
      {"abc", 3},
      {"旭川市", 6},                         // kanji: wide
      {"アグリビジネス起業数(累計数)", 28},  // kana, ASCII parens
      {"ｱｲｳ", 3},                            // halfwidth katakana
      {"（１）", 6},                         // fullwidth forms
      {"エ①", 3},                            // ① is ambiguous: 1
      {"が", 2},                             // precomposed
      {"か\xE3\x82\x99", 2},                 // か + combining dakuten
      {"e\xCC\x81", 1},                      // e + combining acute
      {"\xE2\x80\x8B", 0},                   // zero width space
      {"\xF0\x9F\x98\x80", 2},               // emoji
      {"\xF0\xA0\x80\x8B", 2},               // CJK extension B
      {"\xFF\xFE", 2},                       // invalid bytes: 1 each
      {"\xE6\x97", 2},                       // truncated sequence
  };
  for (const Case& c : cases) {
    EXPECT_EQ(DisplayWidth(c.text), c.width) << c.text;
  }
}

TEST(PadToWidthTest, PadsByColumnsNotBytes) {
  EXPECT_EQ(PadToWidth("旭川", 6, false), "旭川  ");
  EXPECT_EQ(PadToWidth("旭川", 6, true), "  旭川");
  EXPECT_EQ(PadToWidth("1,669", 7, true), "  1,669");
  // Never truncates.
  EXPECT_EQ(PadToWidth("旭川市役所", 4, false), "旭川市役所");
}

TEST(TextTableTest, AlignsJapaneseAndNumbers) {
  TextTable table({"KPI", "名称", "値"}, {false, false, true});
  table.AddRow({"bus-rides", "路線バスの年間利用回数", "45.6"});
  table.AddRow({"startups", "起業数", "1,669"});
  table.AddRow({"x"});  // missing cells are empty
  const std::string rendered = table.Render();
  const std::vector<std::string> lines =
      absl::StrSplit(rendered, '\n', absl::SkipEmpty());
  EXPECT_THAT(lines,
              ElementsAre("KPI        名称                       値",
                          "---------  ----------------------  -----",
                          "bus-rides  路線バスの年間利用回数   45.6",
                          "startups   起業数                  1,669", "x"));
  // Every full line has the same display width.
  EXPECT_EQ(DisplayWidth(lines[1]), DisplayWidth(lines[2]));
  EXPECT_EQ(DisplayWidth(lines[2]), DisplayWidth(lines[3]));
}

TEST(CsvTest, QuotesOnlyWhenNeeded) {
  EXPECT_EQ(CsvField("plain"), "plain");
  EXPECT_EQ(CsvField("旭川市"), "旭川市");
  EXPECT_EQ(CsvField("a,b"), "\"a,b\"");
  EXPECT_EQ(CsvField("say \"hi\""), "\"say \"\"hi\"\"\"");
  EXPECT_EQ(CsvField("two\nlines"), "\"two\nlines\"");
  EXPECT_EQ(CsvField(" padded"), "\" padded\"");
  EXPECT_EQ(CsvField(""), "");
  EXPECT_EQ(CsvRecord({"a", "b,c", ""}), "a,\"b,c\",\n");
}

TEST(JsonStringTest, EscapesControlsKeepsUtf8) {
  EXPECT_EQ(JsonString("旭川"), "\"旭川\"");
  EXPECT_EQ(JsonString("a\"b\\c"), "\"a\\\"b\\\\c\"");
  EXPECT_EQ(JsonString("l1\nl2\t"), "\"l1\\nl2\\t\"");
  EXPECT_EQ(JsonString(std::string("\x01", 1)), "\"\\u0001\"");
}

TEST(FormatValueTest, FourSignificantDigitsWithGrouping) {
  struct Case {
    double value;
    const char* text;
  };
  const Case cases[] = {
      {0, "0"},          {1669, "1,669"},        {113.5, "113.5"},
      {45.634, "45.63"}, {0.96123, "0.961"},     {0.0004, "0"},
      {2.13, "2.13"},    {705.24, "705.2"},      {123456.7, "123,457"},
      {-2.5, "-2.5"},    {-1234.4, "-1,234"},    {100, "100"},
      {-0.0001, "0"},    {1e9, "1,000,000,000"}, {9999.6, "10,000"},
  };
  for (const Case& c : cases) {
    EXPECT_EQ(FormatValue(c.value), c.text) << c.value;
  }
  EXPECT_EQ(FormatValue(std::numeric_limits<double>::quiet_NaN()), "nan");
  EXPECT_EQ(FormatValue(-std::numeric_limits<double>::infinity()), "-inf");
}

TEST(DisplayDecimalsTest, TheDataAndTheUnit) {
  EXPECT_EQ(DisplayDecimals("%", {55.5, 58.1, 65}), 1);
  EXPECT_EQ(DisplayDecimals("%", {55, 60}), 1);
  EXPECT_EQ(DisplayDecimals("%", {2.67, 2.5}), 2);
  EXPECT_EQ(DisplayDecimals("人", {348, 705}), 0);
  EXPECT_EQ(DisplayDecimals("万人", {113.5, 45.9, 145}), 1);
  EXPECT_EQ(DisplayDecimals("万人", {113, 145}), 1);
  EXPECT_EQ(DisplayDecimals("件", {}), 0);
  EXPECT_EQ(DisplayDecimals("回", {28.3}), 1);
  EXPECT_EQ(DisplayDecimals("千円", {}), 1);
  EXPECT_EQ(DisplayDecimals("円", {1200}), 0);
  EXPECT_EQ(DisplayDecimals("%", {0.1 + 0.2}), 1);  // written 0.3
  EXPECT_EQ(DisplayDecimals("%", {0.125}), 3);
  EXPECT_EQ(DisplayDecimals("x", {1e-7}), 3);
  EXPECT_EQ(DisplayDecimals("x", {1.5e10}), 0);
}

TEST(FormatDisplayTest, FixedDecimalsAtMostFourDigits) {
  EXPECT_EQ(FormatDisplay(807.23, 0), "807");
  EXPECT_EQ(FormatDisplay(55, 1), "55.0");
  EXPECT_EQ(FormatDisplay(60.667, 1), "60.7");
  EXPECT_EQ(FormatDisplay(2.6749, 2), "2.67");
  EXPECT_EQ(FormatDisplay(113.5, 1), "113.5");
  EXPECT_EQ(FormatDisplay(1669, 1), "1,669");
  EXPECT_EQ(FormatDisplay(12345.6, 1), "12,346");
  EXPECT_EQ(FormatDisplay(44160000.4, 0), "44,160,000");
  EXPECT_EQ(FormatDisplay(0.01234, 3), "0.012");
  EXPECT_EQ(FormatDisplay(-37309.2, 0), "-37,309");
  EXPECT_EQ(FormatDisplay(-0.04, 1), "0.0");
  EXPECT_EQ(FormatDisplay(std::nan(""), 1), "nan");
}

TEST(FormatProbabilityTest, WholePercentNeverFalseCertainty) {
  EXPECT_EQ(FormatProbability(0), "0%");
  EXPECT_EQ(FormatProbability(1), "100%");
  EXPECT_EQ(FormatProbability(0.834), "83%");
  EXPECT_EQ(FormatProbability(0.003), "<1%");
  EXPECT_EQ(FormatProbability(0.997), ">99%");
  EXPECT_EQ(FormatProbability(0.01), "1%");
  EXPECT_EQ(FormatProbability(0.99), "99%");
}

TEST(FormatCsvNumberTest, TenSignificantDigits) {
  EXPECT_EQ(FormatCsvNumber(1669), "1669");
  EXPECT_EQ(FormatCsvNumber(0.1), "0.1");
  EXPECT_EQ(FormatCsvNumber(1234567.891), "1234567.891");
  EXPECT_EQ(FormatCsvNumber(1.0 / 3), "0.3333333333");
  EXPECT_EQ(FormatCsvNumber(-2.5), "-2.5");
  EXPECT_EQ(FormatCsvNumber(0), "0");
  EXPECT_EQ(FormatCsvNumber(1e10), "1e+10");
  EXPECT_EQ(FormatCsvNumber(0.00001234), "1.234e-05");
  EXPECT_EQ(FormatCsvNumber(9999999999.6), "1e+10");
}

TEST(FormatCsvNumberTest, MatchesPrintfEverywhere) {
  // The fast path must print exactly what "%.10g" prints: random values
  // over every magnitude it handles and beyond, plus powers of ten,
  // rounding ties and their neighbours.
  std::mt19937_64 random(20261129);
  std::uniform_real_distribution<double> exponent(-7, 12);
  std::uniform_real_distribution<double> unit(0, 1);
  std::vector<double> values;
  for (int i = 0; i < 200000; ++i) {
    const double v = std::pow(10.0, exponent(random));
    values.push_back(unit(random) < 0.5 ? v : -v);
  }
  for (int e = -6; e <= 11; ++e) {
    const double p = std::pow(10.0, e);
    for (double v : {p, std::nextafter(p, 0.0), std::nextafter(p, 1e300),
                     p * 0.99999999995, p * 9.9999999995, p * 1.00000000005,
                     p * 1.5, p * 1.23456789015}) {
      values.push_back(v);
    }
  }
  for (double v : {0.5, 2.5, 1234567890.5, 123456789.05, 0.00012345678905,
                   1669.0, 3506.85114380157, 0.022754112791892434}) {
    values.push_back(v);
    values.push_back(std::nextafter(v, 0.0));
    values.push_back(std::nextafter(v, 1e300));
  }
  int mismatches = 0;
  for (double v : values) {
    const std::string expected = absl::StrFormat("%.10g", v);
    if (FormatCsvNumber(v) != expected && ++mismatches <= 5) {
      ADD_FAILURE() << absl::StrFormat("%.17g", v) << ": " << FormatCsvNumber(v)
                    << " != " << expected;
    }
  }
  EXPECT_EQ(mismatches, 0);
}

}  // namespace
}  // namespace kpi::kpictl
