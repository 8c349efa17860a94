#ifndef KPI_SERVICES_KPICTL_CALIBRATE_H_
#define KPI_SERVICES_KPICTL_CALIBRATE_H_

// kpictl's calibration subcommands:
//   calibrate --data SERIES.csv --out FILE [--version V]: learns a
//     calibration from a file, here, without a server (lib/forecast/learn.h,
//     shrunk toward the built-in one);
//   calibrate (no --data): the server learns one from every stored KPI's
//     history and adopts it when it scores better out of sample
//     (ForecastService.CalibrateStore, admin only; --validate_only
//     learns and compares without storing, --force switches anyway);
//   skill: how the calibration in use scores on the store's own history
//     (ForecastService.GetCalibrationSkill).
// Not thread-safe with respect to the streams.

#include <string>

#include "absl/status/status.h"
#include "services/kpictl/commands.h"
#include "services/kpictl/rpc.h"

namespace kpi::kpictl {

// `calibrate --data SERIES.csv --out FILE`: reads the benchmark's long
// format (only `train` rows when there is a `split` column) or kpictl
// batch's input, writes the calibration file and a summary on `err`.
// INVALID_ARGUMENT for a bad flag or file (naming the line), NOT_FOUND for a
// missing file.
absl::Status RunCalibrateFile(const Options& options,
                              const std::string& version, const Streams& io);

// `calibrate --server ADDRESS` (no --data): CalibrateStore, then both
// calibrations' held-out figures as a table and what happened, in
// options.language. The call's deadline is 6 minutes (the server learns for
// at most 5). The server's error otherwise.
absl::Status RunCalibrateServer(const Rpc& rpc, const Options& options,
                                bool force, const Streams& io);

// `skill`: GetCalibrationSkill as a table (measured against ideal) with a
// sentence on how to read it, in options.language.
absl::Status RunSkill(const Rpc& rpc, const Options& options,
                      const Streams& io);

}  // namespace kpi::kpictl

#endif  // KPI_SERVICES_KPICTL_CALIBRATE_H_
