#include "lib/dataset/csv.h"

#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace kpi::dataset {
namespace {

using ::testing::ElementsAre;

TEST(ParseCsvTest, Rfc4180Quoting) {
  const std::string text =
      "a,b,c\n"
      "1,\"x, y\",\"say \"\"hi\"\"\"\r\n"
      "2,\"multi\nline\",z\r\n"
      "\n"
      "3,,\n"
      "\"\",\"旭川,市\",end";
  std::vector<base::FieldViolation> violations;
  std::vector<CsvRecord> records = ParseCsv(text, "t.csv", &violations);
  EXPECT_TRUE(violations.empty());
  ASSERT_EQ(records.size(), 5u);
  EXPECT_EQ(records[0].line, 1);
  EXPECT_THAT(records[0].fields, ElementsAre("a", "b", "c"));
  EXPECT_EQ(records[1].line, 2);
  EXPECT_THAT(records[1].fields, ElementsAre("1", "x, y", "say \"hi\""));
  EXPECT_EQ(records[2].line, 3);
  EXPECT_THAT(records[2].fields, ElementsAre("2", "multi\nline", "z"));
  EXPECT_EQ(records[3].line, 6);
  EXPECT_THAT(records[3].fields, ElementsAre("3", "", ""));
  EXPECT_EQ(records[4].line, 7);
  EXPECT_THAT(records[4].fields, ElementsAre("", "旭川,市", "end"));
}

TEST(ParseCsvTest, ReportsEverySyntaxProblemWithItsLine) {
  const std::string text =
      "a,b\n"
      "1,x\"y\n"
      "2,\"x\"y\n"
      "3,a\rb\n"
      "4,ok\n"
      "5,\"never closed\n"
      "6,z\n";
  std::vector<base::FieldViolation> violations;
  std::vector<CsvRecord> records = ParseCsv(text, "t.csv", &violations);
  ASSERT_EQ(violations.size(), 4u);
  EXPECT_EQ(violations[0].field, "t.csv:2");
  EXPECT_THAT(violations[0].description,
              ::testing::HasSubstr("a double quote inside an unquoted field"));
  EXPECT_EQ(violations[1].field, "t.csv:3");
  EXPECT_THAT(violations[1].description,
              ::testing::HasSubstr("text after a closing quote"));
  EXPECT_EQ(violations[2].field, "t.csv:4");
  EXPECT_THAT(violations[2].description,
              ::testing::HasSubstr("carriage return"));
  EXPECT_EQ(violations[3].field, "t.csv:6");
  EXPECT_THAT(violations[3].description, ::testing::HasSubstr("never closed"));
  ASSERT_EQ(records.size(), 6u);
  EXPECT_FALSE(records[0].malformed);
  EXPECT_TRUE(records[1].malformed);
  EXPECT_TRUE(records[3].malformed);
  EXPECT_FALSE(records[4].malformed);
  EXPECT_THAT(records[4].fields, ElementsAre("4", "ok"));
  EXPECT_TRUE(records[5].malformed);
}

TEST(AppendCsvRecordTest, QuotesOnlyWhenNeededAndRoundTrips) {
  const std::vector<std::vector<std::string>> rows = {
      {"plain", "旭川市", "1,669", "say \"hi\"", "a\nb", "c\r\nd", "", " s "},
      {""},
      {"", ""},
  };
  std::string out;
  for (const auto& row : rows) AppendCsvRecord(row, &out);
  EXPECT_EQ(out,
            "plain,旭川市,\"1,669\",\"say \"\"hi\"\"\",\"a\nb\",\"c\r\nd\",, s "
            "\n\"\"\n,\n");
  std::vector<base::FieldViolation> violations;
  std::vector<CsvRecord> records = ParseCsv(out, "t.csv", &violations);
  EXPECT_TRUE(violations.empty());
  ASSERT_EQ(records.size(), rows.size());
  for (size_t i = 0; i < rows.size(); ++i) {
    EXPECT_EQ(records[i].fields, rows[i]) << i;
  }
}

}  // namespace
}  // namespace kpi::dataset
