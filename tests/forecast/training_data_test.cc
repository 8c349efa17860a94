#include "lib/forecast/training_data.h"

#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "lib/base/status_matchers.h"

namespace kpi::forecast {
namespace {

using ::kpi::testing::IsOk;
using ::kpi::testing::StatusIs;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

TEST(TrainingCsvTest, LongFormatReadsOnlyTrainRowsInTheirOrder) {
  // Rows in any order, quoted fields, CRLF; the test rows hold text that is
  // not a number at all: they are skipped before their values are read.
  absl::StatusOr<TrainingData> d = ParseTrainingCsv(
      "series_id,split,t,year,value\r\n"
      "A,train,2,2002,11\r\n"
      "A,test,4,2004,not-a-number\r\n"
      "\"A\",\"train\",1,2001,10\r\n"
      "A,train,3,2003,12.5\r\n"
      "B,train,1,1990,-4\r\n"
      "B,train,2,1991,5\r\n"
      "B,TEST,3,,\r\n",
      "m.csv");
  ASSERT_THAT(d, IsOk());
  ASSERT_EQ(d->series.size(), 2u);
  EXPECT_EQ(d->series[0].id, "A");
  EXPECT_THAT(d->series[0].years, ElementsAre(2001, 2002, 2003));
  EXPECT_THAT(d->series[0].values, ElementsAre(10, 11, 12.5));
  EXPECT_EQ(d->series[0].value_domain, domain::ValueDomain::kNonNegative);
  EXPECT_EQ(d->series[1].id, "B");
  EXPECT_THAT(d->series[1].values, ElementsAre(-4, 5));
  EXPECT_EQ(d->series[1].value_domain, domain::ValueDomain::kReal);
  EXPECT_EQ(d->rows_read, 5);
  EXPECT_EQ(d->test_rows_skipped, 2);
}

TEST(TrainingCsvTest, BatchFormatIgnoresTargetsAndOrdersByYear) {
  absl::StatusOr<TrainingData> d = ParseTrainingCsv(
      "\xEF\xBB\xBFSeries_ID,Fiscal_Year,Value,target_value,target_year\n"
      "x,2019,3,9,2024\n"
      "x,2015,1,9,2024\n"
      "x,2017,2,,\n",
      "batch.csv");
  ASSERT_THAT(d, IsOk());
  ASSERT_EQ(d->series.size(), 1u);
  EXPECT_THAT(d->series[0].years, ElementsAre(2015, 2017, 2019));
  EXPECT_THAT(d->series[0].values, ElementsAre(1, 2, 3));
  EXPECT_EQ(d->test_rows_skipped, 0);
}

TEST(TrainingCsvTest, ErrorsNameTheLineColumnAndWhatIsAccepted) {
  const struct {
    const char* text;
    const char* expected;
  } cases[] = {
      {"", "empty"},
      {"id,year,value\n", "the header lacks series_id"},
      {"series_id,value\n", "lacks year"},
      {"series_id,split,t,year,value\nA,valid,1,2000,1\n",
       "f.csv:2:split: \"valid\"; expected train or test"},
      {"series_id,year,value\nA,20x0,1\n",
       "f.csv:2:year: \"20x0\" is not an integer year"},
      {"series_id,year,value\nA,2000,inf\n",
       "f.csv:2:value: \"inf\" is not a finite number"},
      {"series_id,year,value\nA,2000,1\nA,2000,2\n",
       "f.csv:3:year: series \"A\" has a row with the same year on line 2"},
      {"series_id,split,t,year,value\nA,train,1,2001,1\nA,train,2,2000,2\n",
       "f.csv:3:year: series \"A\": year 2000 does not follow year 2001"},
      {"series_id,year,value\nA,2000\n", "f.csv:2:row: 2 fields"},
      {"series_id,year,value\n,2000,1\n", "f.csv:2:series_id: empty"},
      {"series_id,year,value\n\"A,2000,1\n", "not a readable CSV file"},
  };
  for (const auto& c : cases) {
    EXPECT_THAT(
        ParseTrainingCsv(c.text, "f.csv"),
        StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr(c.expected)))
        << c.text;
  }
}

TEST(TrainingCsvTest, RefusesSeriesIdsOverTheLimit) {
  const std::string id(kMaxTrainingSeriesIdBytes + 1, 'a');
  EXPECT_THAT(
      ParseTrainingCsv("series_id,year,value\n" + id + ",2000,1\n", "f.csv"),
      StatusIs(absl::StatusCode::kInvalidArgument,
               HasSubstr("longer than 256 bytes")));
}

}  // namespace
}  // namespace kpi::forecast
