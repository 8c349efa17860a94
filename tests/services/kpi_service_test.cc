// KpiService through a real server and channel on a real SQLite file.

#include <future>
#include <set>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "google/protobuf/util/message_differencer.h"
#include "gtest/gtest.h"
#include "services/server/builtin_dataset.h"
#include "tests/services/test_server.h"

namespace kpi::services::testing {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::SizeIs;
using Stub = v1::KpiService::Stub;

class KpiServiceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    server_ = TestServer::Start();
    ASSERT_NE(server_, nullptr);
    server_->ImportTestDataset();
  }

  Stub& kpi() { return server_->kpi(); }

  std::unique_ptr<TestServer> server_;
};

// ---- Strategies ----

TEST_F(KpiServiceTest, GetStrategy) {
  v1::GetStrategyRequest request;
  request.set_name("strategies/s");
  v1::Strategy strategy;
  ASSERT_TRUE(Call(kpi(), &Stub::GetStrategy, request, &strategy).ok());
  EXPECT_EQ(strategy.display_name(), "第2期テスト市総合戦略");
  EXPECT_EQ(strategy.first_fiscal_year(), 2020);
  EXPECT_EQ(strategy.last_fiscal_year(), 2024);
  EXPECT_FALSE(strategy.etag().empty());
  EXPECT_GT(strategy.create_time().seconds(), 0);

  request.set_name("strategy/s");
  EXPECT_INVALID_FIELD(Call(kpi(), &Stub::GetStrategy, request, &strategy),
                       "name");
  request.set_name("");
  EXPECT_INVALID_FIELD(Call(kpi(), &Stub::GetStrategy, request, &strategy),
                       "name");
  request.set_name("strategies/nope");
  EXPECT_EQ(Call(kpi(), &Stub::GetStrategy, request, &strategy).error_code(),
            grpc::StatusCode::NOT_FOUND);
}

TEST_F(KpiServiceTest, ListStrategiesPages) {
  v1::CreateStrategyRequest create;
  create.set_strategy_id("t");
  create.mutable_strategy()->set_display_name("別の戦略");
  create.mutable_strategy()->set_first_fiscal_year(2015);
  create.mutable_strategy()->set_last_fiscal_year(2019);
  v1::Strategy created;
  ASSERT_TRUE(Call(kpi(), &Stub::CreateStrategy, create, &created).ok());

  v1::ListStrategiesRequest request;
  request.set_page_size(1);
  v1::ListStrategiesResponse first;
  ASSERT_TRUE(Call(kpi(), &Stub::ListStrategies, request, &first).ok());
  ASSERT_THAT(first.strategies(), SizeIs(1));
  EXPECT_EQ(first.strategies(0).name(), "strategies/s");
  ASSERT_FALSE(first.next_page_token().empty());
  request.set_page_token(first.next_page_token());
  v1::ListStrategiesResponse second;
  ASSERT_TRUE(Call(kpi(), &Stub::ListStrategies, request, &second).ok());
  ASSERT_THAT(second.strategies(), SizeIs(1));
  EXPECT_EQ(second.strategies(0).name(), "strategies/t");
  EXPECT_EQ(second.next_page_token(), "");
}

TEST_F(KpiServiceTest, ListStrategiesBadInput) {
  v1::ListStrategiesRequest request;
  v1::ListStrategiesResponse response;
  request.set_page_token("not-a-token");
  EXPECT_EQ(Call(kpi(), &Stub::ListStrategies, request, &response).error_code(),
            grpc::StatusCode::INVALID_ARGUMENT);
  request.clear_page_token();
  request.set_page_size(-1);
  EXPECT_INVALID_FIELD(Call(kpi(), &Stub::ListStrategies, request, &response),
                       "page_size");
}

TEST_F(KpiServiceTest, CreateStrategy) {
  v1::CreateStrategyRequest request;
  request.set_strategy_id("sapporo-2020");
  v1::Strategy* s = request.mutable_strategy();
  s->set_name("strategies/ignored");
  s->set_display_name("第2期さっぽろ未来創生プラン");
  s->set_municipality_code("011002");
  s->set_first_fiscal_year(2020);
  s->set_last_fiscal_year(2024);
  s->set_etag("ignored");
  v1::Strategy created;
  ASSERT_TRUE(Call(kpi(), &Stub::CreateStrategy, request, &created).ok());
  EXPECT_EQ(created.name(), "strategies/sapporo-2020");
  EXPECT_EQ(created.display_name(), "第2期さっぽろ未来創生プラン");
  EXPECT_NE(created.etag(), "ignored");
  EXPECT_FALSE(created.etag().empty());

  EXPECT_EQ(Call(kpi(), &Stub::CreateStrategy, request, &created).error_code(),
            grpc::StatusCode::ALREADY_EXISTS);
}

TEST_F(KpiServiceTest, CreateStrategyBadInput) {
  v1::Strategy strategy;
  v1::CreateStrategyRequest request;
  // Missing strategy and strategy_id: both reported at once.
  grpc::Status status = Call(kpi(), &Stub::CreateStrategy, request, &strategy);
  EXPECT_INVALID_FIELD(status, "strategy_id");
  EXPECT_INVALID_FIELD(status, "strategy");

  request.set_strategy_id("Bad_ID");
  request.mutable_strategy()->set_display_name("x");
  request.mutable_strategy()->set_first_fiscal_year(2020);
  request.mutable_strategy()->set_last_fiscal_year(2024);
  status = Call(kpi(), &Stub::CreateStrategy, request, &strategy);
  EXPECT_INVALID_FIELD(status, "strategy_id");
  EXPECT_THAT(ViolationOf(status, "strategy_id"), HasSubstr("^[a-z]"));

  // Missing display name, out-of-range year.
  request.set_strategy_id("ok");
  request.mutable_strategy()->clear_display_name();
  request.mutable_strategy()->set_first_fiscal_year(1800);
  status = Call(kpi(), &Stub::CreateStrategy, request, &strategy);
  EXPECT_INVALID_FIELD(status, "strategy.display_name");
  EXPECT_INVALID_FIELD(status, "strategy.first_fiscal_year");
  EXPECT_THAT(ViolationOf(status, "strategy.first_fiscal_year"),
              HasSubstr("1900"));
}

TEST_F(KpiServiceTest, UpdateStrategyWithMask) {
  v1::UpdateStrategyRequest request;
  request.mutable_strategy()->set_name("strategies/s");
  request.mutable_strategy()->set_display_name("改訂版");
  request.mutable_strategy()->set_english_name("not in the mask");
  request.mutable_update_mask()->add_paths("display_name");
  v1::Strategy updated;
  ASSERT_TRUE(Call(kpi(), &Stub::UpdateStrategy, request, &updated).ok());
  EXPECT_EQ(updated.display_name(), "改訂版");
  EXPECT_EQ(updated.english_name(), "Test strategy");
  EXPECT_EQ(updated.municipality(), "テスト市");
  EXPECT_EQ(updated.first_fiscal_year(), 2020);

  // An empty mask replaces every writable field.
  request.clear_update_mask();
  request.mutable_strategy()->set_first_fiscal_year(2021);
  request.mutable_strategy()->set_last_fiscal_year(2025);
  ASSERT_TRUE(Call(kpi(), &Stub::UpdateStrategy, request, &updated).ok());
  EXPECT_EQ(updated.english_name(), "not in the mask");
  EXPECT_EQ(updated.municipality(), "");
  EXPECT_EQ(updated.first_fiscal_year(), 2021);
}

TEST_F(KpiServiceTest, UpdateStrategyBadMask) {
  v1::UpdateStrategyRequest request;
  request.mutable_strategy()->set_name("strategies/s");
  request.mutable_update_mask()->add_paths("display_name");
  request.mutable_update_mask()->add_paths("displayname");
  request.mutable_update_mask()->add_paths("etag");
  v1::Strategy updated;
  const grpc::Status status =
      Call(kpi(), &Stub::UpdateStrategy, request, &updated);
  EXPECT_INVALID_FIELD(status, "update_mask.paths[1]");
  EXPECT_INVALID_FIELD(status, "update_mask.paths[2]");
  EXPECT_THAT(ViolationOf(status, "update_mask.paths[1]"),
              HasSubstr("\"displayname\" is not a field of kpi.v1.Strategy; "
                        "writable fields: display_name, english_name, "
                        "municipality, municipality_code, first_fiscal_year, "
                        "last_fiscal_year, source"));
  EXPECT_THAT(ViolationOf(status, "update_mask.paths[2]"),
              HasSubstr("output only"));

  request.clear_update_mask();
  request.mutable_strategy()->set_name("strategies/s/goals/g1");
  EXPECT_INVALID_FIELD(Call(kpi(), &Stub::UpdateStrategy, request, &updated),
                       "strategy.name");
  request.clear_strategy();
  EXPECT_INVALID_FIELD(Call(kpi(), &Stub::UpdateStrategy, request, &updated),
                       "strategy");
  request.mutable_strategy()->set_name("strategies/nope");
  EXPECT_EQ(Call(kpi(), &Stub::UpdateStrategy, request, &updated).error_code(),
            grpc::StatusCode::NOT_FOUND);
}

TEST_F(KpiServiceTest, UpdateWithEtag) {
  v1::GetStrategyRequest get;
  get.set_name("strategies/s");
  v1::Strategy read;
  ASSERT_TRUE(Call(kpi(), &Stub::GetStrategy, get, &read).ok());

  v1::UpdateStrategyRequest request;
  *request.mutable_strategy() = read;
  request.mutable_strategy()->set_source("第一の書き手");
  request.mutable_update_mask()->add_paths("source");
  v1::Strategy first;
  ASSERT_TRUE(Call(kpi(), &Stub::UpdateStrategy, request, &first).ok());
  EXPECT_NE(first.etag(), read.etag());
  EXPECT_EQ(first.source(), "第一の書き手");

  // A second writer still holding the old etag loses.
  request.mutable_strategy()->set_source("第二の書き手");
  v1::Strategy second;
  const grpc::Status stale =
      Call(kpi(), &Stub::UpdateStrategy, request, &second);
  EXPECT_EQ(stale.error_code(), grpc::StatusCode::ABORTED);
  EXPECT_THAT(stale.error_message(), HasSubstr(read.etag()));
  // An etag of any length is quoted shortened (the trailer stays small).
  request.mutable_strategy()->set_etag(std::string(1 << 20, 'e'));
  const grpc::Status huge =
      Call(kpi(), &Stub::UpdateStrategy, request, &second);
  EXPECT_EQ(huge.error_code(), grpc::StatusCode::ABORTED);
  EXPECT_THAT(huge.error_message(), HasSubstr("(1048576 bytes)"));
  EXPECT_LT(huge.error_message().size(), 500u);
  request.mutable_strategy()->set_etag(read.etag());
  ASSERT_TRUE(Call(kpi(), &Stub::GetStrategy, get, &read).ok());
  EXPECT_EQ(read.source(), "第一の書き手");

  // With the current etag it succeeds.
  request.mutable_strategy()->set_etag(first.etag());
  ASSERT_TRUE(Call(kpi(), &Stub::UpdateStrategy, request, &second).ok());
  EXPECT_EQ(second.source(), "第二の書き手");
}

TEST_F(KpiServiceTest, ConcurrentUpdatesWithoutEtagLoseNothing) {
  // Two writers set their own field 20 times each with no etag: a write
  // that meets a concurrent change is merged again onto the new state
  // instead of failing, and neither writer's field is overwritten.
  auto writer = [this](const std::string& field, const std::string& prefix) {
    int failures = 0;
    for (int i = 0; i < 20; ++i) {
      v1::UpdateStrategyRequest request;
      request.mutable_strategy()->set_name("strategies/s");
      const std::string value = absl::StrCat(prefix, i);
      if (field == "source") {
        request.mutable_strategy()->set_source(value);
      } else {
        request.mutable_strategy()->set_english_name(value);
      }
      request.mutable_update_mask()->add_paths(field);
      v1::Strategy out;
      if (!Call(kpi(), &Stub::UpdateStrategy, request, &out).ok()) ++failures;
    }
    return failures;
  };
  auto a = std::async(std::launch::async, writer, "source", "a");
  auto b = std::async(std::launch::async, writer, "english_name", "b");
  EXPECT_EQ(a.get(), 0);
  EXPECT_EQ(b.get(), 0);
  v1::GetStrategyRequest get;
  get.set_name("strategies/s");
  v1::Strategy strategy;
  ASSERT_TRUE(Call(kpi(), &Stub::GetStrategy, get, &strategy).ok());
  EXPECT_EQ(strategy.source(), "a19");
  EXPECT_EQ(strategy.english_name(), "b19");
}

TEST_F(KpiServiceTest, DeleteStrategyWithChildren) {
  v1::DeleteStrategyRequest request;
  request.set_name("strategies/s");
  google::protobuf::Empty empty;
  const grpc::Status refused =
      Call(kpi(), &Stub::DeleteStrategy, request, &empty);
  EXPECT_EQ(refused.error_code(), grpc::StatusCode::FAILED_PRECONDITION);

  request.set_etag("stale");
  request.set_force(true);
  EXPECT_EQ(Call(kpi(), &Stub::DeleteStrategy, request, &empty).error_code(),
            grpc::StatusCode::ABORTED);
  request.clear_etag();
  ASSERT_TRUE(Call(kpi(), &Stub::DeleteStrategy, request, &empty).ok());

  v1::GetKpiRequest get;
  get.set_name("strategies/s/kpis/share");
  v1::Kpi kpi_out;
  EXPECT_EQ(Call(kpi(), &Stub::GetKpi, get, &kpi_out).error_code(),
            grpc::StatusCode::NOT_FOUND);
  request.set_name("strategies/S");
  EXPECT_INVALID_FIELD(Call(kpi(), &Stub::DeleteStrategy, request, &empty),
                       "name");
}

// ---- Goals ----

TEST_F(KpiServiceTest, GoalStandardMethods) {
  v1::CreateGoalRequest create;
  create.set_parent("strategies/s");
  create.set_goal_id("g2");
  create.mutable_goal()->set_number(2);
  create.mutable_goal()->set_display_name("ひとの流れをつくる");
  v1::Goal goal;
  ASSERT_TRUE(Call(kpi(), &Stub::CreateGoal, create, &goal).ok());
  EXPECT_EQ(goal.name(), "strategies/s/goals/g2");

  v1::GetGoalRequest get;
  get.set_name("strategies/s/goals/g2");
  ASSERT_TRUE(Call(kpi(), &Stub::GetGoal, get, &goal).ok());
  EXPECT_EQ(goal.number(), 2);
  EXPECT_EQ(goal.display_name(), "ひとの流れをつくる");

  v1::ListGoalsRequest list;
  list.set_parent("strategies/s");
  v1::ListGoalsResponse listed;
  ASSERT_TRUE(Call(kpi(), &Stub::ListGoals, list, &listed).ok());
  ASSERT_THAT(listed.goals(), SizeIs(2));
  EXPECT_EQ(listed.goals(0).name(), "strategies/s/goals/g1");
  EXPECT_EQ(listed.goals(1).name(), "strategies/s/goals/g2");

  v1::UpdateGoalRequest update;
  update.mutable_goal()->set_name("strategies/s/goals/g2");
  update.mutable_goal()->set_english_name("Bring people in");
  update.mutable_update_mask()->add_paths("english_name");
  ASSERT_TRUE(Call(kpi(), &Stub::UpdateGoal, update, &goal).ok());
  EXPECT_EQ(goal.english_name(), "Bring people in");
  EXPECT_EQ(goal.number(), 2);

  v1::DeleteGoalRequest del;
  del.set_name("strategies/s/goals/g2");
  del.set_etag(goal.etag());
  google::protobuf::Empty empty;
  ASSERT_TRUE(Call(kpi(), &Stub::DeleteGoal, del, &empty).ok());
  EXPECT_EQ(Call(kpi(), &Stub::GetGoal, get, &goal).error_code(),
            grpc::StatusCode::NOT_FOUND);
}

TEST_F(KpiServiceTest, GoalBadInput) {
  v1::Goal goal;
  v1::GetGoalRequest get;
  get.set_name("strategies/s/goal/g1");
  EXPECT_INVALID_FIELD(Call(kpi(), &Stub::GetGoal, get, &goal), "name");

  v1::ListGoalsRequest list;
  v1::ListGoalsResponse listed;
  EXPECT_INVALID_FIELD(Call(kpi(), &Stub::ListGoals, list, &listed), "parent");
  list.set_parent("strategies/s");
  list.set_page_token("bogus");
  EXPECT_EQ(Call(kpi(), &Stub::ListGoals, list, &listed).error_code(),
            grpc::StatusCode::INVALID_ARGUMENT);

  v1::CreateGoalRequest create;
  create.set_parent("strategies/s");
  create.set_goal_id("g3");
  create.mutable_goal()->set_number(0);
  const grpc::Status status = Call(kpi(), &Stub::CreateGoal, create, &goal);
  EXPECT_INVALID_FIELD(status, "goal.number");
  EXPECT_INVALID_FIELD(status, "goal.display_name");

  // A parent that does not exist is NOT_FOUND, as for Get and List.
  create.set_parent("strategies/nope");
  create.mutable_goal()->set_number(3);
  create.mutable_goal()->set_display_name("x");
  const grpc::Status missing = Call(kpi(), &Stub::CreateGoal, create, &goal);
  EXPECT_EQ(missing.error_code(), grpc::StatusCode::NOT_FOUND)
      << missing.error_message();
  EXPECT_THAT(missing.error_message(),
              HasSubstr("strategy strategies/nope does not exist"));
}

// ---- Measures ----

TEST_F(KpiServiceTest, MeasureStandardMethods) {
  v1::CreateMeasureRequest create;
  create.set_parent("strategies/s");
  create.set_measure_id("m1-1");
  create.mutable_measure()->set_goal("strategies/s/goals/g1");
  create.mutable_measure()->set_parent("strategies/s/measures/m1");
  create.mutable_measure()->set_code("ア①");
  create.mutable_measure()->set_display_name("創業支援");
  v1::Measure measure;
  ASSERT_TRUE(Call(kpi(), &Stub::CreateMeasure, create, &measure).ok());
  EXPECT_EQ(measure.name(), "strategies/s/measures/m1-1");

  v1::GetMeasureRequest get;
  get.set_name(measure.name());
  ASSERT_TRUE(Call(kpi(), &Stub::GetMeasure, get, &measure).ok());
  EXPECT_EQ(measure.code(), "ア①");
  EXPECT_EQ(measure.parent(), "strategies/s/measures/m1");

  v1::ListMeasuresRequest list;
  list.set_parent("strategies/s");
  list.set_filter("parent = \"strategies/s/measures/m1\"");
  v1::ListMeasuresResponse listed;
  ASSERT_TRUE(Call(kpi(), &Stub::ListMeasures, list, &listed).ok());
  ASSERT_THAT(listed.measures(), SizeIs(1));
  EXPECT_EQ(listed.measures(0).name(), "strategies/s/measures/m1-1");

  v1::UpdateMeasureRequest update;
  update.mutable_measure()->set_name(measure.name());
  update.mutable_measure()->set_display_name("創業・事業承継支援");
  update.mutable_update_mask()->add_paths("display_name");
  ASSERT_TRUE(Call(kpi(), &Stub::UpdateMeasure, update, &measure).ok());
  EXPECT_EQ(measure.display_name(), "創業・事業承継支援");
  EXPECT_EQ(measure.goal(), "strategies/s/goals/g1");

  v1::DeleteMeasureRequest del;
  del.set_name(measure.name());
  google::protobuf::Empty empty;
  ASSERT_TRUE(Call(kpi(), &Stub::DeleteMeasure, del, &empty).ok());
  EXPECT_EQ(Call(kpi(), &Stub::GetMeasure, get, &measure).error_code(),
            grpc::StatusCode::NOT_FOUND);
}

TEST_F(KpiServiceTest, MeasureBadInput) {
  v1::Measure measure;
  v1::GetMeasureRequest get;
  get.set_name("strategies/s/measures/M1");
  EXPECT_INVALID_FIELD(Call(kpi(), &Stub::GetMeasure, get, &measure), "name");

  v1::ListMeasuresRequest list;
  list.set_parent("strategies/s");
  list.set_filter("colour = \"red\"");
  v1::ListMeasuresResponse listed;
  EXPECT_EQ(Call(kpi(), &Stub::ListMeasures, list, &listed).error_code(),
            grpc::StatusCode::INVALID_ARGUMENT);
  list.clear_filter();
  list.set_page_token("bogus");
  EXPECT_EQ(Call(kpi(), &Stub::ListMeasures, list, &listed).error_code(),
            grpc::StatusCode::INVALID_ARGUMENT);

  v1::CreateMeasureRequest create;
  create.set_parent("strategies/s");
  create.set_measure_id("m2");
  create.mutable_measure()->set_display_name("x");
  EXPECT_INVALID_FIELD(Call(kpi(), &Stub::CreateMeasure, create, &measure),
                       "measure.goal");
  // A goal that does not exist is named too.
  create.mutable_measure()->set_goal("strategies/s/goals/g9");
  EXPECT_INVALID_FIELD(Call(kpi(), &Stub::CreateMeasure, create, &measure),
                       "measure.goal");

  // A measure with children cannot go without force.
  v1::DeleteMeasureRequest del;
  del.set_name("strategies/s/measures/m1");
  google::protobuf::Empty empty;
  EXPECT_EQ(Call(kpi(), &Stub::DeleteMeasure, del, &empty).error_code(),
            grpc::StatusCode::FAILED_PRECONDITION);
}

// ---- KPIs ----

TEST_F(KpiServiceTest, KpiStandardMethods) {
  v1::CreateKpiRequest create;
  create.set_parent("strategies/s");
  create.set_kpi_id("new-kpi");
  v1::Kpi* k = create.mutable_kpi();
  k->set_measure("strategies/s/measures/m1");
  k->set_display_name("移住者数");
  k->set_unit("人");
  k->set_kind(v1::KPI_KIND_PERIOD_SUM);
  k->set_direction(v1::DIRECTION_INCREASE);
  k->set_period_first_fiscal_year(2020);
  k->mutable_target()->set_value(705);
  k->mutable_target()->set_fiscal_year(2024);
  k->mutable_target()->set_label("705 (令和2-6年度累計数)");
  v1::Kpi created;
  ASSERT_TRUE(Call(kpi(), &Stub::CreateKpi, create, &created).ok());
  EXPECT_EQ(created.name(), "strategies/s/kpis/new-kpi");
  EXPECT_EQ(created.target().value(), 705);
  EXPECT_FALSE(created.has_baseline());

  v1::GetKpiRequest get;
  get.set_name("strategies/s/kpis/employment");
  v1::Kpi got;
  ASSERT_TRUE(Call(kpi(), &Stub::GetKpi, get, &got).ok());
  EXPECT_EQ(got.target().reference(), "references/rate");
  EXPECT_EQ(got.target().label(), "法定雇用率以上");

  v1::ListKpisRequest list;
  list.set_parent("strategies/s");
  list.set_filter("kind = KPI_KIND_RUNNING_TOTAL");
  v1::ListKpisResponse listed;
  ASSERT_TRUE(Call(kpi(), &Stub::ListKpis, list, &listed).ok());
  ASSERT_THAT(listed.kpis(), SizeIs(1));
  EXPECT_EQ(listed.kpis(0).name(), "strategies/s/kpis/total");
  // Short forms, units and names, as a city analyst types them.
  list.set_filter("measure = m1 AND unit = \"%\" AND display_name : \"雇用\"");
  ASSERT_TRUE(Call(kpi(), &Stub::ListKpis, list, &listed).ok());
  ASSERT_THAT(listed.kpis(), SizeIs(1));
  EXPECT_EQ(listed.kpis(0).name(), "strategies/s/kpis/employment");

  // A nested path replaces only that field of the target.
  v1::UpdateKpiRequest update;
  update.mutable_kpi()->set_name("strategies/s/kpis/share");
  update.mutable_kpi()->mutable_target()->set_value(55);
  update.mutable_update_mask()->add_paths("target.value");
  v1::Kpi updated;
  ASSERT_TRUE(Call(kpi(), &Stub::UpdateKpi, update, &updated).ok());
  EXPECT_EQ(updated.target().value(), 55);
  EXPECT_EQ(updated.target().fiscal_year(), 2024);
  EXPECT_EQ(updated.target().label(), "50");
  EXPECT_EQ(updated.display_name(), "満足度");

  v1::DeleteKpiRequest del;
  del.set_name("strategies/s/kpis/share");
  google::protobuf::Empty empty;
  EXPECT_EQ(Call(kpi(), &Stub::DeleteKpi, del, &empty).error_code(),
            grpc::StatusCode::FAILED_PRECONDITION);
  del.set_force(true);
  ASSERT_TRUE(Call(kpi(), &Stub::DeleteKpi, del, &empty).ok());
  v1::GetObservationRequest get_observation;
  get_observation.set_name("strategies/s/kpis/share/observations/fy2019");
  v1::Observation observation;
  EXPECT_EQ(Call(kpi(), &Stub::GetObservation, get_observation, &observation)
                .error_code(),
            grpc::StatusCode::NOT_FOUND);
}

TEST_F(KpiServiceTest, KpiBadInput) {
  v1::Kpi out;
  v1::GetKpiRequest get;
  get.set_name("strategies/s/kpi/share");
  EXPECT_INVALID_FIELD(Call(kpi(), &Stub::GetKpi, get, &out), "name");

  v1::ListKpisRequest list;
  list.set_parent("strategies/s");
  list.set_page_token("bogus");
  v1::ListKpisResponse listed;
  EXPECT_EQ(Call(kpi(), &Stub::ListKpis, list, &listed).error_code(),
            grpc::StatusCode::INVALID_ARGUMENT);

  v1::CreateKpiRequest create;
  create.set_parent("strategies/s");
  create.set_kpi_id("bad");
  v1::Kpi* k = create.mutable_kpi();
  k->set_measure("strategies/s/measures/m1");
  k->set_display_name("x");
  k->set_unit("%");
  k->mutable_target()->set_value(150);  // outside 0..100 for "%"
  k->mutable_target()->set_fiscal_year(2300);
  const grpc::Status status = Call(kpi(), &Stub::CreateKpi, create, &out);
  EXPECT_INVALID_FIELD(status, "kpi.kind");
  EXPECT_INVALID_FIELD(status, "kpi.direction");
  EXPECT_INVALID_FIELD(status, "kpi.target.fiscal_year");
  EXPECT_INVALID_FIELD(status, "kpi.target.value");

  // An enum number outside the enum is named, not cast.
  k->set_kind(static_cast<v1::KpiKind>(42));
  EXPECT_THAT(
      ViolationOf(Call(kpi(), &Stub::CreateKpi, create, &out), "kpi.kind"),
      HasSubstr("42 is not a KpiKind"));

  v1::UpdateKpiRequest update;
  update.mutable_kpi()->set_name("strategies/s/kpis/share");
  update.mutable_kpi()->mutable_target()->set_fiscal_year(1000);
  update.mutable_update_mask()->add_paths("target.fiscal_year");
  EXPECT_INVALID_FIELD(Call(kpi(), &Stub::UpdateKpi, update, &out),
                       "kpi.target.fiscal_year");
  update.mutable_update_mask()->set_paths(0, "target.nope");
  EXPECT_INVALID_FIELD(Call(kpi(), &Stub::UpdateKpi, update, &out),
                       "update_mask.paths[0]");
}

// ---- Observations ----

TEST_F(KpiServiceTest, ObservationStandardMethods) {
  v1::CreateObservationRequest create;
  create.set_parent("strategies/s/kpis/share");
  create.set_observation_id("fy2022");
  create.mutable_observation()->set_fiscal_year(2022);
  create.mutable_observation()->set_value(46.5);
  create.mutable_observation()->set_status(v1::OBSERVATION_STATUS_PROVISIONAL);
  create.mutable_observation()->set_source_note("令和4年度速報値");
  v1::Observation observation;
  ASSERT_TRUE(Call(kpi(), &Stub::CreateObservation, create, &observation).ok());
  EXPECT_EQ(observation.name(), "strategies/s/kpis/share/observations/fy2022");

  v1::ListObservationsRequest list;
  list.set_parent("strategies/s/kpis/share");
  list.set_filter("fiscal_year >= 2021");
  v1::ListObservationsResponse listed;
  ASSERT_TRUE(Call(kpi(), &Stub::ListObservations, list, &listed).ok());
  ASSERT_THAT(listed.observations(), SizeIs(2));
  EXPECT_EQ(listed.observations(0).fiscal_year(), 2021);
  EXPECT_EQ(listed.observations(1).value(), 46.5);

  // A correction keeps the earlier state with the reason.
  v1::UpdateObservationRequest update;
  update.mutable_observation()->set_name(observation.name());
  update.mutable_observation()->set_value(47);
  update.mutable_observation()->set_status(v1::OBSERVATION_STATUS_FINAL);
  update.mutable_update_mask()->add_paths("value");
  update.mutable_update_mask()->add_paths("status");
  update.set_reason("確定値に更新");
  ASSERT_TRUE(Call(kpi(), &Stub::UpdateObservation, update, &observation).ok());
  EXPECT_EQ(observation.value(), 47);
  ASSERT_THAT(observation.revisions(), SizeIs(1));
  EXPECT_EQ(observation.revisions(0).value(), 46.5);
  EXPECT_EQ(observation.revisions(0).status(),
            v1::OBSERVATION_STATUS_PROVISIONAL);
  EXPECT_EQ(observation.revisions(0).reason(), "確定値に更新");

  v1::GetObservationRequest get;
  get.set_name(observation.name());
  v1::Observation got;
  ASSERT_TRUE(Call(kpi(), &Stub::GetObservation, get, &got).ok());
  EXPECT_EQ(got.source_note(), "令和4年度速報値");
  EXPECT_EQ(got.revisions_size(), 1);

  v1::DeleteObservationRequest del;
  del.set_name(observation.name());
  google::protobuf::Empty empty;
  ASSERT_TRUE(Call(kpi(), &Stub::DeleteObservation, del, &empty).ok());
  EXPECT_EQ(Call(kpi(), &Stub::GetObservation, get, &got).error_code(),
            grpc::StatusCode::NOT_FOUND);
}

TEST_F(KpiServiceTest, ObservationBadInput) {
  v1::Observation out;
  v1::GetObservationRequest get;
  get.set_name("strategies/s/kpis/share/observations");
  EXPECT_INVALID_FIELD(Call(kpi(), &Stub::GetObservation, get, &out), "name");

  v1::ListObservationsRequest list;
  list.set_parent("strategies/s");  // a strategy, not a KPI
  v1::ListObservationsResponse listed;
  EXPECT_INVALID_FIELD(Call(kpi(), &Stub::ListObservations, list, &listed),
                       "parent");
  list.set_parent("strategies/s/kpis/share");
  list.set_page_token("bogus");
  EXPECT_EQ(Call(kpi(), &Stub::ListObservations, list, &listed).error_code(),
            grpc::StatusCode::INVALID_ARGUMENT);

  v1::CreateObservationRequest create;
  create.set_parent("strategies/s/kpis/share");
  create.set_observation_id("fy2500");
  create.mutable_observation()->set_fiscal_year(2500);
  create.mutable_observation()->set_value(10);
  EXPECT_INVALID_FIELD(Call(kpi(), &Stub::CreateObservation, create, &out),
                       "observation.fiscal_year");
  // The ID must name the year; the value must suit the KPI's "%" unit.
  create.set_observation_id("fy2022");
  create.mutable_observation()->set_fiscal_year(2023);
  create.mutable_observation()->set_value(120);
  const grpc::Status status =
      Call(kpi(), &Stub::CreateObservation, create, &out);
  EXPECT_INVALID_FIELD(status, "observation.name");
  EXPECT_INVALID_FIELD(status, "observation.value");
  create.clear_observation();
  EXPECT_INVALID_FIELD(Call(kpi(), &Stub::CreateObservation, create, &out),
                       "observation");
}

// ---- Evaluations ----

TEST_F(KpiServiceTest, EvaluationStandardMethods) {
  v1::CreateEvaluationRequest create;
  create.set_parent("strategies/s/measures/m1");
  create.set_evaluation_id("fy2022");
  create.mutable_evaluation()->set_fiscal_year(2022);
  create.mutable_evaluation()->set_rating(v1::RATING_CONTINUE_AND_EXPAND);
  create.mutable_evaluation()->set_outlook("拡充する");
  v1::Evaluation evaluation;
  ASSERT_TRUE(Call(kpi(), &Stub::CreateEvaluation, create, &evaluation).ok());

  v1::ListEvaluationsRequest list;
  list.set_parent("strategies/s/measures/m1");
  list.set_filter("rating = RATING_CONTINUE");
  v1::ListEvaluationsResponse listed;
  ASSERT_TRUE(Call(kpi(), &Stub::ListEvaluations, list, &listed).ok());
  ASSERT_THAT(listed.evaluations(), SizeIs(1));
  EXPECT_EQ(listed.evaluations(0).kpi_assessment(), "概ね順調");

  // AIP-159: every measure's evaluations; an unknown strategy is NOT_FOUND.
  list.set_parent("strategies/s/measures/-");
  list.set_filter("fiscal_year >= 2021");
  ASSERT_TRUE(Call(kpi(), &Stub::ListEvaluations, list, &listed).ok());
  ASSERT_THAT(listed.evaluations(), SizeIs(2));
  EXPECT_EQ(listed.evaluations(1).name(),
            "strategies/s/measures/m1/evaluations/fy2022");
  list.set_parent("strategies/nope/measures/-");
  EXPECT_EQ(Call(kpi(), &Stub::ListEvaluations, list, &listed).error_code(),
            grpc::StatusCode::NOT_FOUND);
  list.set_parent("strategies/s/-");
  EXPECT_INVALID_FIELD(Call(kpi(), &Stub::ListEvaluations, list, &listed),
                       "parent");

  v1::UpdateEvaluationRequest update;
  update.mutable_evaluation()->set_name(
      "strategies/s/measures/m1/evaluations/fy2022");
  update.mutable_evaluation()->set_rating(v1::RATING_REVISE);
  update.mutable_update_mask()->add_paths("rating");
  ASSERT_TRUE(Call(kpi(), &Stub::UpdateEvaluation, update, &evaluation).ok());
  EXPECT_EQ(evaluation.rating(), v1::RATING_REVISE);
  EXPECT_EQ(evaluation.outlook(), "拡充する");

  v1::GetEvaluationRequest get;
  get.set_name(evaluation.name());
  ASSERT_TRUE(Call(kpi(), &Stub::GetEvaluation, get, &evaluation).ok());
  EXPECT_EQ(evaluation.fiscal_year(), 2022);

  v1::DeleteEvaluationRequest del;
  del.set_name(evaluation.name());
  google::protobuf::Empty empty;
  ASSERT_TRUE(Call(kpi(), &Stub::DeleteEvaluation, del, &empty).ok());
  EXPECT_EQ(Call(kpi(), &Stub::GetEvaluation, get, &evaluation).error_code(),
            grpc::StatusCode::NOT_FOUND);
}

TEST_F(KpiServiceTest, EvaluationBadInput) {
  v1::Evaluation out;
  v1::GetEvaluationRequest get;
  get.set_name("strategies/s/kpis/share/evaluations/fy2021");
  EXPECT_INVALID_FIELD(Call(kpi(), &Stub::GetEvaluation, get, &out), "name");

  v1::ListEvaluationsRequest list;
  list.set_parent("strategies/s/measures/m1");
  list.set_page_token("bogus");
  v1::ListEvaluationsResponse listed;
  EXPECT_EQ(Call(kpi(), &Stub::ListEvaluations, list, &listed).error_code(),
            grpc::StatusCode::INVALID_ARGUMENT);

  v1::CreateEvaluationRequest create;
  create.set_parent("strategies/s/measures/m1");
  create.set_evaluation_id("fy1700");
  create.mutable_evaluation()->set_fiscal_year(1700);
  const grpc::Status status =
      Call(kpi(), &Stub::CreateEvaluation, create, &out);
  EXPECT_INVALID_FIELD(status, "evaluation.fiscal_year");
  EXPECT_INVALID_FIELD(status, "evaluation.rating");
}

// ---- References ----

TEST_F(KpiServiceTest, ReferenceStandardMethods) {
  v1::CreateReferenceRequest create;
  create.set_reference_id("rate-government");
  v1::Reference* r = create.mutable_reference();
  r->set_display_name("法定雇用率(国・地方公共団体)");
  r->set_unit("%");
  auto* v = r->add_values();
  v->set_effective_date("2021-03-01");
  v->set_value(2.6);
  v1::Reference reference;
  ASSERT_TRUE(Call(kpi(), &Stub::CreateReference, create, &reference).ok());
  EXPECT_EQ(reference.name(), "references/rate-government");

  v1::GetReferenceRequest get;
  get.set_name("references/rate");
  ASSERT_TRUE(Call(kpi(), &Stub::GetReference, get, &reference).ok());
  ASSERT_THAT(reference.values(), SizeIs(3));
  EXPECT_EQ(reference.values(2).effective_date(), "2024-04-01");
  EXPECT_EQ(reference.values(2).value(), 2.5);

  v1::ListReferencesRequest list;
  v1::ListReferencesResponse listed;
  ASSERT_TRUE(Call(kpi(), &Stub::ListReferences, list, &listed).ok());
  ASSERT_THAT(listed.references(), SizeIs(2));
  EXPECT_EQ(listed.references(0).name(), "references/rate");

  v1::UpdateReferenceRequest update;
  update.mutable_reference()->set_name("references/rate-government");
  // Values must be in date order.
  auto* added = update.mutable_reference()->add_values();
  added->set_effective_date("2024-04-01");
  added->set_value(2.8);
  *update.mutable_reference()->add_values() = *v;
  update.mutable_update_mask()->add_paths("values");
  EXPECT_INVALID_FIELD(Call(kpi(), &Stub::UpdateReference, update, &reference),
                       "reference.values[1].effective_date");
  update.mutable_reference()->mutable_values()->SwapElements(0, 1);
  const grpc::Status updated =
      Call(kpi(), &Stub::UpdateReference, update, &reference);
  ASSERT_TRUE(updated.ok()) << updated.error_message();
  ASSERT_THAT(reference.values(), SizeIs(2));
  EXPECT_EQ(reference.values(1).value(), 2.8);
  EXPECT_EQ(reference.display_name(), "法定雇用率(国・地方公共団体)");

  v1::DeleteReferenceRequest del;
  del.set_name("references/rate-government");
  google::protobuf::Empty empty;
  ASSERT_TRUE(Call(kpi(), &Stub::DeleteReference, del, &empty).ok());
  // A reference a KPI's target uses stays.
  del.set_name("references/rate");
  EXPECT_EQ(Call(kpi(), &Stub::DeleteReference, del, &empty).error_code(),
            grpc::StatusCode::FAILED_PRECONDITION);
}

TEST_F(KpiServiceTest, ReferenceBadInput) {
  v1::Reference out;
  v1::GetReferenceRequest get;
  get.set_name("references/");
  EXPECT_INVALID_FIELD(Call(kpi(), &Stub::GetReference, get, &out), "name");

  v1::ListReferencesRequest list;
  list.set_page_token("bogus");
  v1::ListReferencesResponse listed;
  EXPECT_EQ(Call(kpi(), &Stub::ListReferences, list, &listed).error_code(),
            grpc::StatusCode::INVALID_ARGUMENT);

  v1::CreateReferenceRequest create;
  create.set_reference_id("r2");
  create.mutable_reference()->set_display_name("x");
  create.mutable_reference()->add_values()->set_effective_date("2021-02-30");
  EXPECT_INVALID_FIELD(Call(kpi(), &Stub::CreateReference, create, &out),
                       "reference.values[0].effective_date");
}

// ---- Datasets ----

TEST_F(KpiServiceTest, ImportValidateOnlyCountsAndWritesNothing) {
  auto fresh = TestServer::Start();
  ASSERT_NE(fresh, nullptr);
  absl::StatusOr<v1::Dataset> dataset = DatasetFromJson(kTestDatasetJson);
  ASSERT_TRUE(dataset.ok());
  v1::ImportDatasetRequest request;
  *request.mutable_dataset() = *dataset;
  request.set_validate_only(true);
  v1::ImportDatasetResponse response;
  ASSERT_TRUE(
      Call(fresh->kpi(), &Stub::ImportDataset, request, &response).ok());
  EXPECT_EQ(response.created_count(), kTestDatasetSize);
  EXPECT_EQ(response.replaced_count(), 0);
  v1::ListStrategiesResponse listed;
  ASSERT_TRUE(Call(fresh->kpi(), &Stub::ListStrategies,
                   v1::ListStrategiesRequest(), &listed)
                  .ok());
  EXPECT_THAT(listed.strategies(), IsEmpty());

  // Into the store that holds it: every resource would be replaced.
  ASSERT_TRUE(Call(kpi(), &Stub::ImportDataset, request, &response).ok());
  EXPECT_EQ(response.created_count(), 0);
  EXPECT_EQ(response.replaced_count(), kTestDatasetSize);
}

TEST_F(KpiServiceTest, ImportIsAllOrNothing) {
  absl::StatusOr<v1::Dataset> dataset = DatasetFromJson(kTestDatasetJson);
  ASSERT_TRUE(dataset.ok());
  v1::ImportDatasetRequest request;
  *request.mutable_dataset() = *dataset;
  // Rename the strategy everywhere so that the import would create it all.
  std::string json = kTestDatasetJson;
  for (size_t at; (at = json.find("strategies/s/")) != std::string::npos;) {
    json.replace(at, 13, "strategies/u/");
  }
  json.replace(json.find("\"strategies/s\""), 14, "\"strategies/u\"");
  dataset = DatasetFromJson(json);
  ASSERT_TRUE(dataset.ok()) << dataset.status();
  *request.mutable_dataset() = *dataset;
  // Two bad resources among 22: both reported, nothing written.
  request.mutable_dataset()->mutable_observations(1)->set_name(
      "strategies/u/kpis/share/observations/fy1999");
  request.mutable_dataset()->mutable_kpis(0)->set_measure(
      "strategies/u/measures/missing");
  v1::ImportDatasetResponse response;
  const grpc::Status status =
      Call(kpi(), &Stub::ImportDataset, request, &response);
  EXPECT_INVALID_FIELD(status, "dataset.observations[1].name");
  EXPECT_INVALID_FIELD(status, "dataset.kpis[0].measure");
  request.set_validate_only(true);
  const grpc::Status validated =
      Call(kpi(), &Stub::ImportDataset, request, &response);
  EXPECT_EQ(ViolatedFields(validated), ViolatedFields(status));

  v1::GetStrategyRequest get;
  get.set_name("strategies/u");
  v1::Strategy strategy;
  EXPECT_EQ(Call(kpi(), &Stub::GetStrategy, get, &strategy).error_code(),
            grpc::StatusCode::NOT_FOUND);

  request.clear_dataset();
  EXPECT_INVALID_FIELD(Call(kpi(), &Stub::ImportDataset, request, &response),
                       "dataset");
}

TEST_F(KpiServiceTest, ImportsObservationsOfAStoredKpi) {
  // Only observations: their KPI (and its "%" domain) comes from the store.
  v1::ImportDatasetRequest request;
  v1::Observation* o = request.mutable_dataset()->add_observations();
  o->set_name("strategies/s/kpis/share/observations/fy2022");
  o->set_fiscal_year(2022);
  o->set_value(101);
  v1::ImportDatasetResponse response;
  EXPECT_INVALID_FIELD(Call(kpi(), &Stub::ImportDataset, request, &response),
                       "dataset.observations[0].value");
  o->set_value(48);
  ASSERT_TRUE(Call(kpi(), &Stub::ImportDataset, request, &response).ok());
  EXPECT_EQ(response.created_count(), 1);
}

TEST_F(KpiServiceTest, ImportHonoursEtagsWhenGiven) {
  v1::ExportDatasetResponse exported;
  ASSERT_TRUE(
      Call(kpi(), &Stub::ExportDataset, v1::ExportDatasetRequest(), &exported)
          .ok());
  // Someone changes a KPI after the export was read.
  v1::UpdateKpiRequest update;
  update.mutable_kpi()->set_name("strategies/s/kpis/share");
  update.mutable_kpi()->set_display_name("満足度(改)");
  update.mutable_update_mask()->add_paths("display_name");
  v1::Kpi changed;
  ASSERT_TRUE(Call(kpi(), &Stub::UpdateKpi, update, &changed).ok());
  v1::ExportDatasetResponse before;
  ASSERT_TRUE(
      Call(kpi(), &Stub::ExportDataset, v1::ExportDatasetRequest(), &before)
          .ok());

  // Importing the stale export: ABORTED, naming the resource; nothing
  // written, and validate_only says the same.
  v1::ImportDatasetRequest request;
  *request.mutable_dataset() = exported.dataset();
  request.mutable_dataset()->mutable_observations(0)->set_value(41);
  v1::ImportDatasetResponse response;
  for (bool validate_only : {true, false}) {
    SCOPED_TRACE(validate_only);
    request.set_validate_only(validate_only);
    const grpc::Status status =
        Call(kpi(), &Stub::ImportDataset, request, &response);
    EXPECT_EQ(status.error_code(), grpc::StatusCode::ABORTED);
    EXPECT_THAT(status.error_message(),
                HasSubstr("dataset.kpis[2] strategies/s/kpis/share: etag"));
    EXPECT_THAT(status.error_message(), HasSubstr("is stale"));
  }
  v1::ExportDatasetResponse after;
  ASSERT_TRUE(
      Call(kpi(), &Stub::ExportDataset, v1::ExportDatasetRequest(), &after)
          .ok());
  EXPECT_TRUE(google::protobuf::util::MessageDifferencer::Equals(
      after.dataset(), before.dataset()));

  // With the current etag it is accepted.
  request.set_validate_only(false);
  request.mutable_dataset()->mutable_kpis(2)->set_etag(changed.etag());
  ASSERT_TRUE(Call(kpi(), &Stub::ImportDataset, request, &response).ok());
  EXPECT_EQ(response.replaced_count(), kTestDatasetSize);
  v1::GetKpiRequest get;
  get.set_name("strategies/s/kpis/share");
  v1::Kpi share;
  ASSERT_TRUE(Call(kpi(), &Stub::GetKpi, get, &share).ok());
  EXPECT_EQ(share.display_name(), "満足度");

  // Without etags the stale export replaces whatever is stored.
  ASSERT_TRUE(Call(kpi(), &Stub::UpdateKpi, update, &changed).ok());
  *request.mutable_dataset() = exported.dataset();
  v1::Dataset& d = *request.mutable_dataset();
  for (auto& x : *d.mutable_references()) x.clear_etag();
  for (auto& x : *d.mutable_strategies()) x.clear_etag();
  for (auto& x : *d.mutable_goals()) x.clear_etag();
  for (auto& x : *d.mutable_measures()) x.clear_etag();
  for (auto& x : *d.mutable_kpis()) x.clear_etag();
  for (auto& x : *d.mutable_observations()) x.clear_etag();
  for (auto& x : *d.mutable_evaluations()) x.clear_etag();
  ASSERT_TRUE(Call(kpi(), &Stub::ImportDataset, request, &response).ok());
  ASSERT_TRUE(Call(kpi(), &Stub::GetKpi, get, &share).ok());
  EXPECT_EQ(share.display_name(), "満足度");
}

TEST_F(KpiServiceTest, ARunningTotalThatFallsIsRefusedOnEveryWritePath) {
  // strategies/s/kpis/total (起業数(累計)) holds 8 in FY2020, 12 in FY2021.
  v1::CreateObservationRequest create;
  create.set_parent("strategies/s/kpis/total");
  create.set_observation_id("fy2022");
  create.mutable_observation()->set_fiscal_year(2022);
  create.mutable_observation()->set_value(10);
  v1::Observation created;
  grpc::Status status = Call(kpi(), &Stub::CreateObservation, create, &created);
  EXPECT_INVALID_FIELD(status, "observation.value");
  EXPECT_THAT(ViolationOf(status, "observation.value"),
              HasSubstr("strategies/s/kpis/total (起業数(累計)) is a running "
                        "total"));
  EXPECT_THAT(ViolationOf(status, "observation.value"),
              HasSubstr("from 12 in FY2021 to 10 in FY2022"));

  v1::UpdateObservationRequest update;
  update.mutable_observation()->set_name(
      "strategies/s/kpis/total/observations/fy2021");
  update.mutable_observation()->set_fiscal_year(2021);
  update.mutable_observation()->set_value(7);
  update.mutable_update_mask()->add_paths("value");
  update.set_reason("訂正");
  v1::Observation updated;
  status = Call(kpi(), &Stub::UpdateObservation, update, &updated);
  EXPECT_INVALID_FIELD(status, "observation.value");
  EXPECT_THAT(ViolationOf(status, "observation.value"),
              HasSubstr("from 8 in FY2020 to 7 in FY2021"));

  v1::ImportDatasetRequest import;
  *import.mutable_dataset()->add_observations() = create.observation();
  import.mutable_dataset()->mutable_observations(0)->set_name(
      "strategies/s/kpis/total/observations/fy2022");
  v1::ImportDatasetResponse response;
  for (bool validate_only : {true, false}) {
    SCOPED_TRACE(validate_only);
    import.set_validate_only(validate_only);
    status = Call(kpi(), &Stub::ImportDataset, import, &response);
    EXPECT_INVALID_FIELD(status, "dataset.observations[0].value");
    EXPECT_THAT(ViolationOf(status, "dataset.observations[0].value"),
                HasSubstr("from 12 in FY2021 to 10 in FY2022"));
  }

  v1::ListObservationsRequest list;
  list.set_parent("strategies/s/kpis/total");
  v1::ListObservationsResponse listed;
  ASSERT_TRUE(Call(kpi(), &Stub::ListObservations, list, &listed).ok());
  ASSERT_EQ(listed.observations_size(), 2);
  EXPECT_EQ(listed.observations(1).value(), 12);

  // What does not fall is accepted.
  create.mutable_observation()->set_value(12);
  ASSERT_TRUE(Call(kpi(), &Stub::CreateObservation, create, &created).ok());
}

TEST_F(KpiServiceTest, ExportDataset) {
  v1::ExportDatasetRequest request;
  request.set_strategy("strategies/s");
  v1::ExportDatasetResponse response;
  ASSERT_TRUE(Call(kpi(), &Stub::ExportDataset, request, &response).ok());
  const v1::Dataset& d = response.dataset();
  EXPECT_EQ(d.strategies_size(), 1);
  EXPECT_EQ(d.kpis_size(), 5);
  EXPECT_EQ(d.observations_size(), 12);
  EXPECT_EQ(d.evaluations_size(), 1);
  ASSERT_EQ(d.references_size(), 1);
  EXPECT_EQ(d.references(0).name(), "references/rate");
  EXPECT_FALSE(d.kpis(0).etag().empty());

  // What is exported imports back unchanged (its etags are current; times
  // and revisions are ignored).
  v1::ImportDatasetRequest reimport;
  *reimport.mutable_dataset() = d;
  v1::ImportDatasetResponse counts;
  ASSERT_TRUE(Call(kpi(), &Stub::ImportDataset, reimport, &counts).ok());
  EXPECT_EQ(counts.replaced_count(), kTestDatasetSize);

  request.set_strategy("strategies/nope");
  EXPECT_EQ(Call(kpi(), &Stub::ExportDataset, request, &response).error_code(),
            grpc::StatusCode::NOT_FOUND);
  request.set_strategy("nope");
  EXPECT_INVALID_FIELD(Call(kpi(), &Stub::ExportDataset, request, &response),
                       "strategy");
}

TEST(BuiltinDatasetTest, ImportsIntoAnEmptyStoreAndExportsTheSame) {
  auto server = TestServer::Start();
  ASSERT_NE(server, nullptr);
  absl::StatusOr<v1::Dataset> dataset = DatasetFromJson(BuiltinDatasetJson());
  ASSERT_TRUE(dataset.ok()) << dataset.status();
  v1::ImportDatasetRequest request;
  *request.mutable_dataset() = *dataset;
  v1::ImportDatasetResponse response;
  const grpc::Status status =
      Call(server->kpi(), &Stub::ImportDataset, request, &response);
  ASSERT_TRUE(status.ok()) << status.error_message();
  const int total = dataset->references_size() + dataset->strategies_size() +
                    dataset->goals_size() + dataset->measures_size() +
                    dataset->kpis_size() + dataset->observations_size() +
                    dataset->evaluations_size();
  EXPECT_EQ(response.created_count(), total);
  EXPECT_GT(dataset->kpis_size(), 20);

  v1::ExportDatasetResponse exported;
  ASSERT_TRUE(Call(server->kpi(), &Stub::ExportDataset,
                   v1::ExportDatasetRequest(), &exported)
                  .ok());
  EXPECT_EQ(exported.dataset().kpis_size(), dataset->kpis_size());
  EXPECT_EQ(exported.dataset().observations_size(),
            dataset->observations_size());
}

}  // namespace
}  // namespace kpi::services::testing
