#include "lib/forecast/path.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <limits>

namespace kpi::forecast {
namespace {

// The anchor's weight in the isotonic fit: it is an observation, not an
// estimate, so the fit keeps it.
constexpr double kAnchorWeight = 1e9;
// Widening factors are searched up to this; a path needing more is widened
// this far.
constexpr double kMaxStretch = 64;

// A distribution moved on `scale`: its median `median` goes to `center` and
// deviations from it are multiplied by `stretch`.
Distribution Moved(const Distribution& d, const Transform& scale, double median,
                   double center, double stretch) {
  Distribution out;
  out.quantile = [d, scale, median, center, stretch](double p) {
    return scale.Inverse(center +
                         stretch * (scale.Forward(d.quantile(p)) - median));
  };
  out.cdf = [d, scale, median, center, stretch](double v) {
    return d.cdf(scale.Inverse(median + (scale.Forward(v) - center) / stretch));
  };
  return out;
}

}  // namespace

double ReportingResolution(const std::vector<double>& values) {
  constexpr double kPowers[] = {1, 1e-1, 1e-2, 1e-3, 1e-4, 1e-5, 1e-6};
  for (double r : kPowers) {
    bool divides = true;
    for (double v : values) {
      const double units = v / r;
      divides &= std::fabs(units - std::round(units)) <=
                 1e-9 * std::max(1.0, std::fabs(units));
    }
    if (divides) return r;
  }
  return 1e-6;
}

Distribution ReportedAtResolution(const Distribution& d, double resolution) {
  const double half = resolution / 2;
  Distribution out;
  out.quantile = [d, half](double p) {
    const double v = d.quantile(p);
    return v < half ? 0.0 : v;
  };
  // P(reported <= v) for 0 <= v < half is P(value < half).
  out.cdf = [d, half](double v) {
    if (v < 0) return 0.0;
    return d.cdf(std::max(v, half));
  };
  return out;
}

std::vector<double> IsotonicFit(const std::vector<double>& y,
                                const std::vector<double>& w, bool increasing) {
  // Blocks of pooled values: mean, weight, length.
  std::vector<double> mean, weight;
  std::vector<int> length;
  for (size_t i = 0; i < y.size(); ++i) {
    mean.push_back(increasing ? y[i] : -y[i]);
    weight.push_back(w[i]);
    length.push_back(1);
    while (mean.size() > 1 && mean[mean.size() - 2] > mean.back()) {
      const size_t b = mean.size() - 1;
      const double total = weight[b - 1] + weight[b];
      mean[b - 1] = (weight[b - 1] * mean[b - 1] + weight[b] * mean[b]) / total;
      weight[b - 1] = total;
      length[b - 1] += length[b];
      mean.pop_back();
      weight.pop_back();
      length.pop_back();
    }
  }
  std::vector<double> fit;
  for (size_t b = 0; b < mean.size(); ++b) {
    fit.insert(fit.end(), length[b], increasing ? mean[b] : -mean[b]);
  }
  return fit;
}

void MakeCoherent(const Transform& scale, double anchor,
                  const std::function<double(double)>& report,
                  const std::vector<double>& levels,
                  std::vector<Distribution>* path,
                  std::vector<double>* quantiles) {
  const size_t years = path->size();
  const size_t n = levels.size();
  quantiles->resize(years * n);
  const size_t mid =
      std::lower_bound(levels.begin(), levels.end(), 0.5) - levels.begin();
  // Each year's quantiles at `levels`, read once; on the model's scale when
  // needed (the median always, the others for a year that moves).
  std::vector<double> z(years * n, std::numeric_limits<double>::quiet_NaN());
  auto q = [&](size_t h, size_t i) -> double& {
    return (*quantiles)[h * n + i];
  };
  bool finite = std::isfinite(scale.Forward(anchor));
  for (size_t h = 0; h < years; ++h) {
    for (size_t i = 0; i < n; ++i) q(h, i) = (*path)[h].quantile(levels[i]);
    z[h * n + mid] = scale.Forward(q(h, mid));
  }
  auto zq = [&](size_t h, size_t i) {
    double& v = z[h * n + i];
    if (std::isnan(v)) v = scale.Forward(q(h, i));
    return v;
  };
  std::vector<std::array<size_t, 2>> width_index;
  for (const auto& level : kWidthLevels) {
    width_index.push_back(
        {static_cast<size_t>(
             std::lower_bound(levels.begin(), levels.end(), level[0]) -
             levels.begin()),
         static_cast<size_t>(
             std::lower_bound(levels.begin(), levels.end(), level[1]) -
             levels.begin())});
  }
  std::vector<double> medians = {scale.Forward(anchor)}, w = {kAnchorWeight};
  for (size_t h = 0; h < years; ++h) {
    medians.push_back(z[h * n + mid]);
    w.push_back(1);
    finite &= std::isfinite(z[h * n + mid]);
  }
  if (years == 0 || !finite) return;
  // The better of the two directions (least squares over the years).
  const std::vector<double> up = IsotonicFit(medians, w, true);
  const std::vector<double> down = IsotonicFit(medians, w, false);
  double up_loss = 0, down_loss = 0;
  for (size_t i = 1; i < medians.size(); ++i) {
    up_loss += (up[i] - medians[i]) * (up[i] - medians[i]);
    down_loss += (down[i] - medians[i]) * (down[i] - medians[i]);
  }
  const std::vector<double>& fit = up_loss <= down_loss ? up : down;

  std::vector<double> previous(width_index.size(), 0);
  std::vector<double> moved;
  for (size_t h = 0; h < years; ++h) {
    const double median = medians[h + 1];
    const double center = fit[h + 1];
    // The year's quantiles with its median at `center` and deviations from
    // it times `stretch`.
    auto place = [&](double stretch, std::vector<double>* out) {
      out->resize(n);
      for (size_t i = 0; i < n; ++i) {
        (*out)[i] = center == median && stretch == 1
                        ? q(h, i)
                        : scale.Inverse(center + stretch * (zq(h, i) - median));
      }
    };
    auto width = [&](const std::vector<double>& q, size_t l) {
      return report(q[width_index[l][1]]) - report(q[width_index[l][0]]);
    };
    // Width of level l at a stretch (only its two quantiles matter).
    auto width_at = [&](size_t l, double stretch) {
      const size_t a = width_index[l][0], b = width_index[l][1];
      return report(scale.Inverse(center + stretch * (zq(h, b) - median))) -
             report(scale.Inverse(center + stretch * (zq(h, a) - median)));
    };
    double stretch = 1;
    place(1, &moved);
    for (size_t l = 0; l < width_index.size(); ++l) {
      const double need = previous[l] * (1 - 1e-12);
      if (width(moved, l) >= need) continue;
      // The least stretch giving level l its width: widths grow with the
      // stretch; bracket, then regula falsi (Illinois) to 1e-9.
      double lo = std::max(1.0, stretch), hi = 2 * lo;
      double g_lo = width_at(l, lo) - need;
      if (g_lo >= 0) continue;
      double g_hi = width_at(l, hi) - need;
      while (g_hi < 0 && hi < kMaxStretch) {
        lo = hi;
        g_lo = g_hi;
        hi = std::min(2 * hi, kMaxStretch);
        g_hi = width_at(l, hi) - need;
      }
      if (g_hi < 0) {
        stretch = kMaxStretch;
        continue;
      }
      int side = 0;
      for (int i = 0; i < 100 && hi - lo > 1e-9 * hi; ++i) {
        double m = hi - g_hi * (hi - lo) / (g_hi - g_lo);
        if (!(m > lo && m < hi)) m = 0.5 * (lo + hi);
        const double g = width_at(l, m) - need;
        if (g >= 0) {
          hi = m;
          g_hi = g;
          if (side == 1) g_lo /= 2;
          side = 1;
        } else {
          lo = m;
          g_lo = g;
          if (side == -1) g_hi /= 2;
          side = -1;
        }
      }
      stretch = std::max(stretch, hi);
    }
    if (stretch != 1) place(stretch, &moved);
    for (size_t l = 0; l < width_index.size(); ++l) {
      previous[l] = std::max(previous[l], width(moved, l));
    }
    if (center != median || stretch != 1) {
      (*path)[h] = Moved((*path)[h], scale, median, center, stretch);
      std::copy(moved.begin(), moved.end(), quantiles->begin() + h * n);
    }
  }
}

}  // namespace kpi::forecast
