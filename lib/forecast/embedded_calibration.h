#ifndef KPI_LIB_FORECAST_EMBEDDED_CALIBRATION_H_
#define KPI_LIB_FORECAST_EMBEDDED_CALIBRATION_H_

// The calibration file shipped in lib/forecast/calibration/, compiled in by
// CMake (embed_file.cmake) so that DefaultEngine() needs no path.

#include "absl/strings/string_view.h"

namespace kpi::forecast {

// The text of the shipped calibration file. Thread-safe; never fails.
absl::string_view EmbeddedCalibrationText();

}  // namespace kpi::forecast

#endif  // KPI_LIB_FORECAST_EMBEDDED_CALIBRATION_H_
