#include "services/server/kpi_service.h"

#include <algorithm>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "google/protobuf/descriptor.h"
#include "google/protobuf/io/coded_stream.h"
#include "google/protobuf/util/field_mask_util.h"
#include "lib/base/field_violations.h"
#include "lib/base/quote.h"
#include "lib/base/status_macros.h"
#include "lib/domain/names.h"
#include "lib/domain/validation.h"
#include "lib/storage/page_token.h"
#include "services/convert.h"
#include "services/server/suggestions.h"

namespace kpi::services {
namespace {

using domain::ResourceType;
using google::protobuf::FieldMask;
using google::protobuf::util::FieldMaskUtil;
using storage::Repository;

// Read-merge-write attempts of an Update without a client etag before a
// concurrent writer's ABORTED is passed on.
constexpr int kMaxUpdateAttempts = 5;

// Bytes of a response kept free of resources: a next_page_token (under 200
// bytes), field tags and lengths.
constexpr int kResponseReserve = 4096;

// The bytes `message` adds to a repeated field of its parent: its own size,
// a one-byte tag and its length as a varint.
size_t EncodedElementSize(const google::protobuf::Message& message) {
  const size_t size = message.ByteSizeLong();
  return size + 1 + google::protobuf::io::CodedOutputStream::VarintSize64(size);
}

absl::string_view AsAbsl(std::string_view s) { return {s.data(), s.size()}; }

// ---- Per-resource operations ------------------------------------------------
// Each Ops struct binds a resource type to its proto, its request field name,
// its Dataset collection and the repository's methods, so that the standard
// methods are written once below.

struct ReferenceOps {
  using Domain = domain::Reference;
  using Proto = v1::Reference;
  static constexpr ResourceType kType = ResourceType::kReference;
  static constexpr bool kHasParent = false;
  static constexpr ResourceType kParentType = ResourceType::kReference;
  static constexpr char kField[] = "reference";
  static constexpr char kCollection[] = "references";
  static std::vector<Domain>& In(domain::Dataset& d) { return d.references; }
  static auto Get(Repository& r, std::string_view n) {
    return r.GetReference(n);
  }
  static auto List(Repository& r, const storage::ListRequest& q) {
    return r.ListReferences(q);
  }
  static auto Create(Repository& r, const Domain& x) {
    return r.CreateReference(x);
  }
  static auto Update(Repository& r, const Domain& x, std::string_view etag,
                     std::string_view) {
    return r.UpdateReference(x, etag);
  }
  static auto Delete(Repository& r, std::string_view n, std::string_view etag,
                     bool force) {
    return r.DeleteReference(n, etag, force);
  }
};

struct StrategyOps {
  using Domain = domain::Strategy;
  using Proto = v1::Strategy;
  static constexpr ResourceType kType = ResourceType::kStrategy;
  static constexpr bool kHasParent = false;
  static constexpr ResourceType kParentType = ResourceType::kStrategy;
  static constexpr char kField[] = "strategy";
  static constexpr char kCollection[] = "strategies";
  static std::vector<Domain>& In(domain::Dataset& d) { return d.strategies; }
  static auto Get(Repository& r, std::string_view n) {
    return r.GetStrategy(n);
  }
  static auto List(Repository& r, const storage::ListRequest& q) {
    return r.ListStrategies(q);
  }
  static auto Create(Repository& r, const Domain& x) {
    return r.CreateStrategy(x);
  }
  static auto Update(Repository& r, const Domain& x, std::string_view etag,
                     std::string_view) {
    return r.UpdateStrategy(x, etag);
  }
  static auto Delete(Repository& r, std::string_view n, std::string_view etag,
                     bool force) {
    return r.DeleteStrategy(n, etag, force);
  }
};

struct GoalOps {
  using Domain = domain::Goal;
  using Proto = v1::Goal;
  static constexpr ResourceType kType = ResourceType::kGoal;
  static constexpr bool kHasParent = true;
  static constexpr ResourceType kParentType = ResourceType::kStrategy;
  static constexpr char kField[] = "goal";
  static constexpr char kCollection[] = "goals";
  static std::vector<Domain>& In(domain::Dataset& d) { return d.goals; }
  static auto Get(Repository& r, std::string_view n) { return r.GetGoal(n); }
  static auto List(Repository& r, const storage::ListRequest& q) {
    return r.ListGoals(q);
  }
  static auto Create(Repository& r, const Domain& x) { return r.CreateGoal(x); }
  static auto Update(Repository& r, const Domain& x, std::string_view etag,
                     std::string_view) {
    return r.UpdateGoal(x, etag);
  }
  static auto Delete(Repository& r, std::string_view n, std::string_view etag,
                     bool force) {
    return r.DeleteGoal(n, etag, force);
  }
};

struct MeasureOps {
  using Domain = domain::Measure;
  using Proto = v1::Measure;
  static constexpr ResourceType kType = ResourceType::kMeasure;
  static constexpr bool kHasParent = true;
  static constexpr ResourceType kParentType = ResourceType::kStrategy;
  static constexpr char kField[] = "measure";
  static constexpr char kCollection[] = "measures";
  static std::vector<Domain>& In(domain::Dataset& d) { return d.measures; }
  static auto Get(Repository& r, std::string_view n) { return r.GetMeasure(n); }
  static auto List(Repository& r, const storage::ListRequest& q) {
    return r.ListMeasures(q);
  }
  static auto Create(Repository& r, const Domain& x) {
    return r.CreateMeasure(x);
  }
  static auto Update(Repository& r, const Domain& x, std::string_view etag,
                     std::string_view) {
    return r.UpdateMeasure(x, etag);
  }
  static auto Delete(Repository& r, std::string_view n, std::string_view etag,
                     bool force) {
    return r.DeleteMeasure(n, etag, force);
  }
};

struct KpiOps {
  using Domain = domain::Kpi;
  using Proto = v1::Kpi;
  static constexpr ResourceType kType = ResourceType::kKpi;
  static constexpr bool kHasParent = true;
  static constexpr ResourceType kParentType = ResourceType::kStrategy;
  static constexpr char kField[] = "kpi";
  static constexpr char kCollection[] = "kpis";
  static std::vector<Domain>& In(domain::Dataset& d) { return d.kpis; }
  static auto Get(Repository& r, std::string_view n) { return r.GetKpi(n); }
  static auto List(Repository& r, const storage::ListRequest& q) {
    return r.ListKpis(q);
  }
  static auto Create(Repository& r, const Domain& x) { return r.CreateKpi(x); }
  static auto Update(Repository& r, const Domain& x, std::string_view etag,
                     std::string_view) {
    return r.UpdateKpi(x, etag);
  }
  static auto Delete(Repository& r, std::string_view n, std::string_view etag,
                     bool force) {
    return r.DeleteKpi(n, etag, force);
  }
};

struct ObservationOps {
  using Domain = domain::Observation;
  using Proto = v1::Observation;
  static constexpr ResourceType kType = ResourceType::kObservation;
  static constexpr bool kHasParent = true;
  static constexpr ResourceType kParentType = ResourceType::kKpi;
  static constexpr char kField[] = "observation";
  static constexpr char kCollection[] = "observations";
  static std::vector<Domain>& In(domain::Dataset& d) { return d.observations; }
  static auto Get(Repository& r, std::string_view n) {
    return r.GetObservation(n);
  }
  static auto List(Repository& r, const storage::ListRequest& q) {
    return r.ListObservations(q);
  }
  static auto Create(Repository& r, const Domain& x) {
    return r.CreateObservation(x);
  }
  static auto Update(Repository& r, const Domain& x, std::string_view etag,
                     std::string_view reason) {
    return r.UpdateObservation(x, etag, reason);
  }
  static auto Delete(Repository& r, std::string_view n, std::string_view etag,
                     bool force) {
    return r.DeleteObservation(n, etag, force);
  }
};

struct EvaluationOps {
  using Domain = domain::Evaluation;
  using Proto = v1::Evaluation;
  static constexpr ResourceType kType = ResourceType::kEvaluation;
  static constexpr bool kHasParent = true;
  static constexpr ResourceType kParentType = ResourceType::kMeasure;
  static constexpr char kField[] = "evaluation";
  static constexpr char kCollection[] = "evaluations";
  static std::vector<Domain>& In(domain::Dataset& d) { return d.evaluations; }
  static auto Get(Repository& r, std::string_view n) {
    return r.GetEvaluation(n);
  }
  static auto List(Repository& r, const storage::ListRequest& q) {
    return r.ListEvaluations(q);
  }
  static auto Create(Repository& r, const Domain& x) {
    return r.CreateEvaluation(x);
  }
  static auto Update(Repository& r, const Domain& x, std::string_view etag,
                     std::string_view) {
    return r.UpdateEvaluation(x, etag);
  }
  static auto Delete(Repository& r, std::string_view n, std::string_view etag,
                     bool force) {
    return r.DeleteEvaluation(n, etag, force);
  }
};

// ---- Helpers ----------------------------------------------------------------

// Adds the violation a names.h status describes; its message starts with
// "field: " which the violation's own field makes redundant.
void AddViolation(const absl::Status& status, const std::string& field,
                  Violations* violations) {
  std::string message(status.message());
  const std::string prefix = field + ": ";
  if (absl::StartsWith(message, prefix)) message.erase(0, prefix.size());
  violations->push_back({field, std::move(message)});
}

absl::Status InvalidRequest(const Violations& violations) {
  return base::InvalidArgumentWithViolations("invalid request:", violations);
}

// Moves the violations under `from` ("kpis[0]") to `to` ("kpi") and gives
// the status a new summary; used to report a one-resource dataset's
// validation as the request's own fields.
absl::Status RerootFieldPaths(const absl::Status& status, std::string_view from,
                              std::string_view to, const std::string& summary) {
  Violations violations = base::GetFieldViolations(status);
  if (violations.empty()) return status;
  for (base::FieldViolation& v : violations) {
    if (absl::StartsWith(v.field, AsAbsl(from))) {
      v.field = absl::StrCat(AsAbsl(to), v.field.substr(from.size()));
    }
  }
  return base::InvalidArgumentWithViolations(summary, violations);
}

// Reads `name` of `type` from the store into `stored`; a missing resource is
// left out (the validator reports the dangling reference).
absl::Status Fetch(Repository& repo, ResourceType type, const std::string& name,
                   domain::Dataset* stored) {
  auto add = [](auto result, auto* list) -> absl::Status {
    if (result.ok()) {
      list->push_back(*std::move(result));
      return absl::OkStatus();
    }
    if (absl::IsNotFound(result.status())) return absl::OkStatus();
    return result.status();
  };
  switch (type) {
    case ResourceType::kReference:
      return add(repo.GetReference(name), &stored->references);
    case ResourceType::kStrategy:
      return add(repo.GetStrategy(name), &stored->strategies);
    case ResourceType::kGoal:
      return add(repo.GetGoal(name), &stored->goals);
    case ResourceType::kMeasure:
      return add(repo.GetMeasure(name), &stored->measures);
    case ResourceType::kKpi:
      return add(repo.GetKpi(name), &stored->kpis);
    case ResourceType::kObservation:
      return add(repo.GetObservation(name), &stored->observations);
    case ResourceType::kEvaluation:
      return add(repo.GetEvaluation(name), &stored->evaluations);
  }
  return absl::OkStatus();
}

// The number of resources in `d`.
size_t DatasetSize(const domain::Dataset& d) {
  return d.references.size() + d.strategies.size() + d.goals.size() +
         d.measures.size() + d.kpis.size() + d.observations.size() +
         d.evaluations.size();
}

// The stored resources `dataset` refers to and does not hold itself: the
// parents of its resources, measures' goals and parent headings, KPIs'
// measures and target references. ValidateDataset resolves references
// against these.
absl::StatusOr<domain::Dataset> LoadReferenced(Repository& repo,
                                               const domain::Dataset& d) {
  absl::flat_hash_set<std::string> present;
  for (const auto& x : d.references) present.insert(x.name);
  for (const auto& x : d.strategies) present.insert(x.name);
  for (const auto& x : d.goals) present.insert(x.name);
  for (const auto& x : d.measures) present.insert(x.name);
  for (const auto& x : d.kpis) present.insert(x.name);
  for (const auto& x : d.observations) present.insert(x.name);
  for (const auto& x : d.evaluations) present.insert(x.name);

  std::set<std::pair<ResourceType, std::string>> wanted;
  auto want = [&](ResourceType type, const std::string& name) {
    if (name.empty() || present.contains(name)) return;
    if (!domain::ParseName(name, type, "name").ok()) return;
    wanted.emplace(type, name);
  };
  auto parent_of = [](const std::string& name, ResourceType type) {
    absl::StatusOr<domain::ParsedName> parsed =
        domain::ParseName(name, type, "name");
    return parsed.ok() ? parsed->parent : std::string();
  };
  for (const auto& g : d.goals) {
    want(ResourceType::kStrategy, parent_of(g.name, ResourceType::kGoal));
  }
  for (const auto& m : d.measures) {
    want(ResourceType::kStrategy, parent_of(m.name, ResourceType::kMeasure));
    want(ResourceType::kGoal, m.goal);
    want(ResourceType::kMeasure, m.parent);
  }
  for (const auto& k : d.kpis) {
    want(ResourceType::kStrategy, parent_of(k.name, ResourceType::kKpi));
    want(ResourceType::kMeasure, k.measure);
    want(ResourceType::kReference, k.target.reference);
  }
  for (const auto& e : d.evaluations) {
    const std::string measure = parent_of(e.name, ResourceType::kEvaluation);
    want(ResourceType::kMeasure, measure);
    want(ResourceType::kStrategy, parent_of(measure, ResourceType::kMeasure));
  }
  for (const auto& o : d.observations) {
    const std::string kpi = parent_of(o.name, ResourceType::kObservation);
    want(ResourceType::kKpi, kpi);
    want(ResourceType::kStrategy, parent_of(kpi, ResourceType::kKpi));
  }
  domain::Dataset stored;
  for (const auto& [type, name] : wanted) {
    KPI_RETURN_IF_ERROR(Fetch(repo, type, name, &stored));
  }
  // A stored KPI's target reference is needed to resolve it when only its
  // observations are written.
  for (size_t i = 0; i < stored.kpis.size(); ++i) {
    const std::string& reference = stored.kpis[i].target.reference;
    if (!reference.empty() && !present.contains(reference) &&
        wanted.emplace(ResourceType::kReference, reference).second) {
      KPI_RETURN_IF_ERROR(
          Fetch(repo, ResourceType::kReference, reference, &stored));
    }
  }
  return stored;
}

// Validates one resource about to be written, with the stored resources it
// refers to, reporting paths under the request field ("kpi.target.value").
template <typename Ops>
absl::Status ValidateWrite(Repository& repo, const typename Ops::Domain& item) {
  domain::Dataset one;
  Ops::In(one).push_back(item);
  KPI_ASSIGN_OR_RETURN(domain::Dataset stored, LoadReferenced(repo, one));
  absl::Status status = domain::ValidateDataset(one, stored);
  if (status.ok()) return status;
  return RerootFieldPaths(status, absl::StrCat(Ops::kCollection, "[0]"),
                          Ops::kField,
                          absl::StrCat("invalid ", Ops::kField, ":"));
}

template <typename Ops>
typename Ops::Proto ToProtoValue(const typename Ops::Domain& item) {
  typename Ops::Proto out;
  ToProto(item, &out);
  return out;
}

// The fields of `descriptor` a client may write: all but the output-only
// ones (AIP-203).
std::vector<std::string> WritableFields(
    const google::protobuf::Descriptor* descriptor) {
  static const auto* const kOutputOnly = new std::set<std::string>{
      "name", "etag", "create_time", "update_time", "revisions"};
  std::vector<std::string> out;
  for (int i = 0; i < descriptor->field_count(); ++i) {
    const std::string& name = descriptor->field(i)->name();
    if (!kOutputOnly->count(name)) out.push_back(name);
  }
  return out;
}

// The mask to apply: every writable field for an empty mask or "*", else
// the given paths, each of which must name a writable field (or a field
// inside one, e.g. "target.value").
FieldMask ResolveMask(const google::protobuf::Descriptor* descriptor,
                      const FieldMask& mask, Violations* violations) {
  const std::vector<std::string> writable = WritableFields(descriptor);
  FieldMask out;
  if (mask.paths_size() == 0 ||
      (mask.paths_size() == 1 && mask.paths(0) == "*")) {
    for (const std::string& field : writable) out.add_paths(field);
    return out;
  }
  const std::string accepted =
      absl::StrCat("writable fields: ", absl::StrJoin(writable, ", "),
                   "; or \"*\" alone (or an empty mask) for all of them");
  for (int i = 0; i < mask.paths_size(); ++i) {
    const std::string& path = mask.paths(i);
    const std::string field = absl::StrCat("update_mask.paths[", i, "]");
    const std::string top = path.substr(0, path.find('.'));
    if (path == "*") {
      violations->push_back(
          {field, absl::StrCat("\"*\" must be the only path; ", accepted)});
    } else if (!FieldMaskUtil::GetFieldDescriptors(descriptor, path, nullptr)) {
      violations->push_back(
          {field, absl::StrFormat("\"%s\" is not a field of %s; %s", path,
                                  descriptor->full_name(), accepted)});
    } else if (std::find(writable.begin(), writable.end(), top) ==
               writable.end()) {
      violations->push_back({field, absl::StrFormat("\"%s\" is output only; %s",
                                                    path, accepted)});
    } else {
      out.add_paths(path);
    }
  }
  return out;
}

void ValidatePageSize(int page_size, Violations* violations) {
  if (page_size < 0) {
    violations->push_back(
        {"page_size",
         absl::StrFormat("%d is negative; accepted: 0 (meaning 100) to 1000, "
                         "larger values are capped at 1000",
                         page_size)});
  }
}

// Only the length: the store checks the rest (storage/page_token.h).
void ValidatePageToken(const std::string& page_token, Violations* violations) {
  if (page_token.size() > domain::kMaxPageTokenBytes) {
    violations->push_back(
        {"page_token",
         absl::StrFormat("%d bytes; accepted: the next_page_token of the "
                         "previous page of the same call (at most %d bytes)",
                         page_token.size(), domain::kMaxPageTokenBytes)});
  }
}

// ---- Standard methods, once for every resource
// -------------------------------

template <typename Ops>
absl::StatusOr<typename Ops::Proto> DoGet(Repository& repo,
                                          const std::string& name) {
  Violations violations;
  absl::Status parsed = domain::ParseName(name, Ops::kType, "name").status();
  if (!parsed.ok()) AddViolation(parsed, "name", &violations);
  KPI_RETURN_IF_ERROR(InvalidRequest(violations));
  auto item = Ops::Get(repo, name);
  if (!item.ok()) return WithSuggestions(repo, Ops::kType, name, item.status());
  return ToProtoValue<Ops>(*item);
}

// A page of at most `page_size` items and at most `budget` bytes of them:
// a page the store returns that is larger is asked for again with fewer
// items, so that its next_page_token continues after the last one sent.
template <typename Ops>
absl::Status DoList(
    Repository& repo, size_t budget, const std::string& parent, int page_size,
    const std::string& page_token, const std::string& filter,
    google::protobuf::RepeatedPtrField<typename Ops::Proto>* items,
    std::string* next_page_token) {
  Violations violations;
  bool wildcard = false;
  if constexpr (Ops::kHasParent) {
    // AIP-159: a "-" ID lists the collection under every parent of it.
    absl::StatusOr<domain::ListParent> parsed =
        domain::ParseListParent(parent, Ops::kParentType, "parent");
    if (!parsed.ok()) {
      AddViolation(parsed.status(), "parent", &violations);
    } else {
      wildcard = parsed->wildcard;
    }
  }
  ValidatePageSize(page_size, &violations);
  ValidatePageToken(page_token, &violations);
  domain::ValidateTextLength(filter, domain::kMaxFilterChars, "filter",
                             &violations);
  KPI_RETURN_IF_ERROR(InvalidRequest(violations));
  storage::ListRequest request;
  request.parent = parent;
  request.page_size = page_size;
  request.page_token = page_token;
  request.filter = filter;
  auto page = Ops::List(repo, request);
  if (absl::IsNotFound(page.status()) && Ops::kHasParent && !wildcard) {
    return WithSuggestions(repo, Ops::kParentType, parent, page.status());
  }
  KPI_RETURN_IF_ERROR(page.status());
  for (;;) {
    items->Clear();
    items->Reserve(static_cast<int>(page->items.size()));
    size_t bytes = 0;
    for (const auto& item : page->items) {
      typename Ops::Proto proto;
      ToProto(item, &proto);
      const size_t size = EncodedElementSize(proto);
      // The first item always goes: the caps keep any one resource far
      // below the budget (kMinMessageBytes).
      if (!items->empty() && bytes + size > budget) break;
      bytes += size;
      *items->Add() = std::move(proto);
    }
    if (static_cast<size_t>(items->size()) == page->items.size()) break;
    // Fewer items each time, and one always fits: this ends. A write in
    // between may change what the shorter page holds, hence the loop.
    request.page_size = items->size();
    page = Ops::List(repo, request);
    KPI_RETURN_IF_ERROR(page.status());
  }
  *next_page_token = std::move(page->next_page_token);
  return absl::OkStatus();
}

template <typename Ops>
absl::StatusOr<typename Ops::Proto> DoCreate(
    Repository& repo, const std::string& parent,
    const typename Ops::Proto* resource, const std::string& id) {
  Violations violations;
  if constexpr (Ops::kHasParent) {
    absl::Status parsed =
        domain::ParseName(parent, Ops::kParentType, "parent").status();
    if (!parsed.ok()) AddViolation(parsed, "parent", &violations);
  }
  const std::string id_field = absl::StrCat(Ops::kField, "_id");
  absl::Status id_ok = domain::ValidateId(id, id_field);
  if (!id_ok.ok()) {
    if (id.empty()) {
      violations.push_back({id_field,
                            "required; accepted: 1 to 63 characters matching "
                            "^[a-z]([a-z0-9-]{0,61}[a-z0-9])?$"});
    } else {
      AddViolation(id_ok, id_field, &violations);
    }
  }
  typename Ops::Domain item;
  if (resource == nullptr) {
    violations.push_back({Ops::kField, "required"});
  } else {
    item = FromProto(*resource, Ops::kField, &violations);
  }
  KPI_RETURN_IF_ERROR(InvalidRequest(violations));
  if constexpr (Ops::kHasParent) {
    // Before validation, which would report the missing parent as a
    // dangling reference (INVALID_ARGUMENT): the request names a parent
    // that does not exist, NOT_FOUND as for Get and List.
    domain::Dataset found;
    KPI_RETURN_IF_ERROR(Fetch(repo, Ops::kParentType, parent, &found));
    if (DatasetSize(found) == 0) {
      return WithSuggestions(
          repo, Ops::kParentType, parent,
          absl::NotFoundError(absl::StrFormat(
              "parent: %s %s does not exist; create it first",
              AsAbsl(domain::TypeSingular(Ops::kParentType)), parent)));
    }
  }
  item.name = domain::MakeName(parent, Ops::kType, id);
  item.meta = domain::Meta();
  KPI_RETURN_IF_ERROR(ValidateWrite<Ops>(repo, item));
  auto created = Ops::Create(repo, item);
  if (absl::IsNotFound(created.status()) && Ops::kHasParent) {
    return WithSuggestions(repo, Ops::kParentType, parent, created.status());
  }
  KPI_RETURN_IF_ERROR(created.status());
  return ToProtoValue<Ops>(*created);
}

template <typename Ops>
absl::StatusOr<typename Ops::Proto> DoUpdate(
    Repository& repo, const typename Ops::Proto* resource,
    const FieldMask& mask, std::string_view reason) {
  Violations violations;
  if (resource == nullptr) {
    violations.push_back({Ops::kField, "required, with its name"});
    return InvalidRequest(violations);
  }
  const std::string name_field = absl::StrCat(Ops::kField, ".name");
  absl::Status parsed =
      domain::ParseName(resource->name(), Ops::kType, name_field).status();
  if (!parsed.ok()) AddViolation(parsed, name_field, &violations);
  const FieldMask effective =
      ResolveMask(Ops::Proto::descriptor(), mask, &violations);
  domain::ValidateTextLength(reason, domain::kMaxReasonChars, "reason",
                             &violations);
  KPI_RETURN_IF_ERROR(InvalidRequest(violations));

  const std::string& client_etag = resource->etag();
  FieldMaskUtil::MergeOptions merge;
  merge.set_replace_message_fields(true);
  merge.set_replace_repeated_fields(true);
  for (int attempt = 1;; ++attempt) {
    auto got = Ops::Get(repo, resource->name());
    if (!got.ok()) {
      return WithSuggestions(repo, Ops::kType, resource->name(), got.status());
    }
    typename Ops::Domain stored = *std::move(got);
    if (!client_etag.empty() && client_etag != stored.meta.etag) {
      return absl::AbortedError(absl::StrFormat(
          "%s: etag %s does not match the stored etag \"%s\" (it changed "
          "since it was read); read it again and reapply the change",
          resource->name(), base::QuoteInput(client_etag), stored.meta.etag));
    }
    typename Ops::Proto merged = ToProtoValue<Ops>(stored);
    FieldMaskUtil::MergeMessageTo(*resource, effective, merge, &merged);
    typename Ops::Domain item = FromProto(merged, Ops::kField, &violations);
    KPI_RETURN_IF_ERROR(InvalidRequest(violations));
    KPI_RETURN_IF_ERROR(ValidateWrite<Ops>(repo, item));
    auto updated = Ops::Update(
        repo, item, client_etag.empty() ? stored.meta.etag : client_etag,
        reason);
    if (updated.ok()) return ToProtoValue<Ops>(*updated);
    // Without a client etag the client asked for "apply my fields to the
    // latest state": another writer in between is retried, not reported.
    if (absl::IsAborted(updated.status()) && client_etag.empty() &&
        attempt < kMaxUpdateAttempts) {
      continue;
    }
    return updated.status();
  }
}

template <typename Ops>
absl::Status DoDelete(Repository& repo, const std::string& name,
                      const std::string& etag, bool force) {
  Violations violations;
  absl::Status parsed = domain::ParseName(name, Ops::kType, "name").status();
  if (!parsed.ok()) AddViolation(parsed, "name", &violations);
  KPI_RETURN_IF_ERROR(InvalidRequest(violations));
  return WithSuggestions(repo, Ops::kType, name,
                         Ops::Delete(repo, name, etag, force));
}

template <typename T>
grpc::Status Reply(absl::StatusOr<T> result, T* response) {
  if (!result.ok()) return ToGrpcStatus(result.status());
  *response = *std::move(result);
  return grpc::Status::OK;
}

}  // namespace

namespace {

// The dataset without the output-only fields kpi.v1.ImportDatasetRequest
// ignores (times, revisions; etags are kept: the repository checks them),
// validated against itself and the store.
absl::StatusOr<domain::Dataset> PrepareImport(Repository& repository,
                                              const domain::Dataset& input,
                                              std::string_view path) {
  domain::Dataset dataset = input;
  auto clear_meta = [](auto& items) {
    for (auto& item : items) {
      std::string etag = std::move(item.meta.etag);
      item.meta = domain::Meta();
      item.meta.etag = std::move(etag);
    }
  };
  clear_meta(dataset.references);
  clear_meta(dataset.strategies);
  clear_meta(dataset.goals);
  clear_meta(dataset.measures);
  clear_meta(dataset.kpis);
  clear_meta(dataset.observations);
  clear_meta(dataset.evaluations);
  for (auto& o : dataset.observations) o.revisions.clear();

  KPI_ASSIGN_OR_RETURN(domain::Dataset stored,
                       LoadReferenced(repository, dataset));
  absl::Status valid = domain::ValidateDataset(dataset, stored);
  if (!valid.ok()) return PrefixFieldPaths(valid, path);
  return dataset;
}

}  // namespace

absl::StatusOr<std::optional<storage::ImportResult>> SeedEmptyStore(
    Repository& repository, const domain::Dataset& input) {
  KPI_ASSIGN_OR_RETURN(const domain::Dataset dataset,
                       PrepareImport(repository, input, ""));
  return repository.ImportDatasetIntoEmptyStore(dataset);
}

absl::StatusOr<storage::ImportResult> ImportDomainDataset(
    Repository& repository, const domain::Dataset& input, bool validate_only,
    std::string_view path) {
  KPI_ASSIGN_OR_RETURN(const domain::Dataset dataset,
                       PrepareImport(repository, input, path));
  absl::StatusOr<storage::ImportResult> imported =
      validate_only ? repository.ValidateImport(dataset)
                    : repository.ImportDataset(dataset);
  // The store names an item as "kpis[3] ..."; the caller's path places it.
  // Only such a message: any other ABORTED (a conflict inside the database)
  // keeps its text, which the error interceptor recognises and hides.
  if (absl::IsAborted(imported.status()) && !path.empty()) {
    const absl::string_view message = imported.status().message();
    for (absl::string_view field :
         {"references[", "strategies[", "goals[", "measures[", "kpis[",
          "observations[", "evaluations["}) {
      if (absl::StartsWith(message, field)) {
        return absl::AbortedError(absl::StrCat(AsAbsl(path), message));
      }
    }
  }
  if (absl::IsInvalidArgument(imported.status())) {
    return PrefixFieldPaths(imported.status(), path);
  }
  return imported;
}

KpiService::KpiService(Repository* repository, const Authorizer* authorizer,
                       int max_message_bytes)
    : repository_(repository),
      authorizer_(authorizer),
      response_budget_(static_cast<size_t>(
          std::max(max_message_bytes, kMinMessageBytes) - kResponseReserve)) {}

absl::StatusOr<std::unique_ptr<Repository>> KpiService::WriterFor(
    const grpc::ServerContextBase& context) const {
  KPI_ASSIGN_OR_RETURN(const std::string actor, AuthorOf(authorizer_, context));
  return repository_->WithActor(actor);
}

namespace {

bool SameContent(const domain::Reference& a, const domain::Reference& b) {
  if (a.display_name != b.display_name || a.english_name != b.english_name ||
      a.unit != b.unit || a.source != b.source ||
      a.values.size() != b.values.size()) {
    return false;
  }
  for (size_t i = 0; i < a.values.size(); ++i) {
    if (a.values[i].effective_date != b.values[i].effective_date ||
        a.values[i].value != b.values[i].value) {
      return false;
    }
  }
  return true;
}

// Reference tables are an admin's (services/server/auth.h): an import by a
// lower role may carry them only as they are stored (as an export has them).
absl::Status CheckReferencesImportable(Repository& repository,
                                       const Authorizer* authorizer,
                                       const grpc::ServerContextBase& context,
                                       const domain::Dataset& dataset) {
  if (dataset.references.empty() || authorizer == nullptr ||
      !authorizer->enabled()) {
    return absl::OkStatus();
  }
  KPI_ASSIGN_OR_RETURN(const Principal caller, authorizer->Identify(context));
  if (caller.role >= Role::kAdmin) return absl::OkStatus();
  for (size_t i = 0; i < dataset.references.size(); ++i) {
    const domain::Reference& reference = dataset.references[i];
    absl::StatusOr<domain::Reference> stored =
        repository.GetReference(reference.name);
    if (!stored.ok() && !absl::IsNotFound(stored.status())) {
      return stored.status();
    }
    if (!stored.ok() || !SameContent(*stored, reference)) {
      return absl::PermissionDeniedError(absl::StrFormat(
          "dataset.references[%d]: creating or changing reference table %s "
          "needs role admin; the caller (%s) has role %s. Leave it out of "
          "the dataset (the stored one is used) or ask an admin",
          i, reference.name, caller.author, RoleName(caller.role)));
    }
  }
  return absl::OkStatus();
}

}  // namespace

// ---- Strategies ----

grpc::Status KpiService::GetStrategy(grpc::ServerContext*,
                                     const v1::GetStrategyRequest* request,
                                     v1::Strategy* response) {
  return Reply(DoGet<StrategyOps>(*repository_, request->name()), response);
}

grpc::Status KpiService::ListStrategies(
    grpc::ServerContext*, const v1::ListStrategiesRequest* request,
    v1::ListStrategiesResponse* response) {
  return ToGrpcStatus(DoList<StrategyOps>(
      *repository_, response_budget_, "", request->page_size(),
      request->page_token(), "", response->mutable_strategies(),
      response->mutable_next_page_token()));
}

grpc::Status KpiService::CreateStrategy(
    grpc::ServerContext* context, const v1::CreateStrategyRequest* request,
    v1::Strategy* response) {
  absl::StatusOr<std::unique_ptr<Repository>> writer = WriterFor(*context);
  if (!writer.ok()) return ToGrpcStatus(writer.status());
  return Reply(DoCreate<StrategyOps>(
                   **writer, "",
                   request->has_strategy() ? &request->strategy() : nullptr,
                   request->strategy_id()),
               response);
}

grpc::Status KpiService::UpdateStrategy(
    grpc::ServerContext* context, const v1::UpdateStrategyRequest* request,
    v1::Strategy* response) {
  absl::StatusOr<std::unique_ptr<Repository>> writer = WriterFor(*context);
  if (!writer.ok()) return ToGrpcStatus(writer.status());
  return Reply(
      DoUpdate<StrategyOps>(
          **writer, request->has_strategy() ? &request->strategy() : nullptr,
          request->update_mask(), ""),
      response);
}

grpc::Status KpiService::DeleteStrategy(
    grpc::ServerContext* context, const v1::DeleteStrategyRequest* request,
    google::protobuf::Empty*) {
  absl::StatusOr<std::unique_ptr<Repository>> writer = WriterFor(*context);
  if (!writer.ok()) return ToGrpcStatus(writer.status());
  return ToGrpcStatus(DoDelete<StrategyOps>(**writer, request->name(),
                                            request->etag(), request->force()));
}

// ---- Goals ----

grpc::Status KpiService::GetGoal(grpc::ServerContext*,
                                 const v1::GetGoalRequest* request,
                                 v1::Goal* response) {
  return Reply(DoGet<GoalOps>(*repository_, request->name()), response);
}

grpc::Status KpiService::ListGoals(grpc::ServerContext*,
                                   const v1::ListGoalsRequest* request,
                                   v1::ListGoalsResponse* response) {
  return ToGrpcStatus(DoList<GoalOps>(
      *repository_, response_budget_, request->parent(), request->page_size(),
      request->page_token(), "", response->mutable_goals(),
      response->mutable_next_page_token()));
}

grpc::Status KpiService::CreateGoal(grpc::ServerContext* context,
                                    const v1::CreateGoalRequest* request,
                                    v1::Goal* response) {
  absl::StatusOr<std::unique_ptr<Repository>> writer = WriterFor(*context);
  if (!writer.ok()) return ToGrpcStatus(writer.status());
  return Reply(
      DoCreate<GoalOps>(**writer, request->parent(),
                        request->has_goal() ? &request->goal() : nullptr,
                        request->goal_id()),
      response);
}

grpc::Status KpiService::UpdateGoal(grpc::ServerContext* context,
                                    const v1::UpdateGoalRequest* request,
                                    v1::Goal* response) {
  absl::StatusOr<std::unique_ptr<Repository>> writer = WriterFor(*context);
  if (!writer.ok()) return ToGrpcStatus(writer.status());
  return Reply(DoUpdate<GoalOps>(
                   **writer, request->has_goal() ? &request->goal() : nullptr,
                   request->update_mask(), ""),
               response);
}

grpc::Status KpiService::DeleteGoal(grpc::ServerContext* context,
                                    const v1::DeleteGoalRequest* request,
                                    google::protobuf::Empty*) {
  absl::StatusOr<std::unique_ptr<Repository>> writer = WriterFor(*context);
  if (!writer.ok()) return ToGrpcStatus(writer.status());
  return ToGrpcStatus(DoDelete<GoalOps>(**writer, request->name(),
                                        request->etag(), request->force()));
}

// ---- Measures ----

grpc::Status KpiService::GetMeasure(grpc::ServerContext*,
                                    const v1::GetMeasureRequest* request,
                                    v1::Measure* response) {
  return Reply(DoGet<MeasureOps>(*repository_, request->name()), response);
}

grpc::Status KpiService::ListMeasures(grpc::ServerContext*,
                                      const v1::ListMeasuresRequest* request,
                                      v1::ListMeasuresResponse* response) {
  return ToGrpcStatus(DoList<MeasureOps>(
      *repository_, response_budget_, request->parent(), request->page_size(),
      request->page_token(), request->filter(), response->mutable_measures(),
      response->mutable_next_page_token()));
}

grpc::Status KpiService::CreateMeasure(grpc::ServerContext* context,
                                       const v1::CreateMeasureRequest* request,
                                       v1::Measure* response) {
  absl::StatusOr<std::unique_ptr<Repository>> writer = WriterFor(*context);
  if (!writer.ok()) return ToGrpcStatus(writer.status());
  return Reply(DoCreate<MeasureOps>(
                   **writer, request->parent(),
                   request->has_measure() ? &request->measure() : nullptr,
                   request->measure_id()),
               response);
}

grpc::Status KpiService::UpdateMeasure(grpc::ServerContext* context,
                                       const v1::UpdateMeasureRequest* request,
                                       v1::Measure* response) {
  absl::StatusOr<std::unique_ptr<Repository>> writer = WriterFor(*context);
  if (!writer.ok()) return ToGrpcStatus(writer.status());
  return Reply(
      DoUpdate<MeasureOps>(
          **writer, request->has_measure() ? &request->measure() : nullptr,
          request->update_mask(), ""),
      response);
}

grpc::Status KpiService::DeleteMeasure(grpc::ServerContext* context,
                                       const v1::DeleteMeasureRequest* request,
                                       google::protobuf::Empty*) {
  absl::StatusOr<std::unique_ptr<Repository>> writer = WriterFor(*context);
  if (!writer.ok()) return ToGrpcStatus(writer.status());
  return ToGrpcStatus(DoDelete<MeasureOps>(**writer, request->name(),
                                           request->etag(), request->force()));
}

// ---- KPIs ----

grpc::Status KpiService::GetKpi(grpc::ServerContext*,
                                const v1::GetKpiRequest* request,
                                v1::Kpi* response) {
  return Reply(DoGet<KpiOps>(*repository_, request->name()), response);
}

grpc::Status KpiService::ListKpis(grpc::ServerContext*,
                                  const v1::ListKpisRequest* request,
                                  v1::ListKpisResponse* response) {
  return ToGrpcStatus(DoList<KpiOps>(
      *repository_, response_budget_, request->parent(), request->page_size(),
      request->page_token(), request->filter(), response->mutable_kpis(),
      response->mutable_next_page_token()));
}

grpc::Status KpiService::CreateKpi(grpc::ServerContext* context,
                                   const v1::CreateKpiRequest* request,
                                   v1::Kpi* response) {
  absl::StatusOr<std::unique_ptr<Repository>> writer = WriterFor(*context);
  if (!writer.ok()) return ToGrpcStatus(writer.status());
  return Reply(DoCreate<KpiOps>(**writer, request->parent(),
                                request->has_kpi() ? &request->kpi() : nullptr,
                                request->kpi_id()),
               response);
}

grpc::Status KpiService::UpdateKpi(grpc::ServerContext* context,
                                   const v1::UpdateKpiRequest* request,
                                   v1::Kpi* response) {
  absl::StatusOr<std::unique_ptr<Repository>> writer = WriterFor(*context);
  if (!writer.ok()) return ToGrpcStatus(writer.status());
  return Reply(
      DoUpdate<KpiOps>(**writer, request->has_kpi() ? &request->kpi() : nullptr,
                       request->update_mask(), ""),
      response);
}

grpc::Status KpiService::DeleteKpi(grpc::ServerContext* context,
                                   const v1::DeleteKpiRequest* request,
                                   google::protobuf::Empty*) {
  absl::StatusOr<std::unique_ptr<Repository>> writer = WriterFor(*context);
  if (!writer.ok()) return ToGrpcStatus(writer.status());
  return ToGrpcStatus(DoDelete<KpiOps>(**writer, request->name(),
                                       request->etag(), request->force()));
}

// ---- Observations ----

grpc::Status KpiService::GetObservation(
    grpc::ServerContext*, const v1::GetObservationRequest* request,
    v1::Observation* response) {
  return Reply(DoGet<ObservationOps>(*repository_, request->name()), response);
}

grpc::Status KpiService::ListObservations(
    grpc::ServerContext*, const v1::ListObservationsRequest* request,
    v1::ListObservationsResponse* response) {
  return ToGrpcStatus(DoList<ObservationOps>(
      *repository_, response_budget_, request->parent(), request->page_size(),
      request->page_token(), request->filter(),
      response->mutable_observations(), response->mutable_next_page_token()));
}

grpc::Status KpiService::CreateObservation(
    grpc::ServerContext* context, const v1::CreateObservationRequest* request,
    v1::Observation* response) {
  absl::StatusOr<std::unique_ptr<Repository>> writer = WriterFor(*context);
  if (!writer.ok()) return ToGrpcStatus(writer.status());
  return Reply(
      DoCreate<ObservationOps>(
          **writer, request->parent(),
          request->has_observation() ? &request->observation() : nullptr,
          request->observation_id()),
      response);
}

grpc::Status KpiService::UpdateObservation(
    grpc::ServerContext* context, const v1::UpdateObservationRequest* request,
    v1::Observation* response) {
  absl::StatusOr<std::unique_ptr<Repository>> writer = WriterFor(*context);
  if (!writer.ok()) return ToGrpcStatus(writer.status());
  return Reply(
      DoUpdate<ObservationOps>(
          **writer,
          request->has_observation() ? &request->observation() : nullptr,
          request->update_mask(), request->reason()),
      response);
}

grpc::Status KpiService::DeleteObservation(
    grpc::ServerContext* context, const v1::DeleteObservationRequest* request,
    google::protobuf::Empty*) {
  absl::StatusOr<std::unique_ptr<Repository>> writer = WriterFor(*context);
  if (!writer.ok()) return ToGrpcStatus(writer.status());
  return ToGrpcStatus(DoDelete<ObservationOps>(
      **writer, request->name(), request->etag(), request->force()));
}

// ---- Evaluations ----

grpc::Status KpiService::GetEvaluation(grpc::ServerContext*,
                                       const v1::GetEvaluationRequest* request,
                                       v1::Evaluation* response) {
  return Reply(DoGet<EvaluationOps>(*repository_, request->name()), response);
}

grpc::Status KpiService::ListEvaluations(
    grpc::ServerContext*, const v1::ListEvaluationsRequest* request,
    v1::ListEvaluationsResponse* response) {
  return ToGrpcStatus(DoList<EvaluationOps>(
      *repository_, response_budget_, request->parent(), request->page_size(),
      request->page_token(), request->filter(), response->mutable_evaluations(),
      response->mutable_next_page_token()));
}

grpc::Status KpiService::CreateEvaluation(
    grpc::ServerContext* context, const v1::CreateEvaluationRequest* request,
    v1::Evaluation* response) {
  absl::StatusOr<std::unique_ptr<Repository>> writer = WriterFor(*context);
  if (!writer.ok()) return ToGrpcStatus(writer.status());
  return Reply(DoCreate<EvaluationOps>(
                   **writer, request->parent(),
                   request->has_evaluation() ? &request->evaluation() : nullptr,
                   request->evaluation_id()),
               response);
}

grpc::Status KpiService::UpdateEvaluation(
    grpc::ServerContext* context, const v1::UpdateEvaluationRequest* request,
    v1::Evaluation* response) {
  absl::StatusOr<std::unique_ptr<Repository>> writer = WriterFor(*context);
  if (!writer.ok()) return ToGrpcStatus(writer.status());
  return Reply(DoUpdate<EvaluationOps>(
                   **writer,
                   request->has_evaluation() ? &request->evaluation() : nullptr,
                   request->update_mask(), ""),
               response);
}

grpc::Status KpiService::DeleteEvaluation(
    grpc::ServerContext* context, const v1::DeleteEvaluationRequest* request,
    google::protobuf::Empty*) {
  absl::StatusOr<std::unique_ptr<Repository>> writer = WriterFor(*context);
  if (!writer.ok()) return ToGrpcStatus(writer.status());
  return ToGrpcStatus(DoDelete<EvaluationOps>(
      **writer, request->name(), request->etag(), request->force()));
}

// ---- References ----

grpc::Status KpiService::GetReference(grpc::ServerContext*,
                                      const v1::GetReferenceRequest* request,
                                      v1::Reference* response) {
  return Reply(DoGet<ReferenceOps>(*repository_, request->name()), response);
}

grpc::Status KpiService::ListReferences(
    grpc::ServerContext*, const v1::ListReferencesRequest* request,
    v1::ListReferencesResponse* response) {
  return ToGrpcStatus(DoList<ReferenceOps>(
      *repository_, response_budget_, "", request->page_size(),
      request->page_token(), "", response->mutable_references(),
      response->mutable_next_page_token()));
}

grpc::Status KpiService::CreateReference(
    grpc::ServerContext* context, const v1::CreateReferenceRequest* request,
    v1::Reference* response) {
  absl::StatusOr<std::unique_ptr<Repository>> writer = WriterFor(*context);
  if (!writer.ok()) return ToGrpcStatus(writer.status());
  return Reply(DoCreate<ReferenceOps>(
                   **writer, "",
                   request->has_reference() ? &request->reference() : nullptr,
                   request->reference_id()),
               response);
}

grpc::Status KpiService::UpdateReference(
    grpc::ServerContext* context, const v1::UpdateReferenceRequest* request,
    v1::Reference* response) {
  absl::StatusOr<std::unique_ptr<Repository>> writer = WriterFor(*context);
  if (!writer.ok()) return ToGrpcStatus(writer.status());
  return Reply(
      DoUpdate<ReferenceOps>(
          **writer, request->has_reference() ? &request->reference() : nullptr,
          request->update_mask(), ""),
      response);
}

grpc::Status KpiService::DeleteReference(
    grpc::ServerContext* context, const v1::DeleteReferenceRequest* request,
    google::protobuf::Empty*) {
  absl::StatusOr<std::unique_ptr<Repository>> writer = WriterFor(*context);
  if (!writer.ok()) return ToGrpcStatus(writer.status());
  return ToGrpcStatus(DoDelete<ReferenceOps>(
      **writer, request->name(), request->etag(), request->force()));
}

// ---- Datasets ----

grpc::Status KpiService::ImportDataset(grpc::ServerContext* context,
                                       const v1::ImportDatasetRequest* request,
                                       v1::ImportDatasetResponse* response) {
  if (!request->has_dataset()) {
    return ToGrpcStatus(
        InvalidRequest({{"dataset",
                         "required: a kpi.v1.Dataset with the resources to "
                         "import"}}));
  }
  Violations violations;
  domain::Dataset dataset =
      FromProto(request->dataset(), "dataset", &violations);
  if (!violations.empty()) {
    return ToGrpcStatus(
        base::InvalidArgumentWithViolations("invalid dataset:", violations));
  }
  if (absl::Status allowed = CheckReferencesImportable(
          *repository_, authorizer_, *context, dataset);
      !allowed.ok()) {
    return ToGrpcStatus(allowed);
  }
  absl::StatusOr<std::unique_ptr<Repository>> writer = WriterFor(*context);
  if (!writer.ok()) return ToGrpcStatus(writer.status());
  absl::StatusOr<storage::ImportResult> result = ImportDomainDataset(
      **writer, dataset, request->validate_only(), "dataset.");
  if (!result.ok()) return ToGrpcStatus(result.status());
  response->set_created_count(result->created_count);
  response->set_replaced_count(result->replaced_count);
  return grpc::Status::OK;
}

namespace {

// ExportDataset pages are cut from one snapshot of the store: the token
// holds the change sequence it was taken at and the position reached,
// "SEQUENCE/COLLECTION/OFFSET", bound to the strategy exported.
constexpr char kExportBinding[] = "ExportDataset";

struct ExportCursor {
  int64_t sequence = 0;
  int collection = 0;  // index into a v1::Dataset's repeated fields
  int offset = 0;
};

absl::StatusOr<std::optional<ExportCursor>> DecodeExportToken(
    const storage::PageTokens& tokens, const std::string& strategy,
    const std::string& token) {
  if (token.empty()) return std::nullopt;
  KPI_ASSIGN_OR_RETURN(
      const std::string cursor,
      tokens.Decode(ResourceType::kStrategy, strategy, kExportBinding, token));
  ExportCursor out;
  const std::vector<std::string> parts = absl::StrSplit(cursor, '/');
  if (parts.size() != 3 || !absl::SimpleAtoi(parts[0], &out.sequence) ||
      !absl::SimpleAtoi(parts[1], &out.collection) ||
      !absl::SimpleAtoi(parts[2], &out.offset) || out.collection < 0 ||
      out.offset < 0) {
    return InvalidRequest(
        {{"page_token",
          "is not a token ExportDataset issued; accepted: the "
          "next_page_token of the previous page, with the same strategy"}});
  }
  return out;
}

std::string EncodeExportToken(const storage::PageTokens& tokens,
                              const std::string& strategy,
                              const ExportCursor& cursor) {
  return tokens.Encode(ResourceType::kStrategy, strategy, kExportBinding,
                       absl::StrCat(cursor.sequence, "/", cursor.collection,
                                    "/", cursor.offset));
}

// The whole export as one snapshot, with the change sequence it shows.
// Retried while writes commit during the read.
absl::StatusOr<std::pair<domain::Dataset, int64_t>> ExportSnapshot(
    Repository& repository, const std::string& strategy) {
  constexpr int kAttempts = 5;
  for (int attempt = 1;; ++attempt) {
    KPI_ASSIGN_OR_RETURN(const int64_t before, repository.ChangeSequence());
    KPI_ASSIGN_OR_RETURN(domain::Dataset dataset,
                         repository.ExportDataset(strategy));
    KPI_ASSIGN_OR_RETURN(const int64_t after, repository.ChangeSequence());
    if (before == after) return std::make_pair(std::move(dataset), before);
    if (attempt == kAttempts) {
      return absl::UnavailableError(
          "the store changed during each of 5 exports (writes are "
          "committing continuously); try again");
    }
  }
}

}  // namespace

grpc::Status KpiService::ExportDataset(grpc::ServerContext*,
                                       const v1::ExportDatasetRequest* request,
                                       v1::ExportDatasetResponse* response) {
  Violations violations;
  if (!request->strategy().empty()) {
    absl::Status parsed = domain::ParseName(request->strategy(),
                                            ResourceType::kStrategy, "strategy")
                              .status();
    if (!parsed.ok()) AddViolation(parsed, "strategy", &violations);
  }
  if (request->page_size() < 0) {
    violations.push_back(
        {"page_size",
         absl::StrFormat("%d is negative; accepted: 0 (the whole export in "
                         "one response) or a number of resources per page",
                         request->page_size())});
  }
  ValidatePageToken(request->page_token(), &violations);
  if (!request->page_token().empty() && request->page_size() == 0) {
    violations.push_back({"page_size",
                          "0 with a page_token; accepted: the page size of the "
                          "first page, or any positive number"});
  }
  if (absl::Status s = InvalidRequest(violations); !s.ok()) {
    return ToGrpcStatus(s);
  }
  absl::StatusOr<std::optional<ExportCursor>> cursor = DecodeExportToken(
      repository_->page_tokens(), request->strategy(), request->page_token());
  if (!cursor.ok()) return ToGrpcStatus(cursor.status());

  absl::StatusOr<std::pair<domain::Dataset, int64_t>> snapshot =
      ExportSnapshot(*repository_, request->strategy());
  if (!snapshot.ok()) return ToGrpcStatus(snapshot.status());
  const int64_t sequence = snapshot->second;
  if (cursor->has_value() && (*cursor)->sequence != sequence) {
    return ToGrpcStatus(absl::AbortedError(
        "the store changed since the first page of this export, so the "
        "pages would not add up to one state of the store; export again "
        "from the first page"));
  }
  v1::Dataset all;
  ToProto(snapshot->first, &all);
  snapshot->first = domain::Dataset();

  if (request->page_size() == 0) {
    const size_t size = all.ByteSizeLong();
    if (size > response_budget_) {
      return ToGrpcStatus(absl::ResourceExhaustedError(absl::StrFormat(
          "the export is %d bytes, more than one response may carry (%d "
          "bytes, from --max_message_bytes); set page_size to receive it in "
          "pages (kpictl export does)",
          size, response_budget_)));
    }
    *response->mutable_dataset() = std::move(all);
    return grpc::Status::OK;
  }

  // Copies resources from `all` from the cursor on, collection by
  // collection, until page_size resources or the budget.
  const google::protobuf::Descriptor* descriptor = v1::Dataset::descriptor();
  const google::protobuf::Reflection* reflection = all.GetReflection();
  v1::Dataset* page = response->mutable_dataset();
  ExportCursor at = cursor->value_or(ExportCursor{sequence, 0, 0});
  size_t bytes = 0;
  int count = 0;
  for (; at.collection < descriptor->field_count();
       ++at.collection, at.offset = 0) {
    const google::protobuf::FieldDescriptor* field =
        descriptor->field(at.collection);
    const int size = reflection->FieldSize(all, field);
    for (; at.offset < size; ++at.offset) {
      const google::protobuf::Message& item =
          reflection->GetRepeatedMessage(all, field, at.offset);
      const size_t item_bytes = EncodedElementSize(item);
      if (count == request->page_size() ||
          (count > 0 && bytes + item_bytes > response_budget_)) {
        response->set_next_page_token(EncodeExportToken(
            repository_->page_tokens(), request->strategy(), at));
        return grpc::Status::OK;
      }
      reflection->AddMessage(page, field)->CopyFrom(item);
      bytes += item_bytes;
      ++count;
    }
  }
  return grpc::Status::OK;
}

// ---- Change log ----

grpc::Status KpiService::ListChanges(grpc::ServerContext*,
                                     const v1::ListChangesRequest* request,
                                     v1::ListChangesResponse* response) {
  Violations violations;
  ValidatePageSize(request->page_size(), &violations);
  if (absl::Status invalid = InvalidRequest(violations); !invalid.ok()) {
    return ToGrpcStatus(invalid);
  }
  storage::ChangeListRequest list;
  list.page_size = request->page_size();
  list.page_token = request->page_token();
  list.actor = request->actor();
  list.resource = request->resource();
  if (request->has_start_time()) {
    list.start_time = TimeFromProto(request->start_time());
  }
  if (request->has_end_time()) {
    list.end_time = TimeFromProto(request->end_time());
  }
  absl::StatusOr<storage::Page<storage::Change>> page =
      repository_->ListChanges(list);
  if (!page.ok()) return ToGrpcStatus(page.status());
  response->mutable_changes()->Reserve(static_cast<int>(page->items.size()));
  for (const storage::Change& c : page->items) {
    v1::Change* out = response->add_changes();
    out->set_sequence(c.sequence);
    out->set_position(c.position);
    TimeToProto(c.time, out->mutable_change_time());
    out->set_actor(c.actor);
    out->set_method(c.method);
    out->set_resource(c.resource);
    out->set_etag_before(c.etag_before);
    out->set_etag_after(c.etag_after);
    out->set_summary(c.summary);
  }
  response->set_next_page_token(std::move(page->next_page_token));
  return grpc::Status::OK;
}

}  // namespace kpi::services
