#include "lib/fiscal/fiscal_year.h"

#include "gtest/gtest.h"

namespace kpi::fiscal {
namespace {

TEST(FiscalYearOfTest, AprilToMarch) {
  struct Case {
    absl::CivilDay day;
    int fiscal_year;
  } cases[] = {
      {absl::CivilDay(2021, 4, 1), 2021},  {absl::CivilDay(2021, 12, 31), 2021},
      {absl::CivilDay(2022, 1, 1), 2021},  {absl::CivilDay(2022, 3, 31), 2021},
      {absl::CivilDay(2022, 4, 1), 2022},  {absl::CivilDay(2021, 3, 31), 2020},
      {absl::CivilDay(2019, 4, 30), 2019}, {absl::CivilDay(2019, 5, 1), 2019},
      {absl::CivilDay(2020, 2, 29), 2019}, {absl::CivilDay(1989, 1, 7), 1988},
  };
  for (const Case& c : cases) {
    EXPECT_EQ(FiscalYearOf(c.day), c.fiscal_year) << c.day;
  }
}

TEST(FiscalYearBoundsTest, FirstAndLastDay) {
  EXPECT_EQ(FirstDayOfFiscalYear(2021), absl::CivilDay(2021, 4, 1));
  EXPECT_EQ(LastDayOfFiscalYear(2021), absl::CivilDay(2022, 3, 31));
  EXPECT_EQ(LastDayOfFiscalYear(2024), absl::CivilDay(2025, 3, 31));
  for (int year = kMinFiscalYear; year <= kMaxFiscalYear; ++year) {
    EXPECT_EQ(FiscalYearOf(FirstDayOfFiscalYear(year)), year);
    EXPECT_EQ(FiscalYearOf(LastDayOfFiscalYear(year)), year);
    EXPECT_EQ(FiscalYearOf(FirstDayOfFiscalYear(year) - 1), year - 1);
    EXPECT_EQ(LastDayOfFiscalYear(year) + 1, FirstDayOfFiscalYear(year + 1));
  }
}

}  // namespace
}  // namespace kpi::fiscal
