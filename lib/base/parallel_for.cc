#include "lib/base/parallel_for.h"

#include <algorithm>
#include <atomic>
#include <memory>

#include "absl/synchronization/mutex.h"

namespace kpi::base {
namespace {

// Shared by the caller and its helpers; the last one to let go frees it.
struct State {
  State(int n, absl::FunctionRef<void(int)> body) : n(n), body(body) {}

  bool AllFinished() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu) {
    return finished == n;
  }

  // Claims and runs indices until none is left.
  void Drain() {
    int done = 0;
    for (int i = next.fetch_add(1); i < n; i = next.fetch_add(1)) {
      body(i);
      ++done;
    }
    if (done == 0) return;
    absl::MutexLock lock(&mu);
    finished += done;
  }

  const int n;
  // Valid while finished < n: the caller is then still waiting.
  const absl::FunctionRef<void(int)> body;
  std::atomic<int> next{0};
  absl::Mutex mu;
  int finished ABSL_GUARDED_BY(mu) = 0;
};

}  // namespace

void ParallelFor(int n, int helpers, Schedule schedule,
                 absl::FunctionRef<void(int)> body) {
  if (n <= 0) return;
  auto state = std::make_shared<State>(n, body);
  for (int h = 0; h < std::min(helpers, n - 1); ++h) {
    schedule([state] { state->Drain(); });
  }
  state->Drain();
  absl::MutexLock lock(&state->mu);
  state->mu.Await(absl::Condition(state.get(), &State::AllFinished));
}

}  // namespace kpi::base
