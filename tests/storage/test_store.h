#ifndef KPI_TESTS_STORAGE_TEST_STORE_H_
#define KPI_TESTS_STORAGE_TEST_STORE_H_

// Fresh stores for the storage tests: a real SQLite file in a temporary
// directory, or a database of its own on the PostgreSQL server named by
// KPI_TEST_POSTGRES_URL (tests/run-all.sh starts one). Plus builders for
// resources and a textual rendering of their content for comparisons.

#include <memory>
#include <ostream>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "gmock/gmock.h"
#include "lib/domain/model.h"
#include "lib/storage/repository.h"
#include "lib/storage/sql_database.h"

namespace kpi::storage::testing {

enum class Backend { kSqlite, kPostgres };

std::string BackendName(Backend backend);

// Names the backend in test names ("Backends/...Crud/Sqlite" in ctest).
inline void PrintTo(Backend backend, std::ostream* os) {
  *os << BackendName(backend);
}

// Creates the stores of one test and removes them when destroyed. Not
// thread-safe.
class TestStores {
 public:
  explicit TestStores(Backend backend) : backend_(backend) {}
  ~TestStores();

  // Why the backend cannot be used here ("" when it can): PostgreSQL
  // without KPI_TEST_POSTGRES_URL.
  std::string Unavailable() const;

  // The --db string of a new, empty store.
  absl::StatusOr<std::string> NewSpec();

  // The raw database behind `spec`, for checks below the Repository API.
  absl::StatusOr<std::unique_ptr<SqlDatabase>> OpenDatabase(
      const std::string& spec);

  // The database name of a PostgreSQL spec made by NewSpec().
  std::string PostgresDatabaseName(const std::string& spec) const;
  std::string admin_url() const;

 private:
  Backend backend_;
  std::vector<std::string> directories_;
  std::vector<std::pair<std::string, std::string>> databases_;  // name, url
};

// True when running in CI (CI=true), where nothing may be skipped.
bool InCi();

// Resources under strategies/{s}, with every field set.
domain::Reference MakeReference(const std::string& id);
domain::Strategy MakeStrategy(const std::string& id);
domain::Goal MakeGoal(const std::string& strategy, const std::string& id,
                      int number);
domain::Measure MakeMeasure(const std::string& strategy, const std::string& id,
                            const std::string& goal_id,
                            const std::string& parent_id = "");
domain::Kpi MakeKpi(const std::string& strategy, const std::string& id,
                    const std::string& measure_id,
                    domain::KpiKind kind = domain::KpiKind::kLevel);
domain::Observation MakeObservation(const std::string& kpi, int fiscal_year,
                                    double value);
domain::Evaluation MakeEvaluation(const std::string& measure, int fiscal_year,
                                  domain::Rating rating);

// Every field but the output-only ones (etag, times, revisions), one per
// line, so that EXPECT_EQ shows which differ.
std::string Content(const domain::Reference& r);
std::string Content(const domain::Strategy& s);
std::string Content(const domain::Goal& g);
std::string Content(const domain::Measure& m);
std::string Content(const domain::Kpi& k);
std::string Content(const domain::Observation& o);
std::string Content(const domain::Evaluation& e);
std::string Content(const domain::Dataset& d);
// Content plus revisions.
std::string History(const domain::Observation& o);

// `token` (web-safe base64, as page tokens are) with the first occurrence of
// `from` in its bytes replaced by `to`, as a client forging a cursor would
// do: "" when `token` does not decode or does not hold `from`.
std::string ReplaceInToken(const std::string& token, const std::string& from,
                           const std::string& to);

// Matches an OK StatusOr whose value matches `matcher`.
MATCHER_P(IsOkAndHolds, matcher, "is OK and holds a matching value") {
  if (!arg.ok()) {
    *result_listener << "status is " << arg.status();
    return false;
  }
  return ::testing::ExplainMatchResult(matcher, *arg, result_listener);
}

template <typename T>
std::vector<std::string> Names(const std::vector<T>& items) {
  std::vector<std::string> out;
  for (const T& item : items) out.push_back(item.name);
  return out;
}

}  // namespace kpi::storage::testing

#endif  // KPI_TESTS_STORAGE_TEST_STORE_H_
