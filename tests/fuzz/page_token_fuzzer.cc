// Fuzzes List page tokens through their public functions
// (lib/storage/page_token.h), whatever their format, with a fixed key (the
// seeds' tokens are made with it: make_seeds.py). The first byte picks a
// mode and a collection:
// - even: the rest is a token a client sent for a fixed List call;
// - odd: the rest is "parent\nfilter\nlast_name" for a round trip.
//
// Properties: any token is accepted or refused as a user error
// (fuzz_check.h), never crashes; an accepted token is bound to its call (the
// same token for another parent is refused); an encoded token is web-safe
// base64, does not show the name, and decodes to the name it encodes for
// its own call only.

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "lib/domain/names.h"
#include "lib/storage/page_token.h"
#include "tests/fuzz/fuzz_check.h"

namespace kpi::storage {
namespace {

using domain::ResourceType;
using fuzz::Check;

// 32 bytes of 'k', as make_seeds.py signs the seed tokens.
const PageTokens& Tokens() {
  static const auto* const kTokens =
      new PageTokens(std::string(PageTokens::kKeyBytes, 'k'));
  return *kTokens;
}

constexpr ResourceType kCollections[] = {
    ResourceType::kKpi,      ResourceType::kObservation,
    ResourceType::kMeasure,  ResourceType::kEvaluation,
    ResourceType::kStrategy, ResourceType::kGoal,
    ResourceType::kReference};

// Parents and filters longer than this are refused before a token is
// looked at (the request's length caps), and the names a listing returns
// (IDs of at most 63 characters, three levels deep) are shorter too, so the
// round trip stays below it: a longer last name could make a token over
// domain::kMaxPageTokenBytes, which no listing issues.
constexpr size_t kMaxPart = 256;

bool IsWebSafeBase64(std::string_view token) {
  for (char c : token) {
    const bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
                    (c >= '0' && c <= '9') || c == '-' || c == '_' || c == '=';
    if (!ok) return false;
  }
  return true;
}

void DecodeClientToken(ResourceType collection, std::string_view token) {
  const std::string parent = "strategies/asahikawa-2020";
  const std::string filter = "kind = KPI_KIND_LEVEL";
  const std::string context =
      absl::StrCat("token: \"", std::string(token), "\"");
  absl::StatusOr<std::string> last =
      Tokens().Decode(collection, parent, filter, token);
  if (!last.ok()) {
    fuzz::CheckUserError(last.status(), context);
    return;
  }
  if (token.empty()) {
    Check(last->empty(), "the empty token is not the first page");
    return;
  }
  absl::StatusOr<std::string> elsewhere =
      Tokens().Decode(collection, "strategies/other", filter, token);
  Check(!elsewhere.ok(),
        absl::StrCat("a token accepted for one parent is accepted for "
                     "another; ",
                     context));
  fuzz::CheckUserError(elsewhere.status(), context);
}

void RoundTrip(ResourceType collection, std::string_view input) {
  std::vector<std::string> parts = absl::StrSplit(
      absl::string_view(input.data(), input.size()), absl::MaxSplits('\n', 2));
  parts.resize(3);
  const std::string parent = parts[0].substr(0, kMaxPart);
  const std::string filter = parts[1].substr(0, kMaxPart);
  const std::string last_name = parts[2].substr(0, kMaxPart);
  if (last_name.empty()) return;  // "" is the first page, not a token
  const std::string context = absl::StrCat(
      "parent: \"", std::string(parent), "\"\nfilter: \"", std::string(filter),
      "\"\nlast_name: \"", std::string(last_name), "\"");
  const std::string token =
      Tokens().Encode(collection, parent, filter, last_name);
  Check(
      !token.empty() && IsWebSafeBase64(token),
      absl::StrCat("token \"", token, "\" is not web-safe base64; ", context));
  Check(last_name.size() < 4 || token.find(last_name) == std::string::npos,
        absl::StrCat("the token shows the name; ", context));
  absl::StatusOr<std::string> decoded =
      Tokens().Decode(collection, parent, filter, token);
  Check(decoded.ok() && *decoded == last_name,
        absl::StrCat("the token does not decode to its name: ",
                     decoded.ok() ? *decoded : decoded.status().ToString(),
                     "\n", context));
  const std::string other_parent = absl::StrCat(std::string(parent), "x");
  absl::StatusOr<std::string> moved =
      Tokens().Decode(collection, other_parent, filter, token);
  Check(!moved.ok(), absl::StrCat("accepted for another parent; ", context));
  fuzz::CheckUserError(moved.status(), context);
  const std::string other_filter = absl::StrCat(std::string(filter), "x");
  absl::StatusOr<std::string> refiltered =
      Tokens().Decode(collection, parent, other_filter, token);
  Check(!refiltered.ok(),
        absl::StrCat("accepted for another filter; ", context));
  fuzz::CheckUserError(refiltered.status(), context);
}

}  // namespace
}  // namespace kpi::storage

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  using kpi::storage::kCollections;
  const auto collection =
      kCollections[(data[0] >> 1) % std::size(kCollections)];
  const std::string_view rest(reinterpret_cast<const char*>(data) + 1,
                              size - 1);
  if (data[0] & 1) {
    kpi::storage::RoundTrip(collection, rest);
  } else {
    kpi::storage::DecodeClientToken(collection, rest);
  }
  return 0;
}
