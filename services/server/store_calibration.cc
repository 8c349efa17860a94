#include "services/server/store_calibration.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/clock.h"
#include "lib/base/status_macros.h"
#include "lib/domain/validation.h"

namespace kpi::services {
namespace {

// A stored KPI as the engine would read it for a projection after its last
// observation (ForecastService's ProjectStored, without the target).
forecast::SeriesInput InputOf(
    const domain::Kpi& kpi,
    const std::vector<const domain::Observation*>& observations) {
  forecast::SeriesInput input;
  input.id = kpi.name;
  for (const domain::Observation* o : observations) {
    forecast::Point point;
    point.fiscal_year = o->fiscal_year;
    point.first_fiscal_year = o->first_fiscal_year;
    point.aggregation = o->aggregation;
    point.value = o->value;
    point.status = o->status == domain::ObservationStatus::kUnspecified
                       ? domain::ObservationStatus::kFinal
                       : o->status;
    input.points.push_back(point);
  }
  input.kind = kpi.kind;
  input.direction = kpi.direction;
  input.value_domain = domain::EffectiveValueDomain(kpi);
  input.unit = kpi.unit;
  input.period_first_fiscal_year = kpi.period_first_fiscal_year;
  input.baseline = kpi.baseline;
  input.shock_fiscal_years = kpi.shock_fiscal_years;
  return input;
}

std::shared_ptr<const forecast::Engine> Unowned(const forecast::Engine* e) {
  return std::shared_ptr<const forecast::Engine>(
      e, [](const forecast::Engine*) {});
}

}  // namespace

std::vector<forecast::TrainingSeries> StoreHistories(
    const domain::Dataset& dataset, int max_series, bool* sampled) {
  std::map<std::string, std::vector<const domain::Observation*>> by_kpi;
  for (const domain::Observation& o : dataset.observations) {
    // strategies/{s}/kpis/{k}/observations/{o}: the KPI is the prefix.
    const size_t cut = o.name.rfind("/observations/");
    if (cut == std::string::npos) continue;
    by_kpi[o.name.substr(0, cut)].push_back(&o);
  }
  std::vector<const domain::Kpi*> kpis;
  for (const domain::Kpi& k : dataset.kpis) kpis.push_back(&k);
  std::sort(kpis.begin(), kpis.end(),
            [](const domain::Kpi* a, const domain::Kpi* b) {
              return a->name < b->name;
            });
  std::vector<forecast::TrainingSeries> all;
  for (const domain::Kpi* k : kpis) {
    auto it = by_kpi.find(k->name);
    if (it == by_kpi.end()) continue;
    std::optional<forecast::TrainingSeries> s =
        forecast::TrainingSeriesOf(InputOf(*k, it->second));
    if (s.has_value()) all.push_back(*std::move(s));
  }
  *sampled = static_cast<int>(all.size()) > max_series;
  if (!*sampled) return all;
  // Evenly spread, deterministic: the same store gives the same sample.
  std::vector<forecast::TrainingSeries> out;
  out.reserve(max_series);
  for (int i = 0; i < max_series; ++i) {
    out.push_back(
        std::move(all[static_cast<size_t>(i) * all.size() / max_series]));
  }
  return out;
}

StoreCalibration::StoreCalibration(storage::Repository* repository,
                                   const forecast::Engine* pinned,
                                   absl::Duration check_interval)
    : repository_(repository),
      pinned_(pinned),
      check_interval_(check_interval),
      engine_(
          Unowned(pinned != nullptr ? pinned : &forecast::DefaultEngine())) {}

absl::StatusOr<std::shared_ptr<const forecast::Engine>> StoreCalibration::Load(
    int64_t version) {
  if (version == 0) return Unowned(&forecast::DefaultEngine());
  KPI_ASSIGN_OR_RETURN(storage::StoredCalibration stored,
                       repository_->GetCalibration(version));
  absl::StatusOr<std::unique_ptr<forecast::Engine>> engine =
      forecast::Engine::Create(stored.text);
  if (!engine.ok()) {
    return absl::InternalError(absl::StrFormat(
        "the store's calibration version %d (%s) does not parse: %s", version,
        stored.label, engine.status().message()));
  }
  return std::shared_ptr<const forecast::Engine>(*std::move(engine));
}

absl::Status StoreCalibration::Use(int64_t version) {
  {
    absl::MutexLock lock(&mu_);
    if (version == version_) return absl::OkStatus();
  }
  // Loaded outside the lock: projections go on with the engine in use.
  KPI_ASSIGN_OR_RETURN(std::shared_ptr<const forecast::Engine> engine,
                       Load(version));
  absl::MutexLock lock(&mu_);
  engine_ = std::move(engine);
  version_ = version;
  return absl::OkStatus();
}

absl::Status StoreCalibration::Refresh() {
  if (pinned()) return absl::OkStatus();
  KPI_ASSIGN_OR_RETURN(const int64_t sequence, repository_->ChangeSequence());
  KPI_ASSIGN_OR_RETURN(const int64_t active,
                       repository_->ActiveCalibrationVersion());
  KPI_RETURN_IF_ERROR(Use(active));
  absl::MutexLock lock(&mu_);
  checked_sequence_ = sequence;
  last_check_ = absl::Now();
  return absl::OkStatus();
}

std::shared_ptr<const forecast::Engine> StoreCalibration::At(int64_t sequence) {
  if (!pinned()) {
    bool check;
    {
      absl::MutexLock lock(&mu_);
      check = checked_sequence_ != sequence;
    }
    if (check) {
      // Read after `sequence` was: the version is at least as new as the
      // state the caller's data is read at.
      absl::StatusOr<int64_t> active = repository_->ActiveCalibrationVersion();
      if (active.ok() && Use(*active).ok()) {
        absl::MutexLock lock(&mu_);
        checked_sequence_ = sequence;
        last_check_ = absl::Now();
      }
    }
  }
  absl::MutexLock lock(&mu_);
  return engine_;
}

std::shared_ptr<const forecast::Engine> StoreCalibration::Current() {
  if (!pinned()) {
    bool check = false;
    {
      absl::MutexLock lock(&mu_);
      const absl::Time now = absl::Now();
      if (now - last_check_ >= check_interval_) {
        // One caller checks; the others go on meanwhile.
        last_check_ = now;
        check = true;
      }
    }
    if (check) {
      absl::StatusOr<int64_t> sequence = repository_->ChangeSequence();
      if (sequence.ok()) return At(*sequence);
    }
  }
  absl::MutexLock lock(&mu_);
  return engine_;
}

absl::StatusOr<std::vector<forecast::TrainingSeries>>
StoreCalibration::Histories(bool* sampled) {
  KPI_ASSIGN_OR_RETURN(const domain::Dataset dataset,
                       repository_->ExportDataset(""));
  std::vector<forecast::TrainingSeries> series =
      StoreHistories(dataset, kMaxCalibrationSeries, sampled);
  if (series.empty()) {
    return absl::FailedPreconditionError(absl::StrFormat(
        "none of the store's %d KPIs has two observations or more on its "
        "scale (shock years and carried-over values left out); add "
        "observations with KpiService first",
        dataset.kpis.size()));
  }
  return series;
}

absl::StatusOr<CalibrateOutcome> StoreCalibration::Calibrate(
    bool validate_only, bool force, const std::string& creator,
    absl::Time deadline) {
  if (pinned()) {
    return absl::FailedPreconditionError(absl::StrCat(
        "this server projects with a fixed calibration (",
        pinned_->calibration_version(),
        ", kpi_server --calibration) and does not follow the store's; run "
        "CalibrateStore on a server started without --calibration"));
  }
  if (!calibrate_mu_.TryLock()) {
    return absl::AbortedError(
        "a CalibrateStore call is already learning on this server; wait for "
        "it and call again");
  }
  struct Unlock {
    absl::Mutex* mu;
    ~Unlock() { mu->Unlock(); }
  } unlock{&calibrate_mu_};
  deadline = std::min(deadline, absl::Now() + kMaxCalibrationTime);

  // The calibration in use is the store's active one, whatever this replica
  // last loaded.
  KPI_ASSIGN_OR_RETURN(const int64_t active,
                       repository_->ActiveCalibrationVersion());
  KPI_ASSIGN_OR_RETURN(const std::shared_ptr<const forecast::Engine> in_use,
                       Load(active));
  bool sampled = false;
  KPI_ASSIGN_OR_RETURN(const std::vector<forecast::TrainingSeries> series,
                       Histories(&sampled));
  KPI_ASSIGN_OR_RETURN(const int64_t next,
                       repository_->NextCalibrationVersion());
  forecast::LearnOptions options;
  options.version = absl::StrCat("store-", next);
  options.prior = &forecast::DefaultEngine().calibration();
  options.source_label = "the store's KPIs";
  options.deadline = deadline;
  absl::StatusOr<forecast::LearnedCalibration> learned =
      forecast::LearnCalibration(series, options);
  if (!learned.ok()) {
    if (absl::IsDeadlineExceeded(learned.status())) {
      return absl::DeadlineExceededError(absl::StrFormat(
          "learning from %d KPIs did not finish within the call's deadline "
          "(at most %s); call again with a longer deadline",
          series.size(), absl::FormatDuration(kMaxCalibrationTime)));
    }
    return learned.status();
  }
  if (absl::Now() >= deadline) {
    return absl::DeadlineExceededError(
        "learning finished, but the deadline passed before the calibration "
        "in use was scored; call again with a longer deadline");
  }

  CalibrateOutcome out;
  out.label = options.version;
  out.series_skipped = learned->report.series_skipped;
  out.shrink_strength = learned->report.strength;
  out.in_use.calibration_version = in_use->calibration_version();
  out.in_use.score = forecast::ScoreCalibration(in_use->calibration(), series);
  out.in_use.sampled = sampled;
  out.candidate.calibration_version = out.label;
  out.candidate.score = learned->report.held_out;
  out.candidate.score.series = out.in_use.score.series;
  out.candidate.score.windows = out.in_use.score.windows;
  out.candidate.sampled = sampled;

  const double candidate = out.candidate.score.score;
  const double current = out.in_use.score.score;
  const bool better = candidate < current;
  if (std::isinf(learned->report.strength) && active == 0) {
    out.reason = absl::StrFormat(
        "cross-validation kept the built-in calibration as it is (%d KPIs "
        "say too little to depart from it); nothing to switch to",
        series.size());
  } else if (better) {
    out.reason = absl::StrFormat(
        "it scores %.4f out of sample against %.4f for %s (lower is better)",
        candidate, current, out.in_use.calibration_version);
  } else {
    out.reason = absl::StrFormat(
        "it scores %.4f out of sample, not better than %.4f for %s%s",
        candidate, current, out.in_use.calibration_version,
        force ? "; switched anyway (force)" : "");
  }
  const bool nothing_new = std::isinf(learned->report.strength) && active == 0;
  out.switched = !validate_only && !nothing_new && (better || force);
  if (validate_only) {
    absl::StrAppend(&out.reason, "; validate_only: nothing stored");
  }
  if (out.switched) {
    absl::StatusOr<std::unique_ptr<forecast::Engine>> engine =
        forecast::Engine::Create(learned->text);
    if (!engine.ok()) {
      return absl::InternalError(absl::StrCat(
          "the learned calibration does not parse back; nothing stored: ",
          engine.status().message()));
    }
    storage::StoredCalibration stored;
    stored.version = next;
    stored.label = out.label;
    stored.text = learned->text;
    stored.series = out.in_use.score.series;
    stored.windows = learned->report.windows;
    stored.score = candidate;
    stored.previous_score = current;
    stored.previous_label = out.in_use.calibration_version;
    stored.creator = creator;
    KPI_ASSIGN_OR_RETURN(storage::StoredCalibration added,
                         repository_->AddCalibration(stored, true, active));
    out.version = added.version;
    // This replica switches at once; the others at their next check.
    absl::MutexLock lock(&mu_);
    engine_ = std::shared_ptr<const forecast::Engine>(*std::move(engine));
    version_ = added.version;
    checked_sequence_.reset();
  }
  out.in_use_after = out.switched ? out.label : out.in_use.calibration_version;
  return out;
}

absl::StatusOr<Skill> StoreCalibration::CurrentSkill() {
  KPI_ASSIGN_OR_RETURN(const int64_t sequence, repository_->ChangeSequence());
  const std::shared_ptr<const forecast::Engine> engine =
      pinned() ? Unowned(pinned_) : At(sequence);
  absl::MutexLock lock(&skill_mu_);
  if (skill_.has_value() && skill_->sequence == sequence &&
      skill_->calibration == engine->calibration_version()) {
    return skill_->skill;
  }
  bool sampled = false;
  KPI_ASSIGN_OR_RETURN(const std::vector<forecast::TrainingSeries> series,
                       Histories(&sampled));
  Skill skill;
  skill.calibration_version = engine->calibration_version();
  skill.score = forecast::ScoreCalibration(engine->calibration(), series);
  skill.sampled = sampled;
  skill_ = CachedSkill{sequence, skill.calibration_version, skill};
  return skill;
}

}  // namespace kpi::services
