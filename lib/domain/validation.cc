#include "lib/domain/validation.h"

#include <algorithm>
#include <cmath>
#include <string>
#include <utility>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "lib/base/quote.h"
#include "lib/domain/names.h"
#include "lib/fiscal/fiscal_year.h"

namespace kpi::domain {
namespace {

using base::FieldViolation;

// Debian's Abseil is built with its own string_view, not std::string_view.
absl::string_view AsAbsl(std::string_view s) { return {s.data(), s.size()}; }

constexpr char kIdPattern[] = "^[a-z]([a-z0-9-]{0,61}[a-z0-9])?$";

// A value quoted for a message: base::QuoteInput (a short prefix, control
// characters escaped), and for text that is not UTF-8 where it breaks.
std::string Quote(std::string_view value) {
  if (std::optional<size_t> bad = FindInvalidUtf8(value)) {
    return absl::StrCat("(text that is not valid UTF-8 at byte ", *bad, ")");
  }
  return base::QuoteInput(value);
}

std::string Number(double value) { return absl::StrFormat("%.10g", value); }

template <typename E>
bool EnumInRange(E value, E last) {
  const int v = static_cast<int>(value);
  return v >= 0 && v <= static_cast<int>(last);
}

bool IsYear(int year) {
  return year >= fiscal::kMinFiscalYear && year <= fiscal::kMaxFiscalYear;
}

// Appends violations under one resource's path.
class Checker {
 public:
  Checker(std::string_view path, std::vector<FieldViolation>* out)
      : path_(path), out_(out) {}

  std::string Path(std::string_view field) const {
    if (path_.empty()) return std::string(field);
    return absl::StrCat(AsAbsl(path_), ".", AsAbsl(field));
  }

  void Add(std::string_view field, std::string description) {
    out_->push_back({Path(field), std::move(description)});
  }

  void Text(std::string_view field, const std::string& value, bool required,
            size_t max_chars) {
    if (required && value.empty()) {
      Add(field, "required");
    } else if (std::optional<size_t> bad = FindInvalidUtf8(value)) {
      Add(field, absl::StrCat("not valid UTF-8 (byte ", *bad,
                              "); text must be UTF-8"));
    } else {
      ValidateTextLength(value, max_chars, Path(field), out_);
    }
  }

  // The parsed name, or nullopt after adding a violation.
  std::optional<ParsedName> Name(std::string_view field,
                                 const std::string& name, ResourceType type,
                                 bool required = true) {
    if (name.empty()) {
      if (required) {
        Add(field, absl::StrFormat("required; accepted: a %s name, %s",
                                   TypeSingular(type), NamePattern(type)));
      }
      return std::nullopt;
    }
    absl::StatusOr<ParsedName> parsed = ParseName(name, type, field);
    if (!parsed.ok()) {
      Add(field, absl::StrFormat("%s is not a %s name; accepted: %s, each ID "
                                 "matching %s",
                                 Quote(name), TypeSingular(type),
                                 NamePattern(type), kIdPattern));
      return std::nullopt;
    }
    return *std::move(parsed);
  }

  // True when `year` is a valid fiscal year (not 0).
  bool Year(std::string_view field, int year, bool required) {
    if (year == 0) {
      if (required) {
        Add(field,
            absl::StrFormat("required; accepted: a fiscal year from %d "
                            "to %d (the calendar year it starts in)",
                            fiscal::kMinFiscalYear, fiscal::kMaxFiscalYear));
      }
      return false;
    }
    if (!IsYear(year)) {
      Add(field,
          absl::StrFormat("%d is not a fiscal year from %d to %d", year,
                          fiscal::kMinFiscalYear, fiscal::kMaxFiscalYear));
      return false;
    }
    return true;
  }

  // A finite value within kMaxValueMagnitude.
  bool Finite(std::string_view field, double value) {
    if (!std::isfinite(value)) {
      Add(field, absl::StrCat(Number(value), " is not a finite number"));
      return false;
    }
    if (std::fabs(value) > kMaxValueMagnitude) {
      Add(field, absl::StrFormat("%s is larger in magnitude than the engine "
                                 "can carry; accepted: %g to %g",
                                 Number(value), -kMaxValueMagnitude,
                                 kMaxValueMagnitude));
      return false;
    }
    return true;
  }

  // A fiscal year, or a range first..fiscal_year with its aggregation, as in
  // Baseline and Observation. `prefix` is "" or "baseline.".
  void Period(std::string_view prefix, int fiscal_year, int first,
              Aggregation aggregation) {
    const std::string p(prefix);
    const bool year_ok = Year(p + "fiscal_year", fiscal_year, true);
    const bool first_ok = Year(p + "first_fiscal_year", first, false);
    if (year_ok && first_ok && first > fiscal_year) {
      Add(p + "first_fiscal_year",
          absl::StrFormat("%d is after fiscal_year %d; a range runs from "
                          "first_fiscal_year to fiscal_year",
                          first, fiscal_year));
    }
    if (!EnumInRange(aggregation, Aggregation::kSum)) {
      Add(p + "aggregation",
          absl::StrCat("unknown value ", static_cast<int>(aggregation)));
      return;
    }
    const bool is_range = first != 0 && first < fiscal_year;
    if (is_range && aggregation == Aggregation::kUnspecified) {
      Add(p + "aggregation",
          absl::StrFormat("required for a range of years (%d to %d); "
                          "accepted: AGGREGATION_MEAN or AGGREGATION_SUM",
                          first, fiscal_year));
    } else if (!is_range && aggregation != Aggregation::kUnspecified) {
      Add(p + "aggregation",
          "set for a single year; a mean or sum needs first_fiscal_year, the "
          "first year of the range, before fiscal_year");
    }
  }

 private:
  std::string_view path_;
  std::vector<FieldViolation>* out_;
};

// 全国地方公共団体コード: five digits and a check digit,
// (11 - (6a + 5b + 4c + 3d + 2e) mod 11) mod 10.
bool IsMunicipalityCode(const std::string& code) {
  if (code.size() != 6) return false;
  int sum = 0;
  for (int i = 0; i < 6; ++i) {
    if (code[i] < '0' || code[i] > '9') return false;
    if (i < 5) sum += (code[i] - '0') * (6 - i);
  }
  return code[5] - '0' == (11 - sum % 11) % 10;
}

// The value of `reference` in force on `day`.
absl::StatusOr<double> ValueInForce(const Reference& reference,
                                    absl::CivilDay day) {
  const ReferenceValue* best = nullptr;
  for (const ReferenceValue& v : reference.values) {
    if (v.effective_date <= day &&
        (best == nullptr || v.effective_date > best->effective_date)) {
      best = &v;
    }
  }
  if (best == nullptr) {
    return absl::FailedPreconditionError(
        absl::StrFormat("%s has no value in force on %s", reference.name,
                        absl::FormatCivilTime(day)));
  }
  return best->value;
}

absl::StatusOr<double> Resolve(const Kpi& kpi, const Reference* reference) {
  const Target& target = kpi.target;
  if (target.value.has_value() == !target.reference.empty()) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "%s: the target needs exactly one of value and reference", kpi.name));
  }
  if (target.value.has_value()) return *target.value;
  if (target.fiscal_year == 0) {
    return absl::InvalidArgumentError(
        absl::StrFormat("%s: the target has no fiscal year to resolve %s at",
                        kpi.name, target.reference));
  }
  if (reference == nullptr) {
    return absl::NotFoundError(absl::StrFormat(
        "%s: target reference %s not found", kpi.name, target.reference));
  }
  return ValueInForce(*reference,
                      fiscal::LastDayOfFiscalYear(target.fiscal_year));
}

// "strategies/s" for any name under it; "" otherwise.
std::string StrategyOf(const std::string& name) {
  const std::string prefix = "strategies/";
  if (name.compare(0, prefix.size(), prefix) != 0) return "";
  const size_t slash = name.find('/', prefix.size());
  return name.substr(0, slash);
}

std::string ParentOf(const std::string& name) {
  const size_t id_slash = name.rfind('/');
  if (id_slash == std::string::npos || id_slash == 0) return "";
  const size_t collection_slash = name.rfind('/', id_slash - 1);
  if (collection_slash == std::string::npos) return "";
  return name.substr(0, collection_slash);
}

std::string Indexed(std::string_view collection, size_t i) {
  return absl::StrCat(AsAbsl(collection), "[", i, "]");
}

template <typename T>
using NameMap = absl::flat_hash_map<std::string, const T*>;

template <typename T>
NameMap<T> IndexByName(const std::vector<T>& stored,
                       const std::vector<T>& incoming) {
  NameMap<T> map;
  for (const T& r : stored) map[r.name] = &r;
  for (const T& r : incoming) map[r.name] = &r;
  return map;
}

template <typename T>
void CheckDuplicates(const std::vector<T>& resources,
                     std::string_view collection,
                     std::vector<FieldViolation>* out) {
  absl::flat_hash_map<std::string, size_t> first_index;
  for (size_t i = 0; i < resources.size(); ++i) {
    if (resources[i].name.empty()) continue;
    auto [it, inserted] = first_index.emplace(resources[i].name, i);
    if (!inserted) {
      out->push_back(
          {absl::StrCat(Indexed(collection, i), ".name"),
           absl::StrFormat("duplicate: %s is also %s", Quote(resources[i].name),
                           Indexed(collection, it->second))});
    }
  }
}

// Whether `year` lies within kYearsAroundPlan of the strategy's plan period.
void CheckNearPlan(int year, const Strategy* strategy,
                   const std::string& field_path,
                   std::vector<FieldViolation>* out) {
  if (strategy == nullptr || !IsYear(year) ||
      !IsYear(strategy->first_fiscal_year) ||
      !IsYear(strategy->last_fiscal_year)) {
    return;
  }
  if (year < strategy->first_fiscal_year - kYearsAroundPlan ||
      year > strategy->last_fiscal_year + kYearsAroundPlan) {
    out->push_back(
        {field_path,
         absl::StrFormat("%d is more than %d years from the plan period of "
                         "%s (%d to %d); check the year",
                         year, kYearsAroundPlan, strategy->name,
                         strategy->first_fiscal_year,
                         strategy->last_fiscal_year)});
  }
}

std::string Missing(std::string_view what, const std::string& name) {
  return absl::StrFormat("%s %s is neither in the dataset nor stored", what,
                         Quote(name));
}

}  // namespace

std::optional<size_t> FindInvalidUtf8(std::string_view text) {
  size_t i = 0;
  while (i < text.size()) {
    const auto byte = [&](size_t k) {
      return static_cast<unsigned char>(text[k]);
    };
    const unsigned char b0 = byte(i);
    if (b0 < 0x80) {
      ++i;
      continue;
    }
    size_t len;
    unsigned char lo = 0x80, hi = 0xBF;  // range of the second byte
    if (b0 >= 0xC2 && b0 <= 0xDF) {
      len = 2;
    } else if (b0 >= 0xE0 && b0 <= 0xEF) {
      len = 3;
      if (b0 == 0xE0) lo = 0xA0;  // overlong
      if (b0 == 0xED) hi = 0x9F;  // surrogates
    } else if (b0 >= 0xF0 && b0 <= 0xF4) {
      len = 4;
      if (b0 == 0xF0) lo = 0x90;  // overlong
      if (b0 == 0xF4) hi = 0x8F;  // past U+10FFFF
    } else {
      return i;
    }
    if (i + 1 >= text.size() || byte(i + 1) < lo || byte(i + 1) > hi) {
      return i;
    }
    for (size_t k = 2; k < len; ++k) {
      if (i + k >= text.size() || (byte(i + k) & 0xC0) != 0x80) return i;
    }
    i += len;
  }
  return std::nullopt;
}

size_t CountCharacters(std::string_view text) {
  size_t count = 0;
  size_t i = 0;
  while (i < text.size()) {
    const unsigned char b = static_cast<unsigned char>(text[i]);
    size_t len = b < 0x80    ? 1
                 : b >= 0xF0 ? 4
                 : b >= 0xE0 ? 3
                 : b >= 0xC2 ? 2
                             : 1;
    // A byte that does not start a well-formed sequence counts alone.
    if (len > 1 && FindInvalidUtf8(text.substr(i, len)).has_value()) len = 1;
    i += len;
    ++count;
  }
  return count;
}

void ValidateTextLength(std::string_view text, size_t max_chars,
                        std::string_view field_path,
                        std::vector<FieldViolation>* violations) {
  // Fewer bytes than the cap are fewer characters: no need to count.
  if (text.size() <= max_chars) return;
  const size_t chars = CountCharacters(text);
  if (chars <= max_chars) return;
  violations->push_back(
      {std::string(field_path),
       absl::StrFormat("%d characters; accepted: at most %d characters", chars,
                       max_chars)});
}

ValueDomain EffectiveValueDomain(const Kpi& kpi) {
  if (kpi.value_domain != ValueDomain::kUnspecified) return kpi.value_domain;
  return kpi.unit == "%" ? ValueDomain::kPercent : ValueDomain::kNonNegative;
}

void ValidateValueInDomain(double value, const Kpi& kpi,
                           std::string_view field_path,
                           std::vector<FieldViolation>* violations) {
  if (!std::isfinite(value)) return;  // reported as not finite
  const std::string why =
      kpi.value_domain == ValueDomain::kUnspecified
          ? absl::StrFormat(", inferred from the unit %s", Quote(kpi.unit))
          : "";
  switch (EffectiveValueDomain(kpi)) {
    case ValueDomain::kPercent:
      if (value < 0 || value > 100) {
        violations->push_back(
            {std::string(field_path),
             absl::StrCat(Number(value),
                          " is outside 0 to 100, the range of a percentage "
                          "(VALUE_DOMAIN_PERCENT",
                          why, ")")});
      }
      break;
    case ValueDomain::kNonNegative:
      if (value < 0) {
        violations->push_back(
            {std::string(field_path),
             absl::StrCat(Number(value),
                          " is negative; the KPI's values are zero or more "
                          "(VALUE_DOMAIN_NON_NEGATIVE",
                          why, ")")});
      }
      break;
    default:
      break;
  }
}

void ValidateReference(const Reference& reference, std::string_view path,
                       std::vector<FieldViolation>* violations) {
  Checker c(path, violations);
  c.Name("name", reference.name, ResourceType::kReference);
  c.Text("display_name", reference.display_name, true, kMaxDisplayNameChars);
  c.Text("english_name", reference.english_name, false, kMaxEnglishNameChars);
  c.Text("unit", reference.unit, false, kMaxUnitChars);
  c.Text("source", reference.source, false, kMaxNoteChars);
  if (reference.values.empty()) {
    c.Add("values",
          "required: at least one value with the date it takes effect");
  } else if (reference.values.size() > kMaxReferenceValues) {
    c.Add("values",
          absl::StrFormat("%d values; accepted: at most %d",
                          reference.values.size(), kMaxReferenceValues));
  }
  for (size_t i = 0; i < reference.values.size(); ++i) {
    const ReferenceValue& v = reference.values[i];
    const std::string field = Indexed("values", i);
    const int64_t year = v.effective_date.year();
    if (year < fiscal::kMinFiscalYear || year > fiscal::kMaxFiscalYear + 1) {
      c.Add(
          field + ".effective_date",
          absl::StrFormat("%s is not a date from %d to %d",
                          absl::FormatCivilTime(v.effective_date),
                          fiscal::kMinFiscalYear, fiscal::kMaxFiscalYear + 1));
    }
    if (i > 0 && v.effective_date <= reference.values[i - 1].effective_date) {
      c.Add(field + ".effective_date",
            absl::StrFormat(
                "%s is not after %s of values[%d]; values must be "
                "in strictly increasing date order",
                absl::FormatCivilTime(v.effective_date),
                absl::FormatCivilTime(reference.values[i - 1].effective_date),
                i - 1));
    }
    c.Finite(field + ".value", v.value);
  }
}

void ValidateStrategy(const Strategy& strategy, std::string_view path,
                      std::vector<FieldViolation>* violations) {
  Checker c(path, violations);
  c.Name("name", strategy.name, ResourceType::kStrategy);
  c.Text("display_name", strategy.display_name, true, kMaxDisplayNameChars);
  c.Text("english_name", strategy.english_name, false, kMaxEnglishNameChars);
  c.Text("municipality", strategy.municipality, false, kMaxDisplayNameChars);
  c.Text("source", strategy.source, false, kMaxNoteChars);
  if (!strategy.municipality_code.empty() &&
      !IsMunicipalityCode(strategy.municipality_code)) {
    c.Add("municipality_code",
          absl::StrFormat("%s is not a local government code; accepted: six "
                          "digits whose last is the check digit (旭川市 is "
                          "012041), or empty",
                          Quote(strategy.municipality_code)));
  }
  const bool first_ok =
      c.Year("first_fiscal_year", strategy.first_fiscal_year, true);
  const bool last_ok =
      c.Year("last_fiscal_year", strategy.last_fiscal_year, true);
  if (first_ok && last_ok &&
      strategy.first_fiscal_year > strategy.last_fiscal_year) {
    c.Add(
        "last_fiscal_year",
        absl::StrFormat("%d is before first_fiscal_year %d",
                        strategy.last_fiscal_year, strategy.first_fiscal_year));
  }
}

void ValidateGoal(const Goal& goal, std::string_view path,
                  std::vector<FieldViolation>* violations) {
  Checker c(path, violations);
  c.Name("name", goal.name, ResourceType::kGoal);
  if (goal.number <= 0) {
    c.Add("number", absl::StrFormat("%d is not a goal number; accepted: 1 or "
                                    "more (基本目標1 is 1)",
                                    goal.number));
  }
  c.Text("display_name", goal.display_name, true, kMaxDisplayNameChars);
  c.Text("english_name", goal.english_name, false, kMaxEnglishNameChars);
}

void ValidateMeasure(const Measure& measure, std::string_view path,
                     std::vector<FieldViolation>* violations) {
  Checker c(path, violations);
  std::optional<ParsedName> name =
      c.Name("name", measure.name, ResourceType::kMeasure);
  std::optional<ParsedName> goal =
      c.Name("goal", measure.goal, ResourceType::kGoal);
  if (name.has_value() && goal.has_value() && goal->parent != name->parent) {
    c.Add("goal", absl::StrFormat("%s is not a goal of %s", Quote(measure.goal),
                                  name->parent));
  }
  std::optional<ParsedName> parent =
      c.Name("parent", measure.parent, ResourceType::kMeasure, false);
  if (name.has_value() && parent.has_value()) {
    if (parent->parent != name->parent) {
      c.Add("parent", absl::StrFormat("%s is not a measure of %s",
                                      Quote(measure.parent), name->parent));
    } else if (measure.parent == measure.name) {
      c.Add("parent", "a measure cannot be its own parent");
    }
  }
  c.Text("code", measure.code, false, kMaxUnitChars);
  c.Text("display_name", measure.display_name, true, kMaxDisplayNameChars);
  c.Text("english_name", measure.english_name, false, kMaxEnglishNameChars);
}

void ValidateKpi(const Kpi& kpi, std::string_view path,
                 std::vector<FieldViolation>* violations) {
  Checker c(path, violations);
  std::optional<ParsedName> name = c.Name("name", kpi.name, ResourceType::kKpi);
  std::optional<ParsedName> measure =
      c.Name("measure", kpi.measure, ResourceType::kMeasure);
  if (name.has_value() && measure.has_value() &&
      measure->parent != name->parent) {
    c.Add("measure", absl::StrFormat("%s is not a measure of %s",
                                     Quote(kpi.measure), name->parent));
  }
  c.Text("display_name", kpi.display_name, true, kMaxDisplayNameChars);
  c.Text("english_name", kpi.english_name, false, kMaxEnglishNameChars);
  c.Text("unit", kpi.unit, false, kMaxUnitChars);
  c.Text("measurement_note", kpi.measurement_note, false, kMaxNoteChars);
  if (kpi.kind == KpiKind::kUnspecified ||
      !EnumInRange(kpi.kind, KpiKind::kPeriodSum)) {
    c.Add("kind",
          "required; accepted: KPI_KIND_LEVEL, KPI_KIND_RUNNING_TOTAL "
          "or KPI_KIND_PERIOD_SUM");
  }
  if (kpi.direction == Direction::kUnspecified ||
      !EnumInRange(kpi.direction, Direction::kDecrease)) {
    c.Add("direction",
          "required; accepted: DIRECTION_INCREASE or DIRECTION_DECREASE");
  }
  if (!EnumInRange(kpi.value_domain, ValueDomain::kPercent)) {
    c.Add("value_domain",
          absl::StrCat("unknown value ", static_cast<int>(kpi.value_domain),
                       "; accepted: VALUE_DOMAIN_UNSPECIFIED, _REAL, "
                       "_NON_NEGATIVE or _PERCENT"));
  }

  if (kpi.baseline.has_value()) {
    const Baseline& b = *kpi.baseline;
    c.Period("baseline.", b.fiscal_year, b.first_fiscal_year, b.aggregation);
    if (c.Finite("baseline.value", b.value)) {
      ValidateValueInDomain(b.value, kpi, c.Path("baseline.value"), violations);
    }
    c.Text("baseline.label", b.label, false, kMaxDisplayNameChars);
  }

  const Target& t = kpi.target;
  if (t.value.has_value() && !t.reference.empty()) {
    c.Add("target", "both value and reference are set; set exactly one");
  } else if (!t.value.has_value() && t.reference.empty()) {
    c.Add("target", "required: a value or a reference");
  }
  if (t.value.has_value() && c.Finite("target.value", *t.value)) {
    ValidateValueInDomain(*t.value, kpi, c.Path("target.value"), violations);
  }
  if (!t.reference.empty()) {
    c.Name("target.reference", t.reference, ResourceType::kReference);
  }
  const bool target_year_ok = c.Year("target.fiscal_year", t.fiscal_year, true);
  c.Text("target.label", t.label, false, kMaxDisplayNameChars);

  if (kpi.kind == KpiKind::kPeriodSum) {
    if (c.Year("period_first_fiscal_year", kpi.period_first_fiscal_year,
               true) &&
        target_year_ok && kpi.period_first_fiscal_year > t.fiscal_year) {
      c.Add("period_first_fiscal_year",
            absl::StrFormat("%d is after target.fiscal_year %d; the summed "
                            "period runs from this year to the target year",
                            kpi.period_first_fiscal_year, t.fiscal_year));
    }
  } else if (kpi.period_first_fiscal_year != 0) {
    c.Add("period_first_fiscal_year",
          "set on a KPI that is not KPI_KIND_PERIOD_SUM; leave it 0");
  }

  if (kpi.shock_fiscal_years.size() > kMaxShockFiscalYears) {
    c.Add("shock_fiscal_years",
          absl::StrFormat("%d years; accepted: at most %d",
                          kpi.shock_fiscal_years.size(), kMaxShockFiscalYears));
  }
  for (size_t i = 0;
       i < std::min(kpi.shock_fiscal_years.size(), kMaxShockFiscalYears); ++i) {
    const std::string field = Indexed("shock_fiscal_years", i);
    c.Year(field, kpi.shock_fiscal_years[i], true);
    for (size_t k = 0; k < i; ++k) {
      if (kpi.shock_fiscal_years[k] == kpi.shock_fiscal_years[i]) {
        c.Add(field,
              absl::StrFormat("%d is listed twice", kpi.shock_fiscal_years[i]));
        break;
      }
    }
  }
  if (kpi.ordinal < 0) {
    c.Add("ordinal",
          absl::StrFormat("%d is negative; accepted: 0 or more", kpi.ordinal));
  }
}

void ValidateObservation(const Observation& observation, std::string_view path,
                         std::vector<FieldViolation>* violations) {
  Checker c(path, violations);
  c.Period("", observation.fiscal_year, observation.first_fiscal_year,
           observation.aggregation);
  std::optional<ParsedName> name =
      c.Name("name", observation.name, ResourceType::kObservation);
  const std::string expected_id =
      FiscalYearId(observation.first_fiscal_year, observation.fiscal_year);
  if (name.has_value() && name->id != expected_id) {
    c.Add("name", absl::StrFormat("the ID %s does not name the period; "
                                  "expected \"%s\" for first_fiscal_year %d "
                                  "and fiscal_year %d",
                                  Quote(name->id), expected_id,
                                  observation.first_fiscal_year,
                                  observation.fiscal_year));
  }
  c.Finite("value", observation.value);
  if (!EnumInRange(observation.status, ObservationStatus::kCarriedOver)) {
    c.Add("status",
          absl::StrCat("unknown value ", static_cast<int>(observation.status),
                       "; accepted: OBSERVATION_STATUS_FINAL, "
                       "_PROVISIONAL or _CARRIED_OVER"));
  }
  c.Text("source_note", observation.source_note, false, kMaxSourceNoteChars);
  c.Year("reported_fiscal_year", observation.reported_fiscal_year, false);
}

void ValidateEvaluation(const Evaluation& evaluation, std::string_view path,
                        std::vector<FieldViolation>* violations) {
  Checker c(path, violations);
  std::optional<ParsedName> name =
      c.Name("name", evaluation.name, ResourceType::kEvaluation);
  const bool year_ok = c.Year("fiscal_year", evaluation.fiscal_year, true);
  if (name.has_value() && year_ok &&
      name->id != FiscalYearId(0, evaluation.fiscal_year)) {
    c.Add("name", absl::StrFormat("the ID %s does not name the fiscal year; "
                                  "expected \"%s\"",
                                  Quote(name->id),
                                  FiscalYearId(0, evaluation.fiscal_year)));
  }
  if (evaluation.rating == Rating::kUnspecified ||
      !EnumInRange(evaluation.rating, Rating::kRevise)) {
    c.Add("rating",
          "required; accepted: RATING_CONTINUE_AND_EXPAND (継続発展), "
          "RATING_CONTINUE (継続) or RATING_REVISE (見直し)");
  }
  c.Text("kpi_assessment", evaluation.kpi_assessment, false,
         kMaxEvaluationTextChars);
  c.Text("outlook", evaluation.outlook, false, kMaxEvaluationTextChars);
  c.Text("viewpoint", evaluation.viewpoint, false, kMaxEvaluationTextChars);
}

absl::Status ValidateDataset(const Dataset& dataset, const Dataset& stored) {
  std::vector<FieldViolation> out;
  const Dataset& d = dataset;
  for (size_t i = 0; i < d.references.size(); ++i) {
    ValidateReference(d.references[i], Indexed("references", i), &out);
  }
  for (size_t i = 0; i < d.strategies.size(); ++i) {
    ValidateStrategy(d.strategies[i], Indexed("strategies", i), &out);
  }
  for (size_t i = 0; i < d.goals.size(); ++i) {
    ValidateGoal(d.goals[i], Indexed("goals", i), &out);
  }
  for (size_t i = 0; i < d.measures.size(); ++i) {
    ValidateMeasure(d.measures[i], Indexed("measures", i), &out);
  }
  for (size_t i = 0; i < d.kpis.size(); ++i) {
    ValidateKpi(d.kpis[i], Indexed("kpis", i), &out);
  }
  for (size_t i = 0; i < d.observations.size(); ++i) {
    ValidateObservation(d.observations[i], Indexed("observations", i), &out);
  }
  for (size_t i = 0; i < d.evaluations.size(); ++i) {
    ValidateEvaluation(d.evaluations[i], Indexed("evaluations", i), &out);
  }

  CheckDuplicates(d.references, "references", &out);
  CheckDuplicates(d.strategies, "strategies", &out);
  CheckDuplicates(d.goals, "goals", &out);
  CheckDuplicates(d.measures, "measures", &out);
  CheckDuplicates(d.kpis, "kpis", &out);
  CheckDuplicates(d.observations, "observations", &out);
  CheckDuplicates(d.evaluations, "evaluations", &out);

  const auto references = IndexByName(stored.references, d.references);
  const auto strategies = IndexByName(stored.strategies, d.strategies);
  const auto goals = IndexByName(stored.goals, d.goals);
  const auto measures = IndexByName(stored.measures, d.measures);
  const auto kpis = IndexByName(stored.kpis, d.kpis);
  const auto find = [](const auto& map, const std::string& name) {
    auto it = map.find(name);
    return it == map.end() ? nullptr : it->second;
  };
  // Checks that the strategy a resource lives under exists; returns it.
  const auto strategy_of = [&](const std::string& name,
                               const std::string& path) -> const Strategy* {
    const std::string strategy_name = StrategyOf(name);
    if (strategy_name.empty()) return nullptr;  // bad name, reported
    const Strategy* strategy = find(strategies, strategy_name);
    if (strategy == nullptr) {
      out.push_back({path + ".name", Missing("strategy", strategy_name)});
    }
    return strategy;
  };

  for (size_t i = 0; i < d.goals.size(); ++i) {
    strategy_of(d.goals[i].name, Indexed("goals", i));
  }
  for (size_t i = 0; i < d.measures.size(); ++i) {
    const Measure& m = d.measures[i];
    const std::string path = Indexed("measures", i);
    strategy_of(m.name, path);
    if (!m.goal.empty() && find(goals, m.goal) == nullptr) {
      out.push_back({path + ".goal", Missing("goal", m.goal)});
    }
    if (m.parent.empty() || m.parent == m.name) continue;
    const Measure* parent = find(measures, m.parent);
    if (parent == nullptr) {
      out.push_back({path + ".parent", Missing("measure", m.parent)});
    } else if (!parent->parent.empty()) {
      out.push_back(
          {path + ".parent",
           absl::StrFormat("%s is itself a sub-measure (of %s); sub-measures "
                           "nest one level, under a top-level heading",
                           m.parent, parent->parent)});
    } else if (parent->goal != m.goal) {
      out.push_back({path + ".parent",
                     absl::StrFormat("%s belongs to %s, this measure to %s; a "
                                     "sub-measure has its heading's goal",
                                     m.parent, parent->goal, m.goal)});
    }
  }
  for (size_t i = 0; i < d.evaluations.size(); ++i) {
    const std::string parent = ParentOf(d.evaluations[i].name);
    if (StrategyOf(parent).empty()) continue;  // bad name, reported
    if (find(measures, parent) == nullptr) {
      out.push_back(
          {Indexed("evaluations", i) + ".name", Missing("measure", parent)});
    }
  }
  for (size_t i = 0; i < d.kpis.size(); ++i) {
    const Kpi& k = d.kpis[i];
    const std::string path = Indexed("kpis", i);
    const Strategy* strategy = strategy_of(k.name, path);
    if (!k.measure.empty() && find(measures, k.measure) == nullptr) {
      out.push_back({path + ".measure", Missing("measure", k.measure)});
    }
    if (k.baseline.has_value()) {
      CheckNearPlan(k.baseline->fiscal_year, strategy,
                    path + ".baseline.fiscal_year", &out);
      CheckNearPlan(k.baseline->first_fiscal_year, strategy,
                    path + ".baseline.first_fiscal_year", &out);
    }
    if (strategy != nullptr && IsYear(k.target.fiscal_year) &&
        IsYear(strategy->first_fiscal_year) &&
        (k.target.fiscal_year < strategy->first_fiscal_year ||
         k.target.fiscal_year >
             strategy->last_fiscal_year + kYearsAroundPlan)) {
      out.push_back(
          {path + ".target.fiscal_year",
           absl::StrFormat("%d is outside %d to %d: targets fall from the "
                           "first year of the plan period of %s (%d to %d) "
                           "to %d years after it",
                           k.target.fiscal_year, strategy->first_fiscal_year,
                           strategy->last_fiscal_year + kYearsAroundPlan,
                           strategy->name, strategy->first_fiscal_year,
                           strategy->last_fiscal_year, kYearsAroundPlan)});
    }
    if (k.target.reference.empty() || k.target.value.has_value()) continue;
    const Reference* reference = find(references, k.target.reference);
    if (reference == nullptr) {
      out.push_back({path + ".target.reference",
                     Missing("reference", k.target.reference)});
      continue;
    }
    if (!reference->unit.empty() && !k.unit.empty() &&
        reference->unit != k.unit) {
      out.push_back({path + ".target.reference",
                     absl::StrFormat("%s is in %s, the KPI in %s; a target "
                                     "reference must share the KPI's unit",
                                     reference->name, Quote(reference->unit),
                                     Quote(k.unit))});
    }
    if (!IsYear(k.target.fiscal_year)) continue;
    absl::StatusOr<double> resolved = Resolve(k, reference);
    if (!resolved.ok()) {
      out.push_back({path + ".target.reference",
                     std::string(resolved.status().message())});
    } else {
      ValidateValueInDomain(*resolved, k, path + ".target.reference", &out);
    }
  }
  for (size_t i = 0; i < d.observations.size(); ++i) {
    const Observation& o = d.observations[i];
    const std::string path = Indexed("observations", i);
    const std::string kpi_name = ParentOf(o.name);
    if (StrategyOf(kpi_name).empty()) continue;  // bad name, reported
    const Kpi* kpi = find(kpis, kpi_name);
    if (kpi == nullptr) {
      out.push_back({path + ".name", Missing("KPI", kpi_name)});
      continue;
    }
    ValidateValueInDomain(o.value, *kpi, path + ".value", &out);
    const Strategy* strategy = find(strategies, StrategyOf(kpi_name));
    CheckNearPlan(o.fiscal_year, strategy, path + ".fiscal_year", &out);
    CheckNearPlan(o.first_fiscal_year, strategy, path + ".first_fiscal_year",
                  &out);
  }
  return base::InvalidArgumentWithViolations("invalid dataset", out);
}

absl::Status ValidateDataset(const Dataset& dataset) {
  return ValidateDataset(dataset, Dataset{});
}

std::vector<RunningTotalFall> FindRunningTotalFalls(
    const Kpi& kpi, const std::vector<Observation>& observations) {
  std::vector<RunningTotalFall> falls;
  if (kpi.kind != KpiKind::kRunningTotal) return falls;
  std::vector<size_t> years;
  for (size_t i = 0; i < observations.size(); ++i) {
    const Observation& o = observations[i];
    if (o.first_fiscal_year == 0 || o.first_fiscal_year == o.fiscal_year) {
      years.push_back(i);
    }
  }
  std::stable_sort(years.begin(), years.end(), [&](size_t a, size_t b) {
    return observations[a].fiscal_year < observations[b].fiscal_year;
  });
  for (size_t i = 1; i < years.size(); ++i) {
    if (observations[years[i]].value < observations[years[i - 1]].value) {
      falls.push_back({years[i - 1], years[i]});
    }
  }
  return falls;
}

absl::Status RunningTotalFallError(const Kpi& kpi, const Observation& earlier,
                                   const Observation& later,
                                   std::string_view field) {
  std::string label = kpi.name;
  if (!kpi.display_name.empty()) {
    std::string quoted = Quote(kpi.display_name);
    // Quote() writes "..."; a display name reads better in parentheses.
    if (quoted.size() >= 2 && quoted.front() == '"') {
      quoted = quoted.substr(1);
      quoted.erase(quoted.rfind('"'), 1);
    }
    label = absl::StrCat(kpi.name, " (", quoted, ")");
  }
  return base::InvalidArgumentWithViolations(
      "a running total cannot fall",
      {{std::string(field),
        absl::StrFormat(
            "%s is a running total, which cannot fall, but it would go from "
            "%.15g in FY%d to %.15g in FY%d; accepted: each fiscal year's "
            "value at least that of the fiscal year before (correct the wrong "
            "year first, or both years in one ImportDataset)",
            label, earlier.value, earlier.fiscal_year, later.value,
            later.fiscal_year)}});
}

absl::StatusOr<double> ResolveTarget(const Kpi& kpi,
                                     const std::vector<Reference>& references) {
  const Reference* reference = nullptr;
  for (const Reference& r : references) {
    if (r.name == kpi.target.reference) reference = &r;
  }
  return Resolve(kpi, reference);
}

}  // namespace kpi::domain
