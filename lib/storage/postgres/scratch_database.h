#ifndef KPI_LIB_STORAGE_POSTGRES_SCRATCH_DATABASE_H_
#define KPI_LIB_STORAGE_POSTGRES_SCRATCH_DATABASE_H_

// Throwaway databases on a PostgreSQL server, for tests: each test gets its
// own, so tests can run in parallel on one server. Thread-safe.

#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace kpi::storage {

struct ScratchDatabase {
  std::string name;  // e.g. "kpi_test_1234_1_9f3a"
  std::string url;   // the admin URL with the database replaced
};

// Creates an empty database with a unique name, through `admin_url` (a URL
// of any database of the server, for a user allowed to create databases).
// UNAVAILABLE when the server cannot be reached; INTERNAL when it refuses.
absl::StatusOr<ScratchDatabase> CreateScratchDatabase(
    std::string_view admin_url);

// Drops the database `name`, ending its sessions first.
absl::Status DropScratchDatabase(std::string_view admin_url,
                                 std::string_view name);

// Ends every session on database `name` except the caller's, as a server
// restart would. Returns how many were ended.
absl::StatusOr<int> TerminateSessions(std::string_view admin_url,
                                      std::string_view name);

}  // namespace kpi::storage

#endif  // KPI_LIB_STORAGE_POSTGRES_SCRATCH_DATABASE_H_
