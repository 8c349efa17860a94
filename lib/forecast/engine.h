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
#include "lib/forecast/training_data.h"

namespace kpi::forecast {

struct Calibration;

// How years marked as a shock are treated. kUnspecified follows the
// scenario rule (see ScenarioRule); kBlend mixes the two others.
enum class ShockTreatment {
  kUnspecified = 0,
  kInclude = 1,
  kExclude = 2,
  kBlend = 3,
};

// Why the headline projection treats shock years as it does.
enum class ScenarioRule {
  kUnspecified = 0,
  // No shock year is marked.
  kNoShocks = 1,
  // The input chose the treatment.
  kRequested = 2,
  // Default: the shock years moved the KPI the unfavourable way and at
  // least two points remain without them: recovery to the pre-shock path.
  kRecovery = 3,
  // Default: leaving the shock years out leaves fewer than two points.
  kBlendFewPoints = 4,
  // Default: the shock years moved the KPI the favourable way; leaving them
  // out would hide the latest measurements.
  kBlendFavourable = 5,
  // The comparison projection beside a headline chosen by another rule.
  kComparison = 6,
};

// The probability of attainment in words, on the calibrated IPCC AR5
// likelihood scale (see LikelihoodOf).
enum class Likelihood {
  kUnspecified = 0,  // no target
  kVirtuallyCertain = 1,
  kVeryLikely = 2,
  kLikely = 3,
  kAboutAsLikelyAsNot = 4,
  kUnlikely = 5,
  kVeryUnlikely = 6,
  kExceptionallyUnlikely = 7,
};

// Why the progress status and the probability of attainment point
// different ways (achieved or on track at P < 0.5, limited progress or
// deteriorating at P > 0.5).
enum class Discordance {
  kNone = 0,
  // The status reads the latest measurement; the projection leaves it out
  // (or blends it with a scenario that does).
  kScenario = 1,
  // The status compares the pace from the base year; the trend of the
  // points the projection uses leads the other way.
  kTrendPeriod = 2,
  // The trend of the points used agrees with the status; the engine keeps
  // only part of it (or expects it to turn), as similar series did in its
  // calibration.
  kCalibration = 3,
  // The status compares average yearly changes (a target of 0); the
  // projection works with changes in proportion, which reach 0 only when
  // the value falls below half its reporting resolution.
  kProportional = 4,
  // One point is used: no trend of its own; the probability reflects how
  // far similar series moved.
  kSpread = 5,
};

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

// The trend of the points used, continued without damping, beside the
// projection (present with two points or more).
struct TrendComparison {
  int32_t first_fiscal_year = 0;  // of the points the trend runs through
  int32_t last_fiscal_year = 0;
  int32_t points = 0;
  // The last value used continued at the trend's pace (the least-squares
  // slope on the model scale) to the target year.
  double extrapolated_value = 0;
  // (extrapolated_value - last value used) / horizon_years, in the unit.
  double change_per_year = 0;
  int32_t horizon_years = 0;  // from the last point used to the target year
  // The median's change from the last value used as a share of the trend's,
  // on the model scale: 1 keeps the trend, 0 is flat, < 0 turns back.
  double share_kept = 0;
  // The share of a steady trend that the calibration keeps for windows of
  // `points` points at this horizon (its location weights, before any
  // bucket's bias). 1 without a calibration.
  double calibrated_share = 1;
};

// One shock scenario's outcome at the target year.
struct ScenarioOutcome {
  ShockTreatment shock_treatment = ShockTreatment::kUnspecified;
  double weight = 0;  // in the headline projection, 0 to 1
  double projected_value = 0;
  double attainment_probability = 0;  // meaningful with a target only
  int32_t points_used = 0;
};

struct ScenarioExplanation {
  ScenarioRule rule = ScenarioRule::kUnspecified;
  std::vector<int32_t> shock_fiscal_years;  // marked, increasing
  // Points that remain when the shock years are left out.
  int32_t points_without_shocks = 0;
  // Fiscal years with a measurement that the fit leaves out (shock years
  // left out, carried-over values), increasing.
  std::vector<int32_t> left_out_fiscal_years;
  bool latest_left_out = false;  // the latest measurement is among them
  // The marked shock years moved the KPI the favourable way (a shock-year
  // measurement is better than the last point before the shock years).
  bool shock_favourable = false;
  // Weight of the recovery scenario (shock years left out) in a blend.
  double recovery_weight = 0;
  // With shock years marked: the outcome of leaving them out and of using
  // them as data, in that order.
  std::vector<ScenarioOutcome> outcomes;
};

// Why the projection says what it says; rendered into words by
// lib/i18n/explanation.h.
struct Explanation {
  std::optional<TrendComparison> trend;
  ScenarioExplanation scenario;
  Likelihood likelihood = Likelihood::kUnspecified;
  Discordance discordance = Discordance::kNone;
  std::string calibration_version;
  // The reporting resolution: a projected value below half of it is
  // reported as 0 (so that a count can reach 0).
  double resolution = 0;
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
  domain::KpiKind kind = domain::KpiKind::kLevel;
  domain::ValueDomain value_domain = domain::ValueDomain::kReal;
  Explanation explanation;
};

// The headline projection and, with shock years marked, the projection
// under the other treatment for comparison (the shocks-as-data one when the
// headline is a blend).
struct ScenarioProjections {
  Projection projection;
  std::optional<Projection> alternative;
};

// The likelihood words for a probability of attainment: >= 0.99 virtually
// certain, >= 0.90 very likely, >= 0.66 likely, > 0.33 about as likely as
// not, > 0.10 unlikely, > 0.01 very unlikely, else exceptionally unlikely.
Likelihood LikelihoodOf(double probability);

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
  // With shock years marked and the treatment unspecified, the scenario
  // rule picks the headline (lib/forecast/README.md): recovery, or both
  // scenarios blended with equal weights when leaving the shock years out
  // leaves fewer than two points or hides a favourable change.
  absl::StatusOr<Projection> Project(const SeriesInput& input) const;

  // Project, with the alternative projection for comparison. Thread-safe.
  absl::StatusOr<ScenarioProjections> ProjectScenarios(
      const SeriesInput& input) const;

  // The calibration's version label (e.g. "m3-train-v1").
  const std::string& calibration_version() const;
  // The calibration itself (model.h), e.g. to learn a new one toward it.
  const Calibration& calibration() const;

 private:
  struct Impl;
  explicit Engine(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// The history a calibration learns from for `input` (lib/forecast/learn.h),
// as the engine would fit it with every point kept: carried-over values and
// shock years left out (unless input.shock_treatment is kInclude), a range
// of a level at its middle year (a range whose middle falls between two
// years is left out), the baseline when no point covers it; running totals
// and period sums as their yearly increments (averaged over gaps, never
// negative) on the log scale, as they are projected; levels on the scale of
// input.value_domain. nullopt when the input does not validate (as Project
// would refuse it) or fewer than two points remain. Thread-safe.
std::optional<TrainingSeries> TrainingSeriesOf(const SeriesInput& input);

// The engine with the calibration shipped in the repository (compiled in).
// Never fails once built; the reference is shared and never destroyed.
// Thread-safe.
const Engine& DefaultEngine();

}  // namespace kpi::forecast

#endif  // KPI_LIB_FORECAST_ENGINE_H_
