// Learns the forecast calibration (lib/forecast/calibration/*.txt) from the
// TRAINING parts of a file in the m3_yearly.csv format; test rows are never
// read. For every window length k and horizon h it collects rolling windows
// inside each series' training part and learns, out of sample:
//   - the location weights (a least-absolute-deviation regression of the
//     realized change on the model's drift features, each error divided by
//     the window's predictive scale, each series weighing the same);
//   - the empirical quantiles of the standardized errors of that location.
// The shared priors (pooled volatility, its weight, the drift precision) are
// chosen by a grid search: learn on half of the series, score the scaled
// quantile loss on the other half, keep the best.
//
// Usage: kpi_calibrate --data m3_yearly.csv --out m3-train-v2.txt
//                      [--version m3-train-v2]

#include <algorithm>
#include <cmath>
#include <fstream>
#include <iostream>
#include <string>
#include <vector>

#include "Eigen/Dense"
#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "lib/forecast/backtest.h"
#include "lib/forecast/model.h"

ABSL_FLAG(std::string, data, "", "series in the m3_yearly.csv format");
ABSL_FLAG(std::string, out, "", "calibration file to write");
ABSL_FLAG(std::string, version, "m3-train-v2", "version label");
ABSL_FLAG(int, max_k, 10, "largest window length learned");
ABSL_FLAG(int, max_h, 10, "largest horizon learned");
ABSL_FLAG(bool, center, true, "center the error quantiles on the location");
ABSL_FLAG(bool, pooled_drift, false,
          "learn a drift common to all series (the pool's own trend)");
ABSL_FLAG(std::string, bucket_levels, "",
          "levels per bucket feature (volatility, trend, disagreement), e.g. "
          "5,5,1; 1,1,1 = pooled error quantiles only; empty = chosen by "
          "cross-validation");
ABSL_FLAG(double, max_bias_share, 0.5,
          "the largest share of a predicted change that a bucket's bias may "
          "take back (a product rule, not learned: see ModelParams)");
ABSL_FLAG(std::string, fixed_params, "",
          "sigma_pool,n0,kappa0,scale_power: skip the prior grid search");

namespace kpi::forecast {
namespace {

// One training example: a window of one series, the realized change at h.
struct Sample {
  std::array<double, kNumFeatures> x;  // features
  double r = 0;                        // z(T + h) - z(T)
  double s = 1;                        // predictive scale
  double w = 1;                        // 1 / windows of its series in the cell
  double unit = 1;                     // series scale for scoring
  double z_last = 0;                   // last z of the window
  int series = 0;
  // What BucketFeatures reads of the window.
  double slope_ols = 0, slope_last = 0, trusted_slope = 0;
};

struct Data {
  std::vector<std::vector<double>> t, z;  // per series, training part only
  std::vector<double> unit;  // mean |diff y| over the series (original scale)
};

Data Load(const std::vector<YearlySeries>& all) {
  Data d;
  for (const YearlySeries& s : all) {
    std::vector<double> t, z;
    bool ok = s.train_values.size() >= 2;
    for (size_t i = 0; i < s.train_values.size(); ++i) {
      ok &= s.train_values[i] > 0;
      t.push_back(s.train_years[i]);
      z.push_back(std::log(std::max(s.train_values[i], 1e-300)));
    }
    if (!ok) continue;
    double u = 0;
    for (size_t i = 1; i < z.size(); ++i) {
      u += std::fabs(s.train_values[i] - s.train_values[i - 1]);
    }
    u /= (z.size() - 1);
    d.t.push_back(t);
    d.z.push_back(z);
    d.unit.push_back(u > 0 ? u : 1e-3);
  }
  return d;
}

// cells[(k - 1) * max_h + h - 1]: the samples of the series in `use`.
std::vector<std::vector<Sample>> Collect(const Data& d,
                                         const std::vector<int>& use,
                                         const ModelParams& params,
                                         const std::vector<int>& ks, int max_k,
                                         int max_h) {
  std::vector<std::vector<Sample>> cells(max_k * max_h);
  for (int si : use) {
    const std::vector<double>& t = d.t[si];
    const std::vector<double>& z = d.z[si];
    const int n = static_cast<int>(z.size());
    for (int k : ks) {
      std::vector<size_t> first(max_h, 0);
      for (int h = 1; h <= max_h; ++h) {
        first[h - 1] = cells[(k - 1) * max_h + h - 1].size();
      }
      for (int end = k - 1; end + 1 < n; ++end) {
        std::vector<double> wt(t.begin() + end - k + 1, t.begin() + end + 1);
        std::vector<double> wz(z.begin() + end - k + 1, z.begin() + end + 1);
        std::vector<double> wy;
        for (double v : wz) wy.push_back(std::exp(v));
        const WindowFit fit = FitWindow(wt, wz, wy, params);
        for (int h = 1; h <= max_h && end + h < n; ++h) {
          Sample s;
          s.x = Features(fit, h);
          s.r = z[end + h] - z[end];
          s.s = ErrorScale(fit, h, params);
          s.unit = d.unit[si];
          s.z_last = z[end];
          s.series = si;
          s.slope_ols = fit.slope_ols;
          s.slope_last = fit.slope_last;
          s.trusted_slope = fit.trusted_slope;
          cells[(k - 1) * max_h + h - 1].push_back(s);
        }
      }
      for (int h = 1; h <= max_h; ++h) {
        std::vector<Sample>& c = cells[(k - 1) * max_h + h - 1];
        const size_t m = c.size() - first[h - 1];
        for (size_t i = first[h - 1]; i < c.size(); ++i) c[i].w = 1.0 / m;
      }
    }
  }
  return cells;
}

// Weighted least absolute deviations by iteratively
// reweighted least squares, with a small ridge for collinear features.
std::array<double, kNumFeatures> FitLocation(const std::vector<Sample>& c) {
  const int n = static_cast<int>(c.size()), p = kNumFeatures;
  Eigen::MatrixXd x(n, p);
  Eigen::VectorXd y(n), w0(n);
  // Each error in the unit of the series' mean absolute yearly change, as
  // MASE counts it: a log error times level / unit.
  for (int i = 0; i < n; ++i) {
    const double scale = std::exp(c[i].z_last) / c[i].unit;
    for (int j = 0; j < p; ++j) x(i, j) = c[i].x[j] * scale;
    y(i) = c[i].r * scale;
    w0(i) = c[i].w;
  }
  Eigen::VectorXd beta = Eigen::VectorXd::Zero(p);
  for (int iter = 0; iter < 60; ++iter) {
    Eigen::VectorXd res = y - x * beta;
    Eigen::VectorXd w(n);
    for (int i = 0; i < n; ++i)
      w(i) = w0(i) / std::max(std::fabs(res(i)), 1e-4);
    Eigen::MatrixXd a = x.transpose() * w.asDiagonal() * x;
    if (!absl::GetFlag(FLAGS_pooled_drift)) {
      // No drift common to all series: the first feature is left out.
      a.row(0).setZero();
      a.col(0).setZero();
      a(0, 0) = 1;
    }
    const double ridge = 1e-6 * (a.trace() / p + 1e-12);
    a += ridge * Eigen::MatrixXd::Identity(p, p);
    Eigen::VectorXd rhs = x.transpose() * (w.asDiagonal() * y);
    if (!absl::GetFlag(FLAGS_pooled_drift)) rhs(0) = 0;
    Eigen::VectorXd next = a.ldlt().solve(rhs);
    const double change = (next - beta).norm();
    beta = next;
    if (change < 1e-10) break;
  }
  std::array<double, kNumFeatures> out;
  for (int j = 0; j < p; ++j) out[j] = beta(j);
  if (!absl::GetFlag(FLAGS_pooled_drift)) out[0] = 0;
  return out;
}

// How the per-bucket error quantiles are learned (chosen by cross-validation
// in Main).
struct BucketSettings {
  std::array<int, kNumBucketFeatures> levels = {1, 1, 1};
  // Pseudo-series of the pooled quantiles mixed into each bucket's.
  double shrink = 0;
  // Keep a bucket's median where it falls (a bias correction conditional
  // on the bucket) instead of centering it on the location.
  bool keep_bias = false;
};

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
    size_t i = std::lower_bound(cum.begin(), cum.end(), p) - cum.begin();
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

std::vector<double> Probs() {
  std::vector<double> p = {0.001, 0.0025, 0.005};
  for (int i = 1; i <= 99; ++i) p.push_back(i / 100.0);
  for (double v : {0.995, 0.9975, 0.999}) p.push_back(v);
  return p;
}

Calibration Learn(const Data& d, const std::vector<int>& use,
                  const ModelParams& params, const BucketSettings& bs,
                  const std::vector<int>& ks, int max_k, int max_h) {
  Calibration cal;
  cal.params = params;
  cal.probs = Probs();
  cal.max_k = max_k;
  cal.max_h = max_h;
  cal.rows.assign(max_k * max_h, CalibrationRow());
  const auto cells = Collect(d, use, params, ks, max_k, max_h);
  for (int k : ks) {
    for (int h = 1; h <= max_h; ++h) {
      const std::vector<Sample>& c = cells[(k - 1) * max_h + h - 1];
      if (c.size() < 200) continue;
      CalibrationRow& row = cal.rows[(k - 1) * max_h + h - 1];
      row.coef = FitLocation(c);
      std::vector<std::pair<double, double>> ew;
      for (const Sample& s : c) {
        ew.emplace_back((s.r - Location(row.coef, s)) / s.s, s.w);
      }
      row.quantiles = Quantiles(ew, cal.probs);
      double median = 0;
      if (absl::GetFlag(FLAGS_center)) {
        // The median is the location itself (the point forecast chosen by
        // out-of-sample absolute error); the shape only spreads around it.
        median = Shape(&cal.probs, &row.quantiles).Quantile(0.5);
        for (double& q : row.quantiles) q -= median;
      }
      row.present = true;
      LearnBuckets(c, h, params, bs, ew, median, cal.probs, row);
    }
  }
  return cal;
}

constexpr double kBrierWeight = 8;

// Mean scaled quantile loss (the SQL of BENCHMARK.md, original scale) of
// `cal` on the series in `use`, for the backtest's k and h = 1..6.
double Score(const Data& d, const std::vector<int>& use, const Calibration& cal,
             const std::vector<int>& ks) {
  const double taus[] = {0.025, 0.10, 0.50, 0.90, 0.975};
  const int max_h = std::min(6, cal.max_h);
  const auto cells = Collect(d, use, cal.params, ks, cal.max_k, max_h);
  double total = 0, weight = 0;
  for (int k : ks) {
    for (int h = 1; h <= max_h; ++h) {
      const CalibrationRow* row = cal.Row(k, h);
      for (const Sample& s : cells[(k - 1) * max_h + h - 1]) {
        const double loc0 = Location(row->coef, s);
        const std::vector<double>& qs =
            row->QuantilesFor(SampleBucketFeatures(s, h, loc0, cal.params));
        const Shape shape(&cal.probs, &qs);
        const double loc =
            loc0 + BiasCap(loc0, s.s, shape.Quantile(0.5), cal.params);
        double brier = 0;
        for (double ratio : {0.9, 1.0, 1.1, 1.25}) {
          const double p = 1 - shape.Cdf((std::log(ratio) - loc) / s.s);
          brier += std::pow(p - (s.r >= std::log(ratio) ? 1.0 : 0.0), 2) / 4;
        }
        double loss = 0;
        for (double tau : taus) {
          const double q = std::exp(s.z_last + loc + s.s * shape.Quantile(tau));
          const double y = std::exp(s.z_last + s.r);
          loss += 2 * ((y < q ? 1.0 : 0.0) - tau) * (q - y);
        }
        // The backtest's SQL plus its Brier score, weighted so that both
        // count about the same.
        total += s.w * (loss / 5 / s.unit + kBrierWeight * brier);
        weight += s.w;
      }
    }
  }
  return total / weight;
}

int Main() {
  const std::string data_path = absl::GetFlag(FLAGS_data);
  const std::string out_path = absl::GetFlag(FLAGS_out);
  const int max_k = absl::GetFlag(FLAGS_max_k),
            max_h = absl::GetFlag(FLAGS_max_h);
  if (data_path.empty() || out_path.empty() || max_k < 1 ||
      max_k > kMaxWindow || max_h < 1) {
    std::cerr << "usage: kpi_calibrate --data DATA.csv --out FILE.txt "
                 "[--max_k 1..10] [--max_h N]\n";
    return 2;
  }
  absl::StatusOr<std::vector<YearlySeries>> all =
      ReadYearlySeriesCsv(data_path);
  if (!all.ok()) {
    std::cerr << all.status() << "\n";
    return 1;
  }
  const Data d = Load(*all);
  std::vector<int> even, odd, every;
  for (int i = 0; i < static_cast<int>(d.z.size()); ++i) {
    (i % 2 == 0 ? even : odd).push_back(i);
    every.push_back(i);
  }
  // Pooled volatility: the median over series of the standard deviation of
  // the yearly log changes.
  std::vector<double> sds;
  for (const auto& z : d.z) {
    double m = 0;
    for (size_t i = 1; i < z.size(); ++i) m += z[i] - z[i - 1];
    m /= z.size() - 1;
    double ss = 0;
    for (size_t i = 1; i < z.size(); ++i)
      ss += std::pow(z[i] - z[i - 1] - m, 2);
    sds.push_back(std::sqrt(ss / std::max<size_t>(1, z.size() - 2)));
  }
  std::nth_element(sds.begin(), sds.begin() + sds.size() / 2, sds.end());
  const double sigma_median = sds[sds.size() / 2];

  const std::vector<int> score_ks = {2, 3, 5, 7};
  const BucketSettings pooled_only;
  ModelParams best;
  double best_score = std::numeric_limits<double>::infinity();
  const std::string fixed = absl::GetFlag(FLAGS_fixed_params);
  if (!fixed.empty()) {
    std::vector<double> v;
    for (absl::string_view part : absl::StrSplit(fixed, ',')) {
      double x;
      if (!absl::SimpleAtod(part, &x)) break;
      v.push_back(x);
    }
    if (v.size() != 4) {
      std::cerr << "--fixed_params: expected sigma_pool,n0,kappa0,power\n";
      return 2;
    }
    best = ModelParams{v[0], v[1], v[2], v[3]};
  } else {
    for (double sm : {0.5, 1.0, 2.0}) {
      for (double n0 : {1.0, 3.0, 10.0}) {
        for (double kappa0 : {3.0, 30.0}) {
          for (double power : {0.4, 0.6, 0.8, 1.0}) {
            ModelParams p{sigma_median * sm, n0, kappa0, power};
            const Calibration cal = Learn(d, even, p, pooled_only, score_ks,
                                          max_k, std::min(6, max_h));
            const double score = Score(d, odd, cal, score_ks);
            std::cerr << absl::StrFormat(
                "sigma_pool %.4f n0 %.2f kappa0 %.2f power %.2f: %.5f\n",
                p.sigma_pool, n0, kappa0, power, score);
            if (score < best_score) {
              best_score = score;
              best = p;
            }
          }
        }
      }
    }
  }
  best.max_bias_share = absl::GetFlag(FLAGS_max_bias_share);
  // The error shape per bucket: how much to shrink it toward the pooled
  // one and whether to keep its bias, by two-fold cross-validation over
  // series (learn on one half, score on the other, both ways).
  BucketSettings bs;
  if (!absl::GetFlag(FLAGS_bucket_levels).empty()) {
    std::vector<int> levels;
    for (absl::string_view part :
         absl::StrSplit(absl::GetFlag(FLAGS_bucket_levels), ',')) {
      int l;
      if (!absl::SimpleAtoi(part, &l) || l < 1 || l > 10) break;
      levels.push_back(l);
    }
    if (levels.size() != kNumBucketFeatures) {
      std::cerr << "--bucket_levels: expected " << kNumBucketFeatures
                << " levels from 1 to 10\n";
      return 2;
    }
    std::copy(levels.begin(), levels.end(), bs.levels.begin());
  }
  auto cv = [&](const BucketSettings& s) {
    const Calibration a =
        Learn(d, even, best, s, score_ks, max_k, std::min(6, max_h));
    const Calibration b =
        Learn(d, odd, best, s, score_ks, max_k, std::min(6, max_h));
    return 0.5 * (Score(d, odd, a, score_ks) + Score(d, even, b, score_ks));
  };
  double bucket_score = cv(pooled_only);
  std::cerr << absl::StrFormat("pooled shape: %.5f\n", bucket_score);
  BucketSettings chosen = pooled_only;
  std::vector<std::array<int, kNumBucketFeatures>> level_grid = {bs.levels};
  if (absl::GetFlag(FLAGS_bucket_levels).empty()) {
    level_grid = {{3, 3, 1}, {4, 4, 1}, {5, 5, 1}, {6, 6, 1}, {4, 8, 1}};
  }
  for (const auto& levels : level_grid) {
    if (levels == pooled_only.levels) continue;
    for (bool keep_bias : {false, true}) {
      for (double shrink : {1.0, 3.0, 10.0, 30.0}) {
        BucketSettings s;
        s.levels = levels;
        s.shrink = shrink;
        s.keep_bias = keep_bias;
        const double score = cv(s);
        std::cerr << absl::StrFormat(
            "buckets %d,%d,%d shrink %g keep_bias %d: %.5f\n", s.levels[0],
            s.levels[1], s.levels[2], shrink, keep_bias, score);
        if (score < bucket_score) {
          bucket_score = score;
          chosen = s;
        }
      }
    }
  }
  std::vector<int> ks;
  for (int k = 1; k <= max_k; ++k) ks.push_back(k);
  Calibration cal = Learn(d, every, best, chosen, ks, max_k, max_h);
  cal.version = absl::GetFlag(FLAGS_version);
  const std::string header = absl::StrCat(
      "Forecast calibration ", cal.version,
      ": written by bench/forecast/calibrate.cc (kpi_calibrate) from the\n"
      "training parts only of ",
      all->size(),
      " yearly series (file format: lib/forecast/model.h).\n"
      "Priors chosen by held-out scaled quantile loss ",
      absl::StrFormat("%.5f", best_score),
      absl::StrFormat(
          ";\nerror shapes per bucket (levels %d,%d,%d, shrink %g, keep bias "
          "%d) by two-fold cross-validated loss %.5f",
          chosen.levels[0], chosen.levels[1], chosen.levels[2], chosen.shrink,
          chosen.keep_bias, bucket_score),
      ".\nRegenerate: bench/forecast/calibrate.sh BUILD_DIR");
  std::ofstream out(out_path, std::ios::binary | std::ios::trunc);
  out << FormatCalibration(cal, header);
  if (!out) {
    std::cerr << "cannot write " << out_path << "\n";
    return 1;
  }
  return 0;
}

}  // namespace
}  // namespace kpi::forecast

int main(int argc, char** argv) {
  absl::ParseCommandLine(argc, argv);
  return kpi::forecast::Main();
}
