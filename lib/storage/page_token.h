#ifndef KPI_LIB_STORAGE_PAGE_TOKEN_H_
#define KPI_LIB_STORAGE_PAGE_TOKEN_H_

// Page tokens and page sizes of List calls, shared by both backends.
//
// A token is opaque to clients: the web-safe base64 of a version byte, a
// hash of (collection, parent, filter) and the last name returned. Encoding
// the last name rather than an offset keeps tokens valid under concurrent
// inserts and deletes; the hash binds a token to the call it was issued for,
// and is stable across processes so that replicas honour each other's
// tokens. Pure functions; thread-safe.

#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "lib/domain/names.h"

namespace kpi::storage {

// Most items on a page when page_size is 0, and the cap.
inline constexpr int kDefaultPageSize = 100;
inline constexpr int kMaxPageSize = 1000;

// The page size to use: 0 means kDefaultPageSize, larger than kMaxPageSize
// means kMaxPageSize. INVALID_ARGUMENT with a base::FieldViolation on
// "page_size" when negative.
absl::StatusOr<int> EffectivePageSize(int page_size);

// The token for the page after `last_name` of a List of `collection` under
// `parent` with `filter`.
std::string EncodePageToken(domain::ResourceType collection,
                            std::string_view parent, std::string_view filter,
                            std::string_view last_name);

// The last name encoded in `token`, or "" for an empty token (the first
// page). INVALID_ARGUMENT with a base::FieldViolation on "page_token" when
// the token is malformed or was issued for another collection, parent or
// filter.
absl::StatusOr<std::string> DecodePageToken(domain::ResourceType collection,
                                            std::string_view parent,
                                            std::string_view filter,
                                            std::string_view token);

// As above, for a listing that is not of a resource type, named by
// `collection_id` (e.g. "changes", the change log); `last_key` is whatever
// marks the place of the last item returned.
std::string EncodePageToken(std::string_view collection_id,
                            std::string_view parent, std::string_view filter,
                            std::string_view last_key);
absl::StatusOr<std::string> DecodePageToken(std::string_view collection_id,
                                            std::string_view parent,
                                            std::string_view filter,
                                            std::string_view token);

}  // namespace kpi::storage

#endif  // KPI_LIB_STORAGE_PAGE_TOKEN_H_
