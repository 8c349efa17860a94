#ifndef KPI_LIB_FISCAL_FISCAL_YEAR_H_
#define KPI_LIB_FISCAL_FISCAL_YEAR_H_

// Japanese fiscal years (年度): fiscal year n runs from 1 April of year n to
// 31 March of year n+1 (Local Autonomy Act, art. 208), and is named by the
// calendar year in which it starts. All functions are pure and thread-safe.

#include "absl/time/civil_time.h"

namespace kpi::fiscal {

// The fiscal years this project accepts anywhere (parsing, validation).
inline constexpr int kMinFiscalYear = 1900;
inline constexpr int kMaxFiscalYear = 2200;

// A fiscal year or an inclusive range of them; first == last for one year.
struct FiscalPeriod {
  int first = 0;
  int last = 0;

  bool is_single_year() const { return first == last; }
  friend bool operator==(const FiscalPeriod& a, const FiscalPeriod& b) {
    return a.first == b.first && a.last == b.last;
  }
  friend bool operator!=(const FiscalPeriod& a, const FiscalPeriod& b) {
    return !(a == b);
  }
};

// The fiscal year containing `day`: 2021-04-01 and 2022-03-31 are both in
// FY2021.
int FiscalYearOf(absl::CivilDay day);

// 1 April of `fiscal_year`.
absl::CivilDay FirstDayOfFiscalYear(int fiscal_year);

// 31 March of `fiscal_year` + 1.
absl::CivilDay LastDayOfFiscalYear(int fiscal_year);

}  // namespace kpi::fiscal

#endif  // KPI_LIB_FISCAL_FISCAL_YEAR_H_
