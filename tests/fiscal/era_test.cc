#include "lib/fiscal/era.h"

#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "lib/base/status_matchers.h"

namespace kpi::fiscal {
namespace {

using ::kpi::testing::IsOk;
using ::kpi::testing::StatusIs;
using ::testing::HasSubstr;

TEST(ParseFiscalPeriodTest, AcceptsEveryWrittenForm) {
  struct Case {
    const char* label;
    int first;
    int last;
  } cases[] = {
      // Era years, long and short, any case.
      {"令和3年度", 2021, 2021},
      {"令和3年", 2021, 2021},
      {"令和3", 2021, 2021},
      {"R3", 2021, 2021},
      {"r3", 2021, 2021},
      {"R03", 2021, 2021},
      {"令和元年度", 2019, 2019},
      {"令和元年", 2019, 2019},
      {"R1", 2019, 2019},
      {"平成31年度", 2019, 2019},
      {"H31", 2019, 2019},
      {"h31", 2019, 2019},
      {"平成元年度", 1989, 1989},
      {"H1", 1989, 1989},
      {"平成27年度", 2015, 2015},
      {"H27", 2015, 2015},
      {"H29", 2017, 2017},
      {"平成30年度", 2018, 2018},
      // Heisei past 31, as plans written before 2019 name later years.
      {"平成32年度", 2020, 2020},
      {"H36", 2024, 2024},
      {"平成72年", 2060, 2060},
      {"昭和元年度", 1926, 1926},
      {"S1", 1926, 1926},
      {"昭和63年度", 1988, 1988},
      {"昭和64年", 1989, 1989},
      {"s50", 1975, 1975},
      // Full-width digits and letters, spaces.
      {"令和３年度", 2021, 2021},
      {"Ｒ３", 2021, 2021},
      {"ｒ３", 2021, 2021},
      {"２０２１年度", 2021, 2021},
      {"ＦＹ２０２１", 2021, 2021},
      {" 令和 3 年度 ", 2021, 2021},
      {"令和\xE3\x80\x80"
       "3年度",
       2021, 2021},  // ideographic space
      // Western years.
      {"2021", 2021, 2021},
      {"2021年度", 2021, 2021},
      {"2021年", 2021, 2021},
      {"FY2021", 2021, 2021},
      {"fy2021", 2021, 2021},
      {"FY 2021", 2021, 2021},
      {"1900", 1900, 1900},
      {"2200", 2200, 2200},
      // Ranges with each separator; the second part may omit the era.
      {"令和2-6年度", 2020, 2024},
      {"平成28-30年度", 2016, 2018},
      {"H28-H30", 2016, 2018},
      {"H28-30", 2016, 2018},
      {"R2～R6年度", 2020, 2024},
      {"R2〜R6", 2020, 2024},
      {"R2~R6", 2020, 2024},
      {"R2–R6", 2020, 2024},
      {"R2－R6", 2020, 2024},
      {"平成28年度～平成30年度", 2016, 2018},
      {"平成28年度-30年度", 2016, 2018},
      {"平成30-令和2年度", 2018, 2020},
      {"H30-R2", 2018, 2020},
      {"平成31-令和元年度", 2019, 2019},
      {"令和元-6年度", 2019, 2024},
      {"2016-2018", 2016, 2018},
      {"2016年度～2018年度", 2016, 2018},
      {"FY2016-FY2018", 2016, 2018},
      {"２０１６－２０１８", 2016, 2018},
      {"昭和63-平成2年度", 1988, 1990},
  };
  for (const Case& c : cases) {
    absl::StatusOr<FiscalPeriod> period = ParseFiscalPeriod(c.label);
    ASSERT_THAT(period, IsOk()) << c.label;
    EXPECT_EQ(period->first, c.first) << c.label;
    EXPECT_EQ(period->last, c.last) << c.label;
  }
}

TEST(ParseFiscalPeriodTest, RejectsJunkSayingWhatIsWrong) {
  struct Case {
    const char* label;
    const char* reason;
  } cases[] = {
      {"", "empty fiscal year"},
      {"   ", "empty fiscal year"},
      {"令和0年度", "令和 years start at 1"},
      {"R0", "令和 years start at 1"},
      {"平成0", "平成 years start at 1"},
      {"H00", "平成 years start at 1"},
      {"昭和65", "昭和 ended in its 64th year"},
      {"S70", "昭和 ended in its 64th year"},
      {"令和", "the era has no year number"},
      {"令和年度", "the era has no year number"},
      {"R", "the era has no year number"},
      {"令和6-2年度", "the range is reversed (2024 is after 2020)"},
      {"2018-2016", "the range is reversed"},
      {"R2-H30", "the range is reversed"},
      {"abc", "unexpected text"},
      {"大正5年", "unexpected text"},
      {"R3.5", "unexpected text"},
      {"令和3年度年度", "unexpected text after the year"},
      {"R3 R4", "unexpected text after the year"},
      {"R2-R6-R8", "unexpected text after the range"},
      {"R2-", "a year number is missing"},
      {"-R2", "a year number is missing"},
      {"元年", "元 needs an era"},
      {"21",
       "a year without an era must be a Western year from 1900 to "
       "2200"},
      {"1899", "from 1900 to 2200"},
      {"2201", "from 1900 to 2200"},
      {"FY21", "from 1900 to 2200"},
      {"H213", "平成 years go up to 212"},
      {"R99999", "a number is too long"},
      {"\xFF", "not valid UTF-8"},
  };
  for (const Case& c : cases) {
    absl::StatusOr<FiscalPeriod> period = ParseFiscalPeriod(c.label);
    EXPECT_THAT(period, StatusIs(absl::StatusCode::kInvalidArgument,
                                 HasSubstr(c.reason)))
        << c.label;
    // Every message lists what would be accepted.
    EXPECT_THAT(std::string(period.status().message()),
                HasSubstr("accepted: a Western year 1900-2200"))
        << c.label;
  }
}

TEST(ParseFiscalPeriodTest, MessageQuotesTheLabel) {
  EXPECT_THAT(ParseFiscalPeriod("令和0年度"),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("\"令和0年度\" is not a fiscal year")));
}

TEST(ParseFiscalYearTest, SingleYearsOnly) {
  EXPECT_EQ(*ParseFiscalYear("R3"), 2021);
  EXPECT_EQ(*ParseFiscalYear("H31-R1"), 2019);
  EXPECT_THAT(ParseFiscalYear("令和2-6年度"),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("is a range of fiscal years (2020-2024)")));
  EXPECT_THAT(ParseFiscalYear("令和0年度"),
              StatusIs(absl::StatusCode::kInvalidArgument));
}

TEST(FormatTest, LongShortAndRange) {
  struct Case {
    int year;
    const char* label;
    const char* short_label;
  } cases[] = {
      {2021, "令和3年度", "R3"},   {2019, "令和元年度", "R1"},
      {2020, "令和2年度", "R2"},   {2024, "令和6年度", "R6"},
      {2018, "平成30年度", "H30"}, {2015, "平成27年度", "H27"},
      {1989, "平成元年度", "H1"},  {1988, "昭和63年度", "S63"},
      {1926, "昭和元年度", "S1"},  {1925, "1925年度", "1925"},
  };
  for (const Case& c : cases) {
    EXPECT_EQ(FormatFiscalYear(c.year), c.label) << c.year;
    EXPECT_EQ(FormatShort(c.year), c.short_label) << c.year;
    // Both print forms read back to the same year.
    EXPECT_EQ(*ParseFiscalYear(FormatFiscalYear(c.year)), c.year) << c.year;
    EXPECT_EQ(*ParseFiscalYear(FormatShort(c.year)), c.year) << c.year;
  }

  struct RangeCase {
    int first;
    int last;
    const char* label;
  } ranges[] = {
      {2016, 2018, "平成28-30年度"},     {2020, 2024, "令和2-6年度"},
      {2018, 2020, "平成30-令和2年度"},  {2019, 2024, "令和元-6年度"},
      {2021, 2021, "令和3年度"},         {1920, 1930, "1920-1930年度"},
      {1987, 1989, "昭和62-平成元年度"},
  };
  for (const RangeCase& r : ranges) {
    EXPECT_EQ(FormatRange(r.first, r.last), r.label);
    absl::StatusOr<FiscalPeriod> back = ParseFiscalPeriod(r.label);
    ASSERT_THAT(back, IsOk()) << r.label;
    EXPECT_EQ(*back, (FiscalPeriod{r.first, r.last})) << r.label;
  }
}

TEST(FormatTest, EveryYearRoundTrips) {
  for (int year = kMinFiscalYear; year <= kMaxFiscalYear; ++year) {
    ASSERT_EQ(*ParseFiscalYear(FormatFiscalYear(year)), year);
    ASSERT_EQ(*ParseFiscalYear(FormatShort(year)), year);
    if (year - 3 < kMinFiscalYear) continue;
    ASSERT_EQ(*ParseFiscalPeriod(FormatRange(year - 3, year)),
              (FiscalPeriod{year - 3, year}))
        << FormatRange(year - 3, year);
  }
}

// Found by tests/fuzz/fiscal_period_fuzzer: the label was quoted whole, so a
// cut character made the message invalid UTF-8 and a long label a long one.
TEST(ParseFiscalPeriodTest, QuotesAShortValidPrefixOfTheLabel) {
  EXPECT_THAT(
      ParseFiscalPeriod("ＦＹ２０２\xEF\xBC"),
      StatusIs(absl::StatusCode::kInvalidArgument,
               HasSubstr("\"ＦＹ２０２\\xEF\\xBC\" is not a fiscal year: "
                         "not valid UTF-8")));
  std::string label;
  for (int i = 0; i < 1000; ++i) label += "令和";
  absl::StatusOr<FiscalPeriod> parsed = ParseFiscalPeriod(label);
  EXPECT_THAT(parsed, StatusIs(absl::StatusCode::kInvalidArgument,
                               HasSubstr("…\" (6000 bytes) is not a fiscal")));
  EXPECT_LT(parsed.status().message().size(), 600u);
}

}  // namespace
}  // namespace kpi::fiscal
