#include "lib/domain/validation.h"

#include <algorithm>
#include <cmath>
#include <functional>
#include <limits>
#include <string>
#include <vector>

#include "absl/strings/str_format.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "lib/base/field_violations.h"
#include "lib/base/status_matchers.h"
#include "lib/domain/names.h"

namespace kpi::domain {
namespace {

using ::kpi::testing::IsOk;
using ::kpi::testing::StatusIs;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

constexpr char kStrategy[] = "strategies/asahikawa-2020";
constexpr char kRate[] = "references/statutory-employment-rate-private";

std::string S(const std::string& rest) {
  return std::string(kStrategy) + "/" + rest;
}

Observation Obs(const std::string& kpi_id, int year, double value,
                int first = 0) {
  Observation o;
  o.name = S("kpis/" + kpi_id + "/observations/" + FiscalYearId(first, year));
  o.fiscal_year = year;
  o.first_fiscal_year = first;
  if (first != 0) o.aggregation = Aggregation::kMean;
  o.value = value;
  o.status = ObservationStatus::kFinal;
  o.reported_fiscal_year = 2021;
  return o;
}

// Resources of 第2期旭川市まち・ひと・しごと創生総合戦略 with the seed's
// values.
Dataset Asahikawa() {
  Dataset d;
  Reference rate;
  rate.name = kRate;
  rate.display_name = "法定雇用率(民間企業)";
  rate.english_name = "Statutory employment rate, private employers";
  rate.unit = "%";
  rate.values = {{absl::CivilDay(2018, 4, 1), 2.2},
                 {absl::CivilDay(2021, 3, 1), 2.3},
                 {absl::CivilDay(2024, 4, 1), 2.5},
                 {absl::CivilDay(2026, 7, 1), 2.7}};
  d.references.push_back(rate);

  Strategy s;
  s.name = kStrategy;
  s.display_name = "第2期旭川市まち・ひと・しごと創生総合戦略";
  s.municipality = "旭川市";
  s.municipality_code = "012041";
  s.first_fiscal_year = 2020;
  s.last_fiscal_year = 2024;
  d.strategies.push_back(s);

  for (int n = 1; n <= 4; ++n) {
    Goal g;
    g.name = S("goals/goal-" + std::to_string(n));
    g.number = n;
    g.display_name = "基本目標" + std::to_string(n);
    d.goals.push_back(g);
  }
  const auto measure = [&](const std::string& id, int goal,
                           const std::string& code, const std::string& title) {
    Measure m;
    m.name = S("measures/" + id);
    m.goal = S("goals/goal-" + std::to_string(goal));
    m.code = code;
    m.display_name = title;
    d.measures.push_back(m);
  };
  measure("g1-a", 1, "ア", "安心して妊娠、出産、育児ができる総合的な支援");
  measure("g2-a", 2, "ア", "移住(UJターンを含む)に関する総合的な環境整備");
  measure("g3-c", 3, "ウ",
          "街の産業を支える人材として全ての人が活躍できる環境づくり");
  measure("g4-e", 4, "オ", "関係人口の拡大を目指した積極的な情報提供の促進");

  Kpi child;  // kpis[0]
  child.name = S("kpis/child-wellbeing");
  child.measure = S("measures/g1-a");
  child.display_name = "子どもたちが健やかに成長していると感じる市民の割合";
  child.unit = "%";
  child.kind = KpiKind::kLevel;
  child.direction = Direction::kIncrease;
  child.baseline =
      Baseline{59.9, 2019, 0, Aggregation::kUnspecified, "59.9 (令和元年度)"};
  child.target.value = 65.0;
  child.target.fiscal_year = 2024;
  d.kpis.push_back(child);

  Kpi migration;  // kpis[1]
  migration.name = S("kpis/migration-event-participants");
  migration.measure = S("measures/g2-a");
  migration.display_name = "移住相談会や交流会などの参加者数";
  migration.unit = "人";
  migration.kind = KpiKind::kPeriodSum;
  migration.direction = Direction::kIncrease;
  migration.period_first_fiscal_year = 2020;
  migration.target.value = 705;
  migration.target.fiscal_year = 2024;
  migration.target.label = "705 (令和2-6年度累計数)";
  d.kpis.push_back(migration);

  Kpi employment;  // kpis[2]
  employment.name = S("kpis/disabled-employment-rate");
  employment.measure = S("measures/g3-c");
  employment.display_name = "障がい者の雇用率";
  employment.unit = "%";
  employment.kind = KpiKind::kLevel;
  employment.direction = Direction::kIncrease;
  employment.baseline =
      Baseline{2.19, 2019, 0, Aggregation::kUnspecified, "2.19 (令和元年度)"};
  employment.target.reference = kRate;
  employment.target.fiscal_year = 2024;
  employment.target.label = "法定雇用率以上";
  d.kpis.push_back(employment);

  Kpi access;  // kpis[3]
  access.name = S("kpis/website-page-views");
  access.measure = S("measures/g4-e");
  access.display_name = "ホームページアクセス(全ページ合計)件数";
  access.unit = "万件";
  access.kind = KpiKind::kLevel;
  access.direction = Direction::kIncrease;
  access.baseline = Baseline{1669, 2018, 2016, Aggregation::kMean,
                             "1,669 (平成28-30年度の平均値)"};
  access.target.value = 1770;
  access.target.fiscal_year = 2024;
  access.shock_fiscal_years = {2020, 2021};
  d.kpis.push_back(access);

  d.observations = {
      Obs("child-wellbeing", 2015, 55.5),              // [0]
      Obs("child-wellbeing", 2017, 58.1),              // [1]
      Obs("child-wellbeing", 2019, 59.9),              // [2]
      Obs("child-wellbeing", 2021, 50.6),              // [3]
      Obs("migration-event-participants", 2021, 348),  // [4]
      Obs("disabled-employment-rate", 2021, 2.67),     // [5]
      Obs("website-page-views", 2018, 1669, 2016),     // [6]
      Obs("website-page-views", 2021, 3182),           // [7]
  };

  Evaluation e;
  e.name = S("measures/g1-a/evaluations/fy2021");
  e.fiscal_year = 2021;
  e.rating = Rating::kContinueAndExpand;
  e.kpi_assessment =
      "令和3年度市民アンケート結果では50.6%と基準値を下回っており";
  d.evaluations.push_back(e);
  return d;
}

// The violations' fields, in order.
std::vector<std::string> Fields(const absl::Status& status) {
  std::vector<std::string> fields;
  for (const base::FieldViolation& v : base::GetFieldViolations(status)) {
    fields.push_back(v.field);
  }
  return fields;
}

std::string Description(const absl::Status& status, const std::string& field) {
  for (const base::FieldViolation& v : base::GetFieldViolations(status)) {
    if (v.field == field) return v.description;
  }
  return "(no violation at " + field + ")";
}

TEST(ValidateDatasetTest, AsahikawaIsValid) {
  EXPECT_THAT(ValidateDataset(Asahikawa()), IsOk());
}

TEST(ValidateDatasetTest, EachProblemAtItsPath) {
  const double nan = std::numeric_limits<double>::quiet_NaN();
  struct Case {
    const char* what;
    std::function<void(Dataset&)> mutate;
    const char* field;
    const char* description;
  } cases[] = {
      {"target year missing",
       [](Dataset& d) { d.kpis[0].target.fiscal_year = 0; },
       "kpis[0].target.fiscal_year", "required; accepted: a fiscal year"},
      {"target with value and reference",
       [](Dataset& d) { d.kpis[2].target.value = 2.3; }, "kpis[2].target",
       "both value and reference are set"},
      {"target with neither",
       [](Dataset& d) { d.kpis[0].target.value.reset(); }, "kpis[0].target",
       "required: a value or a reference"},
      {"kind unspecified",
       [](Dataset& d) { d.kpis[0].kind = KpiKind::kUnspecified; },
       "kpis[0].kind", "required; accepted: KPI_KIND_LEVEL"},
      {"direction out of range",
       [](Dataset& d) { d.kpis[0].direction = static_cast<Direction>(7); },
       "kpis[0].direction", "DIRECTION_INCREASE or DIRECTION_DECREASE"},
      {"percent above 100", [](Dataset& d) { d.kpis[0].baseline->value = 120; },
       "kpis[0].baseline.value",
       "120 is outside 0 to 100, the range of a percentage "
       "(VALUE_DOMAIN_PERCENT, inferred from the unit \"%\")"},
      {"target not finite", [=](Dataset& d) { d.kpis[0].target.value = nan; },
       "kpis[0].target.value", "nan is not a finite number"},
      {"target too large", [](Dataset& d) { d.kpis[0].target.value = 1e300; },
       "kpis[0].target.value",
       "1e+300 is larger in magnitude than the engine can carry; accepted: "
       "-1e+15 to 1e+15"},
      {"observation too large",
       [](Dataset& d) { d.observations[0].value = -1.7e308; },
       "observations[0].value", "-1.7e+308 is larger in magnitude"},
      {"period sum starting after its target year",
       [](Dataset& d) { d.kpis[1].period_first_fiscal_year = 2025; },
       "kpis[1].period_first_fiscal_year",
       "2025 is after target.fiscal_year "
       "2024"},
      {"period sum without its first year",
       [](Dataset& d) { d.kpis[1].period_first_fiscal_year = 0; },
       "kpis[1].period_first_fiscal_year", "required"},
      {"period year on a level KPI",
       [](Dataset& d) { d.kpis[0].period_first_fiscal_year = 2020; },
       "kpis[0].period_first_fiscal_year", "not KPI_KIND_PERIOD_SUM"},
      {"baseline range without aggregation",
       [](Dataset& d) {
         d.kpis[3].baseline->aggregation = Aggregation::kUnspecified;
       },
       "kpis[3].baseline.aggregation",
       "required for a range of years (2016 to 2018)"},
      {"baseline range reversed",
       [](Dataset& d) { d.kpis[3].baseline->first_fiscal_year = 2019; },
       "kpis[3].baseline.first_fiscal_year", "2019 is after fiscal_year 2018"},
      {"shock year twice",
       [](Dataset& d) { d.kpis[3].shock_fiscal_years.push_back(2020); },
       "kpis[3].shock_fiscal_years[2]", "2020 is listed twice"},
      {"KPI under a measure of another strategy",
       [](Dataset& d) { d.kpis[0].measure = "strategies/other/measures/m"; },
       "kpis[0].measure", "is not a measure of strategies/asahikawa-2020"},
      {"KPI measure missing",
       [](Dataset& d) { d.kpis[0].measure = S("measures/g9-z"); },
       "kpis[0].measure",
       "measure \"strategies/asahikawa-2020/measures/g9-z\" is neither in the "
       "dataset nor stored"},
      {"target reference missing", [](Dataset& d) { d.references.clear(); },
       "kpis[2].target.reference",
       "reference \"references/statutory-employment-rate-private\" is neither "
       "in the dataset nor stored"},
      {"target reference in another unit",
       [](Dataset& d) { d.references[0].unit = "人"; },
       "kpis[2].target.reference", "is in \"人\", the KPI in \"%\""},
      {"target reference not yet in force",
       [](Dataset& d) {
         d.kpis[2].target.fiscal_year = 2021;
         d.references[0].values.erase(d.references[0].values.begin(),
                                      d.references[0].values.begin() + 2);
       },
       "kpis[2].target.reference", "has no value in force on 2022-03-31"},
      {"target year before the plan",
       [](Dataset& d) { d.kpis[0].target.fiscal_year = 2019; },
       "kpis[0].target.fiscal_year",
       "2019 is outside 2020 to 2054: targets fall from the first year"},
      {"baseline decades before the plan",
       [](Dataset& d) { d.kpis[0].baseline->fiscal_year = 1960; },
       "kpis[0].baseline.fiscal_year",
       "1960 is more than 30 years from the plan period"},
      {"observation ID not its year",
       [](Dataset& d) { d.observations[3].fiscal_year = 2020; },
       "observations[3].name",
       "the ID \"fy2021\" does not name the period; expected \"fy2020\""},
      {"observation range without aggregation",
       [](Dataset& d) {
         d.observations[6].aggregation = Aggregation::kUnspecified;
       },
       "observations[6].aggregation",
       "accepted: AGGREGATION_MEAN or "
       "AGGREGATION_SUM"},
      {"aggregation on a single year",
       [](Dataset& d) { d.observations[7].aggregation = Aggregation::kSum; },
       "observations[7].aggregation", "set for a single year"},
      {"duplicate observation",
       [](Dataset& d) { d.observations.push_back(d.observations[3]); },
       "observations[8].name",
       "duplicate: \"strategies/asahikawa-2020/kpis/child-wellbeing/"
       "observations/fy2021\" is also observations[3]"},
      {"observation of a KPI not given",
       [](Dataset& d) { d.observations.push_back(Obs("bus-rides", 2021, 3)); },
       "observations[8].name",
       "KPI \"strategies/asahikawa-2020/kpis/bus-rides\" is neither in the "
       "dataset nor stored"},
      {"negative count", [](Dataset& d) { d.observations[4].value = -1; },
       "observations[4].value",
       "-1 is negative; the KPI's values are zero or more"},
      {"share above 100 in an observation",
       [](Dataset& d) { d.observations[3].value = 506; },
       "observations[3].value", "506 is outside 0 to 100"},
      {"observation year far from the plan",
       [](Dataset& d) {
         d.observations[7].fiscal_year = 2199;
         d.observations[7].name =
             S("kpis/website-page-views/observations/"
               "fy2199");
       },
       "observations[7].fiscal_year",
       "2199 is more than 30 years from the plan period of "
       "strategies/asahikawa-2020 (2020 to 2024)"},
      {"observation year outside the calendar",
       [](Dataset& d) { d.observations[7].reported_fiscal_year = 21; },
       "observations[7].reported_fiscal_year",
       "21 is not a fiscal year from 1900 to 2200"},
      {"status out of range",
       [](Dataset& d) {
         d.observations[7].status = static_cast<ObservationStatus>(9);
       },
       "observations[7].status", "unknown value 9"},
      {"invalid UTF-8 in a note",
       [](Dataset& d) { d.observations[7].source_note = "令\xE5\x92"; },
       "observations[7].source_note", "not valid UTF-8 (byte 3)"},
      {"evaluation ID not its year",
       [](Dataset& d) { d.evaluations[0].fiscal_year = 2022; },
       "evaluations[0].name", "expected \"fy2022\""},
      {"evaluation without rating",
       [](Dataset& d) { d.evaluations[0].rating = Rating::kUnspecified; },
       "evaluations[0].rating", "RATING_CONTINUE (継続)"},
      {"evaluation of a missing measure",
       [](Dataset& d) {
         d.evaluations[0].name = S("measures/g9-z/evaluations/fy2021");
       },
       "evaluations[0].name",
       "measure \"strategies/asahikawa-2020/measures/"
       "g9-z\" is neither in the dataset nor stored"},
      {"reference dates out of order",
       [](Dataset& d) {
         d.references[0].values[2].effective_date = absl::CivilDay(2020, 4, 1);
       },
       "references[0].values[2].effective_date",
       "2020-04-01 is not after 2021-03-01 of values[1]; values must be in "
       "strictly increasing date order"},
      {"reference without values",
       [](Dataset& d) {
         d.references[0].values.clear();
         d.kpis[2].target = {2.3, "", 2024, ""};
       },
       "references[0].values", "at least one value"},
      {"municipality code with a wrong check digit",
       [](Dataset& d) { d.strategies[0].municipality_code = "012040"; },
       "strategies[0].municipality_code",
       "\"012040\" is not a local government code"},
      {"plan period reversed",
       [](Dataset& d) { d.strategies[0].last_fiscal_year = 2019; },
       "strategies[0].last_fiscal_year",
       "2019 is before first_fiscal_year "
       "2020"},
      {"strategy name not a name",
       [](Dataset& d) { d.strategies[0].name = "Asahikawa"; },
       "strategies[0].name",
       "\"Asahikawa\" is not a strategy name; accepted: "
       "strategies/{strategy}"},
      {"goal of a missing strategy",
       [](Dataset& d) { d.goals[1].name = "strategies/sapporo/goals/goal-2"; },
       "goals[1].name",
       "strategy \"strategies/sapporo\" is neither in the dataset nor stored"},
      {"goal number 0", [](Dataset& d) { d.goals[0].number = 0; },
       "goals[0].number", "0 is not a goal number"},
      {"measure display name missing",
       [](Dataset& d) { d.measures[0].display_name.clear(); },
       "measures[0].display_name", "required"},
      {"sub-measure of a sub-measure",
       [](Dataset& d) {
         d.measures[1].parent = d.measures[0].name;
         d.measures[1].goal = d.measures[0].goal;
         d.measures[2].parent = d.measures[1].name;
         d.measures[2].goal = d.measures[0].goal;
       },
       "measures[2].parent", "is itself a sub-measure"},
      {"sub-measure under another goal's heading",
       [](Dataset& d) { d.measures[1].parent = d.measures[0].name; },
       "measures[1].parent", "a sub-measure has its heading's goal"},
  };
  for (const Case& c : cases) {
    Dataset d = Asahikawa();
    c.mutate(d);
    const absl::Status status = ValidateDataset(d);
    EXPECT_THAT(status, StatusIs(absl::StatusCode::kInvalidArgument)) << c.what;
    EXPECT_THAT(Description(status, c.field), HasSubstr(c.description))
        << c.what << "\n"
        << status;
  }
}

TEST(ValidateDatasetTest, ReportsEveryProblemAtOnce) {
  Dataset d = Asahikawa();
  d.kpis[0].target.fiscal_year = 0;
  d.observations[4].value = -1;
  d.observations.push_back(d.observations[0]);
  const absl::Status status = ValidateDataset(d);
  EXPECT_THAT(Fields(status),
              ElementsAre("kpis[0].target.fiscal_year", "observations[8].name",
                          "observations[4].value"));
  EXPECT_THAT(status, StatusIs(absl::StatusCode::kInvalidArgument,
                               HasSubstr("invalid dataset\n  kpis[0].target."
                                         "fiscal_year: required")));
}

TEST(ValidateDatasetTest, ParentsMayBeStored) {
  const Dataset stored = Asahikawa();
  Dataset incoming;
  incoming.observations.push_back(Obs("child-wellbeing", 2022, 52.0));
  EXPECT_THAT(ValidateDataset(incoming, stored), IsOk());
  // Without the store the KPI is unknown.
  EXPECT_THAT(Fields(ValidateDataset(incoming)),
              ElementsAre("observations[0].name"));
  // The stored KPI's unit still bounds the value.
  incoming.observations[0].value = 101;
  EXPECT_THAT(Fields(ValidateDataset(incoming, stored)),
              ElementsAre("observations[0].value"));
}

TEST(ValidateKpiTest, PathPrefixes) {
  Kpi kpi = Asahikawa().kpis[0];
  kpi.display_name.clear();
  std::vector<base::FieldViolation> violations;
  ValidateKpi(kpi, "kpi", &violations);
  ValidateKpi(kpi, "", &violations);
  ASSERT_EQ(violations.size(), 2u);
  EXPECT_EQ(violations[0].field, "kpi.display_name");
  EXPECT_EQ(violations[1].field, "display_name");
  EXPECT_EQ(violations[1].description, "required");
}

TEST(ValidateObservationTest, RangeIdAndRequiredYear) {
  std::vector<base::FieldViolation> violations;
  ValidateObservation(Obs("website-page-views", 2018, 1669, 2016), "o",
                      &violations);
  EXPECT_TRUE(violations.empty());
  Observation o;
  o.name = S("kpis/k/observations/fy2021");
  ValidateObservation(o, "o", &violations);
  ASSERT_EQ(violations.size(), 2u);
  EXPECT_EQ(violations[0].field, "o.fiscal_year");
  EXPECT_EQ(violations[1].field, "o.name");
  EXPECT_THAT(violations[1].description, HasSubstr("expected \"fy0\""));
}

TEST(ResolveTargetTest, NumberOrReferenceOnTheLastDayOfTheYear) {
  const Dataset d = Asahikawa();
  EXPECT_EQ(*ResolveTarget(d.kpis[0], d.references), 65.0);
  Kpi kpi = d.kpis[2];
  struct Case {
    int target_year;
    double value;
  } cases[] = {
      {2018, 2.2},
      {2019, 2.2},
      // Raised on 1 March 2021, in force on 31 March 2021: binds FY2020.
      {2020, 2.3},
      {2021, 2.3},
      {2023, 2.3},
      // Raised on 1 April 2024: FY2024 is judged at 2.5.
      {2024, 2.5},
      {2025, 2.5},
      {2026, 2.7},
      {2030, 2.7},
  };
  for (const Case& c : cases) {
    kpi.target.fiscal_year = c.target_year;
    EXPECT_EQ(*ResolveTarget(kpi, d.references), c.value) << c.target_year;
  }
  // The order of the table does not matter.
  std::vector<Reference> reversed = d.references;
  std::reverse(reversed[0].values.begin(), reversed[0].values.end());
  kpi.target.fiscal_year = 2024;
  EXPECT_EQ(*ResolveTarget(kpi, reversed), 2.5);

  kpi.target.fiscal_year = 2017;
  EXPECT_THAT(ResolveTarget(kpi, d.references),
              StatusIs(absl::StatusCode::kFailedPrecondition,
                       HasSubstr("has no value in force on 2018-03-31")));
  kpi.target.fiscal_year = 2024;
  EXPECT_THAT(ResolveTarget(kpi, {}),
              StatusIs(absl::StatusCode::kNotFound,
                       HasSubstr("target reference references/statutory-"
                                 "employment-rate-private not found")));
  kpi.target.value = 2.5;
  EXPECT_THAT(ResolveTarget(kpi, d.references),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("exactly one of value and reference")));
  kpi.target.value.reset();
  kpi.target.fiscal_year = 0;
  EXPECT_THAT(ResolveTarget(kpi, d.references),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("no fiscal year")));
}

TEST(FindInvalidUtf8Test, Offsets) {
  struct Case {
    std::string text;
    std::optional<size_t> offset;
  } cases[] = {
      {"", std::nullopt},
      {"abc", std::nullopt},
      {"旭川市", std::nullopt},
      {"\xF0\x9F\x98\x80", std::nullopt},  // U+1F600
      {"ab\x80", 2},                       // continuation byte alone
      {"旭\xE5\x92", 3},                   // truncated
      {"\xC0\xAF", 0},                     // overlong '/'
      {"a\xE0\x80\xAF", 1},                // overlong
      {"\xED\xA0\x80", 0},                 // surrogate U+D800
      {"\xF4\x90\x80\x80", 0},             // past U+10FFFF
      {"\x88\xAE\x90\xEC", 0},             // 旭川 in CP932
      {"ok\xFF", 2},
  };
  for (const Case& c : cases) {
    EXPECT_EQ(FindInvalidUtf8(c.text), c.offset) << c.text;
  }
}

// n characters: 旭 (3 bytes of UTF-8) repeated, so that a cap in bytes would
// refuse what these tests accept.
std::string Chars(size_t n) {
  std::string out;
  for (size_t i = 0; i < n; ++i) out += "旭";
  return out;
}

TEST(CapsTest, EveryTextFieldHasACapInCharacters) {
  struct Case {
    const char* field;
    std::function<void(Dataset&, const std::string&)> set;
    size_t cap;
  } cases[] = {
      {"references[0].display_name",
       [](Dataset& d, const std::string& t) {
         d.references[0].display_name = t;
       },
       kMaxDisplayNameChars},
      {"references[0].english_name",
       [](Dataset& d, const std::string& t) {
         d.references[0].english_name = t;
       },
       kMaxEnglishNameChars},
      {"references[0].unit",
       [](Dataset& d, const std::string& t) {
         d.references[0].unit = t;
         d.kpis[2].unit.clear();  // else it must share the KPI's unit
       },
       kMaxUnitChars},
      {"references[0].source",
       [](Dataset& d, const std::string& t) { d.references[0].source = t; },
       kMaxNoteChars},
      {"strategies[0].display_name",
       [](Dataset& d, const std::string& t) {
         d.strategies[0].display_name = t;
       },
       kMaxDisplayNameChars},
      {"strategies[0].english_name",
       [](Dataset& d, const std::string& t) {
         d.strategies[0].english_name = t;
       },
       kMaxEnglishNameChars},
      {"strategies[0].municipality",
       [](Dataset& d, const std::string& t) {
         d.strategies[0].municipality = t;
       },
       kMaxDisplayNameChars},
      {"strategies[0].source",
       [](Dataset& d, const std::string& t) { d.strategies[0].source = t; },
       kMaxNoteChars},
      {"goals[0].display_name",
       [](Dataset& d, const std::string& t) { d.goals[0].display_name = t; },
       kMaxDisplayNameChars},
      {"goals[0].english_name",
       [](Dataset& d, const std::string& t) { d.goals[0].english_name = t; },
       kMaxEnglishNameChars},
      {"measures[0].code",
       [](Dataset& d, const std::string& t) { d.measures[0].code = t; },
       kMaxUnitChars},
      {"measures[0].display_name",
       [](Dataset& d, const std::string& t) { d.measures[0].display_name = t; },
       kMaxDisplayNameChars},
      {"measures[0].english_name",
       [](Dataset& d, const std::string& t) { d.measures[0].english_name = t; },
       kMaxEnglishNameChars},
      {"kpis[0].display_name",
       [](Dataset& d, const std::string& t) { d.kpis[0].display_name = t; },
       kMaxDisplayNameChars},
      {"kpis[0].english_name",
       [](Dataset& d, const std::string& t) { d.kpis[0].english_name = t; },
       kMaxEnglishNameChars},
      {"kpis[1].unit",
       [](Dataset& d, const std::string& t) { d.kpis[1].unit = t; },
       kMaxUnitChars},
      {"kpis[0].measurement_note",
       [](Dataset& d, const std::string& t) { d.kpis[0].measurement_note = t; },
       kMaxNoteChars},
      {"kpis[0].baseline.label",
       [](Dataset& d, const std::string& t) { d.kpis[0].baseline->label = t; },
       kMaxDisplayNameChars},
      {"kpis[0].target.label",
       [](Dataset& d, const std::string& t) { d.kpis[0].target.label = t; },
       kMaxDisplayNameChars},
      {"observations[0].source_note",
       [](Dataset& d, const std::string& t) {
         d.observations[0].source_note = t;
       },
       kMaxSourceNoteChars},
      {"evaluations[0].kpi_assessment",
       [](Dataset& d, const std::string& t) {
         d.evaluations[0].kpi_assessment = t;
       },
       kMaxEvaluationTextChars},
      {"evaluations[0].outlook",
       [](Dataset& d, const std::string& t) { d.evaluations[0].outlook = t; },
       kMaxEvaluationTextChars},
      {"evaluations[0].viewpoint",
       [](Dataset& d, const std::string& t) { d.evaluations[0].viewpoint = t; },
       kMaxEvaluationTextChars},
  };
  for (const Case& c : cases) {
    Dataset d = Asahikawa();
    c.set(d, Chars(c.cap));
    EXPECT_THAT(ValidateDataset(d), IsOk()) << c.field << " at its cap";
    c.set(d, Chars(c.cap + 1));
    const absl::Status status = ValidateDataset(d);
    EXPECT_THAT(Fields(status), ElementsAre(c.field)) << status;
    EXPECT_EQ(Description(status, c.field),
              absl::StrFormat("%d characters; accepted: at most %d characters",
                              c.cap + 1, c.cap))
        << c.field;
  }
}

TEST(CapsTest, ListsHaveACap) {
  Dataset d = Asahikawa();
  Reference& rate = d.references[0];
  rate.values.clear();
  for (size_t i = 0; i < kMaxReferenceValues; ++i) {
    rate.values.push_back(
        {absl::CivilDay(1950, 1, 1) + static_cast<int>(i), 2.2});
  }
  EXPECT_THAT(ValidateDataset(d), IsOk());
  rate.values.push_back({absl::CivilDay(2030, 1, 1), 2.2});
  absl::Status status = ValidateDataset(d);
  EXPECT_THAT(Fields(status), ElementsAre("references[0].values"));
  EXPECT_EQ(Description(status, "references[0].values"),
            "1001 values; accepted: at most 1000");

  d = Asahikawa();
  d.kpis[0].shock_fiscal_years.clear();
  for (size_t i = 0; i <= kMaxShockFiscalYears; ++i) {
    d.kpis[0].shock_fiscal_years.push_back(2000 + static_cast<int>(i));
  }
  status = ValidateDataset(d);
  EXPECT_THAT(Fields(status), ElementsAre("kpis[0].shock_fiscal_years"));
  EXPECT_EQ(Description(status, "kpis[0].shock_fiscal_years"),
            "51 years; accepted: at most 50");
}

TEST(CapsTest, CountCharactersCountsCodePoints) {
  EXPECT_EQ(CountCharacters(""), 0u);
  EXPECT_EQ(CountCharacters("abc"), 3u);
  EXPECT_EQ(CountCharacters("旭川市"), 3u);
  EXPECT_EQ(CountCharacters("\xF0\x9F\x98\x80x"), 2u);  // U+1F600 and x
  EXPECT_EQ(CountCharacters("a\xFF\xE6\x97"), 4u);      // stray and cut bytes
  std::vector<base::FieldViolation> violations;
  ValidateTextLength(Chars(5), 5, "reason", &violations);
  EXPECT_TRUE(violations.empty());
  ValidateTextLength(Chars(6), 5, "reason", &violations);
  ASSERT_EQ(violations.size(), 1u);
  EXPECT_EQ(violations[0].field, "reason");
  EXPECT_EQ(violations[0].description,
            "6 characters; accepted: at most 5 characters");
}

TEST(EffectiveValueDomainTest, InferredFromUnit) {
  Kpi kpi;
  kpi.unit = "%";
  EXPECT_EQ(EffectiveValueDomain(kpi), ValueDomain::kPercent);
  kpi.unit = "万人";
  EXPECT_EQ(EffectiveValueDomain(kpi), ValueDomain::kNonNegative);
  kpi.value_domain = ValueDomain::kReal;
  EXPECT_EQ(EffectiveValueDomain(kpi), ValueDomain::kReal);
  std::vector<base::FieldViolation> violations;
  ValidateValueInDomain(-3.5, kpi, "v", &violations);
  EXPECT_TRUE(violations.empty());
  kpi.value_domain = ValueDomain::kPercent;
  ValidateValueInDomain(100.5, kpi, "v", &violations);
  ASSERT_EQ(violations.size(), 1u);
  EXPECT_EQ(violations[0].description,
            "100.5 is outside 0 to 100, the range of a percentage "
            "(VALUE_DOMAIN_PERCENT)");
}

// ---- Running totals ---------------------------------------------------------

Kpi RunningTotal() {
  Kpi k;
  k.name = S("kpis/agribusiness-startups");
  k.display_name = "アグリビジネス起業数";
  k.kind = KpiKind::kRunningTotal;
  return k;
}

TEST(FindRunningTotalFallTest, RisingOrEqualSeriesDoNotFall) {
  const Kpi k = RunningTotal();
  EXPECT_THAT(FindRunningTotalFalls(k, {}), IsEmpty());
  EXPECT_THAT(FindRunningTotalFalls(k, {Obs("a", 2018, 93)}), IsEmpty());
  EXPECT_THAT(FindRunningTotalFalls(k, {Obs("a", 2021, 96), Obs("a", 2018, 93),
                                        Obs("a", 2019, 93)}),
              IsEmpty());
}

TEST(FindRunningTotalFallTest, FindsEveryFallInFiscalYearOrder) {
  const Kpi k = RunningTotal();
  // Given out of order; the years need not be adjacent.
  const std::vector<Observation> series = {
      Obs("a", 2022, 11), Obs("a", 2018, 10), Obs("a", 2020, 13),
      Obs("a", 2023, 9)};
  const std::vector<RunningTotalFall> falls = FindRunningTotalFalls(k, series);
  ASSERT_EQ(falls.size(), 2u);
  EXPECT_EQ(falls[0].earlier, 2u);  // FY2020: 13
  EXPECT_EQ(falls[0].later, 0u);    // FY2022: 11
  EXPECT_EQ(falls[1].earlier, 0u);  // FY2022: 11
  EXPECT_EQ(falls[1].later, 3u);    // FY2023: 9
}

TEST(FindRunningTotalFallTest, OnlyRunningTotalsAndSingleYears) {
  Kpi level = RunningTotal();
  level.kind = KpiKind::kLevel;
  EXPECT_THAT(
      FindRunningTotalFalls(level, {Obs("a", 2020, 13), Obs("a", 2021, 12)}),
      IsEmpty());
  // A range's value is a mean or a sum over years, not a total to date.
  EXPECT_THAT(FindRunningTotalFalls(RunningTotal(),
                                    {Obs("a", 2018, 100, 2016),
                                     Obs("a", 2019, 50), Obs("a", 2020, 60)}),
              IsEmpty());
}

TEST(FindRunningTotalFallTest,
     TheErrorNamesTheKpiYearsValuesAndWhatIsAccepted) {
  const absl::Status status =
      RunningTotalFallError(RunningTotal(), Obs("a", 2020, 13),
                            Obs("a", 2021, 12.5), "observations[4].value");
  EXPECT_THAT(status, StatusIs(absl::StatusCode::kInvalidArgument,
                               HasSubstr("observations[4].value")));
  const std::vector<base::FieldViolation> violations =
      base::GetFieldViolations(status);
  ASSERT_EQ(violations.size(), 1u);
  EXPECT_EQ(violations[0].field, "observations[4].value");
  EXPECT_THAT(violations[0].description,
              HasSubstr("strategies/asahikawa-2020/kpis/agribusiness-startups "
                        "(アグリビジネス起業数) is a running total"));
  EXPECT_THAT(violations[0].description,
              HasSubstr("from 13 in FY2020 to 12.5 in FY2021"));
  EXPECT_THAT(violations[0].description, HasSubstr("accepted: "));
}

}  // namespace
}  // namespace kpi::domain
