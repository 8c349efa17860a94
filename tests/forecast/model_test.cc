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
  EXPECT_EQ(c->version, "m3-train-v3");
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
  c.params = {0.05, 2, 3, 0.5, 0.25};
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
  EXPECT_DOUBLE_EQ(back->params.max_bias_share, 0.25);
  const CalibrationRow* row = back->Row(2, 1);
  ASSERT_NE(row, nullptr);
  EXPECT_EQ(row->coef, c.rows[1].coef);
  EXPECT_EQ(row->quantiles, c.rows[1].quantiles);
  // k = 1 has no row of its own and no smaller k to fall back to.
  EXPECT_EQ(back->Row(1, 1), nullptr);
}

TEST(CalibrationTest, BucketsRoundTripAndPickTheirQuantiles) {
  Calibration c;
  c.probs = {0.1, 0.5, 0.9};
  c.max_k = 1;
  c.max_h = 1;
  c.rows.resize(1);
  CalibrationRow& r = c.rows[0];
  r.present = true;
  r.quantiles = {-1, 0, 1};
  r.cuts[0] = {0.5};        // volatility: two levels
  r.cuts[1] = {-1.0, 1.0};  // trend: three levels
  for (double b = 0; b < 6; ++b)
    r.bucket_quantiles.push_back({b - 1.0, b, b + 2.0});
  absl::StatusOr<Calibration> back =
      ParseCalibration(FormatCalibration(c, "x"));
  ASSERT_THAT(back, IsOk());
  const CalibrationRow* row = back->Row(1, 1);
  ASSERT_NE(row, nullptr);
  EXPECT_EQ(row->NumBuckets(), 6);
  EXPECT_EQ(row->bucket_quantiles, r.bucket_quantiles);
  // Mixed radix, the first feature slowest: (1, 2) is bucket 1 * 3 + 2.
  EXPECT_EQ(row->Bucket({0.7, 3.0, 0}), 5);
  EXPECT_EQ(row->Bucket({0.2, 0.0, 0}), 1);
  EXPECT_EQ(row->QuantilesFor({0.7, -2.0, 0})[1], 3);
  // A cell without buckets uses its pooled quantiles for every window.
  CalibrationRow pooled;
  pooled.quantiles = {-1, 0, 1};
  EXPECT_EQ(&pooled.QuantilesFor({9, 9, 9}), &pooled.quantiles);

  EXPECT_THAT(ParseCalibration("probs 0.1 0.5 0.9\ndims 1 1\nquantiles 1 1 "
                               "-1 0 1\ncuts 1 1 0 0.5\nbucket 1 1 0 -1 0 "
                               "1\n"),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("bucket 1 of 2 has no quantiles line")));
  EXPECT_THAT(ParseCalibration("probs 0.1 0.5 0.9\ndims 1 1\ncuts 1 1 0 0.5 "
                               "0.2\n"),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("line 3: cuts must increase")));
  EXPECT_THAT(ParseCalibration("probs 0.1 0.5 0.9\ndims 1 1\nbucket 1 1 1 "
                               "-1 0 1\n"),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("bucket must be from 0 to 0")));
}

TEST(BiasCapTest, ShrinksAPredictedChangeByAtMostTheShareNeverReverses) {
  ModelParams p;
  p.max_bias_share = 0.5;
  // A fall of 0.2 with a bias of +0.3 (median 3 at scale 0.1): capped at
  // +0.1, half the fall; the center moves by 0.1 - 0.3.
  EXPECT_NEAR(BiasCap(-0.2, 0.1, 3, p), -0.2, 1e-12);
  // A bias inside the cap, or one that goes with the change, is kept.
  EXPECT_EQ(BiasCap(-0.2, 0.1, 0.5, p), 0);
  EXPECT_EQ(BiasCap(-0.2, 0.1, -4, p), 0);
  // The same for a rise with a negative bias.
  EXPECT_NEAR(BiasCap(0.2, 0.1, -3, p), 0.2, 1e-12);
  p.max_bias_share = 0;
  EXPECT_NEAR(BiasCap(0.2, 0.1, -0.5, p), 0.05, 1e-12);
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
