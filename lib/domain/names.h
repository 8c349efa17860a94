#ifndef KPI_LIB_DOMAIN_NAMES_H_
#define KPI_LIB_DOMAIN_NAMES_H_

// Resource names (AIP-122) of the kpi.v1 API:
//   references/{reference}
//   strategies/{strategy}
//   strategies/{strategy}/goals/{goal}
//   strategies/{strategy}/measures/{measure}
//   strategies/{strategy}/measures/{measure}/evaluations/{evaluation}
//   strategies/{strategy}/kpis/{kpi}
//   strategies/{strategy}/kpis/{kpi}/observations/{observation}
// Every ID matches ^[a-z]([a-z0-9-]{0,61}[a-z0-9])?$. All functions are
// pure and thread-safe.

#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace kpi::domain {

enum class ResourceType {
  kReference,
  kStrategy,
  kGoal,
  kMeasure,
  kEvaluation,
  kKpi,
  kObservation,
};

// The collection segment of a type ("goals") and its singular ("goal").
std::string_view CollectionId(ResourceType type);
std::string_view TypeSingular(ResourceType type);

// True when `id` matches ^[a-z]([a-z0-9-]{0,61}[a-z0-9])?$.
bool IsValidId(std::string_view id);

// INVALID_ARGUMENT naming `field` and the accepted pattern when `id` is not
// a valid ID.
absl::Status ValidateId(std::string_view id, std::string_view field);

struct ParsedName {
  ResourceType type;
  std::string parent;  // "" for top-level resources
  std::string id;      // last segment
};

// Parses a full name of the given type. INVALID_ARGUMENT naming `field`,
// the value and the expected pattern when it does not match.
absl::StatusOr<ParsedName> ParseName(std::string_view name, ResourceType type,
                                     std::string_view field);

// The parent of a List call (AIP-159): a full name of `type`, in which any
// ID may be "-" for "every one": "strategies/s/measures/-" lists the
// evaluations of every measure of strategy s.
struct ListParent {
  std::string name;  // as given
  // True when some ID is "-".
  bool wildcard = false;
  // With a wildcard: a LIKE pattern matching every parent it stands for,
  // each "-" as "%" (IDs hold neither % nor _), e.g.
  // "strategies/s/measures/%"; and the resource named before the first "-"
  // ("strategies/s"), or "" when the first ID is "-".
  std::string like_pattern;
  std::string fixed_ancestor;
};

// Parses a List parent of `type`. INVALID_ARGUMENT as ParseName, the
// accepted form also naming "-".
absl::StatusOr<ListParent> ParseListParent(std::string_view parent,
                                           ResourceType type,
                                           std::string_view field);

// Parses a full name of any type.
absl::StatusOr<ParsedName> ParseAnyName(std::string_view name,
                                        std::string_view field);

// "parent/collection/id" (or "collection/id" when parent is empty).
std::string MakeName(std::string_view parent, ResourceType type,
                     std::string_view id);

// The pattern of a type for messages, e.g.
// "strategies/{strategy}/kpis/{kpi}".
std::string_view NamePattern(ResourceType type);

// The ID of an observation or evaluation for a fiscal year: "fy2021"; for a
// range, "fy2016-2018".
std::string FiscalYearId(int first_fiscal_year, int fiscal_year);

}  // namespace kpi::domain

#endif  // KPI_LIB_DOMAIN_NAMES_H_
