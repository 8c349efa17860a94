#include "lib/report/fan_chart.h"

#include <cmath>
#include <regex>
#include <set>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "lib/forecast/engine.h"
#include "tests/report/svg_reader.h"

namespace kpi::report {
namespace {

using ::kpi::report::testing::ChartMap;
using ::kpi::report::testing::Coordinates;
using ::kpi::report::testing::Element;
using ::kpi::report::testing::Elements;
using ::kpi::report::testing::MapOf;
using ::kpi::report::testing::Vertices;
using ::kpi::report::testing::WithClass;
using ::testing::HasSubstr;
using ::testing::Not;
using ::testing::SizeIs;

// Coordinates are printed with three decimals.
constexpr double kPixel = 0.0005 + 1e-9;

domain::Observation Obs(
    int fy, double value,
    domain::ObservationStatus status = domain::ObservationStatus::kFinal) {
  domain::Observation o;
  o.fiscal_year = fy;
  o.value = value;
  o.status = status;
  return o;
}

// An airport-like KPI: two shock years, a provisional latest value.
struct Fixture {
  std::vector<domain::Observation> observations = {
      Obs(2017, 108.2), Obs(2018, 113.5), Obs(2019, 112.0), Obs(2020, 28.3),
      Obs(2021, 45.9, domain::ObservationStatus::kProvisional)};
  forecast::ScenarioProjections projected;
  FanChartInput input;

  Fixture() {
    forecast::SeriesInput series;
    series.id = "airport";
    for (const domain::Observation& o : observations) {
      forecast::Point p;
      p.fiscal_year = o.fiscal_year;
      p.value = o.value;
      p.status = o.status;
      series.points.push_back(p);
    }
    series.value_domain = domain::ValueDomain::kNonNegative;
    series.unit = "万人";
    series.target_value = 145;
    series.target_fiscal_year = 2024;
    series.shock_fiscal_years = {2020, 2021};
    projected = *forecast::DefaultEngine().ProjectScenarios(series);
    input.id = "airport-passengers";
    input.title = "空港乗降客数";
    input.unit = "万人";
    input.observations = observations;
    input.shock_fiscal_years = {2020, 2021};
    input.projection = &projected.projection;
    input.alternative =
        projected.alternative ? &*projected.alternative : nullptr;
    input.target_value = 145;
    input.target_fiscal_year = 2024;
  }
};

Element Root(const std::vector<Element>& elements) {
  for (const Element& e : elements) {
    if (e.tag == "svg") return e;
  }
  ADD_FAILURE() << "no <svg>";
  return {};
}

TEST(FanChartTest, ObservationsReadBackExactlyAndOnTheMap) {
  Fixture f;
  const std::vector<Element> elements =
      Elements(RenderFanChart(f.input, i18n::Language::kJa));
  const ChartMap map = MapOf(Root(elements));
  const std::vector<Element> obs = WithClass(elements, "obs");
  ASSERT_THAT(obs, SizeIs(f.observations.size()));
  for (size_t i = 0; i < obs.size(); ++i) {
    const domain::Observation& o = f.observations[i];
    EXPECT_EQ(obs[i].Number("data-fy"), o.fiscal_year);
    EXPECT_EQ(obs[i].Number("data-value"), o.value);  // exact
    double cx, cy;
    if (obs[i].tag == "rect") {
      cx = obs[i].Number("x") + obs[i].Number("width") / 2;
      cy = obs[i].Number("y") + obs[i].Number("height") / 2;
    } else {
      cx = obs[i].Number("cx");
      cy = obs[i].Number("cy");
    }
    EXPECT_NEAR(cx, map.X(o.fiscal_year), kPixel);
    EXPECT_NEAR(cy, map.Y(o.value), kPixel * 2);
  }
  // Final and provisional differ by shape and fill, not by shade only.
  EXPECT_TRUE(obs[0].HasClass("obs-final"));
  EXPECT_EQ(obs[0].at("fill"), "#000000");
  EXPECT_TRUE(obs[4].HasClass("obs-provisional"));
  EXPECT_EQ(obs[4].at("fill"), "#ffffff");
  EXPECT_EQ(obs[4].at("stroke"), "#000000");
}

TEST(FanChartTest, MedianBandsAndTargetReadBackExactly) {
  Fixture f;
  const forecast::Projection& p = f.projected.projection;
  const std::vector<Element> elements =
      Elements(RenderFanChart(f.input, i18n::Language::kEn));
  const ChartMap map = MapOf(Root(elements));

  const std::vector<Element> median = WithClass(elements, "median");
  ASSERT_THAT(median, SizeIs(1));
  const auto values = Vertices(median[0].at("data-values"));
  const auto points = Coordinates(median[0].at("points"));
  ASSERT_EQ(values.size(), p.years.size() + 1);  // the anchor first
  ASSERT_EQ(points.size(), values.size());
  EXPECT_EQ(values[0].first, 2021);
  EXPECT_EQ(values[0].second, 45.9);
  for (size_t i = 0; i < p.years.size(); ++i) {
    EXPECT_EQ(values[i + 1].first, p.years[i].fiscal_year);
    EXPECT_EQ(values[i + 1].second, p.years[i].median);
  }
  for (size_t i = 0; i < values.size(); ++i) {
    EXPECT_NEAR(points[i].first, map.X(values[i].first), kPixel);
    EXPECT_NEAR(points[i].second, map.Y(values[i].second), kPixel);
  }

  struct Level {
    const char* cls;
    const forecast::Interval forecast::YearProjection::*interval;
  };
  for (const Level& level :
       {Level{"band-50", &forecast::YearProjection::interval_50},
        Level{"band-80", &forecast::YearProjection::interval_80},
        Level{"band-95", &forecast::YearProjection::interval_95}}) {
    SCOPED_TRACE(level.cls);
    const std::vector<Element> band = WithClass(elements, level.cls);
    ASSERT_THAT(band, SizeIs(1));
    const auto upper = Vertices(band[0].at("data-upper"));
    const auto lower = Vertices(band[0].at("data-lower"));
    ASSERT_EQ(upper.size(), p.years.size() + 1);
    ASSERT_EQ(lower.size(), p.years.size() + 1);
    for (size_t i = 0; i < p.years.size(); ++i) {
      EXPECT_EQ(upper[i + 1].second, (p.years[i].*level.interval).upper);
      EXPECT_EQ(lower[i + 1].second, (p.years[i].*level.interval).lower);
    }
    // The outline: upper left to right, then lower right to left.
    const auto d = Coordinates(band[0].at("d"));
    ASSERT_EQ(d.size(), upper.size() + lower.size());
    for (size_t i = 0; i < upper.size(); ++i) {
      EXPECT_NEAR(d[i].first, map.X(upper[i].first), kPixel);
      EXPECT_NEAR(d[i].second, map.Y(upper[i].second), kPixel);
      const auto& low = lower[lower.size() - 1 - i];
      EXPECT_NEAR(d[upper.size() + i].first, map.X(low.first), kPixel);
      EXPECT_NEAR(d[upper.size() + i].second, map.Y(low.second), kPixel);
    }
  }

  const std::vector<Element> target = WithClass(elements, "target");
  ASSERT_THAT(target, SizeIs(1));
  EXPECT_EQ(target[0].Number("data-value"), 145);
  EXPECT_EQ(target[0].Number("data-fy"), 2024);
  const auto diamond = Coordinates(target[0].at("d"));
  ASSERT_THAT(diamond, SizeIs(4));
  // Top and bottom vertices straddle the target's point.
  EXPECT_NEAR(diamond[0].first, map.X(2024), kPixel);
  EXPECT_NEAR((diamond[0].second + diamond[2].second) / 2, map.Y(145), kPixel);
}

TEST(FanChartTest, OtherScenarioAndShockYearsWhereShocksAreMarked) {
  Fixture f;
  ASSERT_TRUE(f.projected.alternative.has_value());
  const std::string svg = RenderFanChart(f.input, i18n::Language::kJa);
  const std::vector<Element> elements = Elements(svg);
  const std::vector<Element> alternative = WithClass(elements, "alternative");
  ASSERT_THAT(alternative, SizeIs(1));
  // Told apart from the median by its dash, not by its shade.
  EXPECT_EQ(alternative[0].at("stroke-dasharray"), "6 4");
  EXPECT_EQ(WithClass(elements, "median")[0].at("stroke-dasharray"), "");
  const auto values = Vertices(alternative[0].at("data-values"));
  const auto& years = f.projected.alternative->years;
  ASSERT_EQ(values.size(), years.size() + 1);
  for (size_t i = 0; i < years.size(); ++i) {
    EXPECT_EQ(values[i + 1].second, years[i].median);
  }
  const std::vector<Element> shocks = WithClass(elements, "shock");
  ASSERT_THAT(shocks, SizeIs(2));
  EXPECT_EQ(shocks[0].at("data-fy"), "2020");
  EXPECT_EQ(shocks[1].at("data-fy"), "2021");
  EXPECT_EQ(shocks[0].at("fill"), "url(#chart-airport-passengers-hatch)");
  EXPECT_THAT(svg, HasSubstr("ショック年"));
  EXPECT_THAT(svg, HasSubstr("別シナリオ: ショック年もデータとして使用"));

  // Without shock years there is no other scenario to draw.
  f.input.shock_fiscal_years.clear();
  const std::vector<Element> plain =
      Elements(RenderFanChart(f.input, i18n::Language::kJa));
  EXPECT_THAT(WithClass(plain, "alternative"), SizeIs(0));
  EXPECT_THAT(WithClass(plain, "shock"), SizeIs(0));
}

TEST(FanChartTest, OnlyGraysAndEveryMarkKindDiffersBeyondShade) {
  Fixture f;
  f.input.observations.push_back(
      Obs(2016, 100.1, domain::ObservationStatus::kCarriedOver));
  const std::string svg = RenderFanChart(f.input, i18n::Language::kEn);
  static const std::regex kColour(R"re((fill|stroke)="#([0-9a-fA-F]{6})")re");
  int colours = 0;
  for (auto it = std::sregex_iterator(svg.begin(), svg.end(), kColour);
       it != std::sregex_iterator(); ++it) {
    const std::string hex = (*it)[2];
    ++colours;
    EXPECT_EQ(hex.substr(0, 2), hex.substr(2, 2)) << hex;
    EXPECT_EQ(hex.substr(2, 2), hex.substr(4, 2)) << hex;
  }
  EXPECT_GT(colours, 20);
  EXPECT_THAT(svg, Not(HasSubstr("rgb(")));
  const std::vector<Element> elements = Elements(svg);
  // Observation statuses: three distinct (tag, fill) shapes.
  std::set<std::string> shapes;
  for (const Element& e : WithClass(elements, "obs")) {
    shapes.insert(e.tag + e.at("fill"));
  }
  EXPECT_THAT(shapes, SizeIs(3));
  // Bands: distinct shades, and nested so that order tells them apart too.
  std::set<std::string> fills;
  for (const char* c : {"band-50", "band-80", "band-95"}) {
    fills.insert(WithClass(elements, c)[0].at("fill"));
  }
  EXPECT_THAT(fills, SizeIs(3));
  for (const forecast::YearProjection& y : f.projected.projection.years) {
    EXPECT_LE(y.interval_95.lower, y.interval_80.lower);
    EXPECT_LE(y.interval_80.lower, y.interval_50.lower);
    EXPECT_GE(y.interval_95.upper, y.interval_80.upper);
  }
  // Shock years: a hatch pattern, not a tint.
  EXPECT_THAT(svg, HasSubstr("<pattern id=\"chart-airport-passengers-hatch\""));
  // A legend entry for each kind of mark shown: observed, provisional,
  // carried over, median, three bands, target, other scenario, shock years.
  EXPECT_THAT(WithClass(elements, "legend-item"), SizeIs(10));
}

TEST(FanChartTest, EscapesEveryText) {
  Fixture f;
  f.input.title = "A<b>&\"c'<script>";
  f.input.unit = "<u>&";
  f.input.id = "x\"><script>";
  const std::string svg = RenderFanChart(f.input, i18n::Language::kEn);
  EXPECT_THAT(svg, Not(HasSubstr("<script>")));
  EXPECT_THAT(svg, Not(HasSubstr("<b>")));
  EXPECT_THAT(svg, Not(HasSubstr("<u>")));
  EXPECT_THAT(svg, HasSubstr("A&lt;b&gt;&amp;&quot;c&#39;&lt;script&gt;"));
  EXPECT_THAT(svg, HasSubstr("unit: &lt;u&gt;&amp;"));
  EXPECT_THAT(svg, HasSubstr("id=\"chart-x---script-\""));
  EXPECT_EQ(XmlEscape("<&>\"'"), "&lt;&amp;&gt;&quot;&#39;");
  // Every '<' starts a tag, every '&' an entity.
  static const std::regex kStrayAmp(R"(&(?!(amp|lt|gt|quot|#39);))");
  EXPECT_FALSE(std::regex_search(svg, kStrayAmp));
}

TEST(FanChartTest, TitleDescAndYearsPerLanguage) {
  Fixture f;
  const std::string ja = RenderFanChart(f.input, i18n::Language::kJa);
  EXPECT_THAT(ja, HasSubstr("<title id=\"chart-airport-passengers-title\">"
                            "空港乗降客数の推移と予測</title>"));
  EXPECT_THAT(
      ja,
      HasSubstr("<desc id=\"chart-airport-passengers-desc\">"
                "実績値5点 (平成29年度〜令和3年度)。令和6年度の予測中央値は"));
  EXPECT_THAT(ja, HasSubstr("の達成確率は"));
  EXPECT_THAT(ja, HasSubstr("aria-labelledby=\"chart-airport-passengers-title "
                            "chart-airport-passengers-desc\""));
  EXPECT_THAT(ja, HasSubstr(">令和3</text>"));
  EXPECT_THAT(ja, HasSubstr(">令和元</text>"));
  EXPECT_THAT(ja, HasSubstr(">単位: 万人</text>"));
  EXPECT_THAT(ja, HasSubstr(">年度</text>"));
  const std::string en = RenderFanChart(f.input, i18n::Language::kEn);
  EXPECT_THAT(en, HasSubstr(">FY2021</text>"));
  EXPECT_THAT(en, HasSubstr(">R3</text>"));
  EXPECT_THAT(en, HasSubstr(">fiscal year</text>"));
  EXPECT_THAT(en, HasSubstr("5 observations (FY2017 to FY2021). Projected "
                            "median for FY2024:"));
}

TEST(FanChartTest, ObservationsAloneAndAMeanOverYears) {
  FanChartInput input;
  input.id = "k";
  input.title = "HP";
  input.unit = "万件";
  domain::Observation mean = Obs(2018, 1669);
  mean.first_fiscal_year = 2016;
  mean.aggregation = domain::Aggregation::kMean;
  input.observations = {mean, Obs(2021, 3182)};
  const std::vector<Element> elements =
      Elements(RenderFanChart(input, i18n::Language::kJa));
  EXPECT_THAT(WithClass(elements, "band"), SizeIs(0));
  EXPECT_THAT(WithClass(elements, "median"), SizeIs(0));
  EXPECT_THAT(WithClass(elements, "target"), SizeIs(0));
  const std::vector<Element> obs = WithClass(elements, "obs");
  ASSERT_THAT(obs, SizeIs(2));
  EXPECT_EQ(obs[0].at("data-first-fy"), "2016");
  const ChartMap map = MapOf(Root(elements));
  EXPECT_EQ(map.fy0, 2016);
  const std::vector<Element> span = WithClass(elements, "obs-span");
  ASSERT_THAT(span, SizeIs(1));
  EXPECT_NEAR(span[0].Number("x1"), map.X(2016), kPixel);
  // The value axis holds every value.
  for (const Element& o : obs) {
    EXPECT_GE(map.Y(o.Number("data-value")), 52 - kPixel);
    EXPECT_LE(map.Y(o.Number("data-value")), 270 + kPixel);
  }
}

}  // namespace
}  // namespace kpi::report
