// OpenRepository: the factory that picks the backend from the --db string.

#include <memory>
#include <string_view>

#include "absl/strings/match.h"
#include "absl/strings/str_format.h"
#include "lib/base/status_macros.h"
#include "lib/storage/postgres/postgres_database.h"
#include "lib/storage/repository.h"
#include "lib/storage/sql_database.h"
#include "lib/storage/sql_repository.h"
#include "lib/storage/sqlite/sqlite_database.h"

namespace kpi::storage {

absl::StatusOr<std::unique_ptr<Repository>> OpenRepository(
    std::string_view db, const RepositoryOptions& options) {
  const absl::string_view spec(db.data(), db.size());
  if (spec.empty()) {
    return absl::InvalidArgumentError(
        "db: empty; accepted: a file path (SQLite, e.g. var/kpi.sqlite3) or a "
        "postgresql:// URL");
  }
  if (options.pool_size < 1) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "pool_size: %d; accepted: 1 or more connections", options.pool_size));
  }
  std::unique_ptr<SqlDatabase> database;
  if (absl::StartsWith(spec, "postgresql://") ||
      absl::StartsWith(spec, "postgres://")) {
    KPI_ASSIGN_OR_RETURN(database, OpenPostgresDatabase(db, options.pool_size));
  } else if (absl::StrContains(spec, "://")) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "db: \"%s\" has an unsupported scheme; accepted: a file path (SQLite) "
        "or a postgresql:// or postgres:// URL",
        spec.substr(0, spec.find("://") + 3)));
  } else {
    KPI_ASSIGN_OR_RETURN(database, OpenSqliteDatabase(db, options.pool_size));
  }
  return NewSqlRepository(std::move(database), options);
}

}  // namespace kpi::storage
