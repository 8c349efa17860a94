#ifndef KPI_LIB_STORAGE_SQLITE_SQLITE_DATABASE_H_
#define KPI_LIB_STORAGE_SQLITE_SQLITE_DATABASE_H_

// The SQLite backend: a file opened through a pool of connections, each in
// WAL mode with synchronous=FULL (a committed write is on disk before the
// call returns), foreign keys on and a busy timeout for writers of other
// processes. Reads run concurrently; writes of this process queue on a
// mutex, then take the file's write lock with BEGIN IMMEDIATE. Commit
// watches are read-only connections of their own (PRAGMA data_version).

#include <memory>
#include <string_view>

#include "absl/status/statusor.h"
#include "lib/storage/sql_database.h"

namespace kpi::storage {

// Opens (creating when missing, with its parent directories) the SQLite
// database at `path`, with up to `pool_size` connections. INVALID_ARGUMENT
// when the directory cannot be created or the file is not an SQLite
// database; UNAVAILABLE when it cannot be opened. Thread-safe result.
absl::StatusOr<std::unique_ptr<SqlDatabase>> OpenSqliteDatabase(
    std::string_view path, int pool_size);

}  // namespace kpi::storage

#endif  // KPI_LIB_STORAGE_SQLITE_SQLITE_DATABASE_H_
