#include "lib/report/stored.h"

#include <algorithm>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "lib/base/status_macros.h"
#include "lib/domain/validation.h"

namespace kpi::report {
namespace {

// Every item of a collection, page by page.
template <typename T, typename List>
absl::StatusOr<std::vector<T>> All(const std::string& parent, List list) {
  std::vector<T> out;
  storage::ListRequest request;
  request.parent = parent;
  request.page_size = 1000;
  while (true) {
    KPI_ASSIGN_OR_RETURN(storage::Page<T> page, list(request));
    for (T& item : page.items) out.push_back(std::move(item));
    if (page.next_page_token.empty()) return out;
    request.page_token = page.next_page_token;
  }
}

// The years ProjectKpi accepts: after the first observation, at most this
// many after the last (proto/kpi/v1/forecast_service.proto).
constexpr int kMaxYearsAhead = 30;

void Project(storage::Repository& repository, const forecast::Engine& engine,
             KpiEntry* entry) {
  const domain::Kpi& kpi = entry->kpi;
  if (entry->observations.empty()) {
    entry->error = "no observation";
    return;
  }
  int first = entry->observations.front().fiscal_year;
  int last = first;
  for (const domain::Observation& o : entry->observations) {
    first = std::min(first, o.fiscal_year);
    last = std::max(last, o.fiscal_year);
  }
  const int year = kpi.target.fiscal_year;
  if (year <= first || year > last + kMaxYearsAhead) {
    entry->error = absl::StrFormat(
        "its target year %d is outside %d to %d (after the first "
        "observation and at most %d years after the last)",
        year, first + 1, last + kMaxYearsAhead, kMaxYearsAhead);
    return;
  }
  forecast::SeriesInput input;
  input.id = kpi.name;
  for (const domain::Observation& o : entry->observations) {
    if (o.fiscal_year >= year) continue;
    forecast::Point point;
    point.fiscal_year = o.fiscal_year;
    point.first_fiscal_year = o.first_fiscal_year;
    point.aggregation = o.aggregation;
    point.value = o.value;
    point.status = o.status == domain::ObservationStatus::kUnspecified
                       ? domain::ObservationStatus::kFinal
                       : o.status;
    input.points.push_back(point);
  }
  input.kind = kpi.kind;
  input.direction = kpi.direction;
  input.value_domain = domain::EffectiveValueDomain(kpi);
  input.unit = kpi.unit;
  input.target_fiscal_year = year;
  input.period_first_fiscal_year = kpi.period_first_fiscal_year;
  input.baseline = kpi.baseline;
  if (kpi.target.value.has_value()) {
    input.target_value = kpi.target.value;
  } else if (!kpi.target.reference.empty()) {
    absl::StatusOr<domain::Reference> reference =
        repository.GetReference(kpi.target.reference);
    if (!reference.ok()) {
      entry->error = absl::StrCat("its target reference ", kpi.target.reference,
                                  ": ", reference.status().message());
      return;
    }
    absl::StatusOr<double> value =
        domain::ResolveTarget(kpi, {*std::move(reference)});
    if (!value.ok()) {
      entry->error = absl::StrCat("its target does not resolve: ",
                                  value.status().message());
      return;
    }
    input.target_value = *value;
    input.target_from_reference = true;
  }
  entry->target_value = input.target_value;
  input.shock_fiscal_years = kpi.shock_fiscal_years;
  std::sort(input.shock_fiscal_years.begin(), input.shock_fiscal_years.end());
  input.shock_fiscal_years.erase(std::unique(input.shock_fiscal_years.begin(),
                                             input.shock_fiscal_years.end()),
                                 input.shock_fiscal_years.end());
  absl::StatusOr<forecast::ScenarioProjections> projected =
      engine.ProjectScenarios(input);
  if (!projected.ok()) {
    entry->error = std::string(projected.status().message());
    return;
  }
  entry->projection = std::move(projected->projection);
  entry->alternative = std::move(projected->alternative);
}

}  // namespace

absl::StatusOr<ReportInput> LoadReportInput(storage::Repository& repository,
                                            const forecast::Engine& engine,
                                            const std::string& strategy,
                                            absl::CivilDay prepared) {
  ReportInput input;
  input.prepared = prepared;
  KPI_ASSIGN_OR_RETURN(input.strategy, repository.GetStrategy(strategy));
  KPI_ASSIGN_OR_RETURN(
      input.goals,
      All<domain::Goal>(strategy, [&](const storage::ListRequest& r) {
        return repository.ListGoals(r);
      }));
  KPI_ASSIGN_OR_RETURN(
      input.measures,
      All<domain::Measure>(strategy, [&](const storage::ListRequest& r) {
        return repository.ListMeasures(r);
      }));
  for (const domain::Measure& m : input.measures) {
    KPI_ASSIGN_OR_RETURN(
        std::vector<domain::Evaluation> evaluations,
        All<domain::Evaluation>(m.name, [&](const storage::ListRequest& r) {
          return repository.ListEvaluations(r);
        }));
    for (domain::Evaluation& e : evaluations) {
      input.evaluations.push_back(std::move(e));
    }
  }
  KPI_ASSIGN_OR_RETURN(
      std::vector<domain::Kpi> kpis,
      All<domain::Kpi>(strategy, [&](const storage::ListRequest& r) {
        return repository.ListKpis(r);
      }));
  for (domain::Kpi& kpi : kpis) {
    KpiEntry entry;
    entry.kpi = std::move(kpi);
    KPI_ASSIGN_OR_RETURN(entry.observations,
                         repository.AllObservations(entry.kpi.name));
    Project(repository, engine, &entry);
    input.kpis.push_back(std::move(entry));
  }
  return input;
}

}  // namespace kpi::report
