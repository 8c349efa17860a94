// ForecastService through a real server and channel on a real SQLite file,
// with the real forecast engine.

#include "services/server/forecast_service.h"

#include <algorithm>
#include <cmath>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "gmock/gmock.h"
#include "google/rpc/error_details.pb.h"
#include "gtest/gtest.h"
#include "services/server/builtin_dataset.h"
#include "tests/services/test_server.h"

namespace kpi::services::testing {
namespace {

using ::testing::AllOf;
using ::testing::Contains;
using ::testing::DoubleNear;
using ::testing::ElementsAre;
using ::testing::Ge;
using ::testing::HasSubstr;
using ::testing::Le;
using ::testing::SizeIs;
using Stub = v1::ForecastService::Stub;

class ForecastServiceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    server_ = TestServer::Start();
    ASSERT_NE(server_, nullptr);
    server_->ImportTestDataset();
  }

  Stub& forecast() { return server_->forecast(); }

  std::unique_ptr<TestServer> server_;
};

// Medians inside nested intervals, probabilities in [0, 1].
void ExpectCoherent(const v1::Projection& p) {
  for (const v1::YearProjection& y : p.years()) {
    EXPECT_LE(y.interval_95().lower(), y.interval_80().lower())
        << y.fiscal_year();
    EXPECT_LE(y.interval_80().lower(), y.interval_50().lower())
        << y.fiscal_year();
    EXPECT_LE(y.interval_50().lower(), y.median()) << y.fiscal_year();
    EXPECT_LE(y.median(), y.interval_50().upper()) << y.fiscal_year();
    EXPECT_LE(y.interval_50().upper(), y.interval_80().upper())
        << y.fiscal_year();
    EXPECT_LE(y.interval_80().upper(), y.interval_95().upper())
        << y.fiscal_year();
    EXPECT_THAT(y.attainment_probability(), AllOf(Ge(0.0), Le(1.0)));
  }
  EXPECT_THAT(p.attainment_probability(), AllOf(Ge(0.0), Le(1.0)));
  // A path that does not turn, with intervals that never narrow.
  bool up = true, down = true;
  for (int i = 1; i < p.years_size(); ++i) {
    const v1::YearProjection& a = p.years(i - 1);
    const v1::YearProjection& b = p.years(i);
    const double tol = 1e-9 * std::max(1.0, std::fabs(a.median()));
    up &= b.median() >= a.median() - tol;
    down &= b.median() <= a.median() + tol;
    for (const auto& [x, y] : {std::pair{a.interval_50(), b.interval_50()},
                               std::pair{a.interval_80(), b.interval_80()},
                               std::pair{a.interval_95(), b.interval_95()}}) {
      const double wa = x.upper() - x.lower();
      EXPECT_GE(y.upper() - y.lower(), wa - 1e-9 * std::max(1.0, wa))
          << p.id() << " FY" << b.fiscal_year();
    }
  }
  EXPECT_TRUE(up || down) << p.id();
  EXPECT_FALSE(p.explanation().text().empty()) << p.id();
  ASSERT_FALSE(p.years().empty());
  EXPECT_EQ(p.years().rbegin()->fiscal_year(), p.target_fiscal_year());
  EXPECT_DOUBLE_EQ(p.years().rbegin()->median(), p.projected_value());
}

std::vector<v1::WarningCode> WarningCodes(const v1::Projection& p) {
  std::vector<v1::WarningCode> codes;
  for (const v1::Warning& w : p.warnings()) codes.push_back(w.code());
  return codes;
}

v1::Series RisingSeries(const std::string& id) {
  v1::Series series;
  series.set_series_id(id);
  series.set_unit("%");
  const double values[] = {30, 32.5, 34, 36.2, 38};
  for (int i = 0; i < 5; ++i) {
    v1::SeriesPoint* p = series.add_points();
    p->set_fiscal_year(2017 + i);
    p->set_value(values[i]);
  }
  series.set_target_value(45);
  series.set_target_fiscal_year(2024);
  return series;
}

// ---- ProjectKpi ----

TEST_F(ForecastServiceTest, ProjectKpi) {
  v1::ProjectKpiRequest request;
  request.set_name("strategies/s/kpis/share");
  v1::ProjectKpiResponse response;
  const grpc::Status status =
      Call(forecast(), &Stub::ProjectKpi, request, &response);
  ASSERT_TRUE(status.ok()) << status.error_message();
  const v1::Projection& p = response.projection();
  EXPECT_EQ(p.id(), "strategies/s/kpis/share");
  EXPECT_EQ(p.target_value(), 50);
  EXPECT_EQ(p.target_fiscal_year(), 2024);
  EXPECT_EQ(p.direction(), v1::DIRECTION_INCREASE);
  EXPECT_EQ(p.unit(), "%");
  EXPECT_EQ(p.points_used(), 3);
  EXPECT_THAT(p.fiscal_years_used(), ElementsAre(2019, 2020, 2021));
  ASSERT_THAT(p.years(), SizeIs(3));
  EXPECT_EQ(p.years(0).fiscal_year(), 2022);
  // Rising by 2 a year from 44: the median keeps rising, inside [0, 100].
  EXPECT_GT(p.projected_value(), 44);
  EXPECT_LE(p.years(2).interval_95().upper(), 100);
  EXPECT_FALSE(p.method().empty());
  ExpectCoherent(p);
  EXPECT_FALSE(response.has_alternative_projection());
}

TEST_F(ForecastServiceTest, ProjectKpiRunningTotalAlreadyPastTarget) {
  v1::ProjectKpiRequest request;
  request.set_name("strategies/s/kpis/total");
  v1::ProjectKpiResponse response;
  ASSERT_TRUE(Call(forecast(), &Stub::ProjectKpi, request, &response).ok());
  const v1::Projection& p = response.projection();
  // 12 against a target of 10, and a running total cannot fall.
  EXPECT_EQ(p.attainment_probability(), 1.0);
  EXPECT_EQ(p.status(), v1::PROGRESS_STATUS_ACHIEVED);
  for (const v1::YearProjection& y : p.years()) {
    EXPECT_GE(y.interval_95().lower(), 12) << y.fiscal_year();
  }
}

TEST_F(ForecastServiceTest, ProjectKpiResolvesReferenceTarget) {
  v1::ProjectKpiRequest request;
  request.set_name("strategies/s/kpis/employment");
  v1::ProjectKpiResponse response;
  ASSERT_TRUE(Call(forecast(), &Stub::ProjectKpi, request, &response).ok());
  // The rate in force on 2025-03-31: 2.5 from 2024-04-01.
  EXPECT_EQ(response.projection().target_value(), 2.5);
  EXPECT_THAT(WarningCodes(response.projection()),
              Contains(v1::WARNING_CODE_REFERENCE_TARGET));
  EXPECT_THAT(WarningCodes(response.projection()),
              Contains(v1::WARNING_CODE_PROVISIONAL_LATEST));

  // Projected to FY2022, the rate in force then (2.3) is the target.
  request.set_target_fiscal_year(2022);
  ASSERT_TRUE(Call(forecast(), &Stub::ProjectKpi, request, &response).ok());
  EXPECT_EQ(response.projection().target_value(), 2.3);
  EXPECT_EQ(response.projection().target_fiscal_year(), 2022);
  EXPECT_THAT(response.projection().years(), SizeIs(1));
}

TEST_F(ForecastServiceTest, ProjectKpiExplainsInEachLanguageAndCachesEach) {
  v1::ProjectKpiRequest request;
  request.set_name("strategies/s/kpis/visitors");
  v1::ProjectKpiResponse ja, en, again;
  ASSERT_TRUE(Call(forecast(), &Stub::ProjectKpi, request, &ja).ok());
  request.set_language_code("en");
  ASSERT_TRUE(Call(forecast(), &Stub::ProjectKpi, request, &en).ok());
  ASSERT_TRUE(Call(forecast(), &Stub::ProjectKpi, request, &again).ok());
  EXPECT_EQ(ja.projection().explanation().language_code(), "ja");
  EXPECT_EQ(en.projection().explanation().language_code(), "en");
  EXPECT_EQ(again.projection().explanation().text(),
            en.projection().explanation().text());
  EXPECT_EQ(en.alternative_projection().explanation().language_code(), "en");
  // Both shock scenarios' probabilities are in the headline.
  EXPECT_THAT(en.projection().explanation().scenario().outcomes(), SizeIs(2));
  request.set_language_code("klingon");
  EXPECT_INVALID_FIELD(Call(forecast(), &Stub::ProjectKpi, request, &again),
                       "language_code");
}

TEST_F(ForecastServiceTest, ProjectKpiWithShockYearsGivesBothTreatments) {
  v1::ProjectKpiRequest request;
  request.set_name("strategies/s/kpis/visitors");
  v1::ProjectKpiResponse response;
  ASSERT_TRUE(Call(forecast(), &Stub::ProjectKpi, request, &response).ok());
  ASSERT_TRUE(response.has_alternative_projection());
  EXPECT_EQ(response.projection().shock_treatment(),
            v1::SHOCK_TREATMENT_EXCLUDE);
  EXPECT_EQ(response.alternative_projection().shock_treatment(),
            v1::SHOCK_TREATMENT_INCLUDE);
  EXPECT_THAT(response.projection().fiscal_years_used(),
              ElementsAre(2018, 2019));
  EXPECT_THAT(response.alternative_projection().fiscal_years_used(),
              ElementsAre(2018, 2019, 2020, 2021));

  request.mutable_options()->set_shock_treatment(v1::SHOCK_TREATMENT_INCLUDE);
  ASSERT_TRUE(Call(forecast(), &Stub::ProjectKpi, request, &response).ok());
  EXPECT_EQ(response.projection().shock_treatment(),
            v1::SHOCK_TREATMENT_INCLUDE);
  EXPECT_EQ(response.alternative_projection().shock_treatment(),
            v1::SHOCK_TREATMENT_EXCLUDE);

  // Shock years from the request alone also give the comparison.
  request.set_name("strategies/s/kpis/share");
  request.mutable_options()->add_shock_fiscal_years(2020);
  ASSERT_TRUE(Call(forecast(), &Stub::ProjectKpi, request, &response).ok());
  EXPECT_TRUE(response.has_alternative_projection());
}

TEST_F(ForecastServiceTest, ProjectKpiToAYearInsideTheDataUsesWhatCameBefore) {
  v1::ProjectKpiRequest request;
  request.set_name("strategies/s/kpis/share");
  request.set_target_fiscal_year(2021);
  v1::ProjectKpiResponse response;
  ASSERT_TRUE(Call(forecast(), &Stub::ProjectKpi, request, &response).ok());
  EXPECT_THAT(response.projection().fiscal_years_used(),
              ElementsAre(2019, 2020));
  ASSERT_THAT(response.projection().years(), SizeIs(1));
  EXPECT_EQ(response.projection().years(0).fiscal_year(), 2021);
}

TEST_F(ForecastServiceTest, ProjectKpiBadInput) {
  v1::ProjectKpiRequest request;
  v1::ProjectKpiResponse response;
  EXPECT_INVALID_FIELD(Call(forecast(), &Stub::ProjectKpi, request, &response),
                       "name");
  request.set_name("strategies/s/kpis/Share");
  EXPECT_INVALID_FIELD(Call(forecast(), &Stub::ProjectKpi, request, &response),
                       "name");
  request.set_name("strategies/s/kpis/nope");
  EXPECT_EQ(
      Call(forecast(), &Stub::ProjectKpi, request, &response).error_code(),
      grpc::StatusCode::NOT_FOUND);
  request.set_name("strategies/s/kpis/empty");
  const grpc::Status empty =
      Call(forecast(), &Stub::ProjectKpi, request, &response);
  EXPECT_EQ(empty.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_THAT(empty.error_message(), HasSubstr("no observation"));

  request.set_name("strategies/s/kpis/share");
  for (int year : {2019, 2052, 3000}) {
    request.set_target_fiscal_year(year);
    const grpc::Status status =
        Call(forecast(), &Stub::ProjectKpi, request, &response);
    EXPECT_INVALID_FIELD(status, "target_fiscal_year");
    if (year != 3000) {
      EXPECT_THAT(ViolationOf(status, "target_fiscal_year"),
                  HasSubstr("accepted range 2020 to 2051"))
          << year;
    }
  }
  request.set_target_fiscal_year(0);
  request.mutable_options()->set_shock_treatment(
      static_cast<v1::ShockTreatment>(9));
  EXPECT_INVALID_FIELD(Call(forecast(), &Stub::ProjectKpi, request, &response),
                       "options.shock_treatment");
}

// ---- ProjectSeries ----

TEST_F(ForecastServiceTest, ProjectSeries) {
  v1::ProjectSeriesRequest request;
  *request.mutable_series() = RisingSeries("my-series");
  v1::ProjectSeriesResponse response;
  const grpc::Status status =
      Call(forecast(), &Stub::ProjectSeries, request, &response);
  ASSERT_TRUE(status.ok()) << status.error_message();
  const v1::Projection& p = response.projection();
  EXPECT_EQ(p.id(), "my-series");
  EXPECT_EQ(p.target_value(), 45);
  EXPECT_EQ(p.target_fiscal_year(), 2024);
  EXPECT_EQ(p.points_used(), 5);
  ASSERT_THAT(p.years(), SizeIs(3));
  EXPECT_GT(p.projected_value(), 38);
  ExpectCoherent(p);

  // Without a target: six years past the last point, and a warning.
  request.mutable_series()->clear_target_value();
  request.mutable_series()->set_target_fiscal_year(0);
  ASSERT_TRUE(Call(forecast(), &Stub::ProjectSeries, request, &response).ok());
  EXPECT_EQ(response.projection().target_fiscal_year(), 2027);
  EXPECT_FALSE(response.projection().has_target_value());
  EXPECT_THAT(WarningCodes(response.projection()),
              Contains(v1::WARNING_CODE_NO_TARGET));
  request.mutable_series()->set_horizon(2);
  ASSERT_TRUE(Call(forecast(), &Stub::ProjectSeries, request, &response).ok());
  EXPECT_EQ(response.projection().target_fiscal_year(), 2023);

  // Thresholds: one probability per threshold per year.
  request.mutable_series()->add_probability_thresholds(30);
  request.mutable_series()->add_probability_thresholds(1000);
  ASSERT_TRUE(Call(forecast(), &Stub::ProjectSeries, request, &response).ok());
  const v1::YearProjection& last = *response.projection().years().rbegin();
  ASSERT_THAT(last.threshold_probabilities(), SizeIs(2));
  EXPECT_GT(last.threshold_probabilities(0), 0.9);
  EXPECT_LT(last.threshold_probabilities(1), 0.01);
}

TEST_F(ForecastServiceTest, EveryProjectionIsExplainedInTheRequestedLanguage) {
  v1::ProjectSeriesRequest request;
  *request.mutable_series() = RisingSeries("explained");
  v1::ProjectSeriesResponse response;
  // Japanese by default.
  ASSERT_TRUE(Call(forecast(), &Stub::ProjectSeries, request, &response).ok());
  const v1::Explanation ja = response.projection().explanation();
  EXPECT_EQ(ja.language_code(), "ja");
  EXPECT_THAT(ja.text(), HasSubstr("令和6年度 (FY2024)の予測値"));
  EXPECT_THAT(ja.text(), HasSubstr("目標を達成する確率は"));
  EXPECT_FALSE(ja.summary().empty());
  EXPECT_EQ(ja.calibration_version(), "m3-train-v3");
  EXPECT_EQ(ja.scenario().rule(), v1::SCENARIO_RULE_NO_SHOCKS);
  ASSERT_TRUE(ja.has_trend());
  EXPECT_EQ(ja.trend().points(), 5);
  EXPECT_EQ(ja.trend().first_fiscal_year(), 2017);
  EXPECT_NE(ja.likelihood(), v1::LIKELIHOOD_UNSPECIFIED);

  request.set_language_code("en-GB");
  ASSERT_TRUE(Call(forecast(), &Stub::ProjectSeries, request, &response).ok());
  const v1::Explanation& en = response.projection().explanation();
  EXPECT_EQ(en.language_code(), "en");
  EXPECT_THAT(en.text(), HasSubstr("The projection for FY2024 (R6) is"));
  // The structured parts do not depend on the language.
  EXPECT_EQ(en.trend().extrapolated_value(), ja.trend().extrapolated_value());

  request.set_language_code("fr");
  EXPECT_THAT(
      ViolationOf(Call(forecast(), &Stub::ProjectSeries, request, &response),
                  "language_code"),
      HasSubstr("accepted: ja (Japanese) or en (English)"));

  v1::BatchProjectSeriesRequest batch;
  *batch.add_series() = RisingSeries("a");
  batch.set_language_code("en");
  v1::BatchProjectSeriesResponse batch_response;
  ASSERT_TRUE(
      Call(forecast(), &Stub::BatchProjectSeries, batch, &batch_response).ok());
  EXPECT_EQ(
      batch_response.results(0).projection().explanation().language_code(),
      "en");
  batch.set_language_code("xx");
  EXPECT_INVALID_FIELD(
      Call(forecast(), &Stub::BatchProjectSeries, batch, &batch_response),
      "language_code");
}

// 待機児童ゼロ: a probability of 0 is still sent, and read back as present.
TEST_F(ForecastServiceTest,
       AttainmentProbabilityIsPresentWheneverThereIsATarget) {
  v1::ProjectSeriesRequest request;
  v1::Series& s = *request.mutable_series();
  s.set_series_id("waiting-children");
  s.set_value_domain(v1::VALUE_DOMAIN_NON_NEGATIVE);
  s.set_direction(v1::DIRECTION_DECREASE);
  const double values[] = {45, 38, 25, 12};
  for (int i = 0; i < 4; ++i) {
    v1::SeriesPoint* p = s.add_points();
    p->set_fiscal_year(2018 + i);
    p->set_value(values[i]);
  }
  s.set_target_value(0);
  s.set_target_fiscal_year(2024);
  v1::ProjectSeriesResponse response;
  ASSERT_TRUE(Call(forecast(), &Stub::ProjectSeries, request, &response).ok());
  EXPECT_TRUE(response.projection().has_target_value());
  EXPECT_TRUE(response.projection().has_attainment_probability());
  for (const v1::YearProjection& y : response.projection().years()) {
    EXPECT_TRUE(y.has_attainment_probability()) << y.fiscal_year();
  }
  // Without a target there is none.
  s.clear_target_value();
  ASSERT_TRUE(Call(forecast(), &Stub::ProjectSeries, request, &response).ok());
  EXPECT_FALSE(response.projection().has_attainment_probability());
  EXPECT_FALSE(response.projection().years(0).has_attainment_probability());
}

TEST_F(ForecastServiceTest, ProjectSeriesBadInput) {
  v1::ProjectSeriesRequest request;
  v1::ProjectSeriesResponse response;
  EXPECT_INVALID_FIELD(
      Call(forecast(), &Stub::ProjectSeries, request, &response), "series");

  request.mutable_series()->set_series_id("x");
  EXPECT_INVALID_FIELD(
      Call(forecast(), &Stub::ProjectSeries, request, &response),
      "series.points");
  for (int i = 0; i < 201; ++i) {
    v1::SeriesPoint* p = request.mutable_series()->add_points();
    p->set_fiscal_year(1950 + i);
    p->set_value(i);
  }
  EXPECT_THAT(
      ViolationOf(Call(forecast(), &Stub::ProjectSeries, request, &response),
                  "series.points"),
      HasSubstr("201 points; accepted: 1 to 200"));

  *request.mutable_series() = RisingSeries("dup");
  request.mutable_series()->mutable_points(2)->set_fiscal_year(2017);
  request.mutable_series()->mutable_points(3)->set_value(NAN);
  grpc::Status status =
      Call(forecast(), &Stub::ProjectSeries, request, &response);
  EXPECT_INVALID_FIELD(status, "series.points[2].fiscal_year");
  EXPECT_INVALID_FIELD(status, "series.points[3].value");
  EXPECT_THAT(ViolationOf(status, "series.points[2].fiscal_year"),
              HasSubstr("already appears at points[0]"));

  *request.mutable_series() = RisingSeries("late");
  request.mutable_series()->set_target_fiscal_year(2060);
  status = Call(forecast(), &Stub::ProjectSeries, request, &response);
  EXPECT_INVALID_FIELD(status, "series.target_fiscal_year");
  EXPECT_THAT(ViolationOf(status, "series.target_fiscal_year"),
              HasSubstr("accepted range 2022 to 2051"));
  request.mutable_series()->set_target_fiscal_year(2021);
  EXPECT_INVALID_FIELD(
      Call(forecast(), &Stub::ProjectSeries, request, &response),
      "series.target_fiscal_year");
  request.mutable_series()->set_target_fiscal_year(0);
  EXPECT_THAT(
      ViolationOf(Call(forecast(), &Stub::ProjectSeries, request, &response),
                  "series.target_fiscal_year"),
      HasSubstr("required when target_value is set"));

  *request.mutable_series() = RisingSeries("bounds");
  request.mutable_series()->set_horizon(31);
  request.mutable_series()->mutable_points(0)->set_fiscal_year(1800);
  status = Call(forecast(), &Stub::ProjectSeries, request, &response);
  EXPECT_INVALID_FIELD(status, "series.horizon");
  EXPECT_INVALID_FIELD(status, "series.points[0].fiscal_year");

  // The engine's own checks come back under "series.".
  *request.mutable_series() = RisingSeries("percent");
  request.mutable_series()->mutable_points(1)->set_value(130);
  EXPECT_THAT(ViolatedFields(
                  Call(forecast(), &Stub::ProjectSeries, request, &response)),
              Contains(HasSubstr("series.points[1]")));
}

// ---- BatchProjectKpis ----

TEST_F(ForecastServiceTest, BatchProjectKpisOfAStrategy) {
  v1::BatchProjectKpisRequest request;
  request.set_parent("strategies/s");
  v1::BatchProjectKpisResponse response;
  ASSERT_TRUE(
      Call(forecast(), &Stub::BatchProjectKpis, request, &response).ok());
  ASSERT_THAT(response.results(), SizeIs(5));
  std::vector<std::string> ids;
  for (int i = 0; i < 5; ++i) {
    ids.push_back(response.results(i).id());
    EXPECT_EQ(response.results(i).index(), i);
  }
  EXPECT_THAT(
      ids,
      ElementsAre("strategies/s/kpis/employment", "strategies/s/kpis/empty",
                  "strategies/s/kpis/share", "strategies/s/kpis/total",
                  "strategies/s/kpis/visitors"));
  EXPECT_TRUE(response.results(0).has_projection());
  ASSERT_TRUE(response.results(1).has_error());
  EXPECT_EQ(response.results(1).error().code(),
            static_cast<int>(grpc::StatusCode::FAILED_PRECONDITION));
  EXPECT_EQ(response.results(3).projection().attainment_probability(), 1.0);
  // The KPI with shock years carries the other treatment too; the others
  // have none.
  ASSERT_TRUE(response.results(4).has_alternative_projection());
  EXPECT_EQ(response.results(4).alternative_projection().shock_treatment(),
            v1::SHOCK_TREATMENT_INCLUDE);
  EXPECT_FALSE(response.results(0).has_alternative_projection());
}

TEST_F(ForecastServiceTest, BatchProjectKpisPerItemErrors) {
  v1::BatchProjectKpisRequest request;
  request.set_parent("strategies/s");
  request.add_names("strategies/s/kpis/share");
  request.add_names("strategies/s/kpis/nope");
  request.add_names("strategies/other/kpis/share");
  request.add_names("not a name");
  request.set_target_fiscal_year(2023);
  v1::BatchProjectKpisResponse response;
  ASSERT_TRUE(
      Call(forecast(), &Stub::BatchProjectKpis, request, &response).ok());
  ASSERT_THAT(response.results(), SizeIs(4));
  EXPECT_EQ(response.results(0).projection().target_fiscal_year(), 2023);
  EXPECT_EQ(response.results(1).error().code(),
            static_cast<int>(grpc::StatusCode::NOT_FOUND));
  EXPECT_EQ(response.results(2).error().code(),
            static_cast<int>(grpc::StatusCode::INVALID_ARGUMENT));
  const google::rpc::Status& bad = response.results(3).error();
  EXPECT_EQ(bad.code(), static_cast<int>(grpc::StatusCode::INVALID_ARGUMENT));
  ASSERT_EQ(bad.details_size(), 1);
  google::rpc::BadRequest detail;
  ASSERT_TRUE(bad.details(0).UnpackTo(&detail));
  EXPECT_EQ(detail.field_violations(0).field(), "names[3]");

  // A year outside one KPI's range fails that item only.
  request.clear_names();
  request.add_names("strategies/s/kpis/share");
  request.set_target_fiscal_year(2019);
  ASSERT_TRUE(
      Call(forecast(), &Stub::BatchProjectKpis, request, &response).ok());
  EXPECT_EQ(response.results(0).error().code(),
            static_cast<int>(grpc::StatusCode::INVALID_ARGUMENT));
}

TEST_F(ForecastServiceTest, BatchProjectKpisBadInput) {
  v1::BatchProjectKpisRequest request;
  v1::BatchProjectKpisResponse response;
  EXPECT_INVALID_FIELD(
      Call(forecast(), &Stub::BatchProjectKpis, request, &response), "parent");
  request.set_parent("strategies/nope");
  EXPECT_EQ(Call(forecast(), &Stub::BatchProjectKpis, request, &response)
                .error_code(),
            grpc::StatusCode::NOT_FOUND);
  request.set_parent("strategies/s");
  request.set_target_fiscal_year(5000);
  EXPECT_INVALID_FIELD(
      Call(forecast(), &Stub::BatchProjectKpis, request, &response),
      "target_fiscal_year");
}

TEST(BuiltinDatasetForecastTest, EveryKpiOfAsahikawaProjects) {
  auto server = TestServer::Start();
  ASSERT_NE(server, nullptr);
  server->ImportJson(BuiltinDatasetJson());
  absl::StatusOr<v1::Dataset> dataset = DatasetFromJson(BuiltinDatasetJson());
  ASSERT_TRUE(dataset.ok());
  v1::BatchProjectKpisRequest request;
  request.set_parent(dataset->strategies(0).name());
  v1::BatchProjectKpisResponse response;
  ASSERT_TRUE(
      Call(server->forecast(), &Stub::BatchProjectKpis, request, &response)
          .ok());
  ASSERT_EQ(response.results_size(), dataset->kpis_size());
  for (const v1::ProjectionResult& r : response.results()) {
    // A KPI the city had no figure for is a precondition failure, never
    // an internal error or a bad request.
    if (r.has_error()) {
      EXPECT_EQ(r.error().code(),
                static_cast<int>(grpc::StatusCode::FAILED_PRECONDITION))
          << r.id() << ": " << r.error().message();
      continue;
    }
    ExpectCoherent(r.projection());
    if (r.has_alternative_projection()) {
      ExpectCoherent(r.alternative_projection());
    }
  }
}

// ---- BatchProjectSeries ----

TEST_F(ForecastServiceTest, BatchProjectSeries) {
  v1::BatchProjectSeriesRequest request;
  *request.add_series() = RisingSeries("a");
  *request.add_series() = RisingSeries("b");
  request.mutable_series(1)->mutable_points(0)->set_value(INFINITY);
  *request.add_series() = RisingSeries("c");
  request.mutable_series(2)->set_direction(v1::DIRECTION_DECREASE);
  v1::BatchProjectSeriesResponse response;
  ASSERT_TRUE(
      Call(forecast(), &Stub::BatchProjectSeries, request, &response).ok());
  ASSERT_THAT(response.results(), SizeIs(3));
  EXPECT_EQ(response.results(0).id(), "a");
  EXPECT_EQ(response.results(0).projection().target_value(), 45);
  EXPECT_EQ(response.results(1).index(), 1);
  ASSERT_TRUE(response.results(1).has_error());
  google::rpc::BadRequest detail;
  ASSERT_TRUE(response.results(1).error().details(0).UnpackTo(&detail));
  EXPECT_EQ(detail.field_violations(0).field(), "series[1].points[0].value");
  // The same series and target with "lower is better": the chances of
  // ending at or below and at or above the target add up to one.
  EXPECT_EQ(response.results(2).projection().direction(),
            v1::DIRECTION_DECREASE);
  EXPECT_NEAR(response.results(2).projection().attainment_probability() +
                  response.results(0).projection().attainment_probability(),
              1.0, 1e-6);
}

TEST_F(ForecastServiceTest, BatchProjectSeriesBadInput) {
  v1::BatchProjectSeriesRequest request;
  v1::BatchProjectSeriesResponse response;
  EXPECT_INVALID_FIELD(
      Call(forecast(), &Stub::BatchProjectSeries, request, &response),
      "series");
  for (int i = 0; i < kMaxBatchSeries + 1; ++i) {
    v1::Series* s = request.add_series();
    s->add_points()->set_fiscal_year(2020);
  }
  EXPECT_THAT(ViolationOf(Call(forecast(), &Stub::BatchProjectSeries, request,
                               &response),
                          "series"),
              HasSubstr("1001 series; accepted: 1 to 1000"));
  request.clear_series();
  *request.add_series() = RisingSeries("a");
  request.mutable_series(0)->set_target_fiscal_year(1999);
  ASSERT_TRUE(
      Call(forecast(), &Stub::BatchProjectSeries, request, &response).ok());
  EXPECT_EQ(response.results(0).error().code(),
            static_cast<int>(grpc::StatusCode::INVALID_ARGUMENT));
  EXPECT_THAT(response.results(0).error().message(),
              HasSubstr("series[0].target_fiscal_year"));
}

// ---- StreamProjectSeries ----

TEST_F(ForecastServiceTest, StreamProjectSeries) {
  grpc::ClientContext context;
  auto stream = forecast().StreamProjectSeries(&context);
  std::vector<v1::StreamProjectSeriesRequest> requests(4);
  *requests[0].add_series() = RisingSeries("s0");
  *requests[0].add_series() = RisingSeries("s1");
  requests[0].mutable_series(1)->mutable_points(4)->set_fiscal_year(2017);
  *requests[1].add_series() = RisingSeries("s2");
  requests[1].mutable_options()->add_shock_fiscal_years(2020);
  // requests[2] is an empty chunk: an empty response keeps the pairing.
  *requests[3].add_series() = RisingSeries("s3");
  const std::vector<int> sizes = {2, 1, 0, 1};
  int64_t index = 0;
  for (int i = 0; i < 4; ++i) {
    // One chunk in, one out: the server never holds more than one chunk.
    ASSERT_TRUE(stream->Write(requests[i]));
    v1::StreamProjectSeriesResponse response;
    ASSERT_TRUE(stream->Read(&response));
    ASSERT_EQ(response.results_size(), sizes[i]) << "chunk " << i;
    for (int j = 0; j < sizes[i]; ++j, ++index) {
      const v1::ProjectionResult& r = response.results(j);
      EXPECT_EQ(r.index(), index);
      EXPECT_EQ(r.id(), requests[i].series(j).series_id());
    }
  }
  ASSERT_TRUE(stream->WritesDone());
  v1::StreamProjectSeriesResponse extra;
  EXPECT_FALSE(stream->Read(&extra));
  EXPECT_TRUE(stream->Finish().ok());
}

TEST_F(ForecastServiceTest, StreamProjectSeriesReportsEachSeriesOwnOutcome) {
  grpc::ClientContext context;
  auto stream = forecast().StreamProjectSeries(&context);
  v1::StreamProjectSeriesRequest request;
  *request.add_series() = RisingSeries("ok");
  *request.add_series() = RisingSeries("duplicate-year");
  request.mutable_series(1)->mutable_points(4)->set_fiscal_year(2017);
  *request.add_series() = RisingSeries("no-points");
  request.mutable_series(2)->clear_points();
  ASSERT_TRUE(stream->Write(request));
  v1::StreamProjectSeriesResponse response;
  ASSERT_TRUE(stream->Read(&response));
  ASSERT_EQ(response.results_size(), 3);
  EXPECT_EQ(response.results(0).projection().points_used(), 5);
  ASSERT_TRUE(response.results(1).has_error());
  google::rpc::BadRequest detail;
  ASSERT_TRUE(response.results(1).error().details(0).UnpackTo(&detail));
  EXPECT_EQ(detail.field_violations(0).field(),
            "series[1].points[4].fiscal_year");
  EXPECT_EQ(response.results(2).error().code(),
            static_cast<int>(grpc::StatusCode::INVALID_ARGUMENT));
  EXPECT_THAT(response.results(2).error().message(),
              HasSubstr("series[2].points"));

  // Shock years of the chunk's options apply to its series.
  v1::StreamProjectSeriesRequest shocked;
  *shocked.add_series() = RisingSeries("shocked");
  shocked.mutable_options()->add_shock_fiscal_years(2020);
  ASSERT_TRUE(stream->Write(shocked));
  ASSERT_TRUE(stream->Read(&response));
  ASSERT_EQ(response.results_size(), 1);
  EXPECT_EQ(response.results(0).index(), 3);
  // A rising series whose shock year rose too: leaving it out would hide a
  // favourable change, so both scenarios are blended.
  const v1::Projection& blended = response.results(0).projection();
  EXPECT_EQ(blended.shock_treatment(), v1::SHOCK_TREATMENT_BLEND);
  EXPECT_EQ(blended.explanation().scenario().rule(),
            v1::SCENARIO_RULE_BLEND_FAVOURABLE);
  EXPECT_THAT(blended.explanation().scenario().left_out_fiscal_years(),
              ElementsAre(2020));
  EXPECT_THAT(response.results(0).alternative_projection().fiscal_years_used(),
              ElementsAre(2017, 2018, 2019, 2020, 2021));
  ASSERT_TRUE(stream->WritesDone());
  EXPECT_TRUE(stream->Finish().ok());
}

TEST_F(ForecastServiceTest, StreamProjectSeriesRejectsAnOversizedChunk) {
  grpc::ClientContext context;
  auto stream = forecast().StreamProjectSeries(&context);
  v1::StreamProjectSeriesRequest first;
  *first.add_series() = RisingSeries("kept");
  ASSERT_TRUE(stream->Write(first));
  v1::StreamProjectSeriesResponse response;
  ASSERT_TRUE(stream->Read(&response));
  ASSERT_EQ(response.results_size(), 1);
  EXPECT_TRUE(response.results(0).has_projection());

  v1::StreamProjectSeriesRequest oversized;
  for (int i = 0; i <= kMaxBatchSeries; ++i) {
    *oversized.add_series() = RisingSeries(absl::StrCat("x", i));
  }
  stream->Write(oversized);
  stream->WritesDone();
  EXPECT_FALSE(stream->Read(&response));
  const grpc::Status status = stream->Finish();
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(status.error_message(),
              HasSubstr("request message 1 (0-based) has 1001 series; "
                        "accepted: at most 1000 a message"));
  EXPECT_THAT(status.error_message(), HasSubstr("the 1 series before it"));
}

TEST_F(ForecastServiceTest, StreamProjectSeriesPipelined) {
  // Many writes before any read: responses come back in order.
  grpc::ClientContext context;
  auto stream = forecast().StreamProjectSeries(&context);
  constexpr int kChunks = 50;
  constexpr int kPerChunk = 3;
  std::thread writer([&stream] {
    for (int i = 0; i < kChunks; ++i) {
      v1::StreamProjectSeriesRequest request;
      for (int j = 0; j < kPerChunk; ++j) {
        *request.add_series() =
            RisingSeries(absl::StrCat("p", i * kPerChunk + j));
      }
      if (!stream->Write(request)) return;
    }
    stream->WritesDone();
  });
  int received = 0;
  v1::StreamProjectSeriesResponse response;
  while (stream->Read(&response)) {
    EXPECT_EQ(response.results_size(), kPerChunk);
    for (const v1::ProjectionResult& result : response.results()) {
      EXPECT_EQ(result.index(), received);
      EXPECT_EQ(result.id(), absl::StrCat("p", received));
      EXPECT_TRUE(result.has_projection());
      ++received;
    }
  }
  writer.join();
  EXPECT_EQ(received, kChunks * kPerChunk);
  EXPECT_TRUE(stream->Finish().ok());
}

}  // namespace
}  // namespace kpi::services::testing
