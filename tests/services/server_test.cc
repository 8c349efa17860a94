// The server around the services: health, the port, limits, the call log
// and graceful shutdown (reflection: reflection_test.cc).

#include <chrono>
#include <future>
#include <regex>
#include <string>
#include <thread>
#include <vector>

#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "gmock/gmock.h"
#include "google/protobuf/descriptor.h"
#include "gtest/gtest.h"
#include "services/server/kpi_service.h"
#include "tests/services/test_server.h"

namespace kpi::services::testing {
namespace {

using ::testing::Contains;
using ::testing::ContainsRegex;
using ::testing::HasSubstr;
using ::testing::MatchesRegex;
using HealthStub = grpc::health::v1::Health::Stub;
using grpc::health::v1::HealthCheckRequest;
using grpc::health::v1::HealthCheckResponse;

v1::Series SmallSeries(const std::string& id) {
  v1::Series series;
  series.set_series_id(id);
  for (int i = 0; i < 4; ++i) {
    v1::SeriesPoint* p = series.add_points();
    p->set_fiscal_year(2018 + i);
    p->set_value(10 + i);
  }
  return series;
}

TEST(ServerTest, HealthServingPerServiceName) {
  auto server = TestServer::Start();
  ASSERT_NE(server, nullptr);
  for (const char* name :
       {"kpi.v1.KpiService", "kpi.v1.ForecastService", "kpi.v1.ReportService",
        "grpc.health.v1.Health", ""}) {
    HealthCheckRequest request;
    request.set_service(name);
    HealthCheckResponse response;
    const grpc::Status status =
        Call(server->health(), &HealthStub::Check, request, &response);
    ASSERT_TRUE(status.ok()) << name << ": " << status.error_message();
    EXPECT_EQ(response.status(), HealthCheckResponse::SERVING) << name;
  }
  HealthCheckRequest unknown;
  unknown.set_service("kpi.v1.Nope");
  HealthCheckResponse response;
  EXPECT_EQ(Call(server->health(), &HealthStub::Check, unknown, &response)
                .error_code(),
            grpc::StatusCode::NOT_FOUND);
}

TEST(ServerTest, TakenPortIsAnError) {
  auto first = TestServer::Start();
  ASSERT_NE(first, nullptr);
  ServerOptions options;
  options.listen_address = first->server().address();
  options.repository = &first->repository();
  absl::StatusOr<std::unique_ptr<Server>> second =
      Server::Start(std::move(options));
  ASSERT_FALSE(second.ok());
  EXPECT_EQ(second.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_THAT(std::string(second.status().message()),
              HasSubstr(first->server().address()));
}

TEST(ServerTest, BadOptions) {
  ServerOptions options;
  EXPECT_EQ(Server::Start(options).status().code(),
            absl::StatusCode::kInvalidArgument);
  auto server = TestServer::Start();
  ASSERT_NE(server, nullptr);
  options.repository = &server->repository();
  options.listen_address = "127.0.0.1";
  EXPECT_EQ(Server::Start(options).status().code(),
            absl::StatusCode::kInvalidArgument);
  options.listen_address = "127.0.0.1:0";
  options.max_message_bytes = 0;
  EXPECT_EQ(Server::Start(options).status().code(),
            absl::StatusCode::kInvalidArgument);
  // Below 1 MiB the largest resource the caps allow might not fit.
  options.max_message_bytes = kMinMessageBytes - 1;
  EXPECT_THAT(Server::Start(options).status().message(),
              HasSubstr("accepted: 1048576 (1 MiB) or more"));
}

TEST(ServerTest, BindsPortZeroToAFreePort) {
  auto server = TestServer::Start();
  ASSERT_NE(server, nullptr);
  EXPECT_GT(server->server().port(), 0);
  EXPECT_EQ(server->server().address(),
            absl::StrCat("127.0.0.1:", server->server().port()));
}

TEST(ServerTest, LogsOneLinePerCall) {
  auto server = TestServer::Start();
  ASSERT_NE(server, nullptr);
  server->ImportTestDataset();
  v1::GetKpiRequest request;
  request.set_name("strategies/s/kpis/share");
  v1::Kpi kpi;
  ASSERT_TRUE(
      Call(server->kpi(), &v1::KpiService::Stub::GetKpi, request, &kpi).ok());
  request.set_name("strategies/s/kpis/nope");
  ASSERT_FALSE(
      Call(server->kpi(), &v1::KpiService::Stub::GetKpi, request, &kpi).ok());
  // The server logs after sending the status; give it a moment.
  std::vector<std::string> log;
  for (int i = 0; i < 100 && (log = server->log()).size() < 3; ++i) {
    absl::SleepFor(absl::Milliseconds(10));
  }
  ASSERT_EQ(log.size(), 3u);
  EXPECT_THAT(log[0], MatchesRegex("rpc /kpi.v1.KpiService/ImportDataset OK "
                                   "[0-9]+\\.[0-9][0-9]ms"));
  EXPECT_THAT(log[1], MatchesRegex("rpc /kpi.v1.KpiService/GetKpi OK "
                                   "[0-9]+\\.[0-9][0-9]ms"));
  EXPECT_THAT(log[2], MatchesRegex("rpc /kpi.v1.KpiService/GetKpi NOT_FOUND "
                                   "[0-9]+\\.[0-9][0-9]ms"));
}

TEST(ServerTest, NoLogWhenDisabled) {
  std::vector<std::string> lines;
  ServerOptions options;
  options.log_calls = false;
  options.log_sink = [&lines](std::string_view line) {
    lines.emplace_back(line);
  };
  auto server = TestServer::Start(std::move(options));
  ASSERT_NE(server, nullptr);
  HealthCheckResponse response;
  ASSERT_TRUE(Call(server->health(), &HealthStub::Check, HealthCheckRequest(),
                   &response)
                  .ok());
  EXPECT_TRUE(lines.empty());
}

TEST(ServerTest, MessageSizeLimit) {
  ServerOptions options;
  options.max_message_bytes = kMinMessageBytes;
  auto server = TestServer::Start(std::move(options));
  ASSERT_NE(server, nullptr);
  v1::BatchProjectSeriesRequest request;
  while (request.ByteSizeLong() <= static_cast<size_t>(kMinMessageBytes)) {
    *request.add_series() = SmallSeries("x");
  }
  v1::BatchProjectSeriesResponse response;
  EXPECT_EQ(
      Call(server->forecast(), &v1::ForecastService::Stub::BatchProjectSeries,
           request, &response)
          .error_code(),
      grpc::StatusCode::RESOURCE_EXHAUSTED);
  request.mutable_series()->DeleteSubrange(1, request.series_size() - 1);
  // A small request passes, but its response (with 6 years of intervals)
  // still fits: the limit applies to what the server sends as well.
  EXPECT_TRUE(Call(server->forecast(),
                   &v1::ForecastService::Stub::BatchProjectSeries, request,
                   &response)
                  .ok());
}

TEST(ServerTest, GracefulShutdownFinishesACallInFlight) {
  auto server = TestServer::Start();
  ASSERT_NE(server, nullptr);
  grpc::ClientContext context;
  auto stream = server->forecast().StreamProjectSeries(&context);
  v1::StreamProjectSeriesRequest request;
  *request.add_series() = SmallSeries("before");
  ASSERT_TRUE(stream->Write(request));
  v1::StreamProjectSeriesResponse response;
  ASSERT_TRUE(stream->Read(&response));

  // A health watcher sees NOT_SERVING as soon as shutdown starts.
  grpc::ClientContext watch_context;
  HealthCheckRequest watch_request;
  watch_request.set_service("kpi.v1.ForecastService");
  auto watch = server->health().Watch(&watch_context, watch_request);
  HealthCheckResponse health;
  ASSERT_TRUE(watch->Read(&health));
  EXPECT_EQ(health.status(), HealthCheckResponse::SERVING);

  const absl::Time start = absl::Now();
  std::future<void> shutdown = std::async(std::launch::async, [&server] {
    server->server().Shutdown(absl::Seconds(10));
  });
  ASSERT_TRUE(watch->Read(&health));
  EXPECT_EQ(health.status(), HealthCheckResponse::NOT_SERVING);
  watch_context.TryCancel();

  // New calls are refused while the stream in flight carries on. Health
  // flips just before the listener closes, so a call made in between may
  // still be served; within a second they must all be refused.
  auto channel = grpc::CreateChannel(server->server().address(),
                                     grpc::InsecureChannelCredentials());
  auto other = v1::KpiService::NewStub(channel);
  bool refused = false;
  for (const absl::Time give_up = absl::Now() + absl::Seconds(1);
       !refused && absl::Now() < give_up;) {
    v1::ListStrategiesResponse listed;
    grpc::ClientContext new_call;
    new_call.set_deadline(std::chrono::system_clock::now() +
                          std::chrono::seconds(2));
    refused =
        !other->ListStrategies(&new_call, v1::ListStrategiesRequest(), &listed)
             .ok();
  }
  EXPECT_TRUE(refused);

  EXPECT_EQ(shutdown.wait_for(std::chrono::milliseconds(100)),
            std::future_status::timeout);
  request.clear_series();
  *request.add_series() = SmallSeries("during");
  ASSERT_TRUE(stream->Write(request));
  ASSERT_TRUE(stream->Read(&response));
  ASSERT_EQ(response.results_size(), 1);
  EXPECT_EQ(response.results(0).id(), "during");
  EXPECT_TRUE(response.results(0).has_projection());
  ASSERT_TRUE(stream->WritesDone());
  EXPECT_TRUE(stream->Finish().ok());
  shutdown.get();
  // Returned once the stream finished, well before the grace ran out.
  EXPECT_LT(absl::Now() - start, absl::Seconds(8));
}

TEST(ServerTest, ShutdownCancelsCallsStillRunningAfterTheGrace) {
  auto server = TestServer::Start();
  ASSERT_NE(server, nullptr);
  grpc::ClientContext context;
  auto stream = server->forecast().StreamProjectSeries(&context);
  v1::StreamProjectSeriesRequest request;
  *request.add_series() = SmallSeries("idle");
  ASSERT_TRUE(stream->Write(request));
  v1::StreamProjectSeriesResponse response;
  ASSERT_TRUE(stream->Read(&response));
  const absl::Time start = absl::Now();
  server->server().Shutdown(absl::Milliseconds(300));
  const absl::Duration took = absl::Now() - start;
  EXPECT_GE(took, absl::Milliseconds(250));
  EXPECT_LT(took, absl::Seconds(5));
  EXPECT_FALSE(stream->Read(&response));
  EXPECT_FALSE(stream->Finish().ok());
  // Shutting down again does nothing.
  server->server().Shutdown(absl::Seconds(10));
}

}  // namespace
}  // namespace kpi::services::testing
