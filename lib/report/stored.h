#ifndef KPI_LIB_REPORT_STORED_H_
#define KPI_LIB_REPORT_STORED_H_

// The report's input read from a store: a strategy with its goals,
// measures, evaluations and KPIs, each KPI projected to its target year as
// ForecastService.ProjectKpi projects it by default (observations before the
// target year; a reference target resolved at that year; the KPI's shock
// years under the engine's scenario rule, with the other scenario beside).

#include <string>

#include "absl/status/statusor.h"
#include "absl/time/civil_time.h"
#include "lib/forecast/engine.h"
#include "lib/report/report.h"
#include "lib/storage/repository.h"

namespace kpi::report {

// Reads and projects. NOT_FOUND when `strategy` does not exist; other
// storage errors as the repository returns them. A KPI that cannot be
// projected (no observation, a target year out of range, a reference that
// does not resolve) does not fail the call: its KpiEntry::error says why.
// Thread-safe (the repository and engine are).
absl::StatusOr<ReportInput> LoadReportInput(storage::Repository& repository,
                                            const forecast::Engine& engine,
                                            const std::string& strategy,
                                            absl::CivilDay prepared);

}  // namespace kpi::report

#endif  // KPI_LIB_REPORT_STORED_H_
