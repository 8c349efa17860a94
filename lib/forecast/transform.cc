#include "lib/forecast/transform.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include "absl/strings/str_format.h"

namespace kpi::forecast {
namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();
// Percentage points added on both sides of a share before the logit, so that
// 0% and 100% stay finite; half a point keeps shares of a few percent apart.
constexpr double kPercentOffset = 0.5;

}  // namespace

Transform Transform::ForDomain(domain::ValueDomain domain,
                               const std::vector<double>& values) {
  Transform t;
  switch (domain) {
    case domain::ValueDomain::kNonNegative: {
      t.domain_ = domain::ValueDomain::kNonNegative;
      double min = kInf, sum = 0;
      int positive = 0;
      for (double v : values) {
        min = std::min(min, v);
        if (v > 0) {
          sum += v;
          ++positive;
        }
      }
      // A zero has no log: shift by a tenth of the typical positive value
      // (or 1 when every value is 0) so that zeros and small counts stay
      // comparable.
      if (values.empty() || min <= 0) {
        t.offset_ = positive > 0 ? 0.1 * sum / positive : 1.0;
      }
      break;
    }
    case domain::ValueDomain::kPercent:
      t.domain_ = domain::ValueDomain::kPercent;
      t.offset_ = kPercentOffset;
      break;
    default: {
      t.domain_ = domain::ValueDomain::kReal;
      double sum = 0;
      for (double v : values) sum += std::fabs(v);
      double mean = values.empty() ? 0 : sum / values.size();
      t.scale_ = mean > 0 ? mean : 1.0;
      break;
    }
  }
  return t;
}

double Transform::Forward(double y) const {
  switch (domain_) {
    case domain::ValueDomain::kNonNegative:
      if (y + offset_ <= 0) return -kInf;
      return std::log(y + offset_);
    case domain::ValueDomain::kPercent: {
      if (y <= -offset_) return -kInf;
      if (y >= 100 + offset_) return kInf;
      double p = (y + offset_) / (100 + 2 * offset_);
      return std::log(p / (1 - p));
    }
    default:
      return y / scale_;
  }
}

double Transform::Inverse(double z) const {
  switch (domain_) {
    case domain::ValueDomain::kNonNegative:
      return std::max(0.0, std::exp(z) - offset_);
    case domain::ValueDomain::kPercent: {
      double p = 1 / (1 + std::exp(-z));
      return std::clamp(p * (100 + 2 * offset_) - offset_, 0.0, 100.0);
    }
    default:
      return z * scale_;
  }
}

std::string Transform::Name() const {
  switch (domain_) {
    case domain::ValueDomain::kNonNegative:
      return offset_ > 0 ? absl::StrFormat("log(y+%g)", offset_) : "log";
    case domain::ValueDomain::kPercent:
      return "logit";
    default:
      return "relative";
  }
}

}  // namespace kpi::forecast
