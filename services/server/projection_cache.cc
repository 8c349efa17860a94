#include "services/server/projection_cache.h"

#include "absl/strings/str_cat.h"

namespace kpi::services {

ProjectionCache::ProjectionCache(size_t capacity) : capacity_(capacity) {}

std::string ProjectionCache::Key(const v1::ProjectKpiRequest& request) {
  // The name cannot hold a NUL byte (resource IDs are [a-z0-9-]), so the
  // parts cannot run into each other.
  std::string options;
  request.options().SerializeToString(&options);
  return absl::StrCat(request.name(), std::string(1, '\0'),
                      request.target_fiscal_year(), std::string(1, '\0'),
                      // Length-prefixed: the code is free text until checked.
                      request.language_code().size(), ":",
                      request.language_code(), options);
}

std::shared_ptr<const v1::ProjectKpiResponse> ProjectionCache::Lookup(
    const std::string& key, int64_t sequence) {
  absl::MutexLock lock(&mu_);
  auto it = index_.find(key);
  if (it == index_.end()) {
    ++misses_;
    return nullptr;
  }
  if (it->second->sequence != sequence) {
    entries_.erase(it->second);
    index_.erase(it);
    ++misses_;
    return nullptr;
  }
  entries_.splice(entries_.begin(), entries_, it->second);
  ++hits_;
  return it->second->response;
}

void ProjectionCache::Insert(
    const std::string& key, int64_t sequence,
    std::shared_ptr<const v1::ProjectKpiResponse> response) {
  if (capacity_ == 0) return;
  absl::MutexLock lock(&mu_);
  auto it = index_.find(key);
  if (it != index_.end()) {
    // Replaced even by an older state (a slow call): that costs at most a
    // miss, and assumes nothing about the order of sequence values.
    entries_.erase(it->second);
    index_.erase(it);
  }
  entries_.push_front(Entry{key, sequence, std::move(response)});
  index_.emplace(key, entries_.begin());
  if (entries_.size() > capacity_) {
    index_.erase(entries_.back().key);
    entries_.pop_back();
  }
}

ProjectionCache::Stats ProjectionCache::stats() const {
  absl::MutexLock lock(&mu_);
  return Stats{hits_, misses_, entries_.size()};
}

}  // namespace kpi::services
