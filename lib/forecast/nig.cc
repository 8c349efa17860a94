#include "lib/forecast/nig.h"

#include <cmath>

#include "Eigen/Dense"
#include "boost/math/distributions/students_t.hpp"

namespace kpi::forecast {

NigPosterior FitNig(const std::vector<std::vector<double>>& x,
                    const std::vector<double>& y, const std::vector<double>& w,
                    const NigPrior& prior) {
  const int p = static_cast<int>(prior.mean.size());
  const int n = static_cast<int>(y.size());
  Eigen::MatrixXd xm(n, p);
  Eigen::VectorXd yv(n), wv(n);
  for (int i = 0; i < n; ++i) {
    for (int j = 0; j < p; ++j) xm(i, j) = x[i][j];
    yv(i) = y[i];
    wv(i) = w.empty() ? 1.0 : w[i];
  }
  Eigen::VectorXd m0(p);
  Eigen::MatrixXd prec0 = Eigen::MatrixXd::Zero(p, p);
  for (int j = 0; j < p; ++j) {
    m0(j) = prior.mean[j];
    prec0(j, j) = prior.precision[j];
  }
  const Eigen::MatrixXd xtw = xm.transpose() * wv.asDiagonal();
  const Eigen::MatrixXd precn = prec0 + xtw * xm;
  const Eigen::LDLT<Eigen::MatrixXd> ldlt(precn);
  const Eigen::VectorXd mn = ldlt.solve(prec0 * m0 + xtw * yv);
  const Eigen::MatrixXd vn = ldlt.solve(Eigen::MatrixXd::Identity(p, p));
  // b_n = b0 + (y'Wy + m0'P0 m0 - mn'Pn mn) / 2, written as sums of squares
  // so that it cannot go negative by cancellation.
  const Eigen::VectorXd resid = yv - xm * mn;
  const Eigen::VectorXd dm = mn - m0;
  const double ss = resid.dot(wv.asDiagonal() * resid) + dm.dot(prec0 * dm);

  NigPosterior post;
  post.mean.assign(mn.data(), mn.data() + p);
  post.covariance.assign(p, std::vector<double>(p));
  for (int i = 0; i < p; ++i) {
    for (int j = 0; j < p; ++j) post.covariance[i][j] = vn(i, j);
  }
  post.a = prior.a + 0.5 * n;
  post.b = prior.b + 0.5 * ss;
  return post;
}

StudentT PredictNig(const NigPosterior& posterior, const std::vector<double>& x,
                    double noise) {
  const size_t p = posterior.mean.size();
  double loc = 0, quad = 0;
  for (size_t i = 0; i < p; ++i) {
    loc += x[i] * posterior.mean[i];
    for (size_t j = 0; j < p; ++j) {
      quad += x[i] * posterior.covariance[i][j] * x[j];
    }
  }
  StudentT t;
  t.loc = loc;
  t.scale = std::sqrt(posterior.b / posterior.a * (noise + quad));
  t.dof = 2 * posterior.a;
  return t;
}

double StudentTQuantile(const StudentT& t, double p) {
  boost::math::students_t dist(t.dof);
  return t.loc + t.scale * boost::math::quantile(dist, p);
}

double StudentTCdf(const StudentT& t, double v) {
  if (std::isinf(v)) return v > 0 ? 1.0 : 0.0;
  boost::math::students_t dist(t.dof);
  return boost::math::cdf(dist, (v - t.loc) / t.scale);
}

}  // namespace kpi::forecast
