// Fuzzes the List filter parser (lib/storage/filter.h). The first byte picks
// the collection listed, the rest is the filter text.
//
// Properties: a filter is either accepted or a user error (fuzz_check.h);
// an accepted filter's canonical text (FormatFilter) parses to the same
// conditions, and formats to the same text again; every condition names a
// field of the collection.

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "absl/strings/str_cat.h"
#include "lib/domain/names.h"
#include "lib/storage/filter.h"
#include "tests/fuzz/fuzz_check.h"

namespace kpi::storage {
namespace {

using domain::ResourceType;
using fuzz::Check;

bool SameConditions(const std::vector<FilterCondition>& a,
                    const std::vector<FilterCondition>& b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (a[i].field != b[i].field || a[i].op != b[i].op ||
        a[i].value != b[i].value) {
      return false;
    }
  }
  return true;
}

constexpr ResourceType kCollections[] = {
    ResourceType::kKpi,      ResourceType::kObservation,
    ResourceType::kMeasure,  ResourceType::kEvaluation,
    ResourceType::kStrategy, ResourceType::kGoal,
    ResourceType::kReference};

void FuzzOne(ResourceType collection, std::string_view filter) {
  const std::string context = absl::StrCat(
      "collection: ", std::string(domain::CollectionId(collection)),
      "\nfilter: \"", std::string(filter), "\"");
  absl::StatusOr<std::vector<FilterCondition>> parsed =
      ParseFilter(collection, filter);
  if (!parsed.ok()) {
    fuzz::CheckUserError(parsed.status(), context);
    return;
  }
  const std::string canonical = FormatFilter(collection, *parsed);
  absl::StatusOr<std::vector<FilterCondition>> again =
      ParseFilter(collection, canonical);
  Check(again.ok(),
        absl::StrCat("the canonical form \"", canonical, "\" does not parse: ",
                     again.status().ToString(), "\n", context));
  Check(SameConditions(*parsed, *again),
        absl::StrCat("the canonical form \"", canonical,
                     "\" parses to other conditions; ", context));
  Check(FormatFilter(collection, *again) == canonical,
        absl::StrCat("FormatFilter is not stable for \"", canonical, "\"; ",
                     context));
}

}  // namespace
}  // namespace kpi::storage

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  constexpr size_t kCount = std::size(kpi::storage::kCollections);
  kpi::storage::FuzzOne(
      kpi::storage::kCollections[data[0] % kCount],
      std::string_view(reinterpret_cast<const char*>(data) + 1, size - 1));
  return 0;
}
