#include "lib/fiscal/fiscal_year.h"

namespace kpi::fiscal {

int FiscalYearOf(absl::CivilDay day) {
  return static_cast<int>(day.month() >= 4 ? day.year() : day.year() - 1);
}

absl::CivilDay FirstDayOfFiscalYear(int fiscal_year) {
  return absl::CivilDay(fiscal_year, 4, 1);
}

absl::CivilDay LastDayOfFiscalYear(int fiscal_year) {
  return absl::CivilDay(fiscal_year + 1, 3, 31);
}

}  // namespace kpi::fiscal
