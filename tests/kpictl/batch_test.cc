#include "services/kpictl/batch.h"

#include <algorithm>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/synchronization/mutex.h"
#include "gmock/gmock.h"
#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"
#include "lib/base/status_matchers.h"

namespace kpi::kpictl {
namespace {

using ::kpi::testing::IsOk;
using ::kpi::testing::StatusIs;
using ::testing::AllOf;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Pair;

std::vector<std::vector<std::string>> ReadAll(const std::string& text,
                                              std::vector<int>* lines,
                                              size_t buffer_bytes = 1 << 16) {
  std::istringstream in(text);
  CsvReader reader(&in, buffer_bytes);
  std::vector<std::vector<std::string>> records;
  std::vector<std::string> fields;
  while (true) {
    absl::StatusOr<bool> got = reader.Next(&fields);
    EXPECT_THAT(got, IsOk());
    if (!got.ok() || !*got) break;
    records.push_back(fields);
    if (lines != nullptr) lines->push_back(reader.line());
  }
  return records;
}

TEST(CsvReaderTest, QuotesLineBreaksAndBom) {
  std::vector<int> lines;
  const auto records = ReadAll(
      "\xEF\xBB\xBF"
      "a,b\r\n\"x,1\",\"say \"\"hi\"\"\"\n\"two\nlines\",\n旭川,",
      &lines);
  ASSERT_EQ(records.size(), 4u);
  EXPECT_THAT(records[0], ElementsAre("a", "b"));
  EXPECT_THAT(records[1], ElementsAre("x,1", "say \"hi\""));
  EXPECT_THAT(records[2], ElementsAre("two\nlines", ""));
  EXPECT_THAT(records[3], ElementsAre("旭川", ""));
  EXPECT_THAT(lines, ElementsAre(1, 2, 3, 5));
}

TEST(CsvReaderTest, BlockBoundariesDoNotMatter) {
  // Every quoting case, with CRLF, a BOM and multi-byte UTF-8, read with
  // blocks so small that every construct straddles a boundary somewhere.
  const std::string text =
      "\xEF\xBB\xBF"
      "id,v\r\n\"x,1\",\"say \"\"hi\"\"\"\r\n\"two\nlines\",\n旭川市,12.5\r\n"
      "plain,\"\"\nlast,\"q\"";
  std::vector<int> expected_lines;
  const auto expected = ReadAll(text, &expected_lines);
  ASSERT_EQ(expected.size(), 6u);
  EXPECT_THAT(expected[1], ElementsAre("x,1", "say \"hi\""));
  EXPECT_THAT(expected[3], ElementsAre("旭川市", "12.5"));
  EXPECT_THAT(expected[5], ElementsAre("last", "q"));
  for (size_t bytes = 1; bytes <= 9; ++bytes) {
    std::vector<int> lines;
    EXPECT_EQ(ReadAll(text, &lines, bytes), expected) << bytes;
    EXPECT_EQ(lines, expected_lines) << bytes;
  }
}

TEST(CsvReaderTest, KeepsBytesThatOnlyStartLikeABom) {
  // U+FF01 FULLWIDTH EXCLAMATION MARK is EF BC 81.
  const auto records = ReadAll("\xEF\xBC\x81,x\n", nullptr);
  ASSERT_EQ(records.size(), 1u);
  EXPECT_THAT(records[0], ElementsAre("\xEF\xBC\x81", "x"));
}

TEST(CsvReaderTest, RejectsBadQuoting) {
  for (const char* text : {"a,\"open\nnever closed", "a,\"x\"y\n"}) {
    std::istringstream in(text);
    CsvReader reader(&in);
    std::vector<std::string> fields;
    EXPECT_THAT(
        reader.Next(&fields),
        StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("line ")))
        << text;
  }
}

std::vector<BatchSeries> ReadSeries(const std::string& text,
                                    bool* has_target = nullptr) {
  std::istringstream in(text);
  auto reader = SeriesCsvReader::Create(&in, "s.csv");
  EXPECT_THAT(reader, IsOk());
  std::vector<BatchSeries> out;
  if (!reader.ok()) return out;
  if (has_target != nullptr) *has_target = (*reader)->has_target_columns();
  while (true) {
    auto next = (*reader)->Next();
    EXPECT_THAT(next, IsOk());
    if (!next.ok() || !next->has_value()) break;
    out.push_back(**next);
  }
  return out;
}

TEST(SeriesCsvReaderTest, GroupsContiguousRowsWithTargets) {
  bool has_target = false;
  const auto series = ReadSeries(
      "Series_ID,year,value,target_value,target_year,extra\n"
      "a,2019,10,,,x\n"
      "a,2020,12.5,15,2024,y\n"
      "\n"
      "b,2018,3,,,\n"
      "b,2020,4,,,\n",
      &has_target);
  EXPECT_TRUE(has_target);
  ASSERT_EQ(series.size(), 2u);
  EXPECT_EQ(series[0].series_id, "a");
  EXPECT_EQ(series[0].line, 2);
  EXPECT_THAT(series[0].points,
              ElementsAre(Pair(2019, 10.0), Pair(2020, 12.5)));
  EXPECT_EQ(series[0].target_value, 15.0);
  EXPECT_EQ(series[0].target_year, 2024);
  EXPECT_THAT(series[0].status, IsOk());
  EXPECT_EQ(series[1].series_id, "b");
  EXPECT_EQ(series[1].line, 5);
  EXPECT_FALSE(series[1].target_value.has_value());
  EXPECT_EQ(series[1].target_year, 0);
  EXPECT_THAT(series[1].Last(), Pair(2020, 4.0));
}

TEST(SeriesCsvReaderTest, RowErrorsFailOnlyTheirSeries) {
  bool has_target = true;
  const auto series = ReadSeries(
      "series_id,year,value\n"
      "a,2019,abc\n"
      "b,20x1,1\n"
      "c,2019,1\n"
      "d,2019,inf\n"
      "c,2020,2\n"
      "e,2019\n",
      &has_target);
  EXPECT_FALSE(has_target);
  ASSERT_EQ(series.size(), 6u);
  EXPECT_THAT(series[0].status,
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("s.csv:2:value: \"abc\" is not a finite")));
  EXPECT_THAT(series[1].status,
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("s.csv:3:year: \"20x1\" is not a fiscal "
                                 "year; accepted: a year such as 2021 or an "
                                 "era label such as 令和3年度 or R3")));
  EXPECT_THAT(series[2].status, IsOk());
  EXPECT_THAT(series[3].status, StatusIs(absl::StatusCode::kInvalidArgument,
                                         HasSubstr("s.csv:5:value")));
  EXPECT_THAT(series[4].status,
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("s.csv:6:series_id: series \"c\" appeared "
                                 "earlier")));
  EXPECT_THAT(series[5].status,
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("s.csv:7: 2 fields; the header names 3")));
}

TEST(SeriesCsvReaderTest, ASeriesThatComesBackFails) {
  // Enough ids to fill several of the reader's 64 KiB id blocks, then the
  // first and a middle one again.
  std::string text = "series_id,year,value\n";
  constexpr int kIds = 12000;
  for (int i = 0; i < kIds; ++i) {
    absl::StrAppend(&text, "municipality-", i, ",2020,1\n");
  }
  absl::StrAppend(&text, "municipality-0,2021,2\nmunicipality-6000,2021,2\n",
                  "municipality-", kIds, ",2021,2\n");
  const auto series = ReadSeries(text);
  ASSERT_EQ(series.size(), kIds + 3u);
  for (int i = 0; i < kIds; ++i) ASSERT_THAT(series[i].status, IsOk()) << i;
  EXPECT_THAT(series[kIds].status,
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr(absl::StrCat(
                           "s.csv:", kIds + 2,
                           ":series_id: series \"municipality-0\" appeared "
                           "earlier in the file"))));
  EXPECT_THAT(series[kIds + 1].status,
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("\"municipality-6000\" appeared earlier")));
  EXPECT_THAT(series[kIds + 2].status, IsOk());
}

TEST(SeriesCsvReaderTest, ConflictingTargetsFail) {
  const auto series = ReadSeries(
      "series_id,year,value,target_value\n"
      "a,2019,1,5\n"
      "a,2020,2,6\n");
  ASSERT_EQ(series.size(), 1u);
  EXPECT_THAT(series[0].status,
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("s.csv:3:target_value: 6 differs from 5")));
}

TEST(SeriesCsvReaderTest, ReadsTheOptionalColumnsInEnglishOrJapanese) {
  std::istringstream in(
      "series_id,fiscal_year,value,unit,value_domain,direction,kind,"
      "shock_years,target_value,target_fiscal_year,備考\n"
      "survey,2015,55.5,%,PERCENT,INCREASE,LEVEL,,65,2024,x\n"
      "survey,2017,58.1,,,,,,,,\n"
      "survey,令和元年度,59.9,%,VALUE_DOMAIN_PERCENT,,,,,R6,\n"
      "waiting,2018,45,人,非負,減少,水準,2020;2021,0,令和6年度,\n"
      "waiting,2019,38,,,,,令和2年度、令和3年度,,,\n"
      "total,2020,3,件,0以上,高いほど良い,累計,2021 2020 2021,,,\n");
  absl::StatusOr<std::unique_ptr<SeriesCsvReader>> reader =
      SeriesCsvReader::Create(&in, "s.csv");
  ASSERT_THAT(reader, IsOk());
  EXPECT_THAT((*reader)->ignored_columns(), ElementsAre("備考"));
  std::vector<BatchSeries> series;
  while (true) {
    auto next = (*reader)->Next();
    ASSERT_THAT(next, IsOk());
    if (!next->has_value()) break;
    series.push_back(**next);
  }
  ASSERT_EQ(series.size(), 3u);
  for (const BatchSeries& s : series)
    EXPECT_THAT(s.status, IsOk()) << s.series_id;
  EXPECT_THAT(series[0].points, ElementsAre(Pair(2015, 55.5), Pair(2017, 58.1),
                                            Pair(2019, 59.9)));
  EXPECT_EQ(series[0].unit, "%");
  EXPECT_EQ(series[0].value_domain, kpi::v1::VALUE_DOMAIN_PERCENT);
  EXPECT_EQ(series[0].direction, kpi::v1::DIRECTION_INCREASE);
  EXPECT_EQ(series[0].kind, kpi::v1::KPI_KIND_LEVEL);
  EXPECT_EQ(series[0].target_value, 65.0);
  EXPECT_EQ(series[0].target_year, 2024);
  EXPECT_TRUE(series[0].shock_years.empty());
  EXPECT_EQ(series[1].unit, "人");
  EXPECT_EQ(series[1].value_domain, kpi::v1::VALUE_DOMAIN_NON_NEGATIVE);
  EXPECT_EQ(series[1].direction, kpi::v1::DIRECTION_DECREASE);
  EXPECT_EQ(series[1].kind, kpi::v1::KPI_KIND_LEVEL);
  EXPECT_THAT(series[1].shock_years, ElementsAre(2020, 2021));
  EXPECT_EQ(series[1].target_value, 0.0);
  EXPECT_EQ(series[1].target_year, 2024);
  EXPECT_EQ(series[2].kind, kpi::v1::KPI_KIND_RUNNING_TOTAL);
  EXPECT_EQ(series[2].value_domain, kpi::v1::VALUE_DOMAIN_NON_NEGATIVE);
  EXPECT_THAT(series[2].shock_years, ElementsAre(2020, 2021));
  EXPECT_FALSE(series[2].target_value.has_value());

  // The series-level columns reach the request as given.
  kpi::v1::StreamProjectSeriesRequest request;
  AddBatchSeries(series[1], 6, &request, /*thresholds=*/false);
  const kpi::v1::Series& sent = request.series(0);
  EXPECT_EQ(sent.unit(), "人");
  EXPECT_EQ(sent.value_domain(), kpi::v1::VALUE_DOMAIN_NON_NEGATIVE);
  EXPECT_EQ(sent.direction(), kpi::v1::DIRECTION_DECREASE);
  EXPECT_EQ(sent.kind(), kpi::v1::KPI_KIND_LEVEL);
  EXPECT_THAT(sent.shock_fiscal_years(), ElementsAre(2020, 2021));
  EXPECT_TRUE(sent.has_target_value());
  EXPECT_EQ(sent.target_value(), 0);
  EXPECT_EQ(sent.target_fiscal_year(), 2024);
  EXPECT_TRUE(sent.probability_thresholds().empty());
}

TEST(SeriesCsvReaderTest, OptionalColumnsAreParsedStrictly) {
  const auto series = ReadSeries(
      "series_id,year,value,unit,value_domain,direction,kind,shock_years\n"
      "a,2019,1,,positive,,,\n"
      "b,2019,1,,,up-ish,,\n"
      "c,2019,1,,,,累積値,\n"
      "d,2019,1,,,,,2020/2021\n"
      "e,2019,1,%,,,,\n"
      "e,2020,1,人,,,,\n"
      "f,2019,1,,非負,,,\n"
      "f,2020,1,,PERCENT,,,\n"
      "g,2019,1,,,,,2020\n"
      "g,2020,1,,,,,2020;2021\n");
  ASSERT_EQ(series.size(), 7u);
  const auto fails = [](const BatchSeries& s, const std::string& where,
                        const std::string& accepted) {
    EXPECT_THAT(s.status,
                StatusIs(absl::StatusCode::kInvalidArgument,
                         AllOf(HasSubstr(where), HasSubstr(accepted))))
        << s.series_id;
  };
  fails(series[0], "s.csv:2:value_domain: ", "非負");
  fails(series[0], "\"positive\"", "NON_NEGATIVE");
  fails(series[1], "s.csv:3:direction: ", "減少");
  fails(series[2], "s.csv:4:kind: ", "RUNNING_TOTAL");
  fails(series[3], "s.csv:5:shock_years: \"2020/2021\" is not a list",
        "such as 2020;2021 or 令和2年度、令和3年度");
  fails(series[4], "s.csv:7:unit: \"人\" differs from \"%\"",
        "a series has one unit");
  fails(series[5],
        "s.csv:9:value_domain: \"PERCENT\" differs from "
        "\"VALUE_DOMAIN_NON_NEGATIVE\"",
        "a series has one value_domain");
  fails(series[6],
        "s.csv:11:shock_years: \"2020;2021\" differs from "
        "\"2020\"",
        "a series has one shock_years");
}

TEST(SeriesCsvReaderTest, HeaderErrors) {
  for (const auto& [text, message] :
       std::vector<std::pair<std::string, std::string>>{
           {"", "s.csv: no header"},
           {"series_id,value\n", "s.csv:1: the header lacks year"},
           {"id,t,v\n", "lacks series_id, year, value"}}) {
    std::istringstream in(text);
    EXPECT_THAT(
        SeriesCsvReader::Create(&in, "s.csv"),
        StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr(message)));
  }
}

TEST(AddBatchSeriesTest, AsksForThresholdsOfTheLatestValue) {
  BatchSeries series;
  series.series_id = "a";
  series.points = {{2021, 20}, {2019, 10}};
  kpi::v1::StreamProjectSeriesRequest request;
  AddBatchSeries(series, 4, &request);
  ASSERT_EQ(request.series_size(), 1);
  EXPECT_EQ(request.series(0).series_id(), "a");
  ASSERT_EQ(request.series(0).points_size(), 2);
  EXPECT_EQ(request.series(0).points(0).fiscal_year(), 2021);
  EXPECT_EQ(request.series(0).horizon(), 4);
  EXPECT_EQ(request.series(0).target_fiscal_year(), 0);
  EXPECT_FALSE(request.series(0).has_target_value());
  EXPECT_THAT(request.series(0).probability_thresholds(),
              ElementsAre(18.0, 20.0, 22.0, 25.0));

  series.target_value = 30;
  series.target_year = 2024;
  AddBatchSeries(series, 4, &request);
  ASSERT_EQ(request.series_size(), 2);
  EXPECT_EQ(request.series(1).target_value(), 30);
  EXPECT_EQ(request.series(1).target_fiscal_year(), 2024);
  EXPECT_EQ(request.series(1).horizon(), 0);
}

// A forecast service whose projections are simple functions of the input,
// so that the client's output can be checked exactly: the median of year
// last+h is last value + h, intervals are median -/+ 1 (80%) and 2 (95%),
// threshold probabilities are 0.1, 0.2, ...; series whose ID starts with
// "bad" get an INVALID_ARGUMENT result.
class FakeForecastService final : public kpi::v1::ForecastService::Service {
 public:
  grpc::Status StreamProjectSeries(
      grpc::ServerContext*,
      grpc::ServerReaderWriter<kpi::v1::StreamProjectSeriesResponse,
                               kpi::v1::StreamProjectSeriesRequest>* stream)
      override {
    kpi::v1::StreamProjectSeriesRequest request;
    int64_t index = 0;
    while (stream->Read(&request)) {
      {
        absl::MutexLock lock(&mu_);
        chunk_sizes_.push_back(request.series_size());
      }
      kpi::v1::StreamProjectSeriesResponse response;
      for (const kpi::v1::Series& series : request.series()) {
        Project(series, index++, response.add_results());
      }
      if (!stream->Write(response)) break;
    }
    return grpc::Status::OK;
  }

  std::vector<int> chunk_sizes() {
    absl::MutexLock lock(&mu_);
    return chunk_sizes_;
  }

 private:
  static void Project(const kpi::v1::Series& series, int64_t index,
                      kpi::v1::ProjectionResult* result) {
    result->set_id(series.series_id());
    result->set_index(index);
    if (series.series_id().rfind("bad", 0) == 0) {
      result->mutable_error()->set_code(grpc::StatusCode::INVALID_ARGUMENT);
      result->mutable_error()->set_message("series.points: too few");
    } else {
      auto last =
          std::max_element(series.points().begin(), series.points().end(),
                           [](const auto& a, const auto& b) {
                             return a.fiscal_year() < b.fiscal_year();
                           });
      const int until = series.target_fiscal_year() != 0
                            ? series.target_fiscal_year()
                            : last->fiscal_year() + series.horizon();
      kpi::v1::Projection* p = result->mutable_projection();
      for (int year = last->fiscal_year() + 1; year <= until; ++year) {
        kpi::v1::YearProjection* y = p->add_years();
        const double median = last->value() + (year - last->fiscal_year());
        y->set_fiscal_year(year);
        y->set_median(median);
        y->mutable_interval_50()->set_lower(median - 0.5);
        y->mutable_interval_50()->set_upper(median + 0.5);
        y->mutable_interval_80()->set_lower(median - 1);
        y->mutable_interval_80()->set_upper(median + 1);
        y->mutable_interval_95()->set_lower(median - 2);
        y->mutable_interval_95()->set_upper(median + 2);
        if (series.has_target_value()) y->set_attainment_probability(0.75);
        for (int i = 0; i < series.probability_thresholds_size(); ++i) {
          y->add_threshold_probabilities(0.1 * (i + 1));
        }
      }
    }
  }

  absl::Mutex mu_;
  std::vector<int> chunk_sizes_ ABSL_GUARDED_BY(mu_);
};

class RunBatchTest : public ::testing::Test {
 protected:
  void SetUp() override {
    grpc::ServerBuilder builder;
    int port = 0;
    builder.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(),
                             &port);
    builder.RegisterService(&service_);
    server_ = builder.BuildAndStart();
    ASSERT_NE(server_, nullptr);
    stub_ = kpi::v1::ForecastService::NewStub(grpc::CreateChannel(
        absl::StrCat("127.0.0.1:", port), grpc::InsecureChannelCredentials()));
  }
  void TearDown() override { server_->Shutdown(); }

  FakeForecastService service_;
  std::unique_ptr<grpc::Server> server_;
  std::unique_ptr<kpi::v1::ForecastService::Stub> stub_;
};

TEST_F(RunBatchTest, WritesRowsInOrderAndListsFailures) {
  std::istringstream in(
      "series_id,year,value,target_value,target_year\n"
      "a,2019,10,,\n"
      "a,2020,12,,\n"
      "bad-1,2020,1,,\n"
      "b,2020,5,7,2022\n"
      "c,2020,x,,\n");
  std::ostringstream out, progress;
  BatchOptions options;
  options.horizon = 2;
  options.format = BatchFormat::kBenchmark;
  absl::StatusOr<BatchSummary> summary =
      RunBatch(stub_.get(), &in, "s.csv", &out, &progress, options);
  ASSERT_THAT(summary, IsOk());
  EXPECT_EQ(summary->projected, 2);
  ASSERT_EQ(summary->failures.size(), 2u);
  // Input errors are found by the writer thread, server errors by the
  // reader: their relative order is not fixed.
  std::vector<BatchFailure> failures = summary->failures;
  std::sort(failures.begin(), failures.end(),
            [](const BatchFailure& a, const BatchFailure& b) {
              return a.line < b.line;
            });
  EXPECT_EQ(failures[0].series_id, "bad-1");
  EXPECT_EQ(failures[0].line, 4);
  EXPECT_THAT(failures[0].status, StatusIs(absl::StatusCode::kInvalidArgument,
                                           HasSubstr("too few")));
  EXPECT_EQ(failures[1].series_id, "c");
  EXPECT_EQ(failures[1].line, 6);
  EXPECT_THAT(failures[1].status, StatusIs(absl::StatusCode::kInvalidArgument,
                                           HasSubstr("s.csv:6:value")));
  EXPECT_EQ(out.str(),
            "series_id,k,h,q025,q10,q50,q90,q975,p090,p100,p110,p125,"
            "target_probability\n"
            "a,2,1,11,12,13,14,15,0.1,0.2,0.3,0.4,\n"
            "a,2,2,12,13,14,15,16,0.1,0.2,0.3,0.4,\n"
            "b,1,1,4,5,6,7,8,0.1,0.2,0.3,0.4,0.75\n"
            "b,1,2,5,6,7,8,9,0.1,0.2,0.3,0.4,0.75\n");
}

TEST_F(RunBatchTest, ManySeriesStreamThrough) {
  std::string text = "series_id,year,value\n";
  constexpr int kSeries = 2000;
  for (int i = 0; i < kSeries; ++i) {
    absl::StrAppend(&text, "s", i, ",2020,", i, "\ns", i, ",2021,", i + 1,
                    "\n");
  }
  std::istringstream in(text);
  std::ostringstream out, progress;
  BatchOptions options;
  options.format = BatchFormat::kBenchmark;
  absl::StatusOr<BatchSummary> summary =
      RunBatch(stub_.get(), &in, "s.csv", &out, &progress, options);
  ASSERT_THAT(summary, IsOk());
  EXPECT_EQ(summary->projected, kSeries);
  EXPECT_TRUE(summary->failures.empty());
  const std::vector<std::string> lines =
      absl::StrSplit(out.str(), '\n', absl::SkipEmpty());
  ASSERT_EQ(lines.size(), 1u + kSeries * 6);
  EXPECT_EQ(lines[1], "s0,2,1,0,1,2,3,4,0.1,0.2,0.3,0.4");
  EXPECT_EQ(lines.back(), "s1999,2,6,2004,2005,2006,2007,2008,0.1,0.2,0.3,0.4");
  // Sent in chunks of the default size, the last one partial.
  const std::vector<int> sizes = service_.chunk_sizes();
  ASSERT_EQ(sizes.size(), 8u);
  EXPECT_EQ(sizes.front(), 250);
  EXPECT_EQ(sizes.back(), 250);
}

TEST_F(RunBatchTest, ChunksFollowTheOptionAndSkipUnreadableSeries) {
  std::string text = "series_id,year,value\n";
  for (int i = 0; i < 10; ++i) {
    absl::StrAppend(&text, "s", i, ",2020,", i == 4 ? "x" : "1", "\n");
  }
  std::istringstream in(text);
  std::ostringstream out, progress;
  BatchOptions options;
  options.chunk_series = 4;
  options.horizon = 1;
  options.format = BatchFormat::kBenchmark;
  absl::StatusOr<BatchSummary> summary =
      RunBatch(stub_.get(), &in, "s.csv", &out, &progress, options);
  ASSERT_THAT(summary, IsOk());
  EXPECT_EQ(summary->projected, 9);
  ASSERT_EQ(summary->failures.size(), 1u);
  EXPECT_EQ(summary->failures[0].series_id, "s4");
  EXPECT_THAT(service_.chunk_sizes(), ElementsAre(4, 4, 1));
  const std::vector<std::string> lines =
      absl::StrSplit(out.str(), '\n', absl::SkipEmpty());
  ASSERT_EQ(lines.size(), 10u);
  EXPECT_EQ(lines[5], "s5,1,1,0,1,2,3,4,0.1,0.2,0.3,0.4");

  options.chunk_series = 1001;
  std::istringstream again(text);
  EXPECT_THAT(RunBatch(stub_.get(), &again, "s.csv", &out, &progress, options),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("chunk_series: 1001; accepted: 1 to 1000")));
}

TEST_F(RunBatchTest, YearsFormatForPeopleInEnglishAndJapanese) {
  const std::string text =
      "series_id,year,value,target_value,target_fiscal_year,note\n"
      "survey,2017,58.1,65,2024,a\n"
      "survey,2019,59.9,,,\n"
      "count,2021,7,,,\n";
  std::istringstream in(text);
  std::ostringstream out, progress;
  BatchOptions options;
  options.horizon = 2;
  options.language = i18n::Language::kEn;
  ASSERT_THAT(RunBatch(stub_.get(), &in, "s.csv", &out, &progress, options),
              IsOk());
  EXPECT_EQ(out.str(),
            "series_id,fiscal_year,median,lower_50,upper_50,lower_80,"
            "upper_80,lower_95,upper_95,attainment_probability\n"
            "survey,2020,60.9,60.4,61.4,59.9,61.9,58.9,62.9,0.75\n"
            "survey,2021,61.9,61.4,62.4,60.9,62.9,59.9,63.9,0.75\n"
            "survey,2022,62.9,62.4,63.4,61.9,63.9,60.9,64.9,0.75\n"
            "survey,2023,63.9,63.4,64.4,62.9,64.9,61.9,65.9,0.75\n"
            "survey,2024,64.9,64.4,65.4,63.9,65.9,62.9,66.9,0.75\n"
            "count,2022,8,7.5,8.5,7,9,6,10,\n"
            "count,2023,9,8.5,9.5,8,10,7,11,\n");
  EXPECT_THAT(progress.str(),
              HasSubstr("s.csv: not reading the column \"note\"; read are "
                        "series_id,year,value[,unit,"));
  // No thresholds are asked for in this format.
  std::istringstream again(text);
  out.str("");
  options.language = i18n::Language::kJa;
  options.encoding = dataset::TextEncoding::kUtf8WithBom;
  ASSERT_THAT(RunBatch(stub_.get(), &again, "s.csv", &out, &progress, options),
              IsOk());
  const std::vector<std::string> lines = absl::StrSplit(out.str(), '\n');
  ASSERT_EQ(lines.size(), 9u);
  EXPECT_EQ(lines[0],
            "\xEF\xBB\xBF系列ID,年度,和暦,中央値,50%区間下限,50%区間上限,"
            "80%区間下限,80%区間上限,95%区間下限,95%区間上限,目標達成確率");
  EXPECT_EQ(lines[5],
            "survey,2024,令和6年度,64.9,64.4,65.4,63.9,65.9,62.9,"
            "66.9,0.75");
  EXPECT_EQ(lines[7], "count,2023,令和5年度,9,8.5,9.5,8,10,7,11,");
}

TEST_F(RunBatchTest, Cp932OutputAndCharactersItCannotHold) {
  std::istringstream in("series_id,year,value\n旭川,2021,1\n");
  std::ostringstream out, progress;
  BatchOptions options;
  options.horizon = 1;
  options.encoding = dataset::TextEncoding::kCp932;
  ASSERT_THAT(RunBatch(stub_.get(), &in, "s.csv", &out, &progress, options),
              IsOk());
  // 系列ID ... in CP932: 系 is 0x8C 0x6E; 旭川 is 0x88 0xAE 0x90 0xEC.
  EXPECT_EQ(out.str().substr(0, 2), "\x8C\x6E");
  EXPECT_THAT(out.str(), HasSubstr("\n\x88\xAE\x90\xEC,2022,\x97\xDF"));

  std::istringstream bad("series_id,year,value\na,2021,1\n𠮷野,2021,1\n");
  out.str("");
  options.chunk_series = 1;
  EXPECT_THAT(RunBatch(stub_.get(), &bad, "s.csv", &out, &progress, options),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       AllOf(HasSubstr("--encoding=cp932: output"),
                             HasSubstr("line 3"))));
}

TEST_F(RunBatchTest, MalformedFileIsAnError) {
  std::istringstream in("series_id,year,value\na,2020,1\nb,2020,\"2\n");
  std::ostringstream out, progress;
  EXPECT_THAT(
      RunBatch(stub_.get(), &in, "s.csv", &out, &progress, BatchOptions()),
      StatusIs(absl::StatusCode::kInvalidArgument,
               HasSubstr("s.csv: line 3: a quoted field is not closed")));
}

TEST(AppendForecastRowsTest, RejectsMissingThresholds) {
  BatchSeries series;
  series.series_id = "a";
  series.points = {{2020, 1}};
  kpi::v1::Projection projection;
  projection.add_years()->set_fiscal_year(2021);
  std::string out = "kept";
  EXPECT_THAT(AppendForecastRows(series, projection, false, &out),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("0 threshold probabilities; 4 were asked")));
  EXPECT_EQ(out, "kept");
}

}  // namespace
}  // namespace kpi::kpictl
