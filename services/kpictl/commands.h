#ifndef KPI_SERVICES_KPICTL_COMMANDS_H_
#define KPI_SERVICES_KPICTL_COMMANDS_H_

// The subcommands of kpictl. Each writes its result to `out`, notes and
// progress to `err`, and returns OK or the error to print (with the gRPC
// code of a failed call). None is thread-safe with respect to its streams.

#include <ostream>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "lib/i18n/catalogue.h"
#include "services/kpictl/rpc.h"

namespace kpi::kpictl {

// The flags, parsed once in main.
struct Options {
  std::string strategy;  // --strategy: ID or name; empty for all
  bool all = false;      // --all
  int target_year = 0;   // --target_year; 0 for each KPI's target year
  std::string shock;     // --shock: "", "include" or "exclude"
  std::string format;    // --format; empty for the command's default
  bool validate_only = false;
  std::string out;          // --out; empty or "-" for stdout
  std::string in;           // --in
  std::string data;         // --data (backtest)
  std::string windows;      // --windows (backtest), e.g. "2,3,5,7"
  int horizon = 6;          // --horizon (batch, backtest)
  std::string calibration;  // --calibration (backtest): a calibration file
  // --lang: the language of what people read (tables, era labels, status
  // words, Japanese CSV exports).
  i18n::Language language = i18n::Language::kEn;
  // --encoding: how files are written; empty for the format's default
  // (CSV: utf-8-bom, for Japanese Excel; JSON and --format=benchmark:
  // utf-8).
  std::string encoding;
};

struct Streams {
  std::ostream* out;
  std::ostream* err;
};

// One line per subcommand, for --help and `kpictl help`.
std::string SubcommandSummary();

// `list`: the KPIs of every strategy (or --strategy) with unit, baseline,
// latest observation and target, as a table.
absl::Status RunList(const Rpc& rpc, const Options& options, const Streams& io);

// `show KPI`: one KPI with its observations, their revisions, and the
// evaluations of its measure.
absl::Status RunShow(const Rpc& rpc, const std::vector<std::string>& args,
                     const Options& options, const Streams& io);

// `project KPI` or `project --all`: projections as a table, JSON or CSV.
// With --all, KPIs that cannot be projected are shown with their error and
// counted on `err`; the command still succeeds.
absl::Status RunProject(const Rpc& rpc, const std::vector<std::string>& args,
                        const Options& options, const Streams& io);

// `import FILE`: a JSON kpi.v1.Dataset or a CSV of observations, all or
// nothing (--validate_only checks only).
absl::Status RunImport(const Rpc& rpc, const std::vector<std::string>& args,
                       const Options& options, const Streams& io);

// `export`: the whole store (or --strategy) as JSON or a CSV of
// observations, to --out or stdout.
absl::Status RunExport(const Rpc& rpc, const Options& options,
                       const Streams& io);

// `batch --in SERIES.csv --out FORECASTS.csv`: ad-hoc series through
// StreamProjectSeries. Fails (after writing every row it could) when any
// series failed, listing them on `err`.
absl::Status RunBatchCommand(const Rpc& rpc, const Options& options,
                             const Streams& io);

// `backtest --data DATA.csv --windows 2,3,5,7 --out FORECASTS.csv
// [--calibration FILE]`: the short-window backtest in-process (no server),
// with the built-in calibration or the one in FILE.
absl::Status RunBacktestCommand(const Options& options, const Streams& io);

}  // namespace kpi::kpictl

#endif  // KPI_SERVICES_KPICTL_COMMANDS_H_
