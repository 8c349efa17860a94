// Who made each write, through the API: the change log (ListChanges, role
// admin) and the actor of observation revisions, on an in-process server
// with bearer tokens of two writers, a reader and an admin.

#include <grpcpp/grpcpp.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <limits>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "services/server/auth.h"
#include "tests/services/test_server.h"

namespace kpi::services::testing {
namespace {

using ::testing::Each;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::SizeIs;

constexpr char kStatsOffice[] = "stats-office-token-5e1a";
constexpr char kPlanning[] = "planning-token-0c9d";
constexpr char kReader[] = "reader-token-77f2";
constexpr char kAdmin[] = "admin-token-3b48";
constexpr char kFy2021[] = "strategies/s/kpis/share/observations/fy2021";

std::string HexDigest(std::string_view token) {
  const Digest digest = Sha256(token);
  return absl::BytesToHexString(absl::string_view(
      reinterpret_cast<const char*>(digest.data()), digest.size()));
}

// "actor method resource" of a change.
std::string Who(const v1::Change& c) {
  return absl::StrCat(c.actor(), " ", c.method(), " ", c.resource());
}

class AuditTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string pattern =
        (std::filesystem::temp_directory_path() / "kpi_audit_test_XXXXXX")
            .string();
    ASSERT_NE(mkdtemp(pattern.data()), nullptr);
    dir_ = pattern;
    const std::string tokens = (dir_ / "tokens.txt").string();
    std::ofstream(tokens) << "writer " << HexDigest(kStatsOffice)
                          << " stats-office\n"
                          << "writer " << HexDigest(kPlanning)
                          << " 企画政策課\n"
                          << "reader " << HexDigest(kReader) << " city-portal\n"
                          << "admin " << HexDigest(kAdmin) << " it-admin\n";
    AuthOptions auth;
    auth.tokens_file = tokens;
    auth.log_sink = [](std::string_view) {};
    absl::StatusOr<std::unique_ptr<Authorizer>> authorizer =
        Authorizer::Create(std::move(auth));
    ASSERT_TRUE(authorizer.ok()) << authorizer.status();
    authorizer_ = *std::move(authorizer);
    ServerOptions options;
    options.authorizer = authorizer_.get();
    server_ = TestServer::Start(std::move(options));
    ASSERT_NE(server_, nullptr);
    absl::StatusOr<v1::Dataset> dataset = DatasetFromJson(kTestDatasetJson);
    ASSERT_TRUE(dataset.ok()) << dataset.status();
    v1::ImportDatasetRequest import;
    *import.mutable_dataset() = *dataset;
    v1::ImportDatasetResponse imported;
    ASSERT_TRUE(
        Call(kAdmin, &v1::KpiService::Stub::ImportDataset, import, &imported)
            .ok());
  }

  void TearDown() override {
    server_.reset();
    std::error_code ignored;
    std::filesystem::remove_all(dir_, ignored);
  }

  template <typename Request, typename Response>
  grpc::Status Call(const char* token,
                    grpc::Status (v1::KpiService::Stub::*method)(
                        grpc::ClientContext*, const Request&, Response*),
                    const Request& request, Response* response) {
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() +
                         std::chrono::seconds(10));
    if (token != nullptr) {
      context.AddMetadata("authorization", absl::StrCat("Bearer ", token));
    }
    return (server_->kpi().*method)(&context, request, response);
  }

  grpc::Status UpdateValue(const char* token, const std::string& name,
                           double value, const std::string& reason,
                           const std::string& etag = "") {
    v1::UpdateObservationRequest request;
    request.mutable_observation()->set_name(name);
    request.mutable_observation()->set_value(value);
    request.mutable_observation()->set_etag(etag);
    request.mutable_update_mask()->add_paths("value");
    request.set_reason(reason);
    v1::Observation response;
    return Call(token, &v1::KpiService::Stub::UpdateObservation, request,
                &response);
  }

  // Every change the admin can list with `request`'s filters, newest first.
  std::vector<v1::Change> Changes(v1::ListChangesRequest request = {}) {
    std::vector<v1::Change> out;
    request.set_page_size(7);
    for (int pages = 0; pages < 100; ++pages) {
      v1::ListChangesResponse response;
      const grpc::Status status =
          Call(kAdmin, &v1::KpiService::Stub::ListChanges, request, &response);
      EXPECT_TRUE(status.ok()) << status.error_message();
      if (!status.ok()) break;
      out.insert(out.end(), response.changes().begin(),
                 response.changes().end());
      if (response.next_page_token().empty()) break;
      request.set_page_token(response.next_page_token());
    }
    return out;
  }

  std::vector<std::string> WhoDidWhat(v1::ListChangesRequest request = {}) {
    std::vector<std::string> out;
    for (const v1::Change& c : Changes(request)) out.push_back(Who(c));
    return out;
  }

  std::filesystem::path dir_;
  std::unique_ptr<Authorizer> authorizer_;
  std::unique_ptr<TestServer> server_;
};

TEST_F(AuditTest, EachWriteRecordsTheLabelOfItsToken) {
  ASSERT_TRUE(UpdateValue(kStatsOffice, kFy2021, 45, "確定値").ok());
  ASSERT_TRUE(UpdateValue(kPlanning, kFy2021, 46, "再集計").ok());

  v1::CreateObservationRequest create;
  create.set_parent("strategies/s/kpis/share");
  create.set_observation_id("fy2022");
  create.mutable_observation()->set_fiscal_year(2022);
  create.mutable_observation()->set_value(47);
  v1::Observation created;
  ASSERT_TRUE(Call(kPlanning, &v1::KpiService::Stub::CreateObservation, create,
                   &created)
                  .ok());
  v1::UpdateKpiRequest update_kpi;
  update_kpi.mutable_kpi()->set_name("strategies/s/kpis/share");
  update_kpi.mutable_kpi()->set_display_name("市民満足度");
  update_kpi.mutable_update_mask()->add_paths("display_name");
  v1::Kpi kpi;
  ASSERT_TRUE(
      Call(kStatsOffice, &v1::KpiService::Stub::UpdateKpi, update_kpi, &kpi)
          .ok());
  v1::DeleteObservationRequest del;
  del.set_name(created.name());
  google::protobuf::Empty empty;
  ASSERT_TRUE(
      Call(kAdmin, &v1::KpiService::Stub::DeleteObservation, del, &empty).ok());

  const std::vector<v1::Change> changes = Changes();
  ASSERT_THAT(changes, SizeIs(kTestDatasetSize + 5));
  std::vector<std::string> newest;
  for (int i = 0; i < 5; ++i) newest.push_back(Who(changes[i]));
  EXPECT_THAT(
      newest,
      ElementsAre("it-admin DeleteObservation "
                  "strategies/s/kpis/share/observations/fy2022",
                  "stats-office UpdateKpi strategies/s/kpis/share",
                  "企画政策課 CreateObservation "
                  "strategies/s/kpis/share/observations/fy2022",
                  absl::StrCat("企画政策課 UpdateObservation ", kFy2021),
                  absl::StrCat("stats-office UpdateObservation ", kFy2021)));
  EXPECT_EQ(changes[4].summary(), "value 44 -> 45; reason: 確定値");
  EXPECT_EQ(changes[3].etag_before(), changes[4].etag_after());
  EXPECT_EQ(changes[2].etag_before(), "");
  EXPECT_EQ(changes[0].etag_after(), "");
  EXPECT_GT(changes[0].change_time().seconds(), 1700000000);
  for (size_t i = 5; i < changes.size(); ++i) {
    EXPECT_EQ(changes[i].actor(), "it-admin");
    EXPECT_EQ(changes[i].method(), "ImportDataset");
  }

  // The revision history shows who ended each earlier state.
  v1::GetObservationRequest get;
  get.set_name(kFy2021);
  v1::Observation observation;
  ASSERT_TRUE(
      Call(kReader, &v1::KpiService::Stub::GetObservation, get, &observation)
          .ok());
  ASSERT_EQ(observation.revisions_size(), 2);
  EXPECT_EQ(observation.revisions(0).value(), 44);
  EXPECT_EQ(observation.revisions(0).actor(), "stats-office");
  EXPECT_EQ(observation.revisions(0).reason(), "確定値");
  EXPECT_EQ(observation.revisions(1).value(), 45);
  EXPECT_EQ(observation.revisions(1).actor(), "企画政策課");

  // Filters: by actor, and by a resource with what is under it.
  v1::ListChangesRequest by_actor;
  by_actor.set_actor("企画政策課");
  EXPECT_THAT(WhoDidWhat(by_actor), SizeIs(2));
  v1::ListChangesRequest by_resource;
  by_resource.set_resource("strategies/s/kpis/share");
  // The KPI, its 3 imported observations, fy2022 twice, 2 updates of fy2021,
  // the KPI's update.
  EXPECT_THAT(WhoDidWhat(by_resource), SizeIs(1 + 3 + 2 + 2 + 1));
}

TEST_F(AuditTest, OnlyAnAdminListsChanges) {
  v1::ListChangesRequest request;
  v1::ListChangesResponse response;
  for (const char* token : {kReader, kStatsOffice}) {
    const grpc::Status status =
        Call(token, &v1::KpiService::Stub::ListChanges, request, &response);
    EXPECT_EQ(status.error_code(), grpc::StatusCode::PERMISSION_DENIED);
    EXPECT_THAT(status.error_message(),
                HasSubstr("/kpi.v1.KpiService/ListChanges needs role admin"));
  }
  EXPECT_EQ(
      Call(nullptr, &v1::KpiService::Stub::ListChanges, request, &response)
          .error_code(),
      grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_TRUE(
      Call(kAdmin, &v1::KpiService::Stub::ListChanges, request, &response)
          .ok());
  EXPECT_THAT(response.changes(), SizeIs(kTestDatasetSize));
}

TEST_F(AuditTest, AFailedWriteLeavesNoChange) {
  // The etag the import gave, made stale by an admin's correction.
  const std::string stale = Changes()[0].etag_after();
  ASSERT_TRUE(UpdateValue(kAdmin, kFy2021, 45, "確定値").ok());
  const std::vector<v1::Change> before = Changes();
  // A stale etag, a value the store refuses, a parent that does not exist.
  EXPECT_EQ(UpdateValue(kStatsOffice, kFy2021, 46, "x", stale).error_code(),
            grpc::StatusCode::ABORTED);
  EXPECT_EQ(UpdateValue(kStatsOffice, kFy2021,
                        -std::numeric_limits<double>::infinity(), "x")
                .error_code(),
            grpc::StatusCode::INVALID_ARGUMENT);
  v1::CreateObservationRequest create;
  create.set_parent("strategies/s/kpis/nope");
  create.set_observation_id("fy2022");
  create.mutable_observation()->set_fiscal_year(2022);
  v1::Observation created;
  EXPECT_NE(Call(kStatsOffice, &v1::KpiService::Stub::CreateObservation, create,
                 &created)
                .error_code(),
            grpc::StatusCode::OK);
  // A delete the writer may not make is refused before any handler runs.
  v1::DeleteObservationRequest del;
  del.set_name(kFy2021);
  google::protobuf::Empty empty;
  EXPECT_EQ(
      Call(kStatsOffice, &v1::KpiService::Stub::DeleteObservation, del, &empty)
          .error_code(),
      grpc::StatusCode::PERMISSION_DENIED);

  const std::vector<v1::Change> after = Changes();
  ASSERT_EQ(after.size(), before.size());
  for (size_t i = 0; i < after.size(); ++i) {
    EXPECT_EQ(after[i].SerializeAsString(), before[i].SerializeAsString());
  }
  v1::ListChangesRequest by_writer;
  by_writer.set_actor("stats-office");
  EXPECT_THAT(Changes(by_writer), IsEmpty());
}

TEST_F(AuditTest, RefusesMalformedListRequests) {
  v1::ListChangesRequest request;
  v1::ListChangesResponse response;
  request.set_resource("strategies/S");
  EXPECT_INVALID_FIELD(
      Call(kAdmin, &v1::KpiService::Stub::ListChanges, request, &response),
      "resource");
  request.Clear();
  request.set_page_token("not-a-token");
  EXPECT_INVALID_FIELD(
      Call(kAdmin, &v1::KpiService::Stub::ListChanges, request, &response),
      "page_token");
  request.Clear();
  request.mutable_start_time()->set_seconds(2000000000);
  request.mutable_end_time()->set_seconds(1000000000);
  EXPECT_INVALID_FIELD(
      Call(kAdmin, &v1::KpiService::Stub::ListChanges, request, &response),
      "end_time");
  request.Clear();
  request.set_page_size(-1);
  EXPECT_INVALID_FIELD(
      Call(kAdmin, &v1::KpiService::Stub::ListChanges, request, &response),
      "page_size");
}

// A server that authenticates no one records its writers as "anonymous".
TEST(AuditWithoutAuthTest, WritesAreAnonymous) {
  std::unique_ptr<TestServer> server = TestServer::Start();
  ASSERT_NE(server, nullptr);
  absl::StatusOr<v1::Dataset> dataset = DatasetFromJson(kTestDatasetJson);
  ASSERT_TRUE(dataset.ok());
  v1::ImportDatasetRequest import;
  *import.mutable_dataset() = *dataset;
  v1::ImportDatasetResponse imported;
  grpc::ClientContext import_context;
  ASSERT_TRUE(
      server->kpi().ImportDataset(&import_context, import, &imported).ok());
  grpc::ClientContext context;
  v1::ListChangesResponse response;
  ASSERT_TRUE(server->kpi()
                  .ListChanges(&context, v1::ListChangesRequest(), &response)
                  .ok());
  std::vector<std::string> actors;
  for (const v1::Change& c : response.changes()) actors.push_back(c.actor());
  EXPECT_THAT(actors, SizeIs(kTestDatasetSize));
  EXPECT_THAT(actors, Each(std::string(kAnonymousAuthor)));
}

}  // namespace
}  // namespace kpi::services::testing
