#ifndef KPI_LIB_FISCAL_ERA_H_
#define KPI_LIB_FISCAL_ERA_H_

// Fiscal-year labels as Japanese documents write them: 令和3年度, R3, H31,
// 平成28-30年度, 令和元年度, ＦＹ２０２１, 2021年度. All functions are pure and
// thread-safe.
//
// Eras count from 昭和 (S, 1926 = 昭和元年), 平成 (H, 1989) and 令和 (R,
// 2019). A fiscal year's era number is the calendar year it starts in minus
// the era's base year, so FY2019 is both 平成31年度 and 令和元年度. Plans
// written before 2019 name later years in Heisei (H32 = FY2020), so Heisei
// numbers past 31 are accepted; Showa ended in its 64th year, so 昭和65 and
// later are rejected.

#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "lib/fiscal/fiscal_year.h"

namespace kpi::fiscal {

// Parses a fiscal year or an inclusive range of fiscal years. Accepted:
// - an era year: 令和/平成/昭和 or R/H/S (any case), a number or 元 (= 1),
//   an optional 年度 or 年 suffix: "令和3年度", "R3", "h31", "平成元年";
// - a Western year in [kMinFiscalYear, kMaxFiscalYear], optionally with
//   "FY" before or 年度 / 年 after: "2021", "FY2021", "2021年度";
// - a range of two of these joined by - ～ 〜 ~ – — or −, where the second
//   may omit the era of the first: "令和2-6年度", "H28-H30", "R2～R6年度",
//   "平成30-令和2年度", "2016-2018".
// Full-width digits and letters (Ｒ３, ２０２１) and spaces are accepted.
// Returns INVALID_ARGUMENT, quoting the label, saying what is wrong and what
// is accepted, for anything else: an empty label, year 0 of an era, 昭和65
// and later, an era without a number, a reversed range, a year outside
// [kMinFiscalYear, kMaxFiscalYear], or any other text.
absl::StatusOr<FiscalPeriod> ParseFiscalPeriod(std::string_view label);

// Like ParseFiscalPeriod, but a range is INVALID_ARGUMENT too.
absl::StatusOr<int> ParseFiscalYear(std::string_view label);

// The usual Japanese name of a fiscal year: 2021 -> "令和3年度",
// 2019 -> "令和元年度", 2018 -> "平成30年度". The era is the one in force at
// the end of the calendar year the fiscal year starts in, which is how the
// year of an era change is named officially (FY2019 began under Heisei but
// is called 令和元年度). Years before 1926 print as "1925年度".
std::string FormatFiscalYear(int fiscal_year);

// The short form: 2019 -> "R1", 2018 -> "H30", 1988 -> "S63"; years before
// 1926 print as "1925".
std::string FormatShort(int fiscal_year);

// A range in one label: (2016, 2018) -> "平成28-30年度", (2020, 2024) ->
// "令和2-6年度", (2018, 2020) -> "平成30-令和2年度"; first == last prints as
// FormatFiscalYear. ParseFiscalPeriod reads every output back. Expects
// first <= last (a reversed pair prints reversed).
std::string FormatRange(int first, int last);

}  // namespace kpi::fiscal

#endif  // KPI_LIB_FISCAL_ERA_H_
