#ifndef KPI_SERVICES_SERVER_STORE_CALIBRATION_H_
#define KPI_SERVICES_SERVER_STORE_CALIBRATION_H_

// The calibration a server projects with, and the store calibrating itself
// (ForecastService.CalibrateStore and GetCalibrationSkill).
//
// A server either follows the store or is pinned to a calibration
// (kpi_server --calibration FILE). Following the store, it uses the
// calibration the store marks active (storage::Repository::
// ActiveCalibrationVersion; 0 is the built-in one), shared by every replica
// of the store:
//   - at start (Refresh);
//   - on a ProjectKpi cache miss, whose store state (ChangeSequence) is read
//     anyway: when it differs from the state last checked, one more
//     single-row read tells the active version, and another version is
//     loaded. A switch is a write, so it changes the state and every
//     replica's cached projections miss: no projection made with the old
//     calibration is served after the switch is seen;
//   - for calls that do not read the store state (ad-hoc series, batches),
//     at most once per check interval (30 s by default).
//
// Learning is plain lib/forecast/learn.h on the stored KPIs' histories
// (forecast::TrainingSeriesOf: kinds, shocks and carried-over values as the
// engine fits them), shrunk toward the built-in calibration, bounded to
// kMaxCalibrationSeries series (an even sample of the KPIs beyond) and a
// deadline. Only a calibration that switches is stored.
//
// Thread-safe.

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "lib/domain/model.h"
#include "lib/forecast/engine.h"
#include "lib/forecast/learn.h"
#include "lib/forecast/training_data.h"
#include "lib/storage/repository.h"

namespace kpi::services {

// At most this many KPIs are learned from or scored (CPU bound: learning
// costs about a second per thousand series on one core).
inline constexpr int kMaxCalibrationSeries = 2000;
// The longest CalibrateStore may learn, whatever the call's deadline.
inline constexpr absl::Duration kMaxCalibrationTime = absl::Minutes(5);

// The histories a calibration learns from: every KPI of `dataset` with two
// points or more on its scale, in name order (forecast::TrainingSeriesOf),
// at most `max_series` of them spread evenly over the KPIs. `*sampled`:
// whether some were left out for the cap. Thread-safe.
std::vector<forecast::TrainingSeries> StoreHistories(
    const domain::Dataset& dataset, int max_series, bool* sampled);

// The held-out figures of a calibration, with the number of KPIs the store
// held that were too short to score.
struct Skill {
  std::string calibration_version;
  forecast::HeldOutScore score;
  bool sampled = false;
};

struct CalibrateOutcome {
  int64_t version = 0;  // stored version, 0 when nothing was stored
  std::string label;    // the new calibration's version label
  bool switched = false;
  std::string reason;
  Skill candidate;             // two-fold cross-validated
  Skill in_use;                // the calibration in use, on the same windows
  double shrink_strength = 0;  // infinity: the built-in kept
  int series_skipped = 0;
  std::string in_use_after;  // the calibration in use after the call
};

class StoreCalibration {
 public:
  // `repository` is not owned and must outlive this. `pinned` (not owned,
  // must outlive this) fixes the calibration: the store's is never read and
  // Calibrate is FAILED_PRECONDITION. Null follows the store, starting with
  // the built-in calibration until Refresh or a check reads the store.
  StoreCalibration(storage::Repository* repository,
                   const forecast::Engine* pinned,
                   absl::Duration check_interval = absl::Seconds(30));

  // Reads the active version and loads it. The store's errors; INTERNAL
  // when the stored calibration does not parse (it is kept out of use).
  absl::Status Refresh();

  // The engine to project with, for data read after ChangeSequence()
  // returned `sequence` (see above). Never fails: when the store cannot be
  // read, the engine in use stays.
  std::shared_ptr<const forecast::Engine> At(int64_t sequence);
  // The engine to project with when no store state was read: the one in
  // use, checked against the store at most once per check interval.
  std::shared_ptr<const forecast::Engine> Current();

  // CalibrateStore. `creator` is recorded with a stored calibration;
  // `deadline` bounds the learning (capped at kMaxCalibrationTime from now).
  // Errors as ForecastService.CalibrateStore documents them.
  absl::StatusOr<CalibrateOutcome> Calibrate(bool validate_only, bool force,
                                             const std::string& creator,
                                             absl::Time deadline);

  // GetCalibrationSkill: the calibration in use on the store's histories.
  // Computed once per store state and calibration (repeated calls are
  // answered from memory). FAILED_PRECONDITION when no KPI has two points.
  absl::StatusOr<Skill> CurrentSkill();

  bool pinned() const { return pinned_ != nullptr; }

 private:
  // The engine of stored version `version` (0: the built-in).
  absl::StatusOr<std::shared_ptr<const forecast::Engine>> Load(int64_t version);
  // Makes `version` the one in use, loading it unless it already is.
  absl::Status Use(int64_t version);
  absl::StatusOr<std::vector<forecast::TrainingSeries>> Histories(
      bool* sampled);

  storage::Repository* const repository_;
  const forecast::Engine* const pinned_;
  const absl::Duration check_interval_;

  mutable absl::Mutex mu_;
  std::shared_ptr<const forecast::Engine> engine_ ABSL_GUARDED_BY(mu_);
  int64_t version_ ABSL_GUARDED_BY(mu_) = 0;
  // The store state at the last check of the active version.
  std::optional<int64_t> checked_sequence_ ABSL_GUARDED_BY(mu_);
  absl::Time last_check_ ABSL_GUARDED_BY(mu_) = absl::InfinitePast();

  // One CalibrateStore at a time on this server.
  absl::Mutex calibrate_mu_;
  // GetCalibrationSkill's last answer and the state it is valid at.
  absl::Mutex skill_mu_;
  struct CachedSkill {
    int64_t sequence;
    std::string calibration;
    Skill skill;
  };
  std::optional<CachedSkill> skill_ ABSL_GUARDED_BY(skill_mu_);
};

}  // namespace kpi::services

#endif  // KPI_SERVICES_SERVER_STORE_CALIBRATION_H_
