#include "lib/storage/postgres/postgres_database.h"

#include <libpq-fe.h>

#include <cmath>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "lib/base/status_macros.h"
#include "lib/storage/connection_pool.h"

namespace kpi::storage {
namespace {

absl::string_view AsAbsl(std::string_view s) { return {s.data(), s.size()}; }

constexpr absl::Duration kPoolWait = absl::Seconds(30);
constexpr int kMaxConflictRetries = 10;

// Type OIDs (pg_type.h, stable across releases).
constexpr Oid kBoolOid = 16;
constexpr Oid kInt8Oid = 20;
constexpr Oid kInt2Oid = 21;
constexpr Oid kInt4Oid = 23;
constexpr Oid kTextOid = 25;
constexpr Oid kFloat4Oid = 700;
constexpr Oid kFloat8Oid = 701;

struct ResultDeleter {
  void operator()(PGresult* r) const { PQclear(r); }
};
using Result = std::unique_ptr<PGresult, ResultDeleter>;

// Where a connection goes, for messages: never the password.
std::string Describe(PGconn* conn) {
  const char* db = PQdb(conn);
  const char* host = PQhost(conn);
  const char* port = PQport(conn);
  return absl::StrFormat("database \"%s\" at %s:%s", db != nullptr ? db : "",
                         host != nullptr ? host : "",
                         port != nullptr ? port : "");
}

std::string CleanMessage(const char* message) {
  std::string out = message != nullptr ? message : "";
  absl::StripAsciiWhitespace(&out);
  for (char& c : out) {
    if (c == '\n') c = ' ';
  }
  return out;
}

class PgConnection {
 public:
  static absl::StatusOr<std::unique_ptr<PgConnection>> Connect(
      const std::string& url) {
    // Keywords after "dbname" override the URL's; those before are
    // defaults it may override.
    const char* keys[] = {"connect_timeout", "application_name", "dbname",
                          "client_encoding", nullptr};
    const char* values[] = {"10", "kpi", url.c_str(), "UTF8", nullptr};
    auto conn = std::unique_ptr<PgConnection>(
        new PgConnection(PQconnectdbParams(keys, values, /*expand_dbname=*/1)));
    if (conn->conn_ == nullptr) {
      return absl::ResourceExhaustedError("postgresql: out of memory");
    }
    PQsetNoticeProcessor(
        conn->conn_, [](void*, const char*) {}, nullptr);
    if (PQstatus(conn->conn_) != CONNECTION_OK) return conn->ConnectError();
    return conn;
  }

  ~PgConnection() { PQfinish(conn_); }

  PGconn* get() const { return conn_; }
  bool ok() const { return PQstatus(conn_) == CONNECTION_OK; }

  // Reconnects with the same parameters. UNAVAILABLE when that fails.
  absl::Status Reset() {
    PQreset(conn_);
    return ok() ? absl::OkStatus() : ConnectError();
  }

 private:
  explicit PgConnection(PGconn* conn) : conn_(conn) {}

  absl::Status ConnectError() const {
    return absl::UnavailableError(
        absl::StrFormat("postgresql: cannot connect to %s: %s", Describe(conn_),
                        CleanMessage(PQerrorMessage(conn_))));
  }

  PGconn* const conn_;
};

class PgTransaction : public SqlTransaction {
 public:
  explicit PgTransaction(PGconn* conn) : conn_(conn) {}

  absl::StatusOr<std::vector<SqlRow>> Query(
      std::string_view sql, absl::Span<const SqlValue> params) override {
    KPI_ASSIGN_OR_RETURN(Result result, Run(sql, params));
    std::vector<SqlRow> rows;
    const int n = PQntuples(result.get());
    const int m = PQnfields(result.get());
    rows.reserve(n);
    for (int r = 0; r < n; ++r) {
      std::vector<SqlValue> columns;
      columns.reserve(m);
      for (int c = 0; c < m; ++c) {
        if (PQgetisnull(result.get(), r, c)) {
          columns.emplace_back();
          continue;
        }
        const char* text = PQgetvalue(result.get(), r, c);
        switch (PQftype(result.get(), c)) {
          case kInt8Oid:
          case kInt4Oid:
          case kInt2Oid: {
            int64_t v = 0;
            if (!absl::SimpleAtoi(text, &v)) return Unparsable(text, sql);
            columns.emplace_back(v);
            break;
          }
          case kBoolOid:
            columns.emplace_back(int64_t{text[0] == 't' ? 1 : 0});
            break;
          case kFloat8Oid:
          case kFloat4Oid: {
            double v = 0;
            if (!absl::SimpleAtod(text, &v)) return Unparsable(text, sql);
            columns.emplace_back(v);
            break;
          }
          default:
            columns.emplace_back(
                std::string(text, PQgetlength(result.get(), r, c)));
        }
      }
      rows.emplace_back(std::move(columns));
    }
    return rows;
  }

  absl::StatusOr<int64_t> Exec(std::string_view sql,
                               absl::Span<const SqlValue> params) override {
    KPI_ASSIGN_OR_RETURN(Result result, Run(sql, params));
    int64_t changed = 0;
    const char* tuples = PQcmdTuples(result.get());
    if (tuples != nullptr && tuples[0] != '\0') {
      (void)absl::SimpleAtoi(tuples, &changed);
    }
    return changed;
  }

  // The connection broke: the server has rolled the transaction back.
  bool broken() const { return broken_; }
  // A serialization failure or deadlock: the transaction may be retried.
  bool conflict() const { return conflict_; }

 private:
  static absl::Status Unparsable(const char* text, std::string_view sql) {
    return absl::InternalError(absl::StrFormat(
        "postgresql: cannot read the value \"%s\" returned by %s", text,
        AsAbsl(sql)));
  }

  absl::StatusOr<Result> Run(std::string_view sql,
                             absl::Span<const SqlValue> params) {
    std::vector<std::string> texts(params.size());
    std::vector<const char*> values(params.size(), nullptr);
    std::vector<Oid> types(params.size(), 0);
    for (size_t i = 0; i < params.size(); ++i) {
      const SqlValue& v = params[i];
      if (const auto* n = std::get_if<int64_t>(&v)) {
        texts[i] = absl::StrCat(*n);
        types[i] = kInt8Oid;
      } else if (const auto* d = std::get_if<double>(&v)) {
        // 17 significant digits read back as the same double.
        texts[i] = std::isnan(*d)   ? "NaN"
                   : std::isinf(*d) ? (*d > 0 ? "Infinity" : "-Infinity")
                                    : absl::StrFormat("%.17g", *d);
        types[i] = kFloat8Oid;
      } else if (const auto* s = std::get_if<std::string>(&v)) {
        texts[i] = *s;
        types[i] = kTextOid;
      } else {
        continue;  // NULL
      }
      values[i] = texts[i].c_str();
    }
    const std::string statement(sql);
    Result result(PQexecParams(conn_, statement.c_str(),
                               static_cast<int>(params.size()), types.data(),
                               values.data(), nullptr, nullptr, 0));
    const ExecStatusType status =
        result != nullptr ? PQresultStatus(result.get()) : PGRES_FATAL_ERROR;
    if (status == PGRES_COMMAND_OK || status == PGRES_TUPLES_OK) {
      return result;
    }
    return Error(result.get(), statement);
  }

  absl::Status Error(PGresult* result, std::string_view sql) {
    const char* field = result != nullptr
                            ? PQresultErrorField(result, PG_DIAG_SQLSTATE)
                            : nullptr;
    const std::string state = field != nullptr ? field : "";
    const std::string message =
        CleanMessage(result != nullptr ? PQresultErrorMessage(result)
                                       : PQerrorMessage(conn_));
    if (PQstatus(conn_) == CONNECTION_BAD || absl::StartsWith(state, "08") ||
        state == "57P01" || state == "57P02" || state == "57P03") {
      broken_ = true;
      return absl::UnavailableError(
          absl::StrFormat("postgresql: lost the connection to %s: %s",
                          Describe(conn_), message));
    }
    if (state == "40001" || state == "40P01") {
      conflict_ = true;
      return absl::AbortedError(absl::StrCat(
          "postgresql: the transaction conflicted with a concurrent one and "
          "was rolled back; retry: ",
          message));
    }
    const std::string text = absl::StrFormat(
        "postgresql: %s (SQLSTATE %s) in: %s", message, state, AsAbsl(sql));
    if (state == "23505") return absl::AlreadyExistsError(text);
    if (state == "23503") return absl::FailedPreconditionError(text);
    if (state == "57014") return absl::DeadlineExceededError(text);
    if (state == "53100" || state == "53200") {
      return absl::ResourceExhaustedError(text);
    }
    return absl::InternalError(text);
  }

  PGconn* const conn_;
  bool broken_ = false;
  bool conflict_ = false;
};

class PostgresDatabase : public SqlDatabase {
 public:
  PostgresDatabase(std::string url, int pool_size)
      : pool_(pool_size, kPoolWait,
              [url = std::move(url)]() { return PgConnection::Connect(url); }) {
  }

  SqlDialect dialect() const override { return SqlDialect::kPostgres; }

  absl::Status Check() { return pool_.Acquire().status(); }

  absl::Status Transact(
      TransactionMode mode,
      absl::FunctionRef<absl::Status(SqlTransaction&)> body) override {
    // One connection for every attempt: after a restart the other pooled
    // connections are broken too.
    KPI_ASSIGN_OR_RETURN(ConnectionPool<PgConnection>::Lease conn,
                         pool_.Acquire());
    bool reconnected = false;
    if (!conn->ok()) {
      // A reset failed earlier (the server was down): try again now.
      KPI_RETURN_IF_ERROR(conn->Reset());
      reconnected = true;
    }
    for (int conflicts = 0;;) {
      PgTransaction tx(conn->get());
      bool committing = false;
      absl::Status status = RunOnce(tx, mode, body, &committing);
      if (status.ok()) return status;
      if (tx.broken()) {
        if (committing) {
          return absl::UnavailableError(absl::StrCat(
              status.message(),
              " (during COMMIT: the write may or may not have been applied; "
              "read it back before retrying)"));
        }
        if (reconnected) return status;
        // The server restarted or ended the session: nothing was
        // committed, so reconnect and run the transaction once more.
        reconnected = true;
        KPI_RETURN_IF_ERROR(conn->Reset());
        continue;
      }
      if (tx.conflict() && ++conflicts < kMaxConflictRetries) {
        absl::SleepFor(absl::Milliseconds(conflicts));
        continue;
      }
      return status;
    }
  }

 private:
  static absl::Status RunOnce(
      PgTransaction& tx, TransactionMode mode,
      absl::FunctionRef<absl::Status(SqlTransaction&)> body, bool* committing) {
    // Writes: READ COMMITTED is enough because every write transaction
    // first locks the change-sequence row, so writers run one at a time and
    // each statement sees all earlier commits. Reads: one snapshot.
    KPI_RETURN_IF_ERROR(
        tx.Exec(mode == TransactionMode::kWrite
                    ? "BEGIN ISOLATION LEVEL READ COMMITTED, READ WRITE"
                    : "BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY",
                {})
            .status());
    absl::Status status = body(tx);
    if (!status.ok()) {
      if (!tx.broken()) (void)tx.Exec("ROLLBACK", {});
      return status;
    }
    *committing = true;
    return tx.Exec("COMMIT", {}).status();
  }

  ConnectionPool<PgConnection> pool_;
};

}  // namespace

absl::StatusOr<std::unique_ptr<SqlDatabase>> OpenPostgresDatabase(
    std::string_view url, int pool_size) {
  char* error = nullptr;
  PQconninfoOption* options = PQconninfoParse(std::string(url).c_str(), &error);
  if (options == nullptr) {
    std::string message = CleanMessage(error);
    PQfreemem(error);
    return absl::InvalidArgumentError(
        absl::StrFormat("db: not a usable PostgreSQL URL: %s; accepted: "
                        "postgresql://user@host:port/database[?param=value...]",
                        message));
  }
  PQconninfoFree(options);
  auto db = std::make_unique<PostgresDatabase>(std::string(url), pool_size);
  KPI_RETURN_IF_ERROR(db->Check());
  return db;
}

}  // namespace kpi::storage
