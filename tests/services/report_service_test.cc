// ReportService.RenderReport on a real server and SQLite store holding the
// shipped Asahikawa dataset: every KPI in the HTML with its chart, the
// charts the same as the inline ones and as ProjectKpi's projections, the
// city's ratings beside the suggested ones, the date in Japan, and errors
// that name the field.

#include <grpcpp/grpcpp.h>

#include <map>
#include <memory>
#include <regex>
#include <set>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/time/civil_time.h"
#include "absl/time/time.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "kpi/v1/report_service.grpc.pb.h"
#include "lib/base/clock.h"
#include "lib/base/field_violations.h"
#include "services/convert.h"
#include "services/server/builtin_dataset.h"
#include "services/server/server.h"
#include "tests/report/svg_reader.h"
#include "tests/services/test_server.h"

namespace kpi::services::testing {
namespace {

using ::kpi::report::testing::Elements;
using ::kpi::report::testing::Vertices;
using ::kpi::report::testing::WithClass;
using ::testing::HasSubstr;
using ::testing::Not;
using ::testing::SizeIs;

constexpr char kStrategy[] = "strategies/asahikawa-2020";

class ReportServiceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ServerOptions options;
    options.clock = &clock_;
    server_ = TestServer::Start(std::move(options));
    ASSERT_NE(server_, nullptr);
    server_->ImportJson(BuiltinDatasetJson());
    stub_ = v1::ReportService::NewStub(server_->channel());
    absl::StatusOr<v1::Dataset> dataset = DatasetFromJson(BuiltinDatasetJson());
    ASSERT_TRUE(dataset.ok());
    dataset_ = *std::move(dataset);
  }

  grpc::Status Render(const v1::RenderReportRequest& request,
                      v1::RenderReportResponse* response) {
    return Call(*stub_, &v1::ReportService::Stub::RenderReport, request,
                response);
  }

  // 20:00 UTC on 4 December is 5 December in Japan.
  base::FakeClock clock_{absl::FromCivil(
      absl::CivilSecond(2026, 12, 4, 20, 0, 0), absl::UTCTimeZone())};
  std::unique_ptr<TestServer> server_;
  std::unique_ptr<v1::ReportService::Stub> stub_;
  v1::Dataset dataset_;
};

TEST_F(ReportServiceTest, AsahikawaReportHasEveryKpiWithItsChart) {
  v1::RenderReportRequest request;
  request.set_name(kStrategy);
  v1::RenderReportResponse response;
  const grpc::Status status = Render(request, &response);
  ASSERT_TRUE(status.ok()) << status.error_message();
  const std::string& html = response.html();
  ASSERT_EQ(dataset_.kpis_size(), 30);
  ASSERT_THAT(response.charts(), SizeIs(30));
  std::set<std::string> charted;
  for (const v1::ReportChart& chart : response.charts()) {
    charted.insert(chart.kpi());
    const std::string id = chart.kpi().substr(chart.kpi().rfind('/') + 1);
    EXPECT_EQ(chart.file_name(), id + ".svg");
    // The file is the chart in the page, with its namespace declared.
    std::string inline_svg = chart.svg();
    const std::string ns = " xmlns=\"http://www.w3.org/2000/svg\"";
    ASSERT_NE(inline_svg.find(ns), std::string::npos);
    inline_svg.erase(inline_svg.find(ns), ns.size());
    EXPECT_THAT(html, HasSubstr(inline_svg)) << id;
    EXPECT_THAT(html,
                HasSubstr("<article class=\"kpi\" id=\"kpi-" + id + "\""));
  }
  for (const v1::Kpi& kpi : dataset_.kpis()) {
    EXPECT_EQ(charted.count(kpi.name()), 1u) << kpi.name();
    EXPECT_THAT(html, HasSubstr(kpi.display_name()));
  }
  EXPECT_THAT(html, Not(HasSubstr("http")));
  EXPECT_THAT(html, HasSubstr("作成日: 2026年12月5日"));
  EXPECT_THAT(html, HasSubstr("KPI評価報告 令和3年度 (FY2021)</h1>"));
  // Four goals, each a page; every evaluated measure's rating is shown.
  EXPECT_EQ(WithClass(Elements(html), "goal").size(), 4u);
  const auto ratings = WithClass(Elements(html), "city");
  int rated = 0;
  for (const auto& r : ratings) {
    if (r.at("data-rating") != "RATING_UNSPECIFIED") ++rated;
  }
  EXPECT_EQ(rated, dataset_.evaluations_size());
  EXPECT_THAT(html, Not(HasSubstr("予測できません")));
}

TEST_F(ReportServiceTest, ChartsShowWhatProjectKpiProjects) {
  v1::RenderReportRequest request;
  request.set_name(kStrategy);
  v1::RenderReportResponse response;
  ASSERT_TRUE(Render(request, &response).ok());
  for (const char* id : {"airport-passengers", "migration-event-participants",
                         "disability-employment-rate"}) {
    SCOPED_TRACE(id);
    v1::ProjectKpiRequest project;
    project.set_name(absl::StrCat(kStrategy, "/kpis/", id));
    v1::ProjectKpiResponse projected;
    ASSERT_TRUE(Call(server_->forecast(),
                     &v1::ForecastService::Stub::ProjectKpi, project,
                     &projected)
                    .ok());
    std::string svg;
    for (const v1::ReportChart& c : response.charts()) {
      if (c.file_name() == absl::StrCat(id, ".svg")) svg = c.svg();
    }
    const auto median = WithClass(Elements(svg), "median");
    ASSERT_THAT(median, SizeIs(1));
    const auto values = Vertices(median[0].at("data-values"));
    const auto& years = projected.projection().years();
    ASSERT_EQ(values.size(), static_cast<size_t>(years.size()) + 1);
    for (int i = 0; i < years.size(); ++i) {
      EXPECT_EQ(values[i + 1].first, years[i].fiscal_year());
      EXPECT_EQ(values[i + 1].second, years[i].median());
    }
    const auto target = WithClass(Elements(svg), "target");
    ASSERT_THAT(target, SizeIs(1));
    EXPECT_EQ(target[0].Number("data-value"),
              projected.projection().target_value());
  }
}

TEST_F(ReportServiceTest, InEnglish) {
  v1::RenderReportRequest request;
  request.set_name(kStrategy);
  request.set_language_code("en-US");
  v1::RenderReportResponse response;
  ASSERT_TRUE(Render(request, &response).ok());
  EXPECT_THAT(response.html(), HasSubstr("<html lang=\"en\">"));
  EXPECT_THAT(response.html(), HasSubstr("Prepared on 5 December 2026"));
  EXPECT_THAT(response.charts(0).svg(), HasSubstr(">fiscal year</text>"));
}

TEST_F(ReportServiceTest, ErrorsNameTheFieldAndTheClosestStrategy) {
  v1::RenderReportRequest request;
  v1::RenderReportResponse response;
  request.set_name("asahikawa-2020");
  request.set_language_code("fr");
  request.set_evaluation_fiscal_year(3000);
  grpc::Status status = Render(request, &response);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  const std::vector<base::FieldViolation> violations =
      base::GetFieldViolations(FromGrpcStatus(status));
  std::set<std::string> fields;
  for (const base::FieldViolation& v : violations) fields.insert(v.field);
  EXPECT_EQ(fields, (std::set<std::string>{"name", "language_code",
                                           "evaluation_fiscal_year"}));
  EXPECT_THAT(status.error_message(), HasSubstr("language_code"));

  request.Clear();
  request.set_name("strategies/asahikawa-202");
  status = Render(request, &response);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::NOT_FOUND);
  EXPECT_THAT(status.error_message(),
              HasSubstr("closest: strategies/asahikawa-2020"));
}

}  // namespace
}  // namespace kpi::services::testing
