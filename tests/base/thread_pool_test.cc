#include "lib/base/thread_pool.h"

#include <atomic>
#include <set>
#include <thread>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace kpi::base {
namespace {

using ::testing::Contains;
using ::testing::ElementsAre;
using ::testing::Not;

// Waits until `flag` is at least `value`, up to 10 s; true when it got there.
bool WaitFor(const std::atomic<int>& flag, int value) {
  const absl::Time deadline = absl::Now() + absl::Seconds(10);
  while (flag.load() < value) {
    if (absl::Now() > deadline) return false;
    absl::SleepFor(absl::Milliseconds(1));
  }
  return true;
}

TEST(ThreadPoolTest, RunsTasksInOrderOnItsOwnThread) {
  absl::Mutex mu;
  std::vector<int> order;
  std::set<std::thread::id> ran_on;
  {
    ThreadPool pool(1);
    EXPECT_EQ(pool.size(), 1);
    for (int i = 0; i < 5; ++i) {
      pool.Schedule([&, i] {
        absl::MutexLock lock(&mu);
        order.push_back(i);
        ran_on.insert(std::this_thread::get_id());
      });
    }
  }
  EXPECT_THAT(order, ElementsAre(0, 1, 2, 3, 4));
  EXPECT_EQ(ran_on.size(), 1u);
  EXPECT_THAT(ran_on, Not(Contains(std::this_thread::get_id())));
}

TEST(ThreadPoolTest, RunsAsManyTasksAtOnceAsItHasThreads) {
  constexpr int kThreads = 4;
  ThreadPool pool(kThreads);
  ASSERT_EQ(pool.size(), kThreads);
  // Each task waits until all have started, which they can only do if the
  // pool runs kThreads of them at the same time.
  std::atomic<int> started{0};
  std::atomic<int> met{0};
  for (int i = 0; i < kThreads; ++i) {
    pool.Schedule([&] {
      ++started;
      if (WaitFor(started, kThreads)) ++met;
    });
  }
  ASSERT_TRUE(WaitFor(met, kThreads));
  EXPECT_EQ(met.load(), kThreads);
}

TEST(ThreadPoolTest, AtLeastOneThread) {
  ThreadPool pool(0);
  EXPECT_EQ(pool.size(), 1);
  std::atomic<int> ran{0};
  pool.Schedule([&] { ++ran; });
  EXPECT_TRUE(WaitFor(ran, 1));
}

TEST(ThreadPoolTest, DestructionDrainsTheQueueAndTasksScheduledByTasks) {
  std::atomic<int> ran{0};
  std::atomic<int> children{0};
  // The first tasks hold both threads until after the destructor started,
  // so that it starts with a full queue.
  std::atomic<int> release{0};
  std::thread releaser;
  {
    ThreadPool pool(2);
    pool.Schedule([&] { WaitFor(release, 1); });
    pool.Schedule([&] { WaitFor(release, 1); });
    for (int i = 0; i < 1000; ++i) {
      pool.Schedule([&] {
        ++ran;
        pool.Schedule([&] { ++children; });
      });
    }
    EXPECT_EQ(ran.load(), 0);
    releaser = std::thread([&] {
      absl::SleepFor(absl::Milliseconds(50));
      release = 1;
    });
  }
  releaser.join();
  EXPECT_EQ(ran.load(), 1000);
  EXPECT_EQ(children.load(), 1000);
}

TEST(ThreadPoolTest, ScheduleFromManyThreads) {
  std::atomic<int> ran{0};
  {
    ThreadPool pool(3);
    std::vector<std::thread> producers;
    for (int p = 0; p < 8; ++p) {
      producers.emplace_back([&] {
        for (int i = 0; i < 500; ++i) pool.Schedule([&] { ++ran; });
      });
    }
    for (std::thread& t : producers) t.join();
  }
  EXPECT_EQ(ran.load(), 8 * 500);
}

}  // namespace
}  // namespace kpi::base
