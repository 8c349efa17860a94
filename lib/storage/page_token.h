#ifndef KPI_LIB_STORAGE_PAGE_TOKEN_H_
#define KPI_LIB_STORAGE_PAGE_TOKEN_H_

// Page tokens and page sizes of List calls, shared by both backends.
//
// A token is opaque to clients: the web-safe base64 of a version byte, the
// cursor (the last name returned, or whatever marks the place of the last
// item) and an HMAC-SHA256 of the version, collection, parent, filter and
// cursor under the store's key. Encoding the last name rather than an offset
// keeps tokens valid under concurrent inserts and deletes; the MAC binds a
// token to the call it was issued for and refuses one a client made or
// changed. The key is created once per store and kept in it
// (sql_repository.cc), so that every replica of a store honours the others'
// tokens and no other store does.

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

// Encodes and checks the page tokens of one store. Immutable; thread-safe.
class PageTokens {
 public:
  // The length of a key in bytes.
  static constexpr size_t kKeyBytes = 32;

  // A new random key from OpenSSL's CSPRNG. INTERNAL when it has no
  // entropy.
  static absl::StatusOr<std::string> NewKey();

  // Tokens keyed with `key`: kKeyBytes from NewKey(), the store's.
  explicit PageTokens(std::string key);

  // The token for the page after `last_name` of a List of `collection`
  // under `parent` with `filter`.
  std::string Encode(domain::ResourceType collection, std::string_view parent,
                     std::string_view filter, std::string_view last_name) const;

  // The last name encoded in `token`, or "" for an empty token (the first
  // page). INVALID_ARGUMENT with a base::FieldViolation on "page_token" when
  // the token is longer than domain::kMaxPageTokenBytes, malformed, changed,
  // issued by another store or for another collection, parent or filter.
  // The message quotes at most a short prefix of the token.
  absl::StatusOr<std::string> Decode(domain::ResourceType collection,
                                     std::string_view parent,
                                     std::string_view filter,
                                     std::string_view token) const;

  // As above, for a listing that is not of a resource type, named by
  // `collection_id` (e.g. "changes", the change log); `last_key` is
  // whatever marks the place of the last item returned.
  std::string Encode(std::string_view collection_id, std::string_view parent,
                     std::string_view filter, std::string_view last_key) const;
  absl::StatusOr<std::string> Decode(std::string_view collection_id,
                                     std::string_view parent,
                                     std::string_view filter,
                                     std::string_view token) const;

 private:
  std::string Mac(std::string_view collection_id, std::string_view parent,
                  std::string_view filter, std::string_view cursor) const;

  const std::string key_;
};

}  // namespace kpi::storage

#endif  // KPI_LIB_STORAGE_PAGE_TOKEN_H_
