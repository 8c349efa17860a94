#include "lib/storage/schema.h"

#include <string>
#include <string_view>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_replace.h"
#include "lib/base/status_macros.h"

namespace kpi::storage {
namespace {

// Statements of each version, in order; version N is kMigrations[N - 1].
// {name} is the type of resource-name columns: names sort bytewise (the
// List order and page tokens depend on it), which PostgreSQL only does with
// the "C" collation. Times are Unix nanoseconds; enums their proto numbers;
// `revision` is the change sequence of the row's last write (its etag).
const std::vector<std::vector<std::string_view>>& Migrations() {
  static const auto* const kMigrations =
      new std::vector<std::vector<std::string_view>>{
          {
              R"(CREATE TABLE store_state (
                   id INTEGER PRIMARY KEY CHECK (id = 1),
                   change_sequence BIGINT NOT NULL))",
              "INSERT INTO store_state (id, change_sequence) VALUES (1, 0)",
              R"(CREATE TABLE reference_tables (
                   name {name} PRIMARY KEY,
                   display_name TEXT NOT NULL,
                   english_name TEXT NOT NULL,
                   unit TEXT NOT NULL,
                   source TEXT NOT NULL,
                   revision BIGINT NOT NULL,
                   create_time BIGINT NOT NULL,
                   update_time BIGINT NOT NULL))",
              R"(CREATE TABLE reference_values (
                   reference {name} NOT NULL
                     REFERENCES reference_tables (name) ON DELETE CASCADE,
                   position INTEGER NOT NULL,
                   effective_date TEXT NOT NULL,
                   value DOUBLE PRECISION NOT NULL,
                   PRIMARY KEY (reference, position)))",
              R"(CREATE TABLE strategies (
                   name {name} PRIMARY KEY,
                   display_name TEXT NOT NULL,
                   english_name TEXT NOT NULL,
                   municipality TEXT NOT NULL,
                   municipality_code TEXT NOT NULL,
                   first_fiscal_year INTEGER NOT NULL,
                   last_fiscal_year INTEGER NOT NULL,
                   source TEXT NOT NULL,
                   revision BIGINT NOT NULL,
                   create_time BIGINT NOT NULL,
                   update_time BIGINT NOT NULL))",
              R"(CREATE TABLE goals (
                   name {name} PRIMARY KEY,
                   parent {name} NOT NULL
                     REFERENCES strategies (name) ON DELETE CASCADE,
                   number INTEGER NOT NULL,
                   display_name TEXT NOT NULL,
                   english_name TEXT NOT NULL,
                   revision BIGINT NOT NULL,
                   create_time BIGINT NOT NULL,
                   update_time BIGINT NOT NULL))",
              "CREATE INDEX goals_by_parent ON goals (parent, name)",
              R"(CREATE TABLE measures (
                   name {name} PRIMARY KEY,
                   parent {name} NOT NULL
                     REFERENCES strategies (name) ON DELETE CASCADE,
                   goal {name} NOT NULL
                     REFERENCES goals (name) ON DELETE CASCADE,
                   parent_measure {name}
                     REFERENCES measures (name) ON DELETE CASCADE,
                   code TEXT NOT NULL,
                   display_name TEXT NOT NULL,
                   english_name TEXT NOT NULL,
                   revision BIGINT NOT NULL,
                   create_time BIGINT NOT NULL,
                   update_time BIGINT NOT NULL))",
              "CREATE INDEX measures_by_parent ON measures (parent, name)",
              "CREATE INDEX measures_by_goal ON measures (goal)",
              "CREATE INDEX measures_by_parent_measure ON measures "
              "(parent_measure)",
              R"(CREATE TABLE kpis (
                   name {name} PRIMARY KEY,
                   parent {name} NOT NULL
                     REFERENCES strategies (name) ON DELETE CASCADE,
                   measure {name} NOT NULL
                     REFERENCES measures (name) ON DELETE CASCADE,
                   display_name TEXT NOT NULL,
                   english_name TEXT NOT NULL,
                   unit TEXT NOT NULL,
                   kind INTEGER NOT NULL,
                   direction INTEGER NOT NULL,
                   value_domain INTEGER NOT NULL,
                   baseline_value DOUBLE PRECISION,
                   baseline_fiscal_year INTEGER,
                   baseline_first_fiscal_year INTEGER,
                   baseline_aggregation INTEGER,
                   baseline_label TEXT,
                   target_value DOUBLE PRECISION,
                   target_reference {name} REFERENCES reference_tables (name),
                   target_fiscal_year INTEGER NOT NULL,
                   target_label TEXT NOT NULL,
                   period_first_fiscal_year INTEGER NOT NULL,
                   measurement_note TEXT NOT NULL,
                   shock_fiscal_years TEXT NOT NULL,
                   ordinal INTEGER NOT NULL,
                   revision BIGINT NOT NULL,
                   create_time BIGINT NOT NULL,
                   update_time BIGINT NOT NULL))",
              "CREATE INDEX kpis_by_parent ON kpis (parent, name)",
              "CREATE INDEX kpis_by_measure ON kpis (measure)",
              "CREATE INDEX kpis_by_target_reference ON kpis "
              "(target_reference)",
              R"(CREATE TABLE observations (
                   name {name} PRIMARY KEY,
                   parent {name} NOT NULL
                     REFERENCES kpis (name) ON DELETE CASCADE,
                   fiscal_year INTEGER NOT NULL,
                   first_fiscal_year INTEGER NOT NULL,
                   aggregation INTEGER NOT NULL,
                   value DOUBLE PRECISION NOT NULL,
                   status INTEGER NOT NULL,
                   source_note TEXT NOT NULL,
                   reported_fiscal_year INTEGER NOT NULL,
                   revision BIGINT NOT NULL,
                   create_time BIGINT NOT NULL,
                   update_time BIGINT NOT NULL))",
              "CREATE INDEX observations_by_parent ON observations "
              "(parent, name)",
              R"(CREATE TABLE observation_revisions (
                   observation {name} NOT NULL
                     REFERENCES observations (name) ON DELETE CASCADE,
                   position INTEGER NOT NULL,
                   value DOUBLE PRECISION NOT NULL,
                   status INTEGER NOT NULL,
                   source_note TEXT NOT NULL,
                   revise_time BIGINT NOT NULL,
                   reason TEXT NOT NULL,
                   PRIMARY KEY (observation, position)))",
              R"(CREATE TABLE evaluations (
                   name {name} PRIMARY KEY,
                   parent {name} NOT NULL
                     REFERENCES measures (name) ON DELETE CASCADE,
                   fiscal_year INTEGER NOT NULL,
                   rating INTEGER NOT NULL,
                   kpi_assessment TEXT NOT NULL,
                   outlook TEXT NOT NULL,
                   viewpoint TEXT NOT NULL,
                   revision BIGINT NOT NULL,
                   create_time BIGINT NOT NULL,
                   update_time BIGINT NOT NULL))",
              "CREATE INDEX evaluations_by_parent ON evaluations "
              "(parent, name)",
          },
          // 2: calibrations learned from the store (ForecastService.
          // CalibrateStore), every one kept; the active one is shared by
          // the replicas (0: the built-in calibration).
          {
              R"(CREATE TABLE calibrations (
                   version BIGINT PRIMARY KEY,
                   label TEXT NOT NULL,
                   body TEXT NOT NULL,
                   series INTEGER NOT NULL,
                   windows BIGINT NOT NULL,
                   score DOUBLE PRECISION NOT NULL,
                   previous_score DOUBLE PRECISION NOT NULL,
                   previous_label TEXT NOT NULL,
                   creator TEXT NOT NULL,
                   create_time BIGINT NOT NULL))",
              R"(CREATE TABLE calibration_state (
                   id INTEGER PRIMARY KEY CHECK (id = 1),
                   active_version BIGINT NOT NULL))",
              "INSERT INTO calibration_state (id, active_version) VALUES (1, "
              "0)",
          },
          // 3: who made each write. Revisions made before it have actor ''.
          // change_log rows outlive the resources they name (no foreign
          // key), so a deleted resource's history stays listable.
          {
              "ALTER TABLE observation_revisions "
              "ADD COLUMN actor TEXT NOT NULL DEFAULT ''",
              R"(CREATE TABLE change_log (
                   sequence BIGINT NOT NULL,
                   position INTEGER NOT NULL,
                   change_time BIGINT NOT NULL,
                   actor TEXT NOT NULL,
                   method TEXT NOT NULL,
                   resource {name} NOT NULL,
                   etag_before TEXT NOT NULL,
                   etag_after TEXT NOT NULL,
                   summary TEXT NOT NULL,
                   PRIMARY KEY (sequence, position)))",
              "CREATE INDEX change_log_by_actor ON change_log "
              "(actor, sequence, position)",
              "CREATE INDEX change_log_by_resource ON change_log "
              "(resource, sequence, position)",
          },
          // 4: the key of the store's page tokens (page_token.h), 32 random
          // bytes in hexadecimal, shared by every replica. The row is
          // written when a repository first opens the store
          // (sql_repository.cc): a statement cannot draw random bytes in
          // both dialects.
          {
              R"(CREATE TABLE page_token_key (
                   id INTEGER PRIMARY KEY CHECK (id = 1),
                   key_hex TEXT NOT NULL,
                   create_time BIGINT NOT NULL))",
          },
      };
  return *kMigrations;
}

// Any constant: PostgreSQL advisory locks are keyed by a number.
constexpr int64_t kMigrationLockKey = 0x6b70692d6d6967;  // "kpi-mig"

}  // namespace

int LatestSchemaVersion() { return static_cast<int>(Migrations().size()); }

absl::Status ApplyMigrations(SqlDatabase& db, const base::Clock& clock) {
  return ApplyMigrationsUpTo(db, clock, LatestSchemaVersion());
}

absl::Status ApplyMigrationsUpTo(SqlDatabase& db, const base::Clock& clock,
                                 int version) {
  if (version < 1 || version > LatestSchemaVersion()) {
    return absl::InvalidArgumentError(
        absl::StrFormat("schema version %d; accepted: 1 to %d", version,
                        LatestSchemaVersion()));
  }
  const std::string name_type =
      db.dialect() == SqlDialect::kPostgres ? "TEXT COLLATE \"C\"" : "TEXT";
  return db.Transact(
      TransactionMode::kWrite, [&](SqlTransaction& tx) -> absl::Status {
        if (db.dialect() == SqlDialect::kPostgres) {
          // Replicas starting together would race on CREATE TABLE.
          KPI_RETURN_IF_ERROR(
              tx.Query("SELECT pg_advisory_xact_lock($1)", {kMigrationLockKey})
                  .status());
        }
        KPI_RETURN_IF_ERROR(
            tx.Exec(R"(CREATE TABLE IF NOT EXISTS schema_version (
                                         version INTEGER PRIMARY KEY,
                                         apply_time BIGINT NOT NULL))",
                    {})
                .status());
        KPI_ASSIGN_OR_RETURN(
            std::vector<SqlRow> rows,
            tx.Query("SELECT COALESCE(MAX(version), 0) FROM schema_version",
                     {}));
        const int64_t current = rows.empty() ? 0 : rows[0].Int(0);
        if (current > LatestSchemaVersion()) {
          return absl::FailedPreconditionError(absl::StrFormat(
              "the store's schema is at version %d, newer than the %d this "
              "binary knows; run a newer kpi_server, or restore a backup "
              "made with this version",
              current, LatestSchemaVersion()));
        }
        for (int64_t v = current + 1; v <= version; ++v) {
          for (std::string_view statement : Migrations()[v - 1]) {
            std::string sql = absl::StrReplaceAll(
                absl::string_view(statement.data(), statement.size()),
                {{"{name}", name_type}});
            absl::Status s = tx.Exec(sql, {}).status();
            if (!s.ok()) {
              return absl::Status(
                  s.code(), absl::StrCat("schema migration to version ", v,
                                         " failed: ", s.message()));
            }
          }
          KPI_RETURN_IF_ERROR(
              tx.Exec("INSERT INTO schema_version (version, apply_time) "
                      "VALUES ($1, $2)",
                      {v, absl::ToUnixNanos(clock.Now())})
                  .status());
        }
        return absl::OkStatus();
      });
}

}  // namespace kpi::storage
