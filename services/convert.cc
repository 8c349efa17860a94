#include "services/convert.h"

#include <algorithm>
#include <cstdint>
#include <utility>

#include "absl/functional/function_ref.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "google/protobuf/descriptor.h"
#include "google/protobuf/util/json_util.h"
#include "google/rpc/error_details.pb.h"
#include "lib/base/quote.h"
#include "lib/domain/validation.h"
#include "lib/i18n/explanation.h"

namespace kpi::services {
namespace {

// Debian's Abseil has its own string_view, not std::string_view.
absl::string_view AsAbsl(std::string_view s) { return {s.data(), s.size()}; }

std::string Join(std::string_view path, std::string_view field) {
  if (path.empty()) return std::string(field);
  return absl::StrCat(AsAbsl(path), ".", AsAbsl(field));
}

std::string Indexed(std::string_view path, std::string_view field, int i) {
  return absl::StrCat(Join(path, field), "[", i, "]");
}

// Maps a proto enum number onto the domain enum with the same numbering
// (0..max); anything else is a violation naming the accepted values.
// Maps a proto enum number onto the domain enum with the same numbering
// (0..max); anything else is a violation naming the accepted values. The
// descriptor and the field path are only computed for a violation: batches
// convert thousands of valid series.
template <typename DomainEnum, typename ProtoEnum>
DomainEnum EnumFromProto(
    ProtoEnum value, int max,
    const google::protobuf::EnumDescriptor* (*descriptor)(),
    absl::FunctionRef<std::string()> path, Violations* violations) {
  const int number = static_cast<int>(value);
  if (number >= 0 && number <= max) return static_cast<DomainEnum>(number);
  const google::protobuf::EnumDescriptor* d = descriptor();
  std::string accepted;
  for (int i = 0; i < d->value_count(); ++i) {
    absl::StrAppend(&accepted, i == 0 ? "" : ", ", d->value(i)->name());
  }
  violations->push_back({path(), absl::StrFormat("%d is not a %s; accepted: %s",
                                                 number, d->name(), accepted)});
  return static_cast<DomainEnum>(0);
}

template <typename Proto>
void MetaToProto(const domain::Meta& meta, Proto* out) {
  out->set_etag(meta.etag);
  // The epoch is the domain's "never stored": leave the times unset.
  if (meta.create_time != absl::UnixEpoch()) {
    TimeToProto(meta.create_time, out->mutable_create_time());
  } else {
    out->clear_create_time();
  }
  if (meta.update_time != absl::UnixEpoch()) {
    TimeToProto(meta.update_time, out->mutable_update_time());
  } else {
    out->clear_update_time();
  }
}

domain::Meta MetaFromProto(const std::string& etag,
                           const google::protobuf::Timestamp& create_time,
                           const google::protobuf::Timestamp& update_time) {
  domain::Meta meta;
  meta.etag = etag;
  meta.create_time = TimeFromProto(create_time);
  meta.update_time = TimeFromProto(update_time);
  return meta;
}

domain::Aggregation AggregationFromProto(v1::Aggregation value,
                                         absl::FunctionRef<std::string()> path,
                                         Violations* violations) {
  return EnumFromProto<domain::Aggregation>(
      value, 2, v1::Aggregation_descriptor, path, violations);
}

domain::ObservationStatus ObservationStatusFromProto(
    v1::ObservationStatus value, absl::FunctionRef<std::string()> path,
    Violations* violations) {
  return EnumFromProto<domain::ObservationStatus>(
      value, 3, v1::ObservationStatus_descriptor, path, violations);
}

domain::KpiKind KindFromProto(v1::KpiKind value,
                              absl::FunctionRef<std::string()> path,
                              Violations* violations) {
  return EnumFromProto<domain::KpiKind>(value, 3, v1::KpiKind_descriptor, path,
                                        violations);
}

domain::Direction DirectionFromProto(v1::Direction value,
                                     absl::FunctionRef<std::string()> path,
                                     Violations* violations) {
  return EnumFromProto<domain::Direction>(value, 2, v1::Direction_descriptor,
                                          path, violations);
}

domain::ValueDomain ValueDomainFromProto(v1::ValueDomain value,
                                         absl::FunctionRef<std::string()> path,
                                         Violations* violations) {
  return EnumFromProto<domain::ValueDomain>(
      value, 3, v1::ValueDomain_descriptor, path, violations);
}

void BaselineToProto(const domain::Baseline& in, v1::Baseline* out) {
  out->set_value(in.value);
  out->set_fiscal_year(in.fiscal_year);
  out->set_first_fiscal_year(in.first_fiscal_year);
  out->set_aggregation(static_cast<v1::Aggregation>(in.aggregation));
  out->set_label(in.label);
}

domain::Baseline BaselineFromProto(const v1::Baseline& in,
                                   std::string_view path,
                                   Violations* violations) {
  domain::Baseline out;
  out.value = in.value();
  out.fiscal_year = in.fiscal_year();
  out.first_fiscal_year = in.first_fiscal_year();
  out.aggregation = AggregationFromProto(
      in.aggregation(), [&] { return Join(path, "aggregation"); }, violations);
  out.label = in.label();
  return out;
}

template <typename Domain, typename Proto>
void AllFromProto(const google::protobuf::RepeatedPtrField<Proto>& in,
                  std::string_view path, std::string_view field,
                  std::vector<Domain>* out, Violations* violations) {
  out->reserve(in.size());
  for (int i = 0; i < in.size(); ++i) {
    out->push_back(FromProto(in.Get(i), Indexed(path, field, i), violations));
  }
}

template <typename Domain, typename Proto>
void AllToProto(const std::vector<Domain>& in,
                google::protobuf::RepeatedPtrField<Proto>* out) {
  out->Reserve(static_cast<int>(in.size()));
  for (const Domain& item : in) ToProto(item, out->Add());
}

// The first line of a message of protobuf's JSON parser, which goes on with
// the input around the error: that may be long, or cut inside a character.
// Quoted (base::QuoteInput) when the line itself is long or not UTF-8.
std::string ShortJsonMessage(std::string_view message) {
  const std::string_view line = message.substr(0, message.find('\n'));
  if (line.size() > 200 || domain::FindInvalidUtf8(line).has_value()) {
    return base::QuoteInput(line);
  }
  return std::string(line);
}

// protobuf 3.21's JSON parser reports a field's problem as
// "(kpis[2].kind): invalid value ...", an unknown field as
// "(kpis[0]) targetx: Cannot find field." or "kpiz: Cannot find field.", and
// a syntax error with no path. Splits the first kinds into path and
// description; false for the last.
bool SplitJsonError(const std::string& message, std::string* field,
                    std::string* description) {
  auto is_path = [](absl::string_view s) {
    if (s.empty()) return false;
    for (char c : s) {
      const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                      (c >= '0' && c <= '9') || c == '_' || c == '.' ||
                      c == '[' || c == ']';
      if (!ok) return false;
    }
    return true;
  };
  std::string parent;
  std::string rest = message;
  if (!rest.empty() && rest[0] == '(') {
    const size_t close = rest.find(')');
    if (close == std::string::npos) return false;
    parent = rest.substr(1, close - 1);
    rest = rest.substr(close + 1);
    if (absl::StartsWith(rest, ": ")) {
      *field = parent;
      *description = rest.substr(2);
      return is_path(parent);
    }
    if (!absl::StartsWith(rest, " ")) return false;
    rest = rest.substr(1);
  }
  const size_t colon = rest.find(": ");
  if (colon == std::string::npos) return false;
  const std::string name = rest.substr(0, colon);
  if (!is_path(name) || (!parent.empty() && !is_path(parent))) return false;
  *field = parent.empty() ? name : absl::StrCat(parent, ".", name);
  *description = rest.substr(colon + 2);
  return true;
}

}  // namespace

// ---- Scalars ----------------------------------------------------------------

absl::Time TimeFromProto(const google::protobuf::Timestamp& timestamp) {
  return absl::FromUnixSeconds(timestamp.seconds()) +
         absl::Nanoseconds(timestamp.nanos());
}

void TimeToProto(absl::Time time, google::protobuf::Timestamp* out) {
  // 0001-01-01T00:00:00Z and 9999-12-31T23:59:59Z.
  constexpr int64_t kMinSeconds = -62135596800;
  constexpr int64_t kMaxSeconds = 253402300799;
  const absl::Time lo = absl::FromUnixSeconds(kMinSeconds);
  const absl::Time hi = absl::FromUnixSeconds(kMaxSeconds);
  time = std::clamp(time, lo, hi);
  const int64_t seconds = absl::ToUnixSeconds(time);  // rounds down
  out->set_seconds(seconds);
  out->set_nanos(static_cast<int32_t>(
      absl::ToInt64Nanoseconds(time - absl::FromUnixSeconds(seconds))));
}

std::string FormatDay(absl::CivilDay day) { return absl::FormatCivilTime(day); }

bool ParseDay(std::string_view text, absl::CivilDay* day) {
  if (text.size() != 10 || text[4] != '-' || text[7] != '-') return false;
  for (size_t i = 0; i < text.size(); ++i) {
    if (i == 4 || i == 7) continue;
    if (text[i] < '0' || text[i] > '9') return false;
  }
  absl::CivilDay parsed;
  if (!absl::ParseCivilTime(AsAbsl(text), &parsed)) return false;
  // CivilDay normalizes 2021-02-30 to 2021-03-02; reject such input.
  if (FormatDay(parsed) != text) return false;
  *day = parsed;
  return true;
}

// ---- Resources: domain -> proto ---------------------------------------------

void ToProto(const domain::Strategy& in, v1::Strategy* out) {
  out->set_name(in.name);
  out->set_display_name(in.display_name);
  out->set_english_name(in.english_name);
  out->set_municipality(in.municipality);
  out->set_municipality_code(in.municipality_code);
  out->set_first_fiscal_year(in.first_fiscal_year);
  out->set_last_fiscal_year(in.last_fiscal_year);
  out->set_source(in.source);
  MetaToProto(in.meta, out);
}

void ToProto(const domain::Goal& in, v1::Goal* out) {
  out->set_name(in.name);
  out->set_number(in.number);
  out->set_display_name(in.display_name);
  out->set_english_name(in.english_name);
  MetaToProto(in.meta, out);
}

void ToProto(const domain::Measure& in, v1::Measure* out) {
  out->set_name(in.name);
  out->set_goal(in.goal);
  out->set_parent(in.parent);
  out->set_code(in.code);
  out->set_display_name(in.display_name);
  out->set_english_name(in.english_name);
  MetaToProto(in.meta, out);
}

void ToProto(const domain::Kpi& in, v1::Kpi* out) {
  out->set_name(in.name);
  out->set_measure(in.measure);
  out->set_display_name(in.display_name);
  out->set_english_name(in.english_name);
  out->set_unit(in.unit);
  out->set_kind(static_cast<v1::KpiKind>(in.kind));
  out->set_direction(static_cast<v1::Direction>(in.direction));
  out->set_value_domain(static_cast<v1::ValueDomain>(in.value_domain));
  if (in.baseline.has_value()) {
    BaselineToProto(*in.baseline, out->mutable_baseline());
  } else {
    out->clear_baseline();
  }
  v1::Target* target = out->mutable_target();
  target->Clear();
  if (in.target.value.has_value()) {
    target->set_value(*in.target.value);
  } else if (!in.target.reference.empty()) {
    target->set_reference(in.target.reference);
  }
  target->set_fiscal_year(in.target.fiscal_year);
  target->set_label(in.target.label);
  out->set_period_first_fiscal_year(in.period_first_fiscal_year);
  out->set_measurement_note(in.measurement_note);
  out->mutable_shock_fiscal_years()->Assign(in.shock_fiscal_years.begin(),
                                            in.shock_fiscal_years.end());
  out->set_ordinal(in.ordinal);
  MetaToProto(in.meta, out);
}

void ToProto(const domain::Observation& in, v1::Observation* out) {
  out->set_name(in.name);
  out->set_fiscal_year(in.fiscal_year);
  out->set_first_fiscal_year(in.first_fiscal_year);
  out->set_aggregation(static_cast<v1::Aggregation>(in.aggregation));
  out->set_value(in.value);
  out->set_status(static_cast<v1::ObservationStatus>(in.status));
  out->set_source_note(in.source_note);
  out->set_reported_fiscal_year(in.reported_fiscal_year);
  out->clear_revisions();
  for (const domain::ObservationRevision& r : in.revisions) {
    v1::ObservationRevision* revision = out->add_revisions();
    revision->set_value(r.value);
    revision->set_status(static_cast<v1::ObservationStatus>(r.status));
    revision->set_source_note(r.source_note);
    TimeToProto(r.revise_time, revision->mutable_revise_time());
    revision->set_reason(r.reason);
    revision->set_actor(r.actor);
  }
  MetaToProto(in.meta, out);
}

void ToProto(const domain::Evaluation& in, v1::Evaluation* out) {
  out->set_name(in.name);
  out->set_fiscal_year(in.fiscal_year);
  out->set_rating(static_cast<v1::Rating>(in.rating));
  out->set_kpi_assessment(in.kpi_assessment);
  out->set_outlook(in.outlook);
  out->set_viewpoint(in.viewpoint);
  MetaToProto(in.meta, out);
}

void ToProto(const domain::Reference& in, v1::Reference* out) {
  out->set_name(in.name);
  out->set_display_name(in.display_name);
  out->set_english_name(in.english_name);
  out->set_unit(in.unit);
  out->clear_values();
  for (const domain::ReferenceValue& v : in.values) {
    v1::ReferenceValue* value = out->add_values();
    value->set_effective_date(FormatDay(v.effective_date));
    value->set_value(v.value);
  }
  out->set_source(in.source);
  MetaToProto(in.meta, out);
}

void ToProto(const domain::Dataset& in, v1::Dataset* out) {
  out->Clear();
  AllToProto(in.references, out->mutable_references());
  AllToProto(in.strategies, out->mutable_strategies());
  AllToProto(in.goals, out->mutable_goals());
  AllToProto(in.measures, out->mutable_measures());
  AllToProto(in.kpis, out->mutable_kpis());
  AllToProto(in.observations, out->mutable_observations());
  AllToProto(in.evaluations, out->mutable_evaluations());
}

// ---- Resources: proto -> domain ---------------------------------------------

domain::Strategy FromProto(const v1::Strategy& in, std::string_view,
                           Violations*) {
  domain::Strategy out;
  out.name = in.name();
  out.display_name = in.display_name();
  out.english_name = in.english_name();
  out.municipality = in.municipality();
  out.municipality_code = in.municipality_code();
  out.first_fiscal_year = in.first_fiscal_year();
  out.last_fiscal_year = in.last_fiscal_year();
  out.source = in.source();
  out.meta = MetaFromProto(in.etag(), in.create_time(), in.update_time());
  return out;
}

domain::Goal FromProto(const v1::Goal& in, std::string_view, Violations*) {
  domain::Goal out;
  out.name = in.name();
  out.number = in.number();
  out.display_name = in.display_name();
  out.english_name = in.english_name();
  out.meta = MetaFromProto(in.etag(), in.create_time(), in.update_time());
  return out;
}

domain::Measure FromProto(const v1::Measure& in, std::string_view,
                          Violations*) {
  domain::Measure out;
  out.name = in.name();
  out.goal = in.goal();
  out.parent = in.parent();
  out.code = in.code();
  out.display_name = in.display_name();
  out.english_name = in.english_name();
  out.meta = MetaFromProto(in.etag(), in.create_time(), in.update_time());
  return out;
}

domain::Kpi FromProto(const v1::Kpi& in, std::string_view path,
                      Violations* violations) {
  domain::Kpi out;
  out.name = in.name();
  out.measure = in.measure();
  out.display_name = in.display_name();
  out.english_name = in.english_name();
  out.unit = in.unit();
  out.kind = KindFromProto(
      in.kind(), [&] { return Join(path, "kind"); }, violations);
  out.direction = DirectionFromProto(
      in.direction(), [&] { return Join(path, "direction"); }, violations);
  out.value_domain = ValueDomainFromProto(
      in.value_domain(), [&] { return Join(path, "value_domain"); },
      violations);
  if (in.has_baseline()) {
    out.baseline =
        BaselineFromProto(in.baseline(), Join(path, "baseline"), violations);
  }
  const v1::Target& target = in.target();
  if (target.has_value()) out.target.value = target.value();
  if (target.has_reference()) out.target.reference = target.reference();
  out.target.fiscal_year = target.fiscal_year();
  out.target.label = target.label();
  out.period_first_fiscal_year = in.period_first_fiscal_year();
  out.measurement_note = in.measurement_note();
  out.shock_fiscal_years.assign(in.shock_fiscal_years().begin(),
                                in.shock_fiscal_years().end());
  out.ordinal = in.ordinal();
  out.meta = MetaFromProto(in.etag(), in.create_time(), in.update_time());
  return out;
}

domain::Observation FromProto(const v1::Observation& in, std::string_view path,
                              Violations* violations) {
  domain::Observation out;
  out.name = in.name();
  out.fiscal_year = in.fiscal_year();
  out.first_fiscal_year = in.first_fiscal_year();
  out.aggregation = AggregationFromProto(
      in.aggregation(), [&] { return Join(path, "aggregation"); }, violations);
  out.value = in.value();
  out.status = ObservationStatusFromProto(
      in.status(), [&] { return Join(path, "status"); }, violations);
  out.source_note = in.source_note();
  out.reported_fiscal_year = in.reported_fiscal_year();
  for (int i = 0; i < in.revisions_size(); ++i) {
    const v1::ObservationRevision& r = in.revisions(i);
    domain::ObservationRevision revision;
    revision.value = r.value();
    revision.status = ObservationStatusFromProto(
        r.status(),
        [&] { return Join(Indexed(path, "revisions", i), "status"); },
        violations);
    revision.source_note = r.source_note();
    revision.revise_time = TimeFromProto(r.revise_time());
    revision.reason = r.reason();
    revision.actor = r.actor();
    out.revisions.push_back(std::move(revision));
  }
  out.meta = MetaFromProto(in.etag(), in.create_time(), in.update_time());
  return out;
}

domain::Evaluation FromProto(const v1::Evaluation& in, std::string_view path,
                             Violations* violations) {
  domain::Evaluation out;
  out.name = in.name();
  out.fiscal_year = in.fiscal_year();
  out.rating = EnumFromProto<domain::Rating>(
      in.rating(), 3, v1::Rating_descriptor,
      [&] { return Join(path, "rating"); }, violations);
  out.kpi_assessment = in.kpi_assessment();
  out.outlook = in.outlook();
  out.viewpoint = in.viewpoint();
  out.meta = MetaFromProto(in.etag(), in.create_time(), in.update_time());
  return out;
}

domain::Reference FromProto(const v1::Reference& in, std::string_view path,
                            Violations* violations) {
  domain::Reference out;
  out.name = in.name();
  out.display_name = in.display_name();
  out.english_name = in.english_name();
  out.unit = in.unit();
  for (int i = 0; i < in.values_size(); ++i) {
    const v1::ReferenceValue& v = in.values(i);
    domain::ReferenceValue value;
    if (!ParseDay(v.effective_date(), &value.effective_date)) {
      violations->push_back(
          {Join(Indexed(path, "values", i), "effective_date"),
           absl::StrFormat("\"%s\" is not a date; accepted: YYYY-MM-DD, e.g. "
                           "2021-03-01",
                           v.effective_date())});
    }
    value.value = v.value();
    out.values.push_back(value);
  }
  out.source = in.source();
  out.meta = MetaFromProto(in.etag(), in.create_time(), in.update_time());
  return out;
}

domain::Dataset FromProto(const v1::Dataset& in, std::string_view path,
                          Violations* violations) {
  domain::Dataset out;
  AllFromProto(in.references(), path, "references", &out.references,
               violations);
  AllFromProto(in.strategies(), path, "strategies", &out.strategies,
               violations);
  AllFromProto(in.goals(), path, "goals", &out.goals, violations);
  AllFromProto(in.measures(), path, "measures", &out.measures, violations);
  AllFromProto(in.kpis(), path, "kpis", &out.kpis, violations);
  AllFromProto(in.observations(), path, "observations", &out.observations,
               violations);
  AllFromProto(in.evaluations(), path, "evaluations", &out.evaluations,
               violations);
  return out;
}

// ---- Forecast ---------------------------------------------------------------

forecast::ShockTreatment ShockTreatmentFromProto(v1::ShockTreatment treatment,
                                                 std::string_view path,
                                                 Violations* violations) {
  return EnumFromProto<forecast::ShockTreatment>(
      treatment, 3, v1::ShockTreatment_descriptor,
      [&] { return std::string(path); }, violations);
}

forecast::SeriesInput SeriesFromProto(const v1::Series& series,
                                      const v1::ScenarioOptions& options,
                                      std::string_view path,
                                      std::string_view options_path,
                                      Violations* violations) {
  forecast::SeriesInput out;
  out.id = series.series_id();
  out.points.reserve(series.points_size());
  for (int i = 0; i < series.points_size(); ++i) {
    const v1::SeriesPoint& p = series.points(i);
    forecast::Point point;
    point.fiscal_year = p.fiscal_year();
    point.first_fiscal_year = p.first_fiscal_year();
    point.aggregation = AggregationFromProto(
        p.aggregation(),
        [&] { return Join(Indexed(path, "points", i), "aggregation"); },
        violations);
    point.value = p.value();
    point.status = ObservationStatusFromProto(
        p.status(), [&] { return Join(Indexed(path, "points", i), "status"); },
        violations);
    if (point.status == domain::ObservationStatus::kUnspecified) {
      point.status = domain::ObservationStatus::kFinal;
    }
    out.points.push_back(point);
  }
  out.kind = KindFromProto(
      series.kind(), [&] { return Join(path, "kind"); }, violations);
  if (out.kind == domain::KpiKind::kUnspecified) {
    out.kind = domain::KpiKind::kLevel;
  }
  out.direction = DirectionFromProto(
      series.direction(), [&] { return Join(path, "direction"); }, violations);
  if (out.direction == domain::Direction::kUnspecified) {
    out.direction = domain::Direction::kIncrease;
  }
  out.value_domain = ValueDomainFromProto(
      series.value_domain(), [&] { return Join(path, "value_domain"); },
      violations);
  if (out.value_domain == domain::ValueDomain::kUnspecified) {
    out.value_domain = series.unit() == "%" ? domain::ValueDomain::kPercent
                                            : domain::ValueDomain::kReal;
  }
  out.unit = series.unit();
  if (series.has_target_value()) out.target_value = series.target_value();
  out.target_fiscal_year = series.target_fiscal_year();
  out.period_first_fiscal_year = series.period_first_fiscal_year();
  if (series.has_baseline()) {
    out.baseline = BaselineFromProto(series.baseline(), Join(path, "baseline"),
                                     violations);
  }
  out.shock_fiscal_years.assign(series.shock_fiscal_years().begin(),
                                series.shock_fiscal_years().end());
  for (int32_t year : options.shock_fiscal_years()) {
    out.shock_fiscal_years.push_back(year);
  }
  std::sort(out.shock_fiscal_years.begin(), out.shock_fiscal_years.end());
  out.shock_fiscal_years.erase(
      std::unique(out.shock_fiscal_years.begin(), out.shock_fiscal_years.end()),
      out.shock_fiscal_years.end());
  out.shock_treatment = EnumFromProto<forecast::ShockTreatment>(
      options.shock_treatment(), 3, v1::ShockTreatment_descriptor,
      [&] { return Join(options_path, "shock_treatment"); }, violations);
  out.probability_thresholds.assign(series.probability_thresholds().begin(),
                                    series.probability_thresholds().end());
  return out;
}

namespace {

void ToProto(const forecast::ScenarioOutcome& in, bool has_target,
             v1::ScenarioOutcome* out) {
  out->set_shock_treatment(static_cast<v1::ShockTreatment>(in.shock_treatment));
  out->set_weight(in.weight);
  out->set_projected_value(in.projected_value);
  if (has_target) out->set_attainment_probability(in.attainment_probability);
  out->set_points_used(in.points_used);
}

void ToProto(const forecast::Explanation& in, bool has_target,
             v1::Explanation* out) {
  if (in.trend.has_value()) {
    const forecast::TrendComparison& t = *in.trend;
    v1::TrendComparison* trend = out->mutable_trend();
    trend->set_first_fiscal_year(t.first_fiscal_year);
    trend->set_last_fiscal_year(t.last_fiscal_year);
    trend->set_points(t.points);
    trend->set_extrapolated_value(t.extrapolated_value);
    trend->set_change_per_year(t.change_per_year);
    trend->set_horizon_years(t.horizon_years);
    trend->set_share_kept(t.share_kept);
    trend->set_calibrated_share(t.calibrated_share);
  }
  const forecast::ScenarioExplanation& s = in.scenario;
  v1::ScenarioExplanation* scenario = out->mutable_scenario();
  scenario->set_rule(static_cast<v1::ScenarioRule>(s.rule));
  scenario->mutable_shock_fiscal_years()->Assign(s.shock_fiscal_years.begin(),
                                                 s.shock_fiscal_years.end());
  scenario->set_points_without_shocks(s.points_without_shocks);
  scenario->mutable_left_out_fiscal_years()->Assign(
      s.left_out_fiscal_years.begin(), s.left_out_fiscal_years.end());
  scenario->set_latest_left_out(s.latest_left_out);
  scenario->set_shock_favourable(s.shock_favourable);
  scenario->set_recovery_weight(s.recovery_weight);
  for (const forecast::ScenarioOutcome& o : s.outcomes) {
    ToProto(o, has_target, scenario->add_outcomes());
  }
  out->set_likelihood(static_cast<v1::Likelihood>(in.likelihood));
  out->set_discordance(static_cast<v1::Discordance>(in.discordance));
  out->set_calibration_version(in.calibration_version);
  out->set_resolution(in.resolution);
}

}  // namespace

void ToProto(const forecast::Projection& in, i18n::Language language,
             v1::Projection* out) {
  out->Clear();
  out->set_id(in.id);
  if (in.target_value.has_value()) out->set_target_value(*in.target_value);
  out->set_target_fiscal_year(in.target_fiscal_year);
  out->set_direction(static_cast<v1::Direction>(in.direction));
  out->set_projected_value(in.projected_value);
  const bool has_target = in.target_value.has_value();
  if (has_target) out->set_attainment_probability(in.attainment_probability);
  out->set_status(static_cast<v1::ProgressStatus>(in.status));
  v1::Progress* progress = out->mutable_progress();
  progress->set_base_fiscal_year(in.progress.base_fiscal_year);
  progress->set_base_value(in.progress.base_value);
  progress->set_latest_fiscal_year(in.progress.latest_fiscal_year);
  progress->set_latest_value(in.progress.latest_value);
  progress->set_required_change_per_year(in.progress.required_change_per_year);
  progress->set_observed_change_per_year(in.progress.observed_change_per_year);
  progress->set_growth_ratio(in.progress.growth_ratio);
  for (const forecast::YearProjection& y : in.years) {
    v1::YearProjection* year = out->add_years();
    year->set_fiscal_year(y.fiscal_year);
    year->set_median(y.median);
    year->mutable_interval_50()->set_lower(y.interval_50.lower);
    year->mutable_interval_50()->set_upper(y.interval_50.upper);
    year->mutable_interval_80()->set_lower(y.interval_80.lower);
    year->mutable_interval_80()->set_upper(y.interval_80.upper);
    year->mutable_interval_95()->set_lower(y.interval_95.lower);
    year->mutable_interval_95()->set_upper(y.interval_95.upper);
    if (has_target) year->set_attainment_probability(y.attainment_probability);
    year->mutable_threshold_probabilities()->Assign(
        y.threshold_probabilities.begin(), y.threshold_probabilities.end());
  }
  out->set_method(in.method);
  out->set_points_used(in.points_used);
  out->mutable_fiscal_years_used()->Assign(in.fiscal_years_used.begin(),
                                           in.fiscal_years_used.end());
  out->set_shock_treatment(static_cast<v1::ShockTreatment>(in.shock_treatment));
  for (const forecast::Warning& w : in.warnings) {
    v1::Warning* warning = out->add_warnings();
    warning->set_code(static_cast<v1::WarningCode>(w.code));
    warning->set_message(w.message);
  }
  out->set_unit(in.unit);
  v1::Explanation* explanation = out->mutable_explanation();
  ToProto(in.explanation, has_target, explanation);
  explanation->set_text(i18n::ExplanationText(in, language));
  explanation->set_summary(i18n::ExplanationSummary(in, language));
  explanation->set_language_code(std::string(i18n::LanguageCode(language)));
}

// ---- Errors -----------------------------------------------------------------

void ToRpcStatus(const absl::Status& status, google::rpc::Status* out) {
  out->Clear();
  out->set_code(static_cast<int32_t>(status.code()));
  out->set_message(std::string(status.message()));
  const Violations violations = base::GetFieldViolations(status);
  if (violations.empty()) return;
  google::rpc::BadRequest bad_request;
  for (const base::FieldViolation& v : violations) {
    google::rpc::BadRequest::FieldViolation* fv =
        bad_request.add_field_violations();
    fv->set_field(v.field);
    fv->set_description(v.description);
  }
  out->add_details()->PackFrom(bad_request);
}

grpc::Status ToGrpcStatus(const absl::Status& status) {
  if (status.ok()) return grpc::Status::OK;
  const auto code = static_cast<grpc::StatusCode>(status.code());
  const std::string message(status.message());
  if (base::GetFieldViolations(status).empty()) {
    return grpc::Status(code, message);
  }
  google::rpc::Status rpc_status;
  ToRpcStatus(status, &rpc_status);
  return grpc::Status(code, message, rpc_status.SerializeAsString());
}

absl::Status FromGrpcStatus(const grpc::Status& status) {
  if (status.ok()) return absl::OkStatus();
  const auto code = static_cast<absl::StatusCode>(status.error_code());
  google::rpc::Status rpc_status;
  Violations violations;
  if (!status.error_details().empty() &&
      rpc_status.ParseFromString(status.error_details())) {
    for (const google::protobuf::Any& detail : rpc_status.details()) {
      google::rpc::BadRequest bad_request;
      if (!detail.UnpackTo(&bad_request)) continue;
      for (const auto& fv : bad_request.field_violations()) {
        violations.push_back({fv.field(), fv.description()});
      }
    }
  }
  if (code != absl::StatusCode::kInvalidArgument || violations.empty()) {
    return absl::Status(code, status.error_message());
  }
  // The message already lists the violations: keep it as sent and attach
  // them as the payload lib/base reads.
  const absl::Status with_payload =
      base::InvalidArgumentWithViolations(status.error_message(), violations);
  absl::Status out(absl::StatusCode::kInvalidArgument, status.error_message());
  with_payload.ForEachPayload(
      [&out](absl::string_view url, const absl::Cord& payload) {
        out.SetPayload(url, payload);
      });
  return out;
}

absl::Status PrefixFieldPaths(const absl::Status& status,
                              std::string_view prefix) {
  Violations violations = base::GetFieldViolations(status);
  if (violations.empty() || prefix.empty()) return status;
  std::string summary(status.message());
  // The summary is the first line; the list after it is rebuilt.
  if (size_t nl = summary.find('\n'); nl != std::string::npos) {
    summary.resize(nl);
  }
  for (base::FieldViolation& v : violations) {
    v.field = absl::StrCat(AsAbsl(prefix), v.field);
  }
  return base::InvalidArgumentWithViolations(summary, violations);
}

// ---- Datasets as JSON -------------------------------------------------------

absl::StatusOr<v1::Dataset> DatasetFromJson(std::string_view json) {
  v1::Dataset dataset;
  google::protobuf::util::JsonParseOptions options;
  const auto status = google::protobuf::util::JsonStringToMessage(
      google::protobuf::StringPiece(json.data(), json.size()), &dataset,
      options);
  if (status.ok()) return dataset;
  const std::string message(status.message().data(), status.message().size());
  std::string field;
  std::string description;
  if (!SplitJsonError(message, &field, &description)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "the dataset is not valid JSON: ", ShortJsonMessage(message),
        "; accepted: a kpi.v1.Dataset in the protobuf JSON mapping"));
  }
  return base::InvalidArgumentWithViolations(
      "the dataset is not valid kpi.v1.Dataset JSON (protobuf JSON mapping):",
      {{field, ShortJsonMessage(description)}});
}

absl::StatusOr<std::string> DatasetToJson(const v1::Dataset& dataset) {
  google::protobuf::util::JsonPrintOptions options;
  options.add_whitespace = true;
  options.preserve_proto_field_names = true;
  std::string out;
  const auto status =
      google::protobuf::util::MessageToJsonString(dataset, &out, options);
  if (!status.ok()) {
    return absl::InternalError(absl::StrCat(
        "cannot print the dataset as JSON: ",
        absl::string_view(status.message().data(), status.message().size())));
  }
  return out;
}

}  // namespace kpi::services
