#ifndef KPI_LIB_FORECAST_LEARN_H_
#define KPI_LIB_FORECAST_LEARN_H_

// Learning a calibration (model.h) from series histories: what
// bench/forecast/calibrate (the shipped file), `kpictl calibrate` and the
// server's store calibration all call.
//
// For every window length k and horizon h, rolling windows inside each
// history give out-of-sample examples: the location weights are a
// least-absolute-deviation regression of the realized change on the
// model's drift features, and the error shape is the empirical quantiles of
// the standardized errors of that location, per bucket of windows that look
// alike. Every series weighs the same in every cell. Two procedures:
//
//  - on its own (LearnOptions::prior == nullptr): the shared priors by a
//    grid search (learn on half of the series, score the other half), then
//    the bucket grid, their shrinkage and bias by two-fold cross-validation
//    over series. This is how the shipped calibration is made; it needs
//    hundreds of series.
//  - shrunk toward a prior calibration (normally the built-in): the prior's
//    scale and buckets are kept; in each cell and bucket learned from n
//    series, the location weights and error quantiles are
//    n / (n + strength) of the data's own and the rest the prior's. The
//    strength (kShrinkStrengths, or infinity: the prior unchanged) and
//    whether the data's errors are centered as the prior's are chosen by
//    two-fold cross-validation over series, keeping the strongest shrinkage
//    whose held-out score is within one standard error of the best: a few
//    dozen series give nearly the prior, thousands their own.
//
// The cross-validation score is the benchmark's (../shared/BENCHMARK.md):
// the scaled quantile loss of the 2.5/10/50/90/97.5% quantiles plus 8 times
// the Brier score of P(y >= r * last) for r = 0.9, 1, 1.1, 1.25, over
// k = 2, 3, 5, 7 and h = 1..6.

#include <array>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "lib/forecast/model.h"
#include "lib/forecast/training_data.h"

namespace kpi::forecast {

// The candidate strengths of the shrinkage (pseudo-series), besides
// infinity.
inline constexpr double kShrinkStrengths[] = {1, 3, 10, 30, 100, 300, 1000};

struct LearnOptions {
  // The version label written into the calibration: 1 to 64 of
  // [A-Za-z0-9._-]. Required.
  std::string version;
  // Shrink toward this calibration; nullptr learns on its own (see above).
  // Not owned; must outlive the call.
  const Calibration* prior = nullptr;
  // Where the data came from, for the file's header (e.g. "m3_yearly.csv").
  std::string source_label;
  // On its own only: the largest window length and horizon learned, fixed
  // priors instead of the grid search, fixed bucket levels instead of the
  // bucket grid, and the bias cap (a product rule, see ModelParams).
  int max_k = 10;
  int max_h = 10;
  std::optional<ModelParams> fixed_params;
  std::optional<std::array<int, kNumBucketFeatures>> bucket_levels;
  double max_bias_share = 0.5;
  // Progress lines (grid points, scores); may be empty.
  std::function<void(const std::string&)> log;
  // Shrunk only: learning stops with DEADLINE_EXCEEDED once this time has
  // passed (checked between its steps, each a fraction of the whole: the
  // server's CalibrateStore bounds its CPU time with it).
  absl::Time deadline = absl::InfiniteFuture();
};

// Held-out figures of a calibration on rolling windows (k = 2, 3, 5, 7,
// h = 1..6), each series weighing the same.
struct HeldOutScore {
  double score = 0;  // SQL + 8 x Brier, the quantity minimized
  double sql = 0;
  double brier = 0;
  double mase = 0;   // |median - y| over the series' mean yearly change
  double cov80 = 0;  // share of outcomes inside the 80% interval
  double cov95 = 0;
  int64_t forecasts = 0;
  // ScoreCalibration only: the series scored (two points or more on their
  // scale) and their rolling windows of the scored lengths.
  int series = 0;
  int64_t windows = 0;
};

// One setting of the shrinkage tried by the cross-validation.
struct ShrinkCandidate {
  double strength = 0;  // pseudo-series; infinity = the prior unchanged
  // The data's error quantiles centered as the prior's (its overall bias
  // dropped, the buckets' differences kept), or left where the errors fell.
  bool centered = false;
  double score = 0;  // two-fold cross-validated
};

struct LearnReport {
  int series_used = 0;     // with at least two points on their scale
  int series_skipped = 0;  // fewer than two points, or none finite
  int64_t windows = 0;     // rolling windows of the used series, all k
  int64_t forecasts = 0;   // (window, h) examples for k = 2, 3, 5, 7, h <= 6
  // Shrunk only: the chosen setting (strength infinity = the prior
  // unchanged) and every candidate tried, from the least shrinkage to the
  // most.
  double strength = 0;
  bool centered = false;
  std::vector<ShrinkCandidate> candidates;
  // Two-fold cross-validated figures of the procedure with the chosen
  // settings, and of the prior on the same windows (shrunk only).
  HeldOutScore held_out;
  std::optional<HeldOutScore> prior_held_out;
};

struct LearnedCalibration {
  Calibration calibration;
  std::string text;  // FormatCalibration with a header saying how
  LearnReport report;
};

// Learns a calibration from `series` (nothing else is read). INVALID_ARGUMENT
// for a bad version label or options, or (on its own) when fewer than 20
// series have windows to learn from; DEADLINE_EXCEEDED past
// options.deadline; FAILED_PRECONDITION never.
// Deterministic. Thread-safe (it only reads its arguments); CPU-bound, about
// a second per thousand series shrunk, minutes on its own.
absl::StatusOr<LearnedCalibration> LearnCalibration(
    const std::vector<TrainingSeries>& series, const LearnOptions& options);

// The held-out figures of `calibration` on every rolling window of
// `series` (as the cross-validation scores them). Thread-safe.
HeldOutScore ScoreCalibration(const Calibration& calibration,
                              const std::vector<TrainingSeries>& series);

}  // namespace kpi::forecast

#endif  // KPI_LIB_FORECAST_LEARN_H_
