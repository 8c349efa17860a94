#ifndef KPI_LIB_DATASET_OBSERVATIONS_CSV_H_
#define KPI_LIB_DATASET_OBSERVATIONS_CSV_H_

// Observations as CSV, one row per observation with its KPI's identity
// columns. The format is documented in lib/dataset/README.md; in short, the
// header names the columns, in any order:
//
//   kpi,kpi_display_name,unit,fiscal_year,fiscal_year_label,
//   first_fiscal_year,aggregation,value,status,source_note,
//   reported_fiscal_year
//
// of which kpi, fiscal_year and value are required; rows whose cells are all
// blank are skipped. Paths of violations are
// "SOURCE:LINE:COLUMN" (or "SOURCE:LINE" for a whole row). All functions are
// pure and thread-safe.

#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "lib/domain/model.h"

namespace kpi::dataset {

// Every column, in the order WriteObservationsCsv writes them.
const std::vector<std::string>& ObservationCsvColumns();

// The columns a file must have.
const std::vector<std::string>& RequiredObservationCsvColumns();

// One parsed row.
struct ObservationRow {
  int line = 0;
  // Resource name of the KPI (the kpi column).
  std::string kpi;
  // The identity columns as given ("" when absent or blank), for checking
  // against the stored KPI with CheckRowsAgainstKpis.
  std::string kpi_display_name;
  std::string unit;
  // Named <kpi>/observations/<FiscalYearId(first_fiscal_year, fiscal_year)>.
  domain::Observation observation;
};

// Parses CSV text (UTF-8, as DecodeText returns; a leading byte order mark
// is skipped). Cells:
// - kpi: a KPI resource name, strategies/{strategy}/kpis/{kpi};
// - fiscal_year: a Western year or any label fiscal::ParseFiscalPeriod
//   reads (令和3年度, R3, FY2021); a range (平成28-30年度) also sets
//   first_fiscal_year;
// - first_fiscal_year, reported_fiscal_year: a single year as above, or
//   blank (0);
// - fiscal_year_label: blank, or a label naming the same period as
//   fiscal_year (令和3年度 beside 2021);
// - aggregation and status: the words of terms.h (MEAN, SUM, 平均, 合計;
//   FINAL, PROVISIONAL, CARRIED_OVER, 確定値, 速報値, 見込み, 据置, ...);
//   blank is UNSPECIFIED;
// - value: a decimal number, with "," thousands separators in groups of
//   three (1,669) and full-width digits allowed, an exponent allowed;
// - kpi_display_name, unit, source_note: text, kept exactly.
// Returns INVALID_ARGUMENT (base::InvalidArgumentWithViolations) listing
// every problem: a missing required column (naming it and the required
// ones), an unknown or repeated column, CSV syntax, a row with the wrong
// number of cells, a bad cell, an observation given twice (with both line
// numbers), or a row domain::ValidateObservation rejects.
absl::StatusOr<std::vector<ObservationRow>> ParseObservationRows(
    std::string_view text, std::string_view source_name);

// ParseObservationRows, keeping only the observations, in file order.
absl::StatusOr<std::vector<domain::Observation>> ParseObservationsCsv(
    std::string_view text, std::string_view source_name);

// Checks the rows against the KPIs they name (stored or imported): the KPI
// exists ("SOURCE:LINE:kpi"), the identity columns, when given, match its
// display_name and unit, and the value lies in its value domain. Returns OK
// or INVALID_ARGUMENT listing every problem.
absl::Status CheckRowsAgainstKpis(const std::vector<ObservationRow>& rows,
                                  const std::vector<domain::Kpi>& kpis,
                                  std::string_view source_name);

struct ObservationsCsvOptions {
  // Status and aggregation in Japanese (確定値, 暫定値, 据置; 平均, 合計) and
  // a fiscal_year_label column with the era label (令和3年度, 平成28-30年度)
  // after fiscal_year. Both read back.
  bool japanese = false;
};

// Every observation of `dataset`, in its order, with the identity columns
// of its KPI (blank when the KPI is not in `dataset`), header first, LF line
// ends, no byte order mark (see EncodeText for what a file gets). Values are
// written in the fewest digits that read back to the same double, so
// ParseObservationsCsv(WriteObservationsCsv(d)) reproduces d.observations'
// names and every column's field exactly (revisions and output-only fields
// are not part of the CSV), in either language.
std::string WriteObservationsCsv(const domain::Dataset& dataset,
                                 const ObservationsCsvOptions& options = {});

}  // namespace kpi::dataset

#endif  // KPI_LIB_DATASET_OBSERVATIONS_CSV_H_
