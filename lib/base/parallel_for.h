#ifndef KPI_LIB_BASE_PARALLEL_FOR_H_
#define KPI_LIB_BASE_PARALLEL_FOR_H_

#include "absl/functional/any_invocable.h"
#include "absl/functional/function_ref.h"

namespace kpi::base {

// Hands a task to some executor; the task runs once, at any later time.
using Schedule = absl::FunctionRef<void(absl::AnyInvocable<void() &&>)>;

// Runs body(i) for every i in [0, n) on the calling thread and on up to
// `helpers` tasks handed to `schedule`, each taking the next unclaimed index
// until none is left. Returns when every body(i) has returned.
//
// The caller never waits for a helper that has not started: a helper that
// starts after all indices are claimed returns at once without touching
// `body`. So a busy executor (threads blocked on storage, say) only costs
// the parallelism, never progress, and a call can't deadlock on its
// executor. `body` must be safe to call concurrently for distinct indices.
// Thread-safe.
void ParallelFor(int n, int helpers, Schedule schedule,
                 absl::FunctionRef<void(int)> body);

}  // namespace kpi::base

#endif  // KPI_LIB_BASE_PARALLEL_FOR_H_
