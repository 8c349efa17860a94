// The contract of lib/storage/repository.h, run against every backend: a
// real SQLite file and a real PostgreSQL server (a database per test).

#include <signal.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstring>
#include <functional>
#include <limits>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <tuple>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "lib/base/clock.h"
#include "lib/base/status_matchers.h"
#include "lib/domain/names.h"
#include "lib/storage/repository.h"
#include "lib/storage/schema.h"
#include "tests/storage/test_store.h"

namespace kpi::storage::testing {
namespace {

using ::kpi::testing::IsOk;
using ::kpi::testing::StatusIs;
using ::testing::AllOf;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::Not;
using ::testing::SizeIs;

#define ASSERT_OK_AND_ASSIGN(lhs, expr) \
  ASSERT_OK_AND_ASSIGN_IMPL_(KPI_TEST_CONCAT_(statusor_, __LINE__), lhs, expr)
#define KPI_TEST_CONCAT_INNER_(a, b) a##b
#define KPI_TEST_CONCAT_(a, b) KPI_TEST_CONCAT_INNER_(a, b)
#define ASSERT_OK_AND_ASSIGN_IMPL_(statusor, lhs, expr) \
  auto statusor = (expr);                               \
  ASSERT_THAT(statusor, IsOk());                        \
  lhs = std::move(statusor).value()

const absl::Time kStart = absl::FromUnixSeconds(1700000000);
constexpr char kS[] = "strategies/s";

class RepositoryContractTest : public ::testing::TestWithParam<Backend> {
 protected:
  RepositoryContractTest() : stores_(GetParam()), clock_(kStart) {}

  void SetUp() override {
    const std::string unavailable = stores_.Unavailable();
    if (!unavailable.empty()) {
      if (InCi()) {
        FAIL() << unavailable << " (CI=true: the PostgreSQL suite must run)";
      }
      GTEST_SKIP() << unavailable;
    }
    ASSERT_OK_AND_ASSIGN(spec_, stores_.NewSpec());
    ASSERT_OK_AND_ASSIGN(repo_, Open(spec_));
  }

  absl::StatusOr<std::unique_ptr<Repository>> Open(const std::string& spec) {
    RepositoryOptions options;
    options.clock = &clock_;
    options.pool_size = 4;
    return OpenRepository(spec, options);
  }

  // strategies/s with goals g1, g2; measures m1 (g1), m1-a (under m1),
  // m2 (g2); KPIs k1 (m1), k2 (m1-a, target references/r), k3 (m2); two
  // observations of k1; an evaluation of m1.
  void Seed() {
    ASSERT_THAT(repo_->CreateReference(MakeReference("r")), IsOk());
    ASSERT_THAT(repo_->CreateStrategy(MakeStrategy("s")), IsOk());
    ASSERT_THAT(repo_->CreateGoal(MakeGoal("s", "g1", 1)), IsOk());
    ASSERT_THAT(repo_->CreateGoal(MakeGoal("s", "g2", 2)), IsOk());
    ASSERT_THAT(repo_->CreateMeasure(MakeMeasure("s", "m1", "g1")), IsOk());
    ASSERT_THAT(repo_->CreateMeasure(MakeMeasure("s", "m1-a", "g1", "m1")),
                IsOk());
    ASSERT_THAT(repo_->CreateMeasure(MakeMeasure("s", "m2", "g2")), IsOk());
    ASSERT_THAT(repo_->CreateKpi(MakeKpi("s", "k1", "m1")), IsOk());
    domain::Kpi k2 = MakeKpi("s", "k2", "m1-a", domain::KpiKind::kRunningTotal);
    k2.target.value.reset();
    k2.target.reference = "references/r";
    k2.baseline.reset();
    ASSERT_THAT(repo_->CreateKpi(k2), IsOk());
    ASSERT_THAT(
        repo_->CreateKpi(MakeKpi("s", "k3", "m2", domain::KpiKind::kPeriodSum)),
        IsOk());
    ASSERT_THAT(repo_->CreateObservation(
                    MakeObservation("strategies/s/kpis/k1", 2020, 10.5)),
                IsOk());
    ASSERT_THAT(repo_->CreateObservation(
                    MakeObservation("strategies/s/kpis/k1", 2021, 11.25)),
                IsOk());
    ASSERT_THAT(
        repo_->CreateEvaluation(MakeEvaluation("strategies/s/measures/m1", 2021,
                                               domain::Rating::kContinue)),
        IsOk());
  }

  TestStores stores_;
  base::FakeClock clock_;
  std::string spec_;
  std::unique_ptr<Repository> repo_;
};

TEST_P(RepositoryContractTest, NewStoreIsEmptyUntilAStrategyExists) {
  EXPECT_THAT(repo_->IsEmpty(), IsOkAndHolds(true));
  ASSERT_OK_AND_ASSIGN(int64_t before, repo_->ChangeSequence());
  ASSERT_THAT(repo_->CreateReference(MakeReference("r")), IsOk());
  EXPECT_THAT(repo_->IsEmpty(), IsOkAndHolds(true));
  ASSERT_THAT(repo_->CreateStrategy(MakeStrategy("s")), IsOk());
  EXPECT_THAT(repo_->IsEmpty(), IsOkAndHolds(false));
  ASSERT_OK_AND_ASSIGN(int64_t after, repo_->ChangeSequence());
  EXPECT_EQ(after, before + 2);
}

TEST_P(RepositoryContractTest, StrategyCrud) {
  const domain::Strategy input = MakeStrategy("s");
  ASSERT_OK_AND_ASSIGN(domain::Strategy created, repo_->CreateStrategy(input));
  EXPECT_EQ(Content(created), Content(input));
  EXPECT_THAT(created.meta.etag, Not(IsEmpty()));
  EXPECT_EQ(created.meta.create_time, kStart);
  EXPECT_EQ(created.meta.update_time, kStart);

  ASSERT_OK_AND_ASSIGN(domain::Strategy got, repo_->GetStrategy(kS));
  EXPECT_EQ(Content(got), Content(input));
  EXPECT_EQ(got.meta.etag, created.meta.etag);

  EXPECT_THAT(repo_->CreateStrategy(input),
              StatusIs(absl::StatusCode::kAlreadyExists, HasSubstr(kS)));

  clock_.Advance(absl::Minutes(5));
  domain::Strategy changed = got;
  changed.display_name = "第3期";
  changed.last_fiscal_year = 2029;
  ASSERT_OK_AND_ASSIGN(domain::Strategy updated,
                       repo_->UpdateStrategy(changed, got.meta.etag));
  EXPECT_EQ(Content(updated), Content(changed));
  EXPECT_NE(updated.meta.etag, got.meta.etag);
  EXPECT_EQ(updated.meta.create_time, kStart);
  EXPECT_EQ(updated.meta.update_time, kStart + absl::Minutes(5));
  ASSERT_OK_AND_ASSIGN(got, repo_->GetStrategy(kS));
  EXPECT_EQ(got.display_name, "第3期");

  // An empty etag skips the check.
  changed.source = "revised";
  ASSERT_THAT(repo_->UpdateStrategy(changed, ""), IsOk());

  domain::Strategy missing = MakeStrategy("nope");
  EXPECT_THAT(repo_->UpdateStrategy(missing, ""),
              StatusIs(absl::StatusCode::kNotFound,
                       HasSubstr("strategies/nope does not exist")));
  ASSERT_OK_AND_ASSIGN(got, repo_->GetStrategy(kS));
  ASSERT_THAT(repo_->DeleteStrategy(kS, got.meta.etag, false), IsOk());
  EXPECT_THAT(repo_->GetStrategy(kS), StatusIs(absl::StatusCode::kNotFound));
  EXPECT_THAT(repo_->DeleteStrategy(kS, "", false),
              StatusIs(absl::StatusCode::kNotFound));
}

TEST_P(RepositoryContractTest, EveryTypeRoundTripsEveryField) {
  Seed();
  ASSERT_OK_AND_ASSIGN(domain::Reference r,
                       repo_->GetReference("references/r"));
  EXPECT_EQ(Content(r), Content(MakeReference("r")));
  ASSERT_OK_AND_ASSIGN(domain::Goal g, repo_->GetGoal("strategies/s/goals/g2"));
  EXPECT_EQ(Content(g), Content(MakeGoal("s", "g2", 2)));
  ASSERT_OK_AND_ASSIGN(domain::Measure m,
                       repo_->GetMeasure("strategies/s/measures/m1-a"));
  EXPECT_EQ(Content(m), Content(MakeMeasure("s", "m1-a", "g1", "m1")));
  ASSERT_OK_AND_ASSIGN(domain::Kpi k1, repo_->GetKpi("strategies/s/kpis/k1"));
  EXPECT_EQ(Content(k1), Content(MakeKpi("s", "k1", "m1")));
  ASSERT_OK_AND_ASSIGN(domain::Kpi k2, repo_->GetKpi("strategies/s/kpis/k2"));
  EXPECT_FALSE(k2.baseline.has_value());
  EXPECT_FALSE(k2.target.value.has_value());
  EXPECT_EQ(k2.target.reference, "references/r");
  ASSERT_OK_AND_ASSIGN(
      domain::Observation o,
      repo_->GetObservation("strategies/s/kpis/k1/observations/fy2021"));
  EXPECT_EQ(Content(o),
            Content(MakeObservation("strategies/s/kpis/k1", 2021, 11.25)));
  EXPECT_THAT(o.revisions, IsEmpty());
  ASSERT_OK_AND_ASSIGN(
      domain::Evaluation e,
      repo_->GetEvaluation("strategies/s/measures/m1/evaluations/fy2021"));
  EXPECT_EQ(Content(e), Content(MakeEvaluation("strategies/s/measures/m1", 2021,
                                               domain::Rating::kContinue)));

  // Values that text round trips would spoil.
  domain::Observation exact =
      MakeObservation("strategies/s/kpis/k1", 2022, 0.1 + 0.2);
  exact.first_fiscal_year = 2020;
  exact.aggregation = domain::Aggregation::kSum;
  exact.name = "strategies/s/kpis/k1/observations/fy2020-2022";
  exact.source_note = "令和2-4年度累計 ※\"引用\" 'quote' \\ 改行\nあり";
  ASSERT_THAT(repo_->CreateObservation(exact), IsOk());
  ASSERT_OK_AND_ASSIGN(o, repo_->GetObservation(exact.name));
  EXPECT_EQ(Content(o), Content(exact));
  EXPECT_EQ(o.value, 0.1 + 0.2);

  // An unset status is stored as final (resources.proto).
  domain::Observation unset = MakeObservation("strategies/s/kpis/k1", 2023, 1);
  unset.status = domain::ObservationStatus::kUnspecified;
  ASSERT_OK_AND_ASSIGN(o, repo_->CreateObservation(unset));
  EXPECT_EQ(o.status, domain::ObservationStatus::kFinal);

  // Reference values are replaced as a whole on update.
  r.values.pop_back();
  r.values[0].value = 2.0;
  ASSERT_OK_AND_ASSIGN(domain::Reference r2,
                       repo_->UpdateReference(r, r.meta.etag));
  EXPECT_EQ(Content(r2), Content(r));
}

// Update and Delete of every type, guarded by etags, leaves first.
TEST_P(RepositoryContractTest, EveryTypeUpdatesAndDeletes) {
  Seed();
  clock_.Advance(absl::Seconds(1));
  auto check = [&](const auto& stored, auto change, auto update, auto get,
                   auto remove) {
    SCOPED_TRACE(stored.name);
    auto changed = stored;
    change(changed);
    auto updated = update(changed, stored.meta.etag);
    ASSERT_THAT(updated, IsOk());
    EXPECT_EQ(Content(*updated), Content(changed));
    EXPECT_NE(updated->meta.etag, stored.meta.etag);
    EXPECT_EQ(updated->meta.create_time, kStart);
    EXPECT_EQ(updated->meta.update_time, kStart + absl::Seconds(1));
    EXPECT_THAT(update(changed, stored.meta.etag),
                StatusIs(absl::StatusCode::kAborted));
    auto got = get(stored.name);
    ASSERT_THAT(got, IsOk());
    EXPECT_EQ(Content(*got), Content(changed));
    EXPECT_THAT(remove(stored.name, stored.meta.etag),
                StatusIs(absl::StatusCode::kAborted));
    ASSERT_THAT(remove(stored.name, updated->meta.etag), IsOk());
    EXPECT_THAT(get(stored.name), StatusIs(absl::StatusCode::kNotFound));
  };
  Repository& r = *repo_;
  ASSERT_OK_AND_ASSIGN(
      domain::Evaluation e,
      r.GetEvaluation("strategies/s/measures/m1/evaluations/fy2021"));
  check(
      e, [](domain::Evaluation& x) { x.rating = domain::Rating::kRevise; },
      [&](const domain::Evaluation& x, std::string_view etag) {
        return r.UpdateEvaluation(x, etag);
      },
      [&](std::string_view n) { return r.GetEvaluation(n); },
      [&](std::string_view n, std::string_view etag) {
        return r.DeleteEvaluation(n, etag, false);
      });
  ASSERT_OK_AND_ASSIGN(
      domain::Observation o,
      r.GetObservation("strategies/s/kpis/k1/observations/fy2020"));
  check(
      o, [](domain::Observation& x) { x.reported_fiscal_year = 2024; },
      [&](const domain::Observation& x, std::string_view etag) {
        return r.UpdateObservation(x, etag, "");
      },
      [&](std::string_view n) { return r.GetObservation(n); },
      [&](std::string_view n, std::string_view etag) {
        return r.DeleteObservation(n, etag, false);
      });
  auto kpi_ops = std::make_tuple(
      [&](const domain::Kpi& x, std::string_view etag) {
        return r.UpdateKpi(x, etag);
      },
      [&](std::string_view n) { return r.GetKpi(n); },
      [&](std::string_view n, std::string_view etag) {
        return r.DeleteKpi(n, etag, false);
      });
  ASSERT_OK_AND_ASSIGN(domain::Kpi k2, r.GetKpi("strategies/s/kpis/k2"));
  check(
      k2,
      [](domain::Kpi& x) {
        x.target.reference.clear();
        x.target.value = 3;
        x.shock_fiscal_years.clear();
        x.measure = "strategies/s/measures/m2";
      },
      std::get<0>(kpi_ops), std::get<1>(kpi_ops), std::get<2>(kpi_ops));
  ASSERT_OK_AND_ASSIGN(domain::Reference ref, r.GetReference("references/r"));
  check(
      ref, [](domain::Reference& x) { x.values.clear(); },
      [&](const domain::Reference& x, std::string_view etag) {
        return r.UpdateReference(x, etag);
      },
      [&](std::string_view n) { return r.GetReference(n); },
      [&](std::string_view n, std::string_view etag) {
        return r.DeleteReference(n, etag, false);
      });
  ASSERT_OK_AND_ASSIGN(domain::Kpi k3, r.GetKpi("strategies/s/kpis/k3"));
  check(
      k3, [](domain::Kpi& x) { x.baseline.reset(); }, std::get<0>(kpi_ops),
      std::get<1>(kpi_ops), std::get<2>(kpi_ops));
  ASSERT_OK_AND_ASSIGN(domain::Measure m2,
                       r.GetMeasure("strategies/s/measures/m2"));
  check(
      m2,
      [](domain::Measure& x) {
        x.goal = "strategies/s/goals/g1";
        x.parent = "strategies/s/measures/m1";
      },
      [&](const domain::Measure& x, std::string_view etag) {
        return r.UpdateMeasure(x, etag);
      },
      [&](std::string_view n) { return r.GetMeasure(n); },
      [&](std::string_view n, std::string_view etag) {
        return r.DeleteMeasure(n, etag, false);
      });
  ASSERT_OK_AND_ASSIGN(domain::Goal g2, r.GetGoal("strategies/s/goals/g2"));
  check(
      g2, [](domain::Goal& x) { x.number = 20; },
      [&](const domain::Goal& x, std::string_view etag) {
        return r.UpdateGoal(x, etag);
      },
      [&](std::string_view n) { return r.GetGoal(n); },
      [&](std::string_view n, std::string_view etag) {
        return r.DeleteGoal(n, etag, false);
      });
  ASSERT_OK_AND_ASSIGN(domain::Strategy s, r.GetStrategy(kS));
  check(
      s, [](domain::Strategy& x) { x.municipality_code = "012050"; },
      [&](const domain::Strategy& x, std::string_view etag) {
        return r.UpdateStrategy(x, etag);
      },
      [&](std::string_view n) { return r.GetStrategy(n); },
      [&](std::string_view n, std::string_view etag) {
        return r.DeleteStrategy(n, etag, true);
      });
  ASSERT_OK_AND_ASSIGN(domain::Dataset left, r.ExportDataset(""));
  EXPECT_EQ(Content(left), Content(domain::Dataset()));
}

TEST_P(RepositoryContractTest, MalformedNamesAndValuesAreInvalidArgument) {
  Seed();
  EXPECT_THAT(repo_->GetKpi("strategies/s/goals/g1"),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("strategies/{strategy}/kpis/{kpi}")));
  EXPECT_THAT(repo_->GetStrategy("strategies/S"),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("name")));
  domain::Goal bad = MakeGoal("s", "g3", 3);
  bad.name = "strategies/s/goals/";
  EXPECT_THAT(
      repo_->CreateGoal(bad),
      StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("goal.name")));
  domain::Observation nan = MakeObservation("strategies/s/kpis/k1", 2022, 0);
  nan.value = std::numeric_limits<double>::quiet_NaN();
  EXPECT_THAT(repo_->CreateObservation(nan),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("observation.value")));
  EXPECT_THAT(
      repo_->ListGoals({"strategies/s/goals/g1", 0, "", ""}),
      StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("parent")));
  EXPECT_THAT(
      repo_->ListStrategies({"strategies/s", 0, "", ""}),
      StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("top-level")));
  EXPECT_THAT(repo_->AllObservations("strategies/s"),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("kpi")));
}

TEST_P(RepositoryContractTest, CreatingUnderAMissingParentIsNotFound) {
  EXPECT_THAT(repo_->CreateGoal(MakeGoal("s", "g1", 1)),
              StatusIs(absl::StatusCode::kNotFound,
                       AllOf(HasSubstr("parent"), HasSubstr("strategies/s"))));
  Seed();
  EXPECT_THAT(repo_->CreateObservation(
                  MakeObservation("strategies/s/kpis/missing", 2020, 1)),
              StatusIs(absl::StatusCode::kNotFound,
                       HasSubstr("kpi strategies/s/kpis/missing")));
  EXPECT_THAT(repo_->CreateEvaluation(MakeEvaluation(
                  "strategies/s/measures/zz", 2020, domain::Rating::kRevise)),
              StatusIs(absl::StatusCode::kNotFound,
                       HasSubstr("measure strategies/s/measures/zz")));
  EXPECT_THAT(repo_->ListObservations({"strategies/s/kpis/missing", 0, "", ""}),
              StatusIs(absl::StatusCode::kNotFound,
                       HasSubstr("strategies/s/kpis/missing")));
}

TEST_P(RepositoryContractTest, ReferencesToOtherResourcesMustExist) {
  Seed();
  EXPECT_THAT(repo_->CreateMeasure(MakeMeasure("s", "m3", "g9")),
              StatusIs(absl::StatusCode::kFailedPrecondition,
                       AllOf(HasSubstr("measure.goal"),
                             HasSubstr("strategies/s/goals/g9"))));
  EXPECT_THAT(repo_->CreateMeasure(MakeMeasure("s", "m3", "g1", "m9")),
              StatusIs(absl::StatusCode::kFailedPrecondition,
                       HasSubstr("measure.parent")));
  EXPECT_THAT(repo_->CreateKpi(MakeKpi("s", "k9", "m9")),
              StatusIs(absl::StatusCode::kFailedPrecondition,
                       HasSubstr("kpi.measure")));
  domain::Kpi k = MakeKpi("s", "k9", "m1");
  k.target.value.reset();
  k.target.reference = "references/nope";
  EXPECT_THAT(repo_->CreateKpi(k),
              StatusIs(absl::StatusCode::kFailedPrecondition,
                       HasSubstr("kpi.target.reference")));

  // A measure may not point into another strategy, nor under its own
  // descendant.
  ASSERT_THAT(repo_->CreateStrategy(MakeStrategy("t")), IsOk());
  ASSERT_THAT(repo_->CreateGoal(MakeGoal("t", "g1", 1)), IsOk());
  domain::Measure cross = MakeMeasure("s", "m3", "g1");
  cross.goal = "strategies/t/goals/g1";
  EXPECT_THAT(repo_->CreateMeasure(cross),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("another strategy")));
  ASSERT_OK_AND_ASSIGN(domain::Measure m1,
                       repo_->GetMeasure("strategies/s/measures/m1"));
  m1.parent = "strategies/s/measures/m1-a";
  EXPECT_THAT(
      repo_->UpdateMeasure(m1, ""),
      StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("cycle")));
  m1.parent = m1.name;
  EXPECT_THAT(repo_->UpdateMeasure(m1, ""),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("its own parent")));
  // Nothing changed.
  ASSERT_OK_AND_ASSIGN(domain::Measure again,
                       repo_->GetMeasure("strategies/s/measures/m1"));
  EXPECT_EQ(again.parent, "");
}

TEST_P(RepositoryContractTest, StaleEtagsAreAborted) {
  Seed();
  ASSERT_OK_AND_ASSIGN(domain::Kpi read, repo_->GetKpi("strategies/s/kpis/k1"));
  domain::Kpi first = read;
  first.ordinal = 7;
  ASSERT_OK_AND_ASSIGN(domain::Kpi written,
                       repo_->UpdateKpi(first, read.meta.etag));
  domain::Kpi second = read;
  second.ordinal = 8;
  EXPECT_THAT(
      repo_->UpdateKpi(second, read.meta.etag),
      StatusIs(absl::StatusCode::kAborted,
               AllOf(HasSubstr("strategies/s/kpis/k1"), HasSubstr("re-read"))));
  EXPECT_THAT(repo_->DeleteKpi(read.name, read.meta.etag, true),
              StatusIs(absl::StatusCode::kAborted, HasSubstr("re-read")));
  // A client's etag of any length is quoted shortened, and it is stale.
  const std::string huge_etag(1 << 20, 'e');
  const absl::Status huge = repo_->UpdateKpi(second, huge_etag).status();
  EXPECT_THAT(
      huge, StatusIs(absl::StatusCode::kAborted, HasSubstr("(1048576 bytes)")));
  EXPECT_LT(huge.message().size(), 500u);
  ASSERT_OK_AND_ASSIGN(domain::Kpi now, repo_->GetKpi("strategies/s/kpis/k1"));
  EXPECT_EQ(now.ordinal, 7);
  EXPECT_EQ(now.meta.etag, written.meta.etag);
  // A rejected write does not count as a change.
  ASSERT_OK_AND_ASSIGN(int64_t seq, repo_->ChangeSequence());
  EXPECT_THAT(repo_->UpdateKpi(second, read.meta.etag),
              StatusIs(absl::StatusCode::kAborted));
  EXPECT_THAT(repo_->ChangeSequence(), IsOkAndHolds(seq));
  ASSERT_THAT(repo_->DeleteKpi(now.name, now.meta.etag, true), IsOk());
  // A re-created resource never gets an etag it had before.
  ASSERT_OK_AND_ASSIGN(domain::Kpi recreated,
                       repo_->CreateKpi(MakeKpi("s", "k1", "m1")));
  EXPECT_NE(recreated.meta.etag, read.meta.etag);
  EXPECT_NE(recreated.meta.etag, written.meta.etag);
}

TEST_P(RepositoryContractTest, DeletingAParentWithChildrenNeedsForce) {
  Seed();
  EXPECT_THAT(repo_->DeleteStrategy(kS, "", false),
              StatusIs(absl::StatusCode::kFailedPrecondition,
                       AllOf(HasSubstr("2 goals, 3 measures and 3 KPIs"),
                             HasSubstr("force=true"))));
  EXPECT_THAT(repo_->DeleteGoal("strategies/s/goals/g1", "", false),
              StatusIs(absl::StatusCode::kFailedPrecondition,
                       HasSubstr("has 2 measures")));
  EXPECT_THAT(repo_->DeleteMeasure("strategies/s/measures/m1", "", false),
              StatusIs(absl::StatusCode::kFailedPrecondition,
                       HasSubstr("1 sub-measure, 1 KPI and 1 evaluation")));
  EXPECT_THAT(repo_->DeleteKpi("strategies/s/kpis/k1", "", false),
              StatusIs(absl::StatusCode::kFailedPrecondition,
                       HasSubstr("2 observations")));
  // A reference in use cannot go, even with force.
  EXPECT_THAT(repo_->DeleteReference("references/r", "", true),
              StatusIs(absl::StatusCode::kFailedPrecondition,
                       HasSubstr("target of 1 KPI")));

  // Deleting goal g1 takes m1, m1-a, their KPIs k1, k2, k1's observations
  // and m1's evaluation with it.
  ASSERT_THAT(repo_->DeleteGoal("strategies/s/goals/g1", "", true), IsOk());
  ASSERT_OK_AND_ASSIGN(domain::Dataset left, repo_->ExportDataset(""));
  EXPECT_THAT(Names(left.goals), ElementsAre("strategies/s/goals/g2"));
  EXPECT_THAT(Names(left.measures), ElementsAre("strategies/s/measures/m2"));
  EXPECT_THAT(Names(left.kpis), ElementsAre("strategies/s/kpis/k3"));
  EXPECT_THAT(left.observations, IsEmpty());
  EXPECT_THAT(left.evaluations, IsEmpty());
  ASSERT_THAT(repo_->DeleteReference("references/r", "", false), IsOk());

  ASSERT_THAT(repo_->DeleteStrategy(kS, "", true), IsOk());
  ASSERT_OK_AND_ASSIGN(left, repo_->ExportDataset(""));
  EXPECT_EQ(Content(left), Content(domain::Dataset()));
  EXPECT_THAT(repo_->IsEmpty(), IsOkAndHolds(true));
}

TEST_P(RepositoryContractTest, ObservationsKeepTheirHistory) {
  Seed();
  const std::string name = "strategies/s/kpis/k1/observations/fy2021";
  ASSERT_OK_AND_ASSIGN(domain::Observation o, repo_->GetObservation(name));
  const domain::Observation original = o;

  clock_.Advance(absl::Hours(1));
  o.value = 12.0;
  o.status = domain::ObservationStatus::kProvisional;
  ASSERT_OK_AND_ASSIGN(
      o, repo_->UpdateObservation(o, o.meta.etag, "速報値に更新"));
  ASSERT_THAT(o.revisions, SizeIs(1));
  EXPECT_EQ(o.revisions[0].value, 11.25);
  EXPECT_EQ(o.revisions[0].status, domain::ObservationStatus::kFinal);
  EXPECT_EQ(o.revisions[0].source_note, original.source_note);
  EXPECT_EQ(o.revisions[0].revise_time, kStart + absl::Hours(1));
  EXPECT_EQ(o.revisions[0].reason, "速報値に更新");

  // A change of a field outside value, status and note keeps no revision.
  clock_.Advance(absl::Hours(1));
  o.reported_fiscal_year = 2023;
  ASSERT_OK_AND_ASSIGN(o, repo_->UpdateObservation(o, o.meta.etag, "ignored"));
  EXPECT_THAT(o.revisions, SizeIs(1));

  // Provisional turns final: the provisional state is kept.
  clock_.Advance(absl::Hours(1));
  o.status = domain::ObservationStatus::kFinal;
  o.source_note = "確定値";
  ASSERT_OK_AND_ASSIGN(o, repo_->UpdateObservation(o, o.meta.etag, "確定"));
  ASSERT_THAT(o.revisions, SizeIs(2));
  EXPECT_EQ(o.revisions[1].value, 12.0);
  EXPECT_EQ(o.revisions[1].status, domain::ObservationStatus::kProvisional);
  EXPECT_EQ(o.revisions[1].revise_time, kStart + absl::Hours(3));
  EXPECT_EQ(o.revisions[1].reason, "確定");

  // Revisions are read back by Get, List, AllObservations and Export alike.
  ASSERT_OK_AND_ASSIGN(domain::Observation got, repo_->GetObservation(name));
  EXPECT_EQ(History(got), History(o));
  ASSERT_OK_AND_ASSIGN(
      auto page, repo_->ListObservations({"strategies/s/kpis/k1", 0, "", ""}));
  ASSERT_THAT(page.items, SizeIs(2));
  EXPECT_EQ(History(page.items[1]), History(o));
  ASSERT_OK_AND_ASSIGN(auto all,
                       repo_->AllObservations("strategies/s/kpis/k1"));
  EXPECT_EQ(History(all[1]), History(o));
  ASSERT_OK_AND_ASSIGN(domain::Dataset exported, repo_->ExportDataset(kS));
  EXPECT_EQ(History(exported.observations[1]), History(o));
  // Input revisions are output only.
  domain::Observation with_history =
      MakeObservation("strategies/s/kpis/k1", 2022, 1);
  with_history.revisions.push_back(
      {5, domain::ObservationStatus::kFinal, "x", kStart, "forged", "mallory"});
  ASSERT_OK_AND_ASSIGN(got, repo_->CreateObservation(with_history));
  EXPECT_THAT(got.revisions, IsEmpty());
}

TEST_P(RepositoryContractTest, ListsPageInNameOrder) {
  Seed();
  for (int i = 0; i < 25; ++i) {
    ASSERT_THAT(
        repo_->CreateKpi(MakeKpi("s", absl::StrCat("x-", 100 + i), "m2")),
        IsOk());
  }
  std::vector<std::string> seen;
  ListRequest request{kS, 7, "", ""};
  int pages = 0;
  do {
    ASSERT_OK_AND_ASSIGN(Page<domain::Kpi> page, repo_->ListKpis(request));
    EXPECT_LE(page.items.size(), 7u);
    for (const auto& k : page.items) seen.push_back(k.name);
    request.page_token = page.next_page_token;
    ++pages;
  } while (!request.page_token.empty());
  EXPECT_EQ(pages, 4);  // 28 KPIs
  ASSERT_THAT(seen, SizeIs(28));
  EXPECT_TRUE(std::is_sorted(seen.begin(), seen.end()));
  EXPECT_EQ(std::set<std::string>(seen.begin(), seen.end()).size(), 28u);
  // Bytewise order: "k1" < "k2" < "k3" < "x-100" even where a locale-aware
  // collation would differ; '-' sorts before letters.
  EXPECT_EQ(seen.front(), "strategies/s/kpis/k1");

  ASSERT_OK_AND_ASSIGN(auto all, repo_->ListKpis({kS, 0, "", ""}));
  EXPECT_THAT(all.items, SizeIs(28));
  EXPECT_EQ(all.next_page_token, "");
  ASSERT_OK_AND_ASSIGN(auto capped, repo_->ListKpis({kS, 5000, "", ""}));
  EXPECT_THAT(capped.items, SizeIs(28));
  EXPECT_THAT(
      repo_->ListKpis({kS, -1, "", ""}),
      StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("page_size")));

  // An exactly full last page has no next token.
  ASSERT_OK_AND_ASSIGN(auto exact, repo_->ListGoals({kS, 2, "", ""}));
  EXPECT_THAT(exact.items, SizeIs(2));
  EXPECT_EQ(exact.next_page_token, "");
  ASSERT_OK_AND_ASSIGN(auto strategies, repo_->ListStrategies({"", 1, "", ""}));
  EXPECT_THAT(Names(strategies.items), ElementsAre(kS));
  EXPECT_EQ(strategies.next_page_token, "");
  ASSERT_OK_AND_ASSIGN(auto references, repo_->ListReferences({"", 0, "", ""}));
  ASSERT_THAT(references.items, SizeIs(1));
  EXPECT_EQ(Content(references.items[0]), Content(MakeReference("r")));
}

TEST_P(RepositoryContractTest, PageTokensAreBoundToTheirCall) {
  Seed();
  ASSERT_OK_AND_ASSIGN(auto first, repo_->ListKpis({kS, 1, "", ""}));
  ASSERT_THAT(first.next_page_token, Not(IsEmpty()));
  EXPECT_THAT(
      repo_->ListKpis({kS, 1, first.next_page_token, "kind = KPI_KIND_LEVEL"}),
      StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("page_token")));
  ASSERT_THAT(repo_->CreateStrategy(MakeStrategy("t")), IsOk());
  EXPECT_THAT(
      repo_->ListKpis({"strategies/t", 1, first.next_page_token, ""}),
      StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("page_token")));
  EXPECT_THAT(
      repo_->ListMeasures({kS, 1, first.next_page_token, ""}),
      StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("page_token")));
  EXPECT_THAT(
      repo_->ListKpis({kS, 1, "garbage", ""}),
      StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("page_token")));
  // A token stays valid with another page size, and in a new process.
  ASSERT_OK_AND_ASSIGN(auto reopened, Open(spec_));
  ASSERT_OK_AND_ASSIGN(auto rest,
                       reopened->ListKpis({kS, 10, first.next_page_token, ""}));
  EXPECT_THAT(Names(rest.items),
              ElementsAre("strategies/s/kpis/k2", "strategies/s/kpis/k3"));
}

// A token carries a MAC keyed by the store: a client that edits the cursor
// in it (to skip or revisit items), cuts it short or lengthens it is
// refused, whatever else it keeps.
TEST_P(RepositoryContractTest, AForgedPageTokenIsRefused) {
  Seed();
  ASSERT_OK_AND_ASSIGN(auto first, repo_->ListKpis({kS, 1, "", ""}));
  ASSERT_THAT(Names(first.items), ElementsAre("strategies/s/kpis/k1"));
  const std::string& token = first.next_page_token;
  // The cursor is in the token (opaque, not secret): one byte moved on.
  for (const auto& [from, to] :
       std::vector<std::pair<std::string, std::string>>{
           {"kpis/k1", "kpis/k2"},    // one flipped byte: skips k2
           {"kpis/k1", "kpis/"},      // shorter
           {"kpis/k1", "kpis/k1~"}})  // longer
  {
    SCOPED_TRACE(to);
    const std::string forged = ReplaceInToken(token, from, to);
    ASSERT_THAT(forged, Not(IsEmpty()));
    absl::StatusOr<Page<domain::Kpi>> page =
        repo_->ListKpis({kS, 10, forged, ""});
    EXPECT_THAT(page, StatusIs(absl::StatusCode::kInvalidArgument,
                               HasSubstr("page_token")));
    // What is accepted, and no more of the token than a short prefix.
    EXPECT_THAT(page.status().message(), HasSubstr("accepted"));
    EXPECT_THAT(page.status().message(), Not(HasSubstr(forged)));
  }
  ASSERT_OK_AND_ASSIGN(auto rest, repo_->ListKpis({kS, 10, token, ""}));
  EXPECT_THAT(Names(rest.items),
              ElementsAre("strategies/s/kpis/k2", "strategies/s/kpis/k3"));
}

// Each store has its own key: a token of another store holding the very
// same resources is refused.
TEST_P(RepositoryContractTest, APageTokenOfAnotherStoreIsRefused) {
  Seed();
  ASSERT_OK_AND_ASSIGN(const std::string other_spec, stores_.NewSpec());
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<Repository> other, Open(other_spec));
  std::swap(repo_, other);
  Seed();
  std::swap(repo_, other);
  ASSERT_OK_AND_ASSIGN(auto foreign, other->ListKpis({kS, 1, "", ""}));
  ASSERT_THAT(foreign.next_page_token, Not(IsEmpty()));
  EXPECT_THAT(
      repo_->ListKpis({kS, 10, foreign.next_page_token, ""}),
      StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("page_token")));
  EXPECT_THAT(other->ListKpis({kS, 10, foreign.next_page_token, ""}), IsOk());
}

// Replicas (several processes on one database) share the store's key, also
// when they start together on a new store and create it at once.
TEST_P(RepositoryContractTest, ReplicasStartingTogetherAcceptEachOthersTokens) {
  ASSERT_OK_AND_ASSIGN(const std::string fresh, stores_.NewSpec());
  std::vector<absl::StatusOr<std::unique_ptr<Repository>>> replicas(4);
  std::vector<std::thread> threads;
  for (size_t i = 0; i < replicas.size(); ++i) {
    threads.emplace_back([&, i] { replicas[i] = Open(fresh); });
  }
  for (std::thread& t : threads) t.join();
  for (const auto& r : replicas) ASSERT_THAT(r, IsOk());
  Repository& writer = **replicas[0];
  ASSERT_THAT(writer.CreateStrategy(MakeStrategy("s")), IsOk());
  for (int i = 0; i < 5; ++i) {
    ASSERT_THAT(writer.CreateGoal(MakeGoal("s", absl::StrCat("g", i), i + 1)),
                IsOk());
  }
  for (size_t i = 0; i < replicas.size(); ++i) {
    ASSERT_OK_AND_ASSIGN(auto first,
                         (*replicas[i])->ListGoals({kS, 1, "", ""}));
    for (size_t j = 0; j < replicas.size(); ++j) {
      SCOPED_TRACE(absl::StrCat("token of replica ", i, " to replica ", j));
      ASSERT_OK_AND_ASSIGN(
          auto rest,
          (*replicas[j])->ListGoals({kS, 10, first.next_page_token, ""}));
      EXPECT_THAT(rest.items, SizeIs(4));
    }
  }
}

TEST_P(RepositoryContractTest, PagesStayConsistentUnderInsertsBetweenCalls) {
  Seed();
  const std::string kpi = "strategies/s/kpis/k3";
  for (int fy = 2002; fy <= 2020; fy += 2) {
    ASSERT_THAT(repo_->CreateObservation(MakeObservation(kpi, fy, fy)), IsOk());
  }
  ASSERT_OK_AND_ASSIGN(auto page1, repo_->ListObservations({kpi, 4, "", ""}));
  EXPECT_THAT(
      Names(page1.items),
      ElementsAre(kpi + "/observations/fy2002", kpi + "/observations/fy2004",
                  kpi + "/observations/fy2006", kpi + "/observations/fy2008"));
  // Inserted before the cursor (not returned), after it (returned), and a
  // deletion after it.
  ASSERT_THAT(repo_->CreateObservation(MakeObservation(kpi, 2001, 1)), IsOk());
  ASSERT_THAT(repo_->CreateObservation(MakeObservation(kpi, 2009, 1)), IsOk());
  ASSERT_THAT(repo_->CreateObservation(MakeObservation(kpi, 2021, 1)), IsOk());
  ASSERT_THAT(repo_->DeleteObservation(kpi + "/observations/fy2010", "", false),
              IsOk());
  ASSERT_OK_AND_ASSIGN(
      auto page2, repo_->ListObservations({kpi, 4, page1.next_page_token, ""}));
  EXPECT_THAT(
      Names(page2.items),
      ElementsAre(kpi + "/observations/fy2009", kpi + "/observations/fy2012",
                  kpi + "/observations/fy2014", kpi + "/observations/fy2016"));
  ASSERT_OK_AND_ASSIGN(
      auto page3, repo_->ListObservations({kpi, 4, page2.next_page_token, ""}));
  EXPECT_THAT(Names(page3.items), ElementsAre(kpi + "/observations/fy2018",
                                              kpi + "/observations/fy2020",
                                              kpi + "/observations/fy2021"));
  EXPECT_EQ(page3.next_page_token, "");
}

TEST_P(RepositoryContractTest, PagingWhileAnotherThreadInsertsMissesNothing) {
  Seed();
  const std::string kpi = "strategies/s/kpis/k3";
  std::set<std::string> before;
  for (int fy = 1900; fy < 1960; ++fy) {
    ASSERT_OK_AND_ASSIGN(
        auto o, repo_->CreateObservation(MakeObservation(kpi, fy, fy)));
    before.insert(o.name);
  }
  std::atomic<bool> stop{false};
  std::atomic<int> inserted{0};
  std::atomic<bool> writer_done{false};
  // Inserts land both before and after the names being paged through.
  std::thread writer([&] {
    for (int n = 0; n < 200 && !stop; ++n) {
      const int fy = n % 2 == 0 ? 1800 + n / 2 : 1960 + n / 2;
      if (repo_->CreateObservation(MakeObservation(kpi, fy, fy)).ok())
        ++inserted;
    }
    writer_done = true;
  });
  std::vector<std::string> seen;
  ListRequest request{kpi, 5, "", ""};
  do {
    const int inserted_before = inserted.load();
    auto page = repo_->ListObservations(request);
    if (!page.ok()) {
      ADD_FAILURE() << page.status();  // and join the writer below
      break;
    }
    for (const auto& o : page->items) seen.push_back(o.name);
    request.page_token = page->next_page_token;
    // Let at least one insert happen between two pages.
    for (int wait = 0;
         wait < 2000 && !writer_done && inserted.load() == inserted_before;
         ++wait) {
      absl::SleepFor(absl::Milliseconds(1));
    }
  } while (!request.page_token.empty());
  stop = true;
  writer.join();
  EXPECT_GT(inserted.load(), 0);
  EXPECT_TRUE(std::is_sorted(seen.begin(), seen.end()));
  EXPECT_EQ(std::set<std::string>(seen.begin(), seen.end()).size(),
            seen.size());
  for (const std::string& name : before) {
    EXPECT_EQ(std::count(seen.begin(), seen.end(), name), 1) << name;
  }
}

TEST_P(RepositoryContractTest, FiltersSelectByField) {
  Seed();
  auto measures = [&](const std::string& filter) {
    auto page = repo_->ListMeasures({kS, 0, "", filter});
    EXPECT_THAT(page, IsOk()) << filter;
    return page.ok() ? Names(page->items) : std::vector<std::string>{};
  };
  EXPECT_THAT(
      measures("goal = \"strategies/s/goals/g1\""),
      ElementsAre("strategies/s/measures/m1", "strategies/s/measures/m1-a"));
  EXPECT_THAT(measures("parent = \"strategies/s/measures/m1\""),
              ElementsAre("strategies/s/measures/m1-a"));
  EXPECT_THAT(
      measures("parent != \"strategies/s/measures/m1\""),
      ElementsAre("strategies/s/measures/m1", "strategies/s/measures/m2"));

  auto kpis = [&](const std::string& filter) {
    auto page = repo_->ListKpis({kS, 0, "", filter});
    EXPECT_THAT(page, IsOk()) << filter;
    return page.ok() ? Names(page->items) : std::vector<std::string>{};
  };
  EXPECT_THAT(kpis("goal = \"strategies/s/goals/g1\""),
              ElementsAre("strategies/s/kpis/k1", "strategies/s/kpis/k2"));
  EXPECT_THAT(kpis("measure = \"strategies/s/measures/m1-a\""),
              ElementsAre("strategies/s/kpis/k2"));
  EXPECT_THAT(kpis("kind = KPI_KIND_PERIOD_SUM"),
              ElementsAre("strategies/s/kpis/k3"));
  EXPECT_THAT(
      kpis("kind != KPI_KIND_PERIOD_SUM AND goal = \"strategies/s/goals/g1\" "
           "AND measure = \"strategies/s/measures/m1\""),
      ElementsAre("strategies/s/kpis/k1"));
  EXPECT_THAT(
      kpis("goal = \"strategies/s/goals/g2\" AND kind = KPI_KIND_LEVEL"),
      IsEmpty());

  const std::string k1 = "strategies/s/kpis/k1";
  ASSERT_OK_AND_ASSIGN(auto o,
                       repo_->GetObservation(k1 + "/observations/fy2021"));
  o.status = domain::ObservationStatus::kProvisional;
  ASSERT_THAT(repo_->UpdateObservation(o, "", "provisional"), IsOk());
  ASSERT_THAT(repo_->CreateObservation(MakeObservation(k1, 2019, 3)), IsOk());
  auto observations = [&](const std::string& filter) {
    auto page = repo_->ListObservations({k1, 0, "", filter});
    EXPECT_THAT(page, IsOk()) << filter;
    return page.ok() ? Names(page->items) : std::vector<std::string>{};
  };
  EXPECT_THAT(observations("status = OBSERVATION_STATUS_PROVISIONAL"),
              ElementsAre(k1 + "/observations/fy2021"));
  EXPECT_THAT(observations("fiscal_year >= 2020 AND fiscal_year <= 2020"),
              ElementsAre(k1 + "/observations/fy2020"));
  EXPECT_THAT(
      observations("fiscal_year > 2019"),
      ElementsAre(k1 + "/observations/fy2020", k1 + "/observations/fy2021"));
  EXPECT_THAT(
      observations("fiscal_year < 2021 AND status = OBSERVATION_STATUS_FINAL"),
      ElementsAre(k1 + "/observations/fy2019", k1 + "/observations/fy2020"));
  EXPECT_THAT(
      observations("fiscal_year != 2020"),
      ElementsAre(k1 + "/observations/fy2019", k1 + "/observations/fy2021"));

  const std::string m1 = "strategies/s/measures/m1";
  ASSERT_THAT(repo_->CreateEvaluation(
                  MakeEvaluation(m1, 2022, domain::Rating::kRevise)),
              IsOk());
  ASSERT_OK_AND_ASSIGN(auto revise, repo_->ListEvaluations(
                                        {m1, 0, "", "rating = RATING_REVISE"}));
  EXPECT_THAT(Names(revise.items), ElementsAre(m1 + "/evaluations/fy2022"));
  ASSERT_OK_AND_ASSIGN(
      auto fy2021, repo_->ListEvaluations({m1, 0, "", "fiscal_year = 2021"}));
  EXPECT_THAT(Names(fy2021.items), ElementsAre(m1 + "/evaluations/fy2021"));

  // Filtered pages carry the filter through their tokens.
  ASSERT_OK_AND_ASSIGN(
      auto p1, repo_->ListKpis({kS, 1, "", "kind != KPI_KIND_PERIOD_SUM"}));
  ASSERT_OK_AND_ASSIGN(
      auto p2, repo_->ListKpis(
                   {kS, 1, p1.next_page_token, "kind != KPI_KIND_PERIOD_SUM"}));
  EXPECT_THAT(Names(p2.items), ElementsAre("strategies/s/kpis/k2"));
  EXPECT_EQ(p2.next_page_token, "");
}

TEST_P(RepositoryContractTest, KpisFilterOnUnitNameStatusAndShortForms) {
  Seed();
  domain::Kpi k3 = *repo_->GetKpi("strategies/s/kpis/k3");
  k3.unit = "%";
  k3.display_name = "空港乗降客数（国内線）";
  ASSERT_THAT(repo_->UpdateKpi(k3, ""), IsOk());
  auto kpis = [&](const std::string& filter) {
    auto page = repo_->ListKpis({kS, 0, "", filter});
    EXPECT_THAT(page, IsOk()) << filter;
    return page.ok() ? Names(page->items) : std::vector<std::string>{};
  };
  EXPECT_THAT(kpis("unit = \"%\""), ElementsAre("strategies/s/kpis/k3"));
  EXPECT_THAT(kpis("unit != '%'"),
              ElementsAre("strategies/s/kpis/k1", "strategies/s/kpis/k2"));
  // Substrings by character, in both backends alike: case counts, and a
  // pattern character of LIKE is only itself.
  EXPECT_THAT(kpis("display_name : \"空港\""),
              ElementsAre("strategies/s/kpis/k3"));
  EXPECT_THAT(kpis("display_name : \"路線バス\" AND display_name : k2"),
              ElementsAre("strategies/s/kpis/k2"));
  EXPECT_THAT(kpis("display_name : \"%\""), IsEmpty());
  EXPECT_THAT(kpis("display_name : \"_\""), IsEmpty());
  EXPECT_THAT(kpis("display_name : K2"), IsEmpty());
  EXPECT_THAT(kpis("display_name = \"空港乗降客数（国内線）\""),
              ElementsAre("strategies/s/kpis/k3"));
  // Short forms resolve under the parent strategy.
  EXPECT_THAT(kpis("goal = g1"),
              ElementsAre("strategies/s/kpis/k1", "strategies/s/kpis/k2"));
  EXPECT_THAT(kpis("measure = m1-a"), ElementsAre("strategies/s/kpis/k2"));
  EXPECT_THAT(kpis("goal != g1"), ElementsAre("strategies/s/kpis/k3"));

  // status: that of the latest observation. k1 has FY2020 and FY2021 final;
  // its FY2021 becomes provisional, then an earlier provisional year does
  // not count once a later final one exists.
  EXPECT_THAT(kpis("status = OBSERVATION_STATUS_FINAL"),
              ElementsAre("strategies/s/kpis/k1"));
  const std::string k1 = "strategies/s/kpis/k1";
  ASSERT_OK_AND_ASSIGN(auto o,
                       repo_->GetObservation(k1 + "/observations/fy2021"));
  o.status = domain::ObservationStatus::kProvisional;
  ASSERT_THAT(repo_->UpdateObservation(o, "", "provisional"), IsOk());
  domain::Observation k2_2019 =
      MakeObservation("strategies/s/kpis/k2", 2019, 1);
  k2_2019.status = domain::ObservationStatus::kProvisional;
  ASSERT_THAT(repo_->CreateObservation(k2_2019), IsOk());
  ASSERT_THAT(repo_->CreateObservation(
                  MakeObservation("strategies/s/kpis/k2", 2020, 2)),
              IsOk());
  EXPECT_THAT(kpis("status = OBSERVATION_STATUS_PROVISIONAL"), ElementsAre(k1));
  EXPECT_THAT(kpis("status = OBSERVATION_STATUS_FINAL"),
              ElementsAre("strategies/s/kpis/k2"));
  // k3 has no observation: it has no status to match or to differ.
  EXPECT_THAT(kpis("status != OBSERVATION_STATUS_FINAL"), ElementsAre(k1));

  // rating: that of the latest evaluation of the KPI's measure.
  EXPECT_THAT(kpis("rating = RATING_CONTINUE"), ElementsAre(k1));
  ASSERT_THAT(repo_->CreateEvaluation(MakeEvaluation(
                  "strategies/s/measures/m1", 2022, domain::Rating::kRevise)),
              IsOk());
  ASSERT_THAT(repo_->CreateEvaluation(MakeEvaluation(
                  "strategies/s/measures/m2", 2020, domain::Rating::kContinue)),
              IsOk());
  EXPECT_THAT(kpis("rating = RATING_REVISE"), ElementsAre(k1));
  EXPECT_THAT(kpis("rating = RATING_CONTINUE AND unit = \"%\""),
              ElementsAre("strategies/s/kpis/k3"));
}

TEST_P(RepositoryContractTest, WildcardParentsListAcrossParents) {
  Seed();
  const std::string m1 = "strategies/s/measures/m1";
  const std::string m2 = "strategies/s/measures/m2";
  ASSERT_THAT(repo_->CreateEvaluation(
                  MakeEvaluation(m2, 2020, domain::Rating::kRevise)),
              IsOk());
  ASSERT_THAT(repo_->CreateEvaluation(
                  MakeEvaluation(m1, 2022, domain::Rating::kRevise)),
              IsOk());
  ASSERT_THAT(repo_->CreateStrategy(MakeStrategy("t")), IsOk());
  ASSERT_THAT(repo_->CreateGoal(MakeGoal("t", "g1", 1)), IsOk());
  ASSERT_THAT(repo_->CreateMeasure(MakeMeasure("t", "m1", "g1")), IsOk());
  ASSERT_THAT(repo_->CreateEvaluation(MakeEvaluation(
                  "strategies/t/measures/m1", 2021, domain::Rating::kRevise)),
              IsOk());
  ASSERT_OK_AND_ASSIGN(
      auto all, repo_->ListEvaluations({"strategies/s/measures/-", 0, "", ""}));
  EXPECT_THAT(Names(all.items), ElementsAre(m1 + "/evaluations/fy2021",
                                            m1 + "/evaluations/fy2022",
                                            m2 + "/evaluations/fy2020"));
  ASSERT_OK_AND_ASSIGN(auto revise,
                       repo_->ListEvaluations({"strategies/s/measures/-", 0, "",
                                               "rating = RATING_REVISE"}));
  EXPECT_THAT(Names(revise.items), ElementsAre(m1 + "/evaluations/fy2022",
                                               m2 + "/evaluations/fy2020"));
  ASSERT_OK_AND_ASSIGN(auto everywhere,
                       repo_->ListEvaluations({"strategies/-/measures/-", 0, "",
                                               "fiscal_year <= 2021"}));
  EXPECT_THAT(
      Names(everywhere.items),
      ElementsAre(m1 + "/evaluations/fy2021", m2 + "/evaluations/fy2020",
                  "strategies/t/measures/m1/evaluations/fy2021"));
  // Pages follow name order across parents.
  ASSERT_OK_AND_ASSIGN(
      auto p1, repo_->ListEvaluations({"strategies/s/measures/-", 2, "", ""}));
  EXPECT_THAT(Names(p1.items), ElementsAre(m1 + "/evaluations/fy2021",
                                           m1 + "/evaluations/fy2022"));
  ASSERT_OK_AND_ASSIGN(
      auto p2, repo_->ListEvaluations(
                   {"strategies/s/measures/-", 2, p1.next_page_token, ""}));
  EXPECT_THAT(Names(p2.items), ElementsAre(m2 + "/evaluations/fy2020"));
  EXPECT_EQ(p2.next_page_token, "");
  // Observations of every KPI, KPIs of every strategy.
  ASSERT_OK_AND_ASSIGN(
      auto observations,
      repo_->ListObservations({"strategies/s/kpis/-", 0, "", ""}));
  EXPECT_EQ(observations.items.size(), 2u);
  ASSERT_OK_AND_ASSIGN(auto kpis, repo_->ListKpis({"strategies/-", 0, "",
                                                   "kind = "
                                                   "KPI_KIND_LEVEL"}));
  EXPECT_THAT(Names(kpis.items), ElementsAre("strategies/s/kpis/k1"));
  // The strategy before the wildcard must exist; a short form needs one.
  EXPECT_THAT(repo_->ListEvaluations({"strategies/x/measures/-", 0, "", ""}),
              StatusIs(absl::StatusCode::kNotFound,
                       HasSubstr("strategy strategies/x does not exist")));
  EXPECT_THAT(repo_->ListKpis({"strategies/-", 0, "", "goal = g1"}),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("names no strategy")));
  EXPECT_THAT(repo_->ListEvaluations({"strategies/s/-/m1", 0, "", ""}),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("strategies/{strategy}/measures/{measure}")));
}

TEST_P(RepositoryContractTest, BadFiltersNameTheFieldAndWhatIsAccepted) {
  Seed();
  EXPECT_THAT(repo_->ListKpis({kS, 0, "", "ordinal = 1"}),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       AllOf(HasSubstr("ordinal"),
                             HasSubstr("goal, measure, kind, unit"))));
  EXPECT_THAT(repo_->ListObservations(
                  {"strategies/s/kpis/k1", 0, "", "status = FINAL"}),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("OBSERVATION_STATUS_FINAL")));
  EXPECT_THAT(repo_->ListGoals({kS, 0, "", "number = 1"}),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("cannot be filtered")));
}

domain::Dataset SmallDataset() {
  domain::Dataset d;
  d.references = {MakeReference("r")};
  d.strategies = {MakeStrategy("s")};
  d.goals = {MakeGoal("s", "g1", 1)};
  // A sub-measure listed before its parent: the importer does not depend
  // on order.
  d.measures = {MakeMeasure("s", "m1-a", "g1", "m1"),
                MakeMeasure("s", "m1", "g1")};
  domain::Kpi k2 = MakeKpi("s", "k2", "m1-a");
  k2.target.value.reset();
  k2.target.reference = "references/r";
  d.kpis = {MakeKpi("s", "k1", "m1"), k2};
  d.observations = {MakeObservation("strategies/s/kpis/k1", 2020, 1),
                    MakeObservation("strategies/s/kpis/k1", 2021, 2),
                    MakeObservation("strategies/s/kpis/k2", 2021, 3)};
  d.evaluations = {MakeEvaluation("strategies/s/measures/m1", 2021,
                                  domain::Rating::kContinue)};
  return d;
}

TEST_P(RepositoryContractTest, ImportCreatesThenReplacesAndKeepsHistory) {
  ASSERT_OK_AND_ASSIGN(ImportResult first,
                       repo_->ImportDataset(SmallDataset()));
  EXPECT_EQ(first.created_count, 11);
  EXPECT_EQ(first.replaced_count, 0);
  ASSERT_OK_AND_ASSIGN(domain::Dataset stored, repo_->ExportDataset(""));
  domain::Dataset expected = SmallDataset();
  std::swap(expected.measures[0], expected.measures[1]);  // name order
  EXPECT_EQ(Content(stored), Content(expected));

  clock_.Advance(absl::Hours(2));
  domain::Dataset again = SmallDataset();
  again.observations[1].value = 2.5;
  again.kpis[0].display_name = "改訂";
  ASSERT_OK_AND_ASSIGN(ImportResult second, repo_->ImportDataset(again));
  EXPECT_EQ(second.created_count, 0);
  EXPECT_EQ(second.replaced_count, 11);
  ASSERT_OK_AND_ASSIGN(
      domain::Observation o,
      repo_->GetObservation("strategies/s/kpis/k1/observations/fy2021"));
  EXPECT_EQ(o.value, 2.5);
  ASSERT_THAT(o.revisions, SizeIs(1));
  EXPECT_EQ(o.revisions[0].value, 2);
  EXPECT_EQ(o.revisions[0].reason, "import");
  EXPECT_EQ(o.revisions[0].revise_time, kStart + absl::Hours(2));
  EXPECT_EQ(o.meta.create_time, kStart);
  EXPECT_EQ(o.meta.update_time, kStart + absl::Hours(2));
  ASSERT_OK_AND_ASSIGN(
      domain::Observation unchanged,
      repo_->GetObservation("strategies/s/kpis/k1/observations/fy2020"));
  EXPECT_THAT(unchanged.revisions, IsEmpty());
  ASSERT_OK_AND_ASSIGN(domain::Kpi k1, repo_->GetKpi("strategies/s/kpis/k1"));
  EXPECT_EQ(k1.display_name, "改訂");
  // Replacing in place keeps the children.
  ASSERT_OK_AND_ASSIGN(auto observations,
                       repo_->AllObservations("strategies/s/kpis/k1"));
  EXPECT_THAT(observations, SizeIs(2));
}

TEST_P(RepositoryContractTest, ImportIntoEmptyStoreHappensOnceAmongReplicas) {
  // Replicas seeding one empty store together: exactly one imports.
  constexpr int kReplicas = 4;
  std::vector<std::unique_ptr<Repository>> replicas;
  for (int i = 0; i < kReplicas; ++i) {
    ASSERT_OK_AND_ASSIGN(std::unique_ptr<Repository> r, Open(spec_));
    replicas.push_back(std::move(r));
  }
  std::vector<absl::StatusOr<std::optional<ImportResult>>> results(
      kReplicas, absl::UnknownError("not run"));
  std::vector<std::thread> threads;
  for (int i = 0; i < kReplicas; ++i) {
    threads.emplace_back([&, i] {
      results[i] = replicas[i]->ImportDatasetIntoEmptyStore(SmallDataset());
    });
  }
  for (std::thread& t : threads) t.join();
  int imported = 0;
  for (const auto& r : results) {
    ASSERT_THAT(r, IsOk());
    if (r->has_value()) {
      ++imported;
      EXPECT_EQ((*r)->created_count, 11);
      EXPECT_EQ((*r)->replaced_count, 0);
    }
  }
  EXPECT_EQ(imported, 1);
  // What the winner wrote was not replaced: every etag is the first one.
  ASSERT_OK_AND_ASSIGN(
      domain::Observation o,
      repo_->GetObservation("strategies/s/kpis/k1/observations/fy2021"));
  EXPECT_THAT(o.revisions, IsEmpty());
  ASSERT_OK_AND_ASSIGN(std::optional<ImportResult> again,
                       repo_->ImportDatasetIntoEmptyStore(SmallDataset()));
  EXPECT_FALSE(again.has_value());
}

TEST_P(RepositoryContractTest, ImportIsAllOrNothing) {
  Seed();
  ASSERT_OK_AND_ASSIGN(domain::Dataset before, repo_->ExportDataset(""));
  ASSERT_OK_AND_ASSIGN(int64_t seq, repo_->ChangeSequence());

  struct Case {
    std::string what;
    std::function<void(domain::Dataset&)> spoil;
    absl::StatusCode code;
    std::string message;
  };
  std::vector<Case> cases = {
      {"missing measure in the middle",
       [](domain::Dataset& d) {
         d.kpis.insert(d.kpis.begin() + 1, MakeKpi("s", "k9", "nope"));
       },
       absl::StatusCode::kFailedPrecondition, "kpis[1].measure"},
      {"missing parent",
       [](domain::Dataset& d) {
         d.observations.push_back(
             MakeObservation("strategies/s/kpis/missing", 2020, 1));
       },
       absl::StatusCode::kFailedPrecondition, "observations[3].name"},
      {"malformed name",
       [](domain::Dataset& d) { d.goals[0].name = "strategies/s/goal/g1"; },
       absl::StatusCode::kInvalidArgument, "goals[0].name"},
      {"duplicate",
       [](domain::Dataset& d) { d.observations.push_back(d.observations[0]); },
       absl::StatusCode::kInvalidArgument, "observations[3].name"},
      {"cycle of measures",
       [](domain::Dataset& d) {
         d.measures[1].parent = "strategies/s/measures/m1-a";
       },
       absl::StatusCode::kFailedPrecondition, "cycle"},
      {"missing reference",
       [](domain::Dataset& d) {
         d.kpis[1].target.reference = "references/other";
       },
       absl::StatusCode::kFailedPrecondition, "kpis[1].target.reference"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.what);
    domain::Dataset d = SmallDataset();
    // Changes to existing rows and new rows come before the bad item.
    d.strategies[0].display_name = "changed";
    d.observations[1].value = 99;
    d.goals.push_back(MakeGoal("s", "g7", 7));
    c.spoil(d);
    EXPECT_THAT(repo_->ImportDataset(d),
                StatusIs(c.code, HasSubstr(c.message)));
    ASSERT_OK_AND_ASSIGN(domain::Dataset after, repo_->ExportDataset(""));
    EXPECT_EQ(Content(after), Content(before));
    ASSERT_OK_AND_ASSIGN(
        auto o,
        repo_->GetObservation("strategies/s/kpis/k1/observations/fy2021"));
    EXPECT_THAT(o.revisions, IsEmpty());
    EXPECT_THAT(repo_->ChangeSequence(), IsOkAndHolds(seq));
  }
}

TEST_P(RepositoryContractTest, ImportHonoursEtagsWhenGiven) {
  ASSERT_THAT(repo_->ImportDataset(SmallDataset()), IsOk());
  ASSERT_OK_AND_ASSIGN(domain::Kpi read, repo_->GetKpi("strategies/s/kpis/k1"));
  ASSERT_OK_AND_ASSIGN(
      domain::Observation read_o,
      repo_->GetObservation("strategies/s/kpis/k1/observations/fy2021"));
  // Another writer changes the KPI after it was read.
  domain::Kpi other = read;
  other.ordinal = 5;
  ASSERT_OK_AND_ASSIGN(domain::Kpi current, repo_->UpdateKpi(other, ""));
  ASSERT_OK_AND_ASSIGN(domain::Dataset before, repo_->ExportDataset(""));
  ASSERT_OK_AND_ASSIGN(int64_t seq, repo_->ChangeSequence());

  // A stale etag refuses the whole import, naming the item; nothing of it
  // is written, not even the items before it or without an etag.
  domain::Dataset d;
  d.goals = {MakeGoal("s", "g7", 7)};
  domain::Observation o = read_o;
  o.value = 99;
  d.observations = {o};
  domain::Kpi k = read;
  k.display_name = "改訂";
  d.kpis = {MakeKpi("s", "k9", "m1"), k};
  EXPECT_THAT(
      repo_->ImportDataset(d),
      StatusIs(absl::StatusCode::kAborted,
               AllOf(HasSubstr("kpis[1]"), HasSubstr("strategies/s/kpis/k1"),
                     HasSubstr("is stale"),
                     HasSubstr(absl::StrCat("\"", read.meta.etag)))));
  ASSERT_OK_AND_ASSIGN(domain::Dataset after, repo_->ExportDataset(""));
  EXPECT_EQ(Content(after), Content(before));
  EXPECT_THAT(repo_->ChangeSequence(), IsOkAndHolds(seq));
  EXPECT_THAT(repo_->GetKpi("strategies/s/kpis/k9"),
              StatusIs(absl::StatusCode::kNotFound));

  // The current etag is accepted.
  d.kpis[1].meta.etag = current.meta.etag;
  ASSERT_OK_AND_ASSIGN(ImportResult result, repo_->ImportDataset(d));
  EXPECT_EQ(result.created_count, 2);
  EXPECT_EQ(result.replaced_count, 2);
  ASSERT_OK_AND_ASSIGN(domain::Kpi k1, repo_->GetKpi("strategies/s/kpis/k1"));
  EXPECT_EQ(k1.display_name, "改訂");
  EXPECT_NE(k1.meta.etag, current.meta.etag);
  ASSERT_OK_AND_ASSIGN(
      domain::Observation o1,
      repo_->GetObservation("strategies/s/kpis/k1/observations/fy2021"));
  EXPECT_EQ(o1.value, 99);

  // Without an etag an import replaces whatever is stored, as before.
  k.meta.etag.clear();
  k.display_name = "再改訂";
  d = domain::Dataset();
  d.kpis = {k};
  ASSERT_THAT(repo_->ImportDataset(d), IsOk());
  ASSERT_OK_AND_ASSIGN(k1, repo_->GetKpi("strategies/s/kpis/k1"));
  EXPECT_EQ(k1.display_name, "再改訂");

  // An etag of a resource the store does not hold (an export of another
  // store, or of a resource deleted since) creates it: there is nothing it
  // could be stale against.
  domain::Kpi fresh = MakeKpi("s", "k8", "m1");
  fresh.meta.etag = read.meta.etag;
  d.kpis = {fresh};
  ASSERT_OK_AND_ASSIGN(result, repo_->ImportDataset(d));
  EXPECT_EQ(result.created_count, 1);

  // Every resource type honours it (an evaluation here).
  ASSERT_OK_AND_ASSIGN(
      domain::Evaluation e,
      repo_->GetEvaluation("strategies/s/measures/m1/evaluations/fy2021"));
  d = domain::Dataset();
  d.evaluations = {e};
  d.evaluations[0].meta.etag = absl::StrCat(e.meta.etag, "0");
  EXPECT_THAT(repo_->ImportDataset(d),
              StatusIs(absl::StatusCode::kAborted,
                       AllOf(HasSubstr("evaluations[0]"),
                             HasSubstr("measures/m1/evaluations/fy2021"))));
}

TEST_P(RepositoryContractTest, ValidateImportChecksAllAndWritesNothing) {
  ASSERT_THAT(repo_->ImportDataset(SmallDataset()), IsOk());
  ASSERT_OK_AND_ASSIGN(domain::Dataset before, repo_->ExportDataset(""));
  ASSERT_OK_AND_ASSIGN(int64_t seq, repo_->ChangeSequence());
  domain::Dataset d = SmallDataset();
  d.goals.push_back(MakeGoal("s", "g7", 7));
  d.observations[1].value = 42;
  ASSERT_OK_AND_ASSIGN(ImportResult result, repo_->ValidateImport(d));
  EXPECT_EQ(result.created_count, 1);
  EXPECT_EQ(result.replaced_count, 11);
  // What an import would refuse, it refuses the same way.
  d.kpis[0].meta.etag = absl::StrCat(before.kpis[0].meta.etag, "0");
  EXPECT_THAT(repo_->ValidateImport(d),
              StatusIs(absl::StatusCode::kAborted, HasSubstr("kpis[0]")));
  d.kpis[0].meta.etag.clear();
  d.observations.push_back(
      MakeObservation("strategies/s/kpis/missing", 2020, 1));
  EXPECT_THAT(repo_->ValidateImport(d),
              StatusIs(absl::StatusCode::kFailedPrecondition,
                       HasSubstr("observations[3].name")));
  ASSERT_OK_AND_ASSIGN(domain::Dataset after, repo_->ExportDataset(""));
  EXPECT_EQ(Content(after), Content(before));
  EXPECT_THAT(repo_->ChangeSequence(), IsOkAndHolds(seq));
  ASSERT_OK_AND_ASSIGN(Page<Change> changes, repo_->ListChanges({}));
  for (const Change& c : changes.items) EXPECT_LE(c.sequence, seq);
}

TEST_P(RepositoryContractTest, ARunningTotalThatFallsIsRefused) {
  Seed();  // k2 is a running total without observations; k1 a level
  const std::string k2 = "strategies/s/kpis/k2";
  ASSERT_THAT(repo_->CreateObservation(MakeObservation(k2, 2020, 10)), IsOk());
  ASSERT_OK_AND_ASSIGN(domain::Observation fy2021,
                       repo_->CreateObservation(MakeObservation(k2, 2021, 12)));
  ASSERT_OK_AND_ASSIGN(int64_t seq, repo_->ChangeSequence());
  auto refused = [&](const std::string& field, const std::string& from,
                     const std::string& to) {
    return StatusIs(
        absl::StatusCode::kInvalidArgument,
        AllOf(HasSubstr(field), HasSubstr(k2), HasSubstr("running total"),
              HasSubstr(absl::StrCat("from ", from, " to ", to))));
  };

  // Create: below the year before, or above the year after.
  EXPECT_THAT(repo_->CreateObservation(MakeObservation(k2, 2022, 11)),
              refused("observation.value", "12 in FY2021", "11 in FY2022"));
  EXPECT_THAT(repo_->CreateObservation(MakeObservation(k2, 2019, 11)),
              refused("observation.value", "11 in FY2019", "10 in FY2020"));
  EXPECT_THAT(repo_->GetObservation(absl::StrCat(k2, "/observations/fy2022")),
              StatusIs(absl::StatusCode::kNotFound));
  // Update: a correction downwards below the year before is refused.
  domain::Observation lower = fy2021;
  lower.value = 9;
  EXPECT_THAT(repo_->UpdateObservation(lower, "", "訂正"),
              refused("observation.value", "10 in FY2020", "9 in FY2021"));
  EXPECT_THAT(repo_->ChangeSequence(), IsOkAndHolds(seq));
  // Equal is no fall; a level may fall.
  ASSERT_THAT(repo_->CreateObservation(MakeObservation(k2, 2022, 12)), IsOk());
  ASSERT_THAT(repo_->CreateObservation(
                  MakeObservation("strategies/s/kpis/k1", 2022, 1)),
              IsOk());

  // Import: the state after the whole import counts, so two years can be
  // corrected together; a fall refuses it all.
  ASSERT_OK_AND_ASSIGN(seq, repo_->ChangeSequence());
  domain::Dataset d;
  d.goals = {MakeGoal("s", "g7", 7)};
  d.observations = {MakeObservation(k2, 2023, 20),
                    MakeObservation(k2, 2024, 19)};
  EXPECT_THAT(repo_->ImportDataset(d),
              refused("observations[1].value", "20 in FY2023", "19 in FY2024"));
  d.observations[1].value = 25;
  d.observations.push_back(MakeObservation(k2, 2021, 13));  // > 12 in FY2022
  EXPECT_THAT(repo_->ImportDataset(d),
              refused("observations[2].value", "13 in FY2021", "12 in FY2022"));
  EXPECT_THAT(repo_->ChangeSequence(), IsOkAndHolds(seq));
  EXPECT_THAT(repo_->GetGoal("strategies/s/goals/g7"),
              StatusIs(absl::StatusCode::kNotFound));
  d.observations.push_back(MakeObservation(k2, 2022, 14));
  ASSERT_THAT(repo_->ImportDataset(d), IsOk());
  ASSERT_OK_AND_ASSIGN(auto series, repo_->AllObservations(k2));
  ASSERT_THAT(series, SizeIs(5));
  EXPECT_EQ(series[2].value, 14);

  // A KPI whose stored values fall cannot become a running total.
  ASSERT_OK_AND_ASSIGN(domain::Kpi k1, repo_->GetKpi("strategies/s/kpis/k1"));
  k1.kind = domain::KpiKind::kRunningTotal;
  EXPECT_THAT(
      repo_->UpdateKpi(k1, ""),
      StatusIs(absl::StatusCode::kInvalidArgument,
               AllOf(HasSubstr("kpi.kind"),
                     HasSubstr("from 11.25 in FY2021 to 1 in FY2022"))));
  d = domain::Dataset();
  d.kpis = {k1};
  EXPECT_THAT(
      repo_->ImportDataset(d),
      StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("kpis[0].kind")));
  ASSERT_OK_AND_ASSIGN(k1, repo_->GetKpi("strategies/s/kpis/k1"));
  EXPECT_EQ(k1.kind, domain::KpiKind::kLevel);
}

TEST_P(RepositoryContractTest, ExportThenImportRoundTrips) {
  Seed();
  ASSERT_OK_AND_ASSIGN(
      domain::Observation o,
      repo_->GetObservation("strategies/s/kpis/k1/observations/fy2020"));
  o.value = 10.75;
  ASSERT_THAT(repo_->UpdateObservation(o, "", "訂正"), IsOk());
  ASSERT_OK_AND_ASSIGN(domain::Dataset exported, repo_->ExportDataset(""));

  ASSERT_OK_AND_ASSIGN(std::string other_spec, stores_.NewSpec());
  ASSERT_OK_AND_ASSIGN(auto other, Open(other_spec));
  ASSERT_OK_AND_ASSIGN(ImportResult result, other->ImportDataset(exported));
  EXPECT_EQ(result.created_count, 13);
  ASSERT_OK_AND_ASSIGN(domain::Dataset reimported, other->ExportDataset(""));
  EXPECT_EQ(Content(reimported), Content(exported));
  // History is output only and is not carried by an import (kpi_service).
  EXPECT_THAT(reimported.observations[0].revisions, IsEmpty());
  // Importing an export into its own store replaces everything with the
  // same content.
  ASSERT_OK_AND_ASSIGN(result, repo_->ImportDataset(exported));
  EXPECT_EQ(result.replaced_count, 13);
  ASSERT_OK_AND_ASSIGN(domain::Dataset same, repo_->ExportDataset(""));
  EXPECT_EQ(Content(same), Content(exported));
}

TEST_P(RepositoryContractTest, ExportsOneStrategyWithTheReferencesItUses) {
  Seed();
  ASSERT_THAT(repo_->CreateReference(MakeReference("unused")), IsOk());
  ASSERT_THAT(repo_->CreateStrategy(MakeStrategy("t")), IsOk());
  ASSERT_THAT(repo_->CreateGoal(MakeGoal("t", "g1", 1)), IsOk());
  ASSERT_OK_AND_ASSIGN(domain::Dataset s, repo_->ExportDataset(kS));
  EXPECT_THAT(Names(s.references), ElementsAre("references/r"));
  EXPECT_THAT(Names(s.strategies), ElementsAre(kS));
  EXPECT_THAT(s.goals, SizeIs(2));
  EXPECT_THAT(s.measures, SizeIs(3));
  EXPECT_THAT(s.kpis, SizeIs(3));
  EXPECT_THAT(s.observations, SizeIs(2));
  EXPECT_THAT(s.evaluations, SizeIs(1));
  ASSERT_OK_AND_ASSIGN(domain::Dataset t, repo_->ExportDataset("strategies/t"));
  EXPECT_THAT(t.references, IsEmpty());
  EXPECT_THAT(Names(t.goals), ElementsAre("strategies/t/goals/g1"));
  EXPECT_THAT(repo_->ExportDataset("strategies/u"),
              StatusIs(absl::StatusCode::kNotFound, HasSubstr("strategies/u")));
  ASSERT_OK_AND_ASSIGN(domain::Dataset all, repo_->ExportDataset(""));
  EXPECT_THAT(Names(all.references),
              ElementsAre("references/r", "references/unused"));
  EXPECT_THAT(all.strategies, SizeIs(2));
}

TEST_P(RepositoryContractTest, AllObservationsAreInFiscalYearOrder) {
  Seed();
  const std::string k3 = "strategies/s/kpis/k3";
  domain::Observation range = MakeObservation(k3, 2018, 5);
  range.first_fiscal_year = 2016;
  range.aggregation = domain::Aggregation::kMean;
  range.name = k3 + "/observations/fy2016-2018";
  for (const domain::Observation& o :
       {MakeObservation(k3, 2021, 1), range, MakeObservation(k3, 2019, 1),
        MakeObservation(k3, 2020, 1)}) {
    ASSERT_THAT(repo_->CreateObservation(o), IsOk());
  }
  ASSERT_OK_AND_ASSIGN(auto all, repo_->AllObservations(k3));
  EXPECT_THAT(
      Names(all),
      ElementsAre(k3 + "/observations/fy2016-2018", k3 + "/observations/fy2019",
                  k3 + "/observations/fy2020", k3 + "/observations/fy2021"));
  EXPECT_THAT(repo_->AllObservations("strategies/s/kpis/none"),
              StatusIs(absl::StatusCode::kNotFound));
}

// Many writers update one KPI with read-modify-write guarded by the etag.
// Every conflict must be ABORTED (never a silent overwrite), and the final
// count must equal the number of acknowledged writes.
TEST_P(RepositoryContractTest, ConcurrentEtagWritersLoseNoUpdate) {
  Seed();
  const std::string name = "strategies/s/kpis/k1";
  ASSERT_OK_AND_ASSIGN(domain::Kpi start, repo_->GetKpi(name));
  constexpr int kThreads = 8;
  constexpr int kWritesPerThread = 12;
  std::atomic<int> aborted{0};
  absl::Mutex mu;
  std::vector<std::string> errors;
  std::set<std::string> etags;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&] {
      for (int done = 0; done < kWritesPerThread;) {
        absl::StatusOr<domain::Kpi> read = repo_->GetKpi(name);
        if (!read.ok()) {
          absl::MutexLock lock(&mu);
          errors.push_back(std::string(read.status().message()));
          return;
        }
        domain::Kpi next = *read;
        next.ordinal += 1;
        absl::StatusOr<domain::Kpi> written =
            repo_->UpdateKpi(next, read->meta.etag);
        if (written.ok()) {
          ++done;
          absl::MutexLock lock(&mu);
          etags.insert(written->meta.etag);
        } else if (written.status().code() == absl::StatusCode::kAborted) {
          ++aborted;  // retry with a fresh read
        } else {
          absl::MutexLock lock(&mu);
          errors.push_back(written.status().ToString());
          return;
        }
      }
    });
  }
  for (std::thread& t : threads) t.join();
  EXPECT_THAT(errors, IsEmpty());
  ASSERT_OK_AND_ASSIGN(domain::Kpi end, repo_->GetKpi(name));
  EXPECT_EQ(end.ordinal, start.ordinal + kThreads * kWritesPerThread)
      << aborted.load() << " conflicts";
  EXPECT_EQ(etags.size(), static_cast<size_t>(kThreads * kWritesPerThread));
}

// A child process writes through the repository and acknowledges each write
// over a pipe; it is killed with SIGKILL mid-stream. Every acknowledged
// write must be in the reopened store, and the store must be consistent.
TEST_P(RepositoryContractTest, AcknowledgedWritesSurviveSigkill) {
  Seed();
  const std::string kpi = "strategies/s/kpis/k3";
  const std::string tracked = kpi + "/observations/fy1999";
  ASSERT_THAT(repo_->CreateObservation(MakeObservation(kpi, 1999, -1)), IsOk());
  repo_.reset();  // no connection crosses the fork

  int fds[2];
  ASSERT_EQ(pipe(fds), 0);
  const pid_t child = fork();
  ASSERT_GE(child, 0) << std::strerror(errno);
  if (child == 0) {
    close(fds[0]);
    base::FakeClock clock(kStart);
    RepositoryOptions options;
    options.clock = &clock;
    auto repo = OpenRepository(spec_, options);
    if (!repo.ok()) _exit(2);
    for (int32_t i = 0; i < 100000; ++i) {
      if (!(*repo)->CreateObservation(MakeObservation(kpi, 2100 + i, i)).ok()) {
        _exit(3);
      }
      domain::Observation o = MakeObservation(kpi, 1999, i);
      if (!(*repo)->UpdateObservation(o, "", absl::StrCat("w", i)).ok())
        _exit(4);
      if (write(fds[1], &i, sizeof i) != sizeof i) _exit(5);
    }
    _exit(0);
  }
  close(fds[1]);
  auto read_ack = [&](int32_t* ack) {
    size_t got = 0;
    while (got < sizeof *ack) {
      const ssize_t n =
          read(fds[0], reinterpret_cast<char*>(ack) + got, sizeof *ack - got);
      if (n <= 0) return false;
      got += n;
    }
    return true;
  };
  int32_t last = -1;
  int32_t ack;
  while (last < 40 && read_ack(&ack)) last = ack;
  ASSERT_EQ(last, 40) << "the writer stopped early";
  ASSERT_EQ(kill(child, SIGKILL), 0);
  int wstatus = 0;
  ASSERT_EQ(waitpid(child, &wstatus, 0), child);
  EXPECT_TRUE(WIFSIGNALED(wstatus));
  while (read_ack(&ack)) last = ack;  // acknowledged before the kill
  close(fds[0]);

  ASSERT_OK_AND_ASSIGN(repo_, Open(spec_));
  ASSERT_OK_AND_ASSIGN(auto all, repo_->AllObservations(kpi));
  // fy1999 plus one per write; the write in flight may or may not be there.
  ASSERT_GE(all.size(), static_cast<size_t>(last) + 2);
  ASSERT_LE(all.size(), static_cast<size_t>(last) + 3);
  for (int32_t i = 0; i <= last; ++i) {
    ASSERT_EQ(all[i + 1].fiscal_year, 2100 + i);
    EXPECT_EQ(all[i + 1].value, i);
  }
  ASSERT_OK_AND_ASSIGN(domain::Observation t, repo_->GetObservation(tracked));
  ASSERT_GE(t.value, last);
  ASSERT_LE(t.value, last + 1);
  // Its history is complete and in order: -1, 0, 1, ... up to its value.
  ASSERT_EQ(t.revisions.size(), static_cast<size_t>(t.value) + 1);
  for (size_t j = 0; j < t.revisions.size(); ++j) {
    EXPECT_EQ(t.revisions[j].value, static_cast<double>(j) - 1);
    EXPECT_EQ(t.revisions[j].reason, absl::StrCat("w", j));
  }
  // The store still takes writes and exports whole.
  ASSERT_THAT(repo_->CreateObservation(MakeObservation(kpi, 2000, 1)), IsOk());
  ASSERT_OK_AND_ASSIGN(domain::Dataset d, repo_->ExportDataset(""));
  EXPECT_EQ(d.observations.size(), all.size() + 3);  // + k1's two + fy2000
}

TEST_P(RepositoryContractTest, TwoRepositoriesShareOneStore) {
  ASSERT_OK_AND_ASSIGN(auto other, Open(spec_));
  ASSERT_OK_AND_ASSIGN(int64_t seq0, other->ChangeSequence());
  ASSERT_OK_AND_ASSIGN(domain::Strategy created,
                       repo_->CreateStrategy(MakeStrategy("s")));
  ASSERT_OK_AND_ASSIGN(domain::Strategy seen, other->GetStrategy(kS));
  EXPECT_EQ(Content(seen), Content(created));
  EXPECT_EQ(seen.meta.etag, created.meta.etag);
  ASSERT_OK_AND_ASSIGN(int64_t seq1, other->ChangeSequence());
  EXPECT_GT(seq1, seq0);

  // An etag read through one is honoured and checked by the other.
  seen.display_name = "via other";
  ASSERT_OK_AND_ASSIGN(domain::Strategy updated,
                       other->UpdateStrategy(seen, created.meta.etag));
  created.display_name = "stale";
  EXPECT_THAT(repo_->UpdateStrategy(created, created.meta.etag),
              StatusIs(absl::StatusCode::kAborted));
  ASSERT_OK_AND_ASSIGN(domain::Strategy reread, repo_->GetStrategy(kS));
  EXPECT_EQ(reread.display_name, "via other");
  EXPECT_EQ(reread.meta.etag, updated.meta.etag);
  ASSERT_OK_AND_ASSIGN(int64_t seq2, repo_->ChangeSequence());
  EXPECT_GT(seq2, seq1);
  // Writes through both, interleaved, all land.
  for (int i = 0; i < 10; ++i) {
    Repository& r = i % 2 == 0 ? *repo_ : *other;
    ASSERT_THAT(r.CreateGoal(MakeGoal("s", absl::StrCat("g", i), i + 1)),
                IsOk());
  }
  ASSERT_OK_AND_ASSIGN(auto goals, other->ListGoals({kS, 0, "", ""}));
  EXPECT_THAT(goals.items, SizeIs(10));
}

// TryChangeSequence answers without reading the store only while no write
// was committed since the last ChangeSequence() read, by this Repository or
// another one on the same store (another replica, as far as this one can
// tell). SQLite answers then; PostgreSQL never does.
TEST_P(RepositoryContractTest, TryChangeSequenceIsNeverStale) {
  const bool answers = GetParam() == Backend::kSqlite;
  auto expected = [answers](int64_t sequence) {
    return answers ? std::optional<int64_t>(sequence) : std::nullopt;
  };
  ASSERT_OK_AND_ASSIGN(auto other, Open(spec_));
  EXPECT_EQ(repo_->TryChangeSequence(), std::nullopt);  // nothing read yet

  ASSERT_OK_AND_ASSIGN(int64_t s0, repo_->ChangeSequence());
  EXPECT_EQ(repo_->TryChangeSequence(), expected(s0));
  EXPECT_EQ(repo_->TryChangeSequence(), expected(s0));

  // A write through the same Repository.
  ASSERT_THAT(repo_->CreateStrategy(MakeStrategy("s")), IsOk());
  EXPECT_EQ(repo_->TryChangeSequence(), std::nullopt);
  ASSERT_OK_AND_ASSIGN(int64_t s1, repo_->ChangeSequence());
  EXPECT_GT(s1, s0);
  EXPECT_EQ(repo_->TryChangeSequence(), expected(s1));

  // Reads by either change nothing.
  ASSERT_THAT(repo_->GetStrategy(kS), IsOk());
  ASSERT_THAT(other->ListStrategies({}), IsOk());
  EXPECT_EQ(repo_->TryChangeSequence(), expected(s1));

  // A write through the other Repository: new connections, new pool.
  ASSERT_THAT(other->CreateGoal(MakeGoal("s", "g1", 1)), IsOk());
  EXPECT_EQ(repo_->TryChangeSequence(), std::nullopt);
  EXPECT_EQ(other->TryChangeSequence(), std::nullopt);  // it read none
  ASSERT_OK_AND_ASSIGN(int64_t s2, repo_->ChangeSequence());
  EXPECT_GT(s2, s1);
  EXPECT_EQ(repo_->TryChangeSequence(), expected(s2));
  ASSERT_OK_AND_ASSIGN(int64_t other_s2, other->ChangeSequence());
  EXPECT_EQ(other_s2, s2);
  EXPECT_EQ(other->TryChangeSequence(), expected(s2));

  // A delete, and an import (one transaction of many rows), by the other.
  ASSERT_THAT(other->DeleteGoal("strategies/s/goals/g1", "", false), IsOk());
  EXPECT_EQ(repo_->TryChangeSequence(), std::nullopt);
  ASSERT_OK_AND_ASSIGN(int64_t s3, repo_->ChangeSequence());
  EXPECT_EQ(repo_->TryChangeSequence(), expected(s3));
  domain::Dataset dataset;
  dataset.strategies.push_back(MakeStrategy("t"));
  dataset.references.push_back(MakeReference("q"));
  ASSERT_THAT(other->ImportDataset(dataset), IsOk());
  EXPECT_EQ(repo_->TryChangeSequence(), std::nullopt);
  EXPECT_EQ(other->TryChangeSequence(), std::nullopt);
  ASSERT_OK_AND_ASSIGN(int64_t s4, repo_->ChangeSequence());
  EXPECT_GT(s4, s3);
  EXPECT_EQ(repo_->TryChangeSequence(), expected(s4));
}

// Under concurrent writes by another Repository, an answer is never older
// than a write acknowledged before the call: a pair whose sequence was read
// before its data version would show here.
TEST_P(RepositoryContractTest, TryChangeSequenceUnderConcurrentWrites) {
  ASSERT_OK_AND_ASSIGN(auto other, Open(spec_));
  ASSERT_THAT(other->CreateStrategy(MakeStrategy("s")), IsOk());
  ASSERT_OK_AND_ASSIGN(int64_t start, other->ChangeSequence());
  std::atomic<int64_t> acknowledged{start};  // at least this is committed
  std::atomic<bool> done{false};
  std::thread writer([&] {
    for (int i = 0; i < 150; ++i) {
      if (!other->CreateGoal(MakeGoal("s", absl::StrCat("g", i), i + 1)).ok()) {
        break;
      }
      absl::StatusOr<int64_t> now = other->ChangeSequence();
      if (!now.ok()) break;
      acknowledged = *now;
    }
    done = true;
  });
  int64_t answered = 0;
  int64_t stale = 0;
  for (int i = 0; !done; ++i) {
    const int64_t floor = acknowledged.load();
    const std::optional<int64_t> probe = repo_->TryChangeSequence();
    if (probe.has_value()) {
      ++answered;
      if (*probe < floor) ++stale;
    }
    if (i % 4 == 0) {
      ASSERT_THAT(repo_->ChangeSequence(), IsOk());
    }
  }
  writer.join();
  EXPECT_EQ(stale, 0) << "of " << answered << " answers";
  // SQLite answers between writes; otherwise nothing was checked.
  if (GetParam() == Backend::kSqlite) {
    EXPECT_GT(answered, 0);
  }
  ASSERT_OK_AND_ASSIGN(int64_t last, repo_->ChangeSequence());
  EXPECT_EQ(last, acknowledged.load());
  EXPECT_EQ(last, start + 150);
  if (GetParam() == Backend::kSqlite) {
    EXPECT_EQ(repo_->TryChangeSequence(), last);
  }
}

TEST_P(RepositoryContractTest, ReopeningKeepsDataAndRefusesANewerSchema) {
  Seed();
  ASSERT_OK_AND_ASSIGN(domain::Dataset before, repo_->ExportDataset(""));
  repo_.reset();
  ASSERT_OK_AND_ASSIGN(repo_, Open(spec_));  // migrations are idempotent
  ASSERT_OK_AND_ASSIGN(domain::Dataset after, repo_->ExportDataset(""));
  EXPECT_EQ(Content(after), Content(before));
  repo_.reset();

  ASSERT_OK_AND_ASSIGN(auto db, stores_.OpenDatabase(spec_));
  ASSERT_THAT(db->Transact(TransactionMode::kWrite,
                           [](SqlTransaction& tx) {
                             return tx
                                 .Exec(
                                     "INSERT INTO schema_version "
                                     "(version, apply_time) VALUES ($1, $2)",
                                     {int64_t{999}, int64_t{0}})
                                 .status();
                           }),
              IsOk());
  EXPECT_THAT(Open(spec_), StatusIs(absl::StatusCode::kFailedPrecondition,
                                    HasSubstr("version 999")));
}

TEST_P(RepositoryContractTest, ReplicasStartingTogetherMigrateOnce) {
  ASSERT_OK_AND_ASSIGN(std::string fresh, stores_.NewSpec());
  std::vector<absl::Status> statuses(4);
  std::vector<std::thread> threads;
  for (size_t i = 0; i < statuses.size(); ++i) {
    threads.emplace_back([&, i] { statuses[i] = Open(fresh).status(); });
  }
  for (std::thread& t : threads) t.join();
  for (const absl::Status& s : statuses) EXPECT_THAT(s, IsOk());
  ASSERT_OK_AND_ASSIGN(auto db, stores_.OpenDatabase(fresh));
  std::vector<SqlRow> rows;
  ASSERT_THAT(db->Transact(TransactionMode::kRead,
                           [&](SqlTransaction& tx) -> absl::Status {
                             auto r = tx.Query(
                                 "SELECT COUNT(*), MAX(version) FROM "
                                 "schema_version",
                                 {});
                             if (!r.ok()) return r.status();
                             rows = *std::move(r);
                             return absl::OkStatus();
                           }),
              IsOk());
  ASSERT_THAT(rows, SizeIs(1));
  EXPECT_EQ(rows[0].Int(0), LatestSchemaVersion());
  EXPECT_EQ(rows[0].Int(1), LatestSchemaVersion());
}

StoredCalibration Calibration(int64_t version, double score) {
  StoredCalibration c;
  c.version = version;
  c.label = absl::StrCat("store-", version);
  c.text = absl::StrCat("calibration text ", version, "\n");
  c.series = 30 + static_cast<int32_t>(version);
  c.windows = 1000 + version;
  c.score = score;
  c.previous_score = 2.5;
  c.previous_label = "m3-train-v3";
  c.creator = "admin-token";
  return c;
}

// Calibrations are versioned: every one is kept, one at most is active, and
// a switch is a write (the change sequence moves, so replicas' caches miss)
// that only succeeds against the active version it was compared with.
TEST_P(RepositoryContractTest, CalibrationsAreVersionedAndSwitchedOnce) {
  EXPECT_THAT(repo_->ActiveCalibrationVersion(), IsOkAndHolds(0));
  EXPECT_THAT(repo_->NextCalibrationVersion(), IsOkAndHolds(1));
  EXPECT_THAT(repo_->GetCalibration(1),
              StatusIs(absl::StatusCode::kNotFound, HasSubstr("version 1")));
  ASSERT_OK_AND_ASSIGN(const int64_t before, repo_->ChangeSequence());

  // Stored without switching: kept, not active.
  ASSERT_OK_AND_ASSIGN(StoredCalibration first,
                       repo_->AddCalibration(Calibration(1, 2.6), false, 0));
  EXPECT_EQ(first.create_time, kStart);
  EXPECT_THAT(repo_->ActiveCalibrationVersion(), IsOkAndHolds(0));
  ASSERT_OK_AND_ASSIGN(const int64_t after_first, repo_->ChangeSequence());
  EXPECT_NE(after_first, before);

  // Stored and switched to.
  ASSERT_THAT(repo_->AddCalibration(Calibration(2, 2.4), true, 0), IsOk());
  EXPECT_THAT(repo_->ActiveCalibrationVersion(), IsOkAndHolds(2));
  EXPECT_THAT(repo_->NextCalibrationVersion(), IsOkAndHolds(3));
  ASSERT_OK_AND_ASSIGN(const int64_t after_switch, repo_->ChangeSequence());
  EXPECT_NE(after_switch, after_first);

  // Another replica opened on the same store sees the same.
  ASSERT_OK_AND_ASSIGN(auto other, Open(spec_));
  EXPECT_THAT(other->ActiveCalibrationVersion(), IsOkAndHolds(2));
  ASSERT_OK_AND_ASSIGN(StoredCalibration got, other->GetCalibration(2));
  EXPECT_EQ(got.label, "store-2");
  EXPECT_EQ(got.text, "calibration text 2\n");
  EXPECT_EQ(got.series, 32);
  EXPECT_EQ(got.windows, 1002);
  EXPECT_EQ(got.score, 2.4);
  EXPECT_EQ(got.previous_score, 2.5);
  EXPECT_EQ(got.previous_label, "m3-train-v3");
  EXPECT_EQ(got.creator, "admin-token");
  EXPECT_EQ(got.create_time, kStart);

  // A switch compared with a version no longer active, or a version taken
  // meanwhile, is ABORTED and writes nothing.
  EXPECT_THAT(other->AddCalibration(Calibration(3, 2.3), true, 0),
              StatusIs(absl::StatusCode::kAborted, HasSubstr("meanwhile")));
  EXPECT_THAT(other->AddCalibration(Calibration(2, 2.3), false, 2),
              StatusIs(absl::StatusCode::kAborted, HasSubstr("version 2")));
  EXPECT_THAT(repo_->NextCalibrationVersion(), IsOkAndHolds(3));
  EXPECT_THAT(repo_->ActiveCalibrationVersion(), IsOkAndHolds(2));
  ASSERT_THAT(other->AddCalibration(Calibration(3, 2.3), true, 2), IsOk());
  EXPECT_THAT(repo_->ActiveCalibrationVersion(), IsOkAndHolds(3));

  StoredCalibration bad = Calibration(0, 1);
  EXPECT_THAT(repo_->AddCalibration(bad, false, 0),
              StatusIs(absl::StatusCode::kInvalidArgument));
}

INSTANTIATE_TEST_SUITE_P(Backends, RepositoryContractTest,
                         ::testing::Values(Backend::kSqlite,
                                           Backend::kPostgres));

}  // namespace
}  // namespace kpi::storage::testing
