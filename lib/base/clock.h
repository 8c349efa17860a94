#ifndef KPI_LIB_BASE_CLOCK_H_
#define KPI_LIB_BASE_CLOCK_H_

#include <atomic>
#include <cstdint>

#include "absl/time/time.h"

namespace kpi::base {

// Source of the current time, injectable so that tests are deterministic.
// Implementations are thread-safe.
class Clock {
 public:
  virtual ~Clock() = default;
  virtual absl::Time Now() const = 0;

  // The process-wide real-time clock. Never null; never destroyed.
  static const Clock* Real();
};

// A clock that returns a set time and advances only when told. Thread-safe.
class FakeClock : public Clock {
 public:
  explicit FakeClock(absl::Time start) : now_(absl::ToUnixNanos(start)) {}
  absl::Time Now() const override;
  void Advance(absl::Duration d);
  void Set(absl::Time t);

 private:
  std::atomic<int64_t> now_;
};

}  // namespace kpi::base

#endif  // KPI_LIB_BASE_CLOCK_H_
