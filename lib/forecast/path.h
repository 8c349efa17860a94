#ifndef KPI_LIB_FORECAST_PATH_H_
#define KPI_LIB_FORECAST_PATH_H_

// The projected path as a whole: one predictive distribution per year,
// made coherent across years, and values reported at the KPI's resolution.
//
// Coherent: a path does not turn without a reason in the model. The model
// is a random walk with drift, which has no reason to turn, but its
// location and error shape are learned per horizon (calibration cells and
// their buckets), so the medians of successive years can zigzag (45, 38,
// 25, 12 was projected 11.8, 13.4, 12.6). MakeCoherent replaces the
// medians, on the model's scale and anchored at the last value used, by
// their least-squares monotone fit (isotonic regression, the better of
// non-decreasing and non-increasing), shifting each year's distribution by
// the change; then it widens a year's distribution around its median, as
// little as needed, so that none of its 50/80/95% intervals is narrower
// than the year before's. The projection of estimates onto monotone paths
// never moves them farther from a monotone truth (Robertson, Wright and
// Dykstra 1988; for the rearrangement of Chernozhukov, Fernandez-Val and
// Galichon 2009 the same holds in every Lp norm); the widening is a product
// rule (a later year is never claimed more certain than an earlier one).
//
// Plain functions; thread-safe.

#include <functional>
#include <vector>

#include "lib/forecast/transform.h"

namespace kpi::forecast {

// A predictive distribution of a KPI's value: its quantile function and
// P(value <= v). Both non-decreasing.
struct Distribution {
  std::function<double(double)> quantile;
  std::function<double(double)> cdf;
};

// The reporting resolution of `values`: the largest power of ten from 1
// down to 1e-6 that divides every value (1 for counts, 0.1 for one decimal,
// 0.01 for 2.67); 1e-6 when none does.
double ReportingResolution(const std::vector<double>& values);

// `d` as reported at `resolution`: a value below half of it reads 0, so a
// non-negative KPI projected on a log scale can reach 0.
Distribution ReportedAtResolution(const Distribution& d, double resolution);

// The central intervals whose widths may not shrink along a path:
// 50%, 80% and 95%.
inline constexpr double kWidthLevels[][2] = {
    {0.25, 0.75}, {0.10, 0.90}, {0.025, 0.975}};

// Makes `path` (one distribution per consecutive year) coherent as
// described above, on `scale`, starting from `anchor` (the last value
// used). `levels` are the probabilities whose quantiles the caller reads
// (increasing; they must include 0.5 and those of kWidthLevels); their
// quantiles after the change, before `report`, are written to
// `quantiles` (year by year: levels.size() values each). `report` maps a value
// to what is reported (e.g. 0 below half the resolution); widths are compared
// after it. A path whose quantiles are not finite on `scale` is left as it is.
void MakeCoherent(const Transform& scale, double anchor,
                  const std::function<double(double)>& report,
                  const std::vector<double>& levels,
                  std::vector<Distribution>* path,
                  std::vector<double>* quantiles);

// The isotonic (least-squares monotone) fit of `y` with weights `w`:
// non-decreasing when `increasing`, else non-increasing (pool adjacent
// violators).
std::vector<double> IsotonicFit(const std::vector<double>& y,
                                const std::vector<double>& w, bool increasing);

}  // namespace kpi::forecast

#endif  // KPI_LIB_FORECAST_PATH_H_
