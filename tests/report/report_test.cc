#include "lib/report/report.h"

#include <cmath>
#include <limits>
#include <map>
#include <regex>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "lib/forecast/engine.h"
#include "tests/report/svg_reader.h"

namespace kpi::report {
namespace {

using ::kpi::report::testing::Element;
using ::kpi::report::testing::Elements;
using ::kpi::report::testing::WithClass;
using ::testing::HasSubstr;
using ::testing::Not;
using ::testing::SizeIs;

TEST(SuggestRatingTest, MeanProbabilityOnTheLikelihoodBounds) {
  struct Case {
    std::vector<double> probabilities;
    domain::Rating rating;
  };
  const Case cases[] = {
      {{0.66}, domain::Rating::kContinue},
      {{0.9, 0.5}, domain::Rating::kContinue},  // mean 0.70
      {{0.6599}, domain::Rating::kContinueAndExpand},
      {{0.34}, domain::Rating::kContinueAndExpand},
      {{0.9, 0.1}, domain::Rating::kContinueAndExpand},  // one unlikely
      {{0.33}, domain::Rating::kRevise},
      {{0.5, 0.1, 0.2}, domain::Rating::kRevise},  // mean 0.2667
      {{}, domain::Rating::kUnspecified},
  };
  for (const Case& c : cases) {
    EXPECT_EQ(SuggestRating(c.probabilities).rating, c.rating)
        << ::testing::PrintToString(c.probabilities);
  }
  const SuggestedRating s =
      SuggestRating({0.2, std::numeric_limits<double>::quiet_NaN(), 0.6});
  EXPECT_EQ(s.kpi_count, 2);
  EXPECT_DOUBLE_EQ(s.mean_probability, 0.4);
}

TEST(FormatDateTest, AsEachLanguageWritesIt) {
  EXPECT_EQ(FormatDate(absl::CivilDay(2026, 12, 5), i18n::Language::kJa),
            "2026年12月5日");
  EXPECT_EQ(FormatDate(absl::CivilDay(2026, 12, 5), i18n::Language::kEn),
            "5 December 2026");
}

domain::Observation Obs(const std::string& kpi, int fy, double value) {
  domain::Observation o;
  o.name = absl::StrCat(kpi, "/observations/fy", fy);
  o.fiscal_year = fy;
  o.value = value;
  o.status = domain::ObservationStatus::kFinal;
  return o;
}

// Two goals; goal 1 has a heading with two sub-measures (エ① before エ②
// though listed after) and a measure without KPIs' probability.
ReportInput Input() {
  ReportInput in;
  in.prepared = absl::CivilDay(2026, 12, 5);
  in.strategy.name = "strategies/s";
  in.strategy.display_name = "第2期テスト市総合戦略";
  in.strategy.english_name = "Second strategy of Test City";
  in.strategy.municipality = "テスト市";
  for (int n : {2, 1}) {
    domain::Goal g;
    g.name = absl::StrCat("strategies/s/goals/goal-", n);
    g.number = n;
    g.display_name = absl::StrCat("目標その", n);
    g.english_name = absl::StrCat("Goal number ", n);
    in.goals.push_back(g);
  }
  const auto measure = [&](const std::string& id, int goal,
                           const std::string& parent, const std::string& code) {
    domain::Measure m;
    m.name = "strategies/s/measures/" + id;
    m.goal = absl::StrCat("strategies/s/goals/goal-", goal);
    m.parent = parent.empty() ? "" : "strategies/s/measures/" + parent;
    m.code = code;
    m.display_name = "施策" + code;
    in.measures.push_back(m);
  };
  measure("g1-e-2", 1, "g1-e", "エ②");
  measure("g1-e", 1, "", "エ");
  measure("g1-e-1", 1, "g1-e", "エ①");
  measure("g1-a", 1, "", "ア");
  measure("g2-a", 2, "", "ア");

  const auto kpi = [&](const std::string& id, const std::string& measure,
                       std::vector<std::pair<int, double>> points,
                       double target) {
    KpiEntry e;
    e.kpi.name = "strategies/s/kpis/" + id;
    e.kpi.measure = "strategies/s/measures/" + measure;
    e.kpi.display_name = "指標 " + id;
    e.kpi.unit = "人";
    e.kpi.kind = domain::KpiKind::kLevel;
    e.kpi.direction = domain::Direction::kIncrease;
    e.kpi.value_domain = domain::ValueDomain::kNonNegative;
    e.kpi.target.value = target;
    e.kpi.target.fiscal_year = 2024;
    forecast::SeriesInput s;
    s.id = id;
    for (const auto& [fy, v] : points) {
      e.observations.push_back(Obs(e.kpi.name, fy, v));
      forecast::Point p;
      p.fiscal_year = fy;
      p.value = v;
      s.points.push_back(p);
    }
    s.value_domain = domain::ValueDomain::kNonNegative;
    s.unit = "人";
    s.target_value = target;
    s.target_fiscal_year = 2024;
    auto projected = forecast::DefaultEngine().ProjectScenarios(s);
    EXPECT_TRUE(projected.ok()) << projected.status();
    e.projection = projected->projection;
    e.target_value = target;
    in.kpis.push_back(e);
  };
  kpi("rising", "g1-a", {{2018, 100}, {2019, 110}, {2020, 120}, {2021, 130}},
      150);
  kpi("falling", "g1-e-1", {{2018, 100}, {2019, 90}, {2020, 80}, {2021, 70}},
      150);
  kpi("flat", "g1-e-2", {{2018, 100}, {2019, 101}, {2020, 99}, {2021, 100}},
      104);
  kpi("other", "g2-a", {{2019, 10}, {2021, 12}}, 13);
  KpiEntry broken;
  broken.kpi.name = "strategies/s/kpis/broken";
  broken.kpi.measure = "strategies/s/measures/g2-a";
  broken.kpi.display_name = "壊れた<指標>";
  broken.kpi.ordinal = 1;
  broken.error = "no observation";
  in.kpis.push_back(broken);

  const auto evaluation = [&](const std::string& measure, int fy,
                              domain::Rating rating) {
    domain::Evaluation e;
    e.name =
        absl::StrCat("strategies/s/measures/", measure, "/evaluations/fy", fy);
    e.fiscal_year = fy;
    e.rating = rating;
    e.kpi_assessment = "現状認識 " + measure;
    e.viewpoint = "評価の視点 " + measure;
    e.outlook = "今後 " + measure;
    in.evaluations.push_back(e);
  };
  evaluation("g1-a", 2021, domain::Rating::kContinue);
  evaluation("g1-a", 2020, domain::Rating::kRevise);  // not the latest year
  evaluation("g1-e-1", 2021, domain::Rating::kContinueAndExpand);
  return in;
}

TEST(ReportTest, SelfContainedWithEveryKpiAndItsChart) {
  const ReportInput in = Input();
  const Report report = RenderReport(in, i18n::Language::kJa);
  const std::string& html = report.html;
  // Nothing is fetched: no URL, script, link, image or frame.
  EXPECT_THAT(html, Not(HasSubstr("http:")));
  EXPECT_THAT(html, Not(HasSubstr("https:")));
  EXPECT_THAT(html, Not(HasSubstr("<script")));
  EXPECT_THAT(html, Not(HasSubstr("<link")));
  EXPECT_THAT(html, Not(HasSubstr("<img")));
  EXPECT_THAT(html, Not(HasSubstr("@import")));
  EXPECT_THAT(html, Not(HasSubstr("src=")));
  static const std::regex kExternalUrl(R"re(url\((?!#))re");
  EXPECT_FALSE(std::regex_search(html, kExternalUrl));
  EXPECT_THAT(html, HasSubstr("<html lang=\"ja\">"));
  EXPECT_THAT(html, HasSubstr("<meta charset=\"utf-8\">"));

  const std::vector<Element> elements = Elements(html);
  ASSERT_THAT(report.charts, SizeIs(in.kpis.size()));
  for (const KpiEntry& k : in.kpis) {
    const std::string id = LastSegment(k.kpi.name);
    SCOPED_TRACE(id);
    const std::string article = "<article class=\"kpi\" id=\"kpi-" + id + "\"";
    const size_t at = html.find(article);
    ASSERT_NE(at, std::string::npos);
    const size_t end = html.find("</article>", at);
    const std::string body = html.substr(at, end - at);
    EXPECT_THAT(body,
                HasSubstr("<svg class=\"fan-chart\" id=\"chart-" + id + "\""));
    EXPECT_THAT(body, HasSubstr("</svg>"));
  }
  for (const Chart& c : report.charts) {
    // The standalone files name their namespace; the inline copies need not.
    EXPECT_THAT(c.svg, HasSubstr("xmlns=\"http://www.w3.org/2000/svg\""));
    EXPECT_EQ(c.file_name, LastSegment(c.kpi) + ".svg");
  }
  EXPECT_THAT(html, HasSubstr("壊れた&lt;指標&gt;"));
  EXPECT_THAT(html, HasSubstr("予測できません: no observation"));
}

TEST(ReportTest, SummaryCountsStatusesAndListsLowestProbabilityFirst) {
  const ReportInput in = Input();
  const std::string html = RenderReport(in, i18n::Language::kJa).html;
  const size_t summary = html.find("<section class=\"summary\"");
  const size_t first_goal = html.find("<section class=\"goal\"");
  ASSERT_NE(summary, std::string::npos);
  ASSERT_LT(summary, first_goal);  // the summary comes first
  // Rows of the table in order, and their probabilities ascending.
  const std::string table = html.substr(summary, first_goal - summary);
  static const std::regex kRow(
      R"re(<tr data-kpi="strategies/s/kpis/([a-z-]+)">.*?<td class="number">([^<]*)</td>)re");
  std::vector<std::string> order;
  for (auto it = std::sregex_iterator(table.begin(), table.end(), kRow);
       it != std::sregex_iterator(); ++it) {
    order.push_back((*it)[1]);
  }
  ASSERT_THAT(order, SizeIs(5));
  EXPECT_EQ(order.back(), "broken");  // no probability: last
  std::vector<double> probabilities;
  for (size_t i = 0; i + 1 < order.size(); ++i) {
    for (const KpiEntry& k : in.kpis) {
      if (LastSegment(k.kpi.name) == order[i]) {
        probabilities.push_back(k.projection->attainment_probability);
      }
    }
  }
  EXPECT_TRUE(std::is_sorted(probabilities.begin(), probabilities.end()));
  EXPECT_EQ(order.front(), "falling");
  // Counts by status add up to the projected KPIs, plus the one that is not.
  static const std::regex kCount(
      R"re(<td class="number" data-status="\d">(\d+)件</td>)re");
  int total = 0;
  for (auto it = std::sregex_iterator(table.begin(), table.end(), kCount);
       it != std::sregex_iterator(); ++it) {
    total += std::stoi((*it)[1]);
  }
  EXPECT_EQ(total, 4);
  EXPECT_THAT(table, HasSubstr("<th>予測できません</th>"));
  EXPECT_THAT(html, HasSubstr("作成日: 2026年12月5日"));
  EXPECT_THAT(
      html,
      HasSubstr(
          "<h1>第2期テスト市総合戦略 KPI評価報告 令和3年度 (FY2021)</h1>"));
}

TEST(ReportTest, GoalsMeasuresAndKpisInTheStrategysOrder) {
  const std::string html = RenderReport(Input(), i18n::Language::kJa).html;
  const std::vector<std::string> in_order = {
      "id=\"goal-1\"",     "施策ア",
      "id=\"kpi-rising\"", "<h3 class=\"measure-group\">エ 施策エ</h3>",
      "施策エ①",           "id=\"kpi-falling\"",
      "施策エ②",           "id=\"kpi-flat\"",
      "id=\"goal-2\"",     "id=\"kpi-other\"",
      "id=\"kpi-broken\""};
  size_t at = 0;
  for (const std::string& s : in_order) {
    const size_t found = html.find(s, at);
    ASSERT_NE(found, std::string::npos) << s;
    at = found;
  }
  // A page break before every goal, a KPI kept together, A4.
  EXPECT_THAT(
      html,
      HasSubstr(
          "section.goal { break-before: page; page-break-before: always; }"));
  EXPECT_THAT(html, HasSubstr("@page { size: A4;"));
  EXPECT_THAT(html, HasSubstr("article.kpi { break-inside: avoid;"));
}

TEST(ReportTest, CityRatingBesideTheSuggestedOne) {
  const ReportInput in = Input();
  const std::string html = RenderReport(in, i18n::Language::kJa).html;
  const std::vector<Element> elements = Elements(html);
  // Per measure with KPIs: the city's rating of the latest year, and the
  // suggestion from the mean probability.
  std::map<std::string, double> probability;
  for (const KpiEntry& k : in.kpis) {
    if (k.projection)
      probability[k.kpi.measure] = k.projection->attainment_probability;
  }
  const auto section = [&](const std::string& id) {
    const size_t at =
        html.find("<section class=\"measure\" id=\"measure-" + id + "\"");
    EXPECT_NE(at, std::string::npos) << id;
    return html.substr(at, html.find("</section>", at) - at);
  };
  const std::string a = section("g1-a");
  EXPECT_THAT(
      a, HasSubstr(
             "<div class=\"rating city\" data-rating=\"RATING_CONTINUE\"><span "
             "class=\"label\">市の評価 (令和3年度)</span><span "
             "class=\"value\">継続</span>"));
  const SuggestedRating s =
      SuggestRating({probability["strategies/s/measures/g1-a"]});
  EXPECT_THAT(a, HasSubstr(absl::StrCat(
                     "<div class=\"rating suggested\" data-rating=\"",
                     s.rating == domain::Rating::kContinue ? "RATING_CONTINUE"
                     : s.rating == domain::Rating::kRevise
                         ? "RATING_REVISE"
                         : "RATING_CONTINUE_AND_EXPAND",
                     "\">")));
  EXPECT_THAT(a, HasSubstr("KPI 1件の達成確率の平均"));
  EXPECT_THAT(a, HasSubstr("現状認識 g1-a"));
  EXPECT_THAT(a, HasSubstr("評価の視点 g1-a"));
  EXPECT_THAT(a, HasSubstr("今後の考え方 (市)</strong>: 今後 g1-a"));
  // The falling KPI cannot reach 150: revise, where the city said expand.
  const std::string e1 = section("g1-e-1");
  EXPECT_THAT(e1, HasSubstr("data-rating=\"RATING_CONTINUE_AND_EXPAND\"><span "
                            "class=\"label\">市の評価"));
  EXPECT_THAT(
      e1,
      HasSubstr(
          "<div class=\"rating suggested\" data-rating=\"RATING_REVISE\">"));
  // No evaluation: no rating.
  EXPECT_THAT(section("g1-e-2"),
              HasSubstr("<span class=\"value\">評価なし</span>"));
  // Agreement over the measures with both.
  EXPECT_THAT(html, HasSubstr("data-compared=\"2\""));
}

TEST(ReportTest, EnglishUsesEnglishNamesAndWords) {
  const std::string html = RenderReport(Input(), i18n::Language::kEn).html;
  EXPECT_THAT(html, HasSubstr("<html lang=\"en\">"));
  EXPECT_THAT(html,
              HasSubstr("Second strategy of Test City (第2期テスト市総合戦略): "
                        "KPI report, FY2021 (R3)"));
  EXPECT_THAT(html, HasSubstr("Prepared on 5 December 2026"));
  EXPECT_THAT(html, HasSubstr("Goal 1 Goal number 1 (目標その1)"));
  EXPECT_THAT(html, HasSubstr("City&#39;s rating (FY2021)"));
  EXPECT_THAT(html, HasSubstr(">fiscal year</text>"));
}

}  // namespace
}  // namespace kpi::report
