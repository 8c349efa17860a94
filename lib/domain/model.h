#ifndef KPI_LIB_DOMAIN_MODEL_H_
#define KPI_LIB_DOMAIN_MODEL_H_

// The domain model: plain C++ mirrors of the kpi.v1 resources
// (proto/kpi/v1/resources.proto is the reference for every field's meaning).
// Conversions to and from protobuf live in services/convert; nothing here
// depends on protobuf or gRPC.
//
// Names are full resource names ("strategies/s/kpis/k"). Fiscal years are the
// calendar year in which the fiscal year starts. Japanese text is UTF-8,
// kept exactly.

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/time/civil_time.h"
#include "absl/time/time.h"

namespace kpi::domain {

enum class KpiKind {
  kUnspecified = 0,
  kLevel = 1,
  kRunningTotal = 2,
  kPeriodSum = 3
};
enum class Direction { kUnspecified = 0, kIncrease = 1, kDecrease = 2 };
enum class ValueDomain {
  kUnspecified = 0,
  kReal = 1,
  kNonNegative = 2,
  kPercent = 3
};
enum class Aggregation { kUnspecified = 0, kMean = 1, kSum = 2 };
enum class ObservationStatus {
  kUnspecified = 0,
  kFinal = 1,
  kProvisional = 2,
  kCarriedOver = 3
};
enum class Rating {
  kUnspecified = 0,
  kContinueAndExpand = 1,
  kContinue = 2,
  kRevise = 3
};

// Server-maintained fields every resource has.
struct Meta {
  std::string etag;
  absl::Time create_time = absl::UnixEpoch();
  absl::Time update_time = absl::UnixEpoch();
};

struct Strategy {
  std::string name;
  std::string display_name;
  std::string english_name;
  std::string municipality;
  std::string municipality_code;
  int32_t first_fiscal_year = 0;
  int32_t last_fiscal_year = 0;
  std::string source;
  Meta meta;
};

struct Goal {
  std::string name;
  int32_t number = 0;
  std::string display_name;
  std::string english_name;
  Meta meta;
};

struct Measure {
  std::string name;
  std::string goal;
  std::string parent;
  std::string code;
  std::string display_name;
  std::string english_name;
  Meta meta;
};

struct Baseline {
  double value = 0;
  int32_t fiscal_year = 0;
  int32_t first_fiscal_year = 0;
  Aggregation aggregation = Aggregation::kUnspecified;
  std::string label;
};

struct Target {
  // Exactly one of value and reference is set.
  std::optional<double> value;
  std::string reference;
  int32_t fiscal_year = 0;
  std::string label;
};

struct Kpi {
  std::string name;
  std::string measure;
  std::string display_name;
  std::string english_name;
  std::string unit;
  KpiKind kind = KpiKind::kUnspecified;
  Direction direction = Direction::kUnspecified;
  ValueDomain value_domain = ValueDomain::kUnspecified;
  std::optional<Baseline> baseline;
  Target target;
  int32_t period_first_fiscal_year = 0;
  std::string measurement_note;
  std::vector<int32_t> shock_fiscal_years;
  int32_t ordinal = 0;
  Meta meta;
};

struct ObservationRevision {
  double value = 0;
  ObservationStatus status = ObservationStatus::kUnspecified;
  std::string source_note;
  absl::Time revise_time = absl::UnixEpoch();
  std::string reason;
  // Who made the change (Repository::WithActor); "" for a change made
  // before the store recorded it (schema versions 1 and 2).
  std::string actor;
};

struct Observation {
  std::string name;
  int32_t fiscal_year = 0;
  int32_t first_fiscal_year = 0;
  Aggregation aggregation = Aggregation::kUnspecified;
  double value = 0;
  ObservationStatus status = ObservationStatus::kUnspecified;
  std::string source_note;
  int32_t reported_fiscal_year = 0;
  std::vector<ObservationRevision> revisions;  // oldest first; output only
  Meta meta;
};

struct Evaluation {
  std::string name;
  int32_t fiscal_year = 0;
  Rating rating = Rating::kUnspecified;
  std::string kpi_assessment;
  std::string outlook;
  std::string viewpoint;
  Meta meta;
};

struct ReferenceValue {
  absl::CivilDay effective_date;
  double value = 0;
};

struct Reference {
  std::string name;
  std::string display_name;
  std::string english_name;
  std::string unit;
  std::vector<ReferenceValue> values;  // increasing effective_date
  std::string source;
  Meta meta;
};

// A whole store or a part of it, as imported and exported.
struct Dataset {
  std::vector<Reference> references;
  std::vector<Strategy> strategies;
  std::vector<Goal> goals;
  std::vector<Measure> measures;
  std::vector<Kpi> kpis;
  std::vector<Observation> observations;
  std::vector<Evaluation> evaluations;
};

}  // namespace kpi::domain

#endif  // KPI_LIB_DOMAIN_MODEL_H_
