#ifndef KPI_LIB_BASE_FIELD_VIOLATIONS_H_
#define KPI_LIB_BASE_FIELD_VIOLATIONS_H_

// INVALID_ARGUMENT statuses that carry one violation per bad field, so that
// the gRPC edge can turn them into a google.rpc.BadRequest detail
// (AIP-193) without lib/ depending on protobuf.

#include <string>
#include <vector>

#include "absl/status/status.h"

namespace kpi::base {

struct FieldViolation {
  // Path of the field, e.g. "kpis[3].target.fiscal_year" or, for a file,
  // "asahikawa.csv:12:value".
  std::string field;
  // What is wrong and what would be accepted.
  std::string description;
};

// INVALID_ARGUMENT whose message is `summary` followed by every violation
// ("field: description"; at most 20 listed in the message, all kept in the
// payload). OK when `violations` is empty.
absl::Status InvalidArgumentWithViolations(
    const std::string& summary, const std::vector<FieldViolation>& violations);

// The violations attached by InvalidArgumentWithViolations; empty for any
// other status.
std::vector<FieldViolation> GetFieldViolations(const absl::Status& status);

}  // namespace kpi::base

#endif  // KPI_LIB_BASE_FIELD_VIOLATIONS_H_
