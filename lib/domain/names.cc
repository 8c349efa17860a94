#include "lib/domain/names.h"

#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "lib/base/quote.h"
#include "lib/base/status_macros.h"

namespace kpi::domain {
namespace {

// Debian's Abseil is built with its own string_view, not std::string_view.
absl::string_view AsAbsl(std::string_view s) { return {s.data(), s.size()}; }

struct TypeInfo {
  ResourceType type;
  std::string_view collection;
  std::string_view singular;
  std::string_view pattern;
  // Collections of the ancestors, outermost first.
  std::vector<std::string_view> ancestors;
};

const std::vector<TypeInfo>& Types() {
  static const auto* const types = new std::vector<TypeInfo>{
      {ResourceType::kReference,
       "references",
       "reference",
       "references/{reference}",
       {}},
      {ResourceType::kStrategy,
       "strategies",
       "strategy",
       "strategies/{strategy}",
       {}},
      {ResourceType::kGoal,
       "goals",
       "goal",
       "strategies/{strategy}/goals/{goal}",
       {"strategies"}},
      {ResourceType::kMeasure,
       "measures",
       "measure",
       "strategies/{strategy}/measures/{measure}",
       {"strategies"}},
      {ResourceType::kEvaluation,
       "evaluations",
       "evaluation",
       "strategies/{strategy}/measures/{measure}/evaluations/{evaluation}",
       {"strategies", "measures"}},
      {ResourceType::kKpi,
       "kpis",
       "kpi",
       "strategies/{strategy}/kpis/{kpi}",
       {"strategies"}},
      {ResourceType::kObservation,
       "observations",
       "observation",
       "strategies/{strategy}/kpis/{kpi}/observations/{observation}",
       {"strategies", "kpis"}},
  };
  return *types;
}

const TypeInfo& Info(ResourceType type) {
  for (const TypeInfo& info : Types()) {
    if (info.type == type) return info;
  }
  return Types().front();  // unreachable: every enumerator is listed
}

}  // namespace

std::string_view CollectionId(ResourceType type) {
  return Info(type).collection;
}
std::string_view TypeSingular(ResourceType type) { return Info(type).singular; }
std::string_view NamePattern(ResourceType type) { return Info(type).pattern; }

bool IsValidId(std::string_view id) {
  if (id.empty() || id.size() > 63) return false;
  if (id.front() < 'a' || id.front() > 'z') return false;
  const char last = id.back();
  if (!((last >= 'a' && last <= 'z') || (last >= '0' && last <= '9'))) {
    return false;
  }
  for (char c : id) {
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-')) {
      return false;
    }
  }
  return true;
}

absl::Status ValidateId(std::string_view id, std::string_view field) {
  if (IsValidId(id)) return absl::OkStatus();
  return absl::InvalidArgumentError(absl::StrFormat(
      "%s: %s is not a valid ID; accepted: 1 to 63 characters matching "
      "^[a-z]([a-z0-9-]{0,61}[a-z0-9])?$",
      field, base::QuoteInput(id)));
}

absl::StatusOr<ParsedName> ParseName(std::string_view name, ResourceType type,
                                     std::string_view field) {
  const TypeInfo& info = Info(type);
  std::vector<std::string> parts =
      absl::StrSplit(absl::string_view(name.data(), name.size()), '/');
  const size_t expected = 2 * (info.ancestors.size() + 1);
  bool ok = parts.size() == expected;
  for (size_t i = 0; ok && i < info.ancestors.size(); ++i) {
    ok = parts[2 * i] == info.ancestors[i] && IsValidId(parts[2 * i + 1]);
  }
  ok = ok && parts[expected - 2] == info.collection &&
       IsValidId(parts[expected - 1]);
  if (!ok) {
    if (name.empty()) {
      return absl::InvalidArgumentError(
          absl::StrFormat("%s is required; accepted: a %s name, %s", field,
                          info.singular, info.pattern));
    }
    return absl::InvalidArgumentError(absl::StrFormat(
        "%s: %s is not a %s name; accepted: %s, each ID matching "
        "^[a-z]([a-z0-9-]{0,61}[a-z0-9])?$",
        field, base::QuoteInput(name), info.singular, info.pattern));
  }
  ParsedName parsed{type, "", std::string(parts[expected - 1])};
  if (expected > 2) {
    parsed.parent = std::string(name.substr(
        0, name.size() - info.collection.size() - parsed.id.size() - 2));
  }
  return parsed;
}

absl::StatusOr<ListParent> ParseListParent(std::string_view parent,
                                           ResourceType type,
                                           std::string_view field) {
  ListParent out;
  out.name = std::string(parent);
  std::vector<std::string> parts =
      absl::StrSplit(absl::string_view(parent.data(), parent.size()), '/');
  size_t first_wildcard = parts.size();
  // IDs are at odd positions; "-" stands in for any of them.
  for (size_t i = 1; i < parts.size(); i += 2) {
    if (parts[i] != "-") continue;
    if (first_wildcard == parts.size()) first_wildcard = i;
    parts[i] = "x";  // a valid ID, so that ParseName checks the rest
  }
  out.wildcard = first_wildcard < parts.size();
  if (!out.wildcard) {
    KPI_RETURN_IF_ERROR(ParseName(parent, type, field).status());
    return out;
  }
  if (!ParseName(absl::StrJoin(parts, "/"), type, field).ok()) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "%s: %s is not a %s name; accepted: %s, each ID matching "
        "^[a-z]([a-z0-9-]{0,61}[a-z0-9])?$ or - for every one (AIP-159)",
        field, base::QuoteInput(parent), Info(type).singular,
        Info(type).pattern));
  }
  std::vector<std::string> pattern =
      absl::StrSplit(absl::string_view(parent.data(), parent.size()), '/');
  for (size_t i = 1; i < pattern.size(); i += 2) {
    if (pattern[i] == "-") pattern[i] = "%";
  }
  out.like_pattern = absl::StrJoin(pattern, "/");
  if (first_wildcard >= 3) {
    out.fixed_ancestor = absl::StrJoin(
        pattern.begin(), pattern.begin() + first_wildcard - 1, "/");
  }
  return out;
}

absl::StatusOr<ParsedName> ParseAnyName(std::string_view name,
                                        std::string_view field) {
  for (const TypeInfo& info : Types()) {
    absl::StatusOr<ParsedName> parsed = ParseName(name, info.type, field);
    if (parsed.ok()) return parsed;
  }
  return absl::InvalidArgumentError(absl::StrFormat(
      "%s: \"%s\" is not a resource name of this API; accepted: "
      "strategies/{strategy}[/goals/{goal} | /measures/{measure}"
      "[/evaluations/{evaluation}] | /kpis/{kpi}[/observations/"
      "{observation}]] or references/{reference}",
      field, base::QuoteInput(name)));
}

std::string MakeName(std::string_view parent, ResourceType type,
                     std::string_view id) {
  if (parent.empty())
    return absl::StrCat(AsAbsl(CollectionId(type)), "/", AsAbsl(id));
  return absl::StrCat(AsAbsl(parent), "/", AsAbsl(CollectionId(type)), "/",
                      AsAbsl(id));
}

std::string FiscalYearId(int first_fiscal_year, int fiscal_year) {
  if (first_fiscal_year == 0 || first_fiscal_year == fiscal_year) {
    return absl::StrCat("fy", fiscal_year);
  }
  return absl::StrCat("fy", first_fiscal_year, "-", fiscal_year);
}

}  // namespace kpi::domain
