// ForecastService.CalibrateStore and GetCalibrationSkill through real
// in-process servers, two replicas on one store (a SQLite file, or a
// PostgreSQL database of its own): a tiny store keeps the built-in
// calibration, a store filled from a known process learns its own and every
// replica switches to it, cached projections included.

#include <grpcpp/grpcpp.h>

#include <chrono>
#include <cmath>
#include <iostream>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "kpi/v1/forecast_service.grpc.pb.h"
#include "lib/domain/names.h"
#include "lib/forecast/engine.h"
#include "lib/storage/repository.h"
#include "services/convert.h"
#include "services/server/builtin_dataset.h"
#include "services/server/server.h"
#include "tests/storage/test_store.h"

namespace kpi::services {
namespace {

using storage::testing::Backend;
using storage::testing::TestStores;
using ::testing::HasSubstr;

constexpr char kBuiltin[] = "m3-train-v3";

// `n` KPIs of 20 yearly values (FY2000-2019) drawn from a known process:
// steady growth of 6% a year with a random walk of 2% a year around it on
// the log scale. Steady trends are what the built-in calibration (learned
// from M3) damps, so a calibration learned from them scores better.
domain::Dataset Simulated(int n, uint32_t seed) {
  domain::Dataset d;
  d.strategies.push_back(storage::testing::MakeStrategy("s"));
  d.goals.push_back(storage::testing::MakeGoal("s", "g", 1));
  d.measures.push_back(storage::testing::MakeMeasure("s", "m", "g"));
  std::mt19937 rng(seed);
  std::normal_distribution<double> noise(0, 0.02);
  for (int i = 0; i < n; ++i) {
    domain::Kpi k =
        storage::testing::MakeKpi("s", absl::StrCat("k", 1000 + i), "m");
    k.baseline.reset();
    k.shock_fiscal_years.clear();
    k.ordinal = i;
    double z = std::log(100.0 + i);
    for (int year = 2000; year < 2020; ++year) {
      z += 0.06 + noise(rng);
      d.observations.push_back(storage::testing::MakeObservation(
          k.name, year, std::round(std::exp(z) * 100) / 100));
    }
    d.kpis.push_back(std::move(k));
  }
  return d;
}

class CalibrateStoreTest : public ::testing::TestWithParam<Backend> {
 protected:
  CalibrateStoreTest() : stores_(GetParam()) {}

  void SetUp() override {
    const std::string unavailable = stores_.Unavailable();
    if (!unavailable.empty()) {
      if (storage::testing::InCi()) FAIL() << unavailable;
      GTEST_SKIP() << unavailable;
    }
    absl::StatusOr<std::string> spec = stores_.NewSpec();
    ASSERT_TRUE(spec.ok()) << spec.status();
    spec_ = *spec;
  }

  struct Replica {
    std::unique_ptr<storage::Repository> repository;
    std::unique_ptr<Server> server;
    std::unique_ptr<v1::ForecastService::Stub> stub;
  };

  // A server on the test's store; `engine` pins its calibration.
  std::unique_ptr<Replica> Start(const forecast::Engine* engine = nullptr) {
    auto r = std::make_unique<Replica>();
    storage::RepositoryOptions options;
    options.pool_size = 2;
    auto repository = storage::OpenRepository(spec_, options);
    if (!repository.ok()) {
      ADD_FAILURE() << repository.status();
      return nullptr;
    }
    r->repository = *std::move(repository);
    ServerOptions server_options;
    server_options.repository = r->repository.get();
    server_options.engine = engine;
    server_options.log_calls = false;
    server_options.project_kpi_threads = 2;
    auto server = Server::Start(std::move(server_options));
    if (!server.ok()) {
      ADD_FAILURE() << server.status();
      return nullptr;
    }
    r->server = *std::move(server);
    r->stub = v1::ForecastService::NewStub(grpc::CreateChannel(
        r->server->address(), grpc::InsecureChannelCredentials()));
    return r;
  }

  static grpc::Status Calibrate(Replica& r, bool validate_only,
                                v1::CalibrateStoreResponse* response) {
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() +
                         std::chrono::seconds(240));
    v1::CalibrateStoreRequest request;
    request.set_validate_only(validate_only);
    return r.stub->CalibrateStore(&context, request, response);
  }

  static grpc::Status Skill(Replica& r, v1::CalibrationSkill* skill) {
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() +
                         std::chrono::seconds(120));
    return r.stub->GetCalibrationSkill(&context, {}, skill);
  }

  // The calibration a ProjectKpi of the first simulated KPI names.
  static std::string ProjectedWith(Replica& r) {
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() +
                         std::chrono::seconds(30));
    v1::ProjectKpiRequest request;
    request.set_name("strategies/s/kpis/k1000");
    v1::ProjectKpiResponse response;
    const grpc::Status status =
        r.stub->ProjectKpi(&context, request, &response);
    EXPECT_TRUE(status.ok()) << status.error_message();
    const std::string version =
        response.projection().explanation().calibration_version();
    EXPECT_THAT(response.projection().method(),
                HasSubstr(absl::StrCat("(", version, ")")));
    return version;
  }

  TestStores stores_;
  std::string spec_;
};

// The 30 KPIs of Asahikawa's strategy (the dataset compiled into
// kpi_server): a city's few short histories.
domain::Dataset Asahikawa() {
  absl::StatusOr<v1::Dataset> proto = DatasetFromJson(BuiltinDatasetJson());
  EXPECT_TRUE(proto.ok()) << proto.status();
  Violations violations;
  domain::Dataset d = FromProto(*proto, "", &violations);
  EXPECT_TRUE(violations.empty());
  return d;
}

TEST_P(CalibrateStoreTest, AFewShortHistoriesKeepTheBuiltInCalibration) {
  auto a = Start();
  ASSERT_NE(a, nullptr);
  ASSERT_TRUE(a->repository->ImportDataset(Asahikawa()).ok());
  v1::CalibrateStoreResponse response;
  const grpc::Status status = Calibrate(*a, false, &response);
  ASSERT_TRUE(status.ok()) << status.error_message();
  // A few dozen short histories say too little to depart from the built-in
  // calibration.
  EXPECT_FALSE(response.switched()) << response.reason();
  EXPECT_EQ(response.version(), 0);
  EXPECT_EQ(response.calibration_in_use(), kBuiltin);
  EXPECT_EQ(response.in_use().calibration_version(), kBuiltin);
  EXPECT_GE(response.in_use().series(), 10);
  EXPECT_LE(response.in_use().series(), 30);
  EXPECT_GT(response.in_use().forecasts(), 0);
  EXPECT_TRUE(response.shrink_strength() == 0 ||
              response.shrink_strength() >= 100)
      << response.shrink_strength();
  EXPECT_GE(response.candidate().score(), response.in_use().score());
  EXPECT_THAT(a->repository->ActiveCalibrationVersion(),
              storage::testing::IsOkAndHolds(0));
}

TEST_P(CalibrateStoreTest, ALearnedCalibrationIsSharedByEveryReplica) {
  auto a = Start();
  auto b = Start();
  ASSERT_NE(a, nullptr);
  ASSERT_NE(b, nullptr);
  ASSERT_TRUE(a->repository->ImportDataset(Simulated(300, 11)).ok());
  // B has a cached projection made with the built-in calibration.
  EXPECT_EQ(ProjectedWith(*b), kBuiltin);
  EXPECT_EQ(ProjectedWith(*b), kBuiltin);

  v1::CalibrationSkill before;
  ASSERT_TRUE(Skill(*b, &before).ok());
  EXPECT_EQ(before.calibration_version(), kBuiltin);
  EXPECT_EQ(before.series(), 300);
  EXPECT_GT(before.windows(), 300);

  // validate_only learns and compares, and changes nothing.
  v1::CalibrateStoreResponse dry;
  grpc::Status status = Calibrate(*a, true, &dry);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_FALSE(dry.switched());
  EXPECT_EQ(dry.version(), 0);
  EXPECT_EQ(dry.calibration_in_use(), kBuiltin);
  EXPECT_LT(dry.candidate().score(), dry.in_use().score());
  EXPECT_THAT(dry.reason(), HasSubstr("validate_only"));
  EXPECT_EQ(ProjectedWith(*b), kBuiltin);

  v1::CalibrateStoreResponse response;
  status = Calibrate(*a, false, &response);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_TRUE(response.switched()) << response.reason();
  EXPECT_EQ(response.version(), 1);
  EXPECT_EQ(response.calibration_version(), "store-1");
  EXPECT_EQ(response.calibration_in_use(), "store-1");
  EXPECT_EQ(response.in_use().calibration_version(), kBuiltin);
  EXPECT_EQ(response.in_use().score(), dry.in_use().score());
  EXPECT_EQ(response.candidate().score(), dry.candidate().score());
  EXPECT_LT(response.candidate().score(), response.in_use().score());
  EXPECT_GT(response.shrink_strength(), 0);
  EXPECT_LT(response.shrink_strength(), 100);
  // Out of sample, the learned calibration covers about as it says.
  EXPECT_NEAR(response.candidate().coverage_80(), 0.80, 0.05);
  EXPECT_NEAR(response.candidate().coverage_95(), 0.95, 0.03);
  EXPECT_LT(response.candidate().brier(), response.in_use().brier());
  // The figures the READMEs quote.
  std::cout << "simulated store: strength " << response.shrink_strength()
            << ", held-out score " << response.candidate().score() << " vs "
            << response.in_use().score() << " (" << kBuiltin
            << "), coverage 80/95 " << response.candidate().coverage_80() << "/"
            << response.candidate().coverage_95() << " vs "
            << response.in_use().coverage_80() << "/"
            << response.in_use().coverage_95() << ", Brier "
            << response.candidate().brier() << " vs "
            << response.in_use().brier() << ", MASE "
            << response.candidate().mase() << " vs " << response.in_use().mase()
            << "\n";

  // Both replicas project with it, B's cached projection included.
  EXPECT_EQ(ProjectedWith(*a), "store-1");
  EXPECT_EQ(ProjectedWith(*b), "store-1");
  v1::CalibrationSkill after;
  ASSERT_TRUE(Skill(*b, &after).ok());
  EXPECT_EQ(after.calibration_version(), "store-1");
  EXPECT_EQ(after.series(), 300);
  EXPECT_EQ(after.windows(), before.windows());
  EXPECT_LT(after.score(), before.score());
  EXPECT_NEAR(after.coverage_80(), 0.80, 0.05);

  // A replica started later starts with it; one pinned to the built-in
  // calibration keeps it and refuses to calibrate the store.
  auto c = Start();
  ASSERT_NE(c, nullptr);
  EXPECT_EQ(c->server->calibration_in_use(), "store-1");
  auto pinned = Start(&forecast::DefaultEngine());
  ASSERT_NE(pinned, nullptr);
  EXPECT_EQ(ProjectedWith(*pinned), kBuiltin);
  v1::CalibrateStoreResponse refused;
  status = Calibrate(*pinned, false, &refused);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_THAT(status.error_message(), HasSubstr("--calibration"));

  auto stored = a->repository->GetCalibration(1);
  ASSERT_TRUE(stored.ok()) << stored.status();
  EXPECT_EQ(stored->label, "store-1");
  EXPECT_EQ(stored->previous_label, kBuiltin);
  EXPECT_EQ(stored->creator, "anonymous");
  EXPECT_EQ(stored->series, 300);
}

TEST_P(CalibrateStoreTest, AStoreWithoutHistoryIsAPrecondition) {
  auto a = Start();
  ASSERT_NE(a, nullptr);
  v1::CalibrationSkill skill;
  grpc::Status status = Skill(*a, &skill);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_THAT(status.error_message(), HasSubstr("two observations"));
  v1::CalibrateStoreResponse response;
  status = Calibrate(*a, false, &response);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
}

INSTANTIATE_TEST_SUITE_P(Backends, CalibrateStoreTest,
                         ::testing::Values(Backend::kSqlite,
                                           Backend::kPostgres));

}  // namespace
}  // namespace kpi::services
