// Fuzzes the fiscal-year label parser (lib/fiscal/era.h), which reads the
// fiscal_year cells of imported CSV files: 令和3年度, R2-6年度, ＦＹ２０２１.
//
// Properties: a label is either a period inside [kMinFiscalYear,
// kMaxFiscalYear] with first <= last, or a user error (fuzz_check.h); every
// way the project prints an accepted period (FormatRange, FormatFiscalYear,
// FormatShort) parses back to the same period; ParseFiscalYear agrees with
// ParseFiscalPeriod.

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "absl/strings/str_cat.h"
#include "lib/fiscal/era.h"
#include "lib/fiscal/fiscal_year.h"
#include "tests/fuzz/fuzz_check.h"

namespace kpi::fiscal {
namespace {

using fuzz::Check;

void CheckParsesTo(const std::string& label, FiscalPeriod want,
                   std::string_view from) {
  absl::StatusOr<FiscalPeriod> got = ParseFiscalPeriod(label);
  Check(got.ok() && *got == want,
        absl::StrCat(std::string(from), " printed \"", label, "\" for ",
                     want.first, "-", want.last, ", which parses as ",
                     got.ok() ? absl::StrCat(got->first, "-", got->last)
                              : got.status().ToString()));
}

void FuzzOne(std::string_view label) {
  absl::StatusOr<FiscalPeriod> period = ParseFiscalPeriod(label);
  absl::StatusOr<int> year = ParseFiscalYear(label);
  const std::string context =
      absl::StrCat("label: \"", std::string(label), "\"");
  if (!period.ok()) {
    fuzz::CheckUserError(period.status(), context);
    Check(!year.ok(), absl::StrCat("ParseFiscalYear accepts what "
                                   "ParseFiscalPeriod rejects; ",
                                   context));
    return;
  }
  const FiscalPeriod p = *period;
  Check(kMinFiscalYear <= p.first && p.first <= p.last &&
            p.last <= kMaxFiscalYear,
        absl::StrCat("period ", p.first, "-", p.last, " out of range; ",
                     context));
  if (p.is_single_year()) {
    Check(year.ok() && *year == p.first,
          absl::StrCat("ParseFiscalYear disagrees; ", context));
    CheckParsesTo(FormatFiscalYear(p.first), p, "FormatFiscalYear");
    CheckParsesTo(FormatShort(p.first), p, "FormatShort");
  } else {
    fuzz::CheckUserError(year.status(), context);
    CheckParsesTo(absl::StrCat(FormatShort(p.first), "-", FormatShort(p.last)),
                  p, "FormatShort-FormatShort");
  }
  CheckParsesTo(FormatRange(p.first, p.last), p, "FormatRange");
}

}  // namespace
}  // namespace kpi::fiscal

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  kpi::fiscal::FuzzOne(
      std::string_view(reinterpret_cast<const char*>(data), size));
  return 0;
}
