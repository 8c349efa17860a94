// NOT_FOUND errors that name what was probably meant, through the server.

#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/services/test_server.h"

namespace kpi::services::testing {
namespace {

using ::testing::EndsWith;
using ::testing::HasSubstr;
using ::testing::Not;

class SuggestionsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    server_ = TestServer::Start();
    ASSERT_NE(server_, nullptr);
    server_->ImportTestDataset();
  }

  grpc::Status GetKpi(const std::string& name) {
    v1::GetKpiRequest request;
    request.set_name(name);
    v1::Kpi kpi;
    return Call(server_->kpi(), &v1::KpiService::Stub::GetKpi, request, &kpi);
  }

  std::unique_ptr<TestServer> server_;
};

TEST_F(SuggestionsTest, TypoInAKpiId) {
  const grpc::Status status = GetKpi("strategies/s/kpis/visitor");
  EXPECT_EQ(status.error_code(), grpc::StatusCode::NOT_FOUND);
  EXPECT_EQ(status.error_message(),
            "kpi strategies/s/kpis/visitor does not exist; closest: "
            "strategies/s/kpis/visitors (観光入込客数)");
  v1::ProjectKpiRequest project;
  project.set_name("strategies/s/kpis/employmnet");
  v1::ProjectKpiResponse response;
  const grpc::Status projected =
      Call(server_->forecast(), &v1::ForecastService::Stub::ProjectKpi, project,
           &response);
  EXPECT_EQ(projected.error_code(), grpc::StatusCode::NOT_FOUND);
  EXPECT_THAT(
      projected.error_message(),
      EndsWith("; closest: strategies/s/kpis/employment (障害者雇用率)"));
}

TEST_F(SuggestionsTest, MissingParentSuggestsItsSiblings) {
  const grpc::Status status = GetKpi("strategies/t/kpis/visitors");
  EXPECT_EQ(status.error_code(), grpc::StatusCode::NOT_FOUND);
  EXPECT_THAT(
      status.error_message(),
      HasSubstr("its parent strategy strategies/t does not exist "
                "either; closest: strategies/s (第2期テスト市総合戦略)"));
  v1::ListObservationsRequest list;
  list.set_parent("strategies/s/kpis/shares");
  v1::ListObservationsResponse observations;
  const grpc::Status listed =
      Call(server_->kpi(), &v1::KpiService::Stub::ListObservations, list,
           &observations);
  EXPECT_EQ(listed.error_code(), grpc::StatusCode::NOT_FOUND);
  EXPECT_THAT(listed.error_message(),
              EndsWith("closest: strategies/s/kpis/share (満足度)"));
  v1::BatchProjectKpisRequest batch;
  batch.set_parent("strategies/ss");
  v1::BatchProjectKpisResponse projected;
  EXPECT_THAT(
      Call(server_->forecast(), &v1::ForecastService::Stub::BatchProjectKpis,
           batch, &projected)
          .error_message(),
      EndsWith("closest: strategies/s (第2期テスト市総合戦略)"));
}

TEST_F(SuggestionsTest, NothingImplausible) {
  const grpc::Status status = GetKpi("strategies/s/kpis/population-growth");
  EXPECT_EQ(status.error_code(), grpc::StatusCode::NOT_FOUND);
  EXPECT_EQ(status.error_message(),
            "kpi strategies/s/kpis/population-growth does not exist");
  v1::DeleteObservationRequest del;
  del.set_name("strategies/s/kpis/share/observations/fy2022");
  google::protobuf::Empty empty;
  const grpc::Status deleted = Call(
      server_->kpi(), &v1::KpiService::Stub::DeleteObservation, del, &empty);
  EXPECT_EQ(deleted.error_code(), grpc::StatusCode::NOT_FOUND);
  // The stored years are one edit away: the three nearest are listed.
  EXPECT_THAT(deleted.error_message(),
              HasSubstr("; closest: strategies/s/kpis/share/observations/"
                        "fy2020, strategies/s/kpis/share/observations/fy2021, "
                        "strategies/s/kpis/share/observations/fy2019"));
  EXPECT_THAT(deleted.error_message(), Not(HasSubstr("(")));
}

}  // namespace
}  // namespace kpi::services::testing
