#include "lib/report/fan_chart.h"

#include <algorithm>
#include <cmath>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "lib/fiscal/era.h"

namespace kpi::report {
namespace {

using i18n::Language;
using i18n::MessageId;

// The canvas (SVG user units) and the plot area inside it.
constexpr double kWidth = 640;
constexpr double kHeight = 430;
constexpr double kPlotLeft = 64;
constexpr double kPlotRight = 624;
constexpr double kPlotTop = 52;
constexpr double kPlotBottom = 270;
constexpr double kLegendTop = 338;
constexpr double kLegendRow = 18;
constexpr double kLegendColumn = 312;

// Only grays: the chart reads the same printed in black and white.
constexpr char kInk[] = "#000000";
constexpr char kAxis[] = "#444444";
constexpr char kGrid[] = "#dddddd";
constexpr char kBand95[] = "#e4e4e4";
constexpr char kBand80[] = "#c8c8c8";
constexpr char kBand50[] = "#a4a4a4";
constexpr char kHatch[] = "#b0b0b0";
constexpr char kPaper[] = "#ffffff";
constexpr char kAlternative[] = "#333333";

std::string Coord(double v) { return absl::StrFormat("%.3f", v); }
std::string Exact(double v) { return absl::StrFormat("%.17g", v); }

// The linear map from (fiscal year, value) to the plot.
struct Map {
  int fy0 = 0;
  double x0 = 0;
  double px_per_year = 1;
  double v0 = 0;
  double y0 = kPlotBottom;
  double px_per_unit = 1;
  double X(double fy) const { return x0 + (fy - fy0) * px_per_year; }
  double Y(double v) const { return y0 - (v - v0) * px_per_unit; }
};

struct Vertex {
  int fy;
  double value;
};

std::string VertexList(const std::vector<Vertex>& vs) {
  std::vector<std::string> parts;
  parts.reserve(vs.size());
  for (const Vertex& v : vs)
    parts.push_back(absl::StrCat(v.fy, ":", Exact(v.value)));
  return absl::StrJoin(parts, " ");
}

std::string Points(const Map& map, const std::vector<Vertex>& vs) {
  std::vector<std::string> parts;
  parts.reserve(vs.size());
  for (const Vertex& v : vs) {
    parts.push_back(
        absl::StrCat(Coord(map.X(v.fy)), ",", Coord(map.Y(v.value))));
  }
  return absl::StrJoin(parts, " ");
}

// A step of 1, 2 or 5 times a power of ten giving about five ticks.
double NiceStep(double span) {
  const double raw = span / 5;
  const double magnitude = std::pow(10, std::floor(std::log10(raw)));
  const double normal = raw / magnitude;
  const double factor = normal <= 1   ? 1
                        : normal <= 2 ? 2
                        : normal <= 5 ? 5
                                      : 10;
  return factor * magnitude;
}

std::string Text(double x, double y, std::string_view text,
                 std::string_view attributes = "") {
  return absl::StrCat("<text x=\"", Coord(x), "\" y=\"", Coord(y), "\"",
                      attributes.empty() ? "" : " ", std::string(attributes),
                      ">", XmlEscape(text), "</text>\n");
}

// An observation's marker; `extra` holds its data attributes.
std::string ObservationMarker(domain::ObservationStatus status, double x,
                              double y, const std::string& extra) {
  switch (status) {
    case domain::ObservationStatus::kProvisional:
      return absl::StrCat("<circle class=\"obs obs-provisional\" cx=\"",
                          Coord(x), "\" cy=\"", Coord(y),
                          "\" r=\"4.5\" fill=\"", kPaper, "\" stroke=\"", kInk,
                          "\" stroke-width=\"1.8\"", extra, "/>\n");
    case domain::ObservationStatus::kCarriedOver:
      return absl::StrCat("<rect class=\"obs obs-carried-over\" x=\"",
                          Coord(x - 4.5), "\" y=\"", Coord(y - 4.5),
                          "\" width=\"9\" height=\"9\" fill=\"", kPaper,
                          "\" stroke=\"", kInk, "\" stroke-width=\"1.8\"",
                          extra, "/>\n");
    default:
      return absl::StrCat("<circle class=\"obs obs-final\" cx=\"", Coord(x),
                          "\" cy=\"", Coord(y), "\" r=\"4\" fill=\"", kInk,
                          "\"", extra, "/>\n");
  }
}

std::string DiamondPath(double x, double y, double r) {
  return absl::StrCat("M", Coord(x), ",", Coord(y - r), " L", Coord(x + r), ",",
                      Coord(y), " L", Coord(x), ",", Coord(y + r), " L",
                      Coord(x - r), ",", Coord(y), " Z");
}

MessageId ScenarioName(forecast::ShockTreatment treatment) {
  switch (treatment) {
    case forecast::ShockTreatment::kExclude:
      return MessageId::kScenarioRecovery;
    case forecast::ShockTreatment::kInclude:
      return MessageId::kScenarioAsData;
    default:
      return MessageId::kScenarioBlend;
  }
}

// The tick label of a fiscal year: two lines, the form the language reads
// first above the other (ja 令和3 / 2021, en FY2021 / R3).
std::pair<std::string, std::string> YearTick(int fy, Language language) {
  std::string era = fiscal::FormatShort(fy);
  if (language == Language::kJa) {
    std::string long_form = fiscal::FormatFiscalYear(fy);
    const std::string suffix = "年度";
    if (absl::EndsWith(long_form, suffix)) {
      long_form.resize(long_form.size() - suffix.size());
    }
    return {long_form, absl::StrCat(fy)};
  }
  return {absl::StrCat("FY", fy), era};
}

}  // namespace

std::string XmlEscape(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\'':
        out += "&#39;";
        break;
      default:
        out += c;
    }
  }
  return out;
}

std::string IdFragment(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    const bool keep =
        absl::ascii_isalnum(static_cast<unsigned char>(c)) || c == '-';
    out += keep ? c : '-';
  }
  return out;
}

std::string RenderFanChart(const FanChartInput& input, Language language) {
  const std::string id = absl::StrCat("chart-", IdFragment(input.id));
  const forecast::Projection* projection = input.projection;
  const forecast::Projection* alternative =
      input.shock_fiscal_years.empty() ? nullptr : input.alternative;
  if (projection != nullptr && projection->years.empty()) projection = nullptr;
  if (alternative != nullptr && alternative->years.empty())
    alternative = nullptr;

  std::vector<domain::Observation> observations = input.observations;
  std::sort(observations.begin(), observations.end(),
            [](const domain::Observation& a, const domain::Observation& b) {
              return a.fiscal_year < b.fiscal_year;
            });

  // The years and values to fit in.
  std::vector<int> years;
  std::vector<double> values;
  for (const domain::Observation& o : observations) {
    years.push_back(o.fiscal_year);
    if (o.first_fiscal_year != 0) years.push_back(o.first_fiscal_year);
    values.push_back(o.value);
  }
  for (const forecast::Projection* p : {projection, alternative}) {
    if (p == nullptr) continue;
    for (const forecast::YearProjection& y : p->years) {
      years.push_back(y.fiscal_year);
      values.push_back(y.median);
      if (p == projection) {
        values.push_back(y.interval_95.lower);
        values.push_back(y.interval_95.upper);
      }
    }
  }
  const bool has_target = input.target_value.has_value() &&
                          std::isfinite(*input.target_value) &&
                          input.target_fiscal_year != 0;
  if (has_target) {
    years.push_back(input.target_fiscal_year);
    values.push_back(*input.target_value);
  }
  values.erase(std::remove_if(values.begin(), values.end(),
                              [](double v) { return !std::isfinite(v); }),
               values.end());

  Map map;
  int fy_first = years.empty() ? input.target_fiscal_year : years.front();
  int fy_last = fy_first;
  for (int y : years) {
    fy_first = std::min(fy_first, y);
    fy_last = std::max(fy_last, y);
  }
  const int year_count = fy_last - fy_first + 1;
  map.fy0 = fy_first;
  map.px_per_year = (kPlotRight - kPlotLeft) / year_count;
  map.x0 = kPlotLeft + map.px_per_year / 2;
  double vmin =
      values.empty() ? 0 : *std::min_element(values.begin(), values.end());
  double vmax =
      values.empty() ? 1 : *std::max_element(values.begin(), values.end());
  if (vmax - vmin < 1e-12 * std::max(1.0, std::fabs(vmax))) {
    const double pad = vmax == 0 ? 1 : std::fabs(vmax) * 0.1;
    vmin -= pad;
    vmax += pad;
  }
  const double step = NiceStep(vmax - vmin);
  map.v0 = std::floor(vmin / step) * step;
  double vtop = std::ceil(vmax / step) * step;
  if (vtop <= map.v0) vtop = map.v0 + step;
  map.y0 = kPlotBottom;
  map.px_per_unit = (kPlotBottom - kPlotTop) / (vtop - map.v0);

  // The anchor: the latest observation before the projected years.
  std::optional<Vertex> anchor;
  if (projection != nullptr) {
    const int first_projected = projection->years.front().fiscal_year;
    for (const domain::Observation& o : observations) {
      if (o.fiscal_year < first_projected)
        anchor = Vertex{o.fiscal_year, o.value};
    }
  }

  std::string svg;
  // The root: the map, so that readers can turn coordinates into values.
  absl::StrAppend(
      &svg,
      "<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"fan-chart\" id=\"", id,
      "\" viewBox=\"0 0 ", kWidth, " ", kHeight, "\" width=\"", kWidth,
      "\" height=\"", kHeight, "\" role=\"img\" aria-labelledby=\"", id,
      "-title ", id,
      "-desc\" font-family=\"'Noto Sans CJK JP', 'Noto Sans JP', "
      "sans-serif\" font-size=\"11\" data-fy0=\"",
      map.fy0, "\" data-x0=\"", Exact(map.x0), "\" data-px-per-year=\"",
      Exact(map.px_per_year), "\" data-v0=\"", Exact(map.v0), "\" data-y0=\"",
      Exact(map.y0), "\" data-px-per-unit=\"", Exact(map.px_per_unit), "\">\n");

  // <title> and <desc>.
  absl::StrAppend(
      &svg, "<title id=\"", id, "-title\">",
      XmlEscape(i18n::Format(MessageId::kReportChart, language, input.title)),
      "</title>\n");
  std::string desc;
  if (!observations.empty()) {
    desc += i18n::Format(
        MessageId::kChartDescObserved, language, observations.size(),
        i18n::FiscalYearInText(observations.front().fiscal_year, language),
        i18n::FiscalYearInText(observations.back().fiscal_year, language));
  }
  if (projection != nullptr) {
    const forecast::YearProjection& last = projection->years.back();
    desc += i18n::Format(MessageId::kChartDescProjected, language,
                         i18n::FiscalYearInText(last.fiscal_year, language),
                         i18n::FormatValueWithUnit(last.median, input.unit),
                         i18n::FormatNumber(last.interval_80.lower),
                         i18n::FormatNumber(last.interval_80.upper));
    if (has_target && projection->target_value.has_value()) {
      desc += i18n::Format(
          MessageId::kChartDescTarget, language,
          i18n::FiscalYearInText(input.target_fiscal_year, language),
          i18n::FormatValueWithUnit(*input.target_value, input.unit),
          i18n::FormatProbability(projection->attainment_probability),
          std::string(i18n::LikelihoodWords(projection->attainment_probability,
                                            language)));
    }
  }
  if (alternative != nullptr) {
    desc +=
        i18n::Format(MessageId::kChartDescAlternative, language,
                     std::string(i18n::Text(
                         ScenarioName(alternative->shock_treatment), language)),
                     i18n::FormatValueWithUnit(alternative->years.back().median,
                                               input.unit));
  }
  if (language == Language::kEn) {
    // Sentences of the English catalogue end without the space between them.
    std::string spaced;
    for (size_t i = 0; i < desc.size(); ++i) {
      spaced += desc[i];
      if (desc[i] == '.' && i + 1 < desc.size() && desc[i + 1] != ' ' &&
          absl::ascii_isupper(static_cast<unsigned char>(desc[i + 1]))) {
        spaced += ' ';
      }
    }
    desc = std::move(spaced);
  }
  absl::StrAppend(&svg, "<desc id=\"", id, "-desc\">", XmlEscape(desc),
                  "</desc>\n");

  // The shock years' hatch.
  absl::StrAppend(&svg, "<defs><pattern id=\"", id,
                  "-hatch\" patternUnits=\"userSpaceOnUse\" width=\"6\" "
                  "height=\"6\" patternTransform=\"rotate(45)\"><rect "
                  "width=\"6\" height=\"6\" fill=\"",
                  kPaper,
                  "\"/><line x1=\"0\" y1=\"0\" x2=\"0\" y2=\"6\" stroke=\"",
                  kHatch, "\" stroke-width=\"2.5\"/></pattern></defs>\n");
  absl::StrAppend(&svg, "<rect class=\"background\" x=\"0\" y=\"0\" width=\"",
                  kWidth, "\" height=\"", kHeight, "\" fill=\"", kPaper,
                  "\"/>\n");
  // Title and unit.
  absl::StrAppend(&svg, Text(8, 20, input.title,
                             "class=\"chart-title\" font-size=\"13\" "
                             "font-weight=\"bold\""));
  absl::StrAppend(
      &svg, Text(kPlotLeft, 42,
                 i18n::Format(MessageId::kChartAxisUnit, language, input.unit),
                 "class=\"axis-unit\" text-anchor=\"middle\""));

  // Shock years.
  bool any_shock = false;
  for (int fy : input.shock_fiscal_years) {
    if (fy < fy_first || fy > fy_last) continue;
    any_shock = true;
    const double x = map.X(fy) - map.px_per_year / 2;
    absl::StrAppend(&svg, "<rect class=\"shock\" data-fy=\"", fy, "\" x=\"",
                    Coord(x), "\" y=\"", Coord(kPlotTop), "\" width=\"",
                    Coord(map.px_per_year), "\" height=\"",
                    Coord(kPlotBottom - kPlotTop), "\" fill=\"url(#", id,
                    "-hatch)\"/>\n");
  }

  // Grid and the value axis.
  for (double v = map.v0; v <= vtop + step / 2; v += step) {
    const double y = map.Y(v);
    absl::StrAppend(&svg, "<line class=\"grid\" x1=\"", Coord(kPlotLeft),
                    "\" y1=\"", Coord(y), "\" x2=\"", Coord(kPlotRight),
                    "\" y2=\"", Coord(y), "\" stroke=\"", kGrid,
                    "\" stroke-width=\"1\"/>\n");
    absl::StrAppend(
        &svg,
        Text(kPlotLeft - 6, y + 4,
             i18n::FormatNumber(std::fabs(v) < step * 1e-9 ? 0 : v),
             absl::StrCat("class=\"tick-value\" text-anchor=\"end\" fill=\"",
                          kAxis, "\"")));
  }
  absl::StrAppend(&svg, "<path class=\"axis\" d=\"M", Coord(kPlotLeft), ",",
                  Coord(kPlotTop), " L", Coord(kPlotLeft), ",",
                  Coord(kPlotBottom), " L", Coord(kPlotRight), ",",
                  Coord(kPlotBottom), "\" fill=\"none\" stroke=\"", kAxis,
                  "\" stroke-width=\"1\"/>\n");
  // The year axis: every year when they fit, else every other one.
  const int every = year_count > 14 ? 2 : 1;
  for (int fy = fy_first; fy <= fy_last; ++fy) {
    const double x = map.X(fy);
    absl::StrAppend(&svg, "<line class=\"tick\" x1=\"", Coord(x), "\" y1=\"",
                    Coord(kPlotBottom), "\" x2=\"", Coord(x), "\" y2=\"",
                    Coord(kPlotBottom + 4), "\" stroke=\"", kAxis, "\"/>\n");
    if ((fy - fy_first) % every != 0) continue;
    const auto [first_line, second_line] = YearTick(fy, language);
    absl::StrAppend(
        &svg,
        Text(x, kPlotBottom + 17, first_line,
             absl::StrCat("class=\"tick-year\" data-fy=\"", fy,
                          "\" text-anchor=\"middle\"")),
        Text(x, kPlotBottom + 30, second_line,
             absl::StrCat("class=\"tick-year-alt\" text-anchor=\"middle\" "
                          "font-size=\"9\" fill=\"",
                          kAxis, "\"")));
  }
  absl::StrAppend(&svg, Text((kPlotLeft + kPlotRight) / 2, kPlotBottom + 48,
                             i18n::Text(MessageId::kChartAxisYear, language),
                             "class=\"axis-year\" text-anchor=\"middle\""));

  // Bands, outermost first.
  struct BandSpec {
    int level;
    const char* fill;
    const forecast::Interval forecast::YearProjection::*interval;
  };
  const BandSpec bands[] = {
      {95, kBand95, &forecast::YearProjection::interval_95},
      {80, kBand80, &forecast::YearProjection::interval_80},
      {50, kBand50, &forecast::YearProjection::interval_50},
  };
  if (projection != nullptr) {
    for (const BandSpec& band : bands) {
      std::vector<Vertex> lower;
      std::vector<Vertex> upper;
      if (anchor.has_value()) {
        lower.push_back(*anchor);
        upper.push_back(*anchor);
      }
      for (const forecast::YearProjection& y : projection->years) {
        lower.push_back({y.fiscal_year, (y.*band.interval).lower});
        upper.push_back({y.fiscal_year, (y.*band.interval).upper});
      }
      std::string d;
      for (size_t i = 0; i < upper.size(); ++i) {
        absl::StrAppend(&d, i == 0 ? "M" : " L", Coord(map.X(upper[i].fy)), ",",
                        Coord(map.Y(upper[i].value)));
      }
      for (size_t i = lower.size(); i-- > 0;) {
        absl::StrAppend(&d, " L", Coord(map.X(lower[i].fy)), ",",
                        Coord(map.Y(lower[i].value)));
      }
      d += " Z";
      absl::StrAppend(&svg, "<path class=\"band band-", band.level,
                      "\" data-level=\"", band.level, "\" data-upper=\"",
                      VertexList(upper), "\" data-lower=\"", VertexList(lower),
                      "\" d=\"", d, "\" fill=\"", band.fill,
                      "\" stroke=\"none\"/>\n");
    }
  }

  // The observations' line, the scenarios and the target.
  if (observations.size() > 1) {
    std::vector<Vertex> line;
    for (const domain::Observation& o : observations) {
      line.push_back({o.fiscal_year, o.value});
    }
    absl::StrAppend(&svg, "<polyline class=\"obs-line\" points=\"",
                    Points(map, line), "\" fill=\"none\" stroke=\"", kInk,
                    "\" stroke-width=\"1\"/>\n");
  }
  if (alternative != nullptr) {
    std::vector<Vertex> line;
    if (anchor.has_value()) line.push_back(*anchor);
    for (const forecast::YearProjection& y : alternative->years) {
      line.push_back({y.fiscal_year, y.median});
    }
    absl::StrAppend(&svg, "<polyline class=\"alternative\" data-values=\"",
                    VertexList(line), "\" points=\"", Points(map, line),
                    "\" fill=\"none\" stroke=\"", kAlternative,
                    "\" stroke-width=\"1.6\" stroke-dasharray=\"6 4\"/>\n");
  }
  if (projection != nullptr) {
    std::vector<Vertex> line;
    if (anchor.has_value()) line.push_back(*anchor);
    for (const forecast::YearProjection& y : projection->years) {
      line.push_back({y.fiscal_year, y.median});
    }
    absl::StrAppend(&svg, "<polyline class=\"median\" data-values=\"",
                    VertexList(line), "\" points=\"", Points(map, line),
                    "\" fill=\"none\" stroke=\"", kInk,
                    "\" stroke-width=\"2.2\"/>\n");
  }
  if (has_target) {
    const double x = map.X(input.target_fiscal_year);
    const double y = map.Y(*input.target_value);
    absl::StrAppend(&svg, "<line class=\"target-line\" x1=\"", Coord(kPlotLeft),
                    "\" y1=\"", Coord(y), "\" x2=\"", Coord(x), "\" y2=\"",
                    Coord(y), "\" stroke=\"", kInk,
                    "\" stroke-width=\"1\" stroke-dasharray=\"1 3\"/>\n");
    absl::StrAppend(&svg, "<path class=\"target\" data-fy=\"",
                    input.target_fiscal_year, "\" data-value=\"",
                    Exact(*input.target_value), "\" d=\"", DiamondPath(x, y, 7),
                    "\" fill=\"", kPaper, "\" stroke=\"", kInk,
                    "\" stroke-width=\"2\"/>\n");
    absl::StrAppend(
        &svg,
        Text(
            x - 10, y - 9,
            absl::StrCat(
                std::string(i18n::Text(MessageId::kChartTarget, language)), " ",
                i18n::FormatValueWithUnit(*input.target_value, input.unit)),
            "class=\"target-label\" text-anchor=\"end\""));
  }

  // Observation markers, last so that nothing covers them.
  bool any_final = false;
  bool any_provisional = false;
  bool any_carried = false;
  for (const domain::Observation& o : observations) {
    const double x = map.X(o.fiscal_year);
    const double y = map.Y(o.value);
    std::string extra = absl::StrCat(" data-fy=\"", o.fiscal_year,
                                     "\" data-value=\"", Exact(o.value), "\"");
    if (o.first_fiscal_year != 0 && o.first_fiscal_year != o.fiscal_year) {
      absl::StrAppend(&extra, " data-first-fy=\"", o.first_fiscal_year, "\"");
      absl::StrAppend(&svg, "<line class=\"obs-span\" x1=\"",
                      Coord(map.X(o.first_fiscal_year)), "\" y1=\"", Coord(y),
                      "\" x2=\"", Coord(x), "\" y2=\"", Coord(y),
                      "\" stroke=\"", kInk, "\" stroke-width=\"3\"/>\n");
    }
    switch (o.status) {
      case domain::ObservationStatus::kProvisional:
        any_provisional = true;
        break;
      case domain::ObservationStatus::kCarriedOver:
        any_carried = true;
        break;
      default:
        any_final = true;
    }
    absl::StrAppend(&svg, ObservationMarker(o.status, x, y, extra));
  }

  // The legend: only what the chart shows, each with its own mark.
  std::vector<std::pair<std::string, std::string>> legend;  // swatch, label
  auto swatch_at = [](double x, double y, const std::string& body) {
    return absl::StrCat("<g transform=\"translate(", Coord(x), ",", Coord(y),
                        ")\">", body, "</g>");
  };
  if (any_final) {
    legend.push_back(
        {absl::StrCat("<circle cx=\"10\" cy=\"0\" r=\"4\" fill=\"", kInk,
                      "\"/>"),
         std::string(i18n::Text(MessageId::kChartObserved, language))});
  }
  if (any_provisional) {
    legend.push_back(
        {absl::StrCat("<circle cx=\"10\" cy=\"0\" r=\"4.5\" fill=\"", kPaper,
                      "\" stroke=\"", kInk, "\" stroke-width=\"1.8\"/>"),
         std::string(i18n::Text(MessageId::kChartProvisional, language))});
  }
  if (any_carried) {
    legend.push_back(
        {absl::StrCat("<rect x=\"5.5\" y=\"-4.5\" width=\"9\" height=\"9\" "
                      "fill=\"",
                      kPaper, "\" stroke=\"", kInk,
                      "\" stroke-width=\"1.8\"/>"),
         std::string(i18n::Text(MessageId::kChartCarriedOver, language))});
  }
  if (projection != nullptr) {
    legend.push_back(
        {absl::StrCat("<line x1=\"0\" y1=\"0\" x2=\"20\" y2=\"0\" stroke=\"",
                      kInk, "\" stroke-width=\"2.2\"/>"),
         std::string(i18n::Text(MessageId::kChartMedian, language))});
    for (auto it = std::rbegin(bands); it != std::rend(bands); ++it) {
      legend.push_back(
          {absl::StrCat("<rect x=\"0\" y=\"-5\" width=\"20\" height=\"10\" "
                        "fill=\"",
                        it->fill, "\" stroke=\"", kAxis,
                        "\" stroke-width=\"0.5\"/>"),
           i18n::Format(MessageId::kChartBand, language, it->level)});
    }
  }
  if (has_target) {
    legend.push_back(
        {absl::StrCat("<path d=\"", DiamondPath(10, 0, 6), "\" fill=\"", kPaper,
                      "\" stroke=\"", kInk, "\" stroke-width=\"2\"/>"),
         std::string(i18n::Text(MessageId::kChartTarget, language))});
  }
  if (alternative != nullptr) {
    legend.push_back(
        {absl::StrCat("<line x1=\"0\" y1=\"0\" x2=\"20\" y2=\"0\" stroke=\"",
                      kAlternative,
                      "\" stroke-width=\"1.6\" stroke-dasharray=\"6 4\"/>"),
         i18n::Format(
             MessageId::kChartAlternative, language,
             std::string(i18n::Text(ScenarioName(alternative->shock_treatment),
                                    language)))});
  }
  if (any_shock) {
    legend.push_back(
        {absl::StrCat("<rect x=\"0\" y=\"-6\" width=\"20\" height=\"12\" "
                      "fill=\"url(#",
                      id, "-hatch)\" stroke=\"", kAxis,
                      "\" stroke-width=\"0.5\"/>"),
         std::string(i18n::Text(MessageId::kChartShockYears, language))});
  }
  absl::StrAppend(&svg, "<g class=\"legend\">\n");
  for (size_t i = 0; i < legend.size(); ++i) {
    const double x = 8 + (i % 2) * kLegendColumn;
    const double y = kLegendTop + (i / 2) * kLegendRow;
    absl::StrAppend(&svg, "<g class=\"legend-item\">",
                    swatch_at(x, y, legend[i].first),
                    Text(x + 26, y + 4, legend[i].second), "</g>\n");
  }
  absl::StrAppend(&svg, "</g>\n</svg>\n");
  return svg;
}

}  // namespace kpi::report
