#include "lib/base/clock.h"

#include "absl/time/clock.h"

namespace kpi::base {
namespace {

class RealClock : public Clock {
 public:
  absl::Time Now() const override { return absl::Now(); }
};

}  // namespace

const Clock* Clock::Real() {
  static const RealClock* const clock = new RealClock();
  return clock;
}

absl::Time FakeClock::Now() const { return absl::FromUnixNanos(now_.load()); }

void FakeClock::Advance(absl::Duration d) {
  now_.fetch_add(absl::ToInt64Nanoseconds(d));
}

void FakeClock::Set(absl::Time t) { now_.store(absl::ToUnixNanos(t)); }

}  // namespace kpi::base
