#include "lib/forecast/explain.h"

#include <cmath>

namespace kpi::forecast {
namespace {

// A small slope on the log scale: every feature is linear in it there (no
// clipping, log(1 + x) ~ x).
constexpr double kProbeSlope = 1e-3;
// Status and probability disagree only beyond this distance from 0.5.
constexpr double kMargin = 0.005;

double Location(const Calibration& calibration, const WindowFit& fit,
                double horizon) {
  const int h = std::max(1, static_cast<int>(std::lround(horizon)));
  const CalibrationRow* row = calibration.Row(fit.k, h);
  if (row == nullptr) return BasePredictive(fit, horizon).loc;
  const std::array<double, kNumFeatures> x = Features(fit, horizon);
  double loc = 0;
  for (int j = 0; j < kNumFeatures; ++j) loc += row->coef[j] * x[j];
  return loc;
}

bool Meets(double value, double target, domain::Direction direction) {
  return direction == domain::Direction::kDecrease ? value <= target
                                                   : value >= target;
}

}  // namespace

Likelihood LikelihoodOf(double probability) {
  if (probability >= 0.99) return Likelihood::kVirtuallyCertain;
  if (probability >= 0.90) return Likelihood::kVeryLikely;
  if (probability >= 0.66) return Likelihood::kLikely;
  if (probability > 0.33) return Likelihood::kAboutAsLikelyAsNot;
  if (probability > 0.10) return Likelihood::kUnlikely;
  if (probability > 0.01) return Likelihood::kVeryUnlikely;
  return Likelihood::kExceptionallyUnlikely;
}

double CalibratedTrendShare(const Calibration& calibration,
                            const std::vector<double>& t, double horizon) {
  if (t.size() < 2 || horizon <= 0) return 1;
  std::vector<double> z, y;
  for (double ti : t) {
    z.push_back(kProbeSlope * (ti - t.back()));
    y.push_back(std::exp(z.back()));
  }
  const WindowFit sloped = FitWindow(t, z, y, calibration.params);
  // A flat window's features are all 0 but the horizon itself.
  const int h = std::max(1, static_cast<int>(std::lround(horizon)));
  const CalibrationRow* row = calibration.Row(sloped.k, h);
  const double flat = row != nullptr ? row->coef[0] * horizon : 0;
  return (Location(calibration, sloped, horizon) - flat) /
         (kProbeSlope * horizon);
}

Discordance FindDiscordance(const Projection& p) {
  if (!p.target_value.has_value()) return Discordance::kNone;
  const bool good = p.status == ProgressStatus::kAchieved ||
                    p.status == ProgressStatus::kOnTrack;
  const bool bad = p.status == ProgressStatus::kLimitedProgress ||
                   p.status == ProgressStatus::kDeteriorating;
  // A margin so that a probability that reads "50%" never contradicts.
  const double probability = p.attainment_probability;
  if (!(good && probability < 0.5 - kMargin) &&
      !(bad && probability > 0.5 + kMargin)) {
    return Discordance::kNone;
  }
  const Explanation& e = p.explanation;
  if (e.scenario.latest_left_out) return Discordance::kScenario;
  if (good && *p.target_value == 0 && p.kind == domain::KpiKind::kLevel &&
      p.value_domain == domain::ValueDomain::kNonNegative) {
    return Discordance::kProportional;
  }
  if (!e.trend.has_value()) return Discordance::kSpread;
  const bool trend_meets =
      Meets(e.trend->extrapolated_value, *p.target_value, p.direction);
  return trend_meets == good ? Discordance::kCalibration
                             : Discordance::kTrendPeriod;
}

}  // namespace kpi::forecast
