#include "tests/fuzz/fuzz_check.h"

#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "lib/base/field_violations.h"
#include "lib/domain/validation.h"

namespace kpi::fuzz {
namespace {

// At most the first 2000 bytes: a finding's report stays readable.
std::string Head(std::string_view s) { return std::string(s.substr(0, 2000)); }

}  // namespace

void Check(bool condition, std::string_view what) {
  if (condition) return;
  std::fprintf(stderr, "\nfuzz check failed: %s\n", Head(what).c_str());
  std::abort();
}

void CheckUserError(const absl::Status& status, std::string_view context) {
  const std::string where =
      absl::StrCat(Head(context), "\nstatus: ", Head(status.ToString()));
  Check(status.code() == absl::StatusCode::kInvalidArgument,
        absl::StrCat("a user error must be INVALID_ARGUMENT; ", where));
  const absl::string_view message = status.message();
  Check(!message.empty(), absl::StrCat("empty error message; ", where));
  Check(!domain::FindInvalidUtf8({message.data(), message.size()}).has_value(),
        absl::StrCat("error message is not UTF-8; ", where));
  const std::vector<absl::string_view> lines = absl::StrSplit(message, '\n');
  Check(lines.size() <= kMaxErrorLines,
        absl::StrCat("error message has ", lines.size(), " lines; ", where));
  for (absl::string_view line : lines) {
    Check(
        line.size() <= kMaxErrorLineBytes,
        absl::StrCat("error message line of ", line.size(), " bytes; ", where));
  }
  for (const base::FieldViolation& v : base::GetFieldViolations(status)) {
    Check(
        !v.field.empty() && !v.description.empty(),
        absl::StrCat("field violation without field or description; ", where));
    Check(!domain::FindInvalidUtf8(v.field).has_value() &&
              !domain::FindInvalidUtf8(v.description).has_value(),
          absl::StrCat("field violation is not UTF-8; ", where));
    Check(
        v.field.size() + v.description.size() <= kMaxErrorLineBytes,
        absl::StrCat("field violation of ",
                     v.field.size() + v.description.size(), " bytes; ", where));
  }
}

}  // namespace kpi::fuzz
