#include "lib/forecast/learn.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <utility>

#include "Eigen/Dense"
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "lib/base/status_macros.h"
#include "lib/forecast/transform.h"

namespace kpi::forecast {
namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();
// The Brier score counts about as much as the quantile loss this way.
constexpr double kBrierWeight = 8;
// The benchmark's targets: P(y >= r * last).
constexpr double kRatios[] = {0.9, 1.0, 1.1, 1.25};
constexpr double kTaus[] = {0.025, 0.10, 0.50, 0.90, 0.975};
// The window lengths and horizons scored (../shared/BENCHMARK.md).
constexpr int kScoredK[] = {2, 3, 5, 7};
constexpr int kScoredMaxH = 6;
// Fewer series than this cannot learn priors and buckets on their own.
constexpr int kMinSeriesOnItsOwn = 20;

// One series on its model scale.
struct SeriesData {
  std::vector<double> t, z, y;
  Transform tr;
  double unit = 1;  // mean |yearly change| of y (what MASE divides by)
};

struct Data {
  std::vector<SeriesData> series;
  int skipped = 0;
};

// One training example: a window of one series and what followed at h.
struct Sample {
  std::array<double, kNumFeatures> x;  // location features
  double r = 0;                        // z(T + h) - z(T)
  double s = 1;                        // error scale
  double w = 1;                        // 1 / examples of its series in the cell
  double unit = 1;                     // the series' mean yearly change
  double dydz = 1;                     // dy/dz at the window's last point
  double z_last = 0;                   // last z of the window
  double y_last = 0, y_next = 0;       // original values at T and T + h
  StudentT t;  // the window's own predictive of z(T + h) - z(T)
  int series = 0;
  // What BucketFeatures reads of the window.
  double slope_ols = 0, slope_last = 0, trusted_slope = 0;
};

// The examples per window length k and horizon h.
struct Cells {
  int max_k = 0, max_h = 0;
  std::vector<std::vector<Sample>> c;  // [(k - 1) * max_h + h - 1]

  Cells(int k, int h) : max_k(k), max_h(h), c(k * h) {}
  std::vector<Sample>& at(int k, int h) { return c[(k - 1) * max_h + h - 1]; }
  const std::vector<Sample>& at(int k, int h) const {
    return c[(k - 1) * max_h + h - 1];
  }
};

Data Load(const std::vector<TrainingSeries>& all) {
  Data d;
  for (const TrainingSeries& s : all) {
    SeriesData sd;
    sd.tr = Transform::ForDomain(s.value_domain, s.values);
    for (size_t i = 0; i < s.values.size() && i < s.years.size(); ++i) {
      const double z = sd.tr.Forward(s.values[i]);
      if (!std::isfinite(z)) continue;
      sd.t.push_back(s.years[i]);
      sd.z.push_back(z);
      sd.y.push_back(s.values[i]);
    }
    if (sd.z.size() < 2) {
      ++d.skipped;
      continue;
    }
    double u = 0;
    for (size_t i = 1; i < sd.y.size(); ++i) {
      u += std::fabs(sd.y[i] - sd.y[i - 1]);
    }
    u /= sd.y.size() - 1;
    sd.unit = u > 0 ? u : 1e-3;
    d.series.push_back(std::move(sd));
  }
  return d;
}

// dy/dz of the transform at z (a central difference: exact enough for
// weighting, and whatever the transform).
double Slope(const Transform& tr, double z) {
  const double step = 1e-4 * std::max(1.0, std::fabs(z));
  return (tr.Inverse(z + step) - tr.Inverse(z - step)) / (2 * step);
}

// The examples of the series in `use`, for window lengths `ks`: every window
// of k consecutive points and every later point at most max_h years after
// its last (h in years, so gaps are fine). Adds the windows to `*windows`.
Cells Collect(const Data& d, const std::vector<int>& use,
              const ModelParams& params, const std::vector<int>& ks, int max_k,
              int max_h, int64_t* windows = nullptr) {
  Cells cells(max_k, max_h);
  for (int si : use) {
    const SeriesData& sd = d.series[si];
    const int n = static_cast<int>(sd.z.size());
    for (int k : ks) {
      std::vector<size_t> first(max_h);
      for (int h = 1; h <= max_h; ++h) {
        first[h - 1] = cells.at(k, h).size();
      }
      for (int end = k - 1; end + 1 < n; ++end) {
        if (sd.t[end + 1] - sd.t[end] > max_h) continue;
        const std::vector<double> wt(sd.t.begin() + end - k + 1,
                                     sd.t.begin() + end + 1);
        const std::vector<double> wz(sd.z.begin() + end - k + 1,
                                     sd.z.begin() + end + 1);
        const std::vector<double> wy(sd.y.begin() + end - k + 1,
                                     sd.y.begin() + end + 1);
        const WindowFit fit = FitWindow(wt, wz, wy, params);
        if (windows != nullptr) ++*windows;
        const double dydz = Slope(sd.tr, sd.z[end]);
        for (int j = end + 1; j < n; ++j) {
          const int h = static_cast<int>(std::lround(sd.t[j] - sd.t[end]));
          if (h > max_h) break;
          Sample s;
          s.x = Features(fit, h);
          s.r = sd.z[j] - sd.z[end];
          s.s = ErrorScale(fit, h, params);
          s.unit = sd.unit;
          s.dydz = dydz;
          s.z_last = sd.z[end];
          s.y_last = sd.y[end];
          s.y_next = sd.y[j];
          s.series = si;
          s.slope_ols = fit.slope_ols;
          s.slope_last = fit.slope_last;
          s.trusted_slope = fit.trusted_slope;
          s.t = BasePredictive(fit, h);
          cells.at(k, h).push_back(s);
        }
      }
      for (int h = 1; h <= max_h; ++h) {
        std::vector<Sample>& c = cells.at(k, h);
        const size_t m = c.size() - first[h - 1];
        for (size_t i = first[h - 1]; i < c.size(); ++i) c[i].w = 1.0 / m;
      }
    }
  }
  return cells;
}

// Weighted least absolute deviations by iteratively reweighted least
// squares, with a small ridge for collinear features. Each error is in the
// unit of its series' mean absolute yearly change, as MASE counts it. There
// is no drift common to all series: the first feature is left out.
std::array<double, kNumFeatures> FitLocation(
    const std::vector<const Sample*>& c) {
  const int n = static_cast<int>(c.size()), p = kNumFeatures;
  Eigen::MatrixXd x(n, p);
  Eigen::VectorXd y(n), w0(n);
  for (int i = 0; i < n; ++i) {
    const double scale = c[i]->dydz / c[i]->unit;
    for (int j = 0; j < p; ++j) x(i, j) = c[i]->x[j] * scale;
    y(i) = c[i]->r * scale;
    w0(i) = c[i]->w;
  }
  Eigen::VectorXd beta = Eigen::VectorXd::Zero(p);
  for (int iter = 0; iter < 60; ++iter) {
    Eigen::VectorXd res = y - x * beta;
    Eigen::VectorXd w(n);
    for (int i = 0; i < n; ++i) {
      w(i) = w0(i) / std::max(std::fabs(res(i)), 1e-4);
    }
    Eigen::MatrixXd a = x.transpose() * w.asDiagonal() * x;
    a.row(0).setZero();
    a.col(0).setZero();
    a(0, 0) = 1;
    const double ridge = 1e-6 * (a.trace() / p + 1e-12);
    a += ridge * Eigen::MatrixXd::Identity(p, p);
    Eigen::VectorXd rhs = x.transpose() * (w.asDiagonal() * y);
    rhs(0) = 0;
    Eigen::VectorXd next = a.ldlt().solve(rhs);
    const double change = (next - beta).norm();
    beta = next;
    if (change < 1e-10) break;
  }
  std::array<double, kNumFeatures> out;
  for (int j = 0; j < p; ++j) out[j] = beta(j);
  out[0] = 0;
  return out;
}

std::vector<const Sample*> Pointers(const std::vector<Sample>& c) {
  std::vector<const Sample*> out;
  out.reserve(c.size());
  for (const Sample& s : c) out.push_back(&s);
  return out;
}

std::array<double, kNumBucketFeatures> SampleBucketFeatures(
    const Sample& s, int h, double loc, const ModelParams& params) {
  WindowFit f;
  f.slope_ols = s.slope_ols;
  f.slope_last = s.slope_last;
  f.trusted_slope = s.trusted_slope;
  return BucketFeatures(f, h, loc, s.s, params);
}

double Location(const std::array<double, kNumFeatures>& coef, const Sample& s) {
  double loc = 0;
  for (int j = 0; j < kNumFeatures; ++j) loc += coef[j] * s.x[j];
  return loc;
}

// Weighted empirical quantiles (by the cumulative weight at each midpoint).
std::vector<double> Quantiles(std::vector<std::pair<double, double>> ew,
                              const std::vector<double>& probs) {
  std::sort(ew.begin(), ew.end());
  double total = 0;
  for (const auto& p : ew) total += p.second;
  std::vector<double> cum(ew.size());
  double acc = 0;
  for (size_t i = 0; i < ew.size(); ++i) {
    cum[i] = (acc + 0.5 * ew[i].second) / total;
    acc += ew[i].second;
  }
  std::vector<double> out;
  for (double p : probs) {
    const size_t i = std::lower_bound(cum.begin(), cum.end(), p) - cum.begin();
    double v;
    if (i == 0) {
      v = ew.front().first;
    } else if (i == cum.size()) {
      v = ew.back().first;
    } else {
      const double u = (p - cum[i - 1]) / (cum[i] - cum[i - 1]);
      v = ew[i - 1].first + u * (ew[i].first - ew[i - 1].first);
    }
    out.push_back(out.empty() ? v : std::max(v, out.back()));
  }
  return out;
}

std::vector<double> Probs() {
  std::vector<double> p = {0.001, 0.0025, 0.005};
  for (int i = 1; i <= 99; ++i) p.push_back(i / 100.0);
  for (double v : {0.995, 0.9975, 0.999}) p.push_back(v);
  return p;
}

// ---------------------------------------------------------------------------
// Scoring.

// Sums of the held-out figures; per series too, for standard errors.
struct ScoreSums {
  double weight = 0, score = 0, sql = 0, brier = 0, mase = 0, cov80 = 0,
         cov95 = 0;
  int64_t forecasts = 0;
  std::vector<double> series_score, series_weight;  // by series index

  void Add(const ScoreSums& o) {
    weight += o.weight;
    score += o.score;
    sql += o.sql;
    brier += o.brier;
    mase += o.mase;
    cov80 += o.cov80;
    cov95 += o.cov95;
    forecasts += o.forecasts;
    if (series_score.size() < o.series_score.size()) {
      series_score.resize(o.series_score.size(), 0);
      series_weight.resize(o.series_weight.size(), 0);
    }
    for (size_t i = 0; i < o.series_score.size(); ++i) {
      series_score[i] += o.series_score[i];
      series_weight[i] += o.series_weight[i];
    }
  }

  HeldOutScore Mean() const {
    HeldOutScore h;
    if (weight <= 0) return h;
    h.score = score / weight;
    h.sql = sql / weight;
    h.brier = brier / weight;
    h.mase = mase / weight;
    h.cov80 = cov80 / weight;
    h.cov95 = cov95 / weight;
    h.forecasts = forecasts;
    return h;
  }
};

std::vector<int> ScoredKs(int max_k) {
  std::vector<int> ks;
  for (int k : kScoredK) {
    if (k <= max_k) ks.push_back(k);
  }
  return ks;
}

// Scores `cal` on the examples of `cells` whose series `member` accepts
// (all when empty), for the scored k and h.
ScoreSums ScoreCells(const Data& d, const Cells& cells, const Calibration& cal,
                     const std::vector<bool>& member = {}) {
  ScoreSums sums;
  sums.series_score.assign(d.series.size(), 0);
  sums.series_weight.assign(d.series.size(), 0);
  for (int k : ScoredKs(cells.max_k)) {
    for (int h = 1; h <= std::min(kScoredMaxH, cells.max_h); ++h) {
      const CalibrationRow* row = cal.Row(k, h);
      for (const Sample& s : cells.at(k, h)) {
        if (!member.empty() && !member[s.series]) continue;
        const Transform& tr = d.series[s.series].tr;
        // The predictive of z(T + h) - z(T), as the engine's Predictive:
        // the calibrated location and shape, or without a row the window's
        // own Student-t.
        double loc = 0;
        const std::vector<double>* qs = nullptr;
        if (row != nullptr) {
          const double loc0 = Location(row->coef, s);
          qs = &row->QuantilesFor(SampleBucketFeatures(s, h, loc0, cal.params));
          loc = loc0 + BiasCap(loc0, s.s, Shape(&cal.probs, qs).Quantile(0.5),
                               cal.params);
        }
        const auto quantile = [&](double p) {
          if (qs == nullptr) return StudentTQuantile(s.t, p);
          return loc + s.s * Shape(&cal.probs, qs).Quantile(p);
        };
        const auto cdf = [&](double dz) {
          if (qs == nullptr) return StudentTCdf(s.t, dz);
          return Shape(&cal.probs, qs).Cdf((dz - loc) / s.s);
        };
        double brier = 0;
        for (double ratio : kRatios) {
          const double dz = tr.Forward(ratio * s.y_last) - s.z_last;
          const double p = 1 - cdf(dz);
          const double hit = s.y_next >= ratio * s.y_last ? 1.0 : 0.0;
          brier += (p - hit) * (p - hit) / 4;
        }
        double loss = 0;
        std::array<double, 5> q;
        for (int i = 0; i < 5; ++i) {
          q[i] = tr.Inverse(s.z_last + quantile(kTaus[i]));
          loss += 2 * ((s.y_next < q[i] ? 1.0 : 0.0) - kTaus[i]) *
                  (q[i] - s.y_next);
        }
        const double sql = loss / 5 / s.unit;
        const double score = sql + kBrierWeight * brier;
        sums.weight += s.w;
        sums.score += s.w * score;
        sums.sql += s.w * sql;
        sums.brier += s.w * brier;
        sums.mase += s.w * std::fabs(q[2] - s.y_next) / s.unit;
        sums.cov80 += s.w * (q[1] <= s.y_next && s.y_next <= q[3] ? 1 : 0);
        sums.cov95 += s.w * (q[0] <= s.y_next && s.y_next <= q[4] ? 1 : 0);
        ++sums.forecasts;
        sums.series_score[s.series] += s.w * score;
        sums.series_weight[s.series] += s.w;
      }
    }
  }
  return sums;
}

// ---------------------------------------------------------------------------
// On its own.

// How the per-bucket error quantiles are learned.
struct BucketSettings {
  std::array<int, kNumBucketFeatures> levels = {1, 1, 1};
  // Pseudo-series of the pooled quantiles mixed into each bucket's.
  double shrink = 0;
  // Keep a bucket's median where it falls (a bias correction conditional
  // on the bucket) instead of centering it on the location.
  bool keep_bias = false;
};

// Per-bucket quantiles of the errors `ew` (aligned with the cell's samples
// `c`), shrunk toward the pooled row.quantiles by bs.shrink pseudo-series.
void LearnBuckets(const std::vector<Sample>& c, int h,
                  const ModelParams& params, const BucketSettings& bs,
                  const std::vector<std::pair<double, double>>& ew,
                  double pooled_median, const std::vector<double>& probs,
                  CalibrationRow& row) {
  int nb = 1;
  for (int l : bs.levels) nb *= l;
  if (nb <= 1) return;
  std::vector<std::array<double, kNumBucketFeatures>> f;
  for (const Sample& s : c) {
    f.push_back(SampleBucketFeatures(s, h, Location(row.coef, s), params));
  }
  for (int j = 0; j < kNumBucketFeatures; ++j) {
    row.cuts[j].clear();
    if (bs.levels[j] <= 1) continue;
    std::vector<std::pair<double, double>> fw;
    for (size_t i = 0; i < c.size(); ++i) fw.emplace_back(f[i][j], c[i].w);
    std::vector<double> at;
    for (int l = 1; l < bs.levels[j]; ++l) {
      at.push_back(static_cast<double>(l) / bs.levels[j]);
    }
    for (double v : Quantiles(fw, at)) {
      if (row.cuts[j].empty() || v > row.cuts[j].back()) {
        row.cuts[j].push_back(v);
      }
    }
  }
  nb = row.NumBuckets();
  std::vector<std::vector<std::pair<double, double>>> per(nb);
  std::vector<double> weight(nb, 0);
  for (size_t i = 0; i < c.size(); ++i) {
    const int b = row.Bucket(f[i]);
    per[b].push_back(ew[i]);
    weight[b] += c[i].w;
  }
  row.bucket_quantiles.assign(nb, row.quantiles);
  for (int b = 0; b < nb; ++b) {
    if (per[b].size() < 20) continue;
    std::vector<double> q = Quantiles(per[b], probs);
    const double shift =
        bs.keep_bias ? pooled_median : Shape(&probs, &q).Quantile(0.5);
    const double a = weight[b] / (weight[b] + bs.shrink);
    for (size_t i = 0; i < q.size(); ++i) {
      row.bucket_quantiles[b][i] =
          a * (q[i] - shift) + (1 - a) * row.quantiles[i];
    }
  }
}

Calibration LearnOnItsOwn(const Data& d, const std::vector<int>& use,
                          const ModelParams& params, const BucketSettings& bs,
                          const std::vector<int>& ks, int max_k, int max_h,
                          int64_t* windows = nullptr) {
  Calibration cal;
  cal.params = params;
  cal.probs = Probs();
  cal.max_k = max_k;
  cal.max_h = max_h;
  cal.rows.assign(max_k * max_h, CalibrationRow());
  const Cells cells = Collect(d, use, params, ks, max_k, max_h, windows);
  for (int k : ks) {
    for (int h = 1; h <= max_h; ++h) {
      const std::vector<Sample>& c = cells.at(k, h);
      if (c.size() < 200) continue;
      CalibrationRow& row = cal.rows[(k - 1) * max_h + h - 1];
      row.coef = FitLocation(Pointers(c));
      std::vector<std::pair<double, double>> ew;
      for (const Sample& s : c) {
        ew.emplace_back((s.r - Location(row.coef, s)) / s.s, s.w);
      }
      row.quantiles = Quantiles(ew, cal.probs);
      // The median is the location itself (the point forecast chosen by
      // out-of-sample absolute error); the shape only spreads around it.
      const double median = Shape(&cal.probs, &row.quantiles).Quantile(0.5);
      for (double& q : row.quantiles) q -= median;
      row.present = true;
      LearnBuckets(c, h, params, bs, ew, median, cal.probs, row);
    }
  }
  return cal;
}

void Log(const LearnOptions& o, const std::string& line) {
  if (o.log) o.log(line);
}

absl::StatusOr<LearnedCalibration> OnItsOwn(const Data& d,
                                            const LearnOptions& options) {
  const int n = static_cast<int>(d.series.size());
  if (n < kMinSeriesOnItsOwn) {
    return absl::InvalidArgumentError(
        absl::StrCat("learning on its own needs at least ", kMinSeriesOnItsOwn,
                     " series with two points or more; got ", n,
                     " (shrink toward a prior calibration instead)"));
  }
  const int max_k = options.max_k, max_h = options.max_h;
  const int cv_h = std::min(kScoredMaxH, max_h);
  std::vector<int> even, odd, every;
  for (int i = 0; i < n; ++i) {
    (i % 2 == 0 ? even : odd).push_back(i);
    every.push_back(i);
  }
  // Pooled volatility: the median over series of the standard deviation of
  // the yearly changes on the model scale.
  std::vector<double> sds;
  for (const SeriesData& s : d.series) {
    const std::vector<double>& z = s.z;
    double m = 0;
    for (size_t i = 1; i < z.size(); ++i) m += z[i] - z[i - 1];
    m /= z.size() - 1;
    double ss = 0;
    for (size_t i = 1; i < z.size(); ++i) {
      ss += std::pow(z[i] - z[i - 1] - m, 2);
    }
    sds.push_back(std::sqrt(ss / std::max<size_t>(1, z.size() - 2)));
  }
  std::nth_element(sds.begin(), sds.begin() + sds.size() / 2, sds.end());
  const double sigma_median = sds[sds.size() / 2];

  const std::vector<int> score_ks = ScoredKs(max_k);
  const BucketSettings pooled_only;
  auto held_out = [&](const Calibration& cal, const std::vector<int>& use) {
    std::vector<bool> member(n, false);
    for (int i : use) member[i] = true;
    const Cells cells = Collect(d, use, cal.params, score_ks, max_k, cv_h);
    return ScoreCells(d, cells, cal, member);
  };
  ModelParams best;
  double best_score = kInf;
  if (options.fixed_params.has_value()) {
    best = *options.fixed_params;
  } else {
    for (double sm : {0.5, 1.0, 2.0}) {
      for (double n0 : {1.0, 3.0, 10.0}) {
        for (double kappa0 : {3.0, 30.0}) {
          for (double power : {0.4, 0.6, 0.8, 1.0}) {
            ModelParams p{sigma_median * sm, n0, kappa0, power};
            const Calibration cal =
                LearnOnItsOwn(d, even, p, pooled_only, score_ks, max_k, cv_h);
            const double score = held_out(cal, odd).Mean().score;
            Log(options, absl::StrFormat(
                             "sigma_pool %.4f n0 %.2f kappa0 %.2f power %.2f: "
                             "%.5f",
                             p.sigma_pool, n0, kappa0, power, score));
            if (score < best_score) {
              best_score = score;
              best = p;
            }
          }
        }
      }
    }
  }
  best.max_bias_share = options.max_bias_share;
  // The error shape per bucket: how much to shrink it toward the pooled
  // one and whether to keep its bias, by two-fold cross-validation over
  // series (learn on one half, score on the other, both ways).
  auto cv = [&](const BucketSettings& s) {
    const Calibration a =
        LearnOnItsOwn(d, even, best, s, score_ks, max_k, cv_h);
    const Calibration b = LearnOnItsOwn(d, odd, best, s, score_ks, max_k, cv_h);
    ScoreSums sums = held_out(a, odd);
    sums.Add(held_out(b, even));
    return sums.Mean();
  };
  HeldOutScore bucket_score = cv(pooled_only);
  Log(options, absl::StrFormat("pooled shape: %.5f", bucket_score.score));
  BucketSettings chosen = pooled_only;
  std::vector<std::array<int, kNumBucketFeatures>> level_grid = {
      {3, 3, 1}, {4, 4, 1}, {5, 5, 1}, {6, 6, 1}, {4, 8, 1}};
  if (options.bucket_levels.has_value()) level_grid = {*options.bucket_levels};
  for (const auto& levels : level_grid) {
    if (levels == pooled_only.levels) continue;
    for (bool keep_bias : {false, true}) {
      for (double shrink : {1.0, 3.0, 10.0, 30.0}) {
        BucketSettings s;
        s.levels = levels;
        s.shrink = shrink;
        s.keep_bias = keep_bias;
        const HeldOutScore score = cv(s);
        Log(options,
            absl::StrFormat("buckets %d,%d,%d shrink %g keep_bias %d: %.5f",
                            s.levels[0], s.levels[1], s.levels[2], shrink,
                            keep_bias, score.score));
        if (score.score < bucket_score.score) {
          bucket_score = score;
          chosen = s;
        }
      }
    }
  }
  std::vector<int> ks;
  for (int k = 1; k <= max_k; ++k) ks.push_back(k);
  LearnedCalibration out;
  out.calibration = LearnOnItsOwn(d, every, best, chosen, ks, max_k, max_h,
                                  &out.report.windows);
  out.calibration.version = options.version;
  out.calibration.source.series = n;
  out.calibration.source.windows = out.report.windows;
  out.report.held_out = bucket_score;
  out.text = FormatCalibration(
      out.calibration,
      absl::StrCat(
          "Forecast calibration ", options.version,
          ": learned on its own by lib/forecast/learn.cc from ", n, " series",
          options.source_label.empty() ? "" : " of ", options.source_label,
          "\n(their training parts only; file format: ",
          "lib/forecast/model.h).\n",
          options.fixed_params.has_value()
              ? std::string("Priors given")
              : absl::StrFormat("Priors chosen by held-out score %.5f",
                                best_score),
          absl::StrFormat(
              ";\nerror shapes per bucket (levels %d,%d,%d, shrink %g, keep "
              "bias %d) by two-fold cross-validated score %.5f.",
              chosen.levels[0], chosen.levels[1], chosen.levels[2],
              chosen.shrink, chosen.keep_bias, bucket_score.score)));
  return out;
}

// ---------------------------------------------------------------------------
// Shrunk toward a prior.

// The examples of one set of series (a fold, or all), per cell, with their
// own location weights (which do not depend on the strength).
struct Own {
  struct Cell {
    std::vector<const Sample*> samples;
    double n = 0;  // series (the weights sum to 1 per series)
    std::optional<std::array<double, kNumFeatures>> coef;
  };
  std::vector<Cell> cells;  // [(k - 1) * max_h + h - 1] of the prior
};

Own OwnEstimates(const Calibration& prior, const Cells& cells,
                 const std::vector<bool>& member, const std::vector<int>& ks,
                 int max_h) {
  Own own;
  own.cells.resize(prior.max_k * prior.max_h);
  for (int k : ks) {
    for (int h = 1; h <= std::min(max_h, prior.max_h); ++h) {
      Own::Cell& cell = own.cells[(k - 1) * prior.max_h + h - 1];
      for (const Sample& s : cells.at(k, h)) {
        if (!member[s.series]) continue;
        cell.samples.push_back(&s);
        cell.n += s.w;
      }
      // A least-absolute-deviation fit needs some examples per weight
      // before it means anything.
      if (cell.samples.size() >= 5 * kNumFeatures) {
        cell.coef = FitLocation(cell.samples);
      }
    }
  }
  return own;
}

// `prior` with every cell that `own` has examples in moved toward their own
// estimates by n / (n + strength), n their series in the cell or bucket.
// `center`: the data's error quantiles are centered as the prior's are (the
// pooled ones on their median, a bucket's on the pooled median), so that the
// data's overall bias is dropped and only the buckets' differences kept;
// otherwise they stay where the errors fell.
Calibration Shrink(const Calibration& prior, const Own& own, double strength,
                   bool center) {
  Calibration cal = prior;
  if (std::isinf(strength)) return cal;
  for (int k = 1; k <= prior.max_k; ++k) {
    for (int h = 1; h <= prior.max_h; ++h) {
      CalibrationRow& row = cal.rows[(k - 1) * prior.max_h + h - 1];
      const Own::Cell& cell = own.cells[(k - 1) * prior.max_h + h - 1];
      if (!row.present || cell.samples.empty()) continue;
      const std::vector<const Sample*>& c = cell.samples;
      const double a = cell.n / (cell.n + strength);
      if (cell.coef.has_value()) {
        for (int j = 0; j < kNumFeatures; ++j) {
          row.coef[j] = a * (*cell.coef)[j] + (1 - a) * row.coef[j];
        }
      }
      std::vector<std::pair<double, double>> ew;
      std::vector<std::array<double, kNumBucketFeatures>> f;
      for (const Sample* s : c) {
        const double loc = Location(row.coef, *s);
        ew.emplace_back((s->r - loc) / s->s, s->w);
        f.push_back(SampleBucketFeatures(*s, h, loc, prior.params));
      }
      const std::vector<double> pooled = Quantiles(ew, prior.probs);
      const double median =
          center ? Shape(&prior.probs, &pooled).Quantile(0.5) : 0.0;
      for (size_t i = 0; i < pooled.size(); ++i) {
        row.quantiles[i] =
            a * (pooled[i] - median) + (1 - a) * row.quantiles[i];
      }
      if (row.bucket_quantiles.empty()) continue;
      const int nb = row.NumBuckets();
      std::vector<std::vector<std::pair<double, double>>> per(nb);
      std::vector<double> weight(nb, 0);
      for (size_t i = 0; i < c.size(); ++i) {
        const int b = row.Bucket(f[i]);
        per[b].push_back(ew[i]);
        weight[b] += c[i]->w;
      }
      for (int b = 0; b < nb; ++b) {
        if (per[b].empty()) continue;
        const std::vector<double> q = Quantiles(per[b], prior.probs);
        const double ab = weight[b] / (weight[b] + strength);
        std::vector<double>& out = row.bucket_quantiles[b];
        for (size_t i = 0; i < q.size(); ++i) {
          out[i] = ab * (q[i] - median) + (1 - ab) * out[i];
        }
      }
    }
  }
  return cal;
}

absl::StatusOr<LearnedCalibration> Shrunk(const Data& d,
                                          const LearnOptions& options) {
  const Calibration& prior = *options.prior;
  const int n = static_cast<int>(d.series.size());
  const int max_k = prior.max_k, max_h = prior.max_h;
  const int cv_h = std::min(kScoredMaxH, max_h);
  std::vector<int> every, all_ks;
  for (int i = 0; i < n; ++i) every.push_back(i);
  for (int k = 1; k <= max_k; ++k) all_ks.push_back(k);
  LearnedCalibration out;
  const auto past_deadline = [&options, n]() -> absl::Status {
    if (absl::Now() < options.deadline) return absl::OkStatus();
    return absl::DeadlineExceededError(absl::StrFormat(
        "learning from %d series did not finish before its deadline", n));
  };
  const Cells cells = Collect(d, every, prior.params, all_ks, max_k, max_h,
                              &out.report.windows);
  KPI_RETURN_IF_ERROR(past_deadline());
  const std::vector<int> score_ks = ScoredKs(max_k);
  for (int k : score_ks) {
    for (int h = 1; h <= cv_h; ++h) {
      out.report.forecasts += cells.at(k, h).size();
    }
  }
  // Two folds over series; each series is held out once.
  std::vector<bool> even(n), odd(n);
  for (int i = 0; i < n; ++i) (i % 2 == 0 ? even : odd)[i] = true;
  const Own own_even = OwnEstimates(prior, cells, even, score_ks, cv_h);
  const Own own_odd = OwnEstimates(prior, cells, odd, score_ks, cv_h);
  KPI_RETURN_IF_ERROR(past_deadline());
  // The candidates, from the least shrinkage to the most (the prior).
  std::vector<ShrinkCandidate> candidates;
  for (double strength : kShrinkStrengths) {
    candidates.push_back({strength, false, 0});
    candidates.push_back({strength, true, 0});
  }
  candidates.push_back({kInf, true, 0});
  std::vector<ScoreSums> sums;
  for (ShrinkCandidate& c : candidates) {
    KPI_RETURN_IF_ERROR(past_deadline());
    const Calibration a = Shrink(prior, own_even, c.strength, c.centered);
    const Calibration b = Shrink(prior, own_odd, c.strength, c.centered);
    ScoreSums s = ScoreCells(d, cells, a, odd);
    s.Add(ScoreCells(d, cells, b, even));
    c.score = s.Mean().score;
    Log(options, absl::StrFormat("strength %g centered %d: %.5f", c.strength,
                                 c.centered, c.score));
    sums.push_back(std::move(s));
  }
  out.report.candidates = candidates;
  // The best, then the strongest shrinkage within one standard error of it
  // (the difference per series, paired): noise does not buy a departure
  // from the prior.
  size_t best = 0;
  for (size_t i = 1; i < sums.size(); ++i) {
    if (sums[i].Mean().score < sums[best].Mean().score) best = i;
  }
  size_t chosen = best;
  for (size_t i = sums.size(); i-- > best + 1;) {
    if (sums[i].weight <= 0) continue;
    std::vector<double> diff;
    for (int s = 0; s < n; ++s) {
      if (sums[i].series_weight[s] > 0) {
        diff.push_back(sums[i].series_score[s] - sums[best].series_score[s]);
      }
    }
    double mean = 0, var = 0;
    for (double v : diff) mean += v;
    mean /= std::max<size_t>(1, diff.size());
    for (double v : diff) var += (v - mean) * (v - mean);
    var /= std::max<size_t>(1, diff.size() - 1);
    const double total_diff = mean * diff.size() / sums[i].weight;
    const double se = std::sqrt(var * diff.size()) / sums[i].weight;
    if (total_diff <= se) {
      chosen = i;
      break;
    }
  }
  const ShrinkCandidate& pick = candidates[chosen];
  out.report.strength = pick.strength;
  out.report.centered = pick.centered;
  out.report.held_out = sums[chosen].Mean();
  out.report.prior_held_out = sums.back().Mean();
  std::vector<bool> all(n, true);
  out.calibration =
      std::isinf(pick.strength)
          ? prior
          : Shrink(prior, OwnEstimates(prior, cells, all, all_ks, max_h),
                   pick.strength, pick.centered);
  out.calibration.version = options.version;
  out.calibration.source.series = n;
  out.calibration.source.windows = out.report.windows;
  out.calibration.source.shrunk_toward = prior.version;
  out.calibration.source.shrink_strength = pick.strength;
  std::vector<std::string> grid;
  for (const ShrinkCandidate& c : candidates) {
    grid.push_back(absl::StrFormat("%g%s: %.5f", c.strength,
                                   c.centered ? "c" : "", c.score));
  }
  out.text = FormatCalibration(
      out.calibration,
      absl::StrCat(
          "Forecast calibration ", options.version,
          ": learned by lib/forecast/learn.cc from ", n, " series",
          options.source_label.empty() ? "" : " of ", options.source_label,
          " (", out.report.windows, " rolling windows),\nshrunk toward ",
          prior.version, " by ",
          std::isinf(pick.strength)
              ? std::string("infinitely many pseudo-series (the prior kept)")
              : absl::StrFormat("%g pseudo-series, %s", pick.strength,
                                pick.centered ? "errors centered (the data's "
                                                "overall bias dropped)"
                                              : "errors as they fell"),
          ", chosen by two-fold\ncross-validation over series (score = "
          "scaled quantile loss + 8 x Brier, k = 2, 3, 5, 7, h = 1..6;\n"
          "strength, c = centered: score): ",
          absl::StrJoin(grid, ", "), ".\nHeld out: ",
          absl::StrFormat("80%% coverage %.3f, 95%% coverage %.3f, Brier "
                          "%.4f, MASE %.3f, SQL %.3f over %d forecasts.",
                          out.report.held_out.cov80, out.report.held_out.cov95,
                          out.report.held_out.brier, out.report.held_out.mase,
                          out.report.held_out.sql,
                          out.report.held_out.forecasts)));
  return out;
}

bool ValidVersion(const std::string& v) {
  if (v.empty() || v.size() > 64) return false;
  for (char c : v) {
    if (!absl::ascii_isalnum(c) && c != '.' && c != '_' && c != '-') {
      return false;
    }
  }
  return true;
}

}  // namespace

absl::StatusOr<LearnedCalibration> LearnCalibration(
    const std::vector<TrainingSeries>& series, const LearnOptions& options) {
  if (!ValidVersion(options.version)) {
    return absl::InvalidArgumentError(
        absl::StrCat("version: \"", options.version,
                     "\"; expected 1 to 64 of A-Z a-z 0-9 . _ -"));
  }
  if (options.prior == nullptr &&
      (options.max_k < 1 || options.max_k > kMaxWindow || options.max_h < 1 ||
       options.max_h > 30)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "max_k must be from 1 to ", kMaxWindow, " and max_h from 1 to 30"));
  }
  if (options.max_bias_share < 0 || options.max_bias_share > 1) {
    return absl::InvalidArgumentError("max_bias_share: from 0 to 1");
  }
  if (options.prior != nullptr &&
      (options.prior->max_k < 1 || options.prior->max_h < 1)) {
    return absl::InvalidArgumentError(
        absl::StrCat("the prior calibration ", options.prior->version,
                     " has no cells to shrink toward"));
  }
  const Data d = Load(series);
  if (d.series.empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat("none of the ", series.size(),
                     " series has two points or more to learn from"));
  }
  absl::StatusOr<LearnedCalibration> out =
      options.prior == nullptr ? OnItsOwn(d, options) : Shrunk(d, options);
  if (out.ok()) {
    out->report.series_used = static_cast<int>(d.series.size());
    out->report.series_skipped = d.skipped;
  }
  return out;
}

HeldOutScore ScoreCalibration(const Calibration& calibration,
                              const std::vector<TrainingSeries>& series) {
  const Data d = Load(series);
  std::vector<int> every;
  for (size_t i = 0; i < d.series.size(); ++i) every.push_back(i);
  const int max_h = std::min(kScoredMaxH, std::max(1, calibration.max_h));
  const int max_k = std::max(1, calibration.max_k);
  int64_t windows = 0;
  const Cells cells = Collect(d, every, calibration.params, ScoredKs(max_k),
                              max_k, max_h, &windows);
  HeldOutScore out = ScoreCells(d, cells, calibration).Mean();
  out.series = static_cast<int>(d.series.size());
  out.windows = windows;
  return out;
}

}  // namespace kpi::forecast
