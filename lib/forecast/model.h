#ifndef KPI_LIB_FORECAST_MODEL_H_
#define KPI_LIB_FORECAST_MODEL_H_

// The model behind the engine, on the transformed scale z (see transform.h):
//   1. a Bayesian random walk with drift fitted to the window (conjugate
//      normal-inverse-gamma, gaps weighted by their length): the posterior
//      drift and the Student-t predictive scale, parameter uncertainty
//      included;
//   2. a location: a combination of the drift estimates (posterior, least
//      squares, last step, a linear trend of the original values) and the
//      pull toward the window's mean, weighted
//      per window length k and horizon h by their out-of-sample skill on
//      training windows of many series (the calibration);
//   3. a shape: the empirical quantiles of the standardized out-of-sample
//      errors of that same location, per k and h, so that quantiles and
//      probabilities come from one distribution.
// Without a calibration row, the Student-t predictive is used as it is.
// Everything here is a plain function of its arguments; thread-safe.

#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "lib/forecast/nig.h"

namespace kpi::forecast {

// The longest window the model looks at; older points are not used.
inline constexpr int kMaxWindow = 10;
inline constexpr int kNumFeatures = 7;
// Features that pick a window's error shape (see BucketFeatures).
inline constexpr int kNumBucketFeatures = 3;

// Priors shared by every series: the pooled volatility per year on the
// model scale, its weight in pseudo-observations, and the prior precision
// of the drift (in units of sigma^-2).
struct ModelParams {
  double sigma_pool = 0.1;
  double n0 = 2;
  double kappa0 = 1;
  // The scale of a window's errors grows less than in proportion to its own
  // volatility: scale = ref * (s / ref)^scale_power with ref the pooled
  // scale at the same horizon (1 = proportional).
  double scale_power = 1;
  // A bucket's error shape may carry a bias (what windows like it did next
  // in training: M3's falls often reverted). It may shrink the predicted
  // change by at most this share and never reverse it, so that a series
  // falling steadily is projected to keep falling (0 = no bias at all).
  double max_bias_share = 0.5;
};

// One calibration cell: location weights and standardized error quantiles
// at Calibration::probs, pooled over all windows and, optionally, per bucket
// of windows that look alike (BucketFeatures cut at `cuts`), shrunk toward
// the pooled ones when learned.
struct CalibrationRow {
  bool present = false;
  std::array<double, kNumFeatures> coef{};
  std::vector<double> quantiles;
  // Increasing cut points per bucket feature; empty = not split on it.
  std::array<std::vector<double>, kNumBucketFeatures> cuts;
  // One quantile vector per bucket (mixed radix over the features, the first
  // varying slowest); empty = the pooled quantiles for every window.
  std::vector<std::vector<double>> bucket_quantiles;

  int NumBuckets() const;
  // The bucket of a window with bucket features `f`.
  int Bucket(const std::array<double, kNumBucketFeatures>& f) const;
  // The quantiles for a window with bucket features `f`.
  const std::vector<double>& QuantilesFor(
      const std::array<double, kNumBucketFeatures>& f) const;
};

// Where a learned calibration came from (see learn.h); zero / empty for
// one written before these were recorded.
struct CalibrationSource {
  int64_t series = 0;   // series it was learned from
  int64_t windows = 0;  // rolling windows of those series (all k)
  // The calibration it was shrunk toward ("" when learned on its own), and
  // by how many pseudo-series: a cell learned from n series keeps
  // n / (n + strength) of its own estimate; infinity keeps the prior.
  std::string shrunk_toward;
  double shrink_strength = 0;
};

struct Calibration {
  std::string version = "uncalibrated";
  CalibrationSource source;
  ModelParams params;
  std::vector<double> probs;  // increasing, inside (0, 1)
  int max_k = 0;
  int max_h = 0;
  std::vector<CalibrationRow> rows;  // (k - 1) * max_h + (h - 1)

  // The row for window length k and horizon h, falling back to the largest
  // k and h present; nullptr when there is none.
  const CalibrationRow* Row(int k, int h) const;
};

// Parses the text format written by FormatCalibration. INVALID_ARGUMENT
// naming the line and what was expected when it does not parse.
absl::StatusOr<Calibration> ParseCalibration(absl::string_view text);
// The text format: '#' comments, then lines
//   version NAME | param NAME VALUE (sigma_pool, n0, kappa0, scale_power,
//   max_bias_share) | source series N windows N |
//   shrinkage toward VERSION strength S (S a number >= 0 or inf) |
//   probs P... | dims MAX_K MAX_H | row K H C1..C7 | quantiles K H Q... |
//   cuts K H F C... (F = bucket feature, increasing cuts) |
//   bucket K H B Q... (one line per bucket, after all cuts of the cell)
std::string FormatCalibration(const Calibration& c,
                              const std::string& header_comment);

// The fitted window.
struct WindowFit {
  int k = 0;
  double t_last = 0;
  double z_last = 0;
  NigPosterior drift;          // posterior of the drift per year
  double slope_ols = 0;        // least-squares slope per year
  double slope_last = 0;       // slope of the last step
  double mean_minus_last = 0;  // mean of z minus the last z
  // Least-squares slope of the original values over the last value: a
  // linear (not exponential) trend, as Theta and Holt extrapolate it.
  double linear_slope_rel = 0;
  // The average slope times its signal share b^2 / (b^2 + var(b)): a smooth
  // trend is trusted, a noisy one is not.
  double trusted_slope = 0;
};

// Fits a window of points at increasing times `t` (years, gaps allowed)
// with transformed values `z` and original values `y`; sizes equal, at
// least one point.
WindowFit FitWindow(const std::vector<double>& t, const std::vector<double>& z,
                    const std::vector<double>& y, const ModelParams& params);

// The location features at horizon h (years after the last point).
std::array<double, kNumFeatures> Features(const WindowFit& fit, double h);

// The Student-t predictive of z(t_last + h) - z_last under the random walk
// with drift.
StudentT BasePredictive(const WindowFit& fit, double h);

// The scale that standardizes the errors of the location at horizon h:
// the Student-t scale pulled toward the pooled one (ModelParams).
double ErrorScale(const WindowFit& fit, double h, const ModelParams& params);

// What picks the error shape of a window at horizon h, given its location
// `loc` (the change predicted on the model scale) and error scale `scale`:
//   0: the window's volatility against the pooled one, log(scale / ref);
//   1: the predicted change in units of the scale, loc / scale (the trend's
//      sign and strength);
//   2: how much the drift estimates disagree: the spread of the
//      least-squares, last-step and trusted slopes times h, over the scale.
std::array<double, kNumBucketFeatures> BucketFeatures(
    const WindowFit& fit, double h, double loc, double scale,
    const ModelParams& params);

// How far to move the center of a shape whose median is `median` (in units
// of `scale`) for a location `loc`: the bias of the shape is
// median * scale; this returns the change to the center that caps it at
// ModelParams::max_bias_share of |loc| where it opposes loc (and leaves it
// as it is otherwise). 0 when nothing is capped.
double BiasCap(double loc, double scale, double median,
               const ModelParams& params);

// Standardized error distribution: a piecewise linear quantile function
// through (probs, values) with exponential tails beyond, so that Cdf is its
// exact inverse and no probability is exactly 0 or 1.
class Shape {
 public:
  Shape(const std::vector<double>* probs, const std::vector<double>* values)
      : probs_(probs), values_(values) {}
  double Quantile(double p) const;
  double Cdf(double x) const;

 private:
  const std::vector<double>* probs_;
  const std::vector<double>* values_;
};

// The predictive distribution of z at horizon h.
class Predictive {
 public:
  Predictive(const Calibration& calibration, const WindowFit& fit, double h);
  double Quantile(double p) const;
  // P(Z <= z); 0 at -inf and 1 at +inf.
  double Cdf(double z) const;

 private:
  double center_ = 0;  // z_last + location
  double scale_ = 1;
  const CalibrationRow* row_ = nullptr;
  const std::vector<double>* probs_ = nullptr;
  const std::vector<double>* quantiles_ = nullptr;
  StudentT t_;
};

}  // namespace kpi::forecast

#endif  // KPI_LIB_FORECAST_MODEL_H_
