#ifndef KPI_LIB_STORAGE_POSTGRES_POSTGRES_DATABASE_H_
#define KPI_LIB_STORAGE_POSTGRES_POSTGRES_DATABASE_H_

// The PostgreSQL backend (libpq): a pool of connections to one database.
// Write transactions run at READ COMMITTED behind the store's write lock
// (see sql_repository.h); reads at REPEATABLE READ, READ ONLY, one snapshot
// per call. A connection that broke (the server restarted, an administrator
// ended the session) is reset and the transaction retried once, unless it
// broke during COMMIT, whose outcome is then unknown: UNAVAILABLE.
// Serialization failures and deadlocks are retried a few times. Parameters
// are always bound ($1...), never spliced into SQL.

#include <memory>
#include <string_view>

#include "absl/status/statusor.h"
#include "lib/storage/sql_database.h"

namespace kpi::storage {

// Connects to the database of `url` (postgresql:// or postgres://), with up
// to `pool_size` connections. INVALID_ARGUMENT for a malformed URL;
// UNAVAILABLE when the server cannot be reached or refuses the connection.
// Messages name the host, port and database, never the password. The
// result is thread-safe.
absl::StatusOr<std::unique_ptr<SqlDatabase>> OpenPostgresDatabase(
    std::string_view url, int pool_size);

}  // namespace kpi::storage

#endif  // KPI_LIB_STORAGE_POSTGRES_POSTGRES_DATABASE_H_
