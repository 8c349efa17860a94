#include "services/kpictl/commands.h"

#include <algorithm>
#include <fstream>
#include <iostream>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <sstream>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "google/protobuf/util/json_util.h"
#include "google/protobuf/util/time_util.h"
#include "lib/base/status_macros.h"
#include "lib/dataset/encode_text.h"
#include "lib/dataset/observations_csv.h"
#include "lib/dataset/text_encoding.h"
#include "lib/forecast/backtest.h"
#include "lib/forecast/engine.h"
#include "lib/i18n/catalogue.h"
#include "services/convert.h"
#include "services/kpictl/batch.h"
#include "services/kpictl/format.h"

namespace kpi::kpictl {
namespace {

using kpi::v1::KpiService;

// The catalogue speaks std::string_view; Debian's Abseil does not take it.
absl::string_view AsAbsl(std::string_view s) { return {s.data(), s.size()}; }

// ---- Labels -----------------------------------------------------------------

// How values and periods are written for one reader: the language of the
// labels, and the decimals of the KPI's values (FormatDisplay), or -1 for
// FormatValue's four significant digits.
struct Display {
  i18n::Language language = i18n::Language::kEn;
  int decimals = -1;

  std::string Value(double v) const {
    return decimals < 0 ? FormatValue(v) : FormatDisplay(v, decimals);
  }
};

// The display of one KPI's values, at the precision of its own data.
Display DisplayFor(const kpi::v1::Kpi& kpi,
                   const std::vector<kpi::v1::Observation>& observations,
                   i18n::Language language) {
  std::vector<double> written;
  if (kpi.has_baseline()) written.push_back(kpi.baseline().value());
  if (kpi.has_target() && kpi.target().has_value()) {
    written.push_back(kpi.target().value());
  }
  for (const kpi::v1::Observation& o : observations) {
    written.push_back(o.value());
  }
  return Display{language, DisplayDecimals(kpi.unit(), written)};
}

// "113.5 FY2018 (H30)" / "113.5 平成30年度 (FY2018)", with the aggregation
// of a range and a status other than final after it.
std::string ValueInPeriod(const Display& d, double value, int32_t first,
                          int32_t year, kpi::v1::Aggregation aggregation,
                          kpi::v1::ObservationStatus status) {
  std::string out = absl::StrCat(
      d.Value(value), " ", i18n::FiscalPeriodLabel(first, year, d.language));
  if (aggregation != kpi::v1::AGGREGATION_UNSPECIFIED) {
    absl::StrAppend(
        &out, " ",
        AsAbsl(i18n::AggregationLabel(
            static_cast<domain::Aggregation>(aggregation), d.language)));
  }
  if (status == kpi::v1::OBSERVATION_STATUS_PROVISIONAL ||
      status == kpi::v1::OBSERVATION_STATUS_CARRIED_OVER) {
    absl::StrAppend(
        &out, " ",
        AsAbsl(i18n::ObservationStatusLabel(
            static_cast<domain::ObservationStatus>(status), d.language)));
  }
  return out;
}

std::string_view StatusWord(kpi::v1::ObservationStatus status,
                            i18n::Language language) {
  // Unspecified is stored as final.
  return i18n::ObservationStatusLabel(
      status == kpi::v1::OBSERVATION_STATUS_UNSPECIFIED
          ? domain::ObservationStatus::kFinal
          : static_cast<domain::ObservationStatus>(status),
      language);
}

std::string BaselineCell(const kpi::v1::Kpi& kpi, const Display& d) {
  if (!kpi.has_baseline()) return "-";
  const kpi::v1::Baseline& b = kpi.baseline();
  return ValueInPeriod(d, b.value(), b.first_fiscal_year(), b.fiscal_year(),
                       b.aggregation(), kpi::v1::OBSERVATION_STATUS_FINAL);
}

std::string TargetCell(const kpi::v1::Kpi& kpi, const Display& d) {
  if (!kpi.has_target()) return "-";
  const kpi::v1::Target& t = kpi.target();
  std::string value;
  if (t.has_value()) {
    value = d.Value(t.value());
  } else if (!t.label().empty()) {
    value = t.label();
  } else {
    value = t.reference();
  }
  return absl::StrCat(value, " ",
                      i18n::FiscalYearLabel(t.fiscal_year(), d.language));
}

std::string ObservationCell(const kpi::v1::Observation& o, const Display& d) {
  return ValueInPeriod(d, o.value(), o.first_fiscal_year(), o.fiscal_year(),
                       kpi::v1::AGGREGATION_UNSPECIFIED, o.status());
}

// Observations sorted by period end, then start.
void SortByYear(std::vector<kpi::v1::Observation>* observations) {
  std::sort(observations->begin(), observations->end(),
            [](const kpi::v1::Observation& a, const kpi::v1::Observation& b) {
              return std::make_pair(a.fiscal_year(), a.first_fiscal_year()) <
                     std::make_pair(b.fiscal_year(), b.first_fiscal_year());
            });
}

// ---- I/O --------------------------------------------------------------------

absl::StatusOr<std::string> ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return absl::NotFoundError(absl::StrCat("cannot open ", path));
  }
  // Read into a buffer of the file's size: a stream that grows and is then
  // copied out would hold a large file (kpictl import) up to three times.
  std::string bytes;
  in.seekg(0, std::ios::end);
  const std::streamoff size = in.tellg();
  in.seekg(0, std::ios::beg);
  if (size > 0) {
    bytes.resize(static_cast<size_t>(size));
    in.read(bytes.data(), size);
    bytes.resize(static_cast<size_t>(in.gcount()));
  }
  // A pipe or a file that grew: the rest, if any.
  if (in.good() || size <= 0) {
    in.clear();
    std::ostringstream rest;
    rest << in.rdbuf();
    bytes += rest.str();
  }
  if (in.bad()) {
    return absl::DataLossError(absl::StrCat("cannot read ", path));
  }
  return bytes;
}

// Where a command writes its result: --out, or stdout when it is empty or
// "-".
class Output {
 public:
  static absl::StatusOr<Output> Open(const std::string& path,
                                     std::ostream* stdout_stream) {
    Output output;
    if (path.empty() || path == "-") {
      output.stream_ = stdout_stream;
      return output;
    }
    output.path_ = path;
    output.file_ = std::make_unique<std::ofstream>(path, std::ios::binary);
    if (!*output.file_) {
      return absl::PermissionDeniedError(
          absl::StrCat("cannot open ", path, " for writing"));
    }
    output.stream_ = output.file_.get();
    return output;
  }

  std::ostream& stream() { return *stream_; }

  // Flushes; an error names the file when it could not be written.
  absl::Status Close() {
    stream_->flush();
    if (file_ != nullptr) file_->close();
    if (!*stream_) {
      return absl::DataLossError(absl::StrCat(
          "could not write ", path_.empty() ? "the output" : path_));
    }
    return absl::OkStatus();
  }

  bool is_file() const { return file_ != nullptr; }

 private:
  Output() = default;
  std::string path_;
  std::unique_ptr<std::ofstream> file_;
  std::ostream* stream_ = nullptr;
};

template <typename Response, typename Request, typename Method>
absl::StatusOr<Response> Unary(const Rpc& rpc, Method method,
                               const Request& request, absl::string_view name) {
  grpc::ClientContext context;
  SetDeadline(&context, rpc.timeout);
  Response response;
  const grpc::Status status = method(&context, request, &response);
  if (!status.ok()) return FromGrpc(status, name);
  return response;
}

absl::StatusOr<kpi::v1::Kpi> GetKpi(const Rpc& rpc, const std::string& name) {
  kpi::v1::GetKpiRequest request;
  request.set_name(name);
  return Unary<kpi::v1::Kpi>(
      rpc,
      [&](grpc::ClientContext* c, const kpi::v1::GetKpiRequest& r,
          kpi::v1::Kpi* out) { return rpc.kpi->GetKpi(c, r, out); },
      request, "GetKpi");
}

// The encoding a file of `format` is written in: --encoding, or the
// format's default. CSV defaults to UTF-8 with a byte order mark, the only
// form of UTF-8 that Japanese Excel opens without mojibake when a file is
// double-clicked; JSON is UTF-8 alone (RFC 8259); the benchmark format
// stays UTF-8, byte for byte as bench/ reads it.
absl::StatusOr<dataset::TextEncoding> OutputEncoding(const Options& options,
                                                     absl::string_view format) {
  const bool json = format == "json";
  if (options.encoding.empty()) {
    return format == "csv" ? dataset::TextEncoding::kUtf8WithBom
                           : dataset::TextEncoding::kUtf8;
  }
  if (format == "table") {
    return absl::InvalidArgumentError(
        "--encoding applies to files (--format=csv or json); a table is "
        "written in UTF-8 for the terminal");
  }
  KPI_ASSIGN_OR_RETURN(
      dataset::TextEncoding encoding,
      dataset::ParseTextEncoding(options.encoding, "--encoding"));
  if (json && encoding != dataset::TextEncoding::kUtf8) {
    return absl::InvalidArgumentError(absl::StrCat(
        "--encoding=", options.encoding,
        " does not apply to JSON, which is UTF-8 without a byte order mark "
        "(RFC 8259); accepted with --format=json: utf-8"));
  }
  return encoding;
}

// `text` (UTF-8) in `encoding`, with its preamble, for --out or stdout.
absl::StatusOr<std::string> Encoded(const std::string& text,
                                    dataset::TextEncoding encoding) {
  absl::StatusOr<std::string> bytes = dataset::EncodeFile(text, encoding);
  if (!bytes.ok()) {
    return absl::Status(
        bytes.status().code(),
        absl::StrCat(
            "--encoding=", AsAbsl(dataset::TextEncodingFlagValue(encoding)),
            ": ", bytes.status().message()));
  }
  return bytes;
}

absl::Status RequireFormat(const std::string& format,
                           std::initializer_list<absl::string_view> accepted,
                           absl::string_view command) {
  for (absl::string_view a : accepted) {
    if (format == a) return absl::OkStatus();
  }
  return absl::InvalidArgumentError(
      absl::StrCat("--format=", format, " is not accepted by ", command,
                   "; accepted: ", absl::StrJoin(accepted, ", ")));
}

// ---- Projections ------------------------------------------------------------

struct ProjectionRow {
  std::string strategy;
  std::string kpi;  // resource name
  std::string display_name;
  std::string unit;
  int32_t kpi_target_fiscal_year = 0;  // the KPI's own, whatever was asked
  Display display;
  // The latest stored observation (the projection may start from an earlier
  // one when shock years are excluded).
  std::optional<kpi::v1::Observation> latest;
  std::optional<kpi::v1::Projection> projection;
  std::optional<kpi::v1::Projection> alternative;
  absl::Status error;
};

// A row for `kpi` with its latest observation.
absl::StatusOr<ProjectionRow> RowFor(const Rpc& rpc,
                                     const std::string& strategy,
                                     const kpi::v1::Kpi& kpi,
                                     i18n::Language language) {
  ProjectionRow row;
  row.strategy = strategy;
  row.kpi = kpi.name();
  row.display_name = kpi.display_name();
  row.unit = kpi.unit();
  row.kpi_target_fiscal_year = kpi.target().fiscal_year();
  KPI_ASSIGN_OR_RETURN(std::vector<kpi::v1::Observation> observations,
                       ListAllObservations(rpc, kpi.name()));
  SortByYear(&observations);
  if (!observations.empty()) row.latest = observations.back();
  row.display = DisplayFor(kpi, observations, language);
  return row;
}

absl::StatusOr<kpi::v1::ScenarioOptions> ScenarioFromFlags(
    const Options& options) {
  kpi::v1::ScenarioOptions scenario;
  if (options.shock == "include") {
    scenario.set_shock_treatment(kpi::v1::SHOCK_TREATMENT_INCLUDE);
  } else if (options.shock == "exclude") {
    scenario.set_shock_treatment(kpi::v1::SHOCK_TREATMENT_EXCLUDE);
  } else if (options.shock == "blend") {
    scenario.set_shock_treatment(kpi::v1::SHOCK_TREATMENT_BLEND);
  } else if (!options.shock.empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat("--shock=", options.shock,
                     " is not accepted; accepted: include, exclude, blend"));
  }
  return scenario;
}

// The year entry of the projection's target year, if projected.
const kpi::v1::YearProjection* TargetYear(const kpi::v1::Projection& p) {
  if (p.years().empty()) return nullptr;
  const kpi::v1::YearProjection& last = p.years(p.years_size() - 1);
  return last.fiscal_year() == p.target_fiscal_year() ? &last : nullptr;
}

std::string ErrorText(const absl::Status& status) {
  return absl::StrCat(absl::StatusCodeToString(status.code()), ": ",
                      status.message());
}

// A fiscal year in a projection table: ja "令和6年度 (FY2024)",
// en "FY2024 (R6)".
std::string YearCell(int32_t fiscal_year, i18n::Language language) {
  return i18n::FiscalYearLabel(fiscal_year, language);
}

std::string LatestCell(const kpi::v1::Observation& o, const Display& d) {
  return ValueInPeriod(d, o.value(), o.first_fiscal_year(), o.fiscal_year(),
                       o.aggregation(), o.status());
}

// Both shock scenarios' probabilities (or medians without a target),
// recovery first: "26% / 3%"; "-" without shock years.
std::string ScenariosCell(const kpi::v1::Projection& p) {
  const kpi::v1::ScenarioExplanation& sc = p.explanation().scenario();
  if (sc.outcomes_size() != 2) return "-";
  const auto outcome = [&](const kpi::v1::ScenarioOutcome& o) {
    return o.has_attainment_probability()
               ? FormatProbability(o.attainment_probability())
               : FormatValue(o.projected_value());
  };
  return absl::StrCat(outcome(sc.outcomes(0)), " / ", outcome(sc.outcomes(1)));
}

std::string RenderProjectionTable(const std::vector<ProjectionRow>& rows,
                                  i18n::Language language) {
  const bool ja = language == i18n::Language::kJa;
  TextTable table(
      ja ? std::vector<std::string>{"KPI", "名称", "単位", "目標", "最新値",
                                    "予測値", "80%区間", "達成確率",
                                    "シナリオ別 (回復 / ショック込み)",
                                    "進捗区分", "注意", "説明"}
         : std::vector<std::string>{"KPI", "name", "unit", "target", "latest",
                                    "projected", "80% interval", "P(met)",
                                    "scenarios (recovery / shocks as data)",
                                    "status", "warnings", "explanation"},
      {false, false, false, true, true, true, true, true, false, false, false,
       false});
  const char* separator = ja ? "、" : ", ";
  for (const ProjectionRow& row : rows) {
    if (!row.error.ok() || !row.projection.has_value()) {
      std::string message(row.error.message());
      absl::StrReplaceAll({{"\n", " "}}, &message);
      table.AddRow(
          {ShortId(row.kpi), row.display_name, row.unit, "-",
           row.latest.has_value() ? LatestCell(*row.latest, row.display) : "-",
           "-", "-", "-", "-", ja ? "エラー" : "error",
           absl::StrCat(absl::StatusCodeToString(row.error.code()), ": ",
                        message)});
      continue;
    }
    const kpi::v1::Projection& p = *row.projection;
    const Display& d = row.display;
    // The target belongs to the KPI's own target year, whatever year the
    // projection was asked for.
    const int32_t target_year = row.kpi_target_fiscal_year != 0
                                    ? row.kpi_target_fiscal_year
                                    : p.target_fiscal_year();
    const std::string target =
        p.has_target_value() ? absl::StrCat(FormatValue(p.target_value()), " ",
                                            YearCell(target_year, language))
                             : absl::StrCat(ja ? "なし " : "none ",
                                            YearCell(target_year, language));
    const std::string latest =
        row.latest.has_value() ? LatestCell(*row.latest, d) : "-";
    const kpi::v1::YearProjection* year = TargetYear(p);
    std::string projected =
        year != nullptr ? d.Value(p.projected_value()) : "-";
    if (year != nullptr && p.target_fiscal_year() != target_year) {
      absl::StrAppend(&projected, " ",
                      YearCell(p.target_fiscal_year(), language));
    }
    const std::string interval =
        year != nullptr
            ? absl::StrCat("[", d.Value(year->interval_80().lower()), ", ",
                           d.Value(year->interval_80().upper()), "]")
            : "-";
    std::vector<std::string> warnings;
    for (const kpi::v1::Warning& w : p.warnings()) {
      warnings.emplace_back(i18n::WarningLabel(
          static_cast<forecast::WarningCode>(w.code()), language));
    }
    table.AddRow(
        {ShortId(row.kpi), row.display_name, row.unit, target, latest,
         projected, interval,
         p.has_attainment_probability()
             ? FormatProbability(p.attainment_probability())
             : "-",
         ScenariosCell(p),
         std::string(i18n::StatusLabel(
             static_cast<forecast::ProgressStatus>(p.status()), language)),
         absl::StrJoin(warnings, separator), p.explanation().summary()});
  }
  return table.Render();
}

absl::StatusOr<std::string> ProtoJson(const google::protobuf::Message& m) {
  google::protobuf::util::JsonPrintOptions options;
  options.preserve_proto_field_names = true;
  options.always_print_primitive_fields = true;
  std::string out;
  const auto status =
      google::protobuf::util::MessageToJsonString(m, &out, options);
  if (!status.ok()) {
    return absl::InternalError(absl::StrCat(
        "cannot print ", m.GetTypeName(), " as JSON: ",
        absl::string_view(status.message().data(), status.message().size())));
  }
  return out;
}

absl::StatusOr<std::string> RenderProjectionJson(
    const std::vector<ProjectionRow>& rows) {
  std::string out = "{\"results\": [";
  for (size_t i = 0; i < rows.size(); ++i) {
    const ProjectionRow& row = rows[i];
    absl::StrAppend(&out, i == 0 ? "\n  " : ",\n  ",
                    "{\"kpi\": ", JsonString(row.kpi),
                    ", \"display_name\": ", JsonString(row.display_name),
                    ", \"unit\": ", JsonString(row.unit));
    if (row.projection.has_value() && row.error.ok()) {
      absl::StatusOr<std::string> json = ProtoJson(*row.projection);
      if (!json.ok()) return json.status();
      absl::StrAppend(&out, ", \"projection\": ", *json);
      if (row.alternative.has_value()) {
        json = ProtoJson(*row.alternative);
        if (!json.ok()) return json.status();
        absl::StrAppend(&out, ", \"alternative_projection\": ", *json);
      }
    } else {
      absl::StrAppend(&out, ", \"error\": {\"code\": ",
                      JsonString(absl::StatusCodeToString(row.error.code())),
                      ", \"message\": ", JsonString(row.error.message()), "}");
    }
    out += "}";
  }
  out += rows.empty() ? "]}\n" : "\n]}\n";
  return out;
}

std::string RenderProjectionCsv(const std::vector<ProjectionRow>& rows) {
  std::string out = CsvRecord({"kpi",
                               "display_name",
                               "unit",
                               "target_value",
                               "target_fiscal_year",
                               "latest_value",
                               "latest_fiscal_year",
                               "projected_value",
                               "interval_80_lower",
                               "interval_80_upper",
                               "interval_95_lower",
                               "interval_95_upper",
                               "attainment_probability",
                               "status",
                               "method",
                               "points_used",
                               "warnings",
                               "error",
                               "shock_treatment",
                               "recovery_attainment_probability",
                               "shocks_as_data_attainment_probability",
                               "explanation_summary",
                               "explanation"});
  for (const ProjectionRow& row : rows) {
    std::vector<std::string> cells = {row.kpi, row.display_name, row.unit};
    if (!row.error.ok() || !row.projection.has_value()) {
      cells.resize(17);
      cells.push_back(ErrorText(row.error));
      cells.resize(23);
      out += CsvRecord(cells);
      continue;
    }
    const kpi::v1::Projection& p = *row.projection;
    const kpi::v1::YearProjection* year = TargetYear(p);
    const auto number = [](bool present, double v) {
      return present ? FormatCsvNumber(v) : std::string();
    };
    std::vector<std::string> warnings;
    for (const kpi::v1::Warning& w : p.warnings()) {
      warnings.push_back(kpi::v1::WarningCode_Name(w.code()));
    }
    const bool has_latest = row.latest.has_value();
    const kpi::v1::ScenarioExplanation& sc = p.explanation().scenario();
    const auto scenario_probability = [&](int i) {
      return sc.outcomes_size() == 2 &&
                     sc.outcomes(i).has_attainment_probability()
                 ? FormatCsvNumber(sc.outcomes(i).attainment_probability())
                 : std::string();
    };
    cells.insert(
        cells.end(),
        {number(p.has_target_value(), p.target_value()),
         absl::StrCat(p.target_fiscal_year()),
         number(has_latest, has_latest ? row.latest->value() : 0),
         has_latest ? absl::StrCat(row.latest->fiscal_year()) : "",
         number(year != nullptr, p.projected_value()),
         number(year != nullptr, year ? year->interval_80().lower() : 0),
         number(year != nullptr, year ? year->interval_80().upper() : 0),
         number(year != nullptr, year ? year->interval_95().lower() : 0),
         number(year != nullptr, year ? year->interval_95().upper() : 0),
         number(p.has_attainment_probability(), p.attainment_probability()),
         kpi::v1::ProgressStatus_Name(p.status()),
         p.method(),
         absl::StrCat(p.points_used()),
         absl::StrJoin(warnings, ";"),
         "",
         kpi::v1::ShockTreatment_Name(p.shock_treatment()),
         scenario_probability(0),
         scenario_probability(1),
         p.explanation().summary(),
         p.explanation().text()});
    out += CsvRecord(cells);
  }
  return out;
}

// The projections of every KPI of `strategy`, in the strategy's order.
absl::Status ProjectStrategy(const Rpc& rpc, const std::string& strategy,
                             const Options& options,
                             const kpi::v1::ScenarioOptions& scenario,
                             std::vector<ProjectionRow>* rows) {
  absl::StatusOr<std::vector<kpi::v1::Kpi>> kpis =
      ListKpisInStrategyOrder(rpc, strategy);
  if (!kpis.ok()) return kpis.status();
  if (kpis->empty()) return absl::OkStatus();
  kpi::v1::BatchProjectKpisRequest request;
  request.set_parent(strategy);
  request.set_target_fiscal_year(options.target_year);
  *request.mutable_options() = scenario;
  request.set_language_code(std::string(i18n::LanguageCode(options.language)));
  absl::StatusOr<kpi::v1::BatchProjectKpisResponse> response =
      Unary<kpi::v1::BatchProjectKpisResponse>(
          rpc,
          [&](grpc::ClientContext* c, const kpi::v1::BatchProjectKpisRequest& r,
              kpi::v1::BatchProjectKpisResponse* out) {
            return rpc.forecast->BatchProjectKpis(c, r, out);
          },
          request, "BatchProjectKpis");
  if (!response.ok()) return response.status();
  std::map<std::string, const kpi::v1::ProjectionResult*> by_id;
  for (const kpi::v1::ProjectionResult& result : response->results()) {
    by_id[result.id()] = &result;
  }
  for (const kpi::v1::Kpi& kpi : *kpis) {
    KPI_ASSIGN_OR_RETURN(ProjectionRow row,
                         RowFor(rpc, strategy, kpi, options.language));
    auto it = by_id.find(kpi.name());
    if (it == by_id.end()) {
      row.error = absl::InternalError(
          "BatchProjectKpis returned no result for this KPI");
    } else if (it->second->has_error()) {
      row.error = absl::Status(
          static_cast<absl::StatusCode>(it->second->error().code()),
          it->second->error().message());
    } else {
      row.projection = it->second->projection();
      if (it->second->has_alternative_projection()) {
        row.alternative = it->second->alternative_projection();
      }
    }
    rows->push_back(std::move(row));
  }
  return absl::OkStatus();
}

// The strategy named by --strategy, or every strategy in name order.
absl::StatusOr<std::vector<kpi::v1::Strategy>> SelectedStrategies(
    const Rpc& rpc, const Options& options) {
  if (options.strategy.empty()) return ListAllStrategies(rpc);
  kpi::v1::GetStrategyRequest request;
  request.set_name(StrategyName(options.strategy));
  KPI_ASSIGN_OR_RETURN(
      kpi::v1::Strategy strategy,
      Unary<kpi::v1::Strategy>(
          rpc,
          [&](grpc::ClientContext* c, const kpi::v1::GetStrategyRequest& r,
              kpi::v1::Strategy* out) {
            return rpc.kpi->GetStrategy(c, r, out);
          },
          request, "GetStrategy"));
  return std::vector<kpi::v1::Strategy>{std::move(strategy)};
}

}  // namespace

std::string SubcommandSummary() {
  return R"(Subcommands:
  list [--strategy S]                  KPIs with unit, baseline, latest value and target,
                                       in the strategy's order (goal, measure, KPI)
  show KPI                             one KPI: observations, revisions, its measure's evaluations
  project KPI|--all [--strategy S] [--target_year Y]
          [--shock=include|exclude|blend] [--format=table|json|csv]
                                       projections to the target year, explained
                                       (--lang=ja|en)
  import FILE [--validate_only]        a JSON kpi.v1.Dataset or a CSV of observations, all or nothing
  export [--format=json|csv] [--out FILE] [--strategy S] [--encoding E]
                                       the whole store (or one strategy); CSV with
                                       --lang=ja has 確定値/暫定値/据置 and era labels
  batch --in SERIES.csv --out FORECASTS.csv [--horizon H] [--format=csv|benchmark]
                                       ad-hoc series through StreamProjectSeries: columns
                                       series_id,year,value and optionally unit,value_domain,
                                       direction,kind,shock_years,target_value,target_fiscal_year;
                                       one row per series and fiscal year (median, 50/80/95%
                                       bounds, P(met); 令和6年度 and Japanese headings with
                                       --lang=ja), or the backtest's format with --format=benchmark
  backtest --data DATA.csv --windows 2,3,5,7 --out FORECASTS.csv [--calibration FILE]
                                       the short-window backtest in-process (no server)
  calibrate --data SERIES.csv --out FILE [--version V]
                                       learn a calibration from series (their train rows), no server
  report --out DIR [--strategy S]      the strategy report: DIR/index.html (self-contained,
                                       A4 print) and one DIR/<kpi>.svg fan chart per KPI
                                       (--lang=ja|en)
  calibrate [--validate_only] [--force]
                                       the server learns from every stored KPI and switches
                                       when the new calibration scores better (admin)
  skill                                how the calibration in use did on the stored KPIs'
                                       history: interval coverage, Brier, MASE
  health [SERVICE]                     SERVING or not (exit 0 only when SERVING), for probes
  changes [RESOURCE] [--actor A] [--since T] [--until T] [--limit N] [--format=table|json]
                                       the change log, newest first: who wrote what, when
                                       (needs an admin token)
  help                                 this text
KPI is a full name (strategies/S/kpis/K), or, with --strategy or when the store
holds one strategy, a KPI's ID, its Japanese or English name, or the start of
one (空港 finds 空港乗降客数); a typo lists the closest names.
--lang=ja|en chooses the language of tables and labels (default: the locale);
--encoding=utf-8|utf-8-bom|cp932 how files are written (CSV default utf-8-bom,
which Japanese Excel opens without mojibake; cp932 refuses a character it
cannot hold, naming its line).
)";
}

absl::Status RunList(const Rpc& rpc, const Options& options,
                     const Streams& io) {
  if (!options.format.empty()) {
    KPI_RETURN_IF_ERROR(RequireFormat(options.format, {"table"}, "list"));
  }
  KPI_ASSIGN_OR_RETURN(const std::vector<kpi::v1::Strategy> strategies,
                       SelectedStrategies(rpc, options));
  if (strategies.empty()) {
    *io.err << "kpictl list: the store holds no strategy; see kpictl import\n";
    return absl::OkStatus();
  }
  const i18n::Language lang = options.language;
  using i18n::MessageId;
  for (size_t i = 0; i < strategies.size(); ++i) {
    const kpi::v1::Strategy& strategy = strategies[i];
    KPI_ASSIGN_OR_RETURN(const std::vector<kpi::v1::Kpi> kpis,
                         ListKpisInStrategyOrder(rpc, strategy.name()));
    TextTable table({std::string(i18n::Text(MessageId::kColumnKpi, lang)),
                     std::string(i18n::Text(MessageId::kColumnName, lang)),
                     std::string(i18n::Text(MessageId::kColumnUnit, lang)),
                     std::string(i18n::Text(MessageId::kColumnBaseline, lang)),
                     std::string(i18n::Text(MessageId::kColumnLatest, lang)),
                     std::string(i18n::Text(MessageId::kColumnTarget, lang))},
                    {false, false, false, true, true, true});
    for (const kpi::v1::Kpi& kpi : kpis) {
      KPI_ASSIGN_OR_RETURN(std::vector<kpi::v1::Observation> observations,
                           ListAllObservations(rpc, kpi.name()));
      SortByYear(&observations);
      const Display d = DisplayFor(kpi, observations, lang);
      table.AddRow(
          {ShortId(kpi.name()), kpi.display_name(), kpi.unit(),
           BaselineCell(kpi, d),
           observations.empty() ? "-" : ObservationCell(observations.back(), d),
           TargetCell(kpi, d)});
    }
    if (i > 0) *io.out << "\n";
    *io.out << strategy.name() << "  " << strategy.display_name() << "  ("
            << i18n::FiscalPeriodLabel(strategy.first_fiscal_year(),
                                       strategy.last_fiscal_year(), lang)
            << ", " << i18n::Format(MessageId::kKpiCount, lang, kpis.size())
            << ")\n"
            << table.Render();
  }
  return absl::OkStatus();
}

absl::Status RunShow(const Rpc& rpc, const std::vector<std::string>& args,
                     const Options& options, const Streams& io) {
  if (args.size() != 1) {
    return absl::InvalidArgumentError(
        "show takes one KPI: its ID, its name or the start of it, or "
        "strategies/S/kpis/K");
  }
  KPI_ASSIGN_OR_RETURN(const std::string name,
                       ResolveKpiName(rpc, args[0], options.strategy));
  KPI_ASSIGN_OR_RETURN(const kpi::v1::Kpi kpi, GetKpi(rpc, name));
  kpi::v1::GetMeasureRequest measure_request;
  measure_request.set_name(kpi.measure());
  KPI_ASSIGN_OR_RETURN(
      const kpi::v1::Measure measure,
      Unary<kpi::v1::Measure>(
          rpc,
          [&](grpc::ClientContext* c, const kpi::v1::GetMeasureRequest& r,
              kpi::v1::Measure* out) { return rpc.kpi->GetMeasure(c, r, out); },
          measure_request, "GetMeasure"));
  KPI_ASSIGN_OR_RETURN(std::vector<kpi::v1::Observation> observations,
                       ListAllObservations(rpc, kpi.name()));
  SortByYear(&observations);
  KPI_ASSIGN_OR_RETURN(std::vector<kpi::v1::Evaluation> evaluations,
                       ListAllEvaluations(rpc, measure.name()));

  const i18n::Language lang = options.language;
  using i18n::MessageId;
  const auto text = [&](MessageId id) {
    return std::string(i18n::Text(id, lang));
  };
  const Display d = DisplayFor(kpi, observations, lang);
  std::ostream& out = *io.out;
  TextTable facts({"", ""});
  facts.AddRow({text(MessageId::kColumnName), kpi.display_name()});
  if (!kpi.english_name().empty()) facts.AddRow({"", kpi.english_name()});
  facts.AddRow({text(MessageId::kFieldMeasure),
                absl::StrCat(measure.code(), " ", measure.display_name(), " (",
                             measure.name(), ")")});
  facts.AddRow({text(MessageId::kColumnUnit), kpi.unit()});
  facts.AddRow(
      {text(MessageId::kFieldKind),
       absl::StrCat(
           AsAbsl(
               i18n::KindLabel(static_cast<domain::KpiKind>(kpi.kind()), lang)),
           lang == i18n::Language::kJa ? "、" : ", ",
           AsAbsl(i18n::DirectionLabel(
               static_cast<domain::Direction>(kpi.direction()), lang)))});
  std::string baseline = BaselineCell(kpi, d);
  if (kpi.has_baseline() && !kpi.baseline().label().empty()) {
    absl::StrAppend(&baseline, "  ", kpi.baseline().label());
  }
  facts.AddRow({text(MessageId::kColumnBaseline), baseline});
  std::string target = TargetCell(kpi, d);
  if (kpi.has_target() && kpi.target().has_value() &&
      !kpi.target().label().empty() &&
      kpi.target().label() != FormatValue(kpi.target().value())) {
    absl::StrAppend(&target, "  ", kpi.target().label());
  }
  if (kpi.has_target() && !kpi.target().reference().empty()) {
    absl::StrAppend(&target, "  ", kpi.target().reference());
  }
  facts.AddRow({text(MessageId::kColumnTarget), target});
  if (kpi.period_first_fiscal_year() != 0) {
    facts.AddRow({text(MessageId::kColumnPeriod),
                  i18n::Format(MessageId::kFieldSumPeriod, lang,
                               i18n::FiscalYearLabel(
                                   kpi.period_first_fiscal_year(), lang))});
  }
  if (!kpi.measurement_note().empty()) {
    facts.AddRow({text(MessageId::kFieldMeasured), kpi.measurement_note()});
  }
  if (!kpi.shock_fiscal_years().empty()) {
    std::vector<std::string> years;
    for (int32_t y : kpi.shock_fiscal_years()) {
      years.push_back(i18n::FiscalYearLabel(y, lang));
    }
    facts.AddRow(
        {text(MessageId::kFieldShockYears),
         absl::StrJoin(years, lang == i18n::Language::kJa ? "、" : ", ")});
  }
  // The facts table has no header: drop its first two lines.
  const std::string facts_text = facts.Render();
  out << kpi.name() << "\n"
      << facts_text.substr(facts_text.find('\n', facts_text.find('\n') + 1) +
                           1);

  out << "\n"
      << i18n::Format(MessageId::kObservationsHeading, lang,
                      observations.size())
      << "\n";
  TextTable table(
      {text(MessageId::kColumnPeriod), text(MessageId::kColumnValue),
       text(MessageId::kColumnStatus), text(MessageId::kColumnReported),
       text(MessageId::kColumnSource)},
      {false, true, false, false, false});
  for (const kpi::v1::Observation& o : observations) {
    std::string period =
        i18n::FiscalPeriodLabel(o.first_fiscal_year(), o.fiscal_year(), lang);
    if (o.aggregation() != kpi::v1::AGGREGATION_UNSPECIFIED) {
      absl::StrAppend(
          &period, " ",
          AsAbsl(i18n::AggregationLabel(
              static_cast<domain::Aggregation>(o.aggregation()), lang)));
    }
    table.AddRow({period, d.Value(o.value()),
                  std::string(StatusWord(o.status(), lang)),
                  o.reported_fiscal_year() != 0
                      ? i18n::FiscalYearLabel(o.reported_fiscal_year(), lang)
                      : "",
                  o.source_note()});
  }
  out << table.Render();
  for (const kpi::v1::Observation& o : observations) {
    for (const kpi::v1::ObservationRevision& r : o.revisions()) {
      std::string line = i18n::Format(
          MessageId::kRevisedLine, lang, ShortId(o.name()),
          google::protobuf::util::TimeUtil::ToString(r.revise_time()),
          d.Value(r.value()), AsAbsl(StatusWord(r.status(), lang)),
          r.reason().empty() ? "-" : r.reason(),
          // A revision recorded before the server kept authors has none.
          r.actor().empty() ? "-" : r.actor());
      out << line << "\n";
    }
  }

  out << "\n"
      << i18n::Format(MessageId::kEvaluationsHeading, lang, measure.code(),
                      measure.display_name(), evaluations.size())
      << "\n";
  std::sort(evaluations.begin(), evaluations.end(),
            [](const kpi::v1::Evaluation& a, const kpi::v1::Evaluation& b) {
              return a.fiscal_year() < b.fiscal_year();
            });
  for (const kpi::v1::Evaluation& e : evaluations) {
    out << i18n::FiscalYearLabel(e.fiscal_year(), lang) << "  "
        << i18n::RatingLabel(static_cast<domain::Rating>(e.rating()), lang)
        << "\n";
    if (!e.kpi_assessment().empty()) {
      out << "  KPIの現状認識: " << e.kpi_assessment() << "\n";
    }
    if (!e.outlook().empty()) out << "  今後の考え方: " << e.outlook() << "\n";
    if (!e.viewpoint().empty()) {
      out << "  評価の視点: " << e.viewpoint() << "\n";
    }
  }
  return absl::OkStatus();
}

absl::Status RunProject(const Rpc& rpc, const std::vector<std::string>& args,
                        const Options& options, const Streams& io) {
  const std::string format = options.format.empty() ? "table" : options.format;
  KPI_RETURN_IF_ERROR(
      RequireFormat(format, {"table", "json", "csv"}, "project"));
  KPI_ASSIGN_OR_RETURN(const kpi::v1::ScenarioOptions scenario,
                       ScenarioFromFlags(options));
  if (options.all == !args.empty() || args.size() > 1) {
    return absl::InvalidArgumentError(
        "project takes one KPI or --all (see kpictl help)");
  }
  std::vector<ProjectionRow> rows;
  std::vector<std::pair<std::string, std::string>> strategies;  // name, title
  if (options.all) {
    KPI_ASSIGN_OR_RETURN(const std::vector<kpi::v1::Strategy> selected,
                         SelectedStrategies(rpc, options));
    for (const kpi::v1::Strategy& s : selected) {
      strategies.emplace_back(s.name(), s.display_name());
    }
    for (const auto& strategy : strategies) {
      KPI_RETURN_IF_ERROR(
          ProjectStrategy(rpc, strategy.first, options, scenario, &rows));
    }
  } else {
    KPI_ASSIGN_OR_RETURN(const std::string name,
                         ResolveKpiName(rpc, args[0], options.strategy));
    KPI_ASSIGN_OR_RETURN(const kpi::v1::Kpi kpi, GetKpi(rpc, name));
    kpi::v1::ProjectKpiRequest request;
    request.set_name(name);
    request.set_target_fiscal_year(options.target_year);
    *request.mutable_options() = scenario;
    request.set_language_code(
        std::string(i18n::LanguageCode(options.language)));
    KPI_ASSIGN_OR_RETURN(
        const kpi::v1::ProjectKpiResponse response,
        Unary<kpi::v1::ProjectKpiResponse>(
            rpc,
            [&](grpc::ClientContext* c, const kpi::v1::ProjectKpiRequest& r,
                kpi::v1::ProjectKpiResponse* out) {
              return rpc.forecast->ProjectKpi(c, r, out);
            },
            request, "ProjectKpi"));
    KPI_ASSIGN_OR_RETURN(ProjectionRow row,
                         RowFor(rpc, "", kpi, options.language));
    row.projection = response.projection();
    if (response.has_alternative_projection()) {
      row.alternative = response.alternative_projection();
    }
    rows.push_back(std::move(row));
  }

  KPI_ASSIGN_OR_RETURN(const dataset::TextEncoding encoding,
                       OutputEncoding(options, format));
  if (format == "json") {
    KPI_ASSIGN_OR_RETURN(const std::string json, RenderProjectionJson(rows));
    *io.out << json;
  } else if (format == "csv") {
    KPI_ASSIGN_OR_RETURN(const std::string csv,
                         Encoded(RenderProjectionCsv(rows), encoding));
    *io.out << csv;
  } else if (options.all) {
    for (size_t i = 0; i < strategies.size(); ++i) {
      std::vector<ProjectionRow> part;
      for (const ProjectionRow& row : rows) {
        if (row.strategy == strategies[i].first) part.push_back(row);
      }
      if (i > 0) *io.out << "\n";
      *io.out << strategies[i].first;
      if (!strategies[i].second.empty())
        *io.out << "  " << strategies[i].second;
      *io.out << "  (" << part.size() << " KPIs)\n"
              << RenderProjectionTable(part, options.language);
    }
  } else {
    *io.out << RenderProjectionTable(rows, options.language);
  }
  if (options.all && strategies.empty()) {
    *io.err
        << "kpictl project: the store holds no strategy; see kpictl import\n";
  }
  const int failed =
      std::count_if(rows.begin(), rows.end(),
                    [](const ProjectionRow& r) { return !r.error.ok(); });
  if (failed > 0) {
    *io.err << "kpictl project: " << failed << " of " << rows.size()
            << " KPIs could not be projected (shown with their error)\n";
  }
  return absl::OkStatus();
}

absl::Status RunImport(const Rpc& rpc, const std::vector<std::string>& args,
                       const Options& options, const Streams& io) {
  if (args.size() != 1) {
    return absl::InvalidArgumentError(
        "import takes one FILE (.json: a kpi.v1.Dataset; .csv: observations)");
  }
  const std::string& path = args[0];
  // The file is held once: read, decoded in place when it is UTF-8, and
  // released once parsed, before the request is sent.
  KPI_ASSIGN_OR_RETURN(std::string bytes, ReadFile(path));
  KPI_ASSIGN_OR_RETURN(dataset::DecodedText decoded,
                       dataset::DecodeOwnedText(std::move(bytes), path));
  std::string& text = decoded.text;
  bool is_json = false;
  if (absl::EndsWithIgnoreCase(path, ".json")) {
    is_json = true;
  } else if (!absl::EndsWithIgnoreCase(path, ".csv")) {
    const absl::string_view start = absl::StripLeadingAsciiWhitespace(text);
    is_json = !start.empty() && start.front() == '{';
  }
  kpi::v1::ImportDatasetRequest request;
  request.set_validate_only(options.validate_only);
  if (is_json) {
    absl::StatusOr<kpi::v1::Dataset> dataset = services::DatasetFromJson(text);
    std::string().swap(text);
    if (!dataset.ok()) {
      return absl::Status(dataset.status().code(),
                          absl::StrCat(path, ": ", dataset.status().message()));
    }
    request.mutable_dataset()->Swap(&*dataset);
  } else {
    KPI_ASSIGN_OR_RETURN(std::vector<dataset::ObservationRow> rows,
                         dataset::ParseObservationRows(text, path));
    std::string().swap(text);
    // The identity columns (kpi_display_name, unit) are checked against the
    // stored KPIs here, so that a row filed under the wrong KPI is caught
    // before anything is sent.
    std::vector<domain::Kpi> kpis;
    std::set<std::string> names;
    for (const dataset::ObservationRow& row : rows) names.insert(row.kpi);
    for (const std::string& name : names) {
      absl::StatusOr<kpi::v1::Kpi> kpi = GetKpi(rpc, name);
      if (absl::IsNotFound(kpi.status())) continue;  // reported below
      if (!kpi.ok()) return kpi.status();
      services::Violations ignored;
      kpis.push_back(services::FromProto(*kpi, "", &ignored));
    }
    KPI_RETURN_IF_ERROR(dataset::CheckRowsAgainstKpis(rows, kpis, path));
    // Each row is released as it is converted: rows and messages are not
    // held whole together.
    request.mutable_dataset()->mutable_observations()->Reserve(
        static_cast<int>(rows.size()));
    for (dataset::ObservationRow& row : rows) {
      services::ToProto(row.observation,
                        request.mutable_dataset()->add_observations());
      row = dataset::ObservationRow();
    }
    std::vector<dataset::ObservationRow>().swap(rows);
  }
  KPI_ASSIGN_OR_RETURN(
      const kpi::v1::ImportDatasetResponse response,
      Unary<kpi::v1::ImportDatasetResponse>(
          rpc,
          [&](grpc::ClientContext* c, const kpi::v1::ImportDatasetRequest& r,
              kpi::v1::ImportDatasetResponse* out) {
            return rpc.kpi->ImportDataset(c, r, out);
          },
          request, "ImportDataset"));
  if (options.validate_only) {
    *io.out << path << " is valid: it would create " << response.created_count()
            << " and replace " << response.replaced_count()
            << " resources (nothing written)\n";
  } else {
    *io.out << "imported " << path << ": " << response.created_count()
            << " created, " << response.replaced_count() << " replaced\n";
  }
  return absl::OkStatus();
}

// Resources per ExportDataset page (the server also ends a page before its
// message limit), and exports restarted after a write between pages.
constexpr int kExportPageSize = 1000;
constexpr int kExportAttempts = 3;

absl::Status RunExport(const Rpc& rpc, const Options& options,
                       const Streams& io) {
  const std::string format = options.format.empty() ? "json" : options.format;
  KPI_RETURN_IF_ERROR(RequireFormat(format, {"json", "csv"}, "export"));
  KPI_ASSIGN_OR_RETURN(const dataset::TextEncoding encoding,
                       OutputEncoding(options, format));
  kpi::v1::ExportDatasetRequest request;
  if (!options.strategy.empty()) {
    request.set_strategy(StrategyName(options.strategy));
  }
  // In pages, so that a store larger than one message exports; the server
  // answers ABORTED when a write lands between two pages, and the export
  // starts again from the first (the pages are one snapshot).
  request.set_page_size(kExportPageSize);
  kpi::v1::ExportDatasetResponse response;
  for (int attempt = 1;; ++attempt) {
    request.clear_page_token();
    response.Clear();
    absl::Status status;
    do {
      absl::StatusOr<kpi::v1::ExportDatasetResponse> page =
          Unary<kpi::v1::ExportDatasetResponse>(
              rpc,
              [&](grpc::ClientContext* c,
                  const kpi::v1::ExportDatasetRequest& r,
                  kpi::v1::ExportDatasetResponse* out) {
                return rpc.kpi->ExportDataset(c, r, out);
              },
              request, "ExportDataset");
      if (!page.ok()) {
        status = page.status();
        break;
      }
      response.mutable_dataset()->MergeFrom(page->dataset());
      request.set_page_token(page->next_page_token());
    } while (!request.page_token().empty());
    if (status.ok()) break;
    if (!absl::IsAborted(status) || attempt == kExportAttempts) return status;
  }
  std::string text;
  if (format == "json") {
    KPI_ASSIGN_OR_RETURN(text, services::DatasetToJson(response.dataset()));
    if (text.empty() || text.back() != '\n') text.push_back('\n');
  } else {
    services::Violations violations;
    const domain::Dataset exported =
        services::FromProto(response.dataset(), "dataset", &violations);
    KPI_RETURN_IF_ERROR(base::InvalidArgumentWithViolations(
        "the server exported values this client cannot represent:",
        violations));
    // In Japanese: status words (確定値, 暫定値, 据置) and an era label
    // beside each fiscal year, both of which import reads back.
    dataset::ObservationsCsvOptions csv;
    csv.japanese = options.language == i18n::Language::kJa;
    KPI_ASSIGN_OR_RETURN(
        text, Encoded(dataset::WriteObservationsCsv(exported, csv), encoding));
  }
  KPI_ASSIGN_OR_RETURN(Output output, Output::Open(options.out, io.out));
  output.stream() << text;
  KPI_RETURN_IF_ERROR(output.Close());
  if (output.is_file()) {
    const kpi::v1::Dataset& d = response.dataset();
    *io.err << "kpictl export: wrote " << options.out << " ("
            << d.strategies_size() << " strategies, " << d.kpis_size()
            << " KPIs, " << d.observations_size() << " observations)\n";
  }
  return absl::OkStatus();
}

absl::Status RunBatchCommand(const Rpc& rpc, const Options& options,
                             const Streams& io) {
  if (options.in.empty() || options.out.empty()) {
    return absl::InvalidArgumentError(
        "batch needs --in SERIES.csv and --out FORECASTS.csv (\"-\" for "
        "stdin/stdout)");
  }
  if (options.horizon < 1 || options.horizon > 30) {
    return absl::InvalidArgumentError(absl::StrCat(
        "--horizon=", options.horizon, " is out of range; accepted: 1 to 30"));
  }
  std::ifstream file;
  std::istream* in = &std::cin;
  if (options.in != "-") {
    file.open(options.in, std::ios::binary);
    if (!file)
      return absl::NotFoundError(absl::StrCat("cannot open ", options.in));
    in = &file;
  }
  BatchOptions batch_options;
  batch_options.horizon = options.horizon;
  batch_options.language = options.language;
  if (options.format.empty() || options.format == "csv") {
    batch_options.format = BatchFormat::kYears;
  } else if (options.format == "benchmark") {
    batch_options.format = BatchFormat::kBenchmark;
  } else {
    return absl::InvalidArgumentError(absl::StrCat(
        "--format=", options.format,
        " is not accepted by batch; accepted: csv (the default: one row per "
        "series and fiscal year with median, 50/80/95% bounds and P(met)), "
        "benchmark (the backtest's series_id,k,h,q025,... format)"));
  }
  KPI_ASSIGN_OR_RETURN(
      batch_options.encoding,
      OutputEncoding(options, batch_options.format == BatchFormat::kBenchmark
                                  ? "benchmark"
                                  : "csv"));
  KPI_ASSIGN_OR_RETURN(Output output, Output::Open(options.out, io.out));
  KPI_ASSIGN_OR_RETURN(
      const BatchSummary summary,
      RunBatch(rpc.forecast, in, options.in == "-" ? "stdin" : options.in,
               &output.stream(), io.err, batch_options));
  KPI_RETURN_IF_ERROR(output.Close());
  const size_t failed = summary.failures.size();
  *io.err << "kpictl batch: " << summary.projected << " series projected, "
          << failed << " failed\n";
  constexpr size_t kListed = 20;
  for (size_t i = 0; i < failed && i < kListed; ++i) {
    const BatchFailure& f = summary.failures[i];
    *io.err << "  " << f.series_id << " (line " << f.line
            << "): " << ErrorText(f.status) << "\n";
  }
  if (failed > kListed) {
    *io.err << "  ... and " << failed - kListed << " more\n";
  }
  if (failed == 0) return absl::OkStatus();
  return absl::Status(
      summary.failures.front().status.code(),
      absl::StrCat(failed, " of ", failed + summary.projected,
                   " series failed (listed above); the ", summary.projected,
                   " projected are in ", options.out));
}

absl::Status RunBacktestCommand(const Options& options, const Streams& io) {
  if (options.data.empty() || options.out.empty()) {
    return absl::InvalidArgumentError(
        "backtest needs --data DATA.csv (series_id,split,t,year,value) and "
        "--out FORECASTS.csv");
  }
  forecast::BacktestOptions backtest;
  backtest.data_path = options.data;
  backtest.out_path = options.out;
  backtest.default_horizon = options.horizon;
  backtest.windows.clear();
  for (absl::string_view part :
       absl::StrSplit(options.windows, ',', absl::SkipWhitespace())) {
    int k = 0;
    if (!absl::SimpleAtoi(part, &k) || k < 1) {
      return absl::InvalidArgumentError(absl::StrCat(
          "--windows=", options.windows, ": \"", part,
          "\" is not a positive whole number; expected e.g. 2,3,5,7"));
    }
    backtest.windows.push_back(k);
  }
  if (backtest.windows.empty()) {
    return absl::InvalidArgumentError(
        "--windows is empty; expected window lengths such as 2,3,5,7");
  }
  std::unique_ptr<forecast::Engine> engine;
  if (!options.calibration.empty()) {
    KPI_ASSIGN_OR_RETURN(const std::string text, ReadFile(options.calibration));
    absl::StatusOr<std::unique_ptr<forecast::Engine>> e =
        forecast::Engine::Create(text);
    if (!e.ok()) {
      return absl::InvalidArgumentError(absl::StrCat(
          "--calibration=", options.calibration, ": ", e.status().message()));
    }
    engine = *std::move(e);
    backtest.engine = engine.get();
  }
  absl::Time last_progress = absl::Now();
  backtest.progress = [&](int done, int total) {
    const absl::Time now = absl::Now();
    if (now - last_progress < absl::Seconds(2)) return;
    last_progress = now;
    *io.err << "kpictl backtest: " << done << " of " << total << " series\n";
  };
  KPI_ASSIGN_OR_RETURN(const forecast::BacktestSummary summary,
                       forecast::RunBacktest(backtest));
  *io.err << absl::StrFormat(
      "kpictl backtest: %d series, %d projections in %.2f s (calibration "
      "%s), wrote %s\n",
      summary.series, summary.projections, summary.seconds,
      engine != nullptr ? engine->calibration_version()
                        : forecast::DefaultEngine().calibration_version(),
      options.out);
  return absl::OkStatus();
}

}  // namespace kpi::kpictl
