#ifndef KPI_LIB_FORECAST_TRANSFORM_H_
#define KPI_LIB_FORECAST_TRANSFORM_H_

// Maps the values of a value domain onto an unbounded scale where the model
// is fitted, and back: log for non-negative quantities, logit for shares,
// a relative scale for real values. Immutable; thread-safe.

#include <string>
#include <vector>

#include "lib/domain/model.h"

namespace kpi::forecast {

class Transform {
 public:
  // The transform for `domain`, with offsets chosen from `values` (the
  // points of the series): log(y + c) with c > 0 only when a value is 0;
  // logit((y + e) / (100 + 2e)) for percent; y / mean|y| for real values.
  static Transform ForDomain(domain::ValueDomain domain,
                             const std::vector<double>& values);

  // Model scale of `y`; -inf / +inf for values at or beyond the domain's
  // bounds where the scale has none (e.g. y < 0 for a non-negative domain).
  double Forward(double y) const;
  // Value of model-scale `z`, clamped to the domain.
  double Inverse(double z) const;

  domain::ValueDomain domain() const { return domain_; }
  // "log", "log(y+c)", "logit" or "relative".
  std::string Name() const;

 private:
  domain::ValueDomain domain_ = domain::ValueDomain::kReal;
  double offset_ = 0;  // c of log(y + c), e of logit
  double scale_ = 1;   // divisor of the relative scale
};

}  // namespace kpi::forecast

#endif  // KPI_LIB_FORECAST_TRANSFORM_H_
