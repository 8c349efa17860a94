#ifndef KPI_LIB_BASE_THREAD_POOL_H_
#define KPI_LIB_BASE_THREAD_POOL_H_

#include <deque>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/functional/any_invocable.h"
#include "absl/synchronization/mutex.h"

namespace kpi::base {

// A fixed set of threads running scheduled tasks in the order they were
// scheduled: the executor that callback gRPC handlers hand blocking work to,
// so that gRPC's own threads never wait on a store.
//
// Thread-safe: Schedule may be called from any thread, including from a
// task. Destruction runs every task scheduled so far (and any those tasks
// schedule), then joins the threads.
class ThreadPool {
 public:
  // Starts `threads` threads; fewer than 1 starts 1.
  explicit ThreadPool(int threads);
  ~ThreadPool();
  ThreadPool(const ThreadPool&) = delete;
  ThreadPool& operator=(const ThreadPool&) = delete;

  // Queues `task` to run once on one of the threads. Never fails, and does
  // not wait for a thread to be free: the queue is unbounded. Must not be
  // called once the destructor has returned; calling it from a task while
  // the destructor drains is fine.
  void Schedule(absl::AnyInvocable<void() &&> task);

  // The number of threads.
  int size() const { return static_cast<int>(threads_.size()); }

 private:
  bool HasWorkOrIsStopping() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void Work();

  absl::Mutex mu_;
  std::deque<absl::AnyInvocable<void() &&>> tasks_ ABSL_GUARDED_BY(mu_);
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  std::vector<std::thread> threads_;
};

}  // namespace kpi::base

#endif  // KPI_LIB_BASE_THREAD_POOL_H_
