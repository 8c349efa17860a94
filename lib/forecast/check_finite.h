#ifndef KPI_LIB_FORECAST_CHECK_FINITE_H_
#define KPI_LIB_FORECAST_CHECK_FINITE_H_

// The last guard on the engine's output: no projection with inf or nan
// leaves the engine. Engine::Project and ProjectScenarios refuse inputs
// whose magnitude the engine cannot carry (domain::kMaxValueMagnitude), and
// check what they return with CheckFinite.

#include "absl/status/status.h"
#include "lib/forecast/engine.h"

namespace kpi::forecast {

// OK when every number of `p` (value, probabilities, progress, each year's
// median, intervals and threshold probabilities, the explanation's figures)
// is finite; otherwise INTERNAL naming the first non-finite field
// ("years[3].median"). Pure; thread-safe.
absl::Status CheckFinite(const Projection& p);

}  // namespace kpi::forecast

#endif  // KPI_LIB_FORECAST_CHECK_FINITE_H_
