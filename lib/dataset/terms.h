#ifndef KPI_LIB_DATASET_TERMS_H_
#define KPI_LIB_DATASET_TERMS_H_

// The words a person writes in a CSV cell for the domain's enums: the API's
// names (FINAL, OBSERVATION_STATUS_FINAL, any case) and the Japanese words
// statistics tables and KPI sheets use (確定値, 速報値, 見込み, 据置, ...).
// lib/dataset/README.md lists every accepted word and what it maps to.
//
// A cell is trimmed of ASCII and ideographic spaces; one pair of enclosing
// brackets, as tables write them (（速報値）, 【確定】, [暫定]), is dropped.
// A blank cell is the enum's unspecified value. Errors are INVALID_ARGUMENT
// quoting the cell and listing every accepted word. All functions are pure
// and thread-safe.

#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "lib/domain/model.h"

namespace kpi::dataset {

absl::StatusOr<domain::ObservationStatus> ParseObservationStatusTerm(
    std::string_view cell);
absl::StatusOr<domain::Aggregation> ParseAggregationTerm(std::string_view cell);
absl::StatusOr<domain::Direction> ParseDirectionTerm(std::string_view cell);
absl::StatusOr<domain::ValueDomain> ParseValueDomainTerm(std::string_view cell);
absl::StatusOr<domain::KpiKind> ParseKpiKindTerm(std::string_view cell);

// The word written for a value: the API's short name ("FINAL",
// "CARRIED_OVER", "MEAN"), or with `japanese` the first Japanese word of its
// row (確定値, 暫定値, 据置, 平均, 合計). "" for the unspecified value. Each
// reads back through the matching Parse*Term.
std::string_view ObservationStatusTerm(domain::ObservationStatus status,
                                       bool japanese);
std::string_view AggregationTerm(domain::Aggregation aggregation,
                                 bool japanese);

// Every Japanese word accepted for `status` (for documentation and tests).
std::vector<std::string_view> JapaneseObservationStatusTerms(
    domain::ObservationStatus status);

}  // namespace kpi::dataset

#endif  // KPI_LIB_DATASET_TERMS_H_
