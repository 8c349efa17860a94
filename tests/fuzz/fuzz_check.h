#ifndef KPI_TESTS_FUZZ_FUZZ_CHECK_H_
#define KPI_TESTS_FUZZ_FUZZ_CHECK_H_

// What the fuzz targets assert beyond "does not crash". A failed check
// prints what was wrong and aborts, which libFuzzer reports as a crash and
// saves the input for (tests/fuzz/README.md).

#include <string_view>

#include "absl/status/status.h"

namespace kpi::fuzz {

// The longest line of an error message and the longest field violation
// description a parser may produce: room for what was wrong, where and what
// is accepted, and for a short quote of the input, never for the input
// itself. gRPC sends messages and details in trailers limited to 8 KiB.
inline constexpr size_t kMaxErrorLineBytes = 1024;
// InvalidArgumentWithViolations lists 20 violations, then "... and N more".
inline constexpr size_t kMaxErrorLines = 22;

// Aborts with `what` when `condition` is false.
void Check(bool condition, std::string_view what);

// Aborts unless `status` is a user error as the house style wants it:
// INVALID_ARGUMENT, a non-empty message of at most kMaxErrorLines lines of
// at most kMaxErrorLineBytes each, valid UTF-8 (it travels in protobuf
// strings), and field violations (if any) that are short and UTF-8 too.
// `context` is printed when a check fails.
void CheckUserError(const absl::Status& status, std::string_view context);

}  // namespace kpi::fuzz

#endif  // KPI_TESTS_FUZZ_FUZZ_CHECK_H_
