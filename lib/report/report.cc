#include "lib/report/report.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <map>
#include <set>
#include <string>
#include <string_view>
#include <tuple>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "lib/base/utf8.h"
#include "lib/i18n/explanation.h"
#include "lib/report/fan_chart.h"

namespace kpi::report {
namespace {

using i18n::Language;
using i18n::MessageId;

std::string S(std::string_view v) { return std::string(v); }
std::string T(MessageId id, Language language) {
  return S(i18n::Text(id, language));
}
std::string E(std::string_view text) { return XmlEscape(text); }

// A chart put into the page: HTML needs no namespace declaration, and the
// page then names no URL at all.
std::string Inline(const std::string& svg) {
  static constexpr std::string_view kNamespace =
      " xmlns=\"http://www.w3.org/2000/svg\"";
  std::string out = svg;
  const size_t at = out.find(kNamespace);
  if (at != std::string::npos) out.erase(at, kNamespace.size());
  return out;
}

// The report's style: screen and print (A4, a page break before each goal,
// a KPI kept on one page where it fits). Only grays, like the charts.
constexpr char kStyle[] = R"css(
@page { size: A4; margin: 14mm 12mm 14mm 12mm; }
html { background: #ffffff; color: #000000; }
body { font-family: "Noto Sans CJK JP", "Noto Sans JP", "Hiragino Sans",
  "Yu Gothic", sans-serif; font-size: 10.5pt; line-height: 1.55;
  max-width: 186mm; margin: 0 auto; padding: 0 4mm; }
h1 { font-size: 17pt; margin: 0 0 2mm 0; }
h2 { font-size: 14pt; border-bottom: 2px solid #000000; margin: 6mm 0 3mm 0; }
h3 { font-size: 12pt; margin: 5mm 0 2mm 0; border-left: 5px solid #444444;
  padding-left: 2mm; }
h4 { font-size: 11pt; margin: 3mm 0 1mm 0; }
p { margin: 1mm 0 2mm 0; }
.meta { color: #333333; font-size: 9.5pt; }
table { border-collapse: collapse; width: 100%; margin: 2mm 0 3mm 0;
  font-size: 9.5pt; }
th, td { border: 1px solid #888888; padding: 1mm 1.5mm; text-align: left;
  vertical-align: top; }
th { background: #eeeeee; font-weight: bold; }
td.number { text-align: right; white-space: nowrap; }
a { color: #000000; }
section.goal { break-before: page; page-break-before: always; }
section.measure { margin-bottom: 4mm; }
article.kpi { break-inside: avoid; page-break-inside: avoid;
  border-top: 1px solid #bbbbbb; padding-top: 2mm; margin-top: 3mm; }
figure.chart { margin: 1mm 0; }
figure.chart svg { width: 100%; max-width: 160mm; height: auto; display: block; }
.ratings { display: flex; gap: 4mm; margin: 2mm 0; }
.rating { border: 1.5px solid #000000; padding: 1mm 3mm; }
.rating.suggested { border-style: dashed; }
.rating .label { font-size: 9pt; color: #333333; display: block; }
.rating .value { font-size: 12pt; font-weight: bold; }
.rating .basis { font-size: 8.5pt; display: block; }
.city-text { font-size: 9.5pt; color: #222222; }
.explanation { font-size: 9.5pt; }
.error { font-weight: bold; }
.rule { font-size: 9pt; color: #333333; }
nav.contents ol { list-style: none; padding: 0; margin: 1mm 0 3mm 0; }
@media print {
  body { max-width: none; padding: 0; }
  a { text-decoration: none; }
}
)css";

const forecast::ProgressStatus kStatuses[] = {
    forecast::ProgressStatus::kAchieved,
    forecast::ProgressStatus::kOnTrack,
    forecast::ProgressStatus::kAccelerationNeeded,
    forecast::ProgressStatus::kLimitedProgress,
    forecast::ProgressStatus::kDeteriorating,
    forecast::ProgressStatus::kInsufficientData,
};

const char* RatingCode(domain::Rating rating) {
  switch (rating) {
    case domain::Rating::kContinueAndExpand:
      return "RATING_CONTINUE_AND_EXPAND";
    case domain::Rating::kContinue:
      return "RATING_CONTINUE";
    case domain::Rating::kRevise:
      return "RATING_REVISE";
    case domain::Rating::kUnspecified:
      break;
  }
  return "RATING_UNSPECIFIED";
}

// A name as the language reads it: Japanese alone, or the English name
// with the Japanese one after it.
std::string Name(const std::string& display_name,
                 const std::string& english_name, Language language) {
  if (language == Language::kEn && !english_name.empty()) {
    return absl::StrCat(english_name, " (", display_name, ")");
  }
  return display_name;
}

bool HasProbability(const KpiEntry& k) {
  return k.projection.has_value() && k.projection->target_value.has_value();
}

std::string ValueAt(double value, const std::string& unit, int first, int fy,
                    Language language) {
  return absl::StrCat(
      E(i18n::FormatValueWithUnit(value, unit)), " <span class=\"meta\">",
      E(i18n::FiscalPeriodLabel(first, fy, language)), "</span>");
}

const domain::Observation* Latest(const KpiEntry& k) {
  const domain::Observation* latest = nullptr;
  for (const domain::Observation& o : k.observations) {
    if (latest == nullptr || o.fiscal_year > latest->fiscal_year) latest = &o;
  }
  return latest;
}

std::string ProbabilityText(const forecast::Projection& p, Language language) {
  return absl::StrCat(
      i18n::FormatProbability(p.attainment_probability), " (",
      S(i18n::LikelihoodWords(p.attainment_probability, language)), ")");
}

// A measure code as Japanese plans number items: ア イ ウ エ オ (gojūon,
// which is code-point order), 1 2 10 and ① ② compared as numbers.
using CodeKey = std::vector<std::pair<int, int64_t>>;
CodeKey KeyOfCode(const std::string& code) {
  CodeKey key;
  int64_t number = -1;
  const auto flush = [&] {
    if (number >= 0) key.emplace_back(0, number);
    number = -1;
  };
  for (size_t i = 0; i < code.size();) {
    char32_t c = base::NextCodePoint(code, &i);
    if (c >= 0xFF10 && c <= 0xFF19) c = c - 0xFF10 + '0';
    if (c >= '0' && c <= '9') {
      number = std::min<int64_t>(std::max<int64_t>(number, 0) * 10 + (c - '0'),
                                 int64_t{1} << 40);
      continue;
    }
    flush();
    if (c >= 0x2460 && c <= 0x2473) {  // ① .. ⑳
      key.emplace_back(0, static_cast<int64_t>(c - 0x2460 + 1));
    } else if (c != ' ' && c != 0x3000) {
      key.emplace_back(1, static_cast<int64_t>(c));
    }
  }
  flush();
  return key;
}

// The strategy's order: goals by number; measures by the codes from their
// top-level heading down (a heading before its sub-measures); KPIs by
// ordinal within their measure, then by name.
struct Ordered {
  std::vector<const domain::Goal*> goals;
  // Per goal name, its measures in order.
  std::map<std::string, std::vector<const domain::Measure*>> measures;
  // Per measure name, its KPIs in order.
  std::map<std::string, std::vector<const KpiEntry*>> kpis;
};

Ordered Order(const ReportInput& input) {
  Ordered out;
  for (const domain::Goal& g : input.goals) out.goals.push_back(&g);
  std::sort(out.goals.begin(), out.goals.end(),
            [](const domain::Goal* a, const domain::Goal* b) {
              return std::make_pair(a->number, a->name) <
                     std::make_pair(b->number, b->name);
            });
  std::map<std::string, const domain::Measure*> by_name;
  for (const domain::Measure& m : input.measures) by_name[m.name] = &m;
  const auto key = [&](const domain::Measure* m) {
    std::vector<CodeKey> codes = {KeyOfCode(m->code)};
    const domain::Measure* up = m;
    for (int depth = 0; depth < 8 && !up->parent.empty(); ++depth) {
      auto parent = by_name.find(up->parent);
      if (parent == by_name.end()) break;
      up = parent->second;
      codes.insert(codes.begin(), KeyOfCode(up->code));
    }
    return std::make_pair(codes, m->name);
  };
  for (const KpiEntry& k : input.kpis) out.kpis[k.kpi.measure].push_back(&k);
  for (auto& [measure, kpis] : out.kpis) {
    std::stable_sort(kpis.begin(), kpis.end(),
                     [](const KpiEntry* a, const KpiEntry* b) {
                       return std::tie(a->kpi.ordinal, a->kpi.name) <
                              std::tie(b->kpi.ordinal, b->kpi.name);
                     });
  }
  for (const domain::Measure& m : input.measures) {
    out.measures[m.goal].push_back(&m);
  }
  for (auto& [goal, measures] : out.measures) {
    std::stable_sort(measures.begin(), measures.end(),
                     [&](const domain::Measure* a, const domain::Measure* b) {
                       return key(a) < key(b);
                     });
  }
  return out;
}

// The fan chart of a KPI; points into `k`, which must outlive it.
FanChartInput ChartOf(const KpiEntry& k, const std::string& id,
                      const std::string& title) {
  FanChartInput chart;
  chart.id = id;
  chart.title = title;
  chart.unit = k.kpi.unit;
  chart.observations = k.observations;
  chart.shock_fiscal_years = k.kpi.shock_fiscal_years;
  chart.projection = k.projection ? &*k.projection : nullptr;
  chart.alternative = k.alternative ? &*k.alternative : nullptr;
  chart.target_value = k.target_value;
  chart.target_fiscal_year = k.kpi.target.fiscal_year;
  return chart;
}

std::string Heading(const domain::Measure& m, Language language) {
  return absl::StrCat(m.code, " ",
                      Name(m.display_name, m.english_name, language));
}

}  // namespace

SuggestedRating SuggestRating(const std::vector<double>& probabilities) {
  SuggestedRating out;
  double sum = 0;
  for (double p : probabilities) {
    if (!std::isfinite(p)) continue;
    sum += p;
    ++out.kpi_count;
  }
  if (out.kpi_count == 0) return out;
  out.mean_probability = sum / out.kpi_count;
  if (out.mean_probability >= 0.66) {
    out.rating = domain::Rating::kContinue;
  } else if (out.mean_probability > 0.33) {
    out.rating = domain::Rating::kContinueAndExpand;
  } else {
    out.rating = domain::Rating::kRevise;
  }
  return out;
}

std::string FormatDate(absl::CivilDay day, Language language) {
  if (language == Language::kJa) {
    return absl::StrFormat("%d年%d月%d日", day.year(), day.month(), day.day());
  }
  static const char* const kMonths[] = {
      "January", "February", "March",     "April",   "May",      "June",
      "July",    "August",   "September", "October", "November", "December"};
  return absl::StrFormat("%d %s %d", day.day(), kMonths[day.month() - 1],
                         day.year());
}

std::string LastSegment(const std::string& name) {
  const size_t slash = name.rfind('/');
  return slash == std::string::npos ? name : name.substr(slash + 1);
}

Report RenderReport(const ReportInput& input, Language language) {
  Report report;
  const Ordered ordered = Order(input);

  int year = input.evaluation_fiscal_year;
  if (year == 0) {
    for (const domain::Evaluation& e : input.evaluations) {
      year = std::max(year, e.fiscal_year);
    }
  }
  std::map<std::string, const domain::Evaluation*> evaluation_of;  // measure
  for (const domain::Evaluation& e : input.evaluations) {
    if (e.fiscal_year != year) continue;
    const size_t at = e.name.find("/evaluations/");
    if (at != std::string::npos) evaluation_of[e.name.substr(0, at)] = &e;
  }
  std::map<std::string, const domain::Goal*> goal_of;
  for (const domain::Goal& g : input.goals) goal_of[g.name] = &g;
  std::map<std::string, const domain::Measure*> measure_of;
  for (const domain::Measure& m : input.measures) measure_of[m.name] = &m;

  // Suggested ratings, and how often they agree with the city's.
  std::map<std::string, SuggestedRating> suggestion_of;
  int compared = 0;
  int agreed = 0;
  for (const auto& [measure, kpis] : ordered.kpis) {
    std::vector<double> probabilities;
    for (const KpiEntry* k : kpis) {
      if (HasProbability(*k)) {
        probabilities.push_back(k->projection->attainment_probability);
      }
    }
    const SuggestedRating s = SuggestRating(probabilities);
    suggestion_of[measure] = s;
    auto e = evaluation_of.find(measure);
    if (s.rating != domain::Rating::kUnspecified && e != evaluation_of.end() &&
        e->second->rating != domain::Rating::kUnspecified) {
      ++compared;
      if (e->second->rating == s.rating) ++agreed;
    }
  }

  const std::string strategy_name =
      Name(input.strategy.display_name, input.strategy.english_name, language);
  const std::string title = i18n::Format(
      MessageId::kReportTitle, language, strategy_name,
      year == 0 ? std::string("-") : i18n::FiscalYearLabel(year, language));
  std::string& h = report.html;
  absl::StrAppend(
      &h, "<!DOCTYPE html>\n<html lang=\"", S(i18n::LanguageCode(language)),
      "\">\n<head>\n<meta charset=\"utf-8\">\n"
      "<meta name=\"viewport\" content=\"width=device-width, "
      "initial-scale=1\">\n<title>",
      E(title), "</title>\n<style>", kStyle, "</style>\n</head>\n<body>\n");
  absl::StrAppend(&h, "<header>\n<h1>", E(title), "</h1>\n<p class=\"meta\">",
                  E(input.strategy.municipality), " · ",
                  E(i18n::Format(MessageId::kReportPrepared, language,
                                 FormatDate(input.prepared, language))),
                  "</p>\n</header>\n");

  // The summary.
  absl::StrAppend(&h, "<section class=\"summary\" id=\"summary\">\n<h2>",
                  E(T(MessageId::kReportSummary, language)), "</h2>\n");
  std::map<forecast::ProgressStatus, int> counts;
  int not_projected = 0;
  for (const KpiEntry& k : input.kpis) {
    if (k.projection.has_value()) {
      ++counts[k.projection->status];
    } else {
      ++not_projected;
    }
  }
  absl::StrAppend(&h, "<h3>", E(T(MessageId::kReportStatusCounts, language)),
                  "</h3>\n<table class=\"status-counts\">\n<tr>");
  for (forecast::ProgressStatus s : kStatuses) {
    absl::StrAppend(&h, "<th>", E(S(i18n::StatusLabel(s, language))), "</th>");
  }
  if (not_projected > 0) {
    std::string label =
        i18n::Format(MessageId::kReportNotProjected, language, "");
    while (!label.empty() && (label.back() == ' ' || label.back() == ':')) {
      label.pop_back();
    }
    absl::StrAppend(&h, "<th>", E(label), "</th>");
  }
  absl::StrAppend(&h, "</tr>\n<tr>");
  for (forecast::ProgressStatus s : kStatuses) {
    absl::StrAppend(
        &h, "<td class=\"number\" data-status=\"", static_cast<int>(s), "\">",
        E(i18n::Format(MessageId::kReportCount, language, counts[s])), "</td>");
  }
  if (not_projected > 0) {
    absl::StrAppend(
        &h, "<td class=\"number\">",
        E(i18n::Format(MessageId::kReportCount, language, not_projected)),
        "</td>");
  }
  absl::StrAppend(&h, "</tr>\n</table>\n");
  absl::StrAppend(
      &h, "<p class=\"agreement\" data-agreed=\"", agreed,
      "\" data-compared=\"", compared, "\">",
      E(i18n::Format(MessageId::kReportAgreement, language, agreed, compared)),
      "</p>\n");

  // The goals, linked (a PDF print keeps the links).
  absl::StrAppend(&h, "<nav class=\"contents\"><ol>\n");
  for (const domain::Goal* goal : ordered.goals) {
    int count = 0;
    auto measures = ordered.measures.find(goal->name);
    if (measures != ordered.measures.end()) {
      for (const domain::Measure* m : measures->second) {
        auto kpis = ordered.kpis.find(m->name);
        if (kpis != ordered.kpis.end()) count += kpis->second.size();
      }
    }
    absl::StrAppend(
        &h, "<li><a href=\"#", IdFragment(LastSegment(goal->name)), "\">",
        E(i18n::Format(MessageId::kReportGoal, language, goal->number)), " ",
        E(Name(goal->display_name, goal->english_name, language)),
        "</a> <span class=\"meta\">(",
        E(i18n::Format(MessageId::kKpiCount, language, count)),
        ")</span></li>\n");
  }
  absl::StrAppend(&h, "</ol></nav>\n");

  // The KPIs, lowest probability first (those without one last).
  std::vector<const KpiEntry*> by_probability;
  for (const domain::Goal* goal : ordered.goals) {
    auto measures = ordered.measures.find(goal->name);
    if (measures == ordered.measures.end()) continue;
    for (const domain::Measure* measure : measures->second) {
      auto kpis = ordered.kpis.find(measure->name);
      if (kpis == ordered.kpis.end()) continue;
      by_probability.insert(by_probability.end(), kpis->second.begin(),
                            kpis->second.end());
    }
  }
  for (const KpiEntry& k : input.kpis) {
    if (std::find(by_probability.begin(), by_probability.end(), &k) ==
        by_probability.end()) {
      by_probability.push_back(&k);
    }
  }
  std::stable_sort(
      by_probability.begin(), by_probability.end(),
      [](const KpiEntry* a, const KpiEntry* b) {
        const double pa =
            HasProbability(*a) ? a->projection->attainment_probability : 2;
        const double pb =
            HasProbability(*b) ? b->projection->attainment_probability : 2;
        return pa < pb;
      });
  absl::StrAppend(&h, "<h3>", E(T(MessageId::kReportLowestFirst, language)),
                  "</h3>\n<table class=\"by-probability\">\n<tr><th>",
                  E(T(MessageId::kColumnKpi, language)), "</th><th>",
                  E(T(MessageId::kReportMeasure, language)), "</th><th>",
                  E(T(MessageId::kReportProbability, language)), "</th><th>",
                  E(T(MessageId::kReportProgressStatus, language)), "</th><th>",
                  E(T(MessageId::kColumnLatest, language)), "</th><th>",
                  E(T(MessageId::kColumnTarget, language)), "</th></tr>\n");
  for (const KpiEntry* k : by_probability) {
    const std::string id = IdFragment(LastSegment(k->kpi.name));
    auto m = measure_of.find(k->kpi.measure);
    std::string where = "-";
    if (m != measure_of.end()) {
      auto g = goal_of.find(m->second->goal);
      where = absl::StrCat(g == goal_of.end()
                               ? std::string()
                               : i18n::Format(MessageId::kReportGoal, language,
                                              g->second->number),
                           " ", m->second->code);
    }
    const domain::Observation* latest = Latest(*k);
    absl::StrAppend(
        &h, "<tr data-kpi=\"", E(k->kpi.name), "\"><td><a href=\"#kpi-", id,
        "\">", E(Name(k->kpi.display_name, k->kpi.english_name, language)),
        "</a></td><td>", E(where), "</td><td class=\"number\">",
        HasProbability(*k) ? E(ProbabilityText(*k->projection, language)) : "-",
        "</td><td>",
        k->projection.has_value()
            ? E(S(i18n::StatusLabel(k->projection->status, language)))
            : "-",
        "</td><td class=\"number\">",
        latest == nullptr
            ? "-"
            : E(i18n::FormatValueWithUnit(latest->value, k->kpi.unit)),
        "</td><td class=\"number\">",
        k->target_value.has_value()
            ? E(i18n::FormatValueWithUnit(*k->target_value, k->kpi.unit))
            : "-",
        "</td></tr>\n");
  }
  absl::StrAppend(&h, "</table>\n<p class=\"rule\">",
                  E(T(MessageId::kReportRule, language)), "</p>\n</section>\n");

  // Goal > measure > KPI.
  for (const domain::Goal* goal : ordered.goals) {
    absl::StrAppend(
        &h, "<section class=\"goal\" id=\"",
        IdFragment(LastSegment(goal->name)), "\" data-goal=\"", E(goal->name),
        "\">\n<h2>",
        E(i18n::Format(MessageId::kReportGoal, language, goal->number)), " ",
        E(Name(goal->display_name, goal->english_name, language)), "</h2>\n");
    auto measures = ordered.measures.find(goal->name);
    if (measures == ordered.measures.end()) {
      absl::StrAppend(&h, "</section>\n");
      continue;
    }
    for (const domain::Measure* measure : measures->second) {
      auto kpis = ordered.kpis.find(measure->name);
      auto evaluation = evaluation_of.find(measure->name);
      const bool has_kpis = kpis != ordered.kpis.end() && !kpis->second.empty();
      if (!has_kpis && evaluation == evaluation_of.end()) {
        // A heading over sub-measures.
        absl::StrAppend(&h, "<h3 class=\"measure-group\">",
                        E(Heading(*measure, language)), "</h3>\n");
        continue;
      }
      absl::StrAppend(&h, "<section class=\"measure\" id=\"measure-",
                      IdFragment(LastSegment(measure->name)),
                      "\" data-measure=\"", E(measure->name), "\">\n<h3>",
                      E(Heading(*measure, language)), "</h3>\n");
      // The ratings, side by side.
      const SuggestedRating suggestion = suggestion_of[measure->name];
      const domain::Rating city = evaluation == evaluation_of.end()
                                      ? domain::Rating::kUnspecified
                                      : evaluation->second->rating;
      absl::StrAppend(
          &h,
          "<div class=\"ratings\">\n<div class=\"rating city\" data-rating=\"",
          RatingCode(city), "\"><span class=\"label\">",
          E(i18n::Format(MessageId::kReportCityRating, language,
                         year == 0 ? std::string("-")
                                   : i18n::FiscalYearInText(year, language))),
          "</span><span class=\"value\">",
          E(city == domain::Rating::kUnspecified
                ? T(MessageId::kReportNoRating, language)
                : S(i18n::RatingLabel(city, language))),
          "</span></div>\n<div class=\"rating suggested\" data-rating=\"",
          RatingCode(suggestion.rating), "\"><span class=\"label\">",
          E(T(MessageId::kReportSuggestedRating, language)),
          "</span><span class=\"value\">",
          E(suggestion.rating == domain::Rating::kUnspecified
                ? T(MessageId::kReportNoSuggestion, language)
                : S(i18n::RatingLabel(suggestion.rating, language))),
          "</span>");
      if (suggestion.kpi_count > 0) {
        absl::StrAppend(
            &h, "<span class=\"basis\">",
            E(i18n::Format(MessageId::kReportRuleBasis, language,
                           i18n::FormatProbability(suggestion.mean_probability),
                           suggestion.kpi_count)),
            "</span>");
      }
      absl::StrAppend(&h, "</div>\n</div>\n");
      if (evaluation != evaluation_of.end() &&
          !evaluation->second->kpi_assessment.empty()) {
        absl::StrAppend(&h, "<p class=\"city-text assessment\"><strong>",
                        E(T(MessageId::kReportCityAssessment, language)),
                        "</strong>: ", E(evaluation->second->kpi_assessment),
                        "</p>\n");
      }
      if (has_kpis) {
        for (const KpiEntry* k : kpis->second) {
          const std::string id = IdFragment(LastSegment(k->kpi.name));
          const std::string name =
              Name(k->kpi.display_name, k->kpi.english_name, language);
          const std::string svg =
              RenderFanChart(ChartOf(*k, id, name), language);
          report.charts.push_back({k->kpi.name, absl::StrCat(id, ".svg"), svg});

          absl::StrAppend(&h, "<article class=\"kpi\" id=\"kpi-", id,
                          "\" data-kpi=\"", E(k->kpi.name), "\">\n<h4>",
                          E(name), "</h4>\n<figure class=\"chart\">\n",
                          Inline(svg), "</figure>\n<table class=\"facts\">\n");
          const auto row = [&](MessageId label, const std::string& html,
                               const char* cls) {
            absl::StrAppend(&h, "<tr class=\"", cls, "\"><th>",
                            E(T(label, language)), "</th><td>", html,
                            "</td></tr>\n");
          };
          if (k->kpi.baseline.has_value()) {
            row(MessageId::kColumnBaseline,
                ValueAt(k->kpi.baseline->value, k->kpi.unit,
                        k->kpi.baseline->first_fiscal_year,
                        k->kpi.baseline->fiscal_year, language),
                "baseline");
          }
          if (const domain::Observation* latest = Latest(*k)) {
            std::string text =
                ValueAt(latest->value, k->kpi.unit, latest->first_fiscal_year,
                        latest->fiscal_year, language);
            if (latest->status != domain::ObservationStatus::kFinal &&
                latest->status != domain::ObservationStatus::kUnspecified) {
              absl::StrAppend(
                  &text, " (",
                  E(S(i18n::ObservationStatusLabel(latest->status, language))),
                  ")");
            }
            row(MessageId::kColumnLatest, text, "latest");
          }
          if (k->target_value.has_value()) {
            std::string text = ValueAt(*k->target_value, k->kpi.unit, 0,
                                       k->kpi.target.fiscal_year, language);
            if (!k->kpi.target.reference.empty() &&
                !k->kpi.target.label.empty()) {
              absl::StrAppend(&text, " (", E(k->kpi.target.label), ")");
            }
            row(MessageId::kColumnTarget, text, "target");
          }
          if (k->projection.has_value() && !k->projection->years.empty()) {
            const forecast::YearProjection& last = k->projection->years.back();
            row(MessageId::kReportProjected,
                absl::StrCat(
                    E(i18n::FormatValueWithUnit(last.median, k->kpi.unit)),
                    " [", E(i18n::FormatNumber(last.interval_80.lower)), ", ",
                    E(i18n::FormatNumber(last.interval_80.upper)), "] ",
                    "<span class=\"meta\">",
                    E(i18n::FiscalYearLabel(last.fiscal_year, language)),
                    "</span>"),
                "projected");
            if (HasProbability(*k)) {
              row(MessageId::kReportProbability,
                  absl::StrCat("<strong>",
                               E(ProbabilityText(*k->projection, language)),
                               "</strong>"),
                  "probability");
            }
            row(MessageId::kReportProgressStatus,
                E(S(i18n::StatusLabel(k->projection->status, language))),
                "status");
            if (!k->projection->warnings.empty()) {
              std::vector<std::string> labels;
              for (const forecast::Warning& w : k->projection->warnings) {
                labels.push_back(S(i18n::WarningLabel(w.code, language)));
              }
              row(MessageId::kReportWarnings,
                  E(absl::StrJoin(labels,
                                  language == Language::kJa ? "、" : ", ")),
                  "warnings");
            }
          }
          absl::StrAppend(&h, "</table>\n");
          if (k->projection.has_value()) {
            absl::StrAppend(&h, "<p class=\"explanation\">",
                            E(i18n::ExplanationText(*k->projection, language)),
                            "</p>\n");
          } else {
            absl::StrAppend(&h, "<p class=\"error\">",
                            E(i18n::Format(MessageId::kReportNotProjected,
                                           language, k->error)),
                            "</p>\n");
          }
          absl::StrAppend(&h, "</article>\n");
        }
      }
      if (evaluation != evaluation_of.end() &&
          !evaluation->second->outlook.empty()) {
        absl::StrAppend(&h, "<p class=\"city-text outlook\"><strong>",
                        E(T(MessageId::kReportCityOutlook, language)),
                        "</strong>: ", E(evaluation->second->outlook),
                        "</p>\n");
      }
      if (evaluation != evaluation_of.end() &&
          !evaluation->second->viewpoint.empty()) {
        absl::StrAppend(&h, "<p class=\"city-text viewpoint\"><strong>",
                        E(T(MessageId::kReportCityViewpoint, language)),
                        "</strong>: ", E(evaluation->second->viewpoint),
                        "</p>\n");
      }
      absl::StrAppend(&h, "</section>\n");
    }
    absl::StrAppend(&h, "</section>\n");
  }
  // KPIs of measures outside every goal still appear (in a section of
  // their own, so that nothing stored is left out).
  std::vector<const KpiEntry*> orphans;
  for (const KpiEntry& k : input.kpis) {
    auto m = measure_of.find(k.kpi.measure);
    if (m == measure_of.end() || goal_of.count(m->second->goal) == 0) {
      orphans.push_back(&k);
    }
  }
  if (!orphans.empty()) {
    absl::StrAppend(&h, "<section class=\"goal\" id=\"other\"><h2>-</h2>\n");
    for (const KpiEntry* k : orphans) {
      const std::string id = IdFragment(LastSegment(k->kpi.name));
      const FanChartInput chart = ChartOf(
          *k, id, Name(k->kpi.display_name, k->kpi.english_name, language));
      const std::string svg = RenderFanChart(chart, language);
      report.charts.push_back({k->kpi.name, absl::StrCat(id, ".svg"), svg});
      absl::StrAppend(&h, "<article class=\"kpi\" id=\"kpi-", id,
                      "\" data-kpi=\"", E(k->kpi.name), "\">\n<h4>",
                      E(chart.title), "</h4>\n<figure class=\"chart\">\n",
                      Inline(svg), "</figure>\n</article>\n");
    }
    absl::StrAppend(&h, "</section>\n");
  }
  absl::StrAppend(&h, "</body>\n</html>\n");
  return report;
}

}  // namespace kpi::report
