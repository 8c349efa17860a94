// Strict input (issue 10, point 5) through a real server on a real SQLite
// file: what a hostile or careless client sends is refused with the right
// code and a message that quotes no more than a short prefix of the input
// and shows no internals (SQL, paths).

#include <grpcpp/generic/generic_stub.h>

#include <condition_variable>
#include <mutex>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "lib/storage/sqlite/sqlite_database.h"
#include "tests/services/test_server.h"

namespace kpi::services::testing {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;
using Stub = v1::KpiService::Stub;

class StrictInputTest : public ::testing::Test {
 protected:
  void SetUp() override {
    server_ = TestServer::Start();
    ASSERT_NE(server_, nullptr);
    server_->ImportTestDataset();
  }

  Stub& kpi() { return server_->kpi(); }

  std::unique_ptr<TestServer> server_;
};

TEST_F(StrictInputTest, CreateObservationUnderAMissingKpiIsNotFound) {
  v1::CreateObservationRequest create;
  create.set_parent("strategies/s/kpis/missing");
  create.set_observation_id("fy2022");
  create.mutable_observation()->set_fiscal_year(2022);
  create.mutable_observation()->set_value(10);
  v1::Observation out;
  const grpc::Status status =
      Call(kpi(), &Stub::CreateObservation, create, &out);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::NOT_FOUND)
      << status.error_message();
  EXPECT_THAT(status.error_message(),
              HasSubstr("strategies/s/kpis/missing does not exist"));
  // A missing strategy under a KPI to create, too.
  v1::CreateKpiRequest kpi_create;
  kpi_create.set_parent("strategies/nowhere");
  kpi_create.set_kpi_id("k");
  kpi_create.mutable_kpi()->set_display_name("k");
  kpi_create.mutable_kpi()->set_measure("strategies/nowhere/measures/m1");
  kpi_create.mutable_kpi()->set_kind(v1::KPI_KIND_LEVEL);
  kpi_create.mutable_kpi()->set_direction(v1::DIRECTION_INCREASE);
  v1::Kpi created;
  EXPECT_EQ(Call(kpi(), &Stub::CreateKpi, kpi_create, &created).error_code(),
            grpc::StatusCode::NOT_FOUND);
}

TEST_F(StrictInputTest, FilterConditionsAreCapped) {
  // 999 conditions (the case) exceed the filter's length cap.
  std::vector<std::string> conditions(999, "fiscal_year >= 2000");
  v1::ListObservationsRequest list;
  list.set_parent("strategies/s/kpis/share");
  list.set_filter(absl::StrJoin(conditions, " AND "));
  v1::ListObservationsResponse listed;
  grpc::Status status = Call(kpi(), &Stub::ListObservations, list, &listed);
  EXPECT_INVALID_FIELD(status, "filter");
  EXPECT_THAT(status.error_message(), HasSubstr("at most 1000 characters"));
  EXPECT_THAT(status.error_message(), Not(HasSubstr("SELECT")));
  EXPECT_LT(status.error_message().size(), 1024u);

  // 17 short conditions fit in the length cap but not the conditions cap.
  conditions.resize(17);
  list.set_filter(absl::StrJoin(conditions, " AND "));
  status = Call(kpi(), &Stub::ListObservations, list, &listed);
  EXPECT_INVALID_FIELD(status, "filter");
  EXPECT_THAT(status.error_message(), HasSubstr("17 conditions"));
  EXPECT_THAT(status.error_message(), HasSubstr("at most 16"));
  EXPECT_THAT(status.error_message(), Not(HasSubstr("SELECT")));

  // 16 are accepted.
  conditions.resize(16);
  list.set_filter(absl::StrJoin(conditions, " AND "));
  EXPECT_TRUE(Call(kpi(), &Stub::ListObservations, list, &listed).ok());
  EXPECT_EQ(listed.observations_size(), 3);
}

// A store fault (here a table dropped behind the server's back) is INTERNAL
// with a message that blames the server and gives a request id; the SQL and
// the store's own message are in the server's log under that id only.
TEST_F(StrictInputTest, InternalErrorsGiveARequestIdFoundInTheLog) {
  {
    auto db = storage::OpenSqliteDatabase(
        (server_->dir() / "kpi.sqlite3").string(), 1);
    ASSERT_TRUE(db.ok()) << db.status();
    ASSERT_TRUE(
        (*db)
            ->Transact(storage::TransactionMode::kWrite,
                       [](storage::SqlTransaction& tx) {
                         return tx.Exec("DROP TABLE evaluations", {}).status();
                       })
            .ok());
  }
  v1::ListEvaluationsRequest list;
  list.set_parent("strategies/s/measures/m1");
  v1::ListEvaluationsResponse listed;
  const grpc::Status status =
      Call(kpi(), &Stub::ListEvaluations, list, &listed);
  ASSERT_EQ(status.error_code(), grpc::StatusCode::INTERNAL);
  const std::string& message = status.error_message();
  EXPECT_THAT(message, HasSubstr("the server's fault"));
  EXPECT_THAT(message, Not(HasSubstr("SELECT")));
  EXPECT_THAT(message, Not(HasSubstr("sqlite")));
  EXPECT_THAT(message, Not(HasSubstr("evaluations")));
  EXPECT_TRUE(status.error_details().empty());
  const size_t at = message.find("request id ");
  ASSERT_NE(at, std::string::npos) << message;
  const std::string id = message.substr(at + 11, 16);
  ASSERT_EQ(id.size(), 16u) << message;
  bool logged = false;
  for (const std::string& line : server_->log()) {
    if (absl::StrContains(line, id) && absl::StrContains(line, "sqlite")) {
      logged = true;
    }
  }
  EXPECT_TRUE(logged) << absl::StrJoin(server_->log(), "\n");
}

// Bytes that are not a protobuf message of the method's request type.
TEST_F(StrictInputTest, MalformedProtobufIsInvalidArgument) {
  grpc::GenericStub generic(server_->channel());
  // Field 1 (name) as a length-delimited string of 100 bytes, cut after 3.
  const std::string bytes =
      "\x0a\x64"
      "abc";
  grpc::Slice slice(bytes);
  grpc::ByteBuffer request(&slice, 1);
  grpc::ByteBuffer response;
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() +
                       std::chrono::seconds(5));
  grpc::Status status;
  std::mutex mu;
  std::condition_variable done_cv;
  bool done = false;
  generic.UnaryCall(&context, "/kpi.v1.KpiService/GetKpi", grpc::StubOptions(),
                    &request, &response, [&](grpc::Status s) {
                      std::lock_guard<std::mutex> lock(mu);
                      status = std::move(s);
                      done = true;
                      done_cv.notify_one();
                    });
  {
    std::unique_lock<std::mutex> lock(mu);
    done_cv.wait(lock, [&] { return done; });
  }
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT)
      << status.error_message();
  EXPECT_THAT(status.error_message(), HasSubstr("kpi.v1.GetKpiRequest"));
  bool logged = false;
  for (const std::string& line : server_->log()) {
    if (absl::StrContains(line, "GetKpi INVALID_ARGUMENT")) logged = true;
  }
  EXPECT_TRUE(logged) << absl::StrJoin(server_->log(), "\n");
}

}  // namespace
}  // namespace kpi::services::testing
