#include "lib/forecast/model.h"

#include <cmath>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "lib/base/status_matchers.h"
#include "lib/forecast/embedded_calibration.h"

namespace kpi::forecast {
namespace {

using ::kpi::testing::IsOk;
using ::kpi::testing::StatusIs;
using ::testing::HasSubstr;

TEST(CalibrationTest, ShippedFileParsesAndCoversTheBacktestCells) {
  absl::StatusOr<Calibration> c = ParseCalibration(EmbeddedCalibrationText());
  ASSERT_THAT(c, IsOk());
  EXPECT_EQ(c->version, "m3-train-v1");
  for (int k : {1, 2, 3, 5, 7, 10}) {
    for (int h = 1; h <= 6; ++h) {
      const CalibrationRow* row = c->Row(k, h);
      ASSERT_NE(row, nullptr) << k << " " << h;
      EXPECT_EQ(row->quantiles.size(), c->probs.size());
    }
  }
}

TEST(CalibrationTest, FormatThenParseIsTheSame) {
  Calibration c;
  c.version = "test-v1";
  c.params = {0.05, 2, 3, 0.5};
  c.probs = {0.1, 0.5, 0.9};
  c.max_k = 2;
  c.max_h = 1;
  c.rows.resize(2);
  c.rows[1].present = true;
  c.rows[1].coef = {0.01, 0.5, 0.25, 0, -0.1, 0.2, 0.3};
  c.rows[1].quantiles = {-1.5, 0.125, 1.75};
  absl::StatusOr<Calibration> back =
      ParseCalibration(FormatCalibration(c, "x"));
  ASSERT_THAT(back, IsOk());
  EXPECT_EQ(back->version, "test-v1");
  EXPECT_DOUBLE_EQ(back->params.scale_power, 0.5);
  const CalibrationRow* row = back->Row(2, 1);
  ASSERT_NE(row, nullptr);
  EXPECT_EQ(row->coef, c.rows[1].coef);
  EXPECT_EQ(row->quantiles, c.rows[1].quantiles);
  // k = 1 has no row of its own and no smaller k to fall back to.
  EXPECT_EQ(back->Row(1, 1), nullptr);
}

TEST(CalibrationTest, ErrorsNameTheLine) {
  EXPECT_THAT(ParseCalibration("version v\nprobs 0.5 0.2 0.9\n"),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("line 2: probs must increase")));
  EXPECT_THAT(ParseCalibration("# c\nrow 1 1 0 0 0 0 0 0 0\n"),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("line 2: dims must come first")));
  EXPECT_THAT(ParseCalibration("param n0 abc\n"),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("line 1: expected: param NAME NUMBER")));
  EXPECT_THAT(ParseCalibration("colour 1\n"),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("unknown key \"colour\"")));
}

TEST(ShapeTest, CdfInvertsQuantileInsideAndInTheTails) {
  const std::vector<double> probs = {0.01, 0.1, 0.5, 0.9, 0.99};
  const std::vector<double> values = {-3, -1, 0, 1.5, 4};
  const Shape s(&probs, &values);
  for (double p : {0.001, 0.01, 0.05, 0.3, 0.5, 0.7, 0.95, 0.995, 0.9999}) {
    EXPECT_NEAR(s.Cdf(s.Quantile(p)), p, 1e-12) << p;
  }
  EXPECT_DOUBLE_EQ(s.Quantile(0.5), 0.0);
  EXPECT_DOUBLE_EQ(s.Quantile(0.3), -0.5);
  EXPECT_GT(s.Cdf(-10), 0.0);
  EXPECT_LT(s.Cdf(10), 1.0);
}

TEST(WindowFitTest, StraightLineHasItsSlopeEverywhere) {
  const std::vector<double> t = {2015, 2017, 2018, 2021};
  std::vector<double> z, y;
  for (double v : t) {
    z.push_back(1 + 0.05 * (v - 2015));
    y.push_back(std::exp(z.back()));
  }
  const WindowFit f = FitWindow(t, z, y, ModelParams{0.05, 2, 1e-9, 1});
  EXPECT_NEAR(f.slope_ols, 0.05, 1e-12);
  EXPECT_NEAR(f.slope_last, 0.05, 1e-12);
  EXPECT_NEAR(f.drift.mean[0], 0.05, 1e-6);
  // A noise-free trend is trusted fully.
  EXPECT_NEAR(f.trusted_slope, 0.05, 1e-12);
  EXPECT_DOUBLE_EQ(f.t_last, 2021);
}

}  // namespace
}  // namespace kpi::forecast
