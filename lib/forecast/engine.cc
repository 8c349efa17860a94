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
#include "lib/domain/validation.h"
#include "lib/forecast/check_finite.h"
#include "lib/forecast/embedded_calibration.h"
#include "lib/forecast/explain.h"
#include "lib/forecast/model.h"
#include "lib/forecast/path.h"
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
const std::vector<double>& LevelVector() {
  static const auto* const levels =
      new std::vector<double>(std::begin(kLevels), std::end(kLevels));
  return *levels;
}

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

// "" when `v` is a finite number within domain::kMaxValueMagnitude, else
// what is wrong with it.
std::string MagnitudeProblem(double v) {
  if (!std::isfinite(v)) return "must be a finite number";
  if (std::fabs(v) <= domain::kMaxValueMagnitude) return "";
  return absl::StrFormat(
      "%g is larger in magnitude than the engine can carry; accepted: %g to %g",
      v, -domain::kMaxValueMagnitude, domain::kMaxValueMagnitude);
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
    if (std::string problem = MagnitudeProblem(p.value); !problem.empty()) {
      v.push_back({f + ".value", std::move(problem)});
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
  if (in.target_value.has_value()) {
    if (std::string problem = MagnitudeProblem(*in.target_value);
        !problem.empty()) {
      v.push_back({"target_value", std::move(problem)});
    }
  }
  if (in.probability_thresholds.size() > kMaxThresholds) {
    v.push_back({"probability_thresholds",
                 absl::StrCat(in.probability_thresholds.size(),
                              " given; at most ", kMaxThresholds)});
  }
  for (size_t i = 0; i < in.probability_thresholds.size(); ++i) {
    if (std::string problem = MagnitudeProblem(in.probability_thresholds[i]);
        !problem.empty()) {
      v.push_back({absl::StrCat("probability_thresholds[", i, "]"),
                   std::move(problem)});
    }
  }
  if (in.baseline.has_value()) {
    const domain::Baseline& b = *in.baseline;
    if (!MagnitudeProblem(b.value).empty() ||
        !InDomain(in.value_domain, b.value)) {
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

// The trend of the points used, on the scale it is continued on: the
// model's scale for a level, the values themselves for a total.
struct TrendBasis {
  bool present = false;
  Transform scale = Transform::ForDomain(ValueDomain::kReal, {});
  double t_last = 0;
  double z_last = 0;
  double slope = 0;  // per year, on `scale`
  int32_t first_fiscal_year = 0;
  int32_t last_fiscal_year = 0;
  int32_t points = 0;
  double calibrated_share = 1;
};

// Projects a series under one concrete shock treatment: Fit() selects the
// points and builds one distribution per projected year; Finish() turns
// distributions (its own, or a blend of two projectors') into a Projection.
class Projector {
 public:
  Projector(const Calibration& cal, const SeriesInput& in)
      : cal_(cal), in_(in) {}

  // The history the fit would learn from, for a calibration
  // (TrainingSeriesOf): the points SelectPoints keeps, all of them.
  std::optional<TrainingSeries> History();

  void Fit();
  const std::vector<Distribution>& distributions() const { return dists_; }
  std::vector<Distribution> TakeDistributions() { return std::move(dists_); }
  // Points left once shock years are left out (before any fallback).
  int points_without_shocks() const { return points_without_shocks_; }
  // `recovery_weight` is set for a blend of the recovery scenario (this
  // weight) and this projector's (the rest).
  Projection Finish(std::vector<Distribution> dists,
                    std::optional<double> recovery_weight) const;

 private:
  void SelectPoints();
  void ProjectLevel();
  void ProjectIncrements();
  void Assess(Projection* out) const;
  void Warn(std::optional<double> recovery_weight, Projection* out) const;
  void Explain(Projection* out) const;

  const Calibration& cal_;
  const SeriesInput& in_;
  std::string method_;
  std::vector<FitPoint> all_;   // every point, by year
  std::vector<FitPoint> used_;  // the points the fit uses, by time
  int32_t last_observed_year_ = 0;
  int32_t period_first_ = 0;
  int points_without_shocks_ = 0;
  bool shocks_excluded_ = false;
  bool dropped_carried_over_ = false;
  bool whole_history_ = false;  // History(): no cut to the last kMaxWindow
  TrendBasis trend_;
  // The scale the path is made coherent on, the value it starts from, and
  // the reporting resolution (0: values are not rounded to 0).
  Transform scale_ = Transform::ForDomain(ValueDomain::kReal, {});
  double anchor_ = 0;
  double resolution_ = 0;
  // One distribution per projected year (last_observed_year_ + 1 on).
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
  bool fell_back = false;
  if (keep.empty()) {
    // Nothing but carried-over or shock values: they are all there is.
    keep = all_;
    shocks_excluded_ = false;
    fell_back = true;
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
  if (dedup.size() > static_cast<size_t>(kMaxWindow) && !whole_history_ &&
      in_.kind == KpiKind::kLevel) {
    dedup.erase(dedup.begin(), dedup.end() - kMaxWindow);
  }
  used_ = dedup;
  points_without_shocks_ = fell_back ? 0 : static_cast<int>(used_.size());
}

std::optional<TrainingSeries> Projector::History() {
  whole_history_ = true;
  SelectPoints();
  TrainingSeries out;
  out.id = in_.id;
  // Only points at a whole year: a range's middle between two years has no
  // place in a yearly history (learn.h counts horizons in years).
  const auto whole = [](double t) { return t == std::floor(t); };
  if (in_.kind == KpiKind::kRunningTotal || in_.kind == KpiKind::kPeriodSum) {
    // What ProjectIncrements fits: yearly increments, averaged over gaps,
    // never negative, on the log scale.
    std::vector<FitPoint> cum = used_;
    if (in_.kind == KpiKind::kPeriodSum &&
        cum.front().fiscal_year >= period_first_) {
      FitPoint zero;
      zero.t = zero.fiscal_year = zero.first_year = period_first_ - 1;
      cum.insert(cum.begin(), zero);
    }
    for (size_t i = 1; i < cum.size(); ++i) {
      if (!whole(cum[i].t)) continue;
      const double years = cum[i].t - cum[i - 1].t;
      out.years.push_back(static_cast<int32_t>(cum[i].t));
      out.values.push_back(std::max(0.0, cum[i].value - cum[i - 1].value) /
                           years);
    }
    out.value_domain = ValueDomain::kNonNegative;
  } else {
    for (const FitPoint& f : used_) {
      if (!whole(f.t)) continue;
      out.years.push_back(static_cast<int32_t>(f.t));
      out.values.push_back(f.value);
    }
    out.value_domain = in_.value_domain == ValueDomain::kUnspecified
                           ? ValueDomain::kReal
                           : in_.value_domain;
  }
  if (out.years.size() < 2) return std::nullopt;
  return out;
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
  scale_ = tr;
  anchor_ = used_.back().value;
  if (in_.value_domain == ValueDomain::kNonNegative) {
    std::vector<double> all_values;
    for (const FitPoint& f : all_) all_values.push_back(f.value);
    resolution_ = ReportingResolution(all_values);
  }
  for (int32_t year = last_observed_year_ + 1; year <= in_.target_fiscal_year;
       ++year) {
    const Predictive pred(cal_, fit, year - fit.t_last);
    dists_.push_back(Distribution{
        [tr, pred](double p) { return tr.Inverse(pred.Quantile(p)); },
        [tr, pred](double v) { return pred.Cdf(tr.Forward(v)); }});
  }
  method_ = absl::StrCat("bayes-rw-drift+pooled-combination on ", tr.Name(),
                         " scale (", cal_.version, ")");
  if (used_.size() >= 2) {
    trend_.present = true;
    trend_.scale = tr;
    trend_.t_last = fit.t_last;
    trend_.z_last = fit.z_last;
    trend_.slope = fit.slope_ols;
    trend_.first_fiscal_year = used_.front().fiscal_year;
    trend_.last_fiscal_year = used_.back().fiscal_year;
    trend_.points = static_cast<int32_t>(used_.size());
    trend_.calibrated_share =
        CalibratedTrendShare(cal_, t, in_.target_fiscal_year - fit.t_last);
  }
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
    method_ = absl::StrCat("level model floored at the total; ", method_);
    resolution_ = 0;  // a total never falls back to 0
    return;
  }
  // The trend of a total is its average yearly pace so far, continued.
  trend_.present = true;
  trend_.t_last = cum.back().t;
  trend_.z_last = cum.back().value;
  trend_.slope =
      (cum.back().value - cum.front().value) / (cum.back().t - cum.front().t);
  trend_.first_fiscal_year = in_.kind == KpiKind::kPeriodSum
                                 ? period_first_
                                 : used_.front().fiscal_year;
  trend_.last_fiscal_year = used_.back().fiscal_year;
  trend_.points = static_cast<int32_t>(used_.size());
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
  scale_ = Transform::ForDomain(ValueDomain::kNonNegative, {total});
  anchor_ = total;
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
  method_ = absl::StrCat(
      in_.kind == KpiKind::kPeriodSum ? "period sum" : "running total",
      " from yearly increments: bayes-rw-drift+pooled-combination on ",
      tr.Name(), " scale (", cal_.version, ")");
}

void Projector::Fit() {
  SelectPoints();
  if (in_.kind == KpiKind::kRunningTotal || in_.kind == KpiKind::kPeriodSum) {
    ProjectIncrements();
  } else {
    ProjectLevel();
  }
}

void Projector::Assess(Projection* out) const {
  if (!in_.target_value.has_value()) {
    out->status = ProgressStatus::kUnspecified;
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
  out->progress = a.progress;
  out->status = a.status;
}

void Projector::Warn(std::optional<double> recovery_weight,
                     Projection* out) const {
  auto add = [out](WarningCode code, std::string message) {
    out->warnings.push_back({code, std::move(message)});
  };
  if (out->points_used < kFewPoints) {
    add(WarningCode::kFewPoints,
        absl::StrCat("only ", out->points_used,
                     " point(s) used: the spread is borrowed from many "
                     "other series (",
                     cal_.version, ")"));
  }
  const FitPoint& last = all_.back();
  if (last.status == ObservationStatus::kProvisional) {
    add(WarningCode::kProvisionalLatest,
        absl::StrCat("the latest value (FY", last.fiscal_year,
                     ") is provisional and may be revised"));
  }
  if (last.status == ObservationStatus::kCarriedOver) {
    add(WarningCode::kStaleLatest,
        absl::StrCat("the latest value (FY", last.fiscal_year,
                     ") repeats an earlier value and was left out of "
                     "the fit"));
  }
  if (!in_.shock_fiscal_years.empty()) {
    std::string treated =
        shocks_excluded_ ? "left out of this fit" : "used as ordinary evidence";
    if (recovery_weight.has_value()) {
      treated = absl::StrFormat(
          "two scenarios blended: left out of the fit (weight %.0f%%) and "
          "used as ordinary evidence (%.0f%%)",
          100 * *recovery_weight, 100 * (1 - *recovery_weight));
    }
    add(WarningCode::kShockYears,
        absl::StrCat("shock years marked (",
                     absl::StrJoin(in_.shock_fiscal_years, ", "), "); ",
                     treated));
  }
  if (in_.target_from_reference) {
    add(WarningCode::kReferenceTarget,
        "the target is symbolic and was resolved through its reference "
        "table");
  }
  const double span = used_.back().t - used_.front().t;
  const int horizon = in_.target_fiscal_year - last_observed_year_;
  if (horizon > std::max(6.0, 2 * span)) {
    add(WarningCode::kLongHorizon,
        absl::StrCat("projecting ", horizon, " years ahead from data spanning ",
                     span, " year(s)"));
  }
  if (!in_.target_value.has_value()) {
    add(WarningCode::kNoTarget,
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
    add(WarningCode::kTargetOutsideRange,
        absl::StrFormat("the target %g is far outside the observed range "
                        "%g to %g",
                        target, lo, hi));
  }
}

void Projector::Explain(Projection* out) const {
  Explanation& e = out->explanation;
  e.calibration_version = cal_.version;
  if (trend_.present) {
    TrendComparison t;
    t.first_fiscal_year = trend_.first_fiscal_year;
    t.last_fiscal_year = trend_.last_fiscal_year;
    t.points = trend_.points;
    t.horizon_years = in_.target_fiscal_year - trend_.last_fiscal_year;
    const double years = in_.target_fiscal_year - trend_.t_last;
    const double z_trend = trend_.z_last + years * trend_.slope;
    const double last = trend_.scale.Inverse(trend_.z_last);
    t.extrapolated_value = trend_.scale.Inverse(z_trend);
    t.change_per_year = t.horizon_years > 0
                            ? (t.extrapolated_value - last) / t.horizon_years
                            : 0;
    const double moved =
        trend_.scale.Forward(out->projected_value) - trend_.z_last;
    const double trend_moved = z_trend - trend_.z_last;
    t.share_kept = std::fabs(trend_moved) > 1e-12 && std::isfinite(moved)
                       ? moved / trend_moved
                       : 1;
    t.calibrated_share = trend_.calibrated_share;
    e.trend = t;
  }
  const std::vector<int32_t>& used = out->fiscal_years_used;
  auto is_used = [&used](int32_t year) {
    return std::find(used.begin(), used.end(), year) != used.end();
  };
  int32_t latest_measured = 0;
  for (const FitPoint& f : all_) {
    if (f.status != ObservationStatus::kCarriedOver) {
      latest_measured = f.fiscal_year;
    }
    if (!is_used(f.fiscal_year)) {
      e.scenario.left_out_fiscal_years.push_back(f.fiscal_year);
    }
  }
  e.scenario.latest_left_out =
      latest_measured != 0 && !is_used(latest_measured);
}

Projection Projector::Finish(std::vector<Distribution> path,
                             std::optional<double> recovery_weight) const {
  Projection out;
  out.id = in_.id;
  out.target_value = in_.target_value;
  out.target_fiscal_year = in_.target_fiscal_year;
  out.direction = in_.direction == Direction::kUnspecified
                      ? Direction::kIncrease
                      : in_.direction;
  out.unit = in_.unit;
  out.kind = in_.kind;
  out.value_domain = in_.value_domain;
  out.method = method_;
  out.points_used = static_cast<int32_t>(used_.size());
  for (const FitPoint& f : used_)
    out.fiscal_years_used.push_back(f.fiscal_year);
  if (in_.shock_fiscal_years.empty()) {
    out.shock_treatment = in_.shock_treatment;
  } else if (recovery_weight.has_value()) {
    out.shock_treatment = ShockTreatment::kBlend;
    out.method = absl::StrFormat(
        "blend of the recovery scenario (%.0f%%) and the shocks as data "
        "(%.0f%%); %s",
        100 * *recovery_weight, 100 * (1 - *recovery_weight), method_);
  } else {
    out.shock_treatment = in_.shock_treatment == ShockTreatment::kInclude
                              ? ShockTreatment::kInclude
                              : ShockTreatment::kExclude;
  }
  // The path as a whole: coherent across years, reported at resolution
  // (a value below half of it reads 0).
  const double half = resolution_ / 2;
  const auto report = [half](double v) { return v < half ? 0.0 : v; };
  std::vector<double> quantiles;
  MakeCoherent(scale_, anchor_, report, LevelVector(), &path, &quantiles);
  out.explanation.resolution = resolution_;
  const bool lower_is_better = out.direction == Direction::kDecrease;
  // P(reported <= v).
  auto cdf = [&](const Distribution& d, double v) {
    if (resolution_ == 0) return d.cdf(v);
    return v < 0 ? 0.0 : d.cdf(std::max(v, half));
  };
  // Values at or below the domain's floor are always reached from above.
  const bool bounded_below = in_.value_domain != ValueDomain::kReal;
  auto at_least = [&](const Distribution& d, double v) {
    return bounded_below && v <= 0 ? 1.0 : 1 - cdf(d, v);
  };
  int32_t year = last_observed_year_ + 1;
  for (size_t h = 0; h < path.size(); ++h) {
    const Distribution& d = path[h];
    YearProjection y;
    y.fiscal_year = year++;
    double q[7];
    for (int i = 0; i < 7; ++i) q[i] = report(quantiles[h * 7 + i]);
    y.interval_95 = {q[0], q[6]};
    y.interval_80 = {q[1], q[5]};
    y.interval_50 = {q[2], q[4]};
    y.median = q[3];
    if (in_.target_value.has_value()) {
      // P(y >= target) = 1 - P(y < target); the distributions are
      // continuous above the domain's floor, so P(y < v) = P(y <= v).
      y.attainment_probability = lower_is_better
                                     ? cdf(d, *in_.target_value)
                                     : at_least(d, *in_.target_value);
    }
    for (double v : in_.probability_thresholds) {
      y.threshold_probabilities.push_back(at_least(d, v));
    }
    out.years.push_back(std::move(y));
  }
  out.projected_value = out.years.back().median;
  out.attainment_probability = out.years.back().attainment_probability;
  Assess(&out);
  Warn(recovery_weight, &out);
  Explain(&out);
  return out;
}

// The distribution of a blend: P(v) = w F_a(v) + (1 - w) F_b(v); its
// quantile lies between the components' at the same level.
Distribution Mix(const Distribution& a, const Distribution& b, double w) {
  Distribution m;
  m.cdf = [a, b, w](double v) { return w * a.cdf(v) + (1 - w) * b.cdf(v); };
  m.quantile = [a, b, w, cdf = m.cdf](double p) {
    double lo = std::min(a.quantile(p), b.quantile(p));
    double hi = std::max(a.quantile(p), b.quantile(p));
    for (int i = 0; i < 60 && hi - lo > 1e-12 * std::max(1.0, std::fabs(hi));
         ++i) {
      const double mid = 0.5 * (lo + hi);
      (cdf(mid) < p ? lo : hi) = mid;
    }
    return 0.5 * (lo + hi);
  };
  return m;
}

// Whether a shock year's measurement is better (in the KPI's direction)
// than the last measurement before the first shock year. Levels only: a
// total moves one way whatever the shock.
bool ShockFavourable(const SeriesInput& in) {
  if (in.kind != KpiKind::kLevel || in.shock_fiscal_years.empty()) return false;
  const int32_t first_shock = *std::min_element(in.shock_fiscal_years.begin(),
                                                in.shock_fiscal_years.end());
  const std::set<int32_t> shocks(in.shock_fiscal_years.begin(),
                                 in.shock_fiscal_years.end());
  const Point* before = nullptr;
  for (const Point& p : in.points) {
    if (p.fiscal_year < first_shock &&
        p.status != ObservationStatus::kCarriedOver &&
        (before == nullptr || p.fiscal_year > before->fiscal_year)) {
      before = &p;
    }
  }
  if (before == nullptr) return false;
  const bool lower_is_better = in.direction == Direction::kDecrease;
  for (const Point& p : in.points) {
    if (!shocks.count(p.fiscal_year) ||
        p.status == ObservationStatus::kCarriedOver) {
      continue;
    }
    if (lower_is_better ? p.value < before->value : p.value > before->value) {
      return true;
    }
  }
  return false;
}

// Weight of the recovery scenario in a blend: whether the KPI returns to its
// pre-shock path is a judgement two or three points cannot settle.
constexpr double kRecoveryWeight = 0.5;

// What the whole projection says: the likelihood in words and why status
// and probability disagree, if they do.
void Conclude(Projection* p) {
  if (!p->target_value.has_value()) return;
  p->explanation.likelihood = LikelihoodOf(p->attainment_probability);
  p->explanation.discordance = FindDiscordance(*p);
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
  absl::StatusOr<ScenarioProjections> p = ProjectScenarios(input);
  if (!p.ok()) return p.status();
  return std::move(p->projection);
}

absl::StatusOr<ScenarioProjections> Engine::ProjectScenarios(
    const SeriesInput& input) const {
  absl::Status s = Validate(input);
  if (!s.ok()) return s;
  const Calibration& cal = impl_->calibration;
  if (input.shock_fiscal_years.empty()) {
    Projector p(cal, input);
    p.Fit();
    ScenarioProjections out{p.Finish(p.TakeDistributions(), std::nullopt),
                            std::nullopt};
    out.projection.explanation.scenario.rule = ScenarioRule::kNoShocks;
    Conclude(&out.projection);
    if (absl::Status s = CheckFinite(out.projection); !s.ok()) return s;
    return out;
  }
  SeriesInput excluded_input = input;
  excluded_input.shock_treatment = ShockTreatment::kExclude;
  SeriesInput included_input = input;
  included_input.shock_treatment = ShockTreatment::kInclude;
  Projector excluded(cal, excluded_input), included(cal, included_input);
  excluded.Fit();
  included.Fit();
  Projection recovery = excluded.Finish(excluded.distributions(), std::nullopt);
  Projection as_data = included.Finish(included.distributions(), std::nullopt);

  const bool favourable = ShockFavourable(input);
  ScenarioRule rule = ScenarioRule::kRequested;
  ShockTreatment headline = input.shock_treatment;
  if (headline == ShockTreatment::kUnspecified) {
    if (excluded.points_without_shocks() < 2) {
      rule = ScenarioRule::kBlendFewPoints;
      headline = ShockTreatment::kBlend;
    } else if (favourable) {
      rule = ScenarioRule::kBlendFavourable;
      headline = ShockTreatment::kBlend;
    } else {
      rule = ScenarioRule::kRecovery;
      headline = ShockTreatment::kExclude;
    }
  }
  double recovery_weight = headline == ShockTreatment::kExclude ? 1.0 : 0.0;
  ScenarioProjections out;
  if (headline == ShockTreatment::kBlend) {
    recovery_weight = kRecoveryWeight;
    std::vector<Distribution> mixed;
    for (size_t i = 0; i < included.distributions().size(); ++i) {
      mixed.push_back(Mix(excluded.distributions()[i],
                          included.distributions()[i], recovery_weight));
    }
    out.projection = included.Finish(std::move(mixed), recovery_weight);
    // The blend leaves out what its recovery part leaves out.
    out.projection.explanation.scenario.left_out_fiscal_years =
        recovery.explanation.scenario.left_out_fiscal_years;
    out.projection.explanation.scenario.latest_left_out =
        recovery.explanation.scenario.latest_left_out;
    out.alternative = as_data;
  } else if (headline == ShockTreatment::kInclude) {
    out.projection = as_data;
    out.alternative = recovery;
  } else {
    out.projection = recovery;
    out.alternative = as_data;
  }
  const std::vector<ScenarioOutcome> outcomes = {
      {ShockTreatment::kExclude, recovery_weight, recovery.projected_value,
       recovery.attainment_probability, recovery.points_used},
      {ShockTreatment::kInclude, 1 - recovery_weight, as_data.projected_value,
       as_data.attainment_probability, as_data.points_used}};
  for (Projection* p : {&out.projection, &*out.alternative}) {
    ScenarioExplanation& sc = p->explanation.scenario;
    sc.rule = p == &out.projection ? rule : ScenarioRule::kComparison;
    sc.shock_fiscal_years = input.shock_fiscal_years;
    std::sort(sc.shock_fiscal_years.begin(), sc.shock_fiscal_years.end());
    sc.shock_fiscal_years.erase(
        std::unique(sc.shock_fiscal_years.begin(), sc.shock_fiscal_years.end()),
        sc.shock_fiscal_years.end());
    sc.points_without_shocks = excluded.points_without_shocks();
    sc.shock_favourable = favourable;
    sc.recovery_weight =
        headline == ShockTreatment::kBlend ? recovery_weight : 0;
    sc.outcomes = outcomes;
    Conclude(p);
  }
  for (const Projection* p : {&out.projection, &*out.alternative}) {
    if (absl::Status s = CheckFinite(*p); !s.ok()) return s;
  }
  return out;
}

absl::Status CheckFinite(const Projection& p) {
  std::string bad;
  auto check = [&bad](double v, auto&& where) {
    if (bad.empty() && !std::isfinite(v)) bad = where();
  };
  check(p.projected_value, [] { return std::string("projected_value"); });
  check(p.attainment_probability,
        [] { return std::string("attainment_probability"); });
  const Progress& g = p.progress;
  for (const auto& [name, v] :
       {std::pair<const char*, double>{"base_value", g.base_value},
        {"latest_value", g.latest_value},
        {"required_change_per_year", g.required_change_per_year},
        {"observed_change_per_year", g.observed_change_per_year},
        {"growth_ratio", g.growth_ratio}}) {
    check(v, [name = name] { return absl::StrCat("progress.", name); });
  }
  for (size_t i = 0; i < p.years.size(); ++i) {
    const YearProjection& y = p.years[i];
    for (const auto& [name, v] :
         {std::pair<const char*, double>{"median", y.median},
          {"interval_50.lower", y.interval_50.lower},
          {"interval_50.upper", y.interval_50.upper},
          {"interval_80.lower", y.interval_80.lower},
          {"interval_80.upper", y.interval_80.upper},
          {"interval_95.lower", y.interval_95.lower},
          {"interval_95.upper", y.interval_95.upper},
          {"attainment_probability", y.attainment_probability}}) {
      check(v,
            [&, name = name] { return absl::StrCat("years[", i, "].", name); });
    }
    for (size_t j = 0; j < y.threshold_probabilities.size(); ++j) {
      check(y.threshold_probabilities[j], [&] {
        return absl::StrCat("years[", i, "].threshold_probabilities[", j, "]");
      });
    }
  }
  if (p.explanation.trend.has_value()) {
    const TrendComparison& t = *p.explanation.trend;
    check(t.extrapolated_value,
          [] { return std::string("explanation.trend.extrapolated_value"); });
    check(t.change_per_year,
          [] { return std::string("explanation.trend.change_per_year"); });
    check(t.share_kept,
          [] { return std::string("explanation.trend.share_kept"); });
  }
  for (const ScenarioOutcome& o : p.explanation.scenario.outcomes) {
    check(o.projected_value, [] {
      return std::string("explanation.scenario.outcomes.projected_value");
    });
  }
  if (bad.empty()) return absl::OkStatus();
  return absl::InternalError(absl::StrFormat(
      "the forecast engine produced a non-finite %s for series %s; the "
      "projection is withheld rather than sent with inf or nan",
      bad, p.id));
}

const std::string& Engine::calibration_version() const {
  return impl_->calibration.version;
}

const Calibration& Engine::calibration() const { return impl_->calibration; }

std::optional<TrainingSeries> TrainingSeriesOf(const SeriesInput& input) {
  if (input.points.empty()) return std::nullopt;
  SeriesInput in = input;
  // Only the history matters: the target is not looked at.
  int32_t last = in.points.front().fiscal_year;
  for (const Point& p : in.points) last = std::max(last, p.fiscal_year);
  in.target_fiscal_year = last + 1;
  in.target_value.reset();
  in.probability_thresholds.clear();
  if (!Validate(in).ok()) return std::nullopt;
  // Shock years are left out, as the recovery scenario leaves them out: they
  // say what a shock did, not how the KPI moves.
  if (in.shock_treatment != ShockTreatment::kInclude) {
    in.shock_treatment = ShockTreatment::kExclude;
  }
  return Projector(DefaultEngine().calibration(), in).History();
}

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
