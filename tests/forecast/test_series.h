#ifndef KPI_TESTS_FORECAST_TEST_SERIES_H_
#define KPI_TESTS_FORECAST_TEST_SERIES_H_

// A series for the engine's tests: (fiscal year, value) points, a target
// year and a value domain, everything else at its default.

#include <utility>
#include <vector>

#include "lib/forecast/engine.h"

namespace kpi::forecast {

inline SeriesInput Series(
    std::vector<std::pair<int, double>> points, int target_year,
    domain::ValueDomain d = domain::ValueDomain::kNonNegative) {
  SeriesInput in;
  in.id = "s";
  for (const auto& [y, v] : points) {
    Point p;
    p.fiscal_year = y;
    p.value = v;
    in.points.push_back(p);
  }
  in.value_domain = d;
  in.target_fiscal_year = target_year;
  return in;
}

}  // namespace kpi::forecast

#endif  // KPI_TESTS_FORECAST_TEST_SERIES_H_
