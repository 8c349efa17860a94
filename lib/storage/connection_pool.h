#ifndef KPI_LIB_STORAGE_CONNECTION_POOL_H_
#define KPI_LIB_STORAGE_CONNECTION_POOL_H_

// A bounded pool of database connections, shared by the SQLite and
// PostgreSQL backends. Connections are opened lazily, up to `size`; a caller
// that finds every connection leased waits for one to come back.

#include <functional>
#include <memory>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"

namespace kpi::storage {

// Thread-safe. `Conn` is used by one lessee at a time.
template <typename Conn>
class ConnectionPool {
 public:
  using Factory = std::function<absl::StatusOr<std::unique_ptr<Conn>>()>;

  // A leased connection, returned to the pool when destroyed (or closed,
  // after Discard()).
  class Lease {
   public:
    Lease(ConnectionPool* pool, std::unique_ptr<Conn> conn)
        : pool_(pool), conn_(std::move(conn)) {}
    Lease(Lease&& other) noexcept
        : pool_(other.pool_), conn_(std::move(other.conn_)) {}
    Lease& operator=(Lease&&) = delete;
    ~Lease() {
      if (conn_ != nullptr) pool_->Return(std::move(conn_));
    }
    Conn& operator*() const { return *conn_; }
    Conn* operator->() const { return conn_.get(); }
    // Closes the connection instead of returning it (it is in an unknown
    // state); the pool opens a new one when needed.
    void Discard() {
      conn_.reset();
      pool_->Forget();
    }

   private:
    ConnectionPool* pool_;
    std::unique_ptr<Conn> conn_;
  };

  ConnectionPool(int size, absl::Duration wait, Factory factory)
      : size_(size < 1 ? 1 : size), wait_(wait), factory_(std::move(factory)) {}

  // A connection: an idle one, a new one while fewer than `size` are open,
  // or the first one returned within the wait. UNAVAILABLE when none comes
  // back in time; the factory's error when opening fails.
  absl::StatusOr<Lease> Acquire() {
    {
      absl::MutexLock lock(&mu_);
      auto ready = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
        return !idle_.empty() || open_ < size_;
      };
      if (!mu_.AwaitWithTimeout(absl::Condition(&ready), wait_)) {
        return absl::UnavailableError(absl::StrCat(
            "all ", size_, " database connections stayed busy for ",
            absl::FormatDuration(wait_), "; retry, or raise the pool size"));
      }
      if (!idle_.empty()) {
        std::unique_ptr<Conn> conn = std::move(idle_.back());
        idle_.pop_back();
        return Lease(this, std::move(conn));
      }
      ++open_;
    }
    // Connect outside the lock: it may take a network round trip.
    absl::StatusOr<std::unique_ptr<Conn>> conn = factory_();
    if (!conn.ok()) {
      Forget();
      return conn.status();
    }
    return Lease(this, *std::move(conn));
  }

 private:
  void Return(std::unique_ptr<Conn> conn) {
    absl::MutexLock lock(&mu_);
    idle_.push_back(std::move(conn));
  }
  void Forget() {
    absl::MutexLock lock(&mu_);
    --open_;
  }

  const int size_;
  const absl::Duration wait_;
  const Factory factory_;
  absl::Mutex mu_;
  std::vector<std::unique_ptr<Conn>> idle_ ABSL_GUARDED_BY(mu_);
  int open_ ABSL_GUARDED_BY(mu_) = 0;  // idle and leased
};

}  // namespace kpi::storage

#endif  // KPI_LIB_STORAGE_CONNECTION_POOL_H_
