#include "lib/storage/sql_repository.h"

#include <array>
#include <atomic>
#include <cmath>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/strings/escaping.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/civil_time.h"
#include "lib/base/field_violations.h"
#include "lib/base/quote.h"
#include "lib/base/status_macros.h"
#include "lib/domain/names.h"
#include "lib/domain/validation.h"
#include "lib/storage/filter.h"
#include "lib/storage/page_token.h"
#include "lib/storage/schema.h"

namespace kpi::storage {
namespace {

using domain::ParsedName;
using domain::ResourceType;
using Params = std::vector<SqlValue>;

absl::string_view AsAbsl(std::string_view s) { return {s.data(), s.size()}; }

// absl::StrJoin does not take std::string_view (Debian's Abseil has its own).
template <typename Range>
std::string JoinViews(const Range& parts, absl::string_view separator) {
  return absl::StrJoin(parts, separator,
                       [](std::string* out, std::string_view part) {
                         out->append(part.data(), part.size());
                       });
}

SqlValue Text(std::string_view s) { return std::string(s); }
SqlValue NullIfEmpty(std::string_view s) {
  return s.empty() ? SqlValue() : SqlValue(std::string(s));
}

// "$first, $first+1, ..." for `count` parameters.
std::string Placeholders(size_t first, size_t count) {
  std::string out;
  for (size_t i = 0; i < count; ++i) {
    absl::StrAppend(&out, i == 0 ? "$" : ", $", first + i);
  }
  return out;
}

std::string_view TableOf(ResourceType type) {
  switch (type) {
    case ResourceType::kReference:
      return "reference_tables";
    case ResourceType::kStrategy:
      return "strategies";
    case ResourceType::kGoal:
      return "goals";
    case ResourceType::kMeasure:
      return "measures";
    case ResourceType::kEvaluation:
      return "evaluations";
    case ResourceType::kKpi:
      return "kpis";
    case ResourceType::kObservation:
      return "observations";
  }
  return "strategies";
}

// The state of one write transaction.
struct Write {
  SqlTransaction& tx;
  int64_t revision;        // the change sequence this transaction set
  int64_t now;             // Unix nanoseconds, from the injected clock
  std::string_view actor;  // who makes it (Repository::WithActor)
  // Changes logged so far, the last one's position. Mutable: the one
  // counter of the transaction, advanced by whichever step logs.
  mutable int32_t logged = 0;
};

// The noun of a type in the KpiService method names ("CreateKpi").
std::string_view MethodNoun(ResourceType type) {
  switch (type) {
    case ResourceType::kReference:
      return "Reference";
    case ResourceType::kStrategy:
      return "Strategy";
    case ResourceType::kGoal:
      return "Goal";
    case ResourceType::kMeasure:
      return "Measure";
    case ResourceType::kEvaluation:
      return "Evaluation";
    case ResourceType::kKpi:
      return "Kpi";
    case ResourceType::kObservation:
      return "Observation";
  }
  return "Resource";
}

// Appends one entry to the change log, in the write's transaction: it is
// committed with the write or not at all.
absl::Status LogChange(const Write& w, std::string_view method,
                       std::string_view resource, std::string_view etag_before,
                       std::string_view etag_after, std::string_view summary) {
  ++w.logged;
  return w.tx
      .Exec(
          "INSERT INTO change_log (sequence, position, change_time, actor, "
          "method, resource, etag_before, etag_after, summary) "
          "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
          {w.revision, int64_t{w.logged}, w.now, Text(w.actor), Text(method),
           Text(resource), Text(etag_before), Text(etag_after), Text(summary)})
      .status();
}

// Reads the columns of a row in order.
class Cursor {
 public:
  explicit Cursor(const SqlRow& row) : row_(row) {}
  int64_t Int() { return row_.Int(i_++); }
  int32_t Int32() { return static_cast<int32_t>(row_.Int(i_++)); }
  double Double() { return row_.Double(i_++); }
  std::string Text() { return row_.Text(i_++); }
  bool NextIsNull() const { return row_.IsNull(i_); }
  template <typename E>
  E Enum() {
    return static_cast<E>(Int());
  }
  // revision, create_time, update_time: the last three columns.
  domain::Meta Meta() {
    domain::Meta meta;
    meta.etag = absl::StrCat(Int());
    meta.create_time = absl::FromUnixNanos(Int());
    meta.update_time = absl::FromUnixNanos(Int());
    return meta;
  }

 private:
  const SqlRow& row_;
  size_t i_ = 0;
};

domain::ObservationStatus StoredStatus(domain::ObservationStatus s) {
  // OBSERVATION_STATUS_UNSPECIFIED is treated as final on write (proto).
  return s == domain::ObservationStatus::kUnspecified
             ? domain::ObservationStatus::kFinal
             : s;
}

std::string JoinYears(const std::vector<int32_t>& years) {
  return absl::StrJoin(years, ",");
}
std::vector<int32_t> SplitYears(const std::string& text) {
  std::vector<int32_t> out;
  for (absl::string_view part : absl::StrSplit(text, ',', absl::SkipEmpty())) {
    int32_t y;
    if (absl::SimpleAtoi(part, &y)) out.push_back(y);
  }
  return out;
}

// Per-type mapping between rows and domain structs. Columns() are the
// writable columns after `name`, in the order Values() binds and FromRow()
// reads them; the parent's name, when the type has one, is the `parent`
// column.
template <typename T>
struct Traits;

template <>
struct Traits<domain::Reference> {
  static constexpr ResourceType kType = ResourceType::kReference;
  static constexpr bool kHasParent = false;
  static constexpr ResourceType kParentType = ResourceType::kReference;
  static constexpr std::string_view kDatasetField = "references";
  static constexpr std::string_view kColumns[] = {
      "display_name", "english_name", "unit", "source"};
  static Params Values(const domain::Reference& r) {
    return {Text(r.display_name), Text(r.english_name), Text(r.unit),
            Text(r.source)};
  }
  static domain::Reference FromRow(const SqlRow& row) {
    Cursor c(row);
    domain::Reference r;
    r.name = c.Text();
    r.display_name = c.Text();
    r.english_name = c.Text();
    r.unit = c.Text();
    r.source = c.Text();
    r.meta = c.Meta();
    return r;
  }
};

template <>
struct Traits<domain::Strategy> {
  static constexpr ResourceType kType = ResourceType::kStrategy;
  static constexpr bool kHasParent = false;
  static constexpr ResourceType kParentType = ResourceType::kStrategy;
  static constexpr std::string_view kDatasetField = "strategies";
  static constexpr std::string_view kColumns[] = {"display_name",
                                                  "english_name",
                                                  "municipality",
                                                  "municipality_code",
                                                  "first_fiscal_year",
                                                  "last_fiscal_year",
                                                  "source"};
  static Params Values(const domain::Strategy& s) {
    return {Text(s.display_name),
            Text(s.english_name),
            Text(s.municipality),
            Text(s.municipality_code),
            int64_t{s.first_fiscal_year},
            int64_t{s.last_fiscal_year},
            Text(s.source)};
  }
  static domain::Strategy FromRow(const SqlRow& row) {
    Cursor c(row);
    domain::Strategy s;
    s.name = c.Text();
    s.display_name = c.Text();
    s.english_name = c.Text();
    s.municipality = c.Text();
    s.municipality_code = c.Text();
    s.first_fiscal_year = c.Int32();
    s.last_fiscal_year = c.Int32();
    s.source = c.Text();
    s.meta = c.Meta();
    return s;
  }
};

template <>
struct Traits<domain::Goal> {
  static constexpr ResourceType kType = ResourceType::kGoal;
  static constexpr bool kHasParent = true;
  static constexpr ResourceType kParentType = ResourceType::kStrategy;
  static constexpr std::string_view kDatasetField = "goals";
  static constexpr std::string_view kColumns[] = {"number", "display_name",
                                                  "english_name"};
  static Params Values(const domain::Goal& g) {
    return {int64_t{g.number}, Text(g.display_name), Text(g.english_name)};
  }
  static domain::Goal FromRow(const SqlRow& row) {
    Cursor c(row);
    domain::Goal g;
    g.name = c.Text();
    g.number = c.Int32();
    g.display_name = c.Text();
    g.english_name = c.Text();
    g.meta = c.Meta();
    return g;
  }
};

template <>
struct Traits<domain::Measure> {
  static constexpr ResourceType kType = ResourceType::kMeasure;
  static constexpr bool kHasParent = true;
  static constexpr ResourceType kParentType = ResourceType::kStrategy;
  static constexpr std::string_view kDatasetField = "measures";
  static constexpr std::string_view kColumns[] = {
      "goal", "parent_measure", "code", "display_name", "english_name"};
  static Params Values(const domain::Measure& m) {
    return {Text(m.goal), NullIfEmpty(m.parent), Text(m.code),
            Text(m.display_name), Text(m.english_name)};
  }
  static domain::Measure FromRow(const SqlRow& row) {
    Cursor c(row);
    domain::Measure m;
    m.name = c.Text();
    m.goal = c.Text();
    m.parent = c.Text();
    m.code = c.Text();
    m.display_name = c.Text();
    m.english_name = c.Text();
    m.meta = c.Meta();
    return m;
  }
};

template <>
struct Traits<domain::Kpi> {
  static constexpr ResourceType kType = ResourceType::kKpi;
  static constexpr bool kHasParent = true;
  static constexpr ResourceType kParentType = ResourceType::kStrategy;
  static constexpr std::string_view kDatasetField = "kpis";
  static constexpr std::string_view kColumns[] = {"measure",
                                                  "display_name",
                                                  "english_name",
                                                  "unit",
                                                  "kind",
                                                  "direction",
                                                  "value_domain",
                                                  "baseline_value",
                                                  "baseline_fiscal_year",
                                                  "baseline_first_fiscal_year",
                                                  "baseline_aggregation",
                                                  "baseline_label",
                                                  "target_value",
                                                  "target_reference",
                                                  "target_fiscal_year",
                                                  "target_label",
                                                  "period_first_fiscal_year",
                                                  "measurement_note",
                                                  "shock_fiscal_years",
                                                  "ordinal"};
  static Params Values(const domain::Kpi& k) {
    Params p = {Text(k.measure),
                Text(k.display_name),
                Text(k.english_name),
                Text(k.unit),
                int64_t{static_cast<int>(k.kind)},
                int64_t{static_cast<int>(k.direction)},
                int64_t{static_cast<int>(k.value_domain)}};
    if (k.baseline.has_value()) {
      p.insert(p.end(), {k.baseline->value, int64_t{k.baseline->fiscal_year},
                         int64_t{k.baseline->first_fiscal_year},
                         int64_t{static_cast<int>(k.baseline->aggregation)},
                         Text(k.baseline->label)});
    } else {
      p.insert(p.end(), 5, SqlValue());
    }
    p.push_back(k.target.value.has_value() ? SqlValue(*k.target.value)
                                           : SqlValue());
    p.push_back(NullIfEmpty(k.target.reference));
    p.insert(p.end(),
             {int64_t{k.target.fiscal_year}, Text(k.target.label),
              int64_t{k.period_first_fiscal_year}, Text(k.measurement_note),
              Text(JoinYears(k.shock_fiscal_years)), int64_t{k.ordinal}});
    return p;
  }
  static domain::Kpi FromRow(const SqlRow& row) {
    Cursor c(row);
    domain::Kpi k;
    k.name = c.Text();
    k.measure = c.Text();
    k.display_name = c.Text();
    k.english_name = c.Text();
    k.unit = c.Text();
    k.kind = c.Enum<domain::KpiKind>();
    k.direction = c.Enum<domain::Direction>();
    k.value_domain = c.Enum<domain::ValueDomain>();
    if (c.NextIsNull()) {
      for (int i = 0; i < 5; ++i) c.Text();
    } else {
      domain::Baseline b;
      b.value = c.Double();
      b.fiscal_year = c.Int32();
      b.first_fiscal_year = c.Int32();
      b.aggregation = c.Enum<domain::Aggregation>();
      b.label = c.Text();
      k.baseline = b;
    }
    if (c.NextIsNull()) {
      c.Text();
    } else {
      k.target.value = c.Double();
    }
    k.target.reference = c.Text();
    k.target.fiscal_year = c.Int32();
    k.target.label = c.Text();
    k.period_first_fiscal_year = c.Int32();
    k.measurement_note = c.Text();
    k.shock_fiscal_years = SplitYears(c.Text());
    k.ordinal = c.Int32();
    k.meta = c.Meta();
    return k;
  }
};

template <>
struct Traits<domain::Observation> {
  static constexpr ResourceType kType = ResourceType::kObservation;
  static constexpr bool kHasParent = true;
  static constexpr ResourceType kParentType = ResourceType::kKpi;
  static constexpr std::string_view kDatasetField = "observations";
  static constexpr std::string_view kColumns[] = {
      "fiscal_year", "first_fiscal_year", "aggregation",         "value",
      "status",      "source_note",       "reported_fiscal_year"};
  static Params Values(const domain::Observation& o) {
    return {int64_t{o.fiscal_year},
            int64_t{o.first_fiscal_year},
            int64_t{static_cast<int>(o.aggregation)},
            o.value,
            int64_t{static_cast<int>(StoredStatus(o.status))},
            Text(o.source_note),
            int64_t{o.reported_fiscal_year}};
  }
  static domain::Observation FromRow(const SqlRow& row) {
    Cursor c(row);
    domain::Observation o;
    o.name = c.Text();
    o.fiscal_year = c.Int32();
    o.first_fiscal_year = c.Int32();
    o.aggregation = c.Enum<domain::Aggregation>();
    o.value = c.Double();
    o.status = c.Enum<domain::ObservationStatus>();
    o.source_note = c.Text();
    o.reported_fiscal_year = c.Int32();
    o.meta = c.Meta();
    return o;
  }
};

template <>
struct Traits<domain::Evaluation> {
  static constexpr ResourceType kType = ResourceType::kEvaluation;
  static constexpr bool kHasParent = true;
  static constexpr ResourceType kParentType = ResourceType::kMeasure;
  static constexpr std::string_view kDatasetField = "evaluations";
  static constexpr std::string_view kColumns[] = {
      "fiscal_year", "rating", "kpi_assessment", "outlook", "viewpoint"};
  static Params Values(const domain::Evaluation& e) {
    return {int64_t{e.fiscal_year}, int64_t{static_cast<int>(e.rating)},
            Text(e.kpi_assessment), Text(e.outlook), Text(e.viewpoint)};
  }
  static domain::Evaluation FromRow(const SqlRow& row) {
    Cursor c(row);
    domain::Evaluation e;
    e.name = c.Text();
    e.fiscal_year = c.Int32();
    e.rating = c.Enum<domain::Rating>();
    e.kpi_assessment = c.Text();
    e.outlook = c.Text();
    e.viewpoint = c.Text();
    e.meta = c.Meta();
    return e;
  }
};

template <typename T>
std::string_view Singular() {
  return domain::TypeSingular(Traits<T>::kType);
}

template <typename T>
std::string SelectList() {
  return absl::StrCat("name, ", JoinViews(Traits<T>::kColumns, ", "),
                      ", revision, create_time, update_time");
}

absl::Status NotFound(ResourceType type, std::string_view name) {
  return absl::NotFoundError(absl::StrFormat("%s %s does not exist",
                                             AsAbsl(domain::TypeSingular(type)),
                                             AsAbsl(name)));
}

absl::StatusOr<bool> Exists(SqlTransaction& tx, ResourceType type,
                            std::string_view name) {
  KPI_ASSIGN_OR_RETURN(
      std::vector<SqlRow> rows,
      tx.Query(absl::StrCat("SELECT 1 FROM ", AsAbsl(TableOf(type)),
                            " WHERE name = $1"),
               {Text(name)}));
  return !rows.empty();
}

absl::Status CheckEtag(std::string_view name, const domain::Meta& stored,
                       std::string_view expected) {
  if (expected.empty() || expected == stored.etag) return absl::OkStatus();
  return absl::AbortedError(absl::StrFormat(
      "%s: etag %s is stale: the resource changed since it was read; "
      "re-read it to get the current etag, reapply the change and retry",
      AsAbsl(name), base::QuoteInput(expected)));
}

absl::Status CheckFinite(double value, std::string_view field) {
  if (std::isfinite(value)) return absl::OkStatus();
  return absl::InvalidArgumentError(absl::StrFormat(
      "%s: %f is not a finite number; accepted: a finite number", AsAbsl(field),
      value));
}

// ---------------------------------------------------------------------------
// Hooks: what differs between types beyond their columns. The generic
// operations below call these overloads; the templates are the defaults.

// Numbers that SQLite could not store (it turns NaN into NULL).
template <typename T>
absl::Status CheckValues(const T&, std::string_view) {
  return absl::OkStatus();
}
absl::Status CheckValues(const domain::Reference& r, std::string_view prefix) {
  for (size_t i = 0; i < r.values.size(); ++i) {
    KPI_RETURN_IF_ERROR(
        CheckFinite(r.values[i].value,
                    absl::StrCat(AsAbsl(prefix), ".values[", i, "].value")));
  }
  return absl::OkStatus();
}
absl::Status CheckValues(const domain::Kpi& k, std::string_view prefix) {
  if (k.baseline.has_value()) {
    KPI_RETURN_IF_ERROR(CheckFinite(
        k.baseline->value, absl::StrCat(AsAbsl(prefix), ".baseline.value")));
  }
  if (k.target.value.has_value()) {
    KPI_RETURN_IF_ERROR(CheckFinite(
        *k.target.value, absl::StrCat(AsAbsl(prefix), ".target.value")));
  }
  return absl::OkStatus();
}
absl::Status CheckValues(const domain::Observation& o,
                         std::string_view prefix) {
  return CheckFinite(o.value, absl::StrCat(AsAbsl(prefix), ".value"));
}

// A field that names another resource of the same strategy, which must
// exist (FAILED_PRECONDITION naming the field otherwise).
absl::Status CheckSameStrategyRef(SqlTransaction& tx, std::string_view value,
                                  ResourceType type, std::string_view strategy,
                                  std::string_view field) {
  KPI_ASSIGN_OR_RETURN(ParsedName ref, domain::ParseName(value, type, field));
  if (ref.parent != strategy) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "%s: %s belongs to another strategy; accepted: a %s of %s",
        AsAbsl(field), AsAbsl(value), AsAbsl(domain::TypeSingular(type)),
        AsAbsl(strategy)));
  }
  KPI_ASSIGN_OR_RETURN(bool exists, Exists(tx, type, value));
  if (!exists) {
    return absl::FailedPreconditionError(absl::StrFormat(
        "%s: %s %s does not exist; create it first", AsAbsl(field),
        AsAbsl(domain::TypeSingular(type)), AsAbsl(value)));
  }
  return absl::OkStatus();
}

// References to other resources (beyond the parent in the name).
template <typename T>
absl::Status CheckReferences(SqlTransaction&, const T&, const ParsedName&,
                             std::string_view) {
  return absl::OkStatus();
}
absl::Status CheckReferences(SqlTransaction& tx, const domain::Measure& m,
                             const ParsedName& name, std::string_view prefix) {
  KPI_RETURN_IF_ERROR(
      CheckSameStrategyRef(tx, m.goal, ResourceType::kGoal, name.parent,
                           absl::StrCat(AsAbsl(prefix), ".goal")));
  if (m.parent.empty()) return absl::OkStatus();
  const std::string field = absl::StrCat(AsAbsl(prefix), ".parent");
  if (m.parent == m.name) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "%s: a measure cannot be its own parent; accepted: another measure "
        "of the strategy, or empty",
        field));
  }
  KPI_RETURN_IF_ERROR(CheckSameStrategyRef(tx, m.parent, ResourceType::kMeasure,
                                           name.parent, field));
  // The parent must not sit below this measure.
  std::string up = m.parent;
  for (int depth = 0; !up.empty() && depth < 1000; ++depth) {
    KPI_ASSIGN_OR_RETURN(
        std::vector<SqlRow> rows,
        tx.Query("SELECT parent_measure FROM measures WHERE name = $1",
                 {Text(up)}));
    if (rows.empty()) break;
    up = rows[0].Text(0);
    if (up == m.name) {
      return absl::FailedPreconditionError(absl::StrFormat(
          "%s: %s is below %s, which would make a cycle of parents", field,
          m.parent, m.name));
    }
  }
  return absl::OkStatus();
}
absl::Status CheckReferences(SqlTransaction& tx, const domain::Kpi& k,
                             const ParsedName& name, std::string_view prefix) {
  KPI_RETURN_IF_ERROR(
      CheckSameStrategyRef(tx, k.measure, ResourceType::kMeasure, name.parent,
                           absl::StrCat(AsAbsl(prefix), ".measure")));
  if (k.target.reference.empty()) return absl::OkStatus();
  const std::string field = absl::StrCat(AsAbsl(prefix), ".target.reference");
  KPI_RETURN_IF_ERROR(
      domain::ParseName(k.target.reference, ResourceType::kReference, field)
          .status());
  KPI_ASSIGN_OR_RETURN(
      bool exists, Exists(tx, ResourceType::kReference, k.target.reference));
  if (!exists) {
    return absl::FailedPreconditionError(
        absl::StrFormat("%s: reference %s does not exist; create it first",
                        field, k.target.reference));
  }
  return absl::OkStatus();
}

// Rows of child tables that belong to the resource itself.
template <typename T>
absl::Status LoadDetails(SqlTransaction&, std::vector<T>&) {
  return absl::OkStatus();
}
template <typename T>
absl::Status SaveDetails(const Write&, const T&) {
  return absl::OkStatus();
}

// Runs `sql` (which must have "%s" where the IN list goes) for the names of
// `items`, 500 at a time, and hands each row with the index of its item
// (the row's first column is the item's name).
template <typename T>
absl::Status ForDetailRows(SqlTransaction& tx, const std::vector<T>& items,
                           const absl::FormatSpec<std::string>& sql,
                           const std::function<void(size_t, Cursor&)>& handle) {
  constexpr size_t kChunk = 500;
  absl::flat_hash_map<std::string, size_t> index;
  for (size_t i = 0; i < items.size(); ++i) index[items[i].name] = i;
  for (size_t start = 0; start < items.size(); start += kChunk) {
    const size_t n = std::min(kChunk, items.size() - start);
    Params params;
    for (size_t i = 0; i < n; ++i) params.push_back(items[start + i].name);
    KPI_ASSIGN_OR_RETURN(
        std::vector<SqlRow> rows,
        tx.Query(absl::StrFormat(sql, Placeholders(1, n)), params));
    for (const SqlRow& row : rows) {
      Cursor c(row);
      auto it = index.find(c.Text());
      if (it != index.end()) handle(it->second, c);
    }
  }
  return absl::OkStatus();
}

absl::Status LoadDetails(SqlTransaction& tx,
                         std::vector<domain::Reference>& items) {
  absl::Status bad_date;
  KPI_RETURN_IF_ERROR(ForDetailRows(
      tx, items,
      "SELECT reference, effective_date, value FROM reference_values "
      "WHERE reference IN (%s) ORDER BY reference, position",
      [&](size_t i, Cursor& c) {
        domain::ReferenceValue v;
        const std::string date = c.Text();
        if (!absl::ParseCivilTime(date, &v.effective_date) && bad_date.ok()) {
          bad_date = absl::DataLossError(
              absl::StrFormat("%s: stored effective_date \"%s\" is not a date",
                              items[i].name, date));
        }
        v.value = c.Double();
        items[i].values.push_back(v);
      }));
  return bad_date;
}
absl::Status SaveDetails(const Write& w, const domain::Reference& r) {
  KPI_RETURN_IF_ERROR(
      w.tx.Exec("DELETE FROM reference_values WHERE reference = $1",
                {Text(r.name)})
          .status());
  for (size_t i = 0; i < r.values.size(); ++i) {
    KPI_RETURN_IF_ERROR(
        w.tx.Exec("INSERT INTO reference_values "
                  "(reference, position, effective_date, value) "
                  "VALUES ($1, $2, $3, $4)",
                  {Text(r.name), static_cast<int64_t>(i),
                   absl::FormatCivilTime(r.values[i].effective_date),
                   r.values[i].value})
            .status());
  }
  return absl::OkStatus();
}

absl::Status LoadDetails(SqlTransaction& tx,
                         std::vector<domain::Observation>& items) {
  return ForDetailRows(
      tx, items,
      "SELECT observation, value, status, source_note, revise_time, reason, "
      "actor FROM observation_revisions WHERE observation IN (%s) "
      "ORDER BY observation, position",
      [&](size_t i, Cursor& c) {
        domain::ObservationRevision r;
        r.value = c.Double();
        r.status = c.Enum<domain::ObservationStatus>();
        r.source_note = c.Text();
        r.revise_time = absl::FromUnixNanos(c.Int());
        r.reason = c.Text();
        r.actor = c.Text();
        items[i].revisions.push_back(std::move(r));
      });
}

// Before a replace: an observation keeps the state it leaves.
template <typename T>
absl::Status RecordHistory(const Write&, const T&, const T&, std::string_view) {
  return absl::OkStatus();
}
absl::Status RecordHistory(const Write& w, const domain::Observation& before,
                           const domain::Observation& after,
                           std::string_view reason) {
  if (before.value == after.value &&
      before.status == StoredStatus(after.status) &&
      before.source_note == after.source_note) {
    return absl::OkStatus();
  }
  KPI_ASSIGN_OR_RETURN(
      std::vector<SqlRow> rows,
      w.tx.Query("SELECT COALESCE(MAX(position), 0) FROM "
                 "observation_revisions WHERE observation = $1",
                 {Text(before.name)}));
  const int64_t position = rows.empty() ? 1 : rows[0].Int(0) + 1;
  if (position > static_cast<int64_t>(domain::kMaxRevisions)) {
    // Refused before anything is written: a record that keeps growing would
    // end up too large to read back (domain/validation.h).
    return absl::FailedPreconditionError(absl::StrFormat(
        "%s already has %d revisions, the most kept; its value, status and "
        "source_note can no longer change (other fields can). To correct it "
        "anyway, export it, delete it and create it again",
        before.name, domain::kMaxRevisions));
  }
  return w.tx
      .Exec(
          "INSERT INTO observation_revisions (observation, position, value, "
          "status, source_note, revise_time, reason, actor) "
          "VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
          {Text(before.name), position, before.value,
           int64_t{static_cast<int>(before.status)}, Text(before.source_note),
           w.now, Text(reason), Text(w.actor)})
      .status();
}

// The status as the proto's enum value ends (FINAL, PROVISIONAL ...).
std::string_view StatusWord(domain::ObservationStatus status) {
  switch (status) {
    case domain::ObservationStatus::kUnspecified:
      return "UNSPECIFIED";
    case domain::ObservationStatus::kFinal:
      return "FINAL";
    case domain::ObservationStatus::kProvisional:
      return "PROVISIONAL";
    case domain::ObservationStatus::kCarriedOver:
      return "CARRIED_OVER";
  }
  return "UNSPECIFIED";
}

// The change log's summary of replacing `before` by `after`: for an
// observation, what a reader of the figures wants to know (old and new
// value, status, the reason); nothing for other types (the etags say it).
template <typename T>
std::string ChangeSummary(const T&, const T&, std::string_view) {
  return "";
}
std::string ChangeSummary(const domain::Observation& before,
                          const domain::Observation& after,
                          std::string_view reason) {
  std::vector<std::string> parts;
  if (before.value != after.value) {
    parts.push_back(absl::StrCat("value ", before.value, " -> ", after.value));
  }
  if (before.status != StoredStatus(after.status)) {
    parts.push_back(
        absl::StrCat("status ", AsAbsl(StatusWord(before.status)), " -> ",
                     AsAbsl(StatusWord(StoredStatus(after.status)))));
  }
  if (before.source_note != after.source_note) {
    parts.push_back("source_note changed");
  }
  if (!reason.empty())
    parts.push_back(absl::StrCat("reason: ", AsAbsl(reason)));
  return absl::StrJoin(parts, "; ");
}

// Children counted before a delete without force.
struct ChildCount {
  int64_t count;
  std::string_view singular;
  std::string_view plural;
};

absl::StatusOr<int64_t> Count(SqlTransaction& tx, std::string_view sql,
                              std::string_view name) {
  KPI_ASSIGN_OR_RETURN(std::vector<SqlRow> rows, tx.Query(sql, {Text(name)}));
  return rows.empty() ? 0 : rows[0].Int(0);
}

struct ChildQuery {
  std::string_view sql;
  std::string_view singular;
  std::string_view plural;
};

absl::Span<const ChildQuery> ChildQueries(ResourceType type) {
  static constexpr ChildQuery kOfStrategy[] = {
      {"SELECT COUNT(*) FROM goals WHERE parent = $1", "goal", "goals"},
      {"SELECT COUNT(*) FROM measures WHERE parent = $1", "measure",
       "measures"},
      {"SELECT COUNT(*) FROM kpis WHERE parent = $1", "KPI", "KPIs"}};
  static constexpr ChildQuery kOfGoal[] = {
      {"SELECT COUNT(*) FROM measures WHERE goal = $1", "measure", "measures"}};
  static constexpr ChildQuery kOfMeasure[] = {
      {"SELECT COUNT(*) FROM measures WHERE parent_measure = $1", "sub-measure",
       "sub-measures"},
      {"SELECT COUNT(*) FROM kpis WHERE measure = $1", "KPI", "KPIs"},
      {"SELECT COUNT(*) FROM evaluations WHERE parent = $1", "evaluation",
       "evaluations"}};
  static constexpr ChildQuery kOfKpi[] = {
      {"SELECT COUNT(*) FROM observations WHERE parent = $1", "observation",
       "observations"}};
  switch (type) {
    case ResourceType::kStrategy:
      return kOfStrategy;
    case ResourceType::kGoal:
      return kOfGoal;
    case ResourceType::kMeasure:
      return kOfMeasure;
    case ResourceType::kKpi:
      return kOfKpi;
    default:
      return {};
  }
}

absl::StatusOr<std::vector<ChildCount>> CountChildren(SqlTransaction& tx,
                                                      ResourceType type,
                                                      std::string_view name) {
  std::vector<ChildCount> out;
  for (const ChildQuery& q : ChildQueries(type)) {
    KPI_ASSIGN_OR_RETURN(int64_t n, Count(tx, q.sql, name));
    if (n > 0) out.push_back({n, q.singular, q.plural});
  }
  return out;
}

std::string DescribeCounts(const std::vector<ChildCount>& counts) {
  std::vector<std::string> parts;
  for (const ChildCount& c : counts) {
    parts.push_back(absl::StrCat(c.count, " ",
                                 AsAbsl(c.count == 1 ? c.singular : c.plural)));
  }
  if (parts.size() <= 1) return absl::StrJoin(parts, "");
  const std::string last = parts.back();
  parts.pop_back();
  return absl::StrCat(absl::StrJoin(parts, ", "), " and ", last);
}

// ---------------------------------------------------------------------------
// Generic operations inside a transaction.

template <typename T>
absl::StatusOr<std::vector<T>> SelectWithoutDetails(
    SqlTransaction& tx, std::string_view where, const Params& params,
    std::string_view order = "name", int limit = 0) {
  std::string sql = absl::StrCat("SELECT ", SelectList<T>(), " FROM ",
                                 AsAbsl(TableOf(Traits<T>::kType)), " WHERE ",
                                 AsAbsl(where), " ORDER BY ", AsAbsl(order));
  if (limit > 0) absl::StrAppend(&sql, " LIMIT ", limit);
  KPI_ASSIGN_OR_RETURN(std::vector<SqlRow> rows, tx.Query(sql, params));
  std::vector<T> out;
  out.reserve(rows.size());
  for (const SqlRow& row : rows) out.push_back(Traits<T>::FromRow(row));
  return out;
}

template <typename T>
absl::StatusOr<std::vector<T>> Select(SqlTransaction& tx,
                                      std::string_view where,
                                      const Params& params,
                                      std::string_view order = "name") {
  KPI_ASSIGN_OR_RETURN(std::vector<T> items,
                       SelectWithoutDetails<T>(tx, where, params, order));
  KPI_RETURN_IF_ERROR(LoadDetails(tx, items));
  return items;
}

template <typename T>
absl::StatusOr<std::optional<T>> SelectOne(SqlTransaction& tx,
                                           std::string_view name) {
  KPI_ASSIGN_OR_RETURN(std::vector<T> items,
                       Select<T>(tx, "name = $1", {Text(name)}));
  if (items.empty()) return std::nullopt;
  return std::move(items.front());
}

template <typename T>
absl::Status Insert(const Write& w, const T& item, std::string_view parent) {
  std::vector<std::string_view> columns = {"name"};
  Params params = {Text(item.name)};
  if (Traits<T>::kHasParent) {
    columns.push_back("parent");
    params.push_back(Text(parent));
  }
  for (std::string_view c : Traits<T>::kColumns) columns.push_back(c);
  for (SqlValue& v : Traits<T>::Values(item)) params.push_back(std::move(v));
  columns.insert(columns.end(), {"revision", "create_time", "update_time"});
  params.insert(params.end(), {w.revision, w.now, w.now});
  KPI_RETURN_IF_ERROR(
      w.tx.Exec(absl::StrCat("INSERT INTO ", AsAbsl(TableOf(Traits<T>::kType)),
                             " (", JoinViews(columns, ", "), ") VALUES (",
                             Placeholders(1, params.size()), ")"),
                params)
          .status());
  return SaveDetails(w, item);
}

template <typename T>
absl::Status UpdateRow(const Write& w, const T& item) {
  Params params = {Text(item.name)};
  std::vector<std::string> sets;
  for (std::string_view c : Traits<T>::kColumns) {
    sets.push_back(absl::StrCat(AsAbsl(c), " = $", sets.size() + 2));
  }
  for (SqlValue& v : Traits<T>::Values(item)) params.push_back(std::move(v));
  sets.push_back(absl::StrCat("revision = $", params.size() + 1));
  sets.push_back(absl::StrCat("update_time = $", params.size() + 2));
  params.insert(params.end(), {w.revision, w.now});
  KPI_RETURN_IF_ERROR(
      w.tx.Exec(absl::StrCat("UPDATE ", AsAbsl(TableOf(Traits<T>::kType)),
                             " SET ", absl::StrJoin(sets, ", "),
                             " WHERE name = $1"),
                params)
          .status());
  return SaveDetails(w, item);
}

// The first fall of the running total `kpi` as the transaction sees it
// (domain::FindRunningTotalFalls) for which `field_of` names a field, as
// domain::RunningTotalFallError at that field; OK when the KPI does not
// exist, is not a running total, or `field_of` returns "" for every fall (a
// fall the write did not touch, kept from a store written before falls were
// refused). Checked inside the write's transaction, after the write, so
// that writers of neighbouring years cannot make a fall together.
absl::Status CheckRunningTotal(
    SqlTransaction& tx, std::string_view kpi,
    const std::function<std::string(const domain::Observation& earlier,
                                    const domain::Observation& later)>&
        field_of) {
  KPI_ASSIGN_OR_RETURN(std::optional<domain::Kpi> k,
                       SelectOne<domain::Kpi>(tx, kpi));
  if (!k.has_value() || k->kind != domain::KpiKind::kRunningTotal) {
    return absl::OkStatus();
  }
  KPI_ASSIGN_OR_RETURN(
      std::vector<domain::Observation> series,
      SelectWithoutDetails<domain::Observation>(
          tx, "parent = $1", {Text(kpi)}, "fiscal_year, first_fiscal_year"));
  for (const domain::RunningTotalFall& fall :
       domain::FindRunningTotalFalls(*k, series)) {
    const domain::Observation& earlier = series[fall.earlier];
    const domain::Observation& later = series[fall.later];
    const std::string field = field_of(earlier, later);
    if (!field.empty()) {
      return domain::RunningTotalFallError(*k, earlier, later, field);
    }
  }
  return absl::OkStatus();
}

// After Create* or Update* of `item` (`before` its stored state, null for a
// create): a running total that the write made fall.
template <typename T>
absl::Status CheckNoFall(SqlTransaction&, const T*, const T&, const ParsedName&,
                         std::string_view) {
  return absl::OkStatus();
}
absl::Status CheckNoFall(SqlTransaction& tx, const domain::Observation*,
                         const domain::Observation& o, const ParsedName& name,
                         std::string_view prefix) {
  const std::string field = absl::StrCat(AsAbsl(prefix), ".value");
  return CheckRunningTotal(
      tx, name.parent,
      [&](const domain::Observation& a, const domain::Observation& b) {
        return a.name == o.name || b.name == o.name ? field : "";
      });
}
absl::Status CheckNoFall(SqlTransaction& tx, const domain::Kpi* before,
                         const domain::Kpi& k, const ParsedName&,
                         std::string_view prefix) {
  // A new KPI has no observations; one that was a running total already
  // keeps the falls it had (see CheckRunningTotal).
  if (before == nullptr || before->kind == domain::KpiKind::kRunningTotal) {
    return absl::OkStatus();
  }
  const std::string field = absl::StrCat(AsAbsl(prefix), ".kind");
  return CheckRunningTotal(
      tx, k.name, [&](const domain::Observation&, const domain::Observation&) {
        return field;
      });
}

// Creates `item` or, when its name exists, replaces it (an import).
template <typename T>
absl::Status ImportOne(const Write& w, const T& item, std::string_view prefix,
                       ImportResult& result) {
  KPI_ASSIGN_OR_RETURN(
      ParsedName parsed,
      domain::ParseName(item.name, Traits<T>::kType,
                        absl::StrCat(AsAbsl(prefix), ".name")));
  KPI_RETURN_IF_ERROR(CheckValues(item, prefix));
  if (Traits<T>::kHasParent) {
    KPI_ASSIGN_OR_RETURN(bool parent_exists,
                         Exists(w.tx, Traits<T>::kParentType, parsed.parent));
    if (!parent_exists) {
      return absl::FailedPreconditionError(absl::StrFormat(
          "%s.name: the parent %s %s is neither in the dataset nor in the "
          "store",
          AsAbsl(prefix), AsAbsl(domain::TypeSingular(Traits<T>::kParentType)),
          parsed.parent));
    }
  }
  KPI_RETURN_IF_ERROR(CheckReferences(w.tx, item, parsed, prefix));
  KPI_ASSIGN_OR_RETURN(std::optional<T> existing,
                       SelectOne<T>(w.tx, item.name));
  const std::string etag_after = absl::StrCat(w.revision);
  if (existing.has_value()) {
    if (!item.meta.etag.empty() && item.meta.etag != existing->meta.etag) {
      return ImportEtagStale(prefix, item.name, item.meta.etag);
    }
    KPI_RETURN_IF_ERROR(RecordHistory(w, *existing, item, "import"));
    KPI_RETURN_IF_ERROR(UpdateRow(w, item));
    ++result.replaced_count;
    const std::string changed = ChangeSummary(*existing, item, "");
    return LogChange(
        w, "ImportDataset", item.name, existing->meta.etag, etag_after,
        changed.empty() ? "replaced" : absl::StrCat("replaced: ", changed));
  }
  KPI_RETURN_IF_ERROR(Insert(w, item, parsed.parent));
  ++result.created_count;
  return LogChange(w, "ImportDataset", item.name, "", etag_after, "created");
}

template <typename T>
absl::Status ImportAll(const Write& w, const std::vector<T>& items,
                       ImportResult& result) {
  for (size_t i = 0; i < items.size(); ++i) {
    KPI_RETURN_IF_ERROR(ImportOne(
        w, items[i],
        absl::StrCat(AsAbsl(Traits<T>::kDatasetField), "[", i, "]"), result));
  }
  return absl::OkStatus();
}

// After an import: a running total that falls between two of its
// observations of which the dataset holds one (blamed on its value, the
// later one's when both), or anywhere in a KPI the import made a running
// total of (`became_running_total`: name to index in dataset.kpis; blamed on
// its kind).
absl::Status CheckImportedRunningTotals(
    SqlTransaction& tx, const domain::Dataset& dataset,
    const absl::flat_hash_map<std::string, size_t>& became_running_total) {
  absl::flat_hash_map<std::string, size_t> observation_index;
  std::vector<std::string> kpis;  // in the order the dataset names them
  absl::flat_hash_map<std::string, bool> seen;
  auto add_kpi = [&](std::string name) {
    if (seen.emplace(name, true).second) kpis.push_back(std::move(name));
  };
  for (const domain::Kpi& k : dataset.kpis) {
    if (became_running_total.contains(k.name)) add_kpi(k.name);
  }
  for (size_t i = 0; i < dataset.observations.size(); ++i) {
    const domain::Observation& o = dataset.observations[i];
    observation_index.emplace(o.name, i);
    absl::StatusOr<ParsedName> parsed =
        domain::ParseName(o.name, ResourceType::kObservation, "");
    if (parsed.ok()) add_kpi(parsed->parent);
  }
  for (const std::string& kpi : kpis) {
    const auto became = became_running_total.find(kpi);
    KPI_RETURN_IF_ERROR(CheckRunningTotal(
        tx, kpi,
        [&](const domain::Observation& earlier,
            const domain::Observation& later) -> std::string {
          for (const domain::Observation* o : {&later, &earlier}) {
            if (auto it = observation_index.find(o->name);
                it != observation_index.end()) {
              return absl::StrCat("observations[", it->second, "].value");
            }
          }
          if (became != became_running_total.end()) {
            return absl::StrCat("kpis[", became->second, "].kind");
          }
          return "";
        }));
  }
  return absl::OkStatus();
}

// Measures of a dataset in an order where a parent measure comes before its
// sub-measures. FAILED_PRECONDITION when parents form a cycle.
absl::StatusOr<std::vector<size_t>> MeasureOrder(
    const std::vector<domain::Measure>& measures) {
  absl::flat_hash_map<std::string, size_t> index;
  for (size_t i = 0; i < measures.size(); ++i) index[measures[i].name] = i;
  enum State { kNew, kVisiting, kDone };
  std::vector<State> state(measures.size(), kNew);
  std::vector<size_t> order;
  for (size_t start = 0; start < measures.size(); ++start) {
    // Walk up from `start` to a placed measure or one whose parent is not
    // in the dataset, then place the chain top-down. Only the current chain
    // is kVisiting, so meeting one again is a cycle.
    std::vector<size_t> chain;
    for (size_t i = start; state[i] != kDone;) {
      if (state[i] == kVisiting) {
        return absl::FailedPreconditionError(absl::StrFormat(
            "measures[%d].parent: the parents of %s form a cycle", i,
            measures[i].name));
      }
      state[i] = kVisiting;
      chain.push_back(i);
      auto it = index.find(measures[i].parent);
      if (measures[i].parent.empty() || it == index.end()) break;
      i = it->second;
    }
    for (auto it = chain.rbegin(); it != chain.rend(); ++it) {
      state[*it] = kDone;
      order.push_back(*it);
    }
  }
  return order;
}

// The SQL of one filter condition, its value the parameter $`param`. Only
// the names of fields and operators (from filter.cc's fixed lists) become
// SQL text; the value is always a parameter.
std::string FilterSql(SqlDialect dialect, ResourceType type,
                      const FilterCondition& cond, size_t param) {
  if (cond.op == FilterOp::kHas) {
    // A substring, compared by characters and case as written (the same in
    // both backends, unlike LIKE, whose case rules differ).
    return absl::StrCat(dialect == SqlDialect::kSqlite ? "instr(" : "strpos(",
                        cond.field, ", $", param, ") > 0");
  }
  const std::string op =
      absl::StrCat(" ", AsAbsl(FilterOpSql(cond.op)), " $", param);
  if (type == ResourceType::kMeasure && cond.field == "parent") {
    return absl::StrCat("COALESCE(parent_measure, '')", op);
  }
  if (type == ResourceType::kKpi && cond.field == "goal") {
    return absl::StrCat("measure IN (SELECT name FROM measures WHERE goal", op,
                        ")");
  }
  if (type == ResourceType::kKpi && cond.field == "status") {
    // The latest observation, as kpictl shows it: the last fiscal year,
    // then the last start. A KPI without observations has no status and
    // matches no condition on it.
    return absl::StrCat(
        "(SELECT o.status FROM observations o WHERE o.parent = kpis.name "
        "ORDER BY o.fiscal_year DESC, o.first_fiscal_year DESC LIMIT 1)",
        op);
  }
  if (type == ResourceType::kKpi && cond.field == "rating") {
    // The latest evaluation of the KPI's measure.
    return absl::StrCat(
        "(SELECT e.rating FROM evaluations e WHERE e.parent = kpis.measure "
        "ORDER BY e.fiscal_year DESC LIMIT 1)",
        op);
  }
  // Every other field is a column of the same name.
  return absl::StrCat(cond.field, op);
}

// ---------------------------------------------------------------------------

class SqlRepository : public Repository {
 public:
  // Several commit watches, so that TryChangeSequence calls on a few
  // threads at once seldom find every one busy (each is held for one
  // PRAGMA, about 3 µs). Under h2load, 4 answered 18,000 to 21,000 hits a
  // second where 1 answered 14,000 to 16,000 (40% of probes found it busy).
  static constexpr size_t kCommitWatches = 4;

  // The page tokens of ListChanges are bound to this collection ID.
  static constexpr std::string_view kChangesCollection = "changes";
  // The longest actor filter: a certificate subject can be long, a token
  // label is at most 128 bytes.
  static constexpr size_t kMaxActorFilterBytes = 1024;

  struct KnownSequence {
    int64_t sequence;
    int64_t data_version;
  };
  struct Watch {
    explicit Watch(std::unique_ptr<SqlCommitWatch> w) : watch(std::move(w)) {}
    absl::Mutex mu;
    const std::unique_ptr<SqlCommitWatch> watch ABSL_PT_GUARDED_BY(mu);
    std::optional<KnownSequence> known ABSL_GUARDED_BY(mu);
  };

  // What every view of one store shares (WithActor).
  struct Store {
    Store(std::unique_ptr<SqlDatabase> d, const base::Clock* c,
          std::vector<std::unique_ptr<Watch>> w, std::string page_token_key)
        : db(std::move(d)),
          clock(c),
          watches(std::move(w)),
          page_tokens(std::move(page_token_key)) {}
    const std::unique_ptr<SqlDatabase> db;
    const base::Clock* const clock;
    // TryChangeSequence's commit watches (none on PostgreSQL), each with
    // the last sequence read and its own data version read just before it.
    // Any pair read that way is valid, so a slow reader may replace a newer
    // pair with its older one: that costs a miss, never a stale answer.
    const std::vector<std::unique_ptr<Watch>> watches;
    std::atomic<size_t> next_watch{0};
    // Keyed with the store's key, read once when the store was opened.
    const PageTokens page_tokens;
  };

  SqlRepository(std::shared_ptr<Store> store, std::string actor)
      : store_(std::move(store)),
        actor_(std::move(actor)),
        db_(store_->db.get()),
        clock_(store_->clock),
        watches_(store_->watches),
        next_watch_(store_->next_watch),
        page_tokens_(store_->page_tokens) {}

  std::unique_ptr<Repository> WithActor(std::string_view actor) override {
    return std::make_unique<SqlRepository>(store_, std::string(actor));
  }

  const PageTokens& page_tokens() const override { return page_tokens_; }

  absl::StatusOr<Page<Change>> ListChanges(
      const ChangeListRequest& request) override {
    KPI_ASSIGN_OR_RETURN(int page_size, EffectivePageSize(request.page_size));
    std::vector<base::FieldViolation> violations;
    if (request.actor.size() > kMaxActorFilterBytes) {
      violations.push_back(
          {"actor",
           absl::StrFormat("%d bytes; accepted: at most %d bytes, the "
                           "label or certificate subject exactly",
                           request.actor.size(), kMaxActorFilterBytes)});
    }
    if (!request.resource.empty()) {
      absl::Status parsed =
          domain::ParseAnyName(request.resource, "resource").status();
      if (!parsed.ok()) {
        violations.push_back({"resource", std::string(parsed.message())});
      }
    }
    if (request.start_time >= request.end_time) {
      violations.push_back({"end_time",
                            "is not after start_time; accepted: a time after "
                            "start_time, or neither for all changes"});
    }
    if (!violations.empty()) {
      return base::InvalidArgumentWithViolations("invalid request:",
                                                 violations);
    }
    // The page token is bound to the filter: lengths keep the parts apart.
    const std::string filter = absl::StrCat(
        request.actor.size(), ":", request.actor, request.resource.size(), ":",
        request.resource, ":", absl::ToUnixNanos(request.start_time), ":",
        absl::ToUnixNanos(request.end_time));
    KPI_ASSIGN_OR_RETURN(std::string after,
                         page_tokens_.Decode(kChangesCollection, "", filter,
                                             request.page_token));
    std::string where = "1 = 1";
    Params params;
    auto param = [&](SqlValue v) {
      params.push_back(std::move(v));
      return absl::StrCat("$", params.size());
    };
    if (!after.empty()) {
      const std::vector<absl::string_view> key = absl::StrSplit(after, ':');
      int64_t sequence = 0, position = 0;
      if (key.size() != 2 || !absl::SimpleAtoi(key[0], &sequence) ||
          !absl::SimpleAtoi(key[1], &position)) {
        return base::InvalidArgumentWithViolations(
            "invalid request:",
            {{"page_token",
              "is not a page token this service issued; "
              "accepted: the next_page_token of the previous "
              "response, unchanged, with the same filter"}});
      }
      absl::StrAppend(&where, " AND (sequence < ", param(sequence),
                      " OR (sequence = ", param(sequence), " AND position < ",
                      param(position), "))");
    }
    if (!request.actor.empty()) {
      absl::StrAppend(&where, " AND actor = ", param(Text(request.actor)));
    }
    if (!request.resource.empty()) {
      // The name itself, or a name under it: names are compared bytewise,
      // and '0' is the byte after '/'.
      absl::StrAppend(
          &where, " AND (resource = ", param(Text(request.resource)),
          " OR (resource >= ", param(absl::StrCat(request.resource, "/")),
          " AND resource < ", param(absl::StrCat(request.resource, "0")), "))");
    }
    if (request.start_time != absl::InfinitePast()) {
      absl::StrAppend(&where, " AND change_time >= ",
                      param(absl::ToUnixNanos(request.start_time)));
    }
    if (request.end_time != absl::InfiniteFuture()) {
      absl::StrAppend(&where, " AND change_time < ",
                      param(absl::ToUnixNanos(request.end_time)));
    }
    const std::string sql = absl::StrCat(
        "SELECT sequence, position, change_time, actor, method, resource, "
        "etag_before, etag_after, summary FROM change_log WHERE ",
        where, " ORDER BY sequence DESC, position DESC LIMIT ", page_size + 1);
    Page<Change> page;
    KPI_RETURN_IF_ERROR(db_->Transact(
        TransactionMode::kRead, [&](SqlTransaction& tx) -> absl::Status {
          page = Page<Change>();
          KPI_ASSIGN_OR_RETURN(std::vector<SqlRow> rows, tx.Query(sql, params));
          for (const SqlRow& row : rows) {
            Cursor c(row);
            Change change;
            change.sequence = c.Int();
            change.position = c.Int32();
            change.time = absl::FromUnixNanos(c.Int());
            change.actor = c.Text();
            change.method = c.Text();
            change.resource = c.Text();
            change.etag_before = c.Text();
            change.etag_after = c.Text();
            change.summary = c.Text();
            page.items.push_back(std::move(change));
          }
          return absl::OkStatus();
        }));
    if (page.items.size() > static_cast<size_t>(page_size)) {
      page.items.resize(page_size);
      const Change& last = page.items.back();
      page.next_page_token =
          page_tokens_.Encode(kChangesCollection, "", filter,
                              absl::StrCat(last.sequence, ":", last.position));
    }
    return page;
  }

  absl::StatusOr<domain::Reference> GetReference(
      std::string_view name) override {
    return Get<domain::Reference>(name);
  }
  absl::StatusOr<Page<domain::Reference>> ListReferences(
      const ListRequest& request) override {
    return List<domain::Reference>(request);
  }
  absl::StatusOr<domain::Reference> CreateReference(
      const domain::Reference& reference) override {
    return Create(reference);
  }
  absl::StatusOr<domain::Reference> UpdateReference(
      const domain::Reference& reference,
      std::string_view expected_etag) override {
    return Update(reference, expected_etag, "");
  }
  absl::Status DeleteReference(std::string_view name,
                               std::string_view expected_etag,
                               bool force) override {
    return Delete<domain::Reference>(name, expected_etag, force);
  }

  absl::StatusOr<domain::Strategy> GetStrategy(std::string_view name) override {
    return Get<domain::Strategy>(name);
  }
  absl::StatusOr<Page<domain::Strategy>> ListStrategies(
      const ListRequest& request) override {
    return List<domain::Strategy>(request);
  }
  absl::StatusOr<domain::Strategy> CreateStrategy(
      const domain::Strategy& strategy) override {
    return Create(strategy);
  }
  absl::StatusOr<domain::Strategy> UpdateStrategy(
      const domain::Strategy& strategy,
      std::string_view expected_etag) override {
    return Update(strategy, expected_etag, "");
  }
  absl::Status DeleteStrategy(std::string_view name,
                              std::string_view expected_etag,
                              bool force) override {
    return Delete<domain::Strategy>(name, expected_etag, force);
  }

  absl::StatusOr<domain::Goal> GetGoal(std::string_view name) override {
    return Get<domain::Goal>(name);
  }
  absl::StatusOr<Page<domain::Goal>> ListGoals(
      const ListRequest& request) override {
    return List<domain::Goal>(request);
  }
  absl::StatusOr<domain::Goal> CreateGoal(const domain::Goal& goal) override {
    return Create(goal);
  }
  absl::StatusOr<domain::Goal> UpdateGoal(
      const domain::Goal& goal, std::string_view expected_etag) override {
    return Update(goal, expected_etag, "");
  }
  absl::Status DeleteGoal(std::string_view name, std::string_view expected_etag,
                          bool force) override {
    return Delete<domain::Goal>(name, expected_etag, force);
  }

  absl::StatusOr<domain::Measure> GetMeasure(std::string_view name) override {
    return Get<domain::Measure>(name);
  }
  absl::StatusOr<Page<domain::Measure>> ListMeasures(
      const ListRequest& request) override {
    return List<domain::Measure>(request);
  }
  absl::StatusOr<domain::Measure> CreateMeasure(
      const domain::Measure& measure) override {
    return Create(measure);
  }
  absl::StatusOr<domain::Measure> UpdateMeasure(
      const domain::Measure& measure, std::string_view expected_etag) override {
    return Update(measure, expected_etag, "");
  }
  absl::Status DeleteMeasure(std::string_view name,
                             std::string_view expected_etag,
                             bool force) override {
    return Delete<domain::Measure>(name, expected_etag, force);
  }

  absl::StatusOr<domain::Kpi> GetKpi(std::string_view name) override {
    return Get<domain::Kpi>(name);
  }
  absl::StatusOr<Page<domain::Kpi>> ListKpis(
      const ListRequest& request) override {
    return List<domain::Kpi>(request);
  }
  absl::StatusOr<domain::Kpi> CreateKpi(const domain::Kpi& kpi) override {
    return Create(kpi);
  }
  absl::StatusOr<domain::Kpi> UpdateKpi(
      const domain::Kpi& kpi, std::string_view expected_etag) override {
    return Update(kpi, expected_etag, "");
  }
  absl::Status DeleteKpi(std::string_view name, std::string_view expected_etag,
                         bool force) override {
    return Delete<domain::Kpi>(name, expected_etag, force);
  }

  absl::StatusOr<domain::Observation> GetObservation(
      std::string_view name) override {
    return Get<domain::Observation>(name);
  }
  absl::StatusOr<Page<domain::Observation>> ListObservations(
      const ListRequest& request) override {
    return List<domain::Observation>(request);
  }
  absl::StatusOr<domain::Observation> CreateObservation(
      const domain::Observation& observation) override {
    return Create(observation);
  }
  absl::StatusOr<domain::Observation> UpdateObservation(
      const domain::Observation& observation, std::string_view expected_etag,
      std::string_view reason) override {
    return Update(observation, expected_etag, reason);
  }
  absl::Status DeleteObservation(std::string_view name,
                                 std::string_view expected_etag,
                                 bool force) override {
    return Delete<domain::Observation>(name, expected_etag, force);
  }

  absl::StatusOr<domain::Evaluation> GetEvaluation(
      std::string_view name) override {
    return Get<domain::Evaluation>(name);
  }
  absl::StatusOr<Page<domain::Evaluation>> ListEvaluations(
      const ListRequest& request) override {
    return List<domain::Evaluation>(request);
  }
  absl::StatusOr<domain::Evaluation> CreateEvaluation(
      const domain::Evaluation& evaluation) override {
    return Create(evaluation);
  }
  absl::StatusOr<domain::Evaluation> UpdateEvaluation(
      const domain::Evaluation& evaluation,
      std::string_view expected_etag) override {
    return Update(evaluation, expected_etag, "");
  }
  absl::Status DeleteEvaluation(std::string_view name,
                                std::string_view expected_etag,
                                bool force) override {
    return Delete<domain::Evaluation>(name, expected_etag, force);
  }

  absl::StatusOr<std::vector<domain::Observation>> AllObservations(
      std::string_view kpi) override {
    KPI_RETURN_IF_ERROR(
        domain::ParseName(kpi, ResourceType::kKpi, "kpi").status());
    std::vector<domain::Observation> out;
    KPI_RETURN_IF_ERROR(db_->Transact(
        TransactionMode::kRead, [&](SqlTransaction& tx) -> absl::Status {
          KPI_ASSIGN_OR_RETURN(bool exists,
                               Exists(tx, ResourceType::kKpi, kpi));
          if (!exists) return NotFound(ResourceType::kKpi, kpi);
          KPI_ASSIGN_OR_RETURN(out,
                               Select<domain::Observation>(
                                   tx, "parent = $1", {Text(kpi)},
                                   "fiscal_year, first_fiscal_year, name"));
          return absl::OkStatus();
        }));
    return out;
  }

  absl::StatusOr<ImportResult> ImportDataset(
      const domain::Dataset& dataset) override {
    KPI_ASSIGN_OR_RETURN(std::optional<ImportResult> result,
                         Import(dataset, /*only_into_empty_store=*/false));
    return *result;
  }

  absl::StatusOr<std::optional<ImportResult>> ImportDatasetIntoEmptyStore(
      const domain::Dataset& dataset) override {
    return Import(dataset, /*only_into_empty_store=*/true);
  }

  absl::StatusOr<ImportResult> ValidateImport(
      const domain::Dataset& dataset) override {
    KPI_ASSIGN_OR_RETURN(std::optional<ImportResult> result,
                         Import(dataset, /*only_into_empty_store=*/false,
                                /*roll_back=*/true));
    return *result;
  }

  // nullopt when only_into_empty_store and the store holds a strategy. With
  // roll_back, the import is done and then rolled back.
  absl::StatusOr<std::optional<ImportResult>> Import(
      const domain::Dataset& dataset, bool only_into_empty_store,
      bool roll_back = false) {
    // What the transaction returns to be rolled back after a whole import.
    const absl::Status kRollBack =
        absl::CancelledError("import rolled back (validate only)");
    KPI_RETURN_IF_ERROR(CheckUniqueNames(dataset));
    KPI_ASSIGN_OR_RETURN(std::vector<size_t> measure_order,
                         MeasureOrder(dataset.measures));
    std::optional<ImportResult> imported;
    const absl::Status done = db_->Transact(
        TransactionMode::kWrite, [&](SqlTransaction& tx) -> absl::Status {
          imported.reset();
          // BeginWrite orders all writers of all processes, so the emptiness
          // seen after it cannot change before the commit.
          KPI_ASSIGN_OR_RETURN(Write w, BeginWrite(tx));
          if (only_into_empty_store) {
            KPI_ASSIGN_OR_RETURN(
                std::vector<SqlRow> rows,
                tx.Query("SELECT name FROM strategies LIMIT 1", {}));
            if (!rows.empty()) return absl::OkStatus();
          }
          // KPIs the import makes running totals of, by index: all their
          // falls count, not only those of the dataset's observations.
          absl::flat_hash_map<std::string, size_t> became_running_total;
          for (size_t i = 0; i < dataset.kpis.size(); ++i) {
            const domain::Kpi& k = dataset.kpis[i];
            if (k.kind != domain::KpiKind::kRunningTotal) continue;
            KPI_ASSIGN_OR_RETURN(std::optional<domain::Kpi> stored,
                                 SelectOne<domain::Kpi>(tx, k.name));
            if (stored.has_value() &&
                stored->kind != domain::KpiKind::kRunningTotal) {
              became_running_total.emplace(k.name, i);
            }
          }
          ImportResult result;
          // Referenced before referencing, so that each check against the
          // store also sees the dataset's earlier items.
          KPI_RETURN_IF_ERROR(ImportAll(w, dataset.references, result));
          KPI_RETURN_IF_ERROR(ImportAll(w, dataset.strategies, result));
          KPI_RETURN_IF_ERROR(ImportAll(w, dataset.goals, result));
          for (size_t i : measure_order) {
            KPI_RETURN_IF_ERROR(ImportOne(
                w, dataset.measures[i],
                absl::StrCat(AsAbsl(Traits<domain::Measure>::kDatasetField),
                             "[", i, "]"),
                result));
          }
          KPI_RETURN_IF_ERROR(ImportAll(w, dataset.kpis, result));
          KPI_RETURN_IF_ERROR(ImportAll(w, dataset.observations, result));
          KPI_RETURN_IF_ERROR(ImportAll(w, dataset.evaluations, result));
          KPI_RETURN_IF_ERROR(
              CheckImportedRunningTotals(tx, dataset, became_running_total));
          imported = result;
          return roll_back ? kRollBack : absl::OkStatus();
        });
    if (!(roll_back && done == kRollBack)) KPI_RETURN_IF_ERROR(done);
    return imported;
  }

  absl::StatusOr<domain::Dataset> ExportDataset(
      std::string_view strategy) override {
    if (!strategy.empty()) {
      KPI_RETURN_IF_ERROR(
          domain::ParseName(strategy, ResourceType::kStrategy, "strategy")
              .status());
    }
    domain::Dataset out;
    KPI_RETURN_IF_ERROR(db_->Transact(
        TransactionMode::kRead, [&](SqlTransaction& tx) -> absl::Status {
          out = domain::Dataset();
          Params p;
          std::string all = "1 = 1";
          std::string by_name = all, by_parent = all, kpi_children = all,
                      measure_children = all, used_references = all;
          if (!strategy.empty()) {
            KPI_ASSIGN_OR_RETURN(bool exists,
                                 Exists(tx, ResourceType::kStrategy, strategy));
            if (!exists) return NotFound(ResourceType::kStrategy, strategy);
            p = {Text(strategy)};
            by_name = "name = $1";
            by_parent = "parent = $1";
            kpi_children =
                "parent IN (SELECT name FROM kpis WHERE parent = $1)";
            measure_children =
                "parent IN (SELECT name FROM measures WHERE parent = $1)";
            used_references =
                "name IN (SELECT target_reference FROM kpis WHERE parent = $1)";
          }
          KPI_ASSIGN_OR_RETURN(out.references, Select<domain::Reference>(
                                                   tx, used_references, p));
          KPI_ASSIGN_OR_RETURN(out.strategies,
                               Select<domain::Strategy>(tx, by_name, p));
          KPI_ASSIGN_OR_RETURN(out.goals,
                               Select<domain::Goal>(tx, by_parent, p));
          KPI_ASSIGN_OR_RETURN(out.measures,
                               Select<domain::Measure>(tx, by_parent, p));
          KPI_ASSIGN_OR_RETURN(out.kpis, Select<domain::Kpi>(tx, by_parent, p));
          KPI_ASSIGN_OR_RETURN(out.observations, Select<domain::Observation>(
                                                     tx, kpi_children, p));
          KPI_ASSIGN_OR_RETURN(out.evaluations, Select<domain::Evaluation>(
                                                    tx, measure_children, p));
          return absl::OkStatus();
        }));
    return out;
  }

  absl::StatusOr<bool> IsEmpty() override {
    bool empty = true;
    KPI_RETURN_IF_ERROR(db_->Transact(
        TransactionMode::kRead, [&](SqlTransaction& tx) -> absl::Status {
          KPI_ASSIGN_OR_RETURN(
              std::vector<SqlRow> rows,
              tx.Query("SELECT name FROM strategies LIMIT 1", {}));
          empty = rows.empty();
          return absl::OkStatus();
        }));
    return empty;
  }

  absl::StatusOr<int64_t> ChangeSequence() override {
    // Each watch's data version is read BEFORE the sequence: a write
    // committed between the two reads changes it after this read, so no
    // pair can vouch for a sequence older than the store's.
    std::array<std::optional<int64_t>, kCommitWatches> versions;
    for (size_t i = 0; i < watches_.size(); ++i) {
      absl::MutexLock lock(&watches_[i]->mu);
      versions[i] = watches_[i]->watch->DataVersion();
    }
    int64_t sequence = 0;
    KPI_RETURN_IF_ERROR(db_->Transact(
        TransactionMode::kRead, [&](SqlTransaction& tx) -> absl::Status {
          KPI_ASSIGN_OR_RETURN(
              std::vector<SqlRow> rows,
              tx.Query("SELECT change_sequence FROM store_state WHERE id = 1",
                       {}));
          sequence = rows.empty() ? 0 : rows[0].Int(0);
          return absl::OkStatus();
        }));
    for (size_t i = 0; i < watches_.size(); ++i) {
      if (!versions[i].has_value()) continue;
      absl::MutexLock lock(&watches_[i]->mu);
      watches_[i]->known = KnownSequence{sequence, *versions[i]};
    }
    return sequence;
  }

  absl::StatusOr<StoredCalibration> AddCalibration(
      const StoredCalibration& calibration, bool activate,
      int64_t expected_active) override {
    if (calibration.version < 1 || calibration.label.empty() ||
        calibration.text.empty()) {
      return absl::InvalidArgumentError(absl::StrFormat(
          "calibration version %d, label \"%s\", %d bytes of text; accepted: "
          "a version from 1, a label and the calibration's text",
          calibration.version, calibration.label, calibration.text.size()));
    }
    StoredCalibration out = calibration;
    KPI_RETURN_IF_ERROR(db_->Transact(
        TransactionMode::kWrite, [&](SqlTransaction& tx) -> absl::Status {
          KPI_ASSIGN_OR_RETURN(Write w, BeginWrite(tx));
          KPI_ASSIGN_OR_RETURN(
              std::vector<SqlRow> taken,
              tx.Query("SELECT version FROM calibrations WHERE version = $1",
                       {calibration.version}));
          if (!taken.empty()) {
            return absl::AbortedError(absl::StrFormat(
                "calibration version %d was stored by another caller "
                "meanwhile; calibrate again",
                calibration.version));
          }
          if (activate) {
            KPI_ASSIGN_OR_RETURN(const int64_t active, ActiveVersion(tx));
            if (active != expected_active) {
              return absl::AbortedError(absl::StrFormat(
                  "the active calibration changed meanwhile (version %d, "
                  "expected %d); calibrate again to compare with it",
                  active, expected_active));
            }
          }
          out.create_time = absl::FromUnixNanos(w.now);
          KPI_RETURN_IF_ERROR(
              tx.Exec("INSERT INTO calibrations (version, label, body, series, "
                      "windows, score, previous_score, previous_label, "
                      "creator, create_time) VALUES ($1, $2, $3, $4, $5, $6, "
                      "$7, $8, $9, $10)",
                      {calibration.version, calibration.label, calibration.text,
                       int64_t{calibration.series}, calibration.windows,
                       calibration.score, calibration.previous_score,
                       calibration.previous_label, calibration.creator, w.now})
                  .status());
          if (activate) {
            KPI_RETURN_IF_ERROR(
                tx.Exec("UPDATE calibration_state SET active_version = $1 "
                        "WHERE id = 1",
                        {calibration.version})
                    .status());
          }
          return absl::OkStatus();
        }));
    return out;
  }

  absl::StatusOr<int64_t> NextCalibrationVersion() override {
    int64_t next = 1;
    KPI_RETURN_IF_ERROR(db_->Transact(
        TransactionMode::kRead, [&](SqlTransaction& tx) -> absl::Status {
          KPI_ASSIGN_OR_RETURN(
              std::vector<SqlRow> rows,
              tx.Query("SELECT COALESCE(MAX(version), 0) FROM calibrations",
                       {}));
          next = (rows.empty() ? 0 : rows[0].Int(0)) + 1;
          return absl::OkStatus();
        }));
    return next;
  }

  absl::StatusOr<int64_t> ActiveCalibrationVersion() override {
    int64_t active = 0;
    KPI_RETURN_IF_ERROR(db_->Transact(
        TransactionMode::kRead, [&](SqlTransaction& tx) -> absl::Status {
          KPI_ASSIGN_OR_RETURN(active, ActiveVersion(tx));
          return absl::OkStatus();
        }));
    return active;
  }

  absl::StatusOr<StoredCalibration> GetCalibration(int64_t version) override {
    StoredCalibration out;
    KPI_RETURN_IF_ERROR(db_->Transact(
        TransactionMode::kRead, [&](SqlTransaction& tx) -> absl::Status {
          KPI_ASSIGN_OR_RETURN(
              std::vector<SqlRow> rows,
              tx.Query("SELECT version, label, body, series, windows, score, "
                       "previous_score, previous_label, creator, create_time "
                       "FROM calibrations WHERE version = $1",
                       {version}));
          if (rows.empty()) {
            return absl::NotFoundError(absl::StrFormat(
                "calibration version %d is not in the store", version));
          }
          const SqlRow& r = rows[0];
          out.version = r.Int(0);
          out.label = r.Text(1);
          out.text = r.Text(2);
          out.series = static_cast<int32_t>(r.Int(3));
          out.windows = r.Int(4);
          out.score = r.Double(5);
          out.previous_score = r.Double(6);
          out.previous_label = r.Text(7);
          out.creator = r.Text(8);
          out.create_time = absl::FromUnixNanos(r.Int(9));
          return absl::OkStatus();
        }));
    return out;
  }

  std::optional<int64_t> TryChangeSequence() override {
    if (watches_.empty()) return std::nullopt;
    // Each call starts at the next watch and takes the first free one, so
    // that concurrent calls rarely find them all busy.
    const size_t first = next_watch_.fetch_add(1, std::memory_order_relaxed);
    for (size_t i = 0; i < watches_.size(); ++i) {
      Watch& w = *watches_[(first + i) % watches_.size()];
      if (!w.mu.TryLock()) continue;
      // Read after the pair was: an unchanged data version means no commit
      // since the one read with the pair, which preceded its sequence.
      std::optional<int64_t> sequence;
      if (w.known.has_value() &&
          w.watch->DataVersion() == w.known->data_version) {
        sequence = w.known->sequence;
      }
      w.mu.Unlock();
      return sequence;
    }
    return std::nullopt;
  }

 private:
  static absl::StatusOr<int64_t> ActiveVersion(SqlTransaction& tx) {
    KPI_ASSIGN_OR_RETURN(
        std::vector<SqlRow> rows,
        tx.Query("SELECT active_version FROM calibration_state WHERE id = 1",
                 {}));
    if (rows.empty()) {
      return absl::DataLossError("the calibration_state row is missing");
    }
    return rows[0].Int(0);
  }

  // Takes the store's write lock and the transaction's revision.
  absl::StatusOr<Write> BeginWrite(SqlTransaction& tx) {
    KPI_RETURN_IF_ERROR(
        tx.Exec("UPDATE store_state SET change_sequence = change_sequence + 1 "
                "WHERE id = 1",
                {})
            .status());
    KPI_ASSIGN_OR_RETURN(
        std::vector<SqlRow> rows,
        tx.Query("SELECT change_sequence FROM store_state WHERE id = 1", {}));
    if (rows.empty()) {
      return absl::DataLossError("the store_state row is missing");
    }
    return Write{tx, rows[0].Int(0), absl::ToUnixNanos(clock_->Now()), actor_};
  }

  template <typename T>
  absl::StatusOr<T> Get(std::string_view name) {
    KPI_RETURN_IF_ERROR(
        domain::ParseName(name, Traits<T>::kType, "name").status());
    T out;
    KPI_RETURN_IF_ERROR(db_->Transact(
        TransactionMode::kRead, [&](SqlTransaction& tx) -> absl::Status {
          KPI_ASSIGN_OR_RETURN(std::optional<T> found, SelectOne<T>(tx, name));
          if (!found.has_value()) return NotFound(Traits<T>::kType, name);
          out = *std::move(found);
          return absl::OkStatus();
        }));
    return out;
  }

  template <typename T>
  absl::StatusOr<Page<T>> List(const ListRequest& request) {
    constexpr ResourceType kType = Traits<T>::kType;
    KPI_ASSIGN_OR_RETURN(int page_size, EffectivePageSize(request.page_size));
    if (!Traits<T>::kHasParent && !request.parent.empty()) {
      return absl::InvalidArgumentError(absl::StrFormat(
          "parent: \"%s\" given, but %s are top-level; accepted: empty",
          request.parent, AsAbsl(domain::CollectionId(kType))));
    }
    domain::ListParent parent;
    if (Traits<T>::kHasParent) {
      KPI_ASSIGN_OR_RETURN(
          parent, domain::ParseListParent(request.parent,
                                          Traits<T>::kParentType, "parent"));
    }
    KPI_ASSIGN_OR_RETURN(std::vector<FilterCondition> conditions,
                         ParseFilter(kType, request.filter, request.parent));
    KPI_ASSIGN_OR_RETURN(
        std::string after,
        page_tokens_.Decode(kType, request.parent, request.filter,
                            request.page_token));
    std::string where = "name > $1";
    Params params = {after};
    if (Traits<T>::kHasParent && parent.wildcard) {
      // AIP-159: "-" for every parent of that type.
      absl::StrAppend(&where, " AND parent LIKE $2");
      params.push_back(parent.like_pattern);
    } else if (Traits<T>::kHasParent) {
      absl::StrAppend(&where, " AND parent = $2");
      params.push_back(request.parent);
    }
    for (const FilterCondition& c : conditions) {
      absl::StrAppend(&where, " AND ",
                      FilterSql(db_->dialect(), kType, c, params.size() + 1));
      params.push_back(
          std::visit([](const auto& v) { return SqlValue(v); }, c.value));
    }
    Page<T> page;
    KPI_RETURN_IF_ERROR(db_->Transact(
        TransactionMode::kRead, [&](SqlTransaction& tx) -> absl::Status {
          page = Page<T>();
          if (Traits<T>::kHasParent && !parent.wildcard) {
            KPI_ASSIGN_OR_RETURN(bool exists, Exists(tx, Traits<T>::kParentType,
                                                     request.parent));
            if (!exists) {
              return absl::NotFoundError(absl::StrFormat(
                  "parent: %s %s does not exist",
                  AsAbsl(domain::TypeSingular(Traits<T>::kParentType)),
                  request.parent));
            }
          } else if (Traits<T>::kHasParent && !parent.fixed_ancestor.empty()) {
            // "strategies/s/measures/-": s must exist.
            KPI_ASSIGN_OR_RETURN(
                domain::ParsedName ancestor,
                domain::ParseAnyName(parent.fixed_ancestor, "parent"));
            KPI_ASSIGN_OR_RETURN(
                bool exists, Exists(tx, ancestor.type, parent.fixed_ancestor));
            if (!exists) {
              return absl::NotFoundError(
                  absl::StrFormat("parent: %s %s does not exist",
                                  AsAbsl(domain::TypeSingular(ancestor.type)),
                                  parent.fixed_ancestor));
            }
          }
          KPI_ASSIGN_OR_RETURN(
              page.items, SelectWithoutDetails<T>(tx, where, params, "name",
                                                  page_size + 1));
          if (page.items.size() > static_cast<size_t>(page_size)) {
            page.items.resize(page_size);
            page.next_page_token = page_tokens_.Encode(
                kType, request.parent, request.filter, page.items.back().name);
          }
          return LoadDetails(tx, page.items);
        }));
    return page;
  }

  template <typename T>
  absl::StatusOr<T> Create(const T& item) {
    const std::string_view prefix = Singular<T>();
    KPI_ASSIGN_OR_RETURN(
        ParsedName parsed,
        domain::ParseName(item.name, Traits<T>::kType,
                          absl::StrCat(AsAbsl(prefix), ".name")));
    KPI_RETURN_IF_ERROR(CheckValues(item, prefix));
    T out;
    KPI_RETURN_IF_ERROR(db_->Transact(
        TransactionMode::kWrite, [&](SqlTransaction& tx) -> absl::Status {
          KPI_ASSIGN_OR_RETURN(Write w, BeginWrite(tx));
          if (Traits<T>::kHasParent) {
            KPI_ASSIGN_OR_RETURN(
                bool parent_exists,
                Exists(tx, Traits<T>::kParentType, parsed.parent));
            if (!parent_exists) {
              return absl::NotFoundError(absl::StrFormat(
                  "%s.name: the parent %s %s does not exist; create it first",
                  AsAbsl(prefix),
                  AsAbsl(domain::TypeSingular(Traits<T>::kParentType)),
                  parsed.parent));
            }
          }
          KPI_ASSIGN_OR_RETURN(bool exists,
                               Exists(tx, Traits<T>::kType, item.name));
          if (exists) {
            return absl::AlreadyExistsError(absl::StrFormat(
                "%s %s already exists", AsAbsl(prefix), item.name));
          }
          KPI_RETURN_IF_ERROR(CheckReferences(tx, item, parsed, prefix));
          KPI_RETURN_IF_ERROR(Insert(w, item, parsed.parent));
          KPI_RETURN_IF_ERROR(CheckNoFall(tx, static_cast<const T*>(nullptr),
                                          item, parsed, prefix));
          KPI_ASSIGN_OR_RETURN(std::optional<T> stored,
                               SelectOne<T>(tx, item.name));
          if (!stored.has_value()) return NotFound(Traits<T>::kType, item.name);
          out = *std::move(stored);
          return LogChange(
              w, absl::StrCat("Create", AsAbsl(MethodNoun(Traits<T>::kType))),
              item.name, "", out.meta.etag, "");
        }));
    return out;
  }

  template <typename T>
  absl::StatusOr<T> Update(const T& item, std::string_view expected_etag,
                           std::string_view reason) {
    const std::string_view prefix = Singular<T>();
    KPI_ASSIGN_OR_RETURN(
        ParsedName parsed,
        domain::ParseName(item.name, Traits<T>::kType,
                          absl::StrCat(AsAbsl(prefix), ".name")));
    KPI_RETURN_IF_ERROR(CheckValues(item, prefix));
    T out;
    KPI_RETURN_IF_ERROR(db_->Transact(
        TransactionMode::kWrite, [&](SqlTransaction& tx) -> absl::Status {
          KPI_ASSIGN_OR_RETURN(Write w, BeginWrite(tx));
          KPI_ASSIGN_OR_RETURN(std::optional<T> existing,
                               SelectOne<T>(tx, item.name));
          if (!existing.has_value()) {
            return NotFound(Traits<T>::kType, item.name);
          }
          KPI_RETURN_IF_ERROR(
              CheckEtag(item.name, existing->meta, expected_etag));
          KPI_RETURN_IF_ERROR(CheckReferences(tx, item, parsed, prefix));
          KPI_RETURN_IF_ERROR(RecordHistory(w, *existing, item, reason));
          KPI_RETURN_IF_ERROR(UpdateRow(w, item));
          KPI_RETURN_IF_ERROR(
              CheckNoFall(tx, &*existing, item, parsed, prefix));
          KPI_ASSIGN_OR_RETURN(std::optional<T> stored,
                               SelectOne<T>(tx, item.name));
          if (!stored.has_value()) return NotFound(Traits<T>::kType, item.name);
          out = *std::move(stored);
          return LogChange(
              w, absl::StrCat("Update", AsAbsl(MethodNoun(Traits<T>::kType))),
              item.name, existing->meta.etag, out.meta.etag,
              ChangeSummary(*existing, item, reason));
        }));
    return out;
  }

  template <typename T>
  absl::Status Delete(std::string_view name, std::string_view expected_etag,
                      bool force) {
    constexpr ResourceType kType = Traits<T>::kType;
    KPI_RETURN_IF_ERROR(domain::ParseName(name, kType, "name").status());
    return db_->Transact(
        TransactionMode::kWrite, [&](SqlTransaction& tx) -> absl::Status {
          KPI_ASSIGN_OR_RETURN(const Write w, BeginWrite(tx));
          KPI_ASSIGN_OR_RETURN(std::optional<T> existing,
                               SelectOne<T>(tx, name));
          if (!existing.has_value()) return NotFound(kType, name);
          KPI_RETURN_IF_ERROR(CheckEtag(name, existing->meta, expected_etag));
          if (kType == ResourceType::kReference) {
            // KPIs that use a reference are not its children: deleting them
            // with it would lose unrelated data, so force does not apply.
            KPI_ASSIGN_OR_RETURN(
                int64_t users,
                Count(tx,
                      "SELECT COUNT(*) FROM kpis WHERE target_reference = $1",
                      name));
            if (users > 0) {
              return absl::FailedPreconditionError(absl::StrFormat(
                  "reference %s is the target of %d KPI%s; change their "
                  "targets first (force does not delete KPIs that use a "
                  "reference)",
                  AsAbsl(name), users, users == 1 ? "" : "s"));
            }
          }
          KPI_ASSIGN_OR_RETURN(std::vector<ChildCount> children,
                               CountChildren(tx, kType, name));
          if (!children.empty() && !force) {
            return absl::FailedPreconditionError(absl::StrFormat(
                "%s %s has %s; delete them first, or set force=true to delete "
                "it together with all its children",
                AsAbsl(domain::TypeSingular(kType)), AsAbsl(name),
                DescribeCounts(children)));
          }
          // Children go through ON DELETE CASCADE.
          KPI_RETURN_IF_ERROR(
              tx.Exec(absl::StrCat("DELETE FROM ", AsAbsl(TableOf(kType)),
                                   " WHERE name = $1"),
                      {Text(name)})
                  .status());
          return LogChange(
              w, absl::StrCat("Delete", AsAbsl(MethodNoun(kType))), name,
              existing->meta.etag, "",
              children.empty()
                  ? ""
                  : absl::StrCat("with ", DescribeCounts(children)));
        });
  }

  static absl::Status CheckUniqueNames(const domain::Dataset& d) {
    absl::flat_hash_map<std::string, std::string> seen;
    absl::Status status;
    auto check = [&](const auto& items, std::string_view field) {
      for (size_t i = 0; i < items.size() && status.ok(); ++i) {
        std::string where = absl::StrCat(AsAbsl(field), "[", i, "]");
        auto [it, inserted] = seen.emplace(items[i].name, where);
        if (!inserted) {
          status = absl::InvalidArgumentError(absl::StrFormat(
              "%s.name: %s is also %s; accepted: each resource once", where,
              items[i].name, it->second));
        }
      }
    };
    check(d.references, "references");
    check(d.strategies, "strategies");
    check(d.goals, "goals");
    check(d.measures, "measures");
    check(d.kpis, "kpis");
    check(d.observations, "observations");
    check(d.evaluations, "evaluations");
    return status;
  }

  const std::shared_ptr<Store> store_;
  const std::string actor_;
  // store_'s parts, by their short names.
  SqlDatabase* const db_;
  const base::Clock* const clock_;
  const std::vector<std::unique_ptr<Watch>>& watches_;
  std::atomic<size_t>& next_watch_;
  const PageTokens& page_tokens_;
};

// The store's page token key: the one stored, or a new random one stored
// now. Replicas opening a new store together each draw a key, but the first
// insert wins (ON CONFLICT DO NOTHING, which waits for a concurrent insert
// of the row to commit) and all of them read that one back.
absl::StatusOr<std::string> LoadPageTokenKey(SqlDatabase& db,
                                             const base::Clock& clock) {
  KPI_ASSIGN_OR_RETURN(const std::string fresh, PageTokens::NewKey());
  std::string hex;
  KPI_RETURN_IF_ERROR(db.Transact(
      TransactionMode::kWrite, [&](SqlTransaction& tx) -> absl::Status {
        KPI_RETURN_IF_ERROR(
            tx.Exec("INSERT INTO page_token_key (id, key_hex, create_time) "
                    "VALUES (1, $1, $2) ON CONFLICT (id) DO NOTHING",
                    {absl::BytesToHexString(fresh),
                     absl::ToUnixNanos(clock.Now())})
                .status());
        KPI_ASSIGN_OR_RETURN(
            std::vector<SqlRow> rows,
            tx.Query("SELECT key_hex FROM page_token_key WHERE id = 1", {}));
        hex = rows.empty() ? "" : rows[0].Text(0);
        return absl::OkStatus();
      }));
  if (hex.size() != 2 * PageTokens::kKeyBytes ||
      hex.find_first_not_of("0123456789abcdef") != std::string::npos) {
    return absl::FailedPreconditionError(absl::StrFormat(
        "the store's page token key (table page_token_key) is not %d "
        "lowercase hexadecimal digits; delete its row to have a new key "
        "made (page tokens handed out before then will be refused)",
        2 * PageTokens::kKeyBytes));
  }
  return absl::HexStringToBytes(hex);
}

}  // namespace

absl::Status ImportEtagStale(std::string_view item, std::string_view name,
                             std::string_view etag) {
  return absl::AbortedError(absl::StrFormat(
      "%s %s: etag %s is stale: the resource changed since that etag was "
      "read, and nothing of the import was written; accepted: its current "
      "etag (export or get it again and reapply the change) or no etag, "
      "which replaces whatever is stored",
      AsAbsl(item), AsAbsl(name), base::QuoteInput(etag)));
}

absl::StatusOr<std::unique_ptr<Repository>> NewSqlRepository(
    std::unique_ptr<SqlDatabase> db, const RepositoryOptions& options) {
  const base::Clock* clock =
      options.clock != nullptr ? options.clock : base::Clock::Real();
  KPI_RETURN_IF_ERROR(ApplyMigrations(*db, *clock));
  KPI_ASSIGN_OR_RETURN(std::string page_token_key,
                       LoadPageTokenKey(*db, *clock));
  std::vector<std::unique_ptr<SqlRepository::Watch>> watches;
  for (size_t i = 0; i < SqlRepository::kCommitWatches; ++i) {
    KPI_ASSIGN_OR_RETURN(std::unique_ptr<SqlCommitWatch> watch,
                         db->NewCommitWatch());
    if (watch == nullptr) break;
    watches.push_back(std::make_unique<SqlRepository::Watch>(std::move(watch)));
  }
  return std::make_unique<SqlRepository>(
      std::make_shared<SqlRepository::Store>(
          std::move(db), clock, std::move(watches), std::move(page_token_key)),
      std::string(kSystemActor));
}

}  // namespace kpi::storage
