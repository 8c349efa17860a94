// Issue 10, point 4: nothing a write can do breaks a read. Length caps on
// every text field, a cap on revisions, List and ExportDataset pages that end
// before the message limit, and the largest resources the caps allow read
// back through Get, List and Export on a server with the smallest limit.

#include <algorithm>
#include <chrono>
#include <regex>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "lib/domain/validation.h"
#include "services/server/kpi_service.h"
#include "tests/services/test_server.h"

namespace kpi::services::testing {
namespace {

using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::SizeIs;
using Stub = v1::KpiService::Stub;

// n characters of 𠮟 (U+20B9F, 4 bytes of UTF-8): the most bytes a text at
// its cap can have.
std::string Widest(size_t n) {
  std::string out;
  out.reserve(4 * n);
  for (size_t i = 0; i < n; ++i) out += "\xF0\xA0\xAE\x9F";
  return out;
}

std::unique_ptr<TestServer> SmallestLimitServer() {
  ServerOptions options;
  options.max_message_bytes = kMinMessageBytes;
  auto server = TestServer::Start(std::move(options));
  if (server != nullptr) server->ImportTestDataset();
  return server;
}

// A KPI under strategies/s with every text field at its cap.
v1::Kpi LargestKpi(const std::string& id) {
  v1::Kpi kpi;
  kpi.set_name(absl::StrCat("strategies/s/kpis/", id));
  kpi.set_measure("strategies/s/measures/m1");
  kpi.set_display_name(Widest(domain::kMaxDisplayNameChars));
  kpi.set_english_name(Widest(domain::kMaxEnglishNameChars));
  kpi.set_unit(Widest(domain::kMaxUnitChars));
  kpi.set_measurement_note(Widest(domain::kMaxNoteChars));
  kpi.set_kind(v1::KPI_KIND_LEVEL);
  kpi.set_direction(v1::DIRECTION_INCREASE);
  kpi.mutable_baseline()->set_value(1);
  kpi.mutable_baseline()->set_fiscal_year(2019);
  kpi.mutable_baseline()->set_label(Widest(domain::kMaxDisplayNameChars));
  kpi.mutable_target()->set_value(2);
  kpi.mutable_target()->set_fiscal_year(2024);
  kpi.mutable_target()->set_label(Widest(domain::kMaxDisplayNameChars));
  for (int year = 2000;
       year < 2000 + static_cast<int>(domain::kMaxShockFiscalYears); ++year) {
    kpi.add_shock_fiscal_years(year);
  }
  return kpi;
}

// Imports `count` KPIs at their caps, k000, k001, ..., in requests that
// each fit under kMinMessageBytes.
void ImportLargestKpis(TestServer& server, int count) {
  for (int first = 0; first < count; first += 40) {
    v1::ImportDatasetRequest request;
    for (int i = first; i < std::min(count, first + 40); ++i) {
      *request.mutable_dataset()->add_kpis() =
          LargestKpi(absl::StrFormat("k%03d", i));
    }
    ASSERT_LT(request.ByteSizeLong(), static_cast<size_t>(kMinMessageBytes));
    v1::ImportDatasetResponse response;
    const grpc::Status status =
        Call(server.kpi(), &Stub::ImportDataset, request, &response);
    ASSERT_TRUE(status.ok()) << status.error_message();
  }
}

TEST(LimitsTest, TextOverItsCapIsRefusedWithTheCap) {
  auto server = TestServer::Start();
  ASSERT_NE(server, nullptr);
  server->ImportTestDataset();
  v1::CreateKpiRequest create;
  create.set_parent("strategies/s");
  create.set_kpi_id("long");
  *create.mutable_kpi() = LargestKpi("long");
  v1::Kpi kpi;
  ASSERT_TRUE(Call(server->kpi(), &Stub::CreateKpi, create, &kpi).ok());

  create.set_kpi_id("longer");
  create.mutable_kpi()->set_display_name(
      Widest(domain::kMaxDisplayNameChars + 1));
  const grpc::Status status =
      Call(server->kpi(), &Stub::CreateKpi, create, &kpi);
  EXPECT_INVALID_FIELD(status, "kpi.display_name");
  EXPECT_EQ(ViolationOf(status, "kpi.display_name"),
            "201 characters; accepted: at most 200 characters");

  // The same through an import, at the dataset's path.
  v1::ImportDatasetRequest import;
  *import.mutable_dataset()->add_kpis() = create.kpi();
  import.mutable_dataset()->mutable_kpis(0)->set_name("strategies/s/kpis/x");
  v1::ImportDatasetResponse imported;
  EXPECT_INVALID_FIELD(
      Call(server->kpi(), &Stub::ImportDataset, import, &imported),
      "dataset.kpis[0].display_name");
}

TEST(LimitsTest, ReasonFilterAndPageTokenHaveCaps) {
  auto server = TestServer::Start();
  ASSERT_NE(server, nullptr);
  server->ImportTestDataset();
  v1::UpdateObservationRequest update;
  update.mutable_observation()->set_name(
      "strategies/s/kpis/share/observations/fy2021");
  update.mutable_observation()->set_value(45);
  update.mutable_update_mask()->add_paths("value");
  update.set_reason(Widest(domain::kMaxReasonChars + 1));
  v1::Observation observation;
  grpc::Status status =
      Call(server->kpi(), &Stub::UpdateObservation, update, &observation);
  EXPECT_INVALID_FIELD(status, "reason");
  EXPECT_EQ(ViolationOf(status, "reason"),
            "501 characters; accepted: at most 500 characters");
  update.set_reason(Widest(domain::kMaxReasonChars));
  status = Call(server->kpi(), &Stub::UpdateObservation, update, &observation);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_THAT(observation.revisions(), SizeIs(1));

  v1::ListKpisRequest list;
  list.set_parent("strategies/s");
  list.set_filter(absl::StrCat("kind = KPI_KIND_LEVEL",
                               std::string(domain::kMaxFilterChars, ' ')));
  v1::ListKpisResponse kpis;
  status = Call(server->kpi(), &Stub::ListKpis, list, &kpis);
  EXPECT_INVALID_FIELD(status, "filter");
  EXPECT_THAT(ViolationOf(status, "filter"),
              HasSubstr("accepted: at most 1000 characters"));

  // A 100 KB token is refused as an argument, without echoing it (it used to
  // come back as RESOURCE_EXHAUSTED: the echo overflowed the metadata).
  list.clear_filter();
  list.set_page_token(std::string(100 * 1024, 'A'));
  status = Call(server->kpi(), &Stub::ListKpis, list, &kpis);
  EXPECT_INVALID_FIELD(status, "page_token");
  EXPECT_THAT(ViolationOf(status, "page_token"),
              HasSubstr("102400 bytes; accepted: the next_page_token"));
  EXPECT_LT(status.error_message().size(), 1000u);
}

TEST(LimitsTest, RevisionsStopAtTheirCapBeforeAnythingIsWritten) {
  auto server = TestServer::Start();
  ASSERT_NE(server, nullptr);
  server->ImportTestDataset();
  v1::UpdateObservationRequest update;
  update.mutable_observation()->set_name(
      "strategies/s/kpis/share/observations/fy2021");
  update.mutable_update_mask()->add_paths("value");
  v1::Observation observation;
  for (size_t i = 1; i <= domain::kMaxRevisions; ++i) {
    update.mutable_observation()->set_value(static_cast<double>(i));
    update.set_reason(absl::StrCat("correction ", i));
    const grpc::Status status =
        Call(server->kpi(), &Stub::UpdateObservation, update, &observation);
    ASSERT_TRUE(status.ok()) << i << ": " << status.error_message();
  }
  EXPECT_THAT(observation.revisions(), SizeIs(domain::kMaxRevisions));
  update.mutable_observation()->set_value(50.5);
  const grpc::Status status =
      Call(server->kpi(), &Stub::UpdateObservation, update, &observation);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_THAT(status.error_message(),
              HasSubstr("already has 100 revisions, the most kept"));
  // Nothing was written: the value is that of the last accepted update.
  v1::GetObservationRequest get;
  get.set_name(update.observation().name());
  ASSERT_TRUE(
      Call(server->kpi(), &Stub::GetObservation, get, &observation).ok());
  EXPECT_EQ(observation.value(), 100);
  EXPECT_THAT(observation.revisions(), SizeIs(domain::kMaxRevisions));
}

// The largest record of each kind round-trips through Get, List and Export
// on a server whose message limit is the smallest allowed, and its write's
// own response (which used to overflow after the commit) arrives.
TEST(LimitsTest, LargestRecordsReadBackAtTheSmallestMessageLimit) {
  auto server = SmallestLimitServer();
  ASSERT_NE(server, nullptr);
  Stub& kpi = server->kpi();

  // An observation with every revision its cap allows, each with the
  // longest reason and source note.
  const std::string name = "strategies/s/kpis/share/observations/fy2021";
  v1::UpdateObservationRequest update;
  update.mutable_observation()->set_name(name);
  update.mutable_update_mask()->add_paths("value");
  update.mutable_update_mask()->add_paths("source_note");
  update.set_reason(Widest(domain::kMaxReasonChars));
  v1::Observation written;
  for (size_t i = 0; i <= domain::kMaxRevisions; ++i) {
    update.mutable_observation()->set_value(static_cast<double>(i));
    update.mutable_observation()->set_source_note(
        absl::StrCat(i % 10, Widest(domain::kMaxSourceNoteChars - 1)));
    const grpc::Status status =
        Call(kpi, &Stub::UpdateObservation, update, &written);
    if (i < domain::kMaxRevisions) {
      ASSERT_TRUE(status.ok()) << i << ": " << status.error_message();
    } else {
      ASSERT_EQ(status.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
    }
  }
  ASSERT_THAT(written.revisions(), SizeIs(domain::kMaxRevisions));
  // Well within the limit: the caps leave room for what later fields add.
  EXPECT_LT(written.ByteSizeLong(), static_cast<size_t>(kMinMessageBytes) / 2)
      << written.ByteSizeLong();

  // A reference table, a KPI and an evaluation at their caps.
  v1::ImportDatasetRequest import;
  v1::Reference* reference = import.mutable_dataset()->add_references();
  reference->set_name("references/long");
  reference->set_display_name(Widest(domain::kMaxDisplayNameChars));
  reference->set_english_name(Widest(domain::kMaxEnglishNameChars));
  reference->set_unit(Widest(domain::kMaxUnitChars));
  reference->set_source(Widest(domain::kMaxNoteChars));
  for (size_t i = 0; i < domain::kMaxReferenceValues; ++i) {
    v1::ReferenceValue* value = reference->add_values();
    value->set_effective_date(absl::StrFormat("%04d-%02d-01",
                                              1950 + static_cast<int>(i / 12),
                                              1 + static_cast<int>(i % 12)));
    value->set_value(2.5);
  }
  *import.mutable_dataset()->add_kpis() = LargestKpi("long");
  v1::Evaluation* evaluation = import.mutable_dataset()->add_evaluations();
  evaluation->set_name("strategies/s/measures/m1/evaluations/fy2022");
  evaluation->set_fiscal_year(2022);
  evaluation->set_rating(v1::RATING_CONTINUE);
  evaluation->set_kpi_assessment(Widest(domain::kMaxEvaluationTextChars));
  evaluation->set_outlook(Widest(domain::kMaxEvaluationTextChars));
  evaluation->set_viewpoint(Widest(domain::kMaxEvaluationTextChars));
  v1::ImportDatasetResponse imported;
  grpc::Status status = Call(kpi, &Stub::ImportDataset, import, &imported);
  ASSERT_TRUE(status.ok()) << status.error_message();

  v1::GetObservationRequest get;
  get.set_name(name);
  v1::Observation got;
  status = Call(kpi, &Stub::GetObservation, get, &got);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(got.SerializeAsString(), written.SerializeAsString());

  v1::ListObservationsRequest list;
  list.set_parent("strategies/s/kpis/share");
  list.set_page_size(1000);
  v1::ListObservationsResponse listed;
  status = Call(kpi, &Stub::ListObservations, list, &listed);
  ASSERT_TRUE(status.ok()) << status.error_message();
  ASSERT_THAT(listed.observations(), SizeIs(3));
  EXPECT_EQ(listed.observations(2).SerializeAsString(),
            written.SerializeAsString());

  v1::GetReferenceRequest get_reference;
  get_reference.set_name("references/long");
  v1::Reference got_reference;
  ASSERT_TRUE(
      Call(kpi, &Stub::GetReference, get_reference, &got_reference).ok());
  EXPECT_THAT(got_reference.values(), SizeIs(domain::kMaxReferenceValues));

  // The whole store still fits one response.
  v1::ExportDatasetRequest export_request;
  v1::ExportDatasetResponse exported;
  status = Call(kpi, &Stub::ExportDataset, export_request, &exported);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_THAT(exported.dataset().references(), SizeIs(2));
  EXPECT_THAT(exported.dataset().evaluations(), SizeIs(2));
  EXPECT_THAT(exported.next_page_token(), IsEmpty());
}

// A page of KPIs at their caps would exceed the limit at 1000 a page; the
// page ends before it and next_page_token continues from there.
TEST(LimitsTest, ListPagesEndBeforeTheMessageLimit) {
  auto server = SmallestLimitServer();
  ASSERT_NE(server, nullptr);
  constexpr int kCount = 120;  // about 1.5 MiB of KPIs
  ImportLargestKpis(*server, kCount);

  v1::ListKpisRequest list;
  list.set_parent("strategies/s");
  list.set_page_size(1000);
  list.set_filter("kind = KPI_KIND_LEVEL");
  std::vector<std::string> names;
  int pages = 0;
  do {
    v1::ListKpisResponse page;
    grpc::Status status = Call(server->kpi(), &Stub::ListKpis, list, &page);
    ASSERT_TRUE(status.ok()) << pages << ": " << status.error_message();
    EXPECT_LE(page.ByteSizeLong(), static_cast<size_t>(kMinMessageBytes));
    ASSERT_FALSE(page.kpis().empty());
    for (const v1::Kpi& k : page.kpis()) names.push_back(k.name());
    list.set_page_token(page.next_page_token());
    ++pages;
  } while (!list.page_token().empty() && pages < 10);
  EXPECT_EQ(pages, 2);
  // Every KPI once, in name order: the test dataset's four LEVEL KPIs and
  // the k000.. ones.
  ASSERT_THAT(names, SizeIs(kCount + 4));
  EXPECT_TRUE(std::is_sorted(names.begin(), names.end()));
  EXPECT_EQ(std::adjacent_find(names.begin(), names.end()), names.end());
}

TEST(LimitsTest, ExportOfAStoreLargerThanOneMessageComesInPages) {
  auto server = SmallestLimitServer();
  ASSERT_NE(server, nullptr);
  constexpr int kCount = 120;
  ImportLargestKpis(*server, kCount);
  Stub& kpi = server->kpi();

  // Without page_size: refused, not cut.
  v1::ExportDatasetRequest request;
  v1::ExportDatasetResponse page;
  grpc::Status status = Call(kpi, &Stub::ExportDataset, request, &page);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED);
  EXPECT_THAT(status.error_message(), HasSubstr("set page_size"));

  request.set_page_size(1000);
  v1::Dataset merged;
  int pages = 0;
  do {
    status = Call(kpi, &Stub::ExportDataset, request, &page);
    ASSERT_TRUE(status.ok()) << pages << ": " << status.error_message();
    EXPECT_LE(page.ByteSizeLong(), static_cast<size_t>(kMinMessageBytes));
    merged.MergeFrom(page.dataset());
    request.set_page_token(page.next_page_token());
    ++pages;
  } while (!request.page_token().empty() && pages < 10);
  EXPECT_EQ(pages, 2);
  EXPECT_THAT(merged.kpis(), SizeIs(kCount + 5));
  EXPECT_THAT(merged.observations(), SizeIs(12));
  EXPECT_THAT(merged.strategies(), SizeIs(1));
  EXPECT_THAT(merged.references(), SizeIs(1));
  EXPECT_THAT(merged.evaluations(), SizeIs(1));

  // Small pages by count too; a token with another strategy is refused.
  request.set_page_size(10);
  request.clear_page_token();
  ASSERT_TRUE(Call(kpi, &Stub::ExportDataset, request, &page).ok());
  EXPECT_EQ(page.dataset().references_size() +
                page.dataset().strategies_size() + page.dataset().goals_size() +
                page.dataset().measures_size() + page.dataset().kpis_size(),
            10);
  const std::string token = page.next_page_token();
  request.set_page_token(token);
  request.set_strategy("strategies/other");
  EXPECT_INVALID_FIELD(Call(kpi, &Stub::ExportDataset, request, &page),
                       "page_token");

  // A write between pages: the pages would not be one state of the store.
  v1::UpdateObservationRequest update;
  update.mutable_observation()->set_name(
      "strategies/s/kpis/share/observations/fy2021");
  update.mutable_observation()->set_value(45);
  update.mutable_update_mask()->add_paths("value");
  v1::Observation observation;
  ASSERT_TRUE(Call(kpi, &Stub::UpdateObservation, update, &observation).ok());
  request.clear_strategy();
  status = Call(kpi, &Stub::ExportDataset, request, &page);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::ABORTED);
  EXPECT_THAT(status.error_message(), HasSubstr("export again"));
}

// ---- Point 3: streams are bounded ----

v1::StreamProjectSeriesRequest OneSeriesChunk() {
  v1::StreamProjectSeriesRequest request;
  v1::Series* series = request.add_series();
  series->set_series_id("x");
  for (int i = 0; i < 4; ++i) {
    v1::SeriesPoint* p = series->add_points();
    p->set_fiscal_year(2018 + i);
    p->set_value(10 + i);
  }
  return request;
}

bool LogHas(TestServer& server, const std::string& regex) {
  for (int i = 0; i < 200; ++i) {
    for (const std::string& line : server.log()) {
      if (std::regex_search(line, std::regex(regex))) return true;
    }
    absl::SleepFor(absl::Milliseconds(10));
  }
  return false;
}

TEST(LimitsTest, AnIdleStreamIsEndedAndLogged) {
  ServerOptions options;
  options.stream_idle_timeout = absl::Milliseconds(200);
  auto server = TestServer::Start(std::move(options));
  ASSERT_NE(server, nullptr);
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() +
                       std::chrono::seconds(30));
  auto stream = server->forecast().StreamProjectSeries(&context);
  // Active first: a chunk and its answer.
  ASSERT_TRUE(stream->Write(OneSeriesChunk()));
  v1::StreamProjectSeriesResponse response;
  ASSERT_TRUE(stream->Read(&response));
  // Then idle: the server ends the stream, the client's deadline far off.
  EXPECT_FALSE(stream->Read(&response));
  const grpc::Status status = stream->Finish();
  EXPECT_EQ(status.error_code(), grpc::StatusCode::DEADLINE_EXCEEDED);
  EXPECT_THAT(status.error_message(), HasSubstr("--stream_idle_timeout"));
  EXPECT_TRUE(LogHas(*server,
                     "^rpc /kpi.v1.ForecastService/StreamProjectSeries "
                     "DEADLINE_EXCEEDED [0-9.]+ms \\(idle stream\\)$"));
}

TEST(LimitsTest, StreamsOverTheCapAreRefusedAndLogged) {
  ServerOptions options;
  options.max_concurrent_streams = 1;
  auto server = TestServer::Start(std::move(options));
  ASSERT_NE(server, nullptr);
  grpc::ClientContext first_context;
  auto first = server->forecast().StreamProjectSeries(&first_context);
  ASSERT_TRUE(first->Write(OneSeriesChunk()));
  v1::StreamProjectSeriesResponse response;
  ASSERT_TRUE(first->Read(&response));  // the first stream is open

  grpc::ClientContext second_context;
  second_context.set_deadline(std::chrono::system_clock::now() +
                              std::chrono::seconds(30));
  auto second = server->forecast().StreamProjectSeries(&second_context);
  // No chunk is written: the cap is enforced just after the call starts, and
  // a chunk sent first could be answered before that.
  EXPECT_FALSE(second->Read(&response));
  grpc::Status status = second->Finish();
  EXPECT_EQ(status.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED);
  EXPECT_THAT(status.error_message(), HasSubstr("--max_concurrent_streams"));
  EXPECT_TRUE(LogHas(*server,
                     "^rpc /kpi.v1.ForecastService/StreamProjectSeries "
                     "RESOURCE_EXHAUSTED [0-9.]+ms \\(stream cap\\)$"));

  // Once the first is closed, a stream is served again.
  first->WritesDone();
  EXPECT_FALSE(first->Read(&response));
  ASSERT_TRUE(first->Finish().ok());
  grpc::ClientContext third_context;
  grpc::Status third_status;
  for (int attempt = 0; attempt < 50; ++attempt) {
    // The first stream's slot frees when its call is torn down, just after
    // its status reaches the client.
    grpc::ClientContext context;
    auto third = server->forecast().StreamProjectSeries(&context);
    third->Write(OneSeriesChunk());
    const bool answered = third->Read(&response);
    third->WritesDone();
    third_status = third->Finish();
    if (answered && third_status.ok()) break;
    absl::SleepFor(absl::Milliseconds(20));
  }
  EXPECT_TRUE(third_status.ok()) << third_status.error_message();
}

}  // namespace
}  // namespace kpi::services::testing
