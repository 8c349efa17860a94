#ifndef KPI_LIB_FORECAST_ENGINE_H_
#define KPI_LIB_FORECAST_ENGINE_H_

// The forecast engine: from a short yearly series (2 to 10 points is the
// usual case), the predictive distribution of every fiscal year up to a
// target year, its median and 50/80/95% intervals, the probability that a
// target is met, and the progress status beside it.
//
// Deterministic: the same input gives the same output, bit for bit.
// An Engine is immutable after creation and safe for concurrent use.

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "lib/domain/model.h"

namespace kpi::forecast {

struct Calibration;

enum class ShockTreatment { kUnspecified = 0, kInclude = 1, kExclude = 2 };

enum class ProgressStatus {
  kUnspecified = 0,
  kAchieved = 1,
  kOnTrack = 2,
  kAccelerationNeeded = 3,
  kLimitedProgress = 4,
  kDeteriorating = 5,
  kInsufficientData = 6,
};

enum class WarningCode {
  kUnspecified = 0,
  kFewPoints = 1,
  kProvisionalLatest = 2,
  kStaleLatest = 3,
  kTargetOutsideRange = 4,
  kShockYears = 5,
  kReferenceTarget = 6,
  kLongHorizon = 7,
  kNoTarget = 8,
};

struct Point {
  int32_t fiscal_year = 0;
  int32_t first_fiscal_year = 0;  // 0 for a single year
  domain::Aggregation aggregation = domain::Aggregation::kUnspecified;
  double value = 0;
  domain::ObservationStatus status = domain::ObservationStatus::kFinal;
};

// Everything the engine needs about one series. Mirrors kpi.v1.Series.
struct SeriesInput {
  std::string id;
  std::vector<Point> points;  // any order; at most one per fiscal year
  domain::KpiKind kind = domain::KpiKind::kLevel;
  domain::Direction direction = domain::Direction::kIncrease;
  domain::ValueDomain value_domain = domain::ValueDomain::kReal;
  std::string unit;
  std::optional<double> target_value;
  bool target_from_reference = false;  // for the warning only
  // The last fiscal year to project (the target's year when there is one).
  int32_t target_fiscal_year = 0;
  int32_t period_first_fiscal_year = 0;  // kPeriodSum only
  std::optional<domain::Baseline> baseline;
  std::vector<int32_t> shock_fiscal_years;
  ShockTreatment shock_treatment = ShockTreatment::kUnspecified;
  std::vector<double> probability_thresholds;  // at most 16
};

struct Interval {
  double lower = 0;
  double upper = 0;
};

struct YearProjection {
  int32_t fiscal_year = 0;
  double median = 0;
  Interval interval_50;
  Interval interval_80;
  Interval interval_95;
  double attainment_probability = 0;            // 0 without a target
  std::vector<double> threshold_probabilities;  // P(y >= threshold)
};

struct Progress {
  int32_t base_fiscal_year = 0;
  double base_value = 0;
  int32_t latest_fiscal_year = 0;
  double latest_value = 0;
  double required_change_per_year = 0;
  double observed_change_per_year = 0;
  double growth_ratio = 0;
};

struct Warning {
  WarningCode code = WarningCode::kUnspecified;
  std::string message;
};

struct Projection {
  std::string id;
  std::optional<double> target_value;
  int32_t target_fiscal_year = 0;
  domain::Direction direction = domain::Direction::kIncrease;
  double projected_value = 0;
  double attainment_probability = 0;
  ProgressStatus status = ProgressStatus::kUnspecified;
  Progress progress;
  std::vector<YearProjection> years;  // each year after the last point
  std::string method;
  int32_t points_used = 0;
  std::vector<int32_t> fiscal_years_used;
  ShockTreatment shock_treatment = ShockTreatment::kUnspecified;
  std::vector<Warning> warnings;
  std::string unit;
};

class Engine {
 public:
  // An engine using the calibration in `calibration_text` (the format of the
  // versioned file shipped in lib/forecast/, written by the tool that learns
  // it). INVALID_ARGUMENT when it does not parse.
  static absl::StatusOr<std::unique_ptr<Engine>> Create(
      std::string_view calibration_text);

  ~Engine();
  Engine(const Engine&) = delete;
  Engine& operator=(const Engine&) = delete;

  // Projects one series. INVALID_ARGUMENT (naming the field, e.g.
  // "points[2].fiscal_year", and what is accepted) for: no points,
  // duplicate years, non-finite values, values outside the value domain,
  // a target year not after the last point or more than 30 years after it,
  // more than 16 thresholds. Thread-safe.
  absl::StatusOr<Projection> Project(const SeriesInput& input) const;

  // The calibration's version label (e.g. "m3-train-v1").
  const std::string& calibration_version() const;
  // The calibration itself (model.h), e.g. to learn a new one toward it.
  const Calibration& calibration() const;

 private:
  struct Impl;
  explicit Engine(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// The engine with the calibration shipped in the repository (compiled in).
// Never fails once built; the reference is shared and never destroyed.
// Thread-safe.
const Engine& DefaultEngine();

}  // namespace kpi::forecast

#endif  // KPI_LIB_FORECAST_ENGINE_H_
