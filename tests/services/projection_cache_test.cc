// The ProjectKpi cache: bounded, and never serving a projection after a
// write to the store, whether the write came through this server's API or
// through another Repository on the same store (another replica).

#include "services/server/projection_cache.h"

#include <google/protobuf/util/message_differencer.h>
#include <grpcpp/grpcpp.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "kpi/v1/forecast_service.grpc.pb.h"
#include "kpi/v1/forecast_service.pb.h"
#include "kpi/v1/kpi_service.pb.h"
#include "lib/base/status_matchers.h"
#include "lib/storage/repository.h"
#include "services/convert.h"
#include "services/server/forecast_service.h"
#include "services/server/kpi_service.h"

namespace kpi::services {
namespace {

using ::google::protobuf::util::MessageDifferencer;
using ::kpi::testing::IsOk;

std::shared_ptr<const v1::ProjectKpiResponse> ResponseWithValue(double v) {
  auto response = std::make_shared<v1::ProjectKpiResponse>();
  response->mutable_projection()->set_projected_value(v);
  return response;
}

TEST(ProjectionCacheTest, ServesOnlyAtTheSequenceItWasComputedAt) {
  ProjectionCache cache(4);
  cache.Insert("a", 7, ResponseWithValue(1.5));
  auto hit = cache.Lookup("a", 7);
  ASSERT_NE(hit, nullptr);
  EXPECT_EQ(hit->projection().projected_value(), 1.5);
  EXPECT_EQ(cache.Lookup("a", 8), nullptr);
  // The stale entry is gone, even for its own sequence.
  EXPECT_EQ(cache.Lookup("a", 7), nullptr);
  const ProjectionCache::Stats stats = cache.stats();
  EXPECT_EQ(stats.hits, 1);
  EXPECT_EQ(stats.misses, 2);
  EXPECT_EQ(stats.entries, 0u);
}

TEST(ProjectionCacheTest, DropsTheLeastRecentlyUsedBeyondCapacity) {
  ProjectionCache cache(2);
  cache.Insert("a", 1, ResponseWithValue(1));
  cache.Insert("b", 1, ResponseWithValue(2));
  ASSERT_NE(cache.Lookup("a", 1), nullptr);  // b is now the oldest
  cache.Insert("c", 1, ResponseWithValue(3));
  EXPECT_EQ(cache.stats().entries, 2u);
  EXPECT_EQ(cache.Lookup("b", 1), nullptr);
  ASSERT_NE(cache.Lookup("a", 1), nullptr);
  ASSERT_NE(cache.Lookup("c", 1), nullptr);
  EXPECT_EQ(cache.Lookup("c", 1)->projection().projected_value(), 3);
}

TEST(ProjectionCacheTest, CapacityZeroHoldsNothing) {
  ProjectionCache cache(0);
  cache.Insert("a", 1, ResponseWithValue(1));
  EXPECT_EQ(cache.Lookup("a", 1), nullptr);
  EXPECT_EQ(cache.stats().entries, 0u);
}

TEST(ProjectionCacheTest, KeySeparatesNameYearAndOptions) {
  v1::ProjectKpiRequest request;
  request.set_name("strategies/s/kpis/share");
  const std::string base = ProjectionCache::Key(request);
  v1::ProjectKpiRequest other_year = request;
  other_year.set_target_fiscal_year(2026);
  v1::ProjectKpiRequest other_options = request;
  other_options.mutable_options()->set_shock_treatment(
      v1::SHOCK_TREATMENT_INCLUDE);
  v1::ProjectKpiRequest other_name = request;
  other_name.set_name("strategies/s/kpis/share2");
  EXPECT_NE(base, ProjectionCache::Key(other_year));
  EXPECT_NE(base, ProjectionCache::Key(other_options));
  EXPECT_NE(base, ProjectionCache::Key(other_name));
  EXPECT_EQ(base, ProjectionCache::Key(request));
}

constexpr char kKpi[] = "strategies/s/kpis/share";
constexpr char kLatest[] = "strategies/s/kpis/share/observations/fy2021";

constexpr char kDatasetJson[] = R"json({
  "strategies": [{"name": "strategies/s", "display_name": "テスト市総合戦略",
                  "municipality": "テスト市", "first_fiscal_year": 2020,
                  "last_fiscal_year": 2024}],
  "goals": [{"name": "strategies/s/goals/g1", "number": 1,
             "display_name": "しごと"}],
  "measures": [{"name": "strategies/s/measures/m1",
                "goal": "strategies/s/goals/g1", "code": "ア",
                "display_name": "雇用"}],
  "kpis": [{"name": "strategies/s/kpis/share",
            "measure": "strategies/s/measures/m1", "display_name": "満足度",
            "unit": "%", "kind": "KPI_KIND_LEVEL",
            "direction": "DIRECTION_INCREASE",
            "target": {"value": 50, "fiscal_year": 2024}}],
  "observations": [
    {"name": "strategies/s/kpis/share/observations/fy2019",
     "fiscal_year": 2019, "value": 40},
    {"name": "strategies/s/kpis/share/observations/fy2020",
     "fiscal_year": 2020, "value": 42},
    {"name": "strategies/s/kpis/share/observations/fy2021",
     "fiscal_year": 2021, "value": 44}]
})json";

// ForecastService and KpiService over one real SQLite file, served by a
// real gRPC server on 127.0.0.1:0 (ProjectKpi is a callback method, which
// only a server can call); writes call KpiService's handlers directly.
class CachedProjectionTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string dir_template =
        (std::filesystem::temp_directory_path() / "kpi_cache_test_XXXXXX")
            .string();
    ASSERT_NE(mkdtemp(dir_template.data()), nullptr);
    dir_ = dir_template;
    db_ = (std::filesystem::path(dir_) / "kpi.sqlite3").string();
    auto repository = storage::OpenRepository(db_);
    ASSERT_THAT(repository.status(), IsOk());
    repository_ = *std::move(repository);
    auto proto = DatasetFromJson(kDatasetJson);
    ASSERT_THAT(proto.status(), IsOk());
    Violations violations;
    const domain::Dataset dataset = FromProto(*proto, "", &violations);
    ASSERT_TRUE(violations.empty());
    ASSERT_THAT(ImportDomainDataset(*repository_, dataset, false, "").status(),
                IsOk());
    forecast_ = std::make_unique<ForecastService>(
        repository_.get(), &forecast::DefaultEngine(), 16);
    kpis_ = std::make_unique<KpiService>(repository_.get());
    grpc::ServerBuilder builder;
    int port = 0;
    builder.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(),
                             &port);
    builder.RegisterService(forecast_.get());
    server_ = builder.BuildAndStart();
    ASSERT_NE(server_, nullptr);
    ASSERT_GT(port, 0);
    stub_ = v1::ForecastService::NewStub(grpc::CreateChannel(
        absl::StrCat("127.0.0.1:", port), grpc::InsecureChannelCredentials()));
  }

  void TearDown() override {
    if (server_ != nullptr) server_->Shutdown();
    server_.reset();
    forecast_.reset();
    kpis_.reset();
    repository_.reset();
    std::filesystem::remove_all(dir_);
  }

  grpc::Status Call(const v1::ProjectKpiRequest& request,
                    v1::ProjectKpiResponse* response) {
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() +
                         std::chrono::seconds(10));
    return stub_->ProjectKpi(&context, request, response);
  }

  v1::ProjectKpiResponse Project() {
    v1::ProjectKpiRequest request;
    request.set_name(kKpi);
    v1::ProjectKpiResponse response;
    const grpc::Status status = Call(request, &response);
    EXPECT_TRUE(status.ok()) << status.error_message();
    return response;
  }

  std::string dir_;
  std::string db_;
  std::unique_ptr<storage::Repository> repository_;
  std::unique_ptr<ForecastService> forecast_;
  std::unique_ptr<KpiService> kpis_;
  std::unique_ptr<grpc::Server> server_;
  std::unique_ptr<v1::ForecastService::Stub> stub_;
};

TEST_F(CachedProjectionTest, HitReturnsTheSameProjection) {
  const v1::ProjectKpiResponse first = Project();
  const v1::ProjectKpiResponse second = Project();
  EXPECT_EQ(first.projection().progress().latest_value(), 44);
  EXPECT_TRUE(MessageDifferencer::Equals(first, second));
  const ProjectionCache::Stats stats = forecast_->projection_cache_stats();
  EXPECT_EQ(stats.misses, 1);
  EXPECT_EQ(stats.hits, 1);
  // SQLite validates the hit without blocking: answered on gRPC's thread.
  EXPECT_EQ(forecast_->project_kpi_inline_hits(), 1);
}

TEST_F(CachedProjectionTest, ObservationWritesThroughTheApiInvalidate) {
  const v1::ProjectKpiResponse before = Project();
  ASSERT_EQ(before.projection().progress().latest_value(), 44);

  grpc::ServerContext update_context;
  v1::UpdateObservationRequest update;
  update.mutable_observation()->set_name(kLatest);
  update.mutable_observation()->set_value(47);
  update.mutable_update_mask()->add_paths("value");
  update.set_reason("corrected");
  v1::Observation updated;
  ASSERT_TRUE(
      kpis_->UpdateObservation(&update_context, &update, &updated).ok());
  const v1::ProjectKpiResponse after_update = Project();
  EXPECT_EQ(after_update.projection().progress().latest_value(), 47);
  EXPECT_NE(after_update.projection().projected_value(),
            before.projection().projected_value());

  grpc::ServerContext create_context;
  v1::CreateObservationRequest create;
  create.set_parent(kKpi);
  create.set_observation_id("fy2022");
  create.mutable_observation()->set_fiscal_year(2022);
  create.mutable_observation()->set_value(49);
  v1::Observation created;
  ASSERT_TRUE(
      kpis_->CreateObservation(&create_context, &create, &created).ok());
  const v1::ProjectKpiResponse after_create = Project();
  EXPECT_EQ(after_create.projection().progress().latest_value(), 49);
  EXPECT_EQ(after_create.projection().points_used(), 4);

  const ProjectionCache::Stats stats = forecast_->projection_cache_stats();
  EXPECT_EQ(stats.hits, 0);
  EXPECT_EQ(stats.misses, 3);
  // Nothing written since: served from the cache, without the pool.
  EXPECT_TRUE(MessageDifferencer::Equals(Project(), after_create));
  EXPECT_EQ(forecast_->projection_cache_stats().hits, 1);
  EXPECT_EQ(forecast_->project_kpi_inline_hits(), 1);
}

TEST_F(CachedProjectionTest, WritesByAnotherReplicaInvalidate) {
  ASSERT_EQ(Project().projection().progress().latest_value(), 44);
  ASSERT_EQ(Project().projection().progress().latest_value(), 44);
  ASSERT_EQ(forecast_->projection_cache_stats().hits, 1);

  // Another process's Repository on the same store: this server hears of
  // its write only through the store.
  auto replica = storage::OpenRepository(db_);
  ASSERT_THAT(replica.status(), IsOk());
  auto observation = (*replica)->GetObservation(kLatest);
  ASSERT_THAT(observation.status(), IsOk());
  observation->value = 41;
  ASSERT_THAT(
      (*replica)->UpdateObservation(*observation, "", "replica").status(),
      IsOk());

  const v1::ProjectKpiResponse after = Project();
  EXPECT_EQ(after.projection().progress().latest_value(), 41);
  const ProjectionCache::Stats stats = forecast_->projection_cache_stats();
  EXPECT_EQ(stats.hits, 1);
  EXPECT_EQ(stats.misses, 2);
  EXPECT_EQ(forecast_->project_kpi_inline_hits(), 1);
}

// Every response reflects at least every write acknowledged before its call
// started, while another Repository (a replica) keeps writing and the cache
// keeps answering hits inline between the writes.
TEST_F(CachedProjectionTest, NeverStaleUnderConcurrentWritesByAReplica) {
  auto replica = storage::OpenRepository(db_);
  ASSERT_THAT(replica.status(), IsOk());
  // Write i sets the latest value to 44 + i / 2 (a percentage, so <= 100).
  constexpr int kWrites = 60;
  auto value_of = [](int write) { return 44 + write * 0.5; };
  std::atomic<int> acknowledged{0};
  std::atomic<bool> done{false};
  std::thread writer([&] {
    for (int write = 1; write <= kWrites; ++write) {
      auto observation = (*replica)->GetObservation(kLatest);
      if (!observation.ok()) break;
      observation->value = value_of(write);
      if (!(*replica)->UpdateObservation(*observation, "", "w").ok()) break;
      acknowledged = write;
      absl::SleepFor(absl::Milliseconds(2));  // room for hits in between
    }
    done = true;
  });
  std::vector<std::thread> readers;
  std::atomic<int> calls{0};
  std::atomic<int> failed{0};
  std::atomic<int> stale{0};
  for (int r = 0; r < 3; ++r) {
    readers.emplace_back([&] {
      while (!done) {
        const double floor = value_of(acknowledged.load());
        v1::ProjectKpiRequest request;
        request.set_name(kKpi);
        v1::ProjectKpiResponse response;
        if (!Call(request, &response).ok()) {
          ++failed;
          continue;
        }
        ++calls;
        if (response.projection().progress().latest_value() < floor) ++stale;
      }
    });
  }
  writer.join();
  for (std::thread& t : readers) t.join();
  EXPECT_EQ(acknowledged.load(), kWrites);
  EXPECT_EQ(failed.load(), 0);
  EXPECT_EQ(stale.load(), 0) << "of " << calls.load() << " calls";
  EXPECT_EQ(Project().projection().progress().latest_value(),
            value_of(kWrites));
  // The test means something only if hits were answered inline meanwhile.
  EXPECT_GT(forecast_->project_kpi_inline_hits(), 0);
}

TEST_F(CachedProjectionTest, ErrorsAreNotCached) {
  v1::ProjectKpiRequest request;
  request.set_name("strategies/s/kpis/missing");
  v1::ProjectKpiResponse response;
  EXPECT_EQ(Call(request, &response).error_code(), grpc::StatusCode::NOT_FOUND);
  EXPECT_EQ(Call(request, &response).error_code(), grpc::StatusCode::NOT_FOUND);
  EXPECT_EQ(forecast_->projection_cache_stats().hits, 0);
  EXPECT_EQ(forecast_->projection_cache_stats().entries, 0u);
}

}  // namespace
}  // namespace kpi::services
