#include "services/server/forecast_service.h"

#include <algorithm>
#include <cmath>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/container/inlined_vector.h"
#include "absl/functional/function_ref.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "google/protobuf/arena.h"
#include "lib/base/field_violations.h"
#include "lib/base/parallel_for.h"
#include "lib/base/status_macros.h"
#include "lib/domain/names.h"
#include "lib/domain/validation.h"
#include "lib/fiscal/fiscal_year.h"
#include "lib/i18n/catalogue.h"
#include "services/convert.h"
#include "services/server/suggestions.h"

namespace kpi::services {
namespace {

using forecast::ShockTreatment;

absl::string_view AsAbsl(std::string_view s) { return {s.data(), s.size()}; }

std::string Join(std::string_view path, std::string_view field) {
  if (path.empty()) return std::string(field);
  return absl::StrCat(AsAbsl(path), ".", AsAbsl(field));
}

absl::Status InvalidRequest(const Violations& violations) {
  return base::InvalidArgumentWithViolations("invalid request:", violations);
}

bool InFiscalRange(int year) {
  return year >= fiscal::kMinFiscalYear && year <= fiscal::kMaxFiscalYear;
}

// Adds a violation naming `field` unless `year` is accepted. The field is
// only built for a violation: batches check thousands of valid years.
void CheckFiscalYear(int year, absl::FunctionRef<std::string()> field,
                     bool allow_zero, Violations* violations) {
  if ((allow_zero && year == 0) || InFiscalRange(year)) return;
  violations->push_back(
      {field(),
       absl::StrFormat("%d is not a fiscal year this service accepts; "
                       "accepted: %d to %d%s",
                       year, fiscal::kMinFiscalYear, fiscal::kMaxFiscalYear,
                       allow_zero ? ", or 0 for none" : "")});
}

// The violation for a stored KPI's target year outside its accepted range,
// saying where the bounds come from.
base::FieldViolation TargetYearViolation(const std::string& field, int year,
                                         int first, int last) {
  return {field,
          absl::StrFormat("%d is outside the accepted range %d to %d (after "
                          "the first observation, FY%d, and at most %d years "
                          "after the last, FY%d)",
                          year, first + 1, last + kMaxYearsAhead, first,
                          kMaxYearsAhead, last)};
}

// Options shared by every item of a request: the treatment's enum number
// and the extra shock years.
void ValidateOptions(const v1::ScenarioOptions& options,
                     std::string_view options_path, Violations* violations) {
  if (!v1::ShockTreatment_IsValid(options.shock_treatment())) {
    ShockTreatmentFromProto(options.shock_treatment(),
                            Join(options_path, "shock_treatment"), violations);
  }
  for (int i = 0; i < options.shock_fiscal_years_size(); ++i) {
    CheckFiscalYear(
        options.shock_fiscal_years(i),
        [&] {
          return absl::StrCat(Join(options_path, "shock_fiscal_years"), "[", i,
                              "]");
        },
        false, violations);
  }
}

// The engine input for an ad-hoc series, or INVALID_ARGUMENT naming every
// field of `series` (under `path`) that breaks the contract of kpi.v1.Series.
absl::StatusOr<forecast::SeriesInput> SeriesInputFor(
    const v1::Series* series, const v1::ScenarioOptions& options,
    std::string_view path, std::string_view options_path) {
  Violations violations;
  ValidateOptions(options, options_path, &violations);
  if (series == nullptr) {
    violations.push_back(
        {std::string(path), "required: a series with 1 to 200 points"});
    return InvalidRequest(violations);
  }
  const v1::Series& s = *series;
  if (s.series_id().size() > static_cast<size_t>(kMaxSeriesIdBytes)) {
    violations.push_back(
        {Join(path, "series_id"),
         absl::StrFormat("%d bytes; accepted: at most %d", s.series_id().size(),
                         kMaxSeriesIdBytes)});
  }
  // Field paths are built only for violations (see CheckFiscalYear).
  const auto point_field = [&](int i, std::string_view field) {
    return absl::StrCat(Join(path, "points"), "[", i, "].", AsAbsl(field));
  };
  bool points_ok = true;
  int first = 0;
  int last = 0;
  if (s.points_size() == 0 || s.points_size() > kMaxSeriesPoints) {
    points_ok = false;
    violations.push_back({Join(path, "points"),
                          absl::StrFormat("%d points; accepted: 1 to %d",
                                          s.points_size(), kMaxSeriesPoints)});
  } else {
    // (fiscal year, index), sorted to find repeated years.
    absl::InlinedVector<std::pair<int, int>, 16> years;
    years.reserve(s.points_size());
    for (int i = 0; i < s.points_size(); ++i) {
      const v1::SeriesPoint& p = s.points(i);
      const size_t before = violations.size();
      CheckFiscalYear(
          p.fiscal_year(), [&] { return point_field(i, "fiscal_year"); }, false,
          &violations);
      if (p.first_fiscal_year() != 0 &&
          (p.first_fiscal_year() > p.fiscal_year() ||
           !InFiscalRange(p.first_fiscal_year()))) {
        violations.push_back(
            {point_field(i, "first_fiscal_year"),
             absl::StrFormat("%d; accepted: 0 for a single year, or the first "
                             "year of a range ending at fiscal_year %d",
                             p.first_fiscal_year(), p.fiscal_year())});
      }
      if (!std::isfinite(p.value())) {
        violations.push_back({point_field(i, "value"),
                              "not a finite number; accepted: a finite "
                              "value"});
      }
      if (violations.size() != before) points_ok = false;
      years.emplace_back(p.fiscal_year(), i);
    }
    std::sort(years.begin(), years.end());
    for (size_t k = 1; k < years.size(); ++k) {
      if (years[k].first != years[k - 1].first) continue;
      points_ok = false;
      violations.push_back(
          {point_field(years[k].second, "fiscal_year"),
           absl::StrFormat("%d already appears at points[%d]; accepted: at "
                           "most one point per fiscal year",
                           years[k].first, years[k - 1].second)});
    }
    first = years.front().first;
    last = years.back().first;
  }
  if (s.has_target_value() && !std::isfinite(s.target_value())) {
    violations.push_back({Join(path, "target_value"),
                          "not a finite number; accepted: a finite value"});
  }
  if (s.has_target_value() && s.target_fiscal_year() == 0) {
    violations.push_back(
        {Join(path, "target_fiscal_year"),
         "required when target_value is set: the fiscal year by which the "
         "target is to be met"});
  } else if (s.target_fiscal_year() != 0 && points_ok &&
             (s.target_fiscal_year() <= last ||
              s.target_fiscal_year() > last + kMaxYearsAhead)) {
    violations.push_back(
        {Join(path, "target_fiscal_year"),
         absl::StrFormat("%d is outside the accepted range %d to %d (after "
                         "the last point, FY%d, and at most %d years after it)",
                         s.target_fiscal_year(), last + 1,
                         last + kMaxYearsAhead, last, kMaxYearsAhead)});
  }
  if (s.horizon() < 0 || s.horizon() > kMaxYearsAhead) {
    violations.push_back(
        {Join(path, "horizon"),
         absl::StrFormat("%d; accepted: 1 to %d years, or 0 for %d",
                         s.horizon(), kMaxYearsAhead, kDefaultHorizon)});
  }
  if (s.kind() == v1::KPI_KIND_PERIOD_SUM) {
    if (s.period_first_fiscal_year() == 0) {
      violations.push_back(
          {Join(path, "period_first_fiscal_year"),
           "required for KPI_KIND_PERIOD_SUM: the first fiscal year of the "
           "summed period"});
    } else if (points_ok && s.period_first_fiscal_year() > first) {
      violations.push_back(
          {Join(path, "period_first_fiscal_year"),
           absl::StrFormat("%d is after the first point, FY%d; accepted: a "
                           "year on or before it",
                           s.period_first_fiscal_year(), first)});
    }
  } else if (s.period_first_fiscal_year() != 0) {
    CheckFiscalYear(
        s.period_first_fiscal_year(),
        [&] { return Join(path, "period_first_fiscal_year"); }, true,
        &violations);
  }
  if (s.has_baseline()) {
    CheckFiscalYear(
        s.baseline().fiscal_year(),
        [&] { return Join(path, "baseline.fiscal_year"); }, false, &violations);
    if (!std::isfinite(s.baseline().value())) {
      violations.push_back({Join(path, "baseline.value"),
                            "not a finite number; accepted: a finite value"});
    }
  }
  for (int i = 0; i < s.shock_fiscal_years_size(); ++i) {
    CheckFiscalYear(
        s.shock_fiscal_years(i),
        [&] {
          return absl::StrCat(Join(path, "shock_fiscal_years"), "[", i, "]");
        },
        false, &violations);
  }
  if (s.probability_thresholds_size() > kMaxThresholds) {
    violations.push_back(
        {Join(path, "probability_thresholds"),
         absl::StrFormat("%d values; accepted: at most %d",
                         s.probability_thresholds_size(), kMaxThresholds)});
  }
  for (int i = 0; i < s.probability_thresholds_size(); ++i) {
    if (!std::isfinite(s.probability_thresholds(i))) {
      violations.push_back(
          {absl::StrCat(Join(path, "probability_thresholds"), "[", i, "]"),
           "not a finite number; accepted: a finite value"});
    }
  }
  forecast::SeriesInput input =
      SeriesFromProto(s, options, path, options_path, &violations);
  KPI_RETURN_IF_ERROR(InvalidRequest(violations));
  if (input.target_fiscal_year == 0) {
    input.target_fiscal_year =
        last + (s.horizon() == 0 ? kDefaultHorizon : s.horizon());
  }
  return input;
}

struct Projected {
  forecast::Projection main;
  std::optional<forecast::Projection> alternative;
};

// The headline projection of `input` and, with shock years marked, the
// comparison one (forecast::Engine::ProjectScenarios).
absl::StatusOr<Projected> ProjectWithAlternative(
    const forecast::Engine& engine, const forecast::SeriesInput& input) {
  KPI_ASSIGN_OR_RETURN(forecast::ScenarioProjections p,
                       engine.ProjectScenarios(input));
  return Projected{std::move(p.projection), std::move(p.alternative)};
}

// The language of a request's language_code ("" means Japanese), or a
// violation naming `field`.
i18n::Language LanguageFor(const std::string& code, std::string_view field,
                           Violations* violations) {
  if (code.empty()) return i18n::Language::kJa;
  absl::StatusOr<i18n::Language> language = i18n::ParseLanguage(code);
  if (language.ok()) return *language;
  violations->push_back(
      {std::string(field), std::string(language.status().message())});
  return i18n::Language::kJa;
}

// The ForecastService view of a stored KPI's data problem: FAILED_PRECONDITION
// naming the observations the engine's "points[i]" paths refer to.
absl::Status StoredDataError(const absl::Status& status, const std::string& kpi,
                             const std::vector<std::string>& point_names) {
  if (!absl::IsInvalidArgument(status)) return status;
  std::vector<std::string> problems;
  for (const base::FieldViolation& v : base::GetFieldViolations(status)) {
    std::string field = v.field;
    for (size_t i = 0; i < point_names.size(); ++i) {
      const std::string prefix = absl::StrCat("points[", i, "]");
      if (absl::StartsWith(field, prefix)) {
        field = absl::StrCat(point_names[i], field.substr(prefix.size()));
        break;
      }
    }
    problems.push_back(absl::StrCat(field, ": ", v.description));
  }
  if (problems.empty()) problems.push_back(std::string(status.message()));
  return absl::FailedPreconditionError(
      absl::StrCat("the stored data of ", kpi,
                   " cannot be projected; correct it with KpiService: ",
                   absl::StrJoin(problems, "; ")));
}

// Projects a stored KPI: its observations before the target year, its
// target (resolved through the reference table at the target year when
// symbolic), and the shock years stored with it plus the request's.
absl::StatusOr<Projected> ProjectStored(
    storage::Repository& repository, const forecast::Engine& engine,
    const std::string& name, std::string_view name_field, int requested_year,
    const v1::ScenarioOptions& options, Violations violations = {}) {
  absl::Status parsed =
      domain::ParseName(name, domain::ResourceType::kKpi, name_field).status();
  if (!parsed.ok()) {
    std::string message(parsed.message());
    const std::string prefix = absl::StrCat(AsAbsl(name_field), ": ");
    if (absl::StartsWith(message, prefix)) message.erase(0, prefix.size());
    violations.push_back({std::string(name_field), message});
  }
  CheckFiscalYear(
      requested_year, [] { return std::string("target_fiscal_year"); }, true,
      &violations);
  ValidateOptions(options, "options", &violations);
  KPI_RETURN_IF_ERROR(InvalidRequest(violations));

  absl::StatusOr<domain::Kpi> stored = repository.GetKpi(name);
  if (!stored.ok()) {
    return WithSuggestions(repository, domain::ResourceType::kKpi, name,
                           stored.status());
  }
  domain::Kpi kpi = *std::move(stored);
  KPI_ASSIGN_OR_RETURN(std::vector<domain::Observation> observations,
                       repository.AllObservations(name));
  if (observations.empty()) {
    return absl::FailedPreconditionError(
        absl::StrCat(name,
                     " has no observation to project from; add one with "
                     "KpiService.CreateObservation or ImportDataset"));
  }
  int first = observations.front().fiscal_year;
  int last = first;
  for (const domain::Observation& o : observations) {
    first = std::min(first, o.fiscal_year);
    last = std::max(last, o.fiscal_year);
  }
  const int year =
      requested_year != 0 ? requested_year : kpi.target.fiscal_year;
  if (year <= first || year > last + kMaxYearsAhead) {
    const base::FieldViolation violation =
        TargetYearViolation("target_fiscal_year", year, first, last);
    if (requested_year != 0) return InvalidRequest({violation});
    return absl::FailedPreconditionError(absl::StrCat(
        name, ": its target year, ", violation.description,
        "; pass target_fiscal_year to project to a year in that range"));
  }

  forecast::SeriesInput input;
  input.id = name;
  std::vector<std::string> point_names;
  // Projecting to a year inside the observed range uses only what was known
  // before it.
  for (const domain::Observation& o : observations) {
    if (o.fiscal_year >= year) continue;
    forecast::Point point;
    point.fiscal_year = o.fiscal_year;
    point.first_fiscal_year = o.first_fiscal_year;
    point.aggregation = o.aggregation;
    point.value = o.value;
    point.status = o.status == domain::ObservationStatus::kUnspecified
                       ? domain::ObservationStatus::kFinal
                       : o.status;
    input.points.push_back(point);
    point_names.push_back(o.name);
  }
  input.kind = kpi.kind;
  input.direction = kpi.direction;
  input.value_domain = domain::EffectiveValueDomain(kpi);
  input.unit = kpi.unit;
  input.target_fiscal_year = year;
  input.period_first_fiscal_year = kpi.period_first_fiscal_year;
  input.baseline = kpi.baseline;
  if (kpi.target.value.has_value()) {
    input.target_value = kpi.target.value;
  } else if (!kpi.target.reference.empty()) {
    absl::StatusOr<domain::Reference> reference =
        repository.GetReference(kpi.target.reference);
    if (absl::IsNotFound(reference.status())) {
      return absl::FailedPreconditionError(absl::StrCat(
          name, ": its target reference ", kpi.target.reference,
          " does not exist; create it or correct the KPI's target"));
    }
    KPI_RETURN_IF_ERROR(reference.status());
    // A symbolic target (法定雇用率以上) means the value in force in the year
    // projected to.
    domain::Kpi at_year = kpi;
    at_year.target.fiscal_year = year;
    absl::StatusOr<double> value =
        domain::ResolveTarget(at_year, {*std::move(reference)});
    if (!value.ok()) {
      return absl::FailedPreconditionError(absl::StrCat(
          name, ": its target does not resolve: ", value.status().message()));
    }
    input.target_value = *value;
    input.target_from_reference = true;
  }
  input.shock_fiscal_years = kpi.shock_fiscal_years;
  input.shock_fiscal_years.insert(input.shock_fiscal_years.end(),
                                  options.shock_fiscal_years().begin(),
                                  options.shock_fiscal_years().end());
  std::sort(input.shock_fiscal_years.begin(), input.shock_fiscal_years.end());
  input.shock_fiscal_years.erase(std::unique(input.shock_fiscal_years.begin(),
                                             input.shock_fiscal_years.end()),
                                 input.shock_fiscal_years.end());
  input.shock_treatment =
      static_cast<ShockTreatment>(options.shock_treatment());
  absl::StatusOr<Projected> projected = ProjectWithAlternative(engine, input);
  if (!projected.ok()) {
    return StoredDataError(projected.status(), name, point_names);
  }
  return projected;
}

// Projects an ad-hoc series; engine errors are reported under `path`.
absl::StatusOr<Projected> ProjectAdHoc(const forecast::Engine& engine,
                                       const v1::Series* series,
                                       const v1::ScenarioOptions& options,
                                       std::string_view path,
                                       std::string_view options_path) {
  KPI_ASSIGN_OR_RETURN(forecast::SeriesInput input,
                       SeriesInputFor(series, options, path, options_path));
  absl::StatusOr<Projected> projected = ProjectWithAlternative(engine, input);
  if (!projected.ok()) {
    return PrefixFieldPaths(projected.status(), Join(path, ""));
  }
  return projected;
}

void FillResult(const absl::StatusOr<Projected>& projected, std::string id,
                int64_t index, i18n::Language language,
                v1::ProjectionResult* result) {
  result->set_id(std::move(id));
  result->set_index(index);
  if (projected.ok()) {
    ToProto(projected->main, language, result->mutable_projection());
    if (projected->alternative.has_value()) {
      ToProto(*projected->alternative, language,
              result->mutable_alternative_projection());
    }
  } else {
    ToRpcStatus(projected.status(), result->mutable_error());
  }
}

// The request and response of one ProjectKpi call. gRPC serializes the
// message response() points to when the call is finished, so a cache hit
// points it at the cached response instead of copying it (a copy and its
// destruction cost more than the rest of the hit). gRPC only reads that
// message, and this holder keeps it alive until gRPC releases the holder,
// once the call is done.
class ProjectKpiMessages : public grpc::MessageHolder<v1::ProjectKpiRequest,
                                                      v1::ProjectKpiResponse> {
 public:
  ProjectKpiMessages() {
    set_request(&request_);
    set_response(&response_);
  }
  void Release() override { delete this; }

  // Sends `cached` (shared, never modified) as the response.
  void RespondWith(std::shared_ptr<const v1::ProjectKpiResponse> cached) {
    cached_ = std::move(cached);
    set_response(const_cast<v1::ProjectKpiResponse*>(cached_.get()));
  }

 private:
  v1::ProjectKpiRequest request_;
  v1::ProjectKpiResponse response_;
  std::shared_ptr<const v1::ProjectKpiResponse> cached_;
};

class ProjectKpiAllocator
    : public grpc::MessageAllocator<v1::ProjectKpiRequest,
                                    v1::ProjectKpiResponse> {
 public:
  grpc::MessageHolder<v1::ProjectKpiRequest, v1::ProjectKpiResponse>*
  AllocateMessages() override {
    return new ProjectKpiMessages();
  }
};

}  // namespace

ForecastService::ForecastService(storage::Repository* repository,
                                 const forecast::Engine* engine,
                                 size_t projection_cache_entries,
                                 int project_kpi_threads,
                                 const Authorizer* authorizer)
    : repository_(repository),
      authorizer_(authorizer),
      calibration_(repository, engine),
      cache_enabled_(projection_cache_entries > 0),
      cache_(projection_cache_entries),
      project_kpi_messages_(std::make_unique<ProjectKpiAllocator>()),
      pool_(project_kpi_threads) {
  SetMessageAllocatorFor_ProjectKpi(project_kpi_messages_.get());
}

grpc::ServerUnaryReactor* ForecastService::ProjectKpi(
    grpc::CallbackServerContext* context, const v1::ProjectKpiRequest* request,
    v1::ProjectKpiResponse* response) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  std::optional<int64_t> known;
  if (auto hit = CachedWithoutBlocking(*request, &known)) {
    // Always our holder: the allocator is set in the constructor.
    static_cast<ProjectKpiMessages*>(context->GetRpcAllocatorState())
        ->RespondWith(std::move(hit));
    inline_hits_.fetch_add(1, std::memory_order_relaxed);
    reactor->Finish(grpc::Status::OK);
    return reactor;
  }
  pool_.Schedule([this, context, request, response, reactor, known] {
    // gRPC requires Finish exactly once, even for a cancelled call.
    if (context->IsCancelled()) {
      reactor->Finish(
          grpc::Status(grpc::StatusCode::CANCELLED,
                       "cancelled before it ran (by the client, its "
                       "deadline or the server's shutdown)"));
      return;
    }
    reactor->Finish(ProjectKpiBlocking(*request, known, response));
  });
  return reactor;
}

std::shared_ptr<const v1::ProjectKpiResponse>
ForecastService::CachedWithoutBlocking(const v1::ProjectKpiRequest& request,
                                       std::optional<int64_t>* known) {
  known->reset();
  if (!cache_enabled_) return nullptr;
  // Known only if no write was committed since the last ChangeSequence()
  // read, so a hit at it is as fresh as one after a blocking read.
  *known = repository_->TryChangeSequence();
  if (!known->has_value()) return nullptr;
  return cache_.Lookup(ProjectionCache::Key(request), **known);
}

grpc::Status ForecastService::ProjectKpiBlocking(
    const v1::ProjectKpiRequest& request, std::optional<int64_t> known,
    v1::ProjectKpiResponse* response) {
  // The sequence is read before the data: a write committed in between
  // leaves the entry tagged with a state that no longer holds. A state the
  // cache was already checked at (known) was current then, before the data
  // is read here, so it tags the entry just as well.
  std::optional<int64_t> sequence = known;
  const std::string key =
      cache_enabled_ ? ProjectionCache::Key(request) : std::string();
  if (cache_enabled_ && !sequence.has_value()) {
    absl::StatusOr<int64_t> read = repository_->ChangeSequence();
    if (read.ok()) {
      sequence = *read;
      if (auto hit = cache_.Lookup(key, *sequence)) {
        *response = *hit;
        return grpc::Status::OK;
      }
    }
  }
  Violations violations;
  const i18n::Language language =
      LanguageFor(request.language_code(), "language_code", &violations);
  // The calibration of the store state the data is read at: a switch
  // changes the state, so no entry made before it is served after it.
  const std::shared_ptr<const forecast::Engine> engine =
      sequence.has_value() ? calibration_.At(*sequence)
                           : calibration_.Current();
  absl::StatusOr<Projected> projected = ProjectStored(
      *repository_, *engine, request.name(), "name",
      request.target_fiscal_year(), request.options(), std::move(violations));
  if (!projected.ok()) return ToGrpcStatus(projected.status());
  ToProto(projected->main, language, response->mutable_projection());
  if (projected->alternative.has_value()) {
    ToProto(*projected->alternative, language,
            response->mutable_alternative_projection());
  }
  if (cache_enabled_ && sequence.has_value()) {
    cache_.Insert(key, *sequence,
                  std::make_shared<const v1::ProjectKpiResponse>(*response));
  }
  return grpc::Status::OK;
}

grpc::Status ForecastService::ProjectSeries(
    grpc::ServerContext*, const v1::ProjectSeriesRequest* request,
    v1::ProjectSeriesResponse* response) {
  Violations violations;
  const i18n::Language language =
      LanguageFor(request->language_code(), "language_code", &violations);
  if (!violations.empty()) return ToGrpcStatus(InvalidRequest(violations));
  absl::StatusOr<Projected> projected =
      ProjectAdHoc(*calibration_.Current(),
                   request->has_series() ? &request->series() : nullptr,
                   request->options(), "series", "options");
  if (!projected.ok()) return ToGrpcStatus(projected.status());
  ToProto(projected->main, language, response->mutable_projection());
  if (projected->alternative.has_value()) {
    ToProto(*projected->alternative, language,
            response->mutable_alternative_projection());
  }
  return grpc::Status::OK;
}

grpc::Status ForecastService::BatchProjectKpis(
    grpc::ServerContext* context, const v1::BatchProjectKpisRequest* request,
    v1::BatchProjectKpisResponse* response) {
  Violations violations;
  absl::Status parent =
      domain::ParseName(request->parent(), domain::ResourceType::kStrategy,
                        "parent")
          .status();
  if (!parent.ok()) {
    std::string message(parent.message());
    if (absl::StartsWith(message, "parent: ")) message.erase(0, 8);
    violations.push_back({"parent", message});
  }
  if (request->names_size() > kMaxBatchKpis) {
    violations.push_back(
        {"names", absl::StrFormat("%d names; accepted: at most %d, or none "
                                  "for every KPI of parent",
                                  request->names_size(), kMaxBatchKpis)});
  }
  CheckFiscalYear(
      request->target_fiscal_year(),
      [] { return std::string("target_fiscal_year"); }, true, &violations);
  ValidateOptions(request->options(), "options", &violations);
  const i18n::Language language =
      LanguageFor(request->language_code(), "language_code", &violations);
  if (!violations.empty()) return ToGrpcStatus(InvalidRequest(violations));
  absl::Status exists = repository_->GetStrategy(request->parent()).status();
  if (!exists.ok()) {
    return ToGrpcStatus(WithSuggestions(*repository_,
                                        domain::ResourceType::kStrategy,
                                        request->parent(), exists));
  }

  std::vector<std::string> names(request->names().begin(),
                                 request->names().end());
  if (names.empty()) {
    storage::ListRequest list;
    list.parent = request->parent();
    list.page_size = 1000;
    do {
      absl::StatusOr<storage::Page<domain::Kpi>> page =
          repository_->ListKpis(list);
      if (!page.ok()) return ToGrpcStatus(page.status());
      for (const domain::Kpi& kpi : page->items) names.push_back(kpi.name);
      list.page_token = page->next_page_token;
    } while (!list.page_token.empty());
  }
  const std::shared_ptr<const forecast::Engine> engine = calibration_.Current();
  for (size_t i = 0; i < names.size(); ++i) {
    if (context->IsCancelled()) {
      return grpc::Status(grpc::StatusCode::CANCELLED,
                          "the client cancelled the call");
    }
    const std::string field = absl::StrCat("names[", i, "]");
    absl::StatusOr<Projected> projected;
    absl::StatusOr<domain::ParsedName> parsed =
        domain::ParseName(names[i], domain::ResourceType::kKpi, field);
    if (parsed.ok() && parsed->parent != request->parent()) {
      projected = InvalidRequest(
          {{field,
            absl::StrFormat("\"%s\" is not a KPI of %s; accepted: "
                            "%s/kpis/{kpi}",
                            names[i], request->parent(), request->parent())}});
    } else {
      projected =
          ProjectStored(*repository_, *engine, names[i], field,
                        request->target_fiscal_year(), request->options());
    }
    FillResult(projected, names[i], static_cast<int64_t>(i), language,
               response->add_results());
  }
  return grpc::Status::OK;
}

grpc::Status ForecastService::BatchProjectSeries(
    grpc::ServerContext* context, const v1::BatchProjectSeriesRequest* request,
    v1::BatchProjectSeriesResponse* response) {
  Violations violations;
  if (request->series_size() == 0 || request->series_size() > kMaxBatchSeries) {
    violations.push_back(
        {"series",
         absl::StrFormat("%d series; accepted: 1 to %d (StreamProjectSeries "
                         "takes any number)",
                         request->series_size(), kMaxBatchSeries)});
  }
  ValidateOptions(request->options(), "options", &violations);
  const i18n::Language language =
      LanguageFor(request->language_code(), "language_code", &violations);
  if (!violations.empty()) return ToGrpcStatus(InvalidRequest(violations));
  ProjectChunk(*calibration_.Current(), request->series(), request->options(),
               language, 0, response->mutable_results());
  if (context->IsCancelled()) {
    return grpc::Status(grpc::StatusCode::CANCELLED,
                        "the client cancelled the call");
  }
  return grpc::Status::OK;
}

void ForecastService::ProjectChunk(
    const forecast::Engine& engine,
    const google::protobuf::RepeatedPtrField<v1::Series>& series,
    const v1::ScenarioOptions& options, i18n::Language language,
    int64_t first_index,
    google::protobuf::RepeatedPtrField<v1::ProjectionResult>* results) {
  const int n = series.size();
  results->Reserve(results->size() + n);
  const int first = results->size();
  for (int i = 0; i < n; ++i) results->Add();
  // A chunk is spread over this thread and up to one pool thread per other
  // core; ParallelFor never waits for a pool thread that is busy elsewhere.
  static const int kHelpers =
      std::max(0, static_cast<int>(std::thread::hardware_concurrency()) - 1);
  base::ParallelFor(
      n, std::min(kHelpers, pool_.size()),
      [this](absl::AnyInvocable<void() &&> task) {
        pool_.Schedule(std::move(task));
      },
      [&](int i) {
        const v1::Series& s = series.Get(i);
        FillResult(ProjectAdHoc(engine, &s, options,
                                absl::StrCat("series[", i, "]"), "options"),
                   s.series_id(), first_index + i, language,
                   results->Mutable(first + i));
      });
}

grpc::Status ForecastService::StreamProjectSeries(
    grpc::ServerContext* context,
    grpc::ServerReaderWriter<v1::StreamProjectSeriesResponse,
                             v1::StreamProjectSeriesRequest>* stream) {
  // Each chunk's request and response live on an arena that is reset after
  // the chunk: its first block is reused, so a chunk costs few mallocs.
  std::vector<char> first_block(1 << 20);
  google::protobuf::ArenaOptions arena_options;
  arena_options.initial_block = first_block.data();
  arena_options.initial_block_size = first_block.size();
  google::protobuf::Arena arena(arena_options);
  int64_t index = 0;  // of the next series since the start of the stream
  for (int64_t chunk = 0;; ++chunk) {
    auto* request =
        google::protobuf::Arena::CreateMessage<v1::StreamProjectSeriesRequest>(
            &arena);
    if (!stream->Read(request)) break;
    if (request->series_size() > kMaxBatchSeries) {
      return ToGrpcStatus(InvalidRequest(
          {{"series",
            absl::StrFormat("request message %d (0-based) has %d series; "
                            "accepted: at most %d a message, in as many "
                            "messages as needed; the results of the %d "
                            "series before it stand",
                            chunk, request->series_size(), kMaxBatchSeries,
                            index)}}));
    }
    Violations violations;
    const i18n::Language language =
        LanguageFor(request->language_code(), "language_code", &violations);
    if (!violations.empty()) {
      violations[0].description = absl::StrFormat(
          "request message %d (0-based): %s; the results of "
          "the %d series before it stand",
          chunk, violations[0].description, index);
      return ToGrpcStatus(InvalidRequest(violations));
    }
    auto* response =
        google::protobuf::Arena::CreateMessage<v1::StreamProjectSeriesResponse>(
            &arena);
    ProjectChunk(*calibration_.Current(), request->series(), request->options(),
                 language, index, response->mutable_results());
    index += request->series_size();
    const bool written = stream->Write(*response);
    arena.Reset();
    if (!written) break;
  }
  if (context->IsCancelled()) {
    return grpc::Status(grpc::StatusCode::CANCELLED,
                        "the client cancelled the stream");
  }
  return grpc::Status::OK;
}

namespace {

void SkillToProto(const Skill& in, v1::CalibrationSkill* out) {
  out->set_calibration_version(in.calibration_version);
  out->set_coverage_80(in.score.cov80);
  out->set_coverage_95(in.score.cov95);
  out->set_brier(in.score.brier);
  out->set_mase(in.score.mase);
  out->set_sql(in.score.sql);
  out->set_score(in.score.score);
  out->set_series(in.score.series);
  out->set_windows(in.score.windows);
  out->set_forecasts(in.score.forecasts);
  out->set_sampled(in.sampled);
}

}  // namespace

grpc::Status ForecastService::CalibrateStore(
    grpc::ServerContext* context, const v1::CalibrateStoreRequest* request,
    v1::CalibrateStoreResponse* response) {
  absl::StatusOr<std::string> creator = AuthorOf(authorizer_, *context);
  if (!creator.ok()) return ToGrpcStatus(creator.status());
  const absl::Time deadline =
      absl::FromChrono(context->deadline());  // far future without one
  absl::StatusOr<CalibrateOutcome> outcome = calibration_.Calibrate(
      request->validate_only(), request->force(), *creator, deadline);
  if (!outcome.ok()) return ToGrpcStatus(outcome.status());
  response->set_version(outcome->version);
  response->set_calibration_version(outcome->label);
  response->set_switched(outcome->switched);
  response->set_reason(outcome->reason);
  SkillToProto(outcome->candidate, response->mutable_candidate());
  SkillToProto(outcome->in_use, response->mutable_in_use());
  response->set_shrink_strength(
      std::isinf(outcome->shrink_strength) ? 0 : outcome->shrink_strength);
  response->set_series_skipped(outcome->series_skipped);
  response->set_calibration_in_use(outcome->in_use_after);
  return grpc::Status::OK;
}

grpc::Status ForecastService::GetCalibrationSkill(
    grpc::ServerContext*, const v1::GetCalibrationSkillRequest*,
    v1::CalibrationSkill* response) {
  absl::StatusOr<Skill> skill = calibration_.CurrentSkill();
  if (!skill.ok()) return ToGrpcStatus(skill.status());
  SkillToProto(*skill, response);
  return grpc::Status::OK;
}

}  // namespace kpi::services
