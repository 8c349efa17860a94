#include "lib/storage/page_token.h"

#include <cstdint>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "lib/base/field_violations.h"
#include "lib/base/quote.h"

namespace kpi::storage {
namespace {

absl::string_view AsAbsl(std::string_view s) { return {s.data(), s.size()}; }

constexpr char kVersion = '\x01';
constexpr size_t kHashBytes = 8;

// FNV-1a: the same in every process and build, unlike absl::Hash.
uint64_t Fnv1a(std::string_view data, uint64_t h) {
  for (unsigned char c : data) {
    h ^= c;
    h *= 0x100000001b3ULL;
  }
  return h;
}

std::string Binding(std::string_view collection, std::string_view parent,
                    std::string_view filter) {
  uint64_t h = 0xcbf29ce484222325ULL;
  // A separator that cannot occur in the parts keeps ("ab","c") and
  // ("a","bc") apart.
  for (std::string_view part : {collection, parent, filter}) {
    h = Fnv1a(part, h);
    h = Fnv1a(std::string_view("\0", 1), h);
  }
  std::string out(kHashBytes, '\0');
  for (size_t i = 0; i < kHashBytes; ++i) {
    out[i] = static_cast<char>((h >> (8 * (kHashBytes - 1 - i))) & 0xff);
  }
  return out;
}

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

std::string EncodePageToken(domain::ResourceType collection,
                            std::string_view parent, std::string_view filter,
                            std::string_view last_name) {
  return EncodePageToken(domain::CollectionId(collection), parent, filter,
                         last_name);
}

absl::StatusOr<std::string> DecodePageToken(domain::ResourceType collection,
                                            std::string_view parent,
                                            std::string_view filter,
                                            std::string_view token) {
  return DecodePageToken(domain::CollectionId(collection), parent, filter,
                         token);
}

std::string EncodePageToken(std::string_view collection,
                            std::string_view parent, std::string_view filter,
                            std::string_view last_name) {
  std::string raw =
      absl::StrCat(absl::string_view(&kVersion, 1),
                   Binding(collection, parent, filter), AsAbsl(last_name));
  return absl::WebSafeBase64Escape(raw);
}

absl::StatusOr<std::string> DecodePageToken(std::string_view collection,
                                            std::string_view parent,
                                            std::string_view filter,
                                            std::string_view token) {
  if (token.empty()) return std::string();
  std::string raw;
  if (!absl::WebSafeBase64Unescape(AsAbsl(token), &raw) ||
      raw.size() <= 1 + kHashBytes || raw[0] != kVersion) {
    return FieldError(
        "page_token",
        absl::StrFormat("%s is not a page token this service issued; %s",
                        base::QuoteInput(token), kRemedy));
  }
  if (raw.compare(1, kHashBytes, Binding(collection, parent, filter)) != 0) {
    return FieldError(
        "page_token",
        absl::StrFormat(
            "was issued for a different collection, parent or filter "
            "than this request's (%s under %s with filter %s); %s",
            AsAbsl(collection), base::QuoteInput(parent),
            base::QuoteInput(filter), kRemedy));
  }
  return raw.substr(1 + kHashBytes);
}

}  // namespace kpi::storage
