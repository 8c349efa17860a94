#ifndef KPI_LIB_REPORT_FAN_CHART_H_
#define KPI_LIB_REPORT_FAN_CHART_H_

// A fan chart of one KPI as a self-contained SVG document: the observations
// (final ones filled circles, provisional ones hollow circles, carried-over
// ones hollow squares; a value over several years with a bar across them),
// the shock years hatched, the projection's 95/80/50% bands (lighter to
// darker grays) and median (a solid line), the other shock scenario's
// median (dashed), the target (a hollow diamond at its fiscal year), a
// legend, axes labelled with the unit and the fiscal years as the language
// writes them, and a <title> and <desc> for screen readers.
//
// Legible in grayscale: every colour is a gray, and no two kinds of mark
// differ by shade alone (shape, dash or hatch set them apart; the bands are
// nested, so their order tells them apart as well as their shade).
//
// Values are recoverable exactly. Every mark carries its values in data-*
// attributes, printed with 17 significant digits (they parse back to the
// same double):
//   observations  <circle|rect class="obs obs-final|obs-provisional|
//                 obs-carried-over" data-fy data-value [data-first-fy]>
//   shock years   <rect class="shock" data-fy>
//   bands         <path class="band band-50|band-80|band-95" data-level
//                 data-lower="FY:V FY:V ..." data-upper="...">
//   median        <polyline class="median" data-values="FY:V ...">
//   other         <polyline class="alternative" data-values="FY:V ...">
//   target        <path class="target" data-fy data-value>
// The band and line vertices are the listed points in order (a band's upper
// edge left to right, then its lower edge right to left); the first point of
// each is the anchor, the latest observation before the projected years.
// Coordinates follow the linear map the root <svg> states in its attributes
// (printed with three decimals):
//   x = data-x0 + (fiscal_year - data-fy0) * data-px-per-year
//   y = data-y0 - (value - data-v0) * data-px-per-unit
//
// Every text (names, units, labels) is XML-escaped. Pure functions;
// thread-safe.

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "lib/domain/model.h"
#include "lib/forecast/engine.h"
#include "lib/i18n/catalogue.h"

namespace kpi::report {

struct FanChartInput {
  // Makes the element IDs unique within an HTML page holding many charts
  // (letters, digits and '-' are kept, anything else becomes '-').
  std::string id;
  std::string title;  // the KPI's name, shown above the plot
  std::string unit;
  // Observations in any order (the engine's points, as stored).
  std::vector<domain::Observation> observations;
  std::vector<int32_t> shock_fiscal_years;
  // The headline projection; null draws the observations alone.
  const forecast::Projection* projection = nullptr;
  // The other shock scenario's projection; drawn only when shock years are
  // marked. May be null.
  const forecast::Projection* alternative = nullptr;
  // The target to mark (resolved: a reference table's value in force at its
  // year); nullopt for none.
  std::optional<double> target_value;
  int32_t target_fiscal_year = 0;
};

// The SVG document (no XML declaration, so that it can also be put inline
// into HTML). Never fails: an input without any value draws empty axes.
std::string RenderFanChart(const FanChartInput& input, i18n::Language language);

// Escapes & < > " ' for XML text and attribute values.
std::string XmlEscape(std::string_view text);

// `text` reduced to an ID fragment: letters, digits and '-' kept, anything
// else '-'.
std::string IdFragment(std::string_view text);

}  // namespace kpi::report

#endif  // KPI_LIB_REPORT_FAN_CHART_H_
