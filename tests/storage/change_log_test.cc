// Who made each write: the change log (Repository::ListChanges), the actor of
// observation revisions, and the schema migration that added both. Runs
// against SQLite and PostgreSQL.

#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
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
using ::kpi::testing::IsOkAndHolds;
using ::kpi::testing::StatusIs;
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
constexpr char kK1[] = "strategies/s/kpis/k1";
constexpr char kObs[] = "strategies/s/kpis/k1/observations/fy2020";

// "actor method resource etag_before>etag_after summary", one per change.
std::string Line(const Change& c) {
  return absl::StrCat(c.actor, " ", c.method, " ", c.resource, " ",
                      c.etag_before, ">", c.etag_after,
                      c.summary.empty() ? "" : " ", c.summary);
}

class ChangeLogTest : public ::testing::TestWithParam<Backend> {
 protected:
  ChangeLogTest() : stores_(GetParam()), clock_(kStart) {}

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

  // strategies/s, goal g1, measure m1, KPI k1: made by the system actor.
  void Seed() {
    ASSERT_THAT(repo_->CreateStrategy(MakeStrategy("s")), IsOk());
    ASSERT_THAT(repo_->CreateGoal(MakeGoal("s", "g1", 1)), IsOk());
    ASSERT_THAT(repo_->CreateMeasure(MakeMeasure("s", "m1", "g1")), IsOk());
    ASSERT_THAT(repo_->CreateKpi(MakeKpi("s", "k1", "m1")), IsOk());
  }

  // Every line of the log, newest first, read in pages of `page_size`.
  std::vector<std::string> Lines(ChangeListRequest request = {},
                                 int page_size = 1000) {
    std::vector<std::string> out;
    request.page_size = page_size;
    for (int pages = 0; pages < 100; ++pages) {
      absl::StatusOr<Page<Change>> page = repo_->ListChanges(request);
      EXPECT_THAT(page, IsOk());
      if (!page.ok()) break;
      for (const Change& c : page->items) out.push_back(Line(c));
      if (page->next_page_token.empty()) break;
      request.page_token = page->next_page_token;
    }
    return out;
  }

  // Writes a store as schema `version` left it, opens it with this binary
  // and checks what the migration kept and added.
  void MigrateFrom(int version);

  TestStores stores_;
  base::FakeClock clock_;
  std::string spec_;
  std::unique_ptr<Repository> repo_;
};

TEST_P(ChangeLogTest, EveryWriteIsLoggedWithItsActorNewestFirst) {
  Seed();
  std::unique_ptr<Repository> alice = repo_->WithActor("alice");
  std::unique_ptr<Repository> bob = repo_->WithActor("bob");
  ASSERT_OK_AND_ASSIGN(
      domain::Observation created,
      alice->CreateObservation(MakeObservation(kK1, 2020, 10)));
  domain::Observation changed = created;
  changed.value = 12;
  changed.status = domain::ObservationStatus::kProvisional;
  ASSERT_OK_AND_ASSIGN(
      domain::Observation updated,
      bob->UpdateObservation(changed, created.meta.etag, "速報値に更新"));
  ASSERT_THAT(alice->DeleteObservation(kObs, updated.meta.etag, false), IsOk());

  EXPECT_THAT(
      Lines(),
      ElementsAre(
          absl::StrCat("alice DeleteObservation ", kObs, " ", updated.meta.etag,
                       ">"),
          absl::StrCat("bob UpdateObservation ", kObs, " ", created.meta.etag,
                       ">", updated.meta.etag,
                       " value 10 -> 12; status FINAL -> PROVISIONAL; reason: "
                       "速報値に更新"),
          absl::StrCat("alice CreateObservation ", kObs, " >",
                       created.meta.etag),
          "system CreateKpi strategies/s/kpis/k1 >4",
          "system CreateMeasure strategies/s/measures/m1 >3",
          "system CreateGoal strategies/s/goals/g1 >2",
          "system CreateStrategy strategies/s >1"));

  ASSERT_OK_AND_ASSIGN(Page<Change> newest, repo_->ListChanges({}));
  ASSERT_THAT(newest.items, SizeIs(7));
  EXPECT_EQ(newest.items[0].time, kStart);
  EXPECT_EQ(newest.items[0].sequence, 7);
  EXPECT_EQ(newest.items[0].position, 1);
}

TEST_P(ChangeLogTest, RevisionsRecordWhoMadeTheChange) {
  Seed();
  ASSERT_OK_AND_ASSIGN(domain::Observation o,
                       repo_->WithActor("alice")->CreateObservation(
                           MakeObservation(kK1, 2020, 10)));
  o.value = 11;
  ASSERT_OK_AND_ASSIGN(o, repo_->WithActor("CN=stats-office,O=Asahikawa")
                              ->UpdateObservation(o, o.meta.etag, "確定"));
  o.value = 12;
  ASSERT_OK_AND_ASSIGN(
      o, repo_->WithActor("bob")->UpdateObservation(o, o.meta.etag, "再修正"));
  // Read back through a new connection, not the writer's.
  repo_.reset();
  ASSERT_OK_AND_ASSIGN(repo_, Open(spec_));
  ASSERT_OK_AND_ASSIGN(domain::Observation read, repo_->GetObservation(kObs));
  ASSERT_THAT(read.revisions, SizeIs(2));
  EXPECT_EQ(read.revisions[0].value, 10);
  EXPECT_EQ(read.revisions[0].actor, "CN=stats-office,O=Asahikawa");
  EXPECT_EQ(read.revisions[0].reason, "確定");
  EXPECT_EQ(read.revisions[1].value, 11);
  EXPECT_EQ(read.revisions[1].actor, "bob");
}

TEST_P(ChangeLogTest, AWriteThatFailsLogsNothing) {
  Seed();
  std::unique_ptr<Repository> alice = repo_->WithActor("alice");
  ASSERT_OK_AND_ASSIGN(
      domain::Observation o,
      alice->CreateObservation(MakeObservation(kK1, 2020, 10)));
  const std::vector<std::string> before = Lines();
  ASSERT_OK_AND_ASSIGN(const int64_t sequence, repo_->ChangeSequence());

  std::unique_ptr<Repository> mallory = repo_->WithActor("mallory");
  o.value = 99;
  EXPECT_THAT(mallory->UpdateObservation(o, "1", "stale"),
              StatusIs(absl::StatusCode::kAborted));
  EXPECT_THAT(mallory->CreateObservation(MakeObservation(kK1, 2020, 1)),
              StatusIs(absl::StatusCode::kAlreadyExists));
  EXPECT_THAT(mallory->DeleteStrategy("strategies/s", "", false),
              StatusIs(absl::StatusCode::kFailedPrecondition));
  // An import that fails at its last item rolls back the items before it.
  domain::Dataset dataset;
  dataset.strategies.push_back(MakeStrategy("t"));
  dataset.goals.push_back(MakeGoal("t", "g1", 1));
  dataset.observations.push_back(
      MakeObservation("strategies/t/kpis/missing", 2020, 1));
  EXPECT_THAT(mallory->ImportDataset(dataset),
              StatusIs(absl::StatusCode::kFailedPrecondition));

  EXPECT_EQ(Lines(), before);
  ChangeListRequest by_mallory;
  by_mallory.actor = "mallory";
  EXPECT_THAT(Lines(by_mallory), IsEmpty());
  EXPECT_THAT(repo_->ChangeSequence(), IsOkAndHolds(sequence));
  ASSERT_OK_AND_ASSIGN(domain::Observation read, repo_->GetObservation(kObs));
  EXPECT_EQ(read.value, 10);
}

TEST_P(ChangeLogTest, AnImportLogsEachResourceInOneTransaction) {
  Seed();
  clock_.Advance(absl::Hours(1));
  domain::Dataset dataset;
  dataset.strategies.push_back(MakeStrategy("s"));  // replaced
  dataset.observations.push_back(MakeObservation(kK1, 2020, 10));
  dataset.observations.push_back(MakeObservation(kK1, 2021, 11));
  ASSERT_THAT(repo_->WithActor("loader")->ImportDataset(dataset), IsOk());
  ChangeListRequest by_loader;
  by_loader.actor = "loader";
  EXPECT_THAT(
      Lines(by_loader),
      ElementsAre(
          "loader ImportDataset strategies/s/kpis/k1/observations/fy2021 "
          ">5 created",
          "loader ImportDataset strategies/s/kpis/k1/observations/fy2020 "
          ">5 created",
          "loader ImportDataset strategies/s 1>5 replaced"));
  ASSERT_OK_AND_ASSIGN(Page<Change> page, repo_->ListChanges(by_loader));
  for (const Change& c : page.items) {
    EXPECT_EQ(c.sequence, 5);
    EXPECT_EQ(c.time, kStart + absl::Hours(1));
  }
  EXPECT_EQ(page.items[0].position, 3);
  EXPECT_EQ(page.items[2].position, 1);

  // A replaced observation keeps its old state with the importer as actor.
  dataset.strategies.clear();
  dataset.observations.resize(1);
  dataset.observations[0].value = 10.5;
  ASSERT_THAT(repo_->WithActor("loader2")->ImportDataset(dataset), IsOk());
  ASSERT_OK_AND_ASSIGN(domain::Observation read, repo_->GetObservation(kObs));
  ASSERT_THAT(read.revisions, SizeIs(1));
  EXPECT_EQ(read.revisions[0].actor, "loader2");
  EXPECT_EQ(read.revisions[0].reason, "import");
  EXPECT_THAT(Lines(ChangeListRequest{}, 1)[0],
              HasSubstr("loader2 ImportDataset " + std::string(kObs) +
                        " 5>6 replaced: value 10 -> 10.5"));
}

TEST_P(ChangeLogTest, AForcedDeleteNamesWhatWentWithIt) {
  Seed();
  ASSERT_THAT(repo_->CreateObservation(MakeObservation(kK1, 2020, 10)), IsOk());
  ASSERT_THAT(repo_->WithActor("admin")->DeleteStrategy("strategies/s", "",
                                                        /*force=*/true),
              IsOk());
  EXPECT_EQ(Lines()[0],
            "admin DeleteStrategy strategies/s 1> with 1 goal, 1 measure and "
            "1 KPI");
}

TEST_P(ChangeLogTest, FiltersByActorResourceAndTime) {
  Seed();  // at kStart
  ASSERT_THAT(repo_->CreateStrategy(MakeStrategy("s2")), IsOk());
  clock_.Advance(absl::Hours(1));
  ASSERT_THAT(repo_->WithActor("alice")->CreateObservation(
                  MakeObservation(kK1, 2020, 10)),
              IsOk());
  clock_.Advance(absl::Hours(1));
  ASSERT_THAT(repo_->WithActor("bob")->CreateObservation(
                  MakeObservation(kK1, 2021, 10)),
              IsOk());

  ChangeListRequest request;
  request.resource = "strategies/s";
  std::vector<std::string> under_s = Lines(request);
  EXPECT_THAT(under_s, SizeIs(6));  // not strategies/s2
  for (const std::string& line : under_s) {
    EXPECT_THAT(line, Not(HasSubstr("strategies/s2")));
  }
  request.resource = kObs;
  EXPECT_THAT(Lines(request), ElementsAre(absl::StrCat(
                                  "alice CreateObservation ", kObs, " >6")));

  request = {};
  request.actor = "bob";
  EXPECT_THAT(Lines(request), SizeIs(1));
  request.actor = "bo";  // exact, not a prefix
  EXPECT_THAT(Lines(request), IsEmpty());

  request = {};
  request.start_time = kStart + absl::Hours(1);
  EXPECT_THAT(Lines(request), SizeIs(2));
  request.end_time = kStart + absl::Hours(2);  // exclusive
  EXPECT_THAT(Lines(request), ElementsAre(HasSubstr("alice")));
}

TEST_P(ChangeLogTest, PagesAreBoundToTheirFilter) {
  Seed();
  const std::vector<std::string> all = Lines();
  EXPECT_EQ(Lines({}, 1), all);
  EXPECT_EQ(Lines({}, 3), all);

  ChangeListRequest request;
  request.page_size = 2;
  ASSERT_OK_AND_ASSIGN(Page<Change> first, repo_->ListChanges(request));
  ASSERT_FALSE(first.next_page_token.empty());
  request.page_token = first.next_page_token;
  request.actor = "system";  // another filter than the token's
  EXPECT_THAT(
      repo_->ListChanges(request),
      StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("page_token")));
}

// ListChanges tokens carry the store's MAC like every other: moving the
// cursor inside one ("3:1" to "2:1", skipping a change) is refused.
TEST_P(ChangeLogTest, AForgedPageTokenIsRefused) {
  Seed();
  ChangeListRequest request;
  request.page_size = 2;
  ASSERT_OK_AND_ASSIGN(Page<Change> first, repo_->ListChanges(request));
  ASSERT_THAT(first.items, SizeIs(2));
  const Change& last = first.items.back();
  const std::string forged = ReplaceInToken(
      first.next_page_token, absl::StrCat(last.sequence, ":", last.position),
      absl::StrCat(last.sequence - 1, ":", last.position));
  ASSERT_THAT(forged, Not(IsEmpty()));
  request.page_token = forged;
  EXPECT_THAT(
      repo_->ListChanges(request),
      StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("page_token")));
  request.page_token = first.next_page_token;
  ASSERT_OK_AND_ASSIGN(Page<Change> rest, repo_->ListChanges(request));
  EXPECT_THAT(rest.items, SizeIs(2));
}

TEST_P(ChangeLogTest, RefusesAMalformedRequest) {
  ChangeListRequest request;
  request.resource = "strategies/S!";
  EXPECT_THAT(repo_->ListChanges(request),
              StatusIs(absl::StatusCode::kInvalidArgument));
  request = {};
  request.start_time = kStart;
  request.end_time = kStart;
  EXPECT_THAT(repo_->ListChanges(request),
              StatusIs(absl::StatusCode::kInvalidArgument));
  request = {};
  request.page_size = -1;
  EXPECT_THAT(repo_->ListChanges(request),
              StatusIs(absl::StatusCode::kInvalidArgument));
}

// A store written by a schema before the change log (version 1, and 2 which
// added calibrations) opens, migrates and keeps its revisions, which show no
// actor.
TEST_P(ChangeLogTest, MigratesAStoreOfTheFirstSchema) { MigrateFrom(1); }
TEST_P(ChangeLogTest, MigratesAStoreOfTheSchemaBeforeTheChangeLog) {
  MigrateFrom(2);
}
// Version 3 had no page token key: the migration adds the store's key.
TEST_P(ChangeLogTest, MigratesAStoreOfTheSchemaBeforeThePageTokenKey) {
  MigrateFrom(3);
}

void ChangeLogTest::MigrateFrom(int version) {
  ASSERT_LT(version, LatestSchemaVersion());
  ASSERT_OK_AND_ASSIGN(const std::string old_spec, stores_.NewSpec());
  {
    ASSERT_OK_AND_ASSIGN(std::unique_ptr<SqlDatabase> db,
                         stores_.OpenDatabase(old_spec));
    ASSERT_THAT(ApplyMigrationsUpTo(*db, clock_, version), IsOk());
    // What version 1 wrote for strategies/s .. k1 and one corrected
    // observation, column by column.
    const std::vector<std::string> statements = {
        "UPDATE store_state SET change_sequence = 6",
        "INSERT INTO strategies VALUES ('strategies/s', '戦略', 'Strategy', "
        "'旭川市', '012041', 2020, 2024, 'src', 1, 0, 0)",
        "INSERT INTO goals VALUES ('strategies/s/goals/g1', 'strategies/s', "
        "1, '目標', 'Goal', 2, 0, 0)",
        "INSERT INTO measures VALUES ('strategies/s/measures/m1', "
        "'strategies/s', 'strategies/s/goals/g1', NULL, '1', '施策', "
        "'Measure', 3, 0, 0)",
        "INSERT INTO kpis VALUES ('strategies/s/kpis/k1', 'strategies/s', "
        "'strategies/s/measures/m1', '指標', 'KPI', '人', 1, 1, 1, 100, 2019, "
        "NULL, NULL, NULL, 120, NULL, 2024, '', 2020, '', '', 1, 4, 0, 0)",
        absl::StrCat("INSERT INTO observations VALUES ('", kObs,
                     "', 'strategies/s/kpis/k1', 2020, 0, 0, 11, 1, '確定値', "
                     "2021, 6, 0, 0)"),
        absl::StrCat("INSERT INTO observation_revisions (observation, "
                     "position, value, status, source_note, revise_time, "
                     "reason) VALUES ('",
                     kObs, "', 1, 10, 2, '速報値', 0, '確定')"),
    };
    ASSERT_THAT(db->Transact(TransactionMode::kWrite,
                             [&](SqlTransaction& tx) -> absl::Status {
                               for (const std::string& sql : statements) {
                                 absl::Status s = tx.Exec(sql, {}).status();
                                 if (!s.ok()) return s;
                               }
                               return absl::OkStatus();
                             }),
                IsOk());
  }
  ASSERT_OK_AND_ASSIGN(repo_, Open(old_spec));
  ASSERT_OK_AND_ASSIGN(domain::Observation o, repo_->GetObservation(kObs));
  ASSERT_THAT(o.revisions, SizeIs(1));
  EXPECT_EQ(o.revisions[0].value, 10);
  EXPECT_EQ(o.revisions[0].reason, "確定");
  EXPECT_EQ(o.revisions[0].actor, "");
  EXPECT_THAT(Lines(), IsEmpty());  // nothing was logged before

  o.value = 12;
  ASSERT_OK_AND_ASSIGN(o, repo_->WithActor("carol")->UpdateObservation(
                              o, o.meta.etag, "再修正"));
  ASSERT_THAT(o.revisions, SizeIs(2));
  EXPECT_EQ(o.revisions[1].actor, "carol");
  EXPECT_THAT(Lines(),
              ElementsAre(absl::StrCat("carol UpdateObservation ", kObs,
                                       " 6>7 value 11 -> 12; reason: 再修正")));

  ASSERT_OK_AND_ASSIGN(std::unique_ptr<SqlDatabase> db,
                       stores_.OpenDatabase(old_spec));
  std::vector<SqlRow> rows;
  ASSERT_THAT(db->Transact(TransactionMode::kRead,
                           [&](SqlTransaction& tx) -> absl::Status {
                             absl::StatusOr<std::vector<SqlRow>> r = tx.Query(
                                 "SELECT version FROM schema_version ORDER BY "
                                 "version",
                                 {});
                             if (!r.ok()) return r.status();
                             rows = *std::move(r);
                             return absl::OkStatus();
                           }),
              IsOk());
  ASSERT_THAT(rows, SizeIs(LatestSchemaVersion()));
  EXPECT_EQ(rows.back().Int(0), LatestSchemaVersion());

  // One page token key of 32 bytes (hexadecimal), which paged lists use.
  ASSERT_THAT(db->Transact(TransactionMode::kRead,
                           [&](SqlTransaction& tx) -> absl::Status {
                             absl::StatusOr<std::vector<SqlRow>> r = tx.Query(
                                 "SELECT key_hex FROM page_token_key", {});
                             if (!r.ok()) return r.status();
                             rows = *std::move(r);
                             return absl::OkStatus();
                           }),
              IsOk());
  ASSERT_THAT(rows, SizeIs(1));
  EXPECT_THAT(rows[0].Text(0), ::testing::MatchesRegex("[0-9a-f]{64}"));
  EXPECT_THAT(Lines({}, 1), SizeIs(1));
}

INSTANTIATE_TEST_SUITE_P(Backends, ChangeLogTest,
                         ::testing::Values(Backend::kSqlite,
                                           Backend::kPostgres));

}  // namespace
}  // namespace kpi::storage::testing
