#ifndef KPI_LIB_STORAGE_SQL_REPOSITORY_H_
#define KPI_LIB_STORAGE_SQL_REPOSITORY_H_

// The Repository over any SqlDatabase: names, referential rules, etags,
// observation history, filters, pagination, import and export, written once
// for both backends.
//
// Consistency: every write transaction first increments the change-sequence
// row. That row lock orders all writers of every process sharing the store,
// so checks made inside a write (existence, etags, children) cannot be
// invalidated before the commit, in SQLite (BEGIN IMMEDIATE) and in
// PostgreSQL (READ COMMITTED: each later statement sees every write
// committed before the lock was granted). The new sequence number is the
// revision of every row the transaction writes, and a row's etag is its
// revision: it changes on every write and is never reused, even after a
// delete and re-create. Reads run in one snapshot (a deferred SQLite
// transaction; PostgreSQL REPEATABLE READ, READ ONLY).

#include <memory>

#include "absl/status/statusor.h"
#include "lib/storage/repository.h"
#include "lib/storage/sql_database.h"

namespace kpi::storage {

// Applies the schema migrations to `db` and returns the repository on it.
// Errors as for OpenRepository.
absl::StatusOr<std::unique_ptr<Repository>> NewSqlRepository(
    std::unique_ptr<SqlDatabase> db, const RepositoryOptions& options);

}  // namespace kpi::storage

#endif  // KPI_LIB_STORAGE_SQL_REPOSITORY_H_
