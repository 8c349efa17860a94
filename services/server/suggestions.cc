#include "services/server/suggestions.h"

#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "lib/base/closest.h"

namespace kpi::services {
namespace {

using domain::ResourceType;

constexpr int kMaxSiblings = 1000;

// A resource's keys: its ID and whatever names a person types for it.
template <typename T>
base::Candidate CandidateOf(const T& item) {
  base::Candidate c;
  c.label = item.name;
  c.keys.push_back(item.name.substr(item.name.rfind('/') + 1));
  if constexpr (std::is_same_v<T, domain::Observation> ||
                std::is_same_v<T, domain::Evaluation>) {
    return c;
  } else {
    if (!item.display_name.empty()) {
      c.keys.push_back(item.display_name);
      absl::StrAppend(&c.label, " (", item.display_name, ")");
    }
    if (!item.english_name.empty()) c.keys.push_back(item.english_name);
    return c;
  }
}

template <typename T>
absl::StatusOr<std::vector<base::Candidate>> Candidates(
    absl::StatusOr<storage::Page<T>> page) {
  if (!page.ok()) return page.status();
  std::vector<base::Candidate> out;
  for (const T& item : page->items) out.push_back(CandidateOf(item));
  return out;
}

absl::StatusOr<std::vector<base::Candidate>> Siblings(
    storage::Repository& repo, ResourceType type, const std::string& parent) {
  storage::ListRequest request;
  request.parent = parent;
  request.page_size = kMaxSiblings;
  switch (type) {
    case ResourceType::kReference:
      return Candidates(repo.ListReferences(request));
    case ResourceType::kStrategy:
      return Candidates(repo.ListStrategies(request));
    case ResourceType::kGoal:
      return Candidates(repo.ListGoals(request));
    case ResourceType::kMeasure:
      return Candidates(repo.ListMeasures(request));
    case ResourceType::kKpi:
      return Candidates(repo.ListKpis(request));
    case ResourceType::kObservation:
      return Candidates(repo.ListObservations(request));
    case ResourceType::kEvaluation:
      return Candidates(repo.ListEvaluations(request));
  }
  return std::vector<base::Candidate>();
}

ResourceType ParentType(ResourceType type) {
  switch (type) {
    case ResourceType::kObservation:
      return ResourceType::kKpi;
    case ResourceType::kEvaluation:
      return ResourceType::kMeasure;
    default:
      return ResourceType::kStrategy;
  }
}

// "; closest: ..." for `name`, or "" when nothing is plausible; looks at the
// parent's siblings when the parent does not exist (depth counts that).
std::string Suggestion(storage::Repository& repo, ResourceType type,
                       std::string_view name, int depth) {
  absl::StatusOr<domain::ParsedName> parsed =
      domain::ParseName(name, type, "name");
  if (!parsed.ok() || depth > 2) return "";
  absl::StatusOr<std::vector<base::Candidate>> siblings =
      Siblings(repo, type, parsed->parent);
  if (absl::IsNotFound(siblings.status()) && !parsed->parent.empty()) {
    const ResourceType parent_type = ParentType(type);
    const std::string parent =
        Suggestion(repo, parent_type, parsed->parent, depth + 1);
    if (parent.empty()) return "";
    const std::string_view singular = domain::TypeSingular(parent_type);
    return absl::StrCat("; its parent ",
                        absl::string_view(singular.data(), singular.size()),
                        " ", parsed->parent, " does not exist either", parent);
  }
  if (!siblings.ok()) return "";
  const std::vector<std::string> closest =
      base::ClosestLabels(parsed->id, *siblings);
  if (closest.empty()) return "";
  return absl::StrCat("; closest: ", absl::StrJoin(closest, ", "));
}

}  // namespace

absl::Status WithSuggestions(storage::Repository& repository, ResourceType type,
                             std::string_view name,
                             const absl::Status& status) {
  if (!absl::IsNotFound(status)) return status;
  const std::string suggestion = Suggestion(repository, type, name, 0);
  if (suggestion.empty()) return status;
  return absl::NotFoundError(absl::StrCat(status.message(), suggestion));
}

}  // namespace kpi::services
