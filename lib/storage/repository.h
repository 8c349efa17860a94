#ifndef KPI_LIB_STORAGE_REPOSITORY_H_
#define KPI_LIB_STORAGE_REPOSITORY_H_

// The store of strategies, KPIs and observations. Two implementations, chosen
// by OpenRepository from the --db flag: SQLite (a file path; the embedded
// default) and PostgreSQL (a postgresql:// URL).
//
// A Repository is safe for concurrent use from multiple threads without
// external synchronization. Every acknowledged write is durable: it survives
// a crash of the process (SQLite: WAL with synchronous=FULL; PostgreSQL:
// committed transactions).
//
// Errors (absl codes, mapped one to one onto gRPC codes):
//   INVALID_ARGUMENT    malformed name, ID, filter, page token or field
//   NOT_FOUND           the resource, or the parent it is created under
//   ALREADY_EXISTS      Create of a name that exists
//   ABORTED             expected etag differs from the stored one
//   FAILED_PRECONDITION Delete of a resource with children without force;
//                       a reference to another resource that does not exist
//   UNAVAILABLE         the database cannot be reached (retry)
// Every message names the resource and, for INVALID_ARGUMENT, the field.

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "lib/base/clock.h"
#include "lib/domain/model.h"
#include "lib/storage/page_token.h"

namespace kpi::storage {

// A List call. Pagination tokens are opaque, stay valid under concurrent
// inserts (they encode the last name returned, not an offset) and are bound
// to the parent and filter they were issued for.
struct ListRequest {
  // "" for top-level collections. Any ID may be "-" for every one
  // (AIP-159): "strategies/s/measures/-" lists the evaluations of every
  // measure of s (NOT_FOUND when s does not exist).
  std::string parent;
  int page_size = 0;  // 0 means 100; capped at 1000; negative is invalid
  std::string page_token;
  // AIP-160 subset: conditions `field op value` joined by AND, op one of
  // = != < <= > >= and `:` (contains); values are numbers, enum names, or
  // quoted strings. Fields by collection:
  //   measures: goal, parent
  //   kpis: goal, measure, kind, unit, display_name (also `:`), status (of
  //         the latest observation), rating (of the latest evaluation of
  //         the KPI's measure)
  //   observations: status, fiscal_year
  //   evaluations: fiscal_year, rating
  // Names (goal, measure, parent) may be given as the ID alone, resolved
  // under the strategy of `parent`: `goal = g1`.
  std::string filter;
};

template <typename T>
struct Page {
  std::vector<T> items;         // in name order
  std::string next_page_token;  // "" on the last page
};

// A calibration of the forecast engine learned from the store's own history
// (ForecastService.CalibrateStore), kept so that every replica sharing the
// store uses the same one.
struct StoredCalibration {
  int64_t version = 0;  // 1, 2, ... in the order stored; set by the store
  std::string label;    // the calibration's version label ("store-3")
  std::string text;     // the calibration file (lib/forecast/model.h)
  int32_t series = 0;   // series it was learned from
  int64_t windows = 0;  // their rolling windows
  // Held-out score (lower is better) of this calibration and of the one in
  // use when it was learned, on the same windows (lib/forecast/learn.h).
  double score = 0;
  double previous_score = 0;
  std::string previous_label;  // the calibration in use then
  std::string creator;         // who asked for it
  absl::Time create_time;      // set by the store
};

struct ImportResult {
  int created_count = 0;
  int replaced_count = 0;
};

// Who made writes that no caller was named for (Repository::WithActor):
// kpi_server's own seeding, tools and tests working on the store directly.
inline constexpr std::string_view kSystemActor = "system";

// One committed write of one resource, as the change log keeps it. A write
// that rolled back has none. An import has one per resource it wrote, all
// with its sequence.
struct Change {
  // The store's change sequence the write set (its transaction's); with
  // `position` it orders the log.
  int64_t sequence = 0;
  // The place of this change among its transaction's, from 1.
  int32_t position = 1;
  absl::Time time = absl::UnixEpoch();
  // Who made it: the caller's token label, client certificate subject, or
  // "anonymous" (Repository::WithActor), or kSystemActor.
  std::string actor;
  // The operation: "CreateKpi", "UpdateObservation", "DeleteStrategy",
  // "ImportDataset" ... (the kpi.v1.KpiService method's name).
  std::string method;
  // The name of the resource written.
  std::string resource;
  // Its etag before and after the write; "" when it did not exist before (a
  // create) or no longer exists after (a delete).
  std::string etag_before;
  std::string etag_after;
  // What changed, briefly: an observation's old and new value and the
  // reason given, the children a forced delete removed, "created" or
  // "replaced" for an import; "" when there is nothing to add.
  std::string summary;
};

// A ListChanges call: newest first, paged like ListRequest (page tokens are
// bound to the filter fields).
struct ChangeListRequest {
  int page_size = 0;  // 0 means 100; capped at 1000; negative is invalid
  std::string page_token;
  // Only changes by this actor (exact); "" for all.
  std::string actor;
  // Only changes of this resource and the resources under it ("strategies/a"
  // also gives its KPIs' observations); "" for all. Must be a resource name
  // of some type.
  std::string resource;
  // Only changes made at or after start_time and before end_time; the
  // infinite defaults select all.
  absl::Time start_time = absl::InfinitePast();
  absl::Time end_time = absl::InfiniteFuture();
};

// The error of an import whose item `item` ("kpis[3]") names a resource
// `name` stored with another etag than the item's `etag`: ABORTED, with the
// item, the name, the etag (quoted, cut when long) and what is accepted.
// Pure; thread-safe.
absl::Status ImportEtagStale(std::string_view item, std::string_view name,
                             std::string_view etag);

class Repository {
 public:
  virtual ~Repository() = default;

  // Create* ignores the input's meta (etag, times) and sets them; the name
  // must be complete and its parent must exist. Update* replaces every
  // writable field with the given resource's; when `expected_etag` is not
  // empty it must equal the stored etag. Delete* with force also deletes the
  // children (goals, measures, KPIs, observations, evaluations).
  //
  // An etag is the store's change sequence at the resource's last write: it
  // changes on every write and is never reused, even after a delete and
  // re-create. Deleting a reference that KPI targets use is
  // FAILED_PRECONDITION even with force (those KPIs are not its children).
  // An observation's OBSERVATION_STATUS_UNSPECIFIED is stored as final, and
  // input revisions are ignored (output only). List of a parent that does
  // not exist is NOT_FOUND.

  virtual absl::StatusOr<domain::Reference> GetReference(
      std::string_view name) = 0;
  virtual absl::StatusOr<Page<domain::Reference>> ListReferences(
      const ListRequest& request) = 0;
  virtual absl::StatusOr<domain::Reference> CreateReference(
      const domain::Reference& reference) = 0;
  virtual absl::StatusOr<domain::Reference> UpdateReference(
      const domain::Reference& reference, std::string_view expected_etag) = 0;
  virtual absl::Status DeleteReference(std::string_view name,
                                       std::string_view expected_etag,
                                       bool force) = 0;

  virtual absl::StatusOr<domain::Strategy> GetStrategy(
      std::string_view name) = 0;
  virtual absl::StatusOr<Page<domain::Strategy>> ListStrategies(
      const ListRequest& request) = 0;
  virtual absl::StatusOr<domain::Strategy> CreateStrategy(
      const domain::Strategy& strategy) = 0;
  virtual absl::StatusOr<domain::Strategy> UpdateStrategy(
      const domain::Strategy& strategy, std::string_view expected_etag) = 0;
  virtual absl::Status DeleteStrategy(std::string_view name,
                                      std::string_view expected_etag,
                                      bool force) = 0;

  virtual absl::StatusOr<domain::Goal> GetGoal(std::string_view name) = 0;
  virtual absl::StatusOr<Page<domain::Goal>> ListGoals(
      const ListRequest& request) = 0;
  virtual absl::StatusOr<domain::Goal> CreateGoal(const domain::Goal& goal) = 0;
  virtual absl::StatusOr<domain::Goal> UpdateGoal(
      const domain::Goal& goal, std::string_view expected_etag) = 0;
  virtual absl::Status DeleteGoal(std::string_view name,
                                  std::string_view expected_etag,
                                  bool force) = 0;

  virtual absl::StatusOr<domain::Measure> GetMeasure(std::string_view name) = 0;
  virtual absl::StatusOr<Page<domain::Measure>> ListMeasures(
      const ListRequest& request) = 0;
  virtual absl::StatusOr<domain::Measure> CreateMeasure(
      const domain::Measure& measure) = 0;
  virtual absl::StatusOr<domain::Measure> UpdateMeasure(
      const domain::Measure& measure, std::string_view expected_etag) = 0;
  virtual absl::Status DeleteMeasure(std::string_view name,
                                     std::string_view expected_etag,
                                     bool force) = 0;

  virtual absl::StatusOr<domain::Kpi> GetKpi(std::string_view name) = 0;
  virtual absl::StatusOr<Page<domain::Kpi>> ListKpis(
      const ListRequest& request) = 0;
  virtual absl::StatusOr<domain::Kpi> CreateKpi(const domain::Kpi& kpi) = 0;
  virtual absl::StatusOr<domain::Kpi> UpdateKpi(
      const domain::Kpi& kpi, std::string_view expected_etag) = 0;
  virtual absl::Status DeleteKpi(std::string_view name,
                                 std::string_view expected_etag,
                                 bool force) = 0;

  virtual absl::StatusOr<domain::Observation> GetObservation(
      std::string_view name) = 0;
  virtual absl::StatusOr<Page<domain::Observation>> ListObservations(
      const ListRequest& request) = 0;
  virtual absl::StatusOr<domain::Observation> CreateObservation(
      const domain::Observation& observation) = 0;
  // When value, status or source_note change, the stored state before the
  // change is appended to `revisions` with `reason` and the time of change.
  virtual absl::StatusOr<domain::Observation> UpdateObservation(
      const domain::Observation& observation, std::string_view expected_etag,
      std::string_view reason) = 0;
  virtual absl::Status DeleteObservation(std::string_view name,
                                         std::string_view expected_etag,
                                         bool force) = 0;

  virtual absl::StatusOr<domain::Evaluation> GetEvaluation(
      std::string_view name) = 0;
  virtual absl::StatusOr<Page<domain::Evaluation>> ListEvaluations(
      const ListRequest& request) = 0;
  virtual absl::StatusOr<domain::Evaluation> CreateEvaluation(
      const domain::Evaluation& evaluation) = 0;
  virtual absl::StatusOr<domain::Evaluation> UpdateEvaluation(
      const domain::Evaluation& evaluation, std::string_view expected_etag) = 0;
  virtual absl::Status DeleteEvaluation(std::string_view name,
                                        std::string_view expected_etag,
                                        bool force) = 0;

  // Every observation of a KPI, in fiscal-year order, in one read (the
  // forecast path). NOT_FOUND when the KPI does not exist.
  virtual absl::StatusOr<std::vector<domain::Observation>> AllObservations(
      std::string_view kpi) = 0;

  // Writes a whole dataset in one transaction: every resource is created, or
  // replaced when its name exists (observation changes keep history with
  // reason "import"); either all of it is written or nothing is. The dataset
  // must already be valid (dataset::ValidateDataset); references between
  // resources are checked against the dataset and the store. An item's
  // meta.etag, when not empty, must equal the stored etag of the resource it
  // replaces (ImportEtagStale's ABORTED otherwise, checked inside the
  // transaction); an item that does not exist is created whatever its etag.
  // Its times are ignored. Errors name the item: FAILED_PRECONDITION
  // "kpis[3].measure: ..." for a resource found in neither, INVALID_ARGUMENT
  // for a malformed or duplicated name.
  virtual absl::StatusOr<ImportResult> ImportDataset(
      const domain::Dataset& dataset) = 0;

  // As ImportDataset, with every check and the same result or error, but
  // rolled back: nothing is written (AIP-163 validate_only). Takes the write
  // lock for as long as the import would.
  virtual absl::StatusOr<ImportResult> ValidateImport(
      const domain::Dataset& dataset) = 0;

  // As ImportDataset, but only into a store that holds no strategy, checked
  // inside the write transaction: of several replicas starting together on
  // one empty store, exactly one imports. nullopt when the store was not
  // empty (nothing written).
  virtual absl::StatusOr<std::optional<ImportResult>>
  ImportDatasetIntoEmptyStore(const domain::Dataset& dataset) = 0;

  // The whole store, or one strategy and the references its KPIs' targets
  // use when `strategy` is not empty (NOT_FOUND if it does not exist).
  // Lists are in name order.
  virtual absl::StatusOr<domain::Dataset> ExportDataset(
      std::string_view strategy) = 0;

  // A repository on the same store whose writes are recorded as made by
  // `actor` (the change log, the revisions of observations). Writes through
  // a repository that OpenRepository returned are recorded as kSystemActor.
  // The view shares this repository's connections and may outlive it.
  // Thread-safe; cheap (no I/O).
  virtual std::unique_ptr<Repository> WithActor(std::string_view actor) = 0;

  // The page tokens of this store (page_token.h), keyed with the store's
  // key, for listings paged outside the Repository (ExportDataset) to
  // encode and check theirs the same way. Lives as long as this repository.
  // Thread-safe; no I/O.
  virtual const PageTokens& page_tokens() const = 0;

  // The change log, newest first. INVALID_ARGUMENT (with a field violation)
  // for a negative page size, a malformed or foreign page token, a resource
  // filter that is not a resource name, or a start_time not before
  // end_time.
  virtual absl::StatusOr<Page<Change>> ListChanges(
      const ChangeListRequest& request) = 0;

  // True when the store holds no strategy (first start).
  virtual absl::StatusOr<bool> IsEmpty() = 0;

  // Stores `calibration` (its version, label and text must be set: the
  // version must be NextCalibrationVersion()'s, as the label names it) and,
  // when `activate`, makes it the active one, provided the active version is
  // still `expected_active` (0: none, the built-in calibration). A write:
  // ChangeSequence() changes, so every replica's projection cache misses.
  // ABORTED when another process stored that version or switched the active
  // one meanwhile (learn again); INVALID_ARGUMENT for a version below 1 or
  // an empty label or text. Returns it with create_time set.
  virtual absl::StatusOr<StoredCalibration> AddCalibration(
      const StoredCalibration& calibration, bool activate,
      int64_t expected_active) = 0;

  // The version the next AddCalibration should use: one more than the
  // largest stored.
  virtual absl::StatusOr<int64_t> NextCalibrationVersion() = 0;

  // The active calibration's version, 0 when none is (the engine's built-in
  // calibration is then in use). One single-row read.
  virtual absl::StatusOr<int64_t> ActiveCalibrationVersion() = 0;

  // A stored calibration. NOT_FOUND when no such version was stored.
  virtual absl::StatusOr<StoredCalibration> GetCalibration(int64_t version) = 0;

  // A number that changes after every committed write by any process
  // sharing the store (cache invalidation across replicas).
  virtual absl::StatusOr<int64_t> ChangeSequence() = 0;

  // What ChangeSequence() would return now, when that is known without I/O
  // and without waiting for another caller; nullopt otherwise (the caller
  // then reads ChangeSequence()). Never a value that a write committed
  // before the call has made stale, whichever process or connection made
  // it. SQLite: the value the last ChangeSequence() read, while the file's
  // data version (shared memory) shows no commit since; nullopt when every
  // watch connection is in use. PostgreSQL: always nullopt, so every check
  // reads the server. Thread-safe; never waits for I/O, a writer or the
  // network (only, on SQLite, for SQLite's in-process lock on the WAL index,
  // which another connection holds for one system call).
  virtual std::optional<int64_t> TryChangeSequence() { return std::nullopt; }
};

struct RepositoryOptions {
  const base::Clock* clock = base::Clock::Real();
  // PostgreSQL: connections in the pool.
  int pool_size = 8;
};

// Opens the store named by `db`: a file path (SQLite; created when missing,
// with its parent directory) or a "postgresql://" / "postgres://" URL.
// Applies pending schema migrations. INVALID_ARGUMENT for an unusable spec,
// UNAVAILABLE when the server cannot be reached, FAILED_PRECONDITION when the
// schema is newer than this binary knows.
absl::StatusOr<std::unique_ptr<Repository>> OpenRepository(
    std::string_view db, const RepositoryOptions& options = {});

}  // namespace kpi::storage

#endif  // KPI_LIB_STORAGE_REPOSITORY_H_
