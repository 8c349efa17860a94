#include "lib/base/parallel_for.h"

#include <atomic>
#include <memory>
#include <thread>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace kpi::base {
namespace {

using ::testing::Each;

// Runs each scheduled task on its own thread; joins them when destroyed.
class ThreadPerTask {
 public:
  ~ThreadPerTask() {
    for (std::thread& t : threads_) t.join();
  }
  void operator()(absl::AnyInvocable<void() &&> task) {
    threads_.emplace_back([t = std::move(task)]() mutable { std::move(t)(); });
  }
  int scheduled() const { return static_cast<int>(threads_.size()); }

 private:
  std::vector<std::thread> threads_;
};

TEST(ParallelForTest, RunsEveryIndexExactlyOnce) {
  for (int helpers : {0, 1, 3}) {
    ThreadPerTask executor;
    std::vector<std::atomic<int>> calls(1000);
    ParallelFor(
        1000, helpers, [&](auto task) { executor(std::move(task)); },
        [&](int i) { calls[i].fetch_add(1); });
    for (int i = 0; i < 1000; ++i) ASSERT_EQ(calls[i].load(), 1) << i;
    EXPECT_EQ(executor.scheduled(), helpers);
  }
}

TEST(ParallelForTest, HelpersShareTheWork) {
  // Each body waits until a second thread has entered a body, so the call
  // only returns if a helper really ran some of the indices.
  ThreadPerTask executor;
  absl::Mutex mu;
  std::vector<std::thread::id> ran_on;
  int inside = 0;
  ParallelFor(
      2, 1, [&](auto task) { executor(std::move(task)); },
      [&](int) {
        absl::MutexLock lock(&mu);
        ran_on.push_back(std::this_thread::get_id());
        ++inside;
        mu.Await(absl::Condition(
            +[](int* n) { return *n >= 2; }, &inside));
      });
  ASSERT_EQ(ran_on.size(), 2u);
  EXPECT_NE(ran_on[0], ran_on[1]);
}

TEST(ParallelForTest, NeverWaitsForAHelperThatHasNotStarted) {
  // The executor holds every task until after ParallelFor returned: the
  // caller does all the work itself, and the late helpers touch nothing.
  std::vector<absl::AnyInvocable<void() &&>> held;
  std::vector<int> seen;
  ParallelFor(
      50, 4, [&](auto task) { held.push_back(std::move(task)); },
      [&](int i) { seen.push_back(i); });
  ASSERT_EQ(seen.size(), 50u);
  for (int i = 0; i < 50; ++i) EXPECT_EQ(seen[i], i);
  EXPECT_EQ(held.size(), 4u);
  for (auto& task : held) std::move(task)();  // after the call: no effect
  EXPECT_EQ(seen.size(), 50u);
}

TEST(ParallelForTest, NothingToDo) {
  int scheduled = 0;
  ParallelFor(
      0, 4, [&](auto) { ++scheduled; }, [&](int) { FAIL(); });
  EXPECT_EQ(scheduled, 0);
  // One index: no helper is worth scheduling.
  int calls = 0;
  ParallelFor(
      1, 4, [&](auto) { ++scheduled; }, [&](int) { ++calls; });
  EXPECT_EQ(scheduled, 0);
  EXPECT_EQ(calls, 1);
}

}  // namespace
}  // namespace kpi::base
