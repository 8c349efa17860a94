#ifndef KPI_SERVICES_SERVER_PROJECTION_CACHE_H_
#define KPI_SERVICES_SERVER_PROJECTION_CACHE_H_

// A bounded cache of ForecastService.ProjectKpi responses, for dashboards
// that ask for the same KPI many times a minute.
//
// Each entry is tagged with the store's ChangeSequence() read BEFORE the
// projection's data was read, and is served only while ChangeSequence()
// still returns that value. Every committed write by any process sharing
// the store (another replica on the same PostgreSQL database or SQLite
// file) changes the sequence, so a write can never be hidden by the cache;
// a write racing with the computation leaves an entry tagged with the older
// value, which is never served.
//
// The price of a hit is checking the sequence instead of two to three reads
// and the engine. On SQLite, Repository::TryChangeSequence() usually knows
// it without I/O (no commit since the last read, by the file's data
// version), and ForecastService answers such a hit on gRPC's own thread; on
// PostgreSQL, and on SQLite right after a write, the check is one
// ChangeSequence() read (a one-row query) on ForecastService's thread pool.
//
// Thread-safe.

#include <cstddef>
#include <cstdint>
#include <list>
#include <memory>
#include <string>
#include <unordered_map>
#include <utility>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "kpi/v1/forecast_service.pb.h"

namespace kpi::services {

class ProjectionCache {
 public:
  // Holds at most `capacity` responses, dropping the least recently used
  // first; a capacity of 0 holds none.
  explicit ProjectionCache(size_t capacity);
  ProjectionCache(const ProjectionCache&) = delete;
  ProjectionCache& operator=(const ProjectionCache&) = delete;

  // The key of a request: everything in it that the response depends on
  // (KPI name, target year, language, options).
  static std::string Key(const v1::ProjectKpiRequest& request);

  // The response stored under `key` if it was computed at store state
  // `sequence`; null otherwise (a stale entry is dropped).
  std::shared_ptr<const v1::ProjectKpiResponse> Lookup(const std::string& key,
                                                       int64_t sequence);

  // Stores `response` under `key`, computed from data read after
  // ChangeSequence() returned `sequence`. Replaces an entry of the same key.
  void Insert(const std::string& key, int64_t sequence,
              std::shared_ptr<const v1::ProjectKpiResponse> response);

  struct Stats {
    int64_t hits = 0;
    int64_t misses = 0;  // lookups finding no entry or a stale one
    size_t entries = 0;
  };
  Stats stats() const;

 private:
  struct Entry {
    std::string key;
    int64_t sequence;
    std::shared_ptr<const v1::ProjectKpiResponse> response;
  };
  using List = std::list<Entry>;  // most recently used first

  const size_t capacity_;
  mutable absl::Mutex mu_;
  List entries_ ABSL_GUARDED_BY(mu_);
  std::unordered_map<std::string, List::iterator> index_ ABSL_GUARDED_BY(mu_);
  int64_t hits_ ABSL_GUARDED_BY(mu_) = 0;
  int64_t misses_ ABSL_GUARDED_BY(mu_) = 0;
};

}  // namespace kpi::services

#endif  // KPI_SERVICES_SERVER_PROJECTION_CACHE_H_
