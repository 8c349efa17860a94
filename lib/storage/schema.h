#ifndef KPI_LIB_STORAGE_SCHEMA_H_
#define KPI_LIB_STORAGE_SCHEMA_H_

// Versioned schema migrations, the same for both backends. The applied
// versions are rows of the schema_version table; the pending migrations run
// in one transaction, so a store is always at a whole version.

#include "absl/status/status.h"
#include "lib/base/clock.h"
#include "lib/storage/sql_database.h"

namespace kpi::storage {

// The newest schema version this binary knows.
int LatestSchemaVersion();

// Brings the store to LatestSchemaVersion(). Safe when several processes
// start at once on one PostgreSQL database (they take turns). Errors:
// FAILED_PRECONDITION when the store's version is newer than this binary's;
// the database's errors otherwise.
absl::Status ApplyMigrations(SqlDatabase& db, const base::Clock& clock);

// As ApplyMigrations, but only up to `version` (1 to LatestSchemaVersion()):
// a store as an older binary left it, for migration tests.
// INVALID_ARGUMENT for a version out of range.
absl::Status ApplyMigrationsUpTo(SqlDatabase& db, const base::Clock& clock,
                                 int version);

}  // namespace kpi::storage

#endif  // KPI_LIB_STORAGE_SCHEMA_H_
