#ifndef KPI_SERVICES_KPICTL_KPI_LOOKUP_H_
#define KPI_SERVICES_KPICTL_KPI_LOOKUP_H_

// Finding a KPI by what a person types, and listing KPIs in the order the
// strategy presents them. Pure functions; thread-safe.

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "kpi/v1/resources.pb.h"

namespace kpi::kpictl {

// The resource name of the KPI of `kpis` (the KPIs of `parent`) that `typed`
// names: exactly its ID, display name or English name; else the only KPI
// whose ID, display name or English name starts with `typed`. Names compare
// with full-width ASCII folded (（ -> (, Ａ -> A), spaces dropped and ASCII
// case ignored. NOT_FOUND "no KPI of PARENT has the ID or name "..."",
// listing the closest by edit distance when some are plausible;
// INVALID_ARGUMENT listing every candidate when a prefix fits several.
absl::StatusOr<std::string> MatchKpi(const std::vector<kpi::v1::Kpi>& kpis,
                                     absl::string_view typed,
                                     absl::string_view parent);

// Sorts `kpis` in the strategy's order: by the number of their measure's
// goal (基本目標1, 2, ...), then by measure (a heading before its
// sub-measures; codes in the order Japanese plans number items: ア イ ウ
// エ オ (gojūon), 1 2 10, ① ②, with numbers compared as numbers), then by
// the KPI's ordinal within its measure, then by ID. KPIs whose measure or
// goal is not in `measures` / `goals` come last, by ID.
void SortInStrategyOrder(const std::vector<kpi::v1::Goal>& goals,
                         const std::vector<kpi::v1::Measure>& measures,
                         std::vector<kpi::v1::Kpi>* kpis);

}  // namespace kpi::kpictl

#endif  // KPI_SERVICES_KPICTL_KPI_LOOKUP_H_
