#include "lib/storage/page_token.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>

#include <cstdint>
#include <utility>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "lib/base/field_violations.h"
#include "lib/base/quote.h"
#include "lib/domain/validation.h"

namespace kpi::storage {
namespace {

absl::string_view AsAbsl(std::string_view s) { return {s.data(), s.size()}; }

// 1 was an unkeyed FNV hash of the binding; its tokens are refused.
constexpr char kVersion = '\x02';
constexpr size_t kMacBytes = 32;  // HMAC-SHA256, untruncated

// INVALID_ARGUMENT with a violation of the request field `field`, which the
// gRPC edge turns into the google.rpc.BadRequest detail the contract
// promises.
absl::Status FieldError(const char* field, std::string description) {
  return base::InvalidArgumentWithViolations("invalid request:",
                                             {{field, std::move(description)}});
}

constexpr char kRemedy[] =
    "accepted: the next_page_token of the previous response, unchanged, with "
    "the same parent and filter; or empty for the first page";

// `part`, preceded by its length: ("ab","c") and ("a","bc") differ.
void AppendPart(std::string* out, std::string_view part) {
  const uint64_t n = part.size();
  for (int shift = 56; shift >= 0; shift -= 8) {
    out->push_back(static_cast<char>((n >> shift) & 0xff));
  }
  out->append(part.data(), part.size());
}

}  // namespace

absl::StatusOr<int> EffectivePageSize(int page_size) {
  if (page_size < 0) {
    return FieldError(
        "page_size",
        absl::StrFormat(
            "%d is negative; accepted: 0 (meaning %d) to %d, larger "
            "values are capped at %d",
            page_size, kDefaultPageSize, kMaxPageSize, kMaxPageSize));
  }
  if (page_size == 0) return kDefaultPageSize;
  return page_size > kMaxPageSize ? kMaxPageSize : page_size;
}

absl::StatusOr<std::string> PageTokens::NewKey() {
  std::string key(kKeyBytes, '\0');
  if (RAND_bytes(reinterpret_cast<unsigned char*>(key.data()),
                 static_cast<int>(key.size())) != 1) {
    return absl::InternalError(
        "could not draw a page token key: OpenSSL's random generator has no "
        "entropy");
  }
  return key;
}

PageTokens::PageTokens(std::string key) : key_(std::move(key)) {}

std::string PageTokens::Mac(std::string_view collection_id,
                            std::string_view parent, std::string_view filter,
                            std::string_view cursor) const {
  std::string message(1, kVersion);
  for (std::string_view part : {collection_id, parent, filter, cursor}) {
    AppendPart(&message, part);
  }
  std::string mac(kMacBytes, '\0');
  unsigned int length = 0;
  HMAC(EVP_sha256(), key_.data(), static_cast<int>(key_.size()),
       reinterpret_cast<const unsigned char*>(message.data()), message.size(),
       reinterpret_cast<unsigned char*>(mac.data()), &length);
  mac.resize(length);
  return mac;
}

std::string PageTokens::Encode(domain::ResourceType collection,
                               std::string_view parent, std::string_view filter,
                               std::string_view last_name) const {
  return Encode(domain::CollectionId(collection), parent, filter, last_name);
}

absl::StatusOr<std::string> PageTokens::Decode(domain::ResourceType collection,
                                               std::string_view parent,
                                               std::string_view filter,
                                               std::string_view token) const {
  return Decode(domain::CollectionId(collection), parent, filter, token);
}

std::string PageTokens::Encode(std::string_view collection_id,
                               std::string_view parent, std::string_view filter,
                               std::string_view last_key) const {
  const std::string raw =
      absl::StrCat(absl::string_view(&kVersion, 1), AsAbsl(last_key),
                   Mac(collection_id, parent, filter, last_key));
  return absl::WebSafeBase64Escape(raw);
}

absl::StatusOr<std::string> PageTokens::Decode(std::string_view collection_id,
                                               std::string_view parent,
                                               std::string_view filter,
                                               std::string_view token) const {
  if (token.empty()) return std::string();
  if (token.size() > domain::kMaxPageTokenBytes) {
    return FieldError(
        "page_token",
        absl::StrFormat("%s is too long: page tokens have at most %d "
                        "bytes; %s",
                        base::QuoteInput(token), domain::kMaxPageTokenBytes,
                        kRemedy));
  }
  std::string raw;
  if (!absl::WebSafeBase64Unescape(AsAbsl(token), &raw) ||
      raw.size() <= 1 + kMacBytes || raw[0] != kVersion) {
    return FieldError(
        "page_token",
        absl::StrFormat("%s is not a page token this service issued; %s",
                        base::QuoteInput(token), kRemedy));
  }
  const std::string_view cursor =
      std::string_view(raw).substr(1, raw.size() - 1 - kMacBytes);
  const std::string expected = Mac(collection_id, parent, filter, cursor);
  if (expected.size() != kMacBytes ||
      CRYPTO_memcmp(expected.data(), raw.data() + raw.size() - kMacBytes,
                    kMacBytes) != 0) {
    // Changed, made up, from another store, or for another call: which one
    // cannot be told, and need not be.
    return FieldError(
        "page_token",
        absl::StrFormat(
            "is not one this store issued for this request (%s under %s "
            "with filter %s): it was changed, or issued by another store or "
            "for another collection, parent or filter; %s",
            AsAbsl(collection_id), base::QuoteInput(parent),
            base::QuoteInput(filter), kRemedy));
  }
  return std::string(cursor);
}

}  // namespace kpi::storage
