#ifndef KPI_LIB_STORAGE_SQL_DATABASE_H_
#define KPI_LIB_STORAGE_SQL_DATABASE_H_

// The seam between the shared repository logic (sql_repository.h) and the
// two SQL backends (sqlite/, postgres/). A backend only runs statements and
// transactions; every rule of the store lives above this interface, written
// once.
//
// Statements use PostgreSQL-style placeholders $1, $2, ...; the SQLite
// backend rewrites them. Values are always bound, never spliced into SQL.

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "absl/functional/function_ref.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/types/span.h"

namespace kpi::storage {

// A bound parameter or a result column: NULL, integer, real or text.
using SqlValue = std::variant<std::monostate, int64_t, double, std::string>;

// One result row. Accessors convert between numeric types; a NULL column
// reads as 0 or "". Immutable, so safe to read from several threads.
class SqlRow {
 public:
  explicit SqlRow(std::vector<SqlValue> columns)
      : columns_(std::move(columns)) {}

  size_t size() const { return columns_.size(); }
  bool IsNull(size_t i) const;
  int64_t Int(size_t i) const;
  double Double(size_t i) const;
  std::string Text(size_t i) const;

 private:
  std::vector<SqlValue> columns_;
};

enum class SqlDialect { kSqlite, kPostgres };

// A transaction in progress. Not thread-safe: used by the one thread that
// runs the transaction body.
class SqlTransaction {
 public:
  virtual ~SqlTransaction() = default;

  // Runs one statement with $1..$n bound to `params` and returns its rows.
  // Errors: ALREADY_EXISTS for a unique-key violation, FAILED_PRECONDITION
  // for a foreign-key violation, UNAVAILABLE when the database cannot be
  // reached, INTERNAL otherwise; the message includes the database's.
  virtual absl::StatusOr<std::vector<SqlRow>> Query(
      std::string_view sql, absl::Span<const SqlValue> params) = 0;

  // Runs one statement and returns the number of rows it changed. Errors as
  // for Query.
  virtual absl::StatusOr<int64_t> Exec(std::string_view sql,
                                       absl::Span<const SqlValue> params) = 0;
};

// A connection of its own that tells, without I/O, whether a write was
// committed since it last looked. Not thread-safe: one thread at a time.
class SqlCommitWatch {
 public:
  virtual ~SqlCommitWatch() = default;

  // A number that two calls return alike only if no write was committed
  // between them, through any connection of any process. nullopt when it
  // cannot be read now without waiting for a writer (e.g. during recovery).
  virtual std::optional<int64_t> DataVersion() = 0;
};

enum class TransactionMode {
  // A consistent snapshot; no writes.
  kRead,
  // Writes. The body must start by taking the store's write lock (the
  // change-sequence row, see sql_repository.cc), which orders all writers of
  // all processes sharing the store.
  kWrite,
};

// A database reached through a pool of connections. Thread-safe.
class SqlDatabase {
 public:
  virtual ~SqlDatabase() = default;

  virtual SqlDialect dialect() const = 0;

  // Runs `body` in a transaction and commits when it returns OK; rolls back
  // and returns its status otherwise. The backend may run `body` again after
  // a transient failure (a serialization conflict, a connection that broke
  // before the commit), so `body` must reset whatever it outputs. Returns
  // UNAVAILABLE when the database cannot be reached, or when the connection
  // broke during COMMIT (the outcome is then unknown).
  virtual absl::Status Transact(
      TransactionMode mode,
      absl::FunctionRef<absl::Status(SqlTransaction&)> body) = 0;

  // A new connection that tells whether anything was committed (what
  // Repository::TryChangeSequence builds on), or null when the backend has
  // none (the default; PostgreSQL). UNAVAILABLE when it cannot be opened.
  virtual absl::StatusOr<std::unique_ptr<SqlCommitWatch>> NewCommitWatch() {
    return nullptr;
  }
};

}  // namespace kpi::storage

#endif  // KPI_LIB_STORAGE_SQL_DATABASE_H_
