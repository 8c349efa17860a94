#ifndef KPI_LIB_STORAGE_FILTER_H_
#define KPI_LIB_STORAGE_FILTER_H_

// The AIP-160 subset that List calls accept (see ListRequest::filter):
// conditions `field op value` joined by AND, op one of = != < <= > >= and
// `:` (contains, for display_name), values numbers, enum names or strings
// (quoted with " or ', or bare words). A name field also takes the short
// form of an ID (`goal = g1`), resolved under the strategy of the List's
// parent. Parsed once, here, for both backends; the values reach SQL only as
// parameters. Pure functions; thread-safe.

#include <cstdint>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "absl/status/statusor.h"
#include "lib/domain/names.h"

namespace kpi::storage {

// kHas is AIP-160's `:`, here "the text contains the value".
enum class FilterOp { kEq, kNe, kLt, kLe, kGt, kGe, kHas };

// The SQL spelling of a comparison ("=", "<>", "<", ...); "" for kHas,
// which is no comparison.
std::string_view FilterOpSql(FilterOp op);

struct FilterCondition {
  std::string field;  // one of the collection's fields, e.g. "fiscal_year"
  FilterOp op;
  // Integers and enums (as their numeric value) are int64_t; names (full,
  // short forms resolved) and texts are strings.
  std::variant<int64_t, std::string> value;
};

// The most conditions a filter may join. A collection has at most seven
// fields, so more conditions than this say nothing a shorter filter cannot;
// the cap keeps the SQL statement (and its parameters) small for both
// backends.
inline constexpr size_t kMaxFilterConditions = 16;

// Parses `filter` for a List of `collection` (the type listed) under
// `parent` (the request's parent, whose strategy resolves short forms; ""
// accepts full names only). "" yields no conditions. INVALID_ARGUMENT with a
// base::FieldViolation on "filter" giving the position, what was wrong (the
// input quoted) and what is accepted: more than kMaxFilterConditions
// conditions (stating the cap), an unknown field (listing the
// collection's fields), a bad value (listing the enum's names, or the name
// pattern), an operator that does not apply (only = and != for names, enums
// and unit; = != and : for display_name), or bad syntax.
absl::StatusOr<std::vector<FilterCondition>> ParseFilter(
    domain::ResourceType collection, std::string_view filter,
    std::string_view parent = {});

// The canonical text of `conditions` as ParseFilter returned them for
// `collection`: `field op value` joined by " AND ", enums by name, names in
// double quotes, so that ParseFilter(collection, FormatFilter(collection,
// conditions)) gives `conditions` back. A condition on a field the
// collection does not have is written as it is, with the enum's number.
std::string FormatFilter(domain::ResourceType collection,
                         const std::vector<FilterCondition>& conditions);

}  // namespace kpi::storage

#endif  // KPI_LIB_STORAGE_FILTER_H_
