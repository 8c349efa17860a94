#include "lib/storage/sqlite/sqlite_database.h"

#include <sqlite3.h>

#include <cctype>
#include <filesystem>
#include <optional>
#include <string>
#include <system_error>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "lib/base/status_macros.h"
#include "lib/storage/connection_pool.h"

namespace kpi::storage {
namespace {

absl::string_view AsAbsl(std::string_view s) { return {s.data(), s.size()}; }

// Writers of other processes hold the file's lock for one transaction;
// waiting longer than this means something is stuck.
constexpr int kBusyTimeoutMs = 10000;
constexpr absl::Duration kPoolWait = absl::Seconds(30);

// SQLite numbers ?NNN parameters as PostgreSQL numbers $NNN.
std::string ToSqlitePlaceholders(std::string_view sql) {
  std::string out(sql);
  for (size_t i = 0; i + 1 < out.size(); ++i) {
    if (out[i] == '$' && std::isdigit(static_cast<unsigned char>(out[i + 1]))) {
      out[i] = '?';
    }
  }
  return out;
}

// `rc` is an extended result code (extended codes are enabled).
absl::Status SqliteError(int rc, sqlite3* db, std::string_view what) {
  const std::string message =
      absl::StrCat("sqlite: ", AsAbsl(what), ": ",
                   db != nullptr ? sqlite3_errmsg(db) : sqlite3_errstr(rc));
  switch (rc) {
    case SQLITE_CONSTRAINT_PRIMARYKEY:
    case SQLITE_CONSTRAINT_UNIQUE:
      return absl::AlreadyExistsError(message);
    case SQLITE_CONSTRAINT_FOREIGNKEY:
      return absl::FailedPreconditionError(message);
    default:
      break;
  }
  switch (rc & 0xff) {
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
      return absl::UnavailableError(absl::StrCat(
          message, " (another process held the write lock for more than ",
          kBusyTimeoutMs / 1000, " s; retry)"));
    case SQLITE_NOTADB:
      return absl::InvalidArgumentError(message);
    case SQLITE_CORRUPT:
      return absl::DataLossError(message);
    case SQLITE_FULL:
      return absl::ResourceExhaustedError(message);
    case SQLITE_CANTOPEN:
    case SQLITE_PERM:
    case SQLITE_READONLY:
    case SQLITE_IOERR:
      return absl::UnavailableError(message);
    default:
      return absl::InternalError(message);
  }
}

// One connection. Not thread-safe: the pool lends it to one thread at a
// time (SQLITE_OPEN_NOMUTEX).
class SqliteConnection {
 public:
  static absl::StatusOr<std::unique_ptr<SqliteConnection>> Open(
      const std::string& path) {
    sqlite3* db = nullptr;
    const int rc = sqlite3_open_v2(
        path.c_str(), &db,
        SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX,
        nullptr);
    auto conn = std::unique_ptr<SqliteConnection>(new SqliteConnection(db));
    if (rc != SQLITE_OK) {
      return SqliteError(rc, db, absl::StrCat("cannot open ", path));
    }
    sqlite3_extended_result_codes(db, 1);
    sqlite3_busy_timeout(db, kBusyTimeoutMs);
    std::string mode;
    const int wal = sqlite3_exec(
        db, "PRAGMA journal_mode=WAL",
        [](void* out, int, char** values, char**) {
          *static_cast<std::string*>(out) =
              values[0] != nullptr ? values[0] : "";
          return 0;
        },
        &mode, nullptr);
    if (wal != SQLITE_OK) {
      return SqliteError(
          wal, db, absl::StrCat(path, " is not a usable SQLite database"));
    }
    if (mode != "wal") {
      return absl::InvalidArgumentError(
          absl::StrFormat("sqlite: %s: cannot use write-ahead logging (journal "
                          "mode is \"%s\"); "
                          "accepted: a file on a local file system",
                          path, mode));
    }
    // FULL: the WAL is synced at every commit, so an acknowledged write
    // survives a crash of the process and of the machine.
    KPI_RETURN_IF_ERROR(conn->ExecPlain("PRAGMA synchronous=FULL"));
    KPI_RETURN_IF_ERROR(conn->ExecPlain("PRAGMA foreign_keys=ON"));
    return conn;
  }

  // A connection that can only read and never waits for a lock (no busy
  // timeout), for SqliteCommitWatch: read-only because PRAGMA data_version
  // ignores the connection's own commits; this one has none.
  static absl::StatusOr<std::unique_ptr<SqliteConnection>> OpenReadOnly(
      const std::string& path) {
    sqlite3* db = nullptr;
    const int rc = sqlite3_open_v2(
        path.c_str(), &db, SQLITE_OPEN_READONLY | SQLITE_OPEN_NOMUTEX, nullptr);
    auto conn = std::unique_ptr<SqliteConnection>(new SqliteConnection(db));
    if (rc != SQLITE_OK) {
      return SqliteError(rc, db, absl::StrCat("cannot open ", path));
    }
    sqlite3_extended_result_codes(db, 1);
    return conn;
  }

  ~SqliteConnection() {
    for (auto& [sql, statement] : statements_) sqlite3_finalize(statement);
    sqlite3_close_v2(db_);
  }

  sqlite3* db() const { return db_; }

  absl::Status ExecPlain(const char* sql) {
    const int rc = sqlite3_exec(db_, sql, nullptr, nullptr, nullptr);
    if (rc != SQLITE_OK) return SqliteError(rc, db_, sql);
    return absl::OkStatus();
  }

  // A prepared statement for `sql`, cached for the connection's life.
  absl::StatusOr<sqlite3_stmt*> Prepare(std::string_view sql) {
    auto it = statements_.find(AsAbsl(sql));
    if (it != statements_.end()) return it->second;
    const std::string text = ToSqlitePlaceholders(sql);
    sqlite3_stmt* statement = nullptr;
    const int rc =
        sqlite3_prepare_v3(db_, text.c_str(), static_cast<int>(text.size() + 1),
                           SQLITE_PREPARE_PERSISTENT, &statement, nullptr);
    if (rc != SQLITE_OK) {
      return SqliteError(rc, db_, absl::StrCat("preparing ", text));
    }
    statements_.emplace(std::string(sql), statement);
    return statement;
  }

 private:
  explicit SqliteConnection(sqlite3* db) : db_(db) {}
  sqlite3* const db_;
  absl::flat_hash_map<std::string, sqlite3_stmt*> statements_;
};

class SqliteTransaction : public SqlTransaction {
 public:
  explicit SqliteTransaction(SqliteConnection& conn) : conn_(conn) {}

  absl::StatusOr<std::vector<SqlRow>> Query(
      std::string_view sql, absl::Span<const SqlValue> params) override {
    std::vector<SqlRow> rows;
    KPI_RETURN_IF_ERROR(Run(sql, params, &rows));
    return rows;
  }

  absl::StatusOr<int64_t> Exec(std::string_view sql,
                               absl::Span<const SqlValue> params) override {
    KPI_RETURN_IF_ERROR(Run(sql, params, nullptr));
    return static_cast<int64_t>(sqlite3_changes(conn_.db()));
  }

 private:
  absl::Status Run(std::string_view sql, absl::Span<const SqlValue> params,
                   std::vector<SqlRow>* rows) {
    KPI_ASSIGN_OR_RETURN(sqlite3_stmt * statement, conn_.Prepare(sql));
    absl::Status status = BindAndStep(statement, sql, params, rows);
    sqlite3_reset(statement);
    sqlite3_clear_bindings(statement);
    return status;
  }

  absl::Status BindAndStep(sqlite3_stmt* statement, std::string_view sql,
                           absl::Span<const SqlValue> params,
                           std::vector<SqlRow>* rows) {
    sqlite3* db = conn_.db();
    if (sqlite3_bind_parameter_count(statement) !=
        static_cast<int>(params.size())) {
      return absl::InternalError(absl::StrFormat(
          "sqlite: %d parameters given for %s", params.size(), AsAbsl(sql)));
    }
    for (size_t i = 0; i < params.size(); ++i) {
      const int index = static_cast<int>(i) + 1;
      const SqlValue& v = params[i];
      int rc = SQLITE_OK;
      if (const auto* n = std::get_if<int64_t>(&v)) {
        rc = sqlite3_bind_int64(statement, index, *n);
      } else if (const auto* d = std::get_if<double>(&v)) {
        rc = sqlite3_bind_double(statement, index, *d);
      } else if (const auto* s = std::get_if<std::string>(&v)) {
        rc = sqlite3_bind_text64(statement, index, s->data(), s->size(),
                                 SQLITE_TRANSIENT, SQLITE_UTF8);
      } else {
        rc = sqlite3_bind_null(statement, index);
      }
      if (rc != SQLITE_OK) return SqliteError(rc, db, "binding a parameter");
    }
    while (true) {
      const int rc = sqlite3_step(statement);
      if (rc == SQLITE_DONE) return absl::OkStatus();
      if (rc != SQLITE_ROW) return SqliteError(rc, db, sql);
      if (rows == nullptr) continue;
      const int n = sqlite3_column_count(statement);
      std::vector<SqlValue> columns;
      columns.reserve(n);
      for (int c = 0; c < n; ++c) {
        switch (sqlite3_column_type(statement, c)) {
          case SQLITE_INTEGER:
            columns.emplace_back(
                static_cast<int64_t>(sqlite3_column_int64(statement, c)));
            break;
          case SQLITE_FLOAT:
            columns.emplace_back(sqlite3_column_double(statement, c));
            break;
          case SQLITE_NULL:
            columns.emplace_back();
            break;
          default: {
            const auto* text = reinterpret_cast<const char*>(
                sqlite3_column_text(statement, c));
            const int bytes = sqlite3_column_bytes(statement, c);
            columns.emplace_back(std::string(text != nullptr ? text : "",
                                             text != nullptr ? bytes : 0));
          }
        }
      }
      rows->emplace_back(std::move(columns));
    }
  }

  SqliteConnection& conn_;
};

// PRAGMA data_version changes whenever another connection, of this process
// or another, has committed since this connection's previous read; the
// connection is read-only, so every commit is another's. In WAL mode it
// compares the WAL index header in shared memory with the one seen last,
// and only after a change reads page 1 again (from the OS cache). Readers
// do not wait for writers in WAL mode, and with no busy timeout an
// SQLITE_BUSY (e.g. during WAL recovery) reads as nullopt; what it may wait
// for is SQLite's in-process mutex on the WAL index, held by another
// connection of this process around one fcntl() call. The statement is
// reset at once, so that no snapshot is held to stall checkpoints.
class SqliteCommitWatch : public SqlCommitWatch {
 public:
  explicit SqliteCommitWatch(std::unique_ptr<SqliteConnection> conn)
      : conn_(std::move(conn)) {}

  std::optional<int64_t> DataVersion() override {
    absl::StatusOr<sqlite3_stmt*> statement =
        conn_->Prepare("PRAGMA data_version");
    if (!statement.ok()) return std::nullopt;
    std::optional<int64_t> version;
    if (sqlite3_step(*statement) == SQLITE_ROW) {
      version = sqlite3_column_int64(*statement, 0);
    }
    sqlite3_reset(*statement);
    return version;
  }

 private:
  const std::unique_ptr<SqliteConnection> conn_;
};

class SqliteDatabase : public SqlDatabase {
 public:
  SqliteDatabase(std::string path, int pool_size)
      : path_(std::move(path)), pool_(pool_size, kPoolWait, [path = path_]() {
          return SqliteConnection::Open(path);
        }) {}

  SqlDialect dialect() const override { return SqlDialect::kSqlite; }

  absl::Status Check() { return pool_.Acquire().status(); }

  absl::StatusOr<std::unique_ptr<SqlCommitWatch>> NewCommitWatch() override {
    KPI_ASSIGN_OR_RETURN(std::unique_ptr<SqliteConnection> conn,
                         SqliteConnection::OpenReadOnly(path_));
    return std::make_unique<SqliteCommitWatch>(std::move(conn));
  }

  absl::Status Transact(
      TransactionMode mode,
      absl::FunctionRef<absl::Status(SqlTransaction&)> body) override {
    // Writers of this process wait here rather than in SQLite's busy
    // handler, which polls; the file lock then orders processes. They wait
    // before taking a connection, so that readers are not starved of them.
    std::optional<absl::MutexLock> writer;
    if (mode == TransactionMode::kWrite) writer.emplace(&writer_mu_);
    KPI_ASSIGN_OR_RETURN(ConnectionPool<SqliteConnection>::Lease conn,
                         pool_.Acquire());
    KPI_RETURN_IF_ERROR(conn->ExecPlain(
        mode == TransactionMode::kWrite ? "BEGIN IMMEDIATE" : "BEGIN"));
    SqliteTransaction tx(*conn);
    absl::Status status = body(tx);
    if (status.ok()) {
      status = conn->ExecPlain("COMMIT");
      if (status.ok()) return status;
    }
    if (sqlite3_get_autocommit(conn->db()) == 0 &&
        !conn->ExecPlain("ROLLBACK").ok()) {
      conn.Discard();  // a connection stuck in a transaction is unusable
    }
    return status;
  }

 private:
  const std::string path_;
  // Held for a whole write transaction; orders this process's writers.
  absl::Mutex writer_mu_;
  ConnectionPool<SqliteConnection> pool_;
};

}  // namespace

absl::StatusOr<std::unique_ptr<SqlDatabase>> OpenSqliteDatabase(
    std::string_view path, int pool_size) {
  if (path.empty()) {
    return absl::InvalidArgumentError(
        "db: empty; accepted: a file path (SQLite) or a postgresql:// URL");
  }
  const std::filesystem::path file{std::string(path)};
  if (file.has_parent_path()) {
    std::error_code error;
    std::filesystem::create_directories(file.parent_path(), error);
    if (error) {
      return absl::InvalidArgumentError(absl::StrFormat(
          "db: cannot create the directory %s for the SQLite database: %s",
          file.parent_path().string(), error.message()));
    }
  }
  auto db = std::make_unique<SqliteDatabase>(std::string(path), pool_size);
  // Opens the first connection now, so that a bad file fails at start.
  KPI_RETURN_IF_ERROR(db->Check());
  return db;
}

}  // namespace kpi::storage
