// What differs between the backends: SQLite's pragmas, PostgreSQL's pool
// and reconnection, and the factory's choice between them.

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_replace.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "lib/base/status_matchers.h"
#include "lib/storage/postgres/scratch_database.h"
#include "lib/storage/repository.h"
#include "lib/storage/sqlite/sqlite_database.h"
#include "tests/storage/test_store.h"

namespace kpi::storage::testing {
namespace {

using ::kpi::testing::IsOk;
using ::kpi::testing::StatusIs;
using ::testing::AllOf;
using ::testing::HasSubstr;
using ::testing::Not;

TEST(OpenRepositoryTest, RejectsUnusableSpecs) {
  EXPECT_THAT(OpenRepository(""), StatusIs(absl::StatusCode::kInvalidArgument,
                                           HasSubstr("postgresql://")));
  EXPECT_THAT(OpenRepository("mysql://localhost/kpi"),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("unsupported scheme")));
  RepositoryOptions no_pool;
  no_pool.pool_size = 0;
  EXPECT_THAT(
      OpenRepository("x.sqlite3", no_pool),
      StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("pool_size")));
}

TEST(OpenRepositoryTest, UnreachablePostgresIsUnavailableWithoutThePassword) {
  // Port 1 on loopback: nothing listens there.
  auto repo = OpenRepository(
      "postgresql://kpi:s3cret-pw@127.0.0.1:1/kpi?connect_timeout=3");
  EXPECT_THAT(repo,
              StatusIs(absl::StatusCode::kUnavailable,
                       AllOf(HasSubstr("127.0.0.1:1"), HasSubstr("\"kpi\""),
                             Not(HasSubstr("s3cret-pw")))));
  EXPECT_THAT(OpenRepository("postgres://127.0.0.1:1/kpi?connect_timeout=3"),
              StatusIs(absl::StatusCode::kUnavailable));
  EXPECT_THAT(OpenRepository("postgresql://[::1"),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("URL")));
}

TEST(SqliteBackendTest, UsesWalFullSyncForeignKeysAndABusyTimeout) {
  TestStores stores(Backend::kSqlite);
  auto spec = stores.NewSpec();
  ASSERT_THAT(spec, IsOk());
  auto repo = OpenRepository(*spec);
  ASSERT_THAT(repo, IsOk());
  auto db = OpenSqliteDatabase(*spec, 1);
  ASSERT_THAT(db, IsOk());
  std::vector<std::string> values;
  ASSERT_THAT(
      (*db)->Transact(TransactionMode::kRead,
                      [&](SqlTransaction& tx) -> absl::Status {
                        for (const char* pragma :
                             {"PRAGMA journal_mode", "PRAGMA synchronous",
                              "PRAGMA foreign_keys", "PRAGMA busy_timeout"}) {
                          auto rows = tx.Query(pragma, {});
                          if (!rows.ok()) return rows.status();
                          values.push_back((*rows)[0].Text(0));
                        }
                        return absl::OkStatus();
                      }),
      IsOk());
  // synchronous 2 is FULL.
  EXPECT_THAT(values, ::testing::ElementsAre("wal", "2", "1", "10000"));
}

TEST(SqliteBackendTest, AFileThatIsNotADatabaseIsRefused) {
  TestStores stores(Backend::kSqlite);
  auto spec = stores.NewSpec();
  ASSERT_THAT(spec, IsOk());
  ASSERT_THAT(OpenRepository(*spec), IsOk());  // creates the directory
  const std::string path = *spec + ".txt";
  std::ofstream(path) << "this is a text file, long enough to be read as a "
                         "database header and rejected by SQLite\n";
  EXPECT_THAT(OpenRepository(path),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("not a usable SQLite database")));
}

class PostgresBackendTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const std::string unavailable = stores_.Unavailable();
    if (!unavailable.empty()) {
      if (InCi())
        FAIL() << unavailable << " (CI=true: PostgreSQL must be tested)";
      GTEST_SKIP() << unavailable;
    }
    auto spec = stores_.NewSpec();
    ASSERT_THAT(spec, IsOk());
    spec_ = *spec;
  }

  TestStores stores_{Backend::kPostgres};
  std::string spec_;
};

TEST_F(PostgresBackendTest, ReconnectsAfterTheServerEndsEverySession) {
  RepositoryOptions options;
  options.pool_size = 3;
  auto repo = OpenRepository(spec_, options);
  ASSERT_THAT(repo, IsOk());
  ASSERT_THAT((*repo)->CreateStrategy(MakeStrategy("s")), IsOk());
  // Use every pooled connection at once.
  std::vector<std::thread> readers;
  for (int i = 0; i < 8; ++i) {
    readers.emplace_back([&] {
      for (int j = 0; j < 20; ++j) {
        EXPECT_THAT((*repo)->GetStrategy("strategies/s"), IsOk());
      }
    });
  }
  for (std::thread& t : readers) t.join();
  // As a server restart would: every connection of the pool breaks.
  auto ended = TerminateSessions(stores_.admin_url(),
                                 stores_.PostgresDatabaseName(spec_));
  ASSERT_THAT(ended, IsOk());
  EXPECT_GE(*ended, 1);
  EXPECT_LE(*ended, 3) << "more sessions than the pool size";
  for (int i = 0; i < 6; ++i) {
    EXPECT_THAT((*repo)->GetStrategy("strategies/s"), IsOk());
    EXPECT_THAT(
        (*repo)->CreateGoal(MakeGoal("s", "g" + std::to_string(i), i + 1)),
        IsOk());
  }
  auto goals = (*repo)->ListGoals({"strategies/s", 0, "", ""});
  ASSERT_THAT(goals, IsOk());
  EXPECT_EQ(goals->items.size(), 6u);
}

TEST_F(PostgresBackendTest, AcceptsThePostgresScheme) {
  const std::string alias =
      absl::StrReplaceAll(spec_, {{"postgresql://", "postgres://"}});
  auto repo = OpenRepository(alias);
  ASSERT_THAT(repo, IsOk());
  EXPECT_THAT((*repo)->IsEmpty(), IsOkAndHolds(true));
}

// A PostgreSQL server of this test's own, so that it can be stopped and
// started again without disturbing the other tests.
class PrivateServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const char* source = std::getenv("KPI_SOURCE_DIR");
    ASSERT_NE(source, nullptr) << "KPI_SOURCE_DIR is set by kpi_cc_test";
    script_ = std::string(source) + "/tests/pg/cluster.sh";
    bool installed = false;
    std::error_code ignored;
    for (const auto& entry :
         std::filesystem::directory_iterator("/usr/lib/postgresql", ignored)) {
      installed |= std::filesystem::exists(entry.path() / "bin" / "initdb");
    }
    if (!installed) {
      const std::string why =
          "no PostgreSQL server binaries in /usr/lib/postgresql (Debian "
          "package postgresql; make deps installs it)";
      if (InCi()) FAIL() << why << " (CI=true: PostgreSQL must be tested)";
      GTEST_SKIP() << why;
    }
    FILE* out = popen(("bash " + script_ + " start").c_str(), "r");
    ASSERT_NE(out, nullptr);
    char line[4096];
    std::string text;
    while (fgets(line, sizeof line, out) != nullptr) text += line;
    ASSERT_EQ(pclose(out), 0) << text;
    // "export KPI_TEST_POSTGRES_URL=<url> KPI_TEST_PG_DIR=<dir>"
    std::istringstream words(text);
    std::string word;
    while (words >> word) {
      if (absl::StartsWith(word, "KPI_TEST_POSTGRES_URL=")) {
        url_ = word.substr(word.find('=') + 1);
      } else if (absl::StartsWith(word, "KPI_TEST_PG_DIR=")) {
        dir_ = word.substr(word.find('=') + 1);
      }
    }
    ASSERT_FALSE(url_.empty()) << text;
    ASSERT_FALSE(dir_.empty()) << text;
  }

  void TearDown() override {
    if (!dir_.empty()) Script("stop");
  }

  int Script(const std::string& command) {
    return std::system(
        ("bash " + script_ + " " + command + " " + dir_).c_str());
  }

  std::string script_;
  std::string url_;
  std::string dir_;
};

TEST_F(PrivateServerTest, ReconnectsAfterTheServerRestarts) {
  RepositoryOptions options;
  options.pool_size = 2;
  auto repo = OpenRepository(url_, options);
  ASSERT_THAT(repo, IsOk());
  ASSERT_THAT((*repo)->CreateStrategy(MakeStrategy("s")), IsOk());

  ASSERT_EQ(Script("server-stop"), 0);
  EXPECT_THAT((*repo)->GetStrategy("strategies/s"),
              StatusIs(absl::StatusCode::kUnavailable, HasSubstr("127.0.0.1")));
  EXPECT_THAT((*repo)->CreateGoal(MakeGoal("s", "g1", 1)),
              StatusIs(absl::StatusCode::kUnavailable));

  ASSERT_EQ(Script("server-start"), 0);
  EXPECT_THAT((*repo)->GetStrategy("strategies/s"), IsOk());
  EXPECT_THAT((*repo)->CreateGoal(MakeGoal("s", "g1", 1)), IsOk());
  // Every pooled connection is usable again.
  std::vector<std::thread> threads;
  for (int i = 0; i < 4; ++i) {
    threads.emplace_back([&] {
      for (int j = 0; j < 10; ++j) {
        EXPECT_THAT((*repo)->GetGoal("strategies/s/goals/g1"), IsOk());
      }
    });
  }
  for (std::thread& t : threads) t.join();
}

}  // namespace
}  // namespace kpi::storage::testing
