#ifndef KPI_LIB_FORECAST_EXPLAIN_H_
#define KPI_LIB_FORECAST_EXPLAIN_H_

// The parts of a projection's explanation (engine.h, Explanation) that are
// computed from the calibration or from the finished projection. Plain
// functions of their arguments; thread-safe.

#include <vector>

#include "lib/forecast/engine.h"
#include "lib/forecast/model.h"

namespace kpi::forecast {

// The share of a steady trend's change that the calibration's location
// keeps for a window of points at times `t` (increasing, at least two),
// `horizon` years after the last: the location of a straight window divided
// by the straight line's own change, before any bucket's bias. Without a
// calibration row, the share the Bayesian drift alone keeps.
double CalibratedTrendShare(const Calibration& calibration,
                            const std::vector<double>& t, double horizon);

// Why the status and the probability point different ways (see Discordance),
// from a finished projection with a target; kNone when they agree, for
// "acceleration needed" and "insufficient data", and without a target.
Discordance FindDiscordance(const Projection& projection);

}  // namespace kpi::forecast

#endif  // KPI_LIB_FORECAST_EXPLAIN_H_
