// ProjectKpi as a callback method: cache hits validated without blocking are
// answered on gRPC's threads even while every thread of the service's pool
// is stuck on the store; calls on the pool are drained by a graceful
// shutdown; a call cancelled while it waited for the pool is finished
// without being worked on. The store is a real SQLite file behind a
// Repository that can hold GetKpi calls at a gate.

#include <grpcpp/grpcpp.h>

#include <chrono>
#include <filesystem>
#include <future>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "gmock/gmock.h"
#include "google/protobuf/util/message_differencer.h"
#include "gtest/gtest.h"
#include "lib/base/status_matchers.h"
#include "services/convert.h"
#include "services/server/kpi_service.h"
#include "services/server/server.h"
#include "tests/services/test_server.h"

namespace kpi::services::testing {
namespace {

using ::google::protobuf::util::MessageDifferencer;
using ::kpi::testing::IsOk;
using ::testing::Contains;
using ::testing::ElementsAre;
using ::testing::MatchesRegex;

// A Repository forwarding to another, whose GetKpi calls wait while the gate
// is closed, and which counts TryChangeSequence calls (ProjectKpi's handler
// makes one on gRPC's thread before it answers or queues the call).
// Thread-safe.
class GatedRepository : public storage::Repository {
 public:
  explicit GatedRepository(storage::Repository* base) : base_(base) {}

  void Close() {
    absl::MutexLock lock(&mu_);
    open_ = false;
  }
  void Open() {
    absl::MutexLock lock(&mu_);
    open_ = true;
  }
  // Waits up to 10 s until `n` GetKpi calls wait at the gate.
  bool AwaitWaiting(int n) {
    absl::MutexLock lock(&mu_);
    auto enough = [this, n]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
      return waiting_ >= n;
    };
    return mu_.AwaitWithTimeout(absl::Condition(&enough), absl::Seconds(10));
  }
  // Waits up to 10 s until TryChangeSequence was called `n` times.
  bool AwaitTries(int n) {
    absl::MutexLock lock(&mu_);
    auto enough = [this, n]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
      return tries_ >= n;
    };
    return mu_.AwaitWithTimeout(absl::Condition(&enough), absl::Seconds(10));
  }
  // The names GetKpi was called with, in order.
  std::vector<std::string> requested() {
    absl::MutexLock lock(&mu_);
    return requested_;
  }

  absl::StatusOr<domain::Kpi> GetKpi(std::string_view name) override {
    {
      absl::MutexLock lock(&mu_);
      requested_.emplace_back(name);
      ++waiting_;
      mu_.Await(absl::Condition(&open_));
      --waiting_;
    }
    return base_->GetKpi(name);
  }

  absl::StatusOr<int64_t> ChangeSequence() override {
    return base_->ChangeSequence();
  }
  std::optional<int64_t> TryChangeSequence() override {
    {
      absl::MutexLock lock(&mu_);
      ++tries_;
    }
    return base_->TryChangeSequence();
  }
  absl::StatusOr<std::vector<domain::Observation>> AllObservations(
      std::string_view kpi) override {
    return base_->AllObservations(kpi);
  }
  absl::StatusOr<domain::Reference> GetReference(
      std::string_view name) override {
    return base_->GetReference(name);
  }

  // The rest only forwards.
  absl::StatusOr<storage::Page<domain::Reference>> ListReferences(
      const storage::ListRequest& request) override {
    return base_->ListReferences(request);
  }
  absl::StatusOr<domain::Reference> CreateReference(
      const domain::Reference& reference) override {
    return base_->CreateReference(reference);
  }
  absl::StatusOr<domain::Reference> UpdateReference(
      const domain::Reference& reference,
      std::string_view expected_etag) override {
    return base_->UpdateReference(reference, expected_etag);
  }
  absl::Status DeleteReference(std::string_view name,
                               std::string_view expected_etag,
                               bool force) override {
    return base_->DeleteReference(name, expected_etag, force);
  }
  absl::StatusOr<domain::Strategy> GetStrategy(std::string_view name) override {
    return base_->GetStrategy(name);
  }
  absl::StatusOr<storage::Page<domain::Strategy>> ListStrategies(
      const storage::ListRequest& request) override {
    return base_->ListStrategies(request);
  }
  absl::StatusOr<domain::Strategy> CreateStrategy(
      const domain::Strategy& strategy) override {
    return base_->CreateStrategy(strategy);
  }
  absl::StatusOr<domain::Strategy> UpdateStrategy(
      const domain::Strategy& strategy,
      std::string_view expected_etag) override {
    return base_->UpdateStrategy(strategy, expected_etag);
  }
  absl::Status DeleteStrategy(std::string_view name,
                              std::string_view expected_etag,
                              bool force) override {
    return base_->DeleteStrategy(name, expected_etag, force);
  }
  absl::StatusOr<domain::Goal> GetGoal(std::string_view name) override {
    return base_->GetGoal(name);
  }
  absl::StatusOr<storage::Page<domain::Goal>> ListGoals(
      const storage::ListRequest& request) override {
    return base_->ListGoals(request);
  }
  absl::StatusOr<domain::Goal> CreateGoal(const domain::Goal& goal) override {
    return base_->CreateGoal(goal);
  }
  absl::StatusOr<domain::Goal> UpdateGoal(
      const domain::Goal& goal, std::string_view expected_etag) override {
    return base_->UpdateGoal(goal, expected_etag);
  }
  absl::Status DeleteGoal(std::string_view name, std::string_view expected_etag,
                          bool force) override {
    return base_->DeleteGoal(name, expected_etag, force);
  }
  absl::StatusOr<domain::Measure> GetMeasure(std::string_view name) override {
    return base_->GetMeasure(name);
  }
  absl::StatusOr<storage::Page<domain::Measure>> ListMeasures(
      const storage::ListRequest& request) override {
    return base_->ListMeasures(request);
  }
  absl::StatusOr<domain::Measure> CreateMeasure(
      const domain::Measure& measure) override {
    return base_->CreateMeasure(measure);
  }
  absl::StatusOr<domain::Measure> UpdateMeasure(
      const domain::Measure& measure, std::string_view expected_etag) override {
    return base_->UpdateMeasure(measure, expected_etag);
  }
  absl::Status DeleteMeasure(std::string_view name,
                             std::string_view expected_etag,
                             bool force) override {
    return base_->DeleteMeasure(name, expected_etag, force);
  }
  absl::StatusOr<storage::Page<domain::Kpi>> ListKpis(
      const storage::ListRequest& request) override {
    return base_->ListKpis(request);
  }
  absl::StatusOr<domain::Kpi> CreateKpi(const domain::Kpi& kpi) override {
    return base_->CreateKpi(kpi);
  }
  absl::StatusOr<domain::Kpi> UpdateKpi(
      const domain::Kpi& kpi, std::string_view expected_etag) override {
    return base_->UpdateKpi(kpi, expected_etag);
  }
  absl::Status DeleteKpi(std::string_view name, std::string_view expected_etag,
                         bool force) override {
    return base_->DeleteKpi(name, expected_etag, force);
  }
  absl::StatusOr<domain::Observation> GetObservation(
      std::string_view name) override {
    return base_->GetObservation(name);
  }
  absl::StatusOr<storage::Page<domain::Observation>> ListObservations(
      const storage::ListRequest& request) override {
    return base_->ListObservations(request);
  }
  absl::StatusOr<domain::Observation> CreateObservation(
      const domain::Observation& observation) override {
    return base_->CreateObservation(observation);
  }
  absl::StatusOr<domain::Observation> UpdateObservation(
      const domain::Observation& observation, std::string_view expected_etag,
      std::string_view reason) override {
    return base_->UpdateObservation(observation, expected_etag, reason);
  }
  absl::Status DeleteObservation(std::string_view name,
                                 std::string_view expected_etag,
                                 bool force) override {
    return base_->DeleteObservation(name, expected_etag, force);
  }
  absl::StatusOr<domain::Evaluation> GetEvaluation(
      std::string_view name) override {
    return base_->GetEvaluation(name);
  }
  absl::StatusOr<storage::Page<domain::Evaluation>> ListEvaluations(
      const storage::ListRequest& request) override {
    return base_->ListEvaluations(request);
  }
  absl::StatusOr<domain::Evaluation> CreateEvaluation(
      const domain::Evaluation& evaluation) override {
    return base_->CreateEvaluation(evaluation);
  }
  absl::StatusOr<domain::Evaluation> UpdateEvaluation(
      const domain::Evaluation& evaluation,
      std::string_view expected_etag) override {
    return base_->UpdateEvaluation(evaluation, expected_etag);
  }
  absl::Status DeleteEvaluation(std::string_view name,
                                std::string_view expected_etag,
                                bool force) override {
    return base_->DeleteEvaluation(name, expected_etag, force);
  }
  absl::StatusOr<storage::ImportResult> ImportDataset(
      const domain::Dataset& dataset) override {
    return base_->ImportDataset(dataset);
  }
  absl::StatusOr<storage::ImportResult> ValidateImport(
      const domain::Dataset& dataset) override {
    return base_->ValidateImport(dataset);
  }
  absl::StatusOr<std::optional<storage::ImportResult>>
  ImportDatasetIntoEmptyStore(const domain::Dataset& dataset) override {
    return base_->ImportDatasetIntoEmptyStore(dataset);
  }
  absl::StatusOr<storage::StoredCalibration> AddCalibration(
      const storage::StoredCalibration& calibration, bool activate,
      int64_t expected_active) override {
    return base_->AddCalibration(calibration, activate, expected_active);
  }
  absl::StatusOr<int64_t> NextCalibrationVersion() override {
    return base_->NextCalibrationVersion();
  }
  absl::StatusOr<int64_t> ActiveCalibrationVersion() override {
    return base_->ActiveCalibrationVersion();
  }
  absl::StatusOr<storage::StoredCalibration> GetCalibration(
      int64_t version) override {
    return base_->GetCalibration(version);
  }
  absl::StatusOr<domain::Dataset> ExportDataset(
      std::string_view strategy) override {
    return base_->ExportDataset(strategy);
  }
  absl::StatusOr<bool> IsEmpty() override { return base_->IsEmpty(); }
  std::unique_ptr<storage::Repository> WithActor(
      std::string_view actor) override {
    return base_->WithActor(actor);
  }
  const storage::PageTokens& page_tokens() const override {
    return base_->page_tokens();
  }
  absl::StatusOr<storage::Page<storage::Change>> ListChanges(
      const storage::ChangeListRequest& request) override {
    return base_->ListChanges(request);
  }

 private:
  storage::Repository* const base_;
  absl::Mutex mu_;
  bool open_ ABSL_GUARDED_BY(mu_) = true;
  int waiting_ ABSL_GUARDED_BY(mu_) = 0;
  int tries_ ABSL_GUARDED_BY(mu_) = 0;
  std::vector<std::string> requested_ ABSL_GUARDED_BY(mu_);
};

constexpr char kShare[] = "strategies/s/kpis/share";
constexpr char kTotal[] = "strategies/s/kpis/total";
constexpr char kVisitors[] = "strategies/s/kpis/visitors";
constexpr char kProjectKpiLog[] =
    "rpc /kpi.v1.ForecastService/ProjectKpi [A-Z_]+ [0-9]+\\.[0-9][0-9]ms";

// A call in flight, through the stub's callback API.
struct PendingCall {
  grpc::ClientContext context;
  v1::ProjectKpiRequest request;
  v1::ProjectKpiResponse response;
  std::promise<grpc::Status> done;
  std::future<grpc::Status> status = done.get_future();

  bool Finished(absl::Duration wait) {
    return status.wait_for(absl::ToChronoMilliseconds(wait)) ==
           std::future_status::ready;
  }
};

// kpi_server's Server over the test dataset, with one pool thread, so that a
// single call held at the gate stalls every other call sent to the pool.
class ProjectKpiTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string pattern =
        (std::filesystem::temp_directory_path() / "kpi_project_kpi_XXXXXX")
            .string();
    ASSERT_NE(mkdtemp(pattern.data()), nullptr);
    dir_ = pattern;
    auto repository = storage::OpenRepository((dir_ / "kpi.sqlite3").string());
    ASSERT_THAT(repository.status(), IsOk());
    store_ = *std::move(repository);
    auto proto = DatasetFromJson(kTestDatasetJson);
    ASSERT_THAT(proto.status(), IsOk());
    Violations violations;
    const domain::Dataset dataset = FromProto(*proto, "", &violations);
    ASSERT_TRUE(violations.empty());
    ASSERT_THAT(ImportDomainDataset(*store_, dataset, false, "").status(),
                IsOk());
    gated_ = std::make_unique<GatedRepository>(store_.get());

    ServerOptions options;
    options.repository = gated_.get();
    options.project_kpi_threads = 1;
    options.log_sink = [this](std::string_view line) {
      absl::MutexLock lock(&mu_);
      log_.emplace_back(line);
    };
    auto server = Server::Start(std::move(options));
    ASSERT_THAT(server.status(), IsOk());
    server_ = *std::move(server);
    stub_ = v1::ForecastService::NewStub(grpc::CreateChannel(
        server_->address(), grpc::InsecureChannelCredentials()));
  }

  void TearDown() override {
    if (gated_ != nullptr) gated_->Open();
    server_.reset();
    gated_.reset();
    store_.reset();
    std::error_code ignored;
    std::filesystem::remove_all(dir_, ignored);
  }

  std::unique_ptr<PendingCall> Start(const std::string& kpi,
                                     absl::Duration deadline) {
    auto call = std::make_unique<PendingCall>();
    call->request.set_name(kpi);
    call->context.set_deadline(absl::ToChronoTime(absl::Now() + deadline));
    PendingCall* c = call.get();
    stub_->async()->ProjectKpi(&c->context, &c->request, &c->response,
                               [c](grpc::Status s) { c->done.set_value(s); });
    return call;
  }

  // Starts a call that will wait for the pool, once the `tries`-th
  // TryChangeSequence shows that its handler ran: then it is queued (a few
  // microseconds later), not still on its way to the server.
  std::unique_ptr<PendingCall> StartQueued(const std::string& kpi,
                                           absl::Duration deadline, int tries) {
    auto call = Start(kpi, deadline);
    EXPECT_TRUE(gated_->AwaitTries(tries));
    absl::SleepFor(absl::Milliseconds(50));
    return call;
  }

  // The ProjectKpi lines of the call log, once there are `n` (up to 10 s).
  std::vector<std::string> ProjectKpiLog(size_t n) {
    std::vector<std::string> lines;
    for (int i = 0; i < 1000; ++i) {
      lines.clear();
      {
        absl::MutexLock lock(&mu_);
        for (const std::string& line : log_) {
          if (line.find("/ProjectKpi ") != std::string::npos) {
            lines.push_back(line);
          }
        }
      }
      if (lines.size() >= n) break;
      absl::SleepFor(absl::Milliseconds(10));
    }
    return lines;
  }

  std::filesystem::path dir_;
  std::unique_ptr<storage::Repository> store_;
  std::unique_ptr<GatedRepository> gated_;
  std::unique_ptr<Server> server_;
  std::unique_ptr<v1::ForecastService::Stub> stub_;
  absl::Mutex mu_;
  std::vector<std::string> log_ ABSL_GUARDED_BY(mu_);
};

TEST_F(ProjectKpiTest, HitsAreAnsweredWhileThePoolIsStuckOnTheStore) {
  auto first = Start(kShare, absl::Seconds(10));
  ASSERT_THAT(first->status.get().error_code(), grpc::StatusCode::OK);

  gated_->Close();
  auto stuck = Start(kTotal, absl::Seconds(20));
  ASSERT_TRUE(gated_->AwaitWaiting(1));
  // The pool's only thread waits at the gate; a hit does not need it.
  auto hit = Start(kShare, absl::Seconds(5));
  ASSERT_TRUE(hit->Finished(absl::Seconds(5)));
  EXPECT_TRUE(hit->status.get().ok());
  EXPECT_TRUE(MessageDifferencer::Equals(hit->response, first->response));
  EXPECT_FALSE(stuck->Finished(absl::ZeroDuration()));
  // A miss does need it.
  auto miss = Start(kVisitors, absl::Seconds(20));
  EXPECT_FALSE(miss->Finished(absl::Milliseconds(200)));

  gated_->Open();
  EXPECT_TRUE(stuck->status.get().ok());
  EXPECT_TRUE(miss->status.get().ok());
  EXPECT_TRUE(miss->response.has_projection());
  EXPECT_THAT(gated_->requested(), ElementsAre(kShare, kTotal, kVisitors));
  // Every call logged once, whichever thread finished it.
  const std::vector<std::string> log = ProjectKpiLog(4);
  ASSERT_EQ(log.size(), 4u);
  for (const std::string& line : log) {
    EXPECT_THAT(line, MatchesRegex(kProjectKpiLog));
    EXPECT_THAT(line, ::testing::HasSubstr(" OK "));
  }
}

TEST_F(ProjectKpiTest, ACallCancelledWhileQueuedIsFinishedWithoutTheWork) {
  gated_->Close();
  auto stuck = Start(kTotal, absl::Seconds(20));
  ASSERT_TRUE(gated_->AwaitWaiting(1));
  auto queued = StartQueued(kShare, absl::Milliseconds(300), 2);
  EXPECT_EQ(queued->status.get().error_code(),
            grpc::StatusCode::DEADLINE_EXCEEDED);
  // The server's own deadline timer fired along with the client's; leave
  // it time to mark the call before the pool takes it.
  absl::SleepFor(absl::Milliseconds(300));
  gated_->Open();
  EXPECT_TRUE(stuck->status.get().ok());

  const std::vector<std::string> log = ProjectKpiLog(2);
  ASSERT_EQ(log.size(), 2u);
  EXPECT_THAT(
      log,
      Contains(MatchesRegex("rpc /kpi.v1.ForecastService/ProjectKpi OK .*")));
  EXPECT_THAT(log,
              Contains(MatchesRegex("rpc /kpi.v1.ForecastService/ProjectKpi "
                                    "(CANCELLED|DEADLINE_EXCEEDED) .*")));
  // The queued call never reached the store.
  EXPECT_THAT(gated_->requested(), ElementsAre(kTotal));
  // Still serving.
  auto after = Start(kShare, absl::Seconds(10));
  EXPECT_TRUE(after->status.get().ok());
}

TEST_F(ProjectKpiTest, GracefulShutdownDrainsCallsOnThePool) {
  gated_->Close();
  auto stuck = Start(kTotal, absl::Seconds(20));
  ASSERT_TRUE(gated_->AwaitWaiting(1));
  auto queued = StartQueued(kShare, absl::Seconds(20), 2);
  const absl::Time start = absl::Now();
  std::future<void> shutdown = std::async(
      std::launch::async, [this] { server_->Shutdown(absl::Seconds(15)); });
  // Shutdown waits for both calls, which wait for the store.
  EXPECT_EQ(shutdown.wait_for(std::chrono::milliseconds(300)),
            std::future_status::timeout);
  gated_->Open();
  EXPECT_TRUE(stuck->status.get().ok());
  EXPECT_TRUE(queued->status.get().ok());
  EXPECT_TRUE(queued->response.has_projection());
  shutdown.get();
  EXPECT_LT(absl::Now() - start, absl::Seconds(10));
}

TEST_F(ProjectKpiTest, ShutdownAfterTheGraceCancelsCallsQueuedForThePool) {
  gated_->Close();
  auto stuck = Start(kTotal, absl::Seconds(20));
  ASSERT_TRUE(gated_->AwaitWaiting(1));
  auto queued = StartQueued(kShare, absl::Seconds(20), 2);
  std::future<void> shutdown = std::async(std::launch::async, [this] {
    server_->Shutdown(absl::Milliseconds(200));
  });
  // After the grace both calls are cancelled, but the one at the store has
  // to come back before shutdown can return.
  EXPECT_FALSE(stuck->status.get().ok());
  EXPECT_FALSE(queued->status.get().ok());
  EXPECT_EQ(shutdown.wait_for(std::chrono::milliseconds(200)),
            std::future_status::timeout);
  gated_->Open();
  shutdown.get();
  // The queued call was finished without reaching the store.
  EXPECT_THAT(gated_->requested(), ElementsAre(kTotal));
}

}  // namespace
}  // namespace kpi::services::testing
