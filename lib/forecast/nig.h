#ifndef KPI_LIB_FORECAST_NIG_H_
#define KPI_LIB_FORECAST_NIG_H_

// Conjugate Bayesian linear regression with a normal-inverse-gamma prior:
//   y_i = x_i' beta + e_i,  e_i ~ N(0, sigma^2 / w_i),
//   beta | sigma^2 ~ N(m0, sigma^2 V0),  sigma^2 ~ InvGamma(a0, b0).
// The posterior is again normal-inverse-gamma and the predictive of a new
// observation is a Student-t in closed form, so the uncertainty of the
// fitted coefficients reaches the forecast without sampling.
// Plain functions of values; thread-safe.

#include <vector>

namespace kpi::forecast {

struct NigPrior {
  std::vector<double> mean;       // m0, one per coefficient
  std::vector<double> precision;  // diagonal of V0^-1 (>= 0; 0 = flat)
  double a = 1;                   // a0 > 0
  double b = 1;                   // b0 > 0
};

struct NigPosterior {
  std::vector<double> mean;                     // m_n
  std::vector<std::vector<double>> covariance;  // V_n (times sigma^2)
  double a = 1;                                 // a_n
  double b = 1;                                 // b_n
};

// A location-scale Student-t: loc + scale * T(dof).
struct StudentT {
  double loc = 0;
  double scale = 1;
  double dof = 1;
};

// The posterior given rows `x` (each of the prior's dimension), responses
// `y` and precision weights `w` (empty = all 1). The caller guarantees
// matching sizes, w_i > 0 and a proper posterior (a prior precision > 0 or
// enough rows); nothing is checked at run time beyond that.
NigPosterior FitNig(const std::vector<std::vector<double>>& x,
                    const std::vector<double>& y, const std::vector<double>& w,
                    const NigPrior& prior);

// The predictive of y = x' beta + e with e ~ N(0, sigma^2 * noise):
// Student-t with 2 a_n degrees of freedom, location x' m_n and scale
// sqrt(b_n / a_n * (noise + x' V_n x)).
StudentT PredictNig(const NigPosterior& posterior, const std::vector<double>& x,
                    double noise);

// Quantile and distribution function of a Student-t (Boost.Math).
double StudentTQuantile(const StudentT& t, double p);
double StudentTCdf(const StudentT& t, double v);

}  // namespace kpi::forecast

#endif  // KPI_LIB_FORECAST_NIG_H_
