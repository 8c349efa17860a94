#ifndef KPI_LIB_DOMAIN_VALIDATION_H_
#define KPI_LIB_DOMAIN_VALIDATION_H_

// Validation of domain resources before they are stored or imported.
//
// The per-resource validators check one resource on its own (required
// fields, name patterns, enums, years, values, UTF-8) and append one
// base::FieldViolation per problem to `violations`, never stopping at the
// first. Each violation's field is `path` + "." + the field name, e.g.
// "kpis[3].target.fiscal_year" for path "kpis[3]", or just
// "target.fiscal_year" when `path` is empty. Output-only fields (etag,
// times, revisions) are not checked.
//
// ValidateDataset also checks the references between resources. Every
// function here is pure and thread-safe.

#include <cstddef>
#include <optional>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "lib/base/field_violations.h"
#include "lib/domain/model.h"

namespace kpi::domain {

// The largest magnitude of a value (observation, baseline, target, reference
// value, threshold) the service accepts. Doubles hold every integer up to
// 2^53 (about 9.0e15) exactly, so every figure up to 1e15 keeps its units
// digit through storage and JSON; the forecast engine squares deviations on
// the linear scale and sums up to 30 yearly increments of a running total,
// both far inside the double range at this bound, whereas values near
// 1e308 overflowed to inf. No municipal KPI comes near it (Japan's nominal
// GDP is about 6e14 yen).
inline constexpr double kMaxValueMagnitude = 1e15;

// A plan's KPIs are read over decades at most: a baseline or an observation
// farther than this from its strategy's plan period is a typo.
inline constexpr int kYearsAroundPlan = 30;

// ---- Caps ------------------------------------------------------------------
// Every text field has a length cap and every list a count cap, so that no
// write can store a resource too large to be read back (README "Limits",
// which lists them). Text caps count characters, that is Unicode code points
// of the UTF-8 text: a cap reads the same for 旭川市 and for "Asahikawa",
// and in bytes a text is at most 4 times its cap. Names need no cap of their
// own: their IDs are at most 63 characters (names.h).

// display_name of every resource; Strategy.municipality; Baseline.label and
// Target.label.
inline constexpr size_t kMaxDisplayNameChars = 200;
// english_name of every resource.
inline constexpr size_t kMaxEnglishNameChars = 400;
// Kpi.unit, Reference.unit, Measure.code.
inline constexpr size_t kMaxUnitChars = 32;
// Strategy.source, Reference.source, Kpi.measurement_note.
inline constexpr size_t kMaxNoteChars = 2000;
// Observation.source_note, and the reason of an UpdateObservation; both are
// kept in every revision, so they are shorter.
inline constexpr size_t kMaxSourceNoteChars = 500;
inline constexpr size_t kMaxReasonChars = 500;
// Evaluation.kpi_assessment, outlook and viewpoint.
inline constexpr size_t kMaxEvaluationTextChars = 4000;
// Reference.values entries.
inline constexpr size_t kMaxReferenceValues = 1000;
// Kpi.shock_fiscal_years entries.
inline constexpr size_t kMaxShockFiscalYears = 50;
// Revisions kept per observation: a change of value, status or source_note
// past this is refused (FAILED_PRECONDITION), not recorded without history.
inline constexpr size_t kMaxRevisions = 100;
// The filter of a List call, in characters, and a page token, in bytes (a
// token the server issued is under 200 bytes).
inline constexpr size_t kMaxFilterChars = 1000;
inline constexpr size_t kMaxPageTokenBytes = 1024;

// The number of characters (code points) of UTF-8 `text`; each byte that
// is not part of well-formed UTF-8 counts as one.
size_t CountCharacters(std::string_view text);

// Appends a violation at `field_path` when `text` has more than `max_chars`
// characters, stating the cap: "1234 characters; accepted: at most 500
// characters".
void ValidateTextLength(std::string_view text, size_t max_chars,
                        std::string_view field_path,
                        std::vector<base::FieldViolation>* violations);

// The offset of the first byte of `text` that is not part of well-formed
// UTF-8 (overlong forms, surrogates and code points past U+10FFFF are not
// well-formed), or nullopt when all of it is.
std::optional<size_t> FindInvalidUtf8(std::string_view text);

// The KPI's value domain, inferred from the unit when unspecified: "%" is
// kPercent, any other unit kNonNegative.
ValueDomain EffectiveValueDomain(const Kpi& kpi);

void ValidateReference(const Reference& reference, std::string_view path,
                       std::vector<base::FieldViolation>* violations);
void ValidateStrategy(const Strategy& strategy, std::string_view path,
                      std::vector<base::FieldViolation>* violations);
void ValidateGoal(const Goal& goal, std::string_view path,
                  std::vector<base::FieldViolation>* violations);
// Also checks that `goal` and `parent` name resources of the same strategy.
void ValidateMeasure(const Measure& measure, std::string_view path,
                     std::vector<base::FieldViolation>* violations);
// Also checks the baseline's and a numeric target's values against the
// KPI's value domain.
void ValidateKpi(const Kpi& kpi, std::string_view path,
                 std::vector<base::FieldViolation>* violations);
// The value is checked only for being finite: its domain is the KPI's (see
// ValidateValueInDomain). The ID must be FiscalYearId(first_fiscal_year,
// fiscal_year).
void ValidateObservation(const Observation& observation, std::string_view path,
                         std::vector<base::FieldViolation>* violations);
// The ID must be "fy" followed by fiscal_year.
void ValidateEvaluation(const Evaluation& evaluation, std::string_view path,
                        std::vector<base::FieldViolation>* violations);

// Appends a violation at `field_path` (a full path, e.g.
// "observations[2].value") when `value` is outside
// EffectiveValueDomain(kpi).
void ValidateValueInDomain(double value, const Kpi& kpi,
                           std::string_view field_path,
                           std::vector<base::FieldViolation>* violations);

// Validates every resource of `dataset` and the references between them:
// no name twice in a collection; every goal, measure and KPI under a
// strategy, every evaluation under a measure, every observation under a KPI,
// every measure's goal and parent heading (one level deep, same goal) and
// every KPI's measure and target reference exist; observation values lie in
// their KPI's value domain; a reference target resolves (ResolveTarget);
// baseline and observation years lie within kYearsAroundPlan of the
// strategy's plan period and target years from its first year to
// kYearsAroundPlan past its last.
//
// A referenced resource may be in `dataset` or in `stored` (what the store
// already holds, used only for lookups: its resources are not validated;
// a resource of `dataset` replaces a stored one of the same name).
//
// Returns OK, or INVALID_ARGUMENT from base::InvalidArgumentWithViolations
// listing every problem with paths such as "kpis[3].target.fiscal_year".
absl::Status ValidateDataset(const Dataset& dataset, const Dataset& stored);
absl::Status ValidateDataset(const Dataset& dataset);

// Where a running total (KpiKind::kRunningTotal, which cannot fall) falls:
// indexes into the observations given of two single-year observations, the
// later one below the nearest earlier one.
struct RunningTotalFall {
  size_t earlier = 0;
  size_t later = 0;
};

// Every fall, in fiscal-year order, of `kpi`'s values in `observations`
// (the KPI's observations, in any order): each single-year observation is
// compared with the one of the nearest earlier fiscal year present, and a
// lower value is a fall (an equal one is not). Observations of a range of
// years are not compared: their value is a mean or a sum over the range, not
// a total to date. Empty when `kpi` is not a running total or nothing
// falls. Pure; thread-safe.
std::vector<RunningTotalFall> FindRunningTotalFalls(
    const Kpi& kpi, const std::vector<Observation>& observations);

// INVALID_ARGUMENT from base::InvalidArgumentWithViolations with one
// violation at `field` (e.g. "observations[3].value") naming the KPI, both
// fiscal years and values, and what is accepted.
absl::Status RunningTotalFallError(const Kpi& kpi, const Observation& earlier,
                                   const Observation& later,
                                   std::string_view field);

// The KPI's target as a number: target.value, or, for a reference target,
// the value of the reference in force on the LAST day of the target fiscal
// year (31 March of target.fiscal_year + 1). The last day is chosen because
// a target "by FY2024" is judged on the state at the end of that year: the
// statutory employment rate raised to 2.5% in April 2024 is what a FY2024
// target of 法定雇用率以上 means, and a rate raised in March 2021 already
// binds FY2020. The value in force on a day is the one with the latest
// effective_date on or before it, whatever the order of `values`.
//
// Returns INVALID_ARGUMENT when the target has neither or both of value and
// reference or no fiscal year, NOT_FOUND when the reference is not in
// `references`, FAILED_PRECONDITION when the reference has no value in
// force on that day.
absl::StatusOr<double> ResolveTarget(const Kpi& kpi,
                                     const std::vector<Reference>& references);

}  // namespace kpi::domain

#endif  // KPI_LIB_DOMAIN_VALIDATION_H_
