#include "lib/forecast/model.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <utility>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"

namespace kpi::forecast {
namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();
constexpr double kMaxSlope = 0.3;

absl::Status LineError(int line, const std::string& what) {
  return absl::InvalidArgumentError(
      absl::StrCat("calibration line ", line, ": ", what));
}

}  // namespace

const CalibrationRow* Calibration::Row(int k, int h) const {
  if (max_k <= 0 || max_h <= 0) return nullptr;
  k = std::clamp(k, 1, max_k);
  h = std::clamp(h, 1, max_h);
  for (int kk = k; kk >= 1; --kk) {
    const CalibrationRow& r = rows[(kk - 1) * max_h + (h - 1)];
    if (r.present) return &r;
  }
  return nullptr;
}

int CalibrationRow::NumBuckets() const {
  int n = 1;
  for (const std::vector<double>& c : cuts) n *= static_cast<int>(c.size()) + 1;
  return n;
}

int CalibrationRow::Bucket(
    const std::array<double, kNumBucketFeatures>& f) const {
  int b = 0;
  for (int j = 0; j < kNumBucketFeatures; ++j) {
    const int level = static_cast<int>(
        std::upper_bound(cuts[j].begin(), cuts[j].end(), f[j]) -
        cuts[j].begin());
    b = b * (static_cast<int>(cuts[j].size()) + 1) + level;
  }
  return b;
}

const std::vector<double>& CalibrationRow::QuantilesFor(
    const std::array<double, kNumBucketFeatures>& f) const {
  if (bucket_quantiles.empty()) return quantiles;
  return bucket_quantiles[Bucket(f)];
}

absl::StatusOr<Calibration> ParseCalibration(absl::string_view text) {
  Calibration c;
  int line_no = 0;
  bool have_dims = false;
  for (absl::string_view raw : absl::StrSplit(text, '\n')) {
    ++line_no;
    absl::string_view line = absl::StripAsciiWhitespace(raw);
    if (line.empty() || line[0] == '#') continue;
    std::vector<absl::string_view> tok =
        absl::StrSplit(line, ' ', absl::SkipEmpty());
    const absl::string_view key = tok[0];
    std::vector<double> nums;
    if (key != "version" && key != "param" && key != "source" &&
        key != "shrinkage") {
      for (size_t i = 1; i < tok.size(); ++i) {
        double v;
        if (!absl::SimpleAtod(tok[i], &v) || !std::isfinite(v)) {
          return LineError(
              line_no, absl::StrCat("\"", tok[i], "\" is not a finite number"));
        }
        nums.push_back(v);
      }
    }
    if (key == "version") {
      if (tok.size() != 2) return LineError(line_no, "expected: version NAME");
      c.version = std::string(tok[1]);
    } else if (key == "source") {
      int64_t series = 0, windows = 0;
      if (tok.size() != 5 || tok[1] != "series" || tok[3] != "windows" ||
          !absl::SimpleAtoi(tok[2], &series) ||
          !absl::SimpleAtoi(tok[4], &windows) || series < 0 || windows < 0) {
        return LineError(line_no, "expected: source series N windows N");
      }
      c.source.series = series;
      c.source.windows = windows;
    } else if (key == "shrinkage") {
      double strength = 0;
      if (tok.size() != 5 || tok[1] != "toward" || tok[3] != "strength" ||
          !absl::SimpleAtod(tok[4], &strength) || std::isnan(strength) ||
          strength < 0) {
        return LineError(line_no,
                         "expected: shrinkage toward VERSION strength S (S a "
                         "number >= 0 or inf)");
      }
      c.source.shrunk_toward = std::string(tok[2]);
      c.source.shrink_strength = strength;
    } else if (key == "param") {
      double v;
      if (tok.size() != 3 || !absl::SimpleAtod(tok[2], &v)) {
        return LineError(line_no, "expected: param NAME NUMBER");
      }
      if (tok[1] == "sigma_pool" && v > 0) {
        c.params.sigma_pool = v;
      } else if (tok[1] == "n0" && v > 0) {
        c.params.n0 = v;
      } else if (tok[1] == "kappa0" && v >= 0) {
        c.params.kappa0 = v;
      } else if (tok[1] == "scale_power" && v >= 0 && v <= 2) {
        c.params.scale_power = v;
      } else if (tok[1] == "max_bias_share" && v >= 0 && v <= 1) {
        c.params.max_bias_share = v;
      } else {
        return LineError(line_no,
                         "expected sigma_pool > 0, n0 > 0, kappa0 >= 0, "
                         "scale_power from 0 to 2 or max_bias_share from 0 "
                         "to 1");
      }
    } else if (key == "probs") {
      for (size_t i = 0; i < nums.size(); ++i) {
        if (nums[i] <= 0 || nums[i] >= 1 || (i > 0 && nums[i] <= nums[i - 1])) {
          return LineError(line_no,
                           "probs must increase strictly inside (0, 1)");
        }
      }
      if (nums.size() < 3) return LineError(line_no, "at least 3 probs");
      c.probs = nums;
    } else if (key == "dims") {
      if (nums.size() != 2 || nums[0] < 1 || nums[1] < 1 || nums[0] > 100 ||
          nums[1] > 100) {
        return LineError(line_no, "expected: dims MAX_K MAX_H (1 to 100)");
      }
      c.max_k = static_cast<int>(nums[0]);
      c.max_h = static_cast<int>(nums[1]);
      c.rows.assign(c.max_k * c.max_h, CalibrationRow());
      have_dims = true;
    } else if (key == "row" || key == "quantiles" || key == "cuts" ||
               key == "bucket") {
      if (!have_dims) return LineError(line_no, "dims must come first");
      if (nums.size() < 2) return LineError(line_no, "expected K and H");
      const int k = static_cast<int>(nums[0]), h = static_cast<int>(nums[1]);
      if (k < 1 || k > c.max_k || h < 1 || h > c.max_h) {
        return LineError(line_no, "K or H outside dims");
      }
      CalibrationRow& r = c.rows[(k - 1) * c.max_h + (h - 1)];
      if (key == "cuts") {
        if (nums.size() < 3 || nums[2] < 0 || nums[2] >= kNumBucketFeatures ||
            nums[2] != std::floor(nums[2])) {
          return LineError(line_no,
                           absl::StrCat("expected: cuts K H F C... with F "
                                        "from 0 to ",
                                        kNumBucketFeatures - 1));
        }
        if (!r.bucket_quantiles.empty()) {
          return LineError(line_no, "cuts must come before the buckets");
        }
        std::vector<double>& cut = r.cuts[static_cast<int>(nums[2])];
        cut.assign(nums.begin() + 3, nums.end());
        for (size_t i = 1; i < cut.size(); ++i) {
          if (cut[i] <= cut[i - 1]) {
            return LineError(line_no, "cuts must increase strictly");
          }
        }
        if (r.NumBuckets() > 1000) {
          return LineError(line_no, "at most 1000 buckets per cell");
        }
      } else if (key == "bucket") {
        if (c.probs.empty() || nums.size() != 3 + c.probs.size()) {
          return LineError(line_no, "expected K H B and one value per prob");
        }
        const int nb = r.NumBuckets();
        if (nums[2] < 0 || nums[2] >= nb || nums[2] != std::floor(nums[2])) {
          return LineError(line_no, absl::StrCat("bucket must be from 0 to ",
                                                 nb - 1, " (after its cuts)"));
        }
        r.bucket_quantiles.resize(nb);
        std::vector<double>& q = r.bucket_quantiles[static_cast<int>(nums[2])];
        q.assign(nums.begin() + 3, nums.end());
        for (size_t i = 1; i < q.size(); ++i) {
          if (q[i] < q[i - 1]) {
            return LineError(line_no, "quantiles must not decrease");
          }
        }
      } else if (key == "row") {
        if (nums.size() != 2 + kNumFeatures) {
          return LineError(line_no, absl::StrCat("expected K H and ",
                                                 kNumFeatures, " weights"));
        }
        std::copy(nums.begin() + 2, nums.end(), r.coef.begin());
      } else {
        if (c.probs.empty() || nums.size() != 2 + c.probs.size()) {
          return LineError(line_no, "expected K H and one value per prob");
        }
        r.quantiles.assign(nums.begin() + 2, nums.end());
        for (size_t i = 1; i < r.quantiles.size(); ++i) {
          if (r.quantiles[i] < r.quantiles[i - 1]) {
            return LineError(line_no, "quantiles must not decrease");
          }
        }
        r.present = true;
      }
    } else {
      return LineError(line_no,
                       absl::StrCat("unknown key \"", key,
                                    "\"; expected version, source, "
                                    "shrinkage, param, probs, dims, row, "
                                    "quantiles, cuts or bucket"));
    }
  }
  for (int k = 1; k <= c.max_k; ++k) {
    for (int h = 1; h <= c.max_h; ++h) {
      const CalibrationRow& r = c.rows[(k - 1) * c.max_h + (h - 1)];
      for (size_t b = 0; b < r.bucket_quantiles.size(); ++b) {
        if (r.bucket_quantiles[b].empty()) {
          return absl::InvalidArgumentError(absl::StrCat(
              "calibration cell k ", k, " h ", h, ": bucket ", b, " of ",
              r.bucket_quantiles.size(), " has no quantiles line"));
        }
      }
      if (!r.bucket_quantiles.empty() && !r.present) {
        return absl::InvalidArgumentError(
            absl::StrCat("calibration cell k ", k, " h ", h,
                         ": buckets without a quantiles line"));
      }
    }
  }
  return c;
}

std::string FormatCalibration(const Calibration& c,
                              const std::string& header_comment) {
  std::string out;
  for (absl::string_view l : absl::StrSplit(header_comment, '\n')) {
    absl::StrAppend(&out, "# ", l, "\n");
  }
  absl::StrAppend(&out, "version ", c.version, "\n");
  if (c.source.series > 0 || c.source.windows > 0) {
    absl::StrAppend(&out, "source series ", c.source.series, " windows ",
                    c.source.windows, "\n");
  }
  if (!c.source.shrunk_toward.empty()) {
    absl::StrAppend(&out, "shrinkage toward ", c.source.shrunk_toward,
                    " strength ",
                    std::isinf(c.source.shrink_strength)
                        ? std::string("inf")
                        : absl::StrFormat("%.9g", c.source.shrink_strength),
                    "\n");
  }
  absl::StrAppendFormat(&out, "param sigma_pool %.9g\n", c.params.sigma_pool);
  absl::StrAppendFormat(&out, "param n0 %.9g\n", c.params.n0);
  absl::StrAppendFormat(&out, "param kappa0 %.9g\n", c.params.kappa0);
  absl::StrAppendFormat(&out, "param scale_power %.9g\n", c.params.scale_power);
  absl::StrAppendFormat(&out, "param max_bias_share %.9g\n",
                        c.params.max_bias_share);
  absl::StrAppend(&out, "probs");
  for (double p : c.probs) absl::StrAppendFormat(&out, " %.9g", p);
  absl::StrAppendFormat(&out, "\ndims %d %d\n", c.max_k, c.max_h);
  for (int k = 1; k <= c.max_k; ++k) {
    for (int h = 1; h <= c.max_h; ++h) {
      const CalibrationRow& r = c.rows[(k - 1) * c.max_h + (h - 1)];
      if (!r.present) continue;
      absl::StrAppendFormat(&out, "row %d %d", k, h);
      for (double v : r.coef) absl::StrAppendFormat(&out, " %.6g", v);
      absl::StrAppendFormat(&out, "\nquantiles %d %d", k, h);
      for (double v : r.quantiles) absl::StrAppendFormat(&out, " %.6g", v);
      absl::StrAppend(&out, "\n");
      if (r.bucket_quantiles.empty()) continue;
      for (int j = 0; j < kNumBucketFeatures; ++j) {
        if (r.cuts[j].empty()) continue;
        absl::StrAppendFormat(&out, "cuts %d %d %d", k, h, j);
        for (double v : r.cuts[j]) absl::StrAppendFormat(&out, " %.6g", v);
        absl::StrAppend(&out, "\n");
      }
      for (size_t b = 0; b < r.bucket_quantiles.size(); ++b) {
        absl::StrAppendFormat(&out, "bucket %d %d %d", k, h, b);
        for (double v : r.bucket_quantiles[b]) {
          absl::StrAppendFormat(&out, " %.6g", v);
        }
        absl::StrAppend(&out, "\n");
      }
    }
  }
  return out;
}

WindowFit FitWindow(const std::vector<double>& t, const std::vector<double>& z,
                    const std::vector<double>& y, const ModelParams& params) {
  WindowFit f;
  const int k = static_cast<int>(z.size());
  f.k = k;
  f.t_last = t.back();
  f.z_last = z.back();
  NigPrior prior;
  prior.mean = {0.0};
  prior.precision = {params.kappa0};
  prior.a = params.n0 / 2;
  prior.b = params.n0 * params.sigma_pool * params.sigma_pool / 2;
  // Steps over a gap of g years: mean g * drift, variance g * sigma^2.
  std::vector<std::vector<double>> gaps;
  std::vector<double> steps, w;
  for (int i = 1; i < k; ++i) {
    const double g = t[i] - t[i - 1];
    gaps.push_back({g});
    steps.push_back(z[i] - z[i - 1]);
    w.push_back(1 / g);
  }
  f.drift = FitNig(gaps, steps, w, prior);
  if (k >= 2) {
    double tm = 0, zm = 0;
    for (int i = 0; i < k; ++i) {
      tm += t[i];
      zm += z[i];
    }
    tm /= k;
    zm /= k;
    double ym = 0;
    for (int i = 0; i < k; ++i) ym += y[i];
    ym /= k;
    double sxy = 0, sxx = 0, syy = 0;
    for (int i = 0; i < k; ++i) {
      sxy += (t[i] - tm) * (z[i] - zm);
      syy += (t[i] - tm) * (y[i] - ym);
      sxx += (t[i] - tm) * (t[i] - tm);
    }
    f.slope_ols = sxy / sxx;
    if (y[k - 1] > 0) f.linear_slope_rel = syy / sxx / y[k - 1];
    f.slope_last = (z[k - 1] - z[k - 2]) / (t[k - 1] - t[k - 2]);
    f.mean_minus_last = zm - z[k - 1];
    // The series' own step variance where it has two steps or more (the
    // pooled prior would hide how smooth a smooth series is).
    const double span = t[k - 1] - t[0];
    const double b = (z[k - 1] - z[0]) / span;
    double var_step = f.drift.b / f.drift.a;
    if (k >= 3) {
      double ss = 0;
      for (int i = 1; i < k; ++i) {
        const double g = t[i] - t[i - 1];
        ss += std::pow(z[i] - z[i - 1] - b * g, 2) / g;
      }
      var_step = ss / (k - 2);
    }
    const double var_b = var_step / span;
    f.trusted_slope = b * b + var_b > 0 ? b * b * b / (b * b + var_b) : 0;
  }
  return f;
}

std::array<double, kNumFeatures> Features(const WindowFit& fit, double h) {
  // log(1 + h b / y_T): the linear trend on the log scale, bounded below
  // where it would cross zero.
  const double linear = std::log(std::max(0.2, 1 + h * fit.linear_slope_rel));
  // Log slopes beyond 30% a year are outliers, not trends to compound.
  auto clip = [](double v) { return std::clamp(v, -kMaxSlope, kMaxSlope); };
  return {h,
          h * clip(fit.drift.mean[0]),
          h * clip(fit.slope_ols),
          h * clip(fit.slope_last),
          fit.mean_minus_last,
          linear,
          h * clip(fit.trusted_slope)};
}

StudentT BasePredictive(const WindowFit& fit, double h) {
  return PredictNig(fit.drift, {h}, h);
}

double ErrorScale(const WindowFit& fit, double h, const ModelParams& params) {
  const double s = BasePredictive(fit, h).scale;
  if (params.scale_power == 1) return s;
  const double ref = params.sigma_pool * std::sqrt(h);
  return ref * std::pow(s / ref, params.scale_power);
}

std::array<double, kNumBucketFeatures> BucketFeatures(
    const WindowFit& fit, double h, double loc, double scale,
    const ModelParams& params) {
  const double ref = params.sigma_pool * std::sqrt(h);
  auto clip = [](double v) { return std::clamp(v, -kMaxSlope, kMaxSlope); };
  const double a = clip(fit.slope_ols), b = clip(fit.slope_last),
               c = clip(fit.trusted_slope);
  const double m = (a + b + c) / 3;
  const double spread = std::sqrt(
      ((a - m) * (a - m) + (b - m) * (b - m) + (c - m) * (c - m)) / 3);
  return {std::log(scale / ref), loc / scale, h * spread / scale};
}

double BiasCap(double loc, double scale, double median,
               const ModelParams& params) {
  const double bias = median * scale;
  if (bias * loc >= 0) return 0;
  const double limit = params.max_bias_share * std::fabs(loc);
  if (std::fabs(bias) <= limit) return 0;
  return (bias > 0 ? 1 : -1) * (limit - std::fabs(bias));
}

double Shape::Quantile(double p) const {
  const std::vector<double>& P = *probs_;
  const std::vector<double>& V = *values_;
  const size_t n = P.size();
  if (p <= P[0]) {
    const double lambda = (V[1] - V[0]) / std::log(P[1] / P[0]);
    return lambda > 0 ? V[0] + lambda * std::log(p / P[0]) : V[0];
  }
  if (p >= P[n - 1]) {
    const double lambda =
        (V[n - 1] - V[n - 2]) / std::log((1 - P[n - 2]) / (1 - P[n - 1]));
    return lambda > 0 ? V[n - 1] - lambda * std::log((1 - p) / (1 - P[n - 1]))
                      : V[n - 1];
  }
  const size_t i = std::upper_bound(P.begin(), P.end(), p) - P.begin();
  const double u = (p - P[i - 1]) / (P[i] - P[i - 1]);
  return V[i - 1] + u * (V[i] - V[i - 1]);
}

double Shape::Cdf(double x) const {
  const std::vector<double>& P = *probs_;
  const std::vector<double>& V = *values_;
  const size_t n = P.size();
  if (x <= V[0]) {
    const double lambda = (V[1] - V[0]) / std::log(P[1] / P[0]);
    if (lambda <= 0) return x < V[0] ? 0.0 : P[0];
    return P[0] * std::exp((x - V[0]) / lambda);
  }
  if (x >= V[n - 1]) {
    const double lambda =
        (V[n - 1] - V[n - 2]) / std::log((1 - P[n - 2]) / (1 - P[n - 1]));
    if (lambda <= 0) return x > V[n - 1] ? 1.0 : P[n - 1];
    return 1 - (1 - P[n - 1]) * std::exp(-(x - V[n - 1]) / lambda);
  }
  // The first value above x; flat stretches (ties) take their upper prob.
  const size_t i = std::upper_bound(V.begin(), V.end(), x) - V.begin();
  const double u = (x - V[i - 1]) / (V[i] - V[i - 1]);
  return P[i - 1] + u * (P[i] - P[i - 1]);
}

Predictive::Predictive(const Calibration& calibration, const WindowFit& fit,
                       double h) {
  t_ = BasePredictive(fit, h);
  const int hi = std::max(1, static_cast<int>(std::lround(h)));
  row_ = calibration.Row(fit.k, hi);
  if (row_ == nullptr) {
    center_ = fit.z_last + t_.loc;
    scale_ = t_.scale;
    return;
  }
  probs_ = &calibration.probs;
  const std::array<double, kNumFeatures> x = Features(fit, h);
  double loc = 0;
  for (int j = 0; j < kNumFeatures; ++j) loc += row_->coef[j] * x[j];
  center_ = fit.z_last + loc;
  scale_ = ErrorScale(fit, h, calibration.params);
  quantiles_ = &row_->QuantilesFor(
      BucketFeatures(fit, h, loc, scale_, calibration.params));
  center_ += BiasCap(loc, scale_, Shape(probs_, quantiles_).Quantile(0.5),
                     calibration.params);
}

double Predictive::Quantile(double p) const {
  if (row_ == nullptr) {
    StudentT t = t_;
    t.loc = center_;
    return StudentTQuantile(t, p);
  }
  return center_ + scale_ * Shape(probs_, quantiles_).Quantile(p);
}

double Predictive::Cdf(double z) const {
  if (z == -kInf) return 0;
  if (z == kInf) return 1;
  if (row_ == nullptr) {
    StudentT t = t_;
    t.loc = center_;
    return StudentTCdf(t, z);
  }
  return Shape(probs_, quantiles_).Cdf((z - center_) / scale_);
}

}  // namespace kpi::forecast
