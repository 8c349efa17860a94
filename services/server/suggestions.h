#ifndef KPI_SERVICES_SERVER_SUGGESTIONS_H_
#define KPI_SERVICES_SERVER_SUGGESTIONS_H_

// NOT_FOUND errors that say what was probably meant: the closest existing
// names of the same collection, by edit distance over IDs and display names
// (lib/base/closest.h), so that `airport-pasengers` suggests
// `airport-passengers (空港乗降客数)` to a grpcurl user. Only on the error
// path: it lists the collection (at most 1000 resources).

#include <string_view>

#include "absl/status/status.h"
#include "lib/domain/names.h"
#include "lib/storage/repository.h"

namespace kpi::services {

// `status` unchanged unless it is NOT_FOUND and `name` is a well-formed name
// of `type`; then its message gains "; closest: NAME (display name), ..."
// when some sibling is plausibly what was meant, or, when the parent does
// not exist either, the same for the parent. Repository errors while
// looking are ignored (the original error stands). Thread-safe.
absl::Status WithSuggestions(storage::Repository& repository,
                             domain::ResourceType type, std::string_view name,
                             const absl::Status& status);

}  // namespace kpi::services

#endif  // KPI_SERVICES_SERVER_SUGGESTIONS_H_
