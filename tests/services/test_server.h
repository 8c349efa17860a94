#ifndef KPI_TESTS_SERVICES_TEST_SERVER_H_
#define KPI_TESTS_SERVICES_TEST_SERVER_H_

// A real kpi server for in-process tests: a fresh SQLite file in a temporary
// directory (through storage::OpenRepository), a gRPC server on 127.0.0.1:0
// and generated stubs over a real channel. The call log is captured.

#include <grpcpp/grpcpp.h>

#include <cstdlib>
#include <filesystem>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "gmock/gmock.h"
#include "grpc/health/v1/health.grpc.pb.h"
#include "gtest/gtest.h"
#include "kpi/v1/forecast_service.grpc.pb.h"
#include "kpi/v1/kpi_service.grpc.pb.h"
#include "lib/base/field_violations.h"
#include "lib/storage/repository.h"
#include "services/convert.h"
#include "services/server/server.h"

namespace kpi::services::testing {

// A small, valid dataset: one strategy (FY2020-2024), five KPIs of every
// shape the forecast path cares about, twelve observations, a reference
// table and an evaluation: 22 resources.
inline constexpr char kTestDatasetJson[] = R"json({
  "references": [{
    "name": "references/rate",
    "display_name": "法定雇用率(民間企業)",
    "unit": "%",
    "values": [
      {"effective_date": "2018-04-01", "value": 2.2},
      {"effective_date": "2021-03-01", "value": 2.3},
      {"effective_date": "2024-04-01", "value": 2.5}
    ]
  }],
  "strategies": [{
    "name": "strategies/s",
    "display_name": "第2期テスト市総合戦略",
    "english_name": "Test strategy",
    "municipality": "テスト市",
    "first_fiscal_year": 2020,
    "last_fiscal_year": 2024
  }],
  "goals": [{"name": "strategies/s/goals/g1", "number": 1,
             "display_name": "しごとをつくる"}],
  "measures": [{"name": "strategies/s/measures/m1",
                "goal": "strategies/s/goals/g1", "code": "ア",
                "display_name": "雇用の場の創出"}],
  "kpis": [
    {"name": "strategies/s/kpis/share", "measure": "strategies/s/measures/m1",
     "display_name": "満足度", "unit": "%", "kind": "KPI_KIND_LEVEL",
     "direction": "DIRECTION_INCREASE",
     "target": {"value": 50, "fiscal_year": 2024, "label": "50"}},
    {"name": "strategies/s/kpis/total", "measure": "strategies/s/measures/m1",
     "display_name": "起業数(累計)", "unit": "件",
     "kind": "KPI_KIND_RUNNING_TOTAL", "direction": "DIRECTION_INCREASE",
     "target": {"value": 10, "fiscal_year": 2024}, "ordinal": 1},
    {"name": "strategies/s/kpis/employment",
     "measure": "strategies/s/measures/m1",
     "display_name": "障害者雇用率", "unit": "%", "kind": "KPI_KIND_LEVEL",
     "direction": "DIRECTION_INCREASE",
     "target": {"reference": "references/rate", "fiscal_year": 2024,
                "label": "法定雇用率以上"}, "ordinal": 2},
    {"name": "strategies/s/kpis/visitors",
     "measure": "strategies/s/measures/m1",
     "display_name": "観光入込客数", "unit": "万人", "kind": "KPI_KIND_LEVEL",
     "direction": "DIRECTION_INCREASE",
     "target": {"value": 150, "fiscal_year": 2024},
     "shock_fiscal_years": [2020, 2021], "ordinal": 3},
    {"name": "strategies/s/kpis/empty", "measure": "strategies/s/measures/m1",
     "display_name": "待機児童数", "unit": "人", "kind": "KPI_KIND_LEVEL",
     "direction": "DIRECTION_DECREASE",
     "target": {"value": 0, "fiscal_year": 2024}, "ordinal": 4}
  ],
  "observations": [
    {"name": "strategies/s/kpis/share/observations/fy2019", "fiscal_year": 2019, "value": 40, "status": "OBSERVATION_STATUS_FINAL"},
    {"name": "strategies/s/kpis/share/observations/fy2020", "fiscal_year": 2020, "value": 42, "status": "OBSERVATION_STATUS_FINAL"},
    {"name": "strategies/s/kpis/share/observations/fy2021", "fiscal_year": 2021, "value": 44, "status": "OBSERVATION_STATUS_FINAL"},
    {"name": "strategies/s/kpis/total/observations/fy2020", "fiscal_year": 2020, "value": 8, "status": "OBSERVATION_STATUS_FINAL"},
    {"name": "strategies/s/kpis/total/observations/fy2021", "fiscal_year": 2021, "value": 12, "status": "OBSERVATION_STATUS_FINAL"},
    {"name": "strategies/s/kpis/employment/observations/fy2019", "fiscal_year": 2019, "value": 2.0, "status": "OBSERVATION_STATUS_FINAL"},
    {"name": "strategies/s/kpis/employment/observations/fy2020", "fiscal_year": 2020, "value": 2.1, "status": "OBSERVATION_STATUS_FINAL"},
    {"name": "strategies/s/kpis/employment/observations/fy2021", "fiscal_year": 2021, "value": 2.2, "status": "OBSERVATION_STATUS_PROVISIONAL"},
    {"name": "strategies/s/kpis/visitors/observations/fy2018", "fiscal_year": 2018, "value": 120, "status": "OBSERVATION_STATUS_FINAL"},
    {"name": "strategies/s/kpis/visitors/observations/fy2019", "fiscal_year": 2019, "value": 125, "status": "OBSERVATION_STATUS_FINAL"},
    {"name": "strategies/s/kpis/visitors/observations/fy2020", "fiscal_year": 2020, "value": 60, "status": "OBSERVATION_STATUS_FINAL"},
    {"name": "strategies/s/kpis/visitors/observations/fy2021", "fiscal_year": 2021, "value": 70, "status": "OBSERVATION_STATUS_FINAL"}
  ],
  "evaluations": [{
    "name": "strategies/s/measures/m1/evaluations/fy2021", "fiscal_year": 2021,
    "rating": "RATING_CONTINUE", "kpi_assessment": "概ね順調",
    "outlook": "継続して取り組む"
  }]
})json";
inline constexpr int kTestDatasetSize = 22;

// The field violations of a gRPC error's google.rpc.BadRequest detail.
inline std::vector<base::FieldViolation> BadRequestOf(
    const grpc::Status& status) {
  return base::GetFieldViolations(FromGrpcStatus(status));
}

// The fields named by a gRPC error's BadRequest detail.
inline std::vector<std::string> ViolatedFields(const grpc::Status& status) {
  std::vector<std::string> fields;
  for (const base::FieldViolation& v : BadRequestOf(status)) {
    fields.push_back(v.field);
  }
  return fields;
}

// The description of `field` in a gRPC error's BadRequest detail, or "".
inline std::string ViolationOf(const grpc::Status& status,
                               const std::string& field) {
  for (const base::FieldViolation& v : BadRequestOf(status)) {
    if (v.field == field) return v.description;
  }
  return "";
}

// Asserts INVALID_ARGUMENT whose BadRequest detail names `field`.
#define EXPECT_INVALID_FIELD(status, field)                            \
  do {                                                                 \
    const grpc::Status kpi_s_ = (status);                              \
    EXPECT_EQ(kpi_s_.error_code(), grpc::StatusCode::INVALID_ARGUMENT) \
        << kpi_s_.error_message();                                     \
    EXPECT_THAT(::kpi::services::testing::ViolatedFields(kpi_s_),      \
                ::testing::Contains(std::string(field)))               \
        << kpi_s_.error_message();                                     \
  } while (false)

class TestServer {
 public:
  // Starts a server on a fresh store; `options.repository` and
  // `options.log_sink` are filled in.
  static std::unique_ptr<TestServer> Start(ServerOptions options = {}) {
    auto t = std::unique_ptr<TestServer>(new TestServer());
    std::string pattern =
        (std::filesystem::temp_directory_path() / "kpi_services_test_XXXXXX")
            .string();
    const char* dir = mkdtemp(pattern.data());
    if (dir == nullptr) {
      ADD_FAILURE() << "mkdtemp failed";
      return nullptr;
    }
    t->dir_ = dir;
    auto repository =
        storage::OpenRepository((t->dir_ / "kpi.sqlite3").string());
    if (!repository.ok()) {
      ADD_FAILURE() << repository.status();
      return nullptr;
    }
    t->repository_ = *std::move(repository);
    options.repository = t->repository_.get();
    if (!options.log_sink) {
      TestServer* self = t.get();
      options.log_sink = [self](std::string_view line) {
        absl::MutexLock lock(&self->mu_);
        self->log_.emplace_back(line);
      };
    }
    auto server = Server::Start(std::move(options));
    if (!server.ok()) {
      ADD_FAILURE() << server.status();
      return nullptr;
    }
    t->server_ = *std::move(server);
    t->channel_ = grpc::CreateChannel(t->server_->address(),
                                      grpc::InsecureChannelCredentials());
    t->kpi_ = v1::KpiService::NewStub(t->channel_);
    t->forecast_ = v1::ForecastService::NewStub(t->channel_);
    t->health_ = grpc::health::v1::Health::NewStub(t->channel_);
    return t;
  }

  ~TestServer() {
    server_.reset();
    repository_.reset();
    std::error_code ignored;
    std::filesystem::remove_all(dir_, ignored);
  }

  // Imports kTestDatasetJson through ImportDataset.
  void ImportTestDataset() { ImportJson(kTestDatasetJson); }

  void ImportJson(std::string_view json) {
    absl::StatusOr<v1::Dataset> dataset = DatasetFromJson(json);
    ASSERT_TRUE(dataset.ok()) << dataset.status();
    v1::ImportDatasetRequest request;
    *request.mutable_dataset() = *dataset;
    v1::ImportDatasetResponse response;
    grpc::ClientContext context;
    const grpc::Status status =
        kpi_->ImportDataset(&context, request, &response);
    ASSERT_TRUE(status.ok()) << status.error_message();
  }

  v1::KpiService::Stub& kpi() { return *kpi_; }
  v1::ForecastService::Stub& forecast() { return *forecast_; }
  grpc::health::v1::Health::Stub& health() { return *health_; }
  Server& server() { return *server_; }
  storage::Repository& repository() { return *repository_; }
  const std::shared_ptr<grpc::Channel>& channel() { return channel_; }
  // The temporary directory holding the store's file, kpi.sqlite3.
  const std::filesystem::path& dir() const { return dir_; }

  std::vector<std::string> log() {
    absl::MutexLock lock(&mu_);
    return log_;
  }

 private:
  TestServer() = default;

  std::filesystem::path dir_;
  std::unique_ptr<storage::Repository> repository_;
  std::unique_ptr<Server> server_;
  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<v1::KpiService::Stub> kpi_;
  std::unique_ptr<v1::ForecastService::Stub> forecast_;
  std::unique_ptr<grpc::health::v1::Health::Stub> health_;
  absl::Mutex mu_;
  std::vector<std::string> log_ ABSL_GUARDED_BY(mu_);
};

// Calls a unary method of `stub` with a fresh context (5 s deadline).
template <typename Stub, typename Request, typename Response>
grpc::Status Call(Stub& stub,
                  grpc::Status (Stub::*method)(grpc::ClientContext*,
                                               const Request&, Response*),
                  const Request& request, Response* response) {
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() +
                       std::chrono::seconds(5));
  return (stub.*method)(&context, request, response);
}

}  // namespace kpi::services::testing

#endif  // KPI_TESTS_SERVICES_TEST_SERVER_H_
