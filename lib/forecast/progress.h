#ifndef KPI_LIB_FORECAST_PROGRESS_H_
#define KPI_LIB_FORECAST_PROGRESS_H_

// The progress status of UN SDG / Open SDG assessments (see README.md): the
// observed compound growth against the growth required to reach the target,
// from a base value to the latest value. Plain functions; thread-safe.

#include <cstdint>

#include "lib/domain/model.h"
#include "lib/forecast/engine.h"

namespace kpi::forecast {

// Open SDG thresholds of the growth ratio.
inline constexpr double kOnTrackRatio = 0.95;
inline constexpr double kAccelerationRatio = 0.60;

struct ProgressInput {
  int32_t base_fiscal_year = 0;
  double base_value = 0;
  int32_t latest_fiscal_year = 0;
  double latest_value = 0;
  int32_t target_fiscal_year = 0;
  double target_value = 0;
  domain::Direction direction = domain::Direction::kIncrease;
  // Compare average changes per year instead of compound growth (sums over
  // a period, which start from zero).
  bool linear = false;
};

struct ProgressAssessment {
  Progress progress;
  ProgressStatus status = ProgressStatus::kUnspecified;
};

// The rates and the status. Never fails: too little to compare gives
// kInsufficientData (latest year not after the base year, or the target
// year not after it).
ProgressAssessment AssessProgress(const ProgressInput& in);

}  // namespace kpi::forecast

#endif  // KPI_LIB_FORECAST_PROGRESS_H_
