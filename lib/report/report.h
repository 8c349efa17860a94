#ifndef KPI_LIB_REPORT_REPORT_H_
#define KPI_LIB_REPORT_REPORT_H_

// The strategy report a council reads: one self-contained HTML file (inline
// CSS and SVG, no script, nothing fetched), in Japanese or English, through
// the message catalogue. At the top a summary (the KPIs counted by progress
// status, the KPIs listed from the lowest probability of meeting the target,
// how often the city's ratings and the suggested ones agree); then, goal by
// goal (each starting a new printed page, A4), measure by measure, the
// city's own rating beside the rating suggested by SuggestRating, and each
// KPI with its fan chart (fan_chart.h), latest value against target,
// projection, probability in words, status, warnings and explanation.
//
// Pure functions; thread-safe.

#include <optional>
#include <string>
#include <vector>

#include "absl/time/civil_time.h"
#include "lib/domain/model.h"
#include "lib/forecast/engine.h"
#include "lib/i18n/catalogue.h"

namespace kpi::report {

// The rating suggested for a measure from its KPIs' probabilities of
// meeting their targets. The rule: the mean probability m (the expected
// share of the measure's targets that will be met) on the likelihood
// scale's bounds:
//   m >= 0.66        continue (継続): the current efforts reach the targets;
//   0.33 < m < 0.66  continue and expand (継続発展): more effort is needed;
//   m <= 0.33        revise (見直し): the current efforts fall short.
// KPIs without a target (no probability) are not counted; with none left
// the rating is kUnspecified.
struct SuggestedRating {
  domain::Rating rating = domain::Rating::kUnspecified;
  double mean_probability = 0;
  int kpi_count = 0;  // the probabilities the mean is taken over
};
SuggestedRating SuggestRating(const std::vector<double>& probabilities);

// One KPI with what the report shows of it.
struct KpiEntry {
  domain::Kpi kpi;
  std::vector<domain::Observation> observations;
  // The headline projection and, with shock years, the other scenario's.
  std::optional<forecast::Projection> projection;
  std::optional<forecast::Projection> alternative;
  // The target resolved (a reference table's value in force at its year).
  std::optional<double> target_value;
  // Why there is no projection (shown in its place).
  std::string error;
};

struct ReportInput {
  domain::Strategy strategy;
  std::vector<domain::Goal> goals;
  std::vector<domain::Measure> measures;
  std::vector<KpiEntry> kpis;
  // The evaluations of the strategy's measures (any year; the report shows
  // those of evaluation_fiscal_year).
  std::vector<domain::Evaluation> evaluations;
  // 0: the latest fiscal year of any evaluation.
  int evaluation_fiscal_year = 0;
  // The day the report is prepared, printed in its header.
  absl::CivilDay prepared;
};

struct Chart {
  std::string kpi;        // the KPI's resource name
  std::string file_name;  // "<kpi id>.svg"
  std::string svg;        // the fan chart as a standalone document
};

struct Report {
  std::string html;
  std::vector<Chart> charts;  // one per KPI, in the report's order
};

// The report. Never fails: a KPI without a projection shows its error and
// its observations; a measure without an evaluation shows "no rating".
Report RenderReport(const ReportInput& input, i18n::Language language);

// A date as a reader of `language` writes it: ja "2026年12月5日", en
// "5 December 2026".
std::string FormatDate(absl::CivilDay day, i18n::Language language);

// The ID of a resource name (its last segment): "strategies/s/kpis/k" ->
// "k".
std::string LastSegment(const std::string& name);

}  // namespace kpi::report

#endif  // KPI_LIB_REPORT_REPORT_H_
