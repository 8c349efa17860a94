#include "lib/forecast/backtest.h"

#include <cstdio>
#include <fstream>
#include <sstream>

#include "absl/strings/str_split.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "lib/base/status_matchers.h"

namespace kpi::forecast {
namespace {

using ::kpi::testing::IsOk;
using ::kpi::testing::StatusIs;
using ::testing::HasSubstr;

std::string TempPath(const std::string& name) {
  const char* dir = std::getenv("TEST_TMPDIR");
  return std::string(dir != nullptr ? dir : "/tmp") + "/kpi_forecast_" + name;
}

void Write(const std::string& path, const std::string& text) {
  std::ofstream f(path, std::ios::binary | std::ios::trunc);
  f << text;
}

TEST(BacktestTest, WritesOneRowPerSeriesWindowAndTestYear) {
  const std::string data = TempPath("data.csv");
  const std::string out = TempPath("out.csv");
  Write(data,
        "series_id,split,t,year,value\n"
        "A,train,1,2001,10\nA,train,2,2002,11\nA,train,3,2003,12\n"
        "A,test,4,2004,13\nA,test,5,2005,14\n"
        "\"B\",\"train\",2,1991,5\nB,train,1,1990,4\nB,test,3,1992,6\n");
  BacktestOptions o;
  o.data_path = data;
  o.out_path = out;
  o.windows = {2, 3};
  int calls = 0;
  o.progress = [&](int done, int total) {
    ++calls;
    EXPECT_EQ(total, 2);
    EXPECT_EQ(done, calls);
  };
  absl::StatusOr<BacktestSummary> s = RunBacktest(o);
  ASSERT_THAT(s, IsOk());
  EXPECT_EQ(s->series, 2);
  EXPECT_EQ(s->projections, 4);
  std::ifstream f(out);
  std::stringstream text;
  text << f.rdbuf();
  std::vector<std::string> lines =
      absl::StrSplit(text.str(), '\n', absl::SkipEmpty());
  ASSERT_EQ(lines.size(), 1u + 2 * 2 + 2 * 1);
  EXPECT_EQ(lines[0],
            "series_id,k,h,q025,q10,q50,q90,q975,p090,p100,p110,p125");
  std::vector<std::string> row = absl::StrSplit(lines[1], ',');
  ASSERT_EQ(row.size(), 12u);
  EXPECT_EQ(row[0], "A");
  EXPECT_EQ(row[1], "2");
  EXPECT_EQ(row[2], "1");
  double p090, p125;
  ASSERT_TRUE(absl::SimpleAtod(row[8], &p090));
  ASSERT_TRUE(absl::SimpleAtod(row[11], &p125));
  EXPECT_GT(p090, p125);  // P(y >= 0.9 last) > P(y >= 1.25 last)
  // B's training rows came out of order; its window still ends at 1991.
  EXPECT_THAT(lines.back(), ::testing::StartsWith("B,3,1,"));
}

TEST(BacktestTest, ErrorsNameTheProblem) {
  const std::string data = TempPath("bad.csv");
  Write(data, "series_id,split,t,year,value\nA,train,1,2001,x\n");
  BacktestOptions o;
  o.data_path = data;
  o.out_path = TempPath("bad_out.csv");
  EXPECT_THAT(RunBacktest(o), StatusIs(absl::StatusCode::kInvalidArgument,
                                       HasSubstr(":2:value:")));
  o.windows = {0};
  EXPECT_THAT(RunBacktest(o), StatusIs(absl::StatusCode::kInvalidArgument,
                                       HasSubstr("windows: 0")));
  o.windows = {2};
  o.data_path = TempPath("missing.csv");
  EXPECT_THAT(RunBacktest(o), StatusIs(absl::StatusCode::kNotFound));
}

}  // namespace
}  // namespace kpi::forecast
