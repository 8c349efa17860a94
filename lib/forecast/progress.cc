#include "lib/forecast/progress.h"

#include <cmath>

namespace kpi::forecast {
namespace {

bool SameSign(double a, double b, double c) {
  return (a > 0 && b > 0 && c > 0) || (a < 0 && b < 0 && c < 0);
}

}  // namespace

ProgressAssessment AssessProgress(const ProgressInput& in) {
  ProgressAssessment out;
  Progress& p = out.progress;
  p.base_fiscal_year = in.base_fiscal_year;
  p.base_value = in.base_value;
  p.latest_fiscal_year = in.latest_fiscal_year;
  p.latest_value = in.latest_value;
  const bool lower_is_better = in.direction == domain::Direction::kDecrease;
  const bool achieved = lower_is_better ? in.latest_value <= in.target_value
                                        : in.latest_value >= in.target_value;
  const int observed_years = in.latest_fiscal_year - in.base_fiscal_year;
  const int required_years = in.target_fiscal_year - in.base_fiscal_year;
  if (required_years > 0) {
    p.required_change_per_year =
        (in.target_value - in.base_value) / required_years;
  }
  if (observed_years > 0) {
    p.observed_change_per_year =
        (in.latest_value - in.base_value) / observed_years;
  }
  if (observed_years > 0 && required_years > 0) {
    // Compound growth needs three values of one sign. A zero (a target of
    // 0, 待機児童ゼロ) has no compound rate: Open SDG's substitute 0.001
    // makes the ratio depend on that constant and the unit (45 -> 12 against
    // a target of 0 gave R = 0.42 though -11 a year beats the -7.5 needed),
    // so average changes per year are compared instead.
    const double xb = in.base_value, xt = in.latest_value, xs = in.target_value;
    double actual, required;
    if (!in.linear && SameSign(xb, xt, xs)) {
      actual = std::pow(xt / xb, 1.0 / observed_years) - 1;
      required = std::pow(xs / xb, 1.0 / required_years) - 1;
    } else {
      actual = p.observed_change_per_year;
      required = p.required_change_per_year;
    }
    if (required != 0) {
      p.growth_ratio = actual / required;
    } else {
      // The target is the base itself and is not met: any change moved away.
      p.growth_ratio = achieved ? 1.0 : -1.0;
    }
  }
  if (achieved) {
    out.status = ProgressStatus::kAchieved;
  } else if (observed_years <= 0 || required_years <= 0) {
    out.status = ProgressStatus::kInsufficientData;
  } else if (p.growth_ratio >= kOnTrackRatio) {
    out.status = ProgressStatus::kOnTrack;
  } else if (p.growth_ratio >= kAccelerationRatio) {
    out.status = ProgressStatus::kAccelerationNeeded;
  } else if (p.growth_ratio >= 0) {
    out.status = ProgressStatus::kLimitedProgress;
  } else {
    out.status = ProgressStatus::kDeteriorating;
  }
  return out;
}

}  // namespace kpi::forecast
