#include "tests/storage/test_store.h"

#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <filesystem>
#include <random>
#include <system_error>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/time/civil_time.h"
#include "lib/domain/names.h"
#include "lib/storage/postgres/postgres_database.h"
#include "lib/storage/postgres/scratch_database.h"
#include "lib/storage/sqlite/sqlite_database.h"

namespace kpi::storage::testing {
namespace {

std::string Env(const char* name) {
  const char* value = std::getenv(name);
  return value != nullptr ? value : "";
}

std::string Kind(int v) { return absl::StrCat(v); }

}  // namespace

std::string BackendName(Backend backend) {
  return backend == Backend::kSqlite ? "Sqlite" : "Postgres";
}

bool InCi() { return Env("CI") == "true"; }

std::string ReplaceInToken(const std::string& token, const std::string& from,
                           const std::string& to) {
  std::string raw;
  if (!absl::WebSafeBase64Unescape(token, &raw)) return "";
  const size_t at = raw.find(from);
  if (at == std::string::npos) return "";
  raw.replace(at, from.size(), to);
  return absl::WebSafeBase64Escape(raw);
}

TestStores::~TestStores() {
  for (const auto& [name, url] : databases_) {
    (void)DropScratchDatabase(admin_url(), name);
  }
  for (const std::string& dir : directories_) {
    std::error_code ignored;
    std::filesystem::remove_all(dir, ignored);
  }
}

std::string TestStores::admin_url() const {
  return Env("KPI_TEST_POSTGRES_URL");
}

std::string TestStores::Unavailable() const {
  if (backend_ == Backend::kPostgres && admin_url().empty()) {
    return "KPI_TEST_POSTGRES_URL is not set: run tests/run-all.sh (it starts "
           "a throwaway PostgreSQL server), or set it to the URL of a server "
           "where this user may create databases";
  }
  return "";
}

absl::StatusOr<std::string> TestStores::NewSpec() {
  if (backend_ == Backend::kSqlite) {
    static std::atomic<int> counter{0};
    std::random_device random;
    const std::filesystem::path dir =
        std::filesystem::temp_directory_path() /
        absl::StrFormat("kpi-storage-test-%d-%d-%08x", getpid(), ++counter,
                        random());
    directories_.push_back(dir.string());
    // A directory that does not exist yet: the store creates it.
    return (dir / "nested" / "kpi.sqlite3").string();
  }
  absl::StatusOr<ScratchDatabase> db = CreateScratchDatabase(admin_url());
  if (!db.ok()) return db.status();
  databases_.emplace_back(db->name, db->url);
  return db->url;
}

std::string TestStores::PostgresDatabaseName(const std::string& spec) const {
  for (const auto& [name, url] : databases_) {
    if (url == spec) return name;
  }
  return "";
}

absl::StatusOr<std::unique_ptr<SqlDatabase>> TestStores::OpenDatabase(
    const std::string& spec) {
  if (backend_ == Backend::kSqlite) return OpenSqliteDatabase(spec, 2);
  return OpenPostgresDatabase(spec, 2);
}

domain::Reference MakeReference(const std::string& id) {
  domain::Reference r;
  r.name = domain::MakeName("", domain::ResourceType::kReference, id);
  r.display_name = "法定雇用率(民間企業) " + id;
  r.english_name = "Statutory employment rate " + id;
  r.unit = "%";
  r.values = {{absl::CivilDay(2018, 4, 1), 2.2},
              {absl::CivilDay(2021, 3, 1), 2.3},
              {absl::CivilDay(2024, 4, 1), 2.5}};
  r.source = "障害者雇用促進法施行令";
  return r;
}

domain::Strategy MakeStrategy(const std::string& id) {
  domain::Strategy s;
  s.name = domain::MakeName("", domain::ResourceType::kStrategy, id);
  s.display_name = "第2期旭川市まち・ひと・しごと創生総合戦略 " + id;
  s.english_name = "Asahikawa strategy " + id;
  s.municipality = "旭川市";
  s.municipality_code = "012041";
  s.first_fiscal_year = 2020;
  s.last_fiscal_year = 2024;
  s.source = "https://www.city.asahikawa.hokkaido.jp/ (2020-03)";
  return s;
}

domain::Goal MakeGoal(const std::string& strategy, const std::string& id,
                      int number) {
  domain::Goal g;
  g.name = domain::MakeName("strategies/" + strategy,
                            domain::ResourceType::kGoal, id);
  g.number = number;
  g.display_name = absl::StrCat("基本目標", number);
  g.english_name = absl::StrCat("Basic goal ", number);
  return g;
}

domain::Measure MakeMeasure(const std::string& strategy, const std::string& id,
                            const std::string& goal_id,
                            const std::string& parent_id) {
  const std::string s = "strategies/" + strategy;
  domain::Measure m;
  m.name = domain::MakeName(s, domain::ResourceType::kMeasure, id);
  m.goal = domain::MakeName(s, domain::ResourceType::kGoal, goal_id);
  if (!parent_id.empty()) {
    m.parent = domain::MakeName(s, domain::ResourceType::kMeasure, parent_id);
  }
  m.code = parent_id.empty() ? "エ" : "エ①";
  m.display_name = "施策 " + id;
  m.english_name = "Measure " + id;
  return m;
}

domain::Kpi MakeKpi(const std::string& strategy, const std::string& id,
                    const std::string& measure_id, domain::KpiKind kind) {
  const std::string s = "strategies/" + strategy;
  domain::Kpi k;
  k.name = domain::MakeName(s, domain::ResourceType::kKpi, id);
  k.measure = domain::MakeName(s, domain::ResourceType::kMeasure, measure_id);
  k.display_name = "市民一人当たりの路線バスの年間利用回数 " + id;
  k.english_name = "Bus rides per capita " + id;
  k.unit = "回";
  k.kind = kind;
  k.direction = domain::Direction::kIncrease;
  k.value_domain = domain::ValueDomain::kNonNegative;
  k.baseline = domain::Baseline{1669.5, 2018, 2016, domain::Aggregation::kMean,
                                "1,669 (平成28-30年度の平均値)"};
  k.target.value = 1800.25;
  k.target.fiscal_year = 2024;
  k.target.label = "1,800";
  k.period_first_fiscal_year = kind == domain::KpiKind::kPeriodSum ? 2020 : 0;
  k.measurement_note = "各年度PV数";
  k.shock_fiscal_years = {2020, 2021};
  k.ordinal = 1;
  return k;
}

domain::Observation MakeObservation(const std::string& kpi, int fiscal_year,
                                    double value) {
  domain::Observation o;
  o.name = domain::MakeName(kpi, domain::ResourceType::kObservation,
                            domain::FiscalYearId(0, fiscal_year));
  o.fiscal_year = fiscal_year;
  o.value = value;
  o.status = domain::ObservationStatus::kFinal;
  o.source_note = absl::StrCat(fiscal_year, "年度実績");
  o.reported_fiscal_year = fiscal_year + 1;
  return o;
}

domain::Evaluation MakeEvaluation(const std::string& measure, int fiscal_year,
                                  domain::Rating rating) {
  domain::Evaluation e;
  e.name = domain::MakeName(measure, domain::ResourceType::kEvaluation,
                            domain::FiscalYearId(0, fiscal_year));
  e.fiscal_year = fiscal_year;
  e.rating = rating;
  e.kpi_assessment = "目標に向けて順調に推移している";
  e.outlook = "引き続き取組を推進する";
  e.viewpoint = "成果";
  return e;
}

std::string Content(const domain::Reference& r) {
  std::string values;
  for (const domain::ReferenceValue& v : r.values) {
    absl::StrAppend(&values, absl::FormatCivilTime(v.effective_date), "=",
                    absl::StrFormat("%.17g", v.value), ";");
  }
  return absl::StrJoin(
      {r.name, r.display_name, r.english_name, r.unit, values, r.source}, "\n");
}

std::string Content(const domain::Strategy& s) {
  return absl::StrJoin({s.name, s.display_name, s.english_name, s.municipality,
                        s.municipality_code, Kind(s.first_fiscal_year),
                        Kind(s.last_fiscal_year), s.source},
                       "\n");
}

std::string Content(const domain::Goal& g) {
  return absl::StrJoin({g.name, Kind(g.number), g.display_name, g.english_name},
                       "\n");
}

std::string Content(const domain::Measure& m) {
  return absl::StrJoin(
      {m.name, m.goal, m.parent, m.code, m.display_name, m.english_name}, "\n");
}

std::string Content(const domain::Kpi& k) {
  std::string baseline = "none";
  if (k.baseline.has_value()) {
    baseline = absl::StrFormat(
        "%.17g %d %d %d %s", k.baseline->value, k.baseline->fiscal_year,
        k.baseline->first_fiscal_year,
        static_cast<int>(k.baseline->aggregation), k.baseline->label);
  }
  const std::string target = absl::StrFormat(
      "%s %s %d %s",
      k.target.value.has_value() ? absl::StrFormat("%.17g", *k.target.value)
                                 : "none",
      k.target.reference, k.target.fiscal_year, k.target.label);
  return absl::StrJoin(
      {k.name, k.measure, k.display_name, k.english_name, k.unit,
       Kind(static_cast<int>(k.kind)), Kind(static_cast<int>(k.direction)),
       Kind(static_cast<int>(k.value_domain)), baseline, target,
       Kind(k.period_first_fiscal_year), k.measurement_note,
       absl::StrJoin(k.shock_fiscal_years, ","), Kind(k.ordinal)},
      "\n");
}

std::string Content(const domain::Observation& o) {
  return absl::StrJoin(
      {o.name, Kind(o.fiscal_year), Kind(o.first_fiscal_year),
       Kind(static_cast<int>(o.aggregation)), absl::StrFormat("%.17g", o.value),
       Kind(static_cast<int>(o.status)), o.source_note,
       Kind(o.reported_fiscal_year)},
      "\n");
}

std::string Content(const domain::Evaluation& e) {
  return absl::StrJoin(
      {e.name, Kind(e.fiscal_year), Kind(static_cast<int>(e.rating)),
       e.kpi_assessment, e.outlook, e.viewpoint},
      "\n");
}

std::string History(const domain::Observation& o) {
  std::string out = Content(o);
  for (const domain::ObservationRevision& r : o.revisions) {
    absl::StrAppend(&out, "\nrevision: ", absl::StrFormat("%.17g", r.value),
                    " ", static_cast<int>(r.status), " ", r.source_note, " @",
                    absl::FormatTime(r.revise_time), " ", r.reason);
  }
  return out;
}

std::string Content(const domain::Dataset& d) {
  std::string out;
  auto add = [&out](const auto& items, const char* title) {
    absl::StrAppend(&out, "== ", title, " (", items.size(), ")\n");
    for (const auto& item : items)
      absl::StrAppend(&out, Content(item), "\n--\n");
  };
  add(d.references, "references");
  add(d.strategies, "strategies");
  add(d.goals, "goals");
  add(d.measures, "measures");
  add(d.kpis, "kpis");
  add(d.observations, "observations");
  add(d.evaluations, "evaluations");
  return out;
}

}  // namespace kpi::storage::testing
