#include "lib/base/field_violations.h"

#include "absl/strings/cord.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"

namespace kpi::base {
namespace {

// Payload: one violation per line, field and description separated by a
// tab; tabs and newlines inside are replaced by spaces.
constexpr char kPayloadUrl[] = "type.kpi.v1/kpi.base.FieldViolations";

std::string Clean(const std::string& s) {
  std::string out = s;
  for (char& c : out) {
    if (c == '\t' || c == '\n') c = ' ';
  }
  return out;
}

}  // namespace

absl::Status InvalidArgumentWithViolations(
    const std::string& summary, const std::vector<FieldViolation>& violations) {
  if (violations.empty()) return absl::OkStatus();
  std::string message = summary;
  std::string payload;
  constexpr size_t kListed = 20;
  for (size_t i = 0; i < violations.size(); ++i) {
    const FieldViolation& v = violations[i];
    if (i < kListed)
      absl::StrAppend(&message, "\n  ", v.field, ": ", v.description);
    absl::StrAppend(&payload, Clean(v.field), "\t", Clean(v.description), "\n");
  }
  if (violations.size() > kListed) {
    absl::StrAppend(&message, "\n  ... and ", violations.size() - kListed,
                    " more");
  }
  absl::Status status = absl::InvalidArgumentError(message);
  status.SetPayload(kPayloadUrl, absl::Cord(payload));
  return status;
}

std::vector<FieldViolation> GetFieldViolations(const absl::Status& status) {
  std::vector<FieldViolation> out;
  absl::optional<absl::Cord> payload = status.GetPayload(kPayloadUrl);
  if (!payload.has_value()) return out;
  for (absl::string_view line :
       absl::StrSplit(std::string(*payload), '\n', absl::SkipEmpty())) {
    std::vector<std::string> parts =
        absl::StrSplit(line, absl::MaxSplits('\t', 1));
    out.push_back({parts[0], parts.size() > 1 ? parts[1] : ""});
  }
  return out;
}

}  // namespace kpi::base
