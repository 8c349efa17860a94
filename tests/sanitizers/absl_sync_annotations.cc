// ThreadSanitizer builds only (KPI_SANITIZE=thread): tells TSan about the
// locks of Debian's abseil, which is not instrumented.
//
// absl::Mutex takes and releases its lock with atomics inside
// libabsl_synchronization.so, where TSan sees nothing, so every access to
// data an absl::Mutex guards would be reported as a race. Each function
// below has the name of an abseil function, so that the dynamic linker
// binds every call to it, ours and those inside libgrpc alike, to this one
// (the executable is linked with -rdynamic); it calls abseil's own and adds
// the happens-before edge TSan needs: a release on the mutex's address
// before the lock is given up, an acquire after it is taken. This models
// every lock as exclusive: two readers of a reader lock are ordered too, so
// a race between readers goes unseen (readers do not write).

#include <dlfcn.h>
#include <sanitizer/tsan_interface.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

#include "absl/synchronization/blocking_counter.h"
#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"

// TSan's dynamic annotations (compiler-rt tsan_interface_ann.cpp).
extern "C" void AnnotateIgnoreReadsBegin(const char* file, int line);
extern "C" void AnnotateIgnoreReadsEnd(const char* file, int line);

namespace {

#define KPI_STR2(x) #x
#define KPI_STR(x) KPI_STR2(x)

// abseil's own definition of the function whose Itanium name is
// "_ZN4absl" + <inline namespace> + `rest` ("_ZNK" for const members).
template <typename Fn>
Fn Real(const char* prefix, const char* rest) {
  const std::string ns = KPI_STR(ABSL_OPTION_INLINE_NAMESPACE_NAME);
  const std::string name =
      std::string(prefix) + "4absl" + std::to_string(ns.size()) + ns + rest;
  void* fn = dlsym(RTLD_NEXT, name.c_str());
  if (fn == nullptr) {
    std::fprintf(stderr, "absl_sync_annotations: %s not found\n", name.c_str());
    std::abort();
  }
  return reinterpret_cast<Fn>(fn);
}

#define KPI_REAL(type, prefix, rest) \
  static const auto real = Real<type>(prefix, rest)

}  // namespace

namespace absl {
ABSL_NAMESPACE_BEGIN

void Mutex::Lock() {
  KPI_REAL(void (*)(Mutex*), "_ZN", "5Mutex4LockEv");
  real(this);
  __tsan_acquire(this);
}

void Mutex::ReaderLock() {
  KPI_REAL(void (*)(Mutex*), "_ZN", "5Mutex10ReaderLockEv");
  real(this);
  __tsan_acquire(this);
}

bool Mutex::TryLock() {
  KPI_REAL(bool (*)(Mutex*), "_ZN", "5Mutex7TryLockEv");
  const bool locked = real(this);
  if (locked) __tsan_acquire(this);
  return locked;
}

bool Mutex::ReaderTryLock() {
  KPI_REAL(bool (*)(Mutex*), "_ZN", "5Mutex13ReaderTryLockEv");
  const bool locked = real(this);
  if (locked) __tsan_acquire(this);
  return locked;
}

void Mutex::Unlock() {
  KPI_REAL(void (*)(Mutex*), "_ZN", "5Mutex6UnlockEv");
  __tsan_release(this);
  real(this);
}

void Mutex::ReaderUnlock() {
  KPI_REAL(void (*)(Mutex*), "_ZN", "5Mutex12ReaderUnlockEv");
  __tsan_release(this);
  real(this);
}

void Mutex::LockWhen(const Condition& cond) {
  KPI_REAL(void (*)(Mutex*, const Condition&), "_ZN",
           "5Mutex8LockWhenERKNS0_9ConditionE");
  real(this, cond);
  __tsan_acquire(this);
}

void Mutex::ReaderLockWhen(const Condition& cond) {
  KPI_REAL(void (*)(Mutex*, const Condition&), "_ZN",
           "5Mutex14ReaderLockWhenERKNS0_9ConditionE");
  real(this, cond);
  __tsan_acquire(this);
}

// Await and CondVar::Wait, and their variants with a timeout or deadline,
// release the lock while they wait and hold it again when they return.
void Mutex::Await(const Condition& cond) {
  KPI_REAL(void (*)(Mutex*, const Condition&), "_ZN",
           "5Mutex5AwaitERKNS0_9ConditionE");
  __tsan_release(this);
  real(this, cond);
  __tsan_acquire(this);
}

// absl::Duration and absl::Time are trivially copyable: passed in
// registers, as the function pointer types say.
bool Mutex::AwaitWithTimeout(const Condition& cond, absl::Duration timeout) {
  KPI_REAL(bool (*)(Mutex*, const Condition&, absl::Duration), "_ZN",
           "5Mutex16AwaitWithTimeoutERKNS0_9ConditionENS0_8DurationE");
  __tsan_release(this);
  const bool met = real(this, cond, timeout);
  __tsan_acquire(this);
  return met;
}

bool Mutex::AwaitWithDeadline(const Condition& cond, absl::Time deadline) {
  KPI_REAL(bool (*)(Mutex*, const Condition&, absl::Time), "_ZN",
           "5Mutex17AwaitWithDeadlineERKNS0_9ConditionENS0_4TimeE");
  __tsan_release(this);
  const bool met = real(this, cond, deadline);
  __tsan_acquire(this);
  return met;
}

bool Mutex::LockWhenWithTimeout(const Condition& cond, absl::Duration timeout) {
  KPI_REAL(bool (*)(Mutex*, const Condition&, absl::Duration), "_ZN",
           "5Mutex19LockWhenWithTimeoutERKNS0_9ConditionENS0_8DurationE");
  const bool met = real(this, cond, timeout);
  __tsan_acquire(this);
  return met;
}

bool Mutex::LockWhenWithDeadline(const Condition& cond, absl::Time deadline) {
  KPI_REAL(bool (*)(Mutex*, const Condition&, absl::Time), "_ZN",
           "5Mutex20LockWhenWithDeadlineERKNS0_9ConditionENS0_4TimeE");
  const bool met = real(this, cond, deadline);
  __tsan_acquire(this);
  return met;
}

void CondVar::Wait(Mutex* mu) {
  KPI_REAL(void (*)(CondVar*, Mutex*), "_ZN", "7CondVar4WaitEPNS0_5MutexE");
  __tsan_release(mu);
  real(this, mu);
  __tsan_acquire(mu);
}

bool CondVar::WaitWithTimeout(Mutex* mu, absl::Duration timeout) {
  KPI_REAL(bool (*)(CondVar*, Mutex*, absl::Duration), "_ZN",
           "7CondVar15WaitWithTimeoutEPNS0_5MutexENS0_8DurationE");
  __tsan_release(mu);
  const bool timed_out = real(this, mu, timeout);
  __tsan_acquire(mu);
  return timed_out;
}

bool CondVar::WaitWithDeadline(Mutex* mu, absl::Time deadline) {
  KPI_REAL(bool (*)(CondVar*, Mutex*, absl::Time), "_ZN",
           "7CondVar16WaitWithDeadlineEPNS0_5MutexENS0_4TimeE");
  __tsan_release(mu);
  const bool timed_out = real(this, mu, deadline);
  __tsan_acquire(mu);
  return timed_out;
}

// abseil evaluates a Condition with the lock held, but through no function
// above: the waiting thread after abseil re-took the lock inside Await or
// LockWhen, or the thread giving the lock up, on a waiter's behalf, inside
// Unlock. TSan would see the condition's reads as unordered with the writes
// made under the lock. A Condition must be a pure function of state its
// mutex guards (absl/synchronization/mutex.h), so TSan ignores the reads of
// its evaluation (a write there is still reported); the caller's own accesses
// once Await or LockWhen returns are ordered by the acquire above.
bool Condition::Eval() const {
  KPI_REAL(bool (*)(const Condition*), "_ZNK", "9Condition4EvalEv");
  AnnotateIgnoreReadsBegin(__FILE__, __LINE__);
  const bool met = real(this);
  AnnotateIgnoreReadsEnd(__FILE__, __LINE__);
  return met;
}

void Notification::Notify() {
  KPI_REAL(void (*)(Notification*), "_ZN", "12Notification6NotifyEv");
  __tsan_release(this);
  real(this);
}

void Notification::WaitForNotification() const {
  KPI_REAL(void (*)(const Notification*), "_ZNK",
           "12Notification19WaitForNotificationEv");
  real(this);
  __tsan_acquire(const_cast<Notification*>(this));
}

bool Notification::WaitForNotificationWithTimeout(
    absl::Duration timeout) const {
  KPI_REAL(bool (*)(const Notification*, absl::Duration), "_ZNK",
           "12Notification30WaitForNotificationWithTimeoutENS0_8DurationE");
  const bool notified = real(this, timeout);
  if (notified) __tsan_acquire(const_cast<Notification*>(this));
  return notified;
}

bool Notification::WaitForNotificationWithDeadline(absl::Time deadline) const {
  KPI_REAL(bool (*)(const Notification*, absl::Time), "_ZNK",
           "12Notification31WaitForNotificationWithDeadlineENS0_4TimeE");
  const bool notified = real(this, deadline);
  if (notified) __tsan_acquire(const_cast<Notification*>(this));
  return notified;
}

bool BlockingCounter::DecrementCount() {
  KPI_REAL(bool (*)(BlockingCounter*), "_ZN",
           "15BlockingCounter14DecrementCountEv");
  __tsan_release(this);
  return real(this);
}

void BlockingCounter::Wait() {
  KPI_REAL(void (*)(BlockingCounter*), "_ZN", "15BlockingCounter4WaitEv");
  real(this);
  __tsan_acquire(this);
}

ABSL_NAMESPACE_END
}  // namespace absl
