#include "lib/forecast/nig.h"

#include <cmath>
#include <random>

#include "gtest/gtest.h"

namespace kpi::forecast {
namespace {

TEST(NigTest, RecoversKnownCoefficientsOfAnExactLine) {
  // y = 2 + 0.5 x, no noise, nearly flat prior: the posterior mean is the
  // least-squares solution, the coefficients themselves.
  std::vector<std::vector<double>> x;
  std::vector<double> y;
  for (int i = 0; i < 6; ++i) {
    x.push_back({1.0, static_cast<double>(i)});
    y.push_back(2 + 0.5 * i);
  }
  NigPrior prior{{0, 0}, {1e-10, 1e-10}, 1, 1};
  const NigPosterior post = FitNig(x, y, {}, prior);
  EXPECT_NEAR(post.mean[0], 2.0, 1e-8);
  EXPECT_NEAR(post.mean[1], 0.5, 1e-8);
  EXPECT_DOUBLE_EQ(post.a, 1 + 3.0);
  EXPECT_NEAR(post.b, 1.0, 1e-8);  // no residual: b_n = b0
}

TEST(NigTest, OneCoefficientPosteriorMatchesClosedForm) {
  // y_i = mu + e_i, prior mu | s2 ~ N(m0, s2 / kappa0), s2 ~ IG(a0, b0).
  const std::vector<double> y = {1.2, 0.7, 1.9, 1.1};
  const double m0 = 0.5, kappa0 = 2, a0 = 3, b0 = 0.4;
  std::vector<std::vector<double>> x(y.size(), std::vector<double>{1.0});
  const NigPosterior post = FitNig(x, y, {}, NigPrior{{m0}, {kappa0}, a0, b0});
  const double n = y.size();
  double mean = 0;
  for (double v : y) mean += v / n;
  double ss = 0;
  for (double v : y) ss += (v - mean) * (v - mean);
  const double kn = kappa0 + n;
  const double mn = (kappa0 * m0 + n * mean) / kn;
  const double an = a0 + n / 2;
  const double bn =
      b0 + 0.5 * ss + kappa0 * n * (mean - m0) * (mean - m0) / (2 * kn);
  EXPECT_NEAR(post.mean[0], mn, 1e-12);
  EXPECT_NEAR(post.covariance[0][0], 1 / kn, 1e-12);
  EXPECT_DOUBLE_EQ(post.a, an);
  EXPECT_NEAR(post.b, bn, 1e-12);
  // Predictive of a new y: t_{2 an}(mn, bn / an * (1 + 1 / kn)).
  const StudentT t = PredictNig(post, {1.0}, 1.0);
  EXPECT_NEAR(t.loc, mn, 1e-12);
  EXPECT_NEAR(t.scale, std::sqrt(bn / an * (1 + 1 / kn)), 1e-12);
  EXPECT_DOUBLE_EQ(t.dof, 2 * an);
}

TEST(NigTest, StudentTQuantileAndCdfAreInverse) {
  const StudentT t{1.5, 0.3, 4.0};
  for (double p : {0.01, 0.1, 0.5, 0.9, 0.975}) {
    EXPECT_NEAR(StudentTCdf(t, StudentTQuantile(t, p)), p, 1e-10);
  }
  // t with 4 dof: the 97.5% quantile is 2.776445.
  EXPECT_NEAR(StudentTQuantile(t, 0.975), 1.5 + 0.3 * 2.776445, 1e-5);
}

TEST(NigTest, WeightedRowsCountAsRepeatedRows) {
  NigPrior prior{{0}, {0.1}, 2, 0.5};
  const NigPosterior once =
      FitNig({{1.0}, {1.0}}, {3.0, 5.0}, {2.0, 1.0}, prior);
  const NigPosterior twice =
      FitNig({{1.0}, {1.0}, {1.0}}, {3.0, 3.0, 5.0}, {}, prior);
  EXPECT_NEAR(once.mean[0], twice.mean[0], 1e-12);
  EXPECT_NEAR(once.b, twice.b, 1e-12);
}

}  // namespace
}  // namespace kpi::forecast
