#include "lib/forecast/engine.h"

#include <algorithm>
#include <cmath>
#include <functional>
#include <limits>
#include <map>
#include <set>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "lib/base/field_violations.h"
#include "lib/forecast/embedded_calibration.h"
#include "lib/forecast/model.h"
#include "lib/forecast/progress.h"
#include "lib/forecast/transform.h"

namespace kpi::forecast {
namespace {

using domain::Aggregation;
using domain::Direction;
using domain::KpiKind;
using domain::ObservationStatus;
using domain::ValueDomain;

constexpr int kMinFiscalYear = 1000;
constexpr int kMaxFiscalYear = 3000;
constexpr int kMaxHorizonYears = 30;
constexpr size_t kMaxThresholds = 16;
constexpr int kFewPoints = 4;
// Quantile levels reported for every year.
constexpr double kLevels[] = {0.025, 0.10, 0.25, 0.50, 0.75, 0.90, 0.975};

bool InDomain(ValueDomain d, double v) {
  if (d == ValueDomain::kNonNegative) return v >= 0;
  if (d == ValueDomain::kPercent) return v >= 0 && v <= 100;
  return true;
}

std::string DomainRule(ValueDomain d) {
  if (d == ValueDomain::kNonNegative)
    return "a value >= 0 (VALUE_DOMAIN_NON_NEGATIVE)";
  if (d == ValueDomain::kPercent)
    return "a value from 0 to 100 (VALUE_DOMAIN_PERCENT)";
  return "a finite value";
}

absl::Status Validate(const SeriesInput& in) {
  std::vector<base::FieldViolation> v;
  if (in.points.empty()) {
    v.push_back({"points", "at least one point is required"});
  }
  std::set<int32_t> years;
  int32_t last_year = std::numeric_limits<int32_t>::min();
  for (size_t i = 0; i < in.points.size(); ++i) {
    const Point& p = in.points[i];
    const std::string f = absl::StrCat("points[", i, "]");
    if (p.fiscal_year < kMinFiscalYear || p.fiscal_year > kMaxFiscalYear) {
      v.push_back({f + ".fiscal_year",
                   absl::StrCat(p.fiscal_year, " is outside ", kMinFiscalYear,
                                " to ", kMaxFiscalYear)});
    } else if (!years.insert(p.fiscal_year).second) {
      v.push_back({f + ".fiscal_year",
                   absl::StrCat("duplicate fiscal year ", p.fiscal_year,
                                "; at most one point per fiscal year")});
    }
    last_year = std::max(last_year, p.fiscal_year);
    if (p.first_fiscal_year != 0 && (p.first_fiscal_year > p.fiscal_year ||
                                     p.first_fiscal_year < kMinFiscalYear)) {
      v.push_back(
          {f + ".first_fiscal_year",
           absl::StrCat(p.first_fiscal_year,
                        " must be 0 (a single year) or a year from ",
                        kMinFiscalYear, " up to fiscal_year ", p.fiscal_year)});
    }
    if (!std::isfinite(p.value)) {
      v.push_back({f + ".value", "must be a finite number"});
    } else if (!InDomain(in.value_domain, p.value)) {
      v.push_back({f + ".value", absl::StrCat(p.value,
                                              " is outside the value "
                                              "domain; accepted: ",
                                              DomainRule(in.value_domain))});
    }
  }
  if (!in.points.empty()) {
    if (in.target_fiscal_year <= last_year ||
        in.target_fiscal_year > last_year + kMaxHorizonYears) {
      v.push_back({"target_fiscal_year",
                   absl::StrCat(in.target_fiscal_year,
                                " must be after the last point's fiscal year (",
                                last_year, ") and at most ", kMaxHorizonYears,
                                " years after it")});
    }
  }
  if (in.target_value.has_value() && !std::isfinite(*in.target_value)) {
    v.push_back({"target_value", "must be a finite number"});
  }
  if (in.probability_thresholds.size() > kMaxThresholds) {
    v.push_back({"probability_thresholds",
                 absl::StrCat(in.probability_thresholds.size(),
                              " given; at most ", kMaxThresholds)});
  }
  for (size_t i = 0; i < in.probability_thresholds.size(); ++i) {
    if (!std::isfinite(in.probability_thresholds[i])) {
      v.push_back({absl::StrCat("probability_thresholds[", i, "]"),
                   "must be a finite number"});
    }
  }
  if (in.baseline.has_value()) {
    const domain::Baseline& b = *in.baseline;
    if (!std::isfinite(b.value) || !InDomain(in.value_domain, b.value)) {
      v.push_back({"baseline.value",
                   absl::StrCat("accepted: ", DomainRule(in.value_domain))});
    }
    if (b.fiscal_year < kMinFiscalYear || b.fiscal_year > kMaxFiscalYear) {
      v.push_back({"baseline.fiscal_year",
                   absl::StrCat(b.fiscal_year, " is outside ", kMinFiscalYear,
                                " to ", kMaxFiscalYear)});
    }
    if (b.first_fiscal_year != 0 && b.first_fiscal_year > b.fiscal_year) {
      v.push_back({"baseline.first_fiscal_year",
                   "must be 0 or at most baseline.fiscal_year"});
    }
  }
  if (in.kind == KpiKind::kPeriodSum && in.period_first_fiscal_year != 0 &&
      (in.period_first_fiscal_year < kMinFiscalYear ||
       in.period_first_fiscal_year > in.target_fiscal_year)) {
    v.push_back({"period_first_fiscal_year",
                 absl::StrCat(in.period_first_fiscal_year,
                              " must be 0 (the first point's year) or a year "
                              "up to target_fiscal_year")});
  }
  return base::InvalidArgumentWithViolations(
      absl::StrCat("series \"", in.id, "\" cannot be projected"), v);
}

// A point as the fit sees it: a time (the middle of a range) and a value.
struct FitPoint {
  double t = 0;
  int32_t fiscal_year = 0;  // last year covered
  int32_t first_year = 0;   // first year covered
  double value = 0;
  ObservationStatus status = ObservationStatus::kFinal;
};

struct Distribution {
  // Quantile of the value at probability p, and P(value <= v).
  std::function<double(double)> quantile;
  std::function<double(double)> cdf;
};

class Projector {
 public:
  Projector(const Calibration& cal, const SeriesInput& in)
      : cal_(cal), in_(in) {}

  absl::StatusOr<Projection> Run();

 private:
  void SelectPoints();
  void AddWarning(WarningCode code, std::string message) {
    out_.warnings.push_back({code, std::move(message)});
  }
  void ProjectLevel();
  void ProjectIncrements();
  void Assess();
  void Warn();

  const Calibration& cal_;
  const SeriesInput& in_;
  Projection out_;
  std::vector<FitPoint> all_;   // every point, by year
  std::vector<FitPoint> used_;  // the points the fit uses, by time
  int32_t last_observed_year_ = 0;
  int32_t period_first_ = 0;
  bool shocks_excluded_ = false;
  bool dropped_carried_over_ = false;
  // One distribution per projected year, aligned with out_.years.
  std::vector<Distribution> dists_;
};

void Projector::SelectPoints() {
  for (const Point& p : in_.points) {
    FitPoint f;
    f.fiscal_year = p.fiscal_year;
    const bool range =
        p.first_fiscal_year != 0 && p.first_fiscal_year < p.fiscal_year;
    f.first_year = range ? p.first_fiscal_year : p.fiscal_year;
    f.value = p.value;
    f.status = p.status == ObservationStatus::kUnspecified
                   ? ObservationStatus::kFinal
                   : p.status;
    if (range && in_.kind == KpiKind::kLevel) {
      // A range of a level is a mean over its years: a point in its middle.
      f.t = 0.5 * (f.first_year + f.fiscal_year);
      if (p.aggregation == Aggregation::kSum) {
        f.value = p.value / (f.fiscal_year - f.first_year + 1);
      }
    } else {
      f.t = f.fiscal_year;
    }
    all_.push_back(f);
  }
  std::sort(all_.begin(), all_.end(), [](const FitPoint& a, const FitPoint& b) {
    return a.fiscal_year < b.fiscal_year;
  });
  last_observed_year_ = all_.back().fiscal_year;

  std::set<int32_t> shocks(in_.shock_fiscal_years.begin(),
                           in_.shock_fiscal_years.end());
  const bool exclude_shocks =
      !shocks.empty() && in_.shock_treatment != ShockTreatment::kInclude;
  out_.shock_treatment = shocks.empty()   ? in_.shock_treatment
                         : exclude_shocks ? ShockTreatment::kExclude
                                          : ShockTreatment::kInclude;
  auto in_shock = [&](const FitPoint& f) {
    for (int32_t y = f.first_year; y <= f.fiscal_year; ++y) {
      if (shocks.count(y)) return true;
    }
    return false;
  };
  std::vector<FitPoint> keep;
  for (const FitPoint& f : all_) {
    if (f.status == ObservationStatus::kCarriedOver) {
      dropped_carried_over_ = true;
      continue;
    }
    if (exclude_shocks && in_shock(f)) {
      shocks_excluded_ = true;
      continue;
    }
    keep.push_back(f);
  }
  if (keep.empty()) {
    // Nothing but carried-over or shock values: they are all there is.
    keep = all_;
    shocks_excluded_ = false;
  }
  if (in_.kind == KpiKind::kLevel) {
    // Single years supersede a range covering them.
    std::vector<FitPoint> singles, ranged;
    for (const FitPoint& f : keep) {
      (f.first_year == f.fiscal_year ? singles : ranged).push_back(f);
    }
    for (const FitPoint& r : ranged) {
      bool covered = false;
      for (const FitPoint& s : singles) {
        covered |=
            s.fiscal_year >= r.first_year && s.fiscal_year <= r.fiscal_year;
      }
      if (!covered) singles.push_back(r);
    }
    keep = singles;
  }
  // The baseline is evidence too when no point covers its years.
  if (in_.baseline.has_value() && in_.kind != KpiKind::kPeriodSum) {
    const domain::Baseline& b = *in_.baseline;
    FitPoint f;
    f.fiscal_year = b.fiscal_year;
    f.first_year =
        b.first_fiscal_year != 0 ? b.first_fiscal_year : b.fiscal_year;
    f.value = b.value;
    f.t = f.fiscal_year;
    if (f.first_year < f.fiscal_year && in_.kind == KpiKind::kLevel) {
      f.t = 0.5 * (f.first_year + f.fiscal_year);
      if (b.aggregation == Aggregation::kSum) {
        f.value = b.value / (f.fiscal_year - f.first_year + 1);
      }
    }
    bool covered = false;
    for (const FitPoint& p : all_) {
      covered |= p.fiscal_year >= f.first_year && p.first_year <= f.fiscal_year;
    }
    if (!covered && !(exclude_shocks && in_shock(f))) keep.push_back(f);
  }
  if (in_.kind == KpiKind::kPeriodSum) {
    period_first_ = in_.period_first_fiscal_year;
    if (period_first_ == 0) period_first_ = all_.front().first_year;
    std::vector<FitPoint> in_period;
    for (const FitPoint& f : keep) {
      if (f.fiscal_year >= period_first_) in_period.push_back(f);
    }
    if (!in_period.empty()) keep = in_period;
  }
  std::sort(keep.begin(), keep.end(),
            [](const FitPoint& a, const FitPoint& b) { return a.t < b.t; });
  // Two ranges with the same middle: keep the later one.
  std::vector<FitPoint> dedup;
  for (const FitPoint& f : keep) {
    if (!dedup.empty() && dedup.back().t == f.t) dedup.pop_back();
    dedup.push_back(f);
  }
  if (dedup.size() > static_cast<size_t>(kMaxWindow) &&
      in_.kind == KpiKind::kLevel) {
    dedup.erase(dedup.begin(), dedup.end() - kMaxWindow);
  }
  used_ = dedup;
  out_.points_used = static_cast<int32_t>(used_.size());
  for (const FitPoint& f : used_)
    out_.fiscal_years_used.push_back(f.fiscal_year);
}

void Projector::ProjectLevel() {
  std::vector<double> values;
  for (const FitPoint& f : used_) values.push_back(f.value);
  const Transform tr = Transform::ForDomain(in_.value_domain, values);
  std::vector<double> t, z;
  for (const FitPoint& f : used_) {
    t.push_back(f.t);
    z.push_back(tr.Forward(f.value));
  }
  const WindowFit fit = FitWindow(t, z, values, cal_.params);
  for (int32_t year = last_observed_year_ + 1; year <= in_.target_fiscal_year;
       ++year) {
    const Predictive pred(cal_, fit, year - fit.t_last);
    dists_.push_back(Distribution{
        [tr, pred](double p) { return tr.Inverse(pred.Quantile(p)); },
        [tr, pred](double v) { return pred.Cdf(tr.Forward(v)); }});
  }
  out_.method = absl::StrCat("bayes-rw-drift+pooled-combination on ", tr.Name(),
                             " scale (", cal_.version, ")");
}

void Projector::ProjectIncrements() {
  // Cumulative values; a period sum starts from zero before its first year.
  std::vector<FitPoint> cum = used_;
  if (in_.kind == KpiKind::kPeriodSum &&
      cum.front().fiscal_year >= period_first_) {
    FitPoint zero;
    zero.t = zero.fiscal_year = zero.first_year = period_first_ - 1;
    cum.insert(cum.begin(), zero);
  }
  if (cum.size() < 2) {
    // No increment to learn from: the level model, never below the total.
    const double floor = cum.back().value;
    ProjectLevel();
    for (Distribution& d : dists_) {
      Distribution level = d;
      d.quantile = [level, floor](double p) {
        return std::max(floor, level.quantile(p));
      };
      d.cdf = [level, floor](double v) {
        return v < floor ? 0.0 : level.cdf(v);
      };
    }
    out_.method =
        absl::StrCat("level model floored at the total; ", out_.method);
    return;
  }
  // Yearly increments, averaged over gaps, never negative.
  std::vector<double> t, inc;
  for (size_t i = 1; i < cum.size(); ++i) {
    const double years = cum[i].t - cum[i - 1].t;
    t.push_back(cum[i].t);
    inc.push_back(std::max(0.0, cum[i].value - cum[i - 1].value) / years);
  }
  if (t.size() > static_cast<size_t>(kMaxWindow)) {
    t.erase(t.begin(), t.end() - kMaxWindow);
    inc.erase(inc.begin(), inc.end() - kMaxWindow);
  }
  const Transform tr = Transform::ForDomain(ValueDomain::kNonNegative, inc);
  std::vector<double> z;
  for (double v : inc) z.push_back(tr.Forward(v));
  const WindowFit fit = FitWindow(t, z, inc, cal_.params);
  const double total = cum.back().value;
  const int32_t last_year = static_cast<int32_t>(cum.back().t);
  // The increment of every year from the last total on; years already
  // observed (carried-over or excluded) are projected too.
  std::vector<Predictive> preds;
  for (int32_t year = last_year + 1; year <= in_.target_fiscal_year; ++year) {
    preds.emplace_back(cal_, fit, year - fit.t_last);
  }
  // Future increments move together (comonotone): the quantile of the sum is
  // the sum of the quantiles, a conservative and monotone choice.
  for (int32_t year = last_observed_year_ + 1; year <= in_.target_fiscal_year;
       ++year) {
    const int n = year - last_year;
    auto quantile = [tr, preds, n, total](double p) {
      double s = total;
      for (int j = 0; j < n; ++j) s += tr.Inverse(preds[j].Quantile(p));
      return s;
    };
    auto cdf = [quantile, total](double v) {
      if (v < total) return 0.0;
      double lo = 1e-9, hi = 1 - 1e-9;
      if (quantile(lo) > v) return 0.0;
      if (quantile(hi) <= v) return 1.0;
      for (int i = 0; i < 60; ++i) {
        const double mid = 0.5 * (lo + hi);
        (quantile(mid) <= v ? lo : hi) = mid;
      }
      return 0.5 * (lo + hi);
    };
    dists_.push_back(Distribution{quantile, cdf});
  }
  out_.method = absl::StrCat(
      in_.kind == KpiKind::kPeriodSum ? "period sum" : "running total",
      " from yearly increments: bayes-rw-drift+pooled-combination on ",
      tr.Name(), " scale (", cal_.version, ")");
}

void Projector::Assess() {
  if (!in_.target_value.has_value()) {
    out_.status = ProgressStatus::kUnspecified;
    return;
  }
  // The status describes what was observed, whatever the projection's shock
  // scenario: the latest measured value (not a carried-over repeat), even
  // when the fit leaves it out.
  const FitPoint* measured = nullptr;
  for (const FitPoint& f : all_) {
    if (f.status != ObservationStatus::kCarriedOver) measured = &f;
  }
  const FitPoint& latest = measured != nullptr ? *measured : used_.back();
  ProgressInput pin;
  pin.latest_fiscal_year = latest.fiscal_year;
  pin.latest_value = latest.value;
  pin.target_fiscal_year = in_.target_fiscal_year;
  pin.target_value = *in_.target_value;
  pin.direction = in_.direction;
  if (in_.kind == KpiKind::kPeriodSum) {
    pin.base_fiscal_year = period_first_ - 1;
    pin.base_value = 0;
    pin.linear = true;
  } else if (in_.baseline.has_value()) {
    // A multi-year base counts as its first year.
    const domain::Baseline& b = *in_.baseline;
    pin.base_fiscal_year =
        b.first_fiscal_year != 0 ? b.first_fiscal_year : b.fiscal_year;
    pin.base_value = b.value;
  } else {
    pin.base_fiscal_year = used_.front().first_year;
    pin.base_value = used_.front().value;
  }
  const ProgressAssessment a = AssessProgress(pin);
  out_.progress = a.progress;
  out_.status = a.status;
}

void Projector::Warn() {
  if (out_.points_used < kFewPoints) {
    AddWarning(WarningCode::kFewPoints,
               absl::StrCat("only ", out_.points_used,
                            " point(s) used: the spread is borrowed from many "
                            "other series (",
                            cal_.version, ")"));
  }
  const FitPoint& last = all_.back();
  if (last.status == ObservationStatus::kProvisional) {
    AddWarning(WarningCode::kProvisionalLatest,
               absl::StrCat("the latest value (FY", last.fiscal_year,
                            ") is provisional and may be revised"));
  }
  if (last.status == ObservationStatus::kCarriedOver) {
    AddWarning(WarningCode::kStaleLatest,
               absl::StrCat("the latest value (FY", last.fiscal_year,
                            ") repeats an earlier value and was left out of "
                            "the fit"));
  }
  if (!in_.shock_fiscal_years.empty()) {
    AddWarning(WarningCode::kShockYears,
               absl::StrCat("shock years marked (",
                            absl::StrJoin(in_.shock_fiscal_years, ", "), "); ",
                            shocks_excluded_ ? "left out of this fit"
                                             : "used as ordinary evidence"));
  }
  if (in_.target_from_reference) {
    AddWarning(WarningCode::kReferenceTarget,
               "the target is symbolic and was resolved through its reference "
               "table");
  }
  const double span = used_.back().t - used_.front().t;
  const int horizon = in_.target_fiscal_year - last_observed_year_;
  if (horizon > std::max(6.0, 2 * span)) {
    AddWarning(
        WarningCode::kLongHorizon,
        absl::StrCat("projecting ", horizon, " years ahead from data spanning ",
                     span, " year(s)"));
  }
  if (!in_.target_value.has_value()) {
    AddWarning(WarningCode::kNoTarget,
               "no target: no attainment probability or status");
    return;
  }
  double lo = std::numeric_limits<double>::infinity(), hi = -lo;
  for (const FitPoint& f : all_) {
    lo = std::min(lo, f.value);
    hi = std::max(hi, f.value);
  }
  const double target = *in_.target_value;
  const double reach =
      std::max(hi - lo, 0.1 * std::max(std::fabs(lo), std::fabs(hi)));
  if (in_.kind == KpiKind::kLevel &&
      (target > hi + 2 * reach || target < lo - 2 * reach)) {
    AddWarning(
        WarningCode::kTargetOutsideRange,
        absl::StrFormat("the target %g is far outside the observed range "
                        "%g to %g",
                        target, lo, hi));
  }
}

absl::StatusOr<Projection> Projector::Run() {
  out_.id = in_.id;
  out_.target_value = in_.target_value;
  out_.target_fiscal_year = in_.target_fiscal_year;
  out_.direction = in_.direction == Direction::kUnspecified
                       ? Direction::kIncrease
                       : in_.direction;
  out_.unit = in_.unit;
  SelectPoints();
  if (in_.kind == KpiKind::kRunningTotal || in_.kind == KpiKind::kPeriodSum) {
    ProjectIncrements();
  } else {
    ProjectLevel();
  }
  const bool lower_is_better = out_.direction == Direction::kDecrease;
  int32_t year = last_observed_year_ + 1;
  for (const Distribution& d : dists_) {
    YearProjection y;
    y.fiscal_year = year++;
    double q[7];
    for (int i = 0; i < 7; ++i) q[i] = d.quantile(kLevels[i]);
    y.interval_95 = {q[0], q[6]};
    y.interval_80 = {q[1], q[5]};
    y.interval_50 = {q[2], q[4]};
    y.median = q[3];
    if (in_.target_value.has_value()) {
      const double below = d.cdf(*in_.target_value);
      // P(y >= target) = 1 - P(y < target); the distributions are
      // continuous, so P(y < v) = P(y <= v).
      y.attainment_probability = lower_is_better ? below : 1 - below;
    }
    for (double v : in_.probability_thresholds) {
      y.threshold_probabilities.push_back(1 - d.cdf(v));
    }
    out_.years.push_back(std::move(y));
  }
  out_.projected_value = out_.years.back().median;
  out_.attainment_probability = out_.years.back().attainment_probability;
  Assess();
  Warn();
  return std::move(out_);
}

}  // namespace

struct Engine::Impl {
  Calibration calibration;
};

Engine::Engine(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Engine::~Engine() = default;

absl::StatusOr<std::unique_ptr<Engine>> Engine::Create(
    std::string_view calibration_text) {
  auto impl = std::make_unique<Impl>();
  absl::StatusOr<Calibration> cal = ParseCalibration(
      absl::string_view(calibration_text.data(), calibration_text.size()));
  if (!cal.ok()) return cal.status();
  impl->calibration = *std::move(cal);
  return std::unique_ptr<Engine>(new Engine(std::move(impl)));
}

absl::StatusOr<Projection> Engine::Project(const SeriesInput& input) const {
  absl::Status s = Validate(input);
  if (!s.ok()) return s;
  Projector p(impl_->calibration, input);
  return p.Run();
}

const std::string& Engine::calibration_version() const {
  return impl_->calibration.version;
}

const Calibration& Engine::calibration() const { return impl_->calibration; }

const Engine& DefaultEngine() {
  static const Engine* const engine = [] {
    absl::StatusOr<std::unique_ptr<Engine>> e = Engine::Create(std::string_view(
        EmbeddedCalibrationText().data(), EmbeddedCalibrationText().size()));
    // The embedded file is parsed by a test at build time; a failure here
    // is a broken build, not a run-time condition.
    if (!e.ok()) std::abort();
    return e->release();
  }();
  return *engine;
}

}  // namespace kpi::forecast
