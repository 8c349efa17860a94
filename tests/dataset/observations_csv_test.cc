#include "lib/dataset/observations_csv.h"

#include <cmath>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "lib/base/field_violations.h"
#include "lib/base/status_matchers.h"
#include "lib/dataset/text_encoding.h"
#include "lib/domain/names.h"

namespace kpi::dataset {
namespace {

using domain::Aggregation;
using domain::Observation;
using domain::ObservationStatus;
using ::kpi::testing::IsOk;
using ::kpi::testing::StatusIs;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

constexpr char kChild[] = "strategies/asahikawa-2020/kpis/child-wellbeing";
constexpr char kAccess[] = "strategies/asahikawa-2020/kpis/website-page-views";
constexpr char kRate[] =
    "strategies/asahikawa-2020/kpis/disabled-employment-rate";

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

void ExpectSame(const Observation& a, const Observation& b) {
  EXPECT_EQ(a.name, b.name);
  EXPECT_EQ(a.fiscal_year, b.fiscal_year) << a.name;
  EXPECT_EQ(a.first_fiscal_year, b.first_fiscal_year) << a.name;
  EXPECT_EQ(a.aggregation, b.aggregation) << a.name;
  EXPECT_EQ(a.value, b.value) << a.name;
  EXPECT_EQ(std::signbit(a.value), std::signbit(b.value)) << a.name;
  EXPECT_EQ(a.status, b.status) << a.name;
  EXPECT_EQ(a.source_note, b.source_note) << a.name;
  EXPECT_EQ(a.reported_fiscal_year, b.reported_fiscal_year) << a.name;
}

TEST(ParseObservationsCsvTest, ReadsEveryWrittenForm) {
  // Columns out of order, CRLF, era labels, separators, full-width digits.
  const std::string text =
      "value,fiscal_year,kpi,status,aggregation,source_note,"
      "reported_fiscal_year\r\n"
      "50.6,令和3年度," +
      std::string(kChild) +
      ",final,,,R3\r\n"
      "59.9,R1," +
      std::string(kChild) +
      ",,,\"令和元年度, 市民アンケート\",\r\n"
      "55.5,H27," +
      std::string(kChild) +
      ",Final,,,\r\n"
      "\"1,669\",平成28-30年度," +
      std::string(kAccess) +
      ",,mean,平均値,\r\n"
      "\"3,182\",2021," +
      std::string(kAccess) +
      ",provisional,,,2021\r\n"
      "２．６７,ＦＹ２０２１," +
      std::string(kRate) +
      ",OBSERVATION_STATUS_CARRIED_OVER,,\"令和2年度実績 "
      "※令和3年度分は9月頃確定予定\",令和3年度\r\n"
      ",,,,,,\r\n";
  absl::StatusOr<std::vector<ObservationRow>> rows =
      ParseObservationRows(text, "obs.csv");
  ASSERT_THAT(rows, IsOk());
  ASSERT_EQ(rows->size(), 6u);
  const Observation& fy2021 = (*rows)[0].observation;
  EXPECT_EQ((*rows)[0].line, 2);
  EXPECT_EQ((*rows)[0].kpi, kChild);
  EXPECT_EQ(fy2021.name, std::string(kChild) + "/observations/fy2021");
  EXPECT_EQ(fy2021.fiscal_year, 2021);
  EXPECT_EQ(fy2021.first_fiscal_year, 0);
  EXPECT_EQ(fy2021.value, 50.6);
  EXPECT_EQ(fy2021.status, ObservationStatus::kFinal);
  EXPECT_EQ(fy2021.reported_fiscal_year, 2021);

  const Observation& r1 = (*rows)[1].observation;
  EXPECT_EQ(r1.name, std::string(kChild) + "/observations/fy2019");
  EXPECT_EQ(r1.value, 59.9);
  EXPECT_EQ(r1.status, ObservationStatus::kUnspecified);
  EXPECT_EQ(r1.source_note, "令和元年度, 市民アンケート");
  EXPECT_EQ(r1.reported_fiscal_year, 0);

  EXPECT_EQ((*rows)[2].observation.fiscal_year, 2015);

  const Observation& mean = (*rows)[3].observation;
  EXPECT_EQ(mean.name, std::string(kAccess) + "/observations/fy2016-2018");
  EXPECT_EQ(mean.first_fiscal_year, 2016);
  EXPECT_EQ(mean.fiscal_year, 2018);
  EXPECT_EQ(mean.aggregation, Aggregation::kMean);
  EXPECT_EQ(mean.value, 1669);
  EXPECT_EQ(mean.source_note, "平均値");

  EXPECT_EQ((*rows)[4].observation.value, 3182);
  EXPECT_EQ((*rows)[4].observation.status, ObservationStatus::kProvisional);

  const Observation& rate = (*rows)[5].observation;
  EXPECT_EQ(rate.name, std::string(kRate) + "/observations/fy2021");
  EXPECT_EQ(rate.value, 2.67);
  EXPECT_EQ(rate.status, ObservationStatus::kCarriedOver);
  EXPECT_EQ(rate.source_note, "令和2年度実績 ※令和3年度分は9月頃確定予定");
  EXPECT_EQ(rate.reported_fiscal_year, 2021);
}

TEST(ParseObservationsCsvTest, ValueForms) {
  struct Case {
    const char* cell;
    double value;
  } good[] = {
      {"1669", 1669},
      {"1,669", 1669},
      {"1,234,567", 1234567},
      {"12,345.5", 12345.5},
      {"０．１", 0.1},
      {"１，６６９", 1669},
      {"-3", -3},
      {"－3.5", -3.5},
      {"0", 0},
      {" 42 ", 42},
      {"1e-7", 1e-7},
      {"2.5E+3", 2500},
      {"0.30000000000000004", 0.30000000000000004},
  };
  for (const Case& c : good) {
    const std::string text = std::string("kpi,fiscal_year,value\n") + kChild +
                             ",2021,\"" + c.cell + "\"\n";
    absl::StatusOr<std::vector<Observation>> obs =
        ParseObservationsCsv(text, "v.csv");
    ASSERT_THAT(obs, IsOk()) << c.cell;
    EXPECT_EQ((*obs)[0].value, c.value) << c.cell;
  }
  struct Bad {
    const char* cell;
    const char* message;
  } bad[] = {
      {"1,2,3",
       "\"1,2,3\" has thousands separators out of place: commas must "
       "separate groups of three digits (1,669 or 1,234,567)"},
      {"12,34", "thousands separators out of place"},
      {"1234,567", "thousands separators out of place"},
      {"1,669,", "thousands separators out of place"},
      {",669", "is not a number"},
      {"abc", "\"abc\" is not a number; accepted: a decimal number"},
      {"50.6%", "is not a number"},
      {"５０．６％", "is not a number"},
      {"1,669人", "is not a number"},
      {"+5", "is not a number"},
      {".5", "is not a number"},
      {"5.", "is not a number"},
      {"nan", "is not a number"},
      {"inf", "is not a number"},
      {"1e999", "is out of the range of a number"},
      {"", "required"},
      {"—", "is not a number"},
  };
  for (const Bad& c : bad) {
    const std::string text = std::string("kpi,fiscal_year,value\n") + kChild +
                             ",2021,\"" + c.cell + "\"\n";
    absl::Status status = ParseObservationsCsv(text, "v.csv").status();
    EXPECT_THAT(Fields(status), ElementsAre("v.csv:2:value")) << c.cell;
    EXPECT_THAT(Description(status, "v.csv:2:value"), HasSubstr(c.message))
        << c.cell;
  }
}

TEST(ParseObservationsCsvTest, BadFilesOfIssue3) {
  const std::string k = kChild;
  struct Case {
    std::string what;
    std::string text;
    std::vector<std::string> fields;
    std::string description;  // of the first violation
  } cases[] = {
      {"missing column",
       "kpi,fiscal_year,status\n" + k + ",2021,final\n",
       {"f.csv:1:value"},
       "required column \"value\" is missing; required: kpi, fiscal_year, "
       "value"},
      {"unknown column",
       "kpi,fiscal_year,value,note\n" + k + ",2021,1,x\n",
       {"f.csv:1"},
       "unknown column \"note\" (column 4); accepted columns: kpi,"
       "kpi_display_name,unit,fiscal_year,fiscal_year_label,"
       "first_fiscal_year,aggregation,"
       "value,status,source_note,reported_fiscal_year"},
      {"column twice",
       "kpi,value,fiscal_year,Value\n",
       {"f.csv:1:value"},
       "column given twice (columns 2 and 4)"},
      {"era year 0",
       "kpi,fiscal_year,value\n" + k + ",令和0年度,50.6\n",
       {"f.csv:2:fiscal_year"},
       "\"令和0年度\" is not a fiscal year: 令和 years start at 1 (元年)"},
      {"value 1,2,3",
       "kpi,fiscal_year,value\n" + k + ",R3,\"1,2,3\"\n",
       {"f.csv:2:value"},
       "thousands separators out of place"},
      {"duplicate observation",
       "kpi,fiscal_year,value\n" + k + ",R3,50.6\n" + k + ",R1,59.9\n" + k +
           ",2021,50.7\n",
       {"f.csv:4:fiscal_year"},
       "lines 2 and 4 both give the observation " + k +
           "/observations/fy2021 (the same KPI and period); keep one"},
      {"non-numeric value",
       "kpi,fiscal_year,value\n" + k + ",R3,不明\n",
       {"f.csv:2:value"},
       "\"不明\" is not a number"},
      {"unknown status",
       "kpi,fiscal_year,value,status\n" + k + ",R3,1,確定済\n",
       {"f.csv:2:status"},
       "\"確定済\" is not a status; accepted: FINAL (確定値, 確定, "},
      {"unknown aggregation",
       "kpi,fiscal_year,value,aggregation\n" + k + ",H28-30,1,median\n",
       {"f.csv:2:aggregation"},
       "\"median\" is not an aggregation; accepted: MEAN (AVERAGE, 平均, "
       "平均値); SUM (TOTAL, 合計, "},
      {"era label contradicting the year",
       "kpi,fiscal_year,fiscal_year_label,value\n" + k + ",2021,令和2年度,1\n",
       {"f.csv:2:fiscal_year_label"},
       "\"令和2年度\" (令和2年度) contradicts fiscal_year \"2021\" "
       "(令和3年度)"},
      {"range without aggregation",
       "kpi,fiscal_year,value\n" + k + ",平成28-30年度,1669\n",
       {"f.csv:2:aggregation"},
       "required for a range of years (2016 to 2018)"},
      {"first year contradicts the range",
       "kpi,fiscal_year,first_fiscal_year,value,aggregation\n" + k +
           ",H28-30,2017,1,mean\n",
       {"f.csv:2:first_fiscal_year"},
       "2017 contradicts fiscal_year \"H28-30\" (2016 to 2018); leave it "
       "blank or give 2016"},
      {"not a KPI name",
       "kpi,fiscal_year,value\nchild-wellbeing,R3,1\n",
       {"f.csv:2:kpi"},
       "is not a kpi name"},
      {"cells missing",
       "kpi,fiscal_year,value\n" + k + ",R3\n",
       {"f.csv:2"},
       "2 cells, but the header has 3 columns"},
      {"CSV syntax",
       "kpi,fiscal_year,value\n" + k + ",R3,\"1\n",
       {"f.csv:2"},
       "never closed"},
      {"not UTF-8",
       "kpi,fiscal_year,value\n" + k + ",R3,1\n\x88\xAE\n",
       {"f.csv:3"},
       "byte 74 is not UTF-8; read the file through DecodeText"},
      {"empty", "", {"f.csv:1"}, "empty; the first line must be the header"},
  };
  for (const Case& c : cases) {
    absl::Status status = ParseObservationsCsv(c.text, "f.csv").status();
    EXPECT_THAT(status, StatusIs(absl::StatusCode::kInvalidArgument,
                                 HasSubstr("f.csv: invalid observations CSV")))
        << c.what;
    EXPECT_EQ(Fields(status), c.fields) << c.what << "\n" << status;
    ASSERT_FALSE(base::GetFieldViolations(status).empty()) << c.what;
    EXPECT_THAT(base::GetFieldViolations(status)[0].description,
                HasSubstr(c.description))
        << c.what;
  }
}

TEST(ParseObservationsCsvTest, ReportsEveryProblemNotJustTheFirst) {
  const std::string k = kChild;
  const std::string text = "kpi,fiscal_year,value,status\n" +  // 1
                           k + ",令和0年度,1,final\n" +        // 2
                           k + ",R3,\"1,2,3\",maybe\n" +       // 3
                           k + ",R2,1\n" +                     // 4
                           k + ",R1,1,final\n" +               // 5
                           k + ",2019,2,final\n";              // 6
  EXPECT_THAT(Fields(ParseObservationsCsv(text, "f.csv").status()),
              ElementsAre("f.csv:2:fiscal_year", "f.csv:3:value",
                          "f.csv:3:status", "f.csv:4", "f.csv:6:fiscal_year"));
}

TEST(ParseObservationsCsvTest, HeaderOnlyAndBom) {
  absl::StatusOr<std::vector<Observation>> none =
      ParseObservationsCsv("kpi,fiscal_year,value\n", "f.csv");
  ASSERT_THAT(none, IsOk());
  EXPECT_TRUE(none->empty());
  absl::StatusOr<std::vector<Observation>> one = ParseObservationsCsv(
      "\xEF\xBB\xBF KPI ,Fiscal_Year,value\n" + std::string(kChild) + ",R3,1",
      "f.csv");
  ASSERT_THAT(one, IsOk());
  EXPECT_EQ((*one)[0].fiscal_year, 2021);
}

domain::Dataset RoundTripDataset() {
  domain::Dataset d;
  domain::Kpi child;
  child.name = kChild;
  child.display_name = "子どもたちが健やかに成長していると感じる市民の割合";
  child.unit = "%";
  d.kpis.push_back(child);
  domain::Kpi access;
  access.name = kAccess;
  access.display_name = "ホームページアクセス(全ページ合計)件数";
  access.unit = "万件";
  d.kpis.push_back(access);

  const auto obs = [&](const std::string& kpi, int first, int year,
                       double value) {
    Observation o;
    o.name = kpi + "/observations/" + domain::FiscalYearId(first, year);
    o.first_fiscal_year = first;
    o.fiscal_year = year;
    o.value = value;
    d.observations.push_back(o);
    return &d.observations.back();
  };
  obs(kChild, 0, 2015, 55.5)->source_note = "H27・55.5%";
  obs(kChild, 0, 2017, 58.1)->status = ObservationStatus::kFinal;
  obs(kChild, 0, 2021, 50.6)->reported_fiscal_year = 2021;
  Observation* mean = obs(kAccess, 2016, 2018, 1669);
  mean->aggregation = Aggregation::kMean;
  mean->source_note = "1,669 (平成28-30年度の平均値)";
  Observation* tricky = obs(kAccess, 0, 2021, 3182);
  tricky->status = ObservationStatus::kProvisional;
  tricky->reported_fiscal_year = 2022;
  tricky->source_note =
      "令和2年度実績, \"速報値\"\n※令和3年度分は9月頃確定予定\r\n 末尾 ";
  obs(kAccess, 2019, 2019, 0.1 + 0.2)->status = ObservationStatus::kCarriedOver;
  // Values whose shortest form needs many digits or an exponent, and one
  // whose KPI is not in the dataset.
  obs(kAccess, 0, 2022, 1.0 / 3.0);
  obs(kAccess, 0, 2023, 1e-7);
  obs(kAccess, 0, 2024, -987654321098765.4);
  obs(kAccess, 0, 2025, -0.0);
  obs("strategies/s/kpis/k", 0, 2020, 2.67)->source_note = ",";
  return d;
}

TEST(WriteObservationsCsvTest, RoundTripsExactly) {
  const domain::Dataset d = RoundTripDataset();
  const std::string csv = WriteObservationsCsv(d);
  absl::StatusOr<std::vector<Observation>> back =
      ParseObservationsCsv(csv, "export.csv");
  ASSERT_THAT(back, IsOk()) << csv;
  ASSERT_EQ(back->size(), d.observations.size());
  for (size_t i = 0; i < back->size(); ++i) {
    ExpectSame((*back)[i], d.observations[i]);
  }
  // And the text is stable: writing what was read gives the same bytes.
  domain::Dataset again = d;
  again.observations = *back;
  EXPECT_EQ(WriteObservationsCsv(again), csv);
}

TEST(WriteObservationsCsvTest, JapaneseRoundTripsExactly) {
  const domain::Dataset d = RoundTripDataset();
  ObservationsCsvOptions japanese;
  japanese.japanese = true;
  const std::string csv = WriteObservationsCsv(d, japanese);
  EXPECT_THAT(csv, HasSubstr("kpi,kpi_display_name,unit,fiscal_year,"
                             "fiscal_year_label,first_fiscal_year,"));
  EXPECT_THAT(csv, HasSubstr(",万件,2018,平成28-30年度,2016,平均,1669,,"));
  EXPECT_THAT(csv, HasSubstr(",%,2017,平成29年度,,,58.1,確定値,,"));
  EXPECT_THAT(csv, HasSubstr(",万件,2021,令和3年度,,,3182,暫定値,"));
  EXPECT_THAT(csv, HasSubstr(",万件,2019,令和元年度,2019,,"
                             "0.30000000000000004,据置,,"));
  absl::StatusOr<std::vector<Observation>> back =
      ParseObservationsCsv(csv, "export-ja.csv");
  ASSERT_THAT(back, IsOk()) << csv;
  ASSERT_EQ(back->size(), d.observations.size());
  for (size_t i = 0; i < back->size(); ++i) {
    ExpectSame((*back)[i], d.observations[i]);
  }
}

TEST(ParseObservationsCsvTest, JapaneseStatusWords) {
  const std::string k = kChild;
  const std::string text = "kpi,fiscal_year,value,status\n" +  // 1
                           k + ",R1,1,確報値\n" +              // 2
                           k + ",R2,1,（速報値）\n" +          // 3
                           k + ",R3,1,見込み\n" +              // 4
                           k + ",R4,1,【据置】\n" +            // 5
                           k + ",R5,1,　推計　\n" +            // 6
                           k + ",R6,1,carried over\n";         // 7
  absl::StatusOr<std::vector<Observation>> rows =
      ParseObservationsCsv(text, "ja.csv");
  ASSERT_THAT(rows, IsOk());
  std::vector<ObservationStatus> statuses;
  for (const Observation& o : *rows) statuses.push_back(o.status);
  EXPECT_THAT(statuses, ElementsAre(ObservationStatus::kFinal,
                                    ObservationStatus::kProvisional,
                                    ObservationStatus::kProvisional,
                                    ObservationStatus::kCarriedOver,
                                    ObservationStatus::kProvisional,
                                    ObservationStatus::kCarriedOver));
}

TEST(WriteObservationsCsvTest, ExactText) {
  const domain::Dataset d = RoundTripDataset();
  const std::string csv = WriteObservationsCsv(d);
  const std::string k = kChild;
  const std::string a = kAccess;
  EXPECT_EQ(
      csv,
      "kpi,kpi_display_name,unit,fiscal_year,first_fiscal_year,aggregation,"
      "value,status,source_note,reported_fiscal_year\n" +
          k +
          ",子どもたちが健やかに成長していると感じる市民の割合,%,2015,,,"
          "55.5,,H27・55.5%,\n" +
          k +
          ",子どもたちが健やかに成長していると感じる市民の割合,%,2017,,,"
          "58.1,FINAL,,\n" +
          k +
          ",子どもたちが健やかに成長していると感じる市民の割合,%,2021,,,"
          "50.6,,,2021\n" +
          a +
          ",ホームページアクセス(全ページ合計)件数,万件,2018,2016,MEAN,"
          "1669,,\"1,669 (平成28-30年度の平均値)\",\n" +
          a +
          ",ホームページアクセス(全ページ合計)件数,万件,2021,,,3182,"
          "PROVISIONAL,\"令和2年度実績, \"\"速報値\"\"\n"
          "※令和3年度分は9月頃確定予定\r\n 末尾 \",2022\n" +
          a +
          ",ホームページアクセス(全ページ合計)件数,万件,2019,2019,,"
          "0.30000000000000004,CARRIED_OVER,,\n" +
          a +
          ",ホームページアクセス(全ページ合計)件数,万件,2022,,,"
          "0.3333333333333333,,,\n" +
          a + ",ホームページアクセス(全ページ合計)件数,万件,2023,,,1e-07,,,\n" +
          a +
          ",ホームページアクセス(全ページ合計)件数,万件,2024,,,"
          "-987654321098765.4,,,\n" +
          a +
          ",ホームページアクセス(全ページ合計)件数,万件,2025,,,-0,,,\n"
          "strategies/s/kpis/k,,,2020,,,2.67,,\",\",\n");
}

TEST(ReadCsvFileTest, Cp932FileEndToEnd) {
  // 障がい者の雇用率,令和3年度,2.67 as a Windows spreadsheet saves it.
  const std::string bytes =
      "kpi,kpi_display_name,fiscal_year,value\r\n" + std::string(kRate) +
      ",\x8F\xE1\x82\xAA\x82\xA2\x8E\xD2\x82\xCC\x8C\xD9\x97\x70\x97\xA6,"
      "\x97\xDF\x98\x61\x82\x52\x94\x4E\x93\x78,2.67\r\n";
  absl::StatusOr<DecodedText> text = DecodeText(bytes, "sjis.csv");
  ASSERT_THAT(text, IsOk());
  EXPECT_EQ(text->encoding, TextEncoding::kCp932);
  absl::StatusOr<std::vector<ObservationRow>> rows =
      ParseObservationRows(text->text, "sjis.csv");
  ASSERT_THAT(rows, IsOk());
  ASSERT_EQ(rows->size(), 1u);
  EXPECT_EQ((*rows)[0].kpi_display_name, "障がい者の雇用率");
  EXPECT_EQ((*rows)[0].observation.fiscal_year, 2021);
  EXPECT_EQ((*rows)[0].observation.value, 2.67);
}

TEST(CheckRowsAgainstKpisTest, UnknownKpiNameUnitAndDomain) {
  const domain::Dataset d = RoundTripDataset();
  const std::string k = kChild;
  const std::string text =
      "kpi,kpi_display_name,unit,fiscal_year,value\n" + k +
      ",子どもたちが健やかに成長していると感じる市民の割合,%,R3,50.6\n" + k +
      ",,,R2,150\n" + "strategies/asahikawa-2020/kpis/bus-rides,,,R3,3\n" + k +
      ",子育て,人,R1,59.9\n";
  absl::StatusOr<std::vector<ObservationRow>> rows =
      ParseObservationRows(text, "f.csv");
  ASSERT_THAT(rows, IsOk());
  const absl::Status status = CheckRowsAgainstKpis(*rows, d.kpis, "f.csv");
  EXPECT_THAT(Fields(status),
              ElementsAre("f.csv:3:value", "f.csv:4:kpi",
                          "f.csv:5:kpi_display_name", "f.csv:5:unit"));
  EXPECT_THAT(Description(status, "f.csv:3:value"),
              HasSubstr("150 is outside 0 to 100"));
  EXPECT_EQ(Description(status, "f.csv:4:kpi"),
            "no KPI named strategies/asahikawa-2020/kpis/bus-rides is stored "
            "or imported");
  EXPECT_THAT(Description(status, "f.csv:5:unit"),
              HasSubstr("\"人\" is not the unit of " + k +
                        ", which is "
                        "\"%\""));
  rows->erase(rows->begin() + 1, rows->end());
  EXPECT_THAT(CheckRowsAgainstKpis(*rows, d.kpis, "f.csv"), IsOk());
}

// Found by tests/fuzz/csv_import_fuzzer: cells and column names were quoted
// whole, and an unknown column's name was the violation's path.
TEST(ParseObservationsCsvTest, QuotesAShortPrefixOfLongCells) {
  const std::string column(3000, 'x');
  absl::StatusOr<std::vector<Observation>> parsed = ParseObservationsCsv(
      "kpi,fiscal_year,value," + column + "\n" + kChild + ",R3,1,2\n", "f.csv");
  EXPECT_THAT(parsed, StatusIs(absl::StatusCode::kInvalidArgument,
                               HasSubstr("…\" (3000 bytes) (column 4)")));
  EXPECT_THAT(Fields(parsed.status()), ElementsAre("f.csv:1"));
  EXPECT_LT(parsed.status().message().size(), 600u);

  std::string value;
  for (int i = 0; i < 1000; ++i) value += "１";
  parsed = ParseObservationsCsv(
      std::string("kpi,fiscal_year,value\n") + kChild + ",R3," + value + "x\n",
      "f.csv");
  EXPECT_THAT(Description(parsed.status(), "f.csv:2:value"),
              HasSubstr("…\" (3001 bytes) is not a number"));
}

}  // namespace
}  // namespace kpi::dataset
