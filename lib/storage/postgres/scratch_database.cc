#include "lib/storage/postgres/scratch_database.h"

#include <libpq-fe.h>
#include <unistd.h>

#include <atomic>
#include <cctype>
#include <memory>
#include <random>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"

namespace kpi::storage {
namespace {

absl::string_view AsAbsl(std::string_view s) { return {s.data(), s.size()}; }

struct ConnDeleter {
  void operator()(PGconn* c) const { PQfinish(c); }
};
using Conn = std::unique_ptr<PGconn, ConnDeleter>;

absl::StatusOr<Conn> Connect(std::string_view url) {
  Conn conn(PQconnectdb(std::string(url).c_str()));
  if (conn == nullptr || PQstatus(conn.get()) != CONNECTION_OK) {
    return absl::UnavailableError(absl::StrCat(
        "postgresql: cannot connect for test setup: ",
        conn != nullptr ? PQerrorMessage(conn.get()) : "out of memory"));
  }
  PQsetNoticeProcessor(
      conn.get(), [](void*, const char*) {}, nullptr);
  return conn;
}

// Runs `sql` with text parameters; returns the first column of each row.
absl::StatusOr<std::vector<std::string>> Run(
    PGconn* conn, const std::string& sql,
    const std::vector<std::string>& params = {}) {
  std::vector<const char*> values;
  for (const std::string& p : params) values.push_back(p.c_str());
  PGresult* result =
      PQexecParams(conn, sql.c_str(), static_cast<int>(params.size()), nullptr,
                   values.data(), nullptr, nullptr, 0);
  const ExecStatusType status = PQresultStatus(result);
  std::vector<std::string> out;
  if (status == PGRES_TUPLES_OK) {
    for (int r = 0; r < PQntuples(result); ++r) {
      out.emplace_back(PQgetvalue(result, r, 0));
    }
  }
  std::string error = PQresultErrorMessage(result);
  PQclear(result);
  if (status != PGRES_TUPLES_OK && status != PGRES_COMMAND_OK) {
    return absl::InternalError(absl::StrCat("postgresql: ", sql, ": ", error));
  }
  return out;
}

// Database names are generated here, so quoting is not needed; checking
// them keeps a caller's name from reaching SQL as anything else.
bool IsScratchName(std::string_view name) {
  if (name.empty() || name.size() > 63) return false;
  for (char c : name) {
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_')) {
      return false;
    }
  }
  return true;
}

std::string PercentEncode(std::string_view s) {
  std::string out;
  for (unsigned char c : s) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out.push_back(static_cast<char>(c));
    } else {
      absl::StrAppendFormat(&out, "%%%02X", c);
    }
  }
  return out;
}

// `url` with its database replaced by `name`; every other setting is kept,
// moved to query parameters.
absl::StatusOr<std::string> WithDatabase(std::string_view url,
                                         std::string_view name) {
  char* error = nullptr;
  PQconninfoOption* options = PQconninfoParse(std::string(url).c_str(), &error);
  if (options == nullptr) {
    std::string message = error != nullptr ? error : "";
    PQfreemem(error);
    return absl::InvalidArgumentError(
        absl::StrCat("not a PostgreSQL URL: ", message));
  }
  std::vector<std::string> params;
  for (PQconninfoOption* o = options; o->keyword != nullptr; ++o) {
    if (o->val == nullptr || std::string_view(o->keyword) == "dbname") continue;
    params.push_back(absl::StrCat(o->keyword, "=", PercentEncode(o->val)));
  }
  PQconninfoFree(options);
  return absl::StrCat("postgresql:///", AsAbsl(name), "?",
                      absl::StrJoin(params, "&"));
}

}  // namespace

absl::StatusOr<ScratchDatabase> CreateScratchDatabase(
    std::string_view admin_url) {
  static std::atomic<int> counter{0};
  std::random_device random;
  ScratchDatabase db;
  db.name =
      absl::StrFormat("kpi_test_%d_%d_%08x", getpid(), ++counter, random());
  auto url = WithDatabase(admin_url, db.name);
  if (!url.ok()) return url.status();
  db.url = *url;
  auto conn = Connect(admin_url);
  if (!conn.ok()) return conn.status();
  auto created =
      Run(conn->get(), absl::StrCat("CREATE DATABASE ", db.name,
                                    " TEMPLATE template0 ENCODING 'UTF8'"));
  if (!created.ok()) return created.status();
  return db;
}

absl::Status DropScratchDatabase(std::string_view admin_url,
                                 std::string_view name) {
  if (!IsScratchName(name)) {
    return absl::InvalidArgumentError(
        absl::StrCat("not a scratch database name: ", AsAbsl(name)));
  }
  auto conn = Connect(admin_url);
  if (!conn.ok()) return conn.status();
  return Run(conn->get(), absl::StrCat("DROP DATABASE IF EXISTS ", AsAbsl(name),
                                       " WITH (FORCE)"))
      .status();
}

absl::StatusOr<int> TerminateSessions(std::string_view admin_url,
                                      std::string_view name) {
  auto conn = Connect(admin_url);
  if (!conn.ok()) return conn.status();
  auto ended = Run(conn->get(),
                   "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                   "WHERE datname = $1 AND pid <> pg_backend_pid()",
                   {std::string(name)});
  if (!ended.ok()) return ended.status();
  return static_cast<int>(ended->size());
}

}  // namespace kpi::storage
