// The ProjectKpi cache: bounded, and never serving a projection after a
// write to the store, whether the write came through this server's API or
// through another Repository on the same store (another replica).

#include "services/projection_cache.h"

#include <google/protobuf/util/message_differencer.h>
#include <grpcpp/grpcpp.h>

#include <cstdlib>
#include <filesystem>
#include <memory>
#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "kpi/v1/forecast_service.pb.h"
#include "kpi/v1/kpi_service.pb.h"
#include "lib/base/status_matchers.h"
#include "lib/storage/repository.h"
#include "services/convert.h"
#include "services/forecast_service.h"
#include "services/kpi_service.h"

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

// ForecastService and KpiService over one real SQLite file, called directly
// (the handlers the gRPC server runs).
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
  }

  void TearDown() override {
    forecast_.reset();
    kpis_.reset();
    repository_.reset();
    std::filesystem::remove_all(dir_);
  }

  v1::ProjectKpiResponse Project() {
    grpc::ServerContext context;
    v1::ProjectKpiRequest request;
    request.set_name(kKpi);
    v1::ProjectKpiResponse response;
    const grpc::Status status =
        forecast_->ProjectKpi(&context, &request, &response);
    EXPECT_TRUE(status.ok()) << status.error_message();
    return response;
  }

  std::string dir_;
  std::string db_;
  std::unique_ptr<storage::Repository> repository_;
  std::unique_ptr<ForecastService> forecast_;
  std::unique_ptr<KpiService> kpis_;
};

TEST_F(CachedProjectionTest, HitReturnsTheSameProjection) {
  const v1::ProjectKpiResponse first = Project();
  const v1::ProjectKpiResponse second = Project();
  EXPECT_EQ(first.projection().progress().latest_value(), 44);
  EXPECT_TRUE(MessageDifferencer::Equals(first, second));
  const ProjectionCache::Stats stats = forecast_->projection_cache_stats();
  EXPECT_EQ(stats.misses, 1);
  EXPECT_EQ(stats.hits, 1);
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
  // Nothing written since: served from the cache.
  EXPECT_TRUE(MessageDifferencer::Equals(Project(), after_create));
  EXPECT_EQ(forecast_->projection_cache_stats().hits, 1);
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
}

TEST_F(CachedProjectionTest, ErrorsAreNotCached) {
  grpc::ServerContext context;
  v1::ProjectKpiRequest request;
  request.set_name("strategies/s/kpis/missing");
  v1::ProjectKpiResponse response;
  EXPECT_EQ(forecast_->ProjectKpi(&context, &request, &response).error_code(),
            grpc::StatusCode::NOT_FOUND);
  EXPECT_EQ(forecast_->ProjectKpi(&context, &request, &response).error_code(),
            grpc::StatusCode::NOT_FOUND);
  EXPECT_EQ(forecast_->projection_cache_stats().hits, 0);
  EXPECT_EQ(forecast_->projection_cache_stats().entries, 0u);
}

}  // namespace
}  // namespace kpi::services
