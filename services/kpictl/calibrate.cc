#include "services/kpictl/calibrate.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "lib/base/status_macros.h"
#include "lib/forecast/engine.h"
#include "lib/forecast/learn.h"
#include "lib/forecast/model.h"
#include "lib/forecast/training_data.h"
#include "lib/i18n/catalogue.h"
#include "services/kpictl/format.h"

namespace kpi::kpictl {
namespace {

absl::StatusOr<std::string> ReadDataFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in)
    return absl::NotFoundError(absl::StrCat("--data: cannot open ", path));
  in.seekg(0, std::ios::end);
  const std::streamoff size = in.tellg();
  if (size > static_cast<std::streamoff>(forecast::kMaxTrainingCsvBytes)) {
    return absl::InvalidArgumentError(
        absl::StrCat("--data: ", path, " has ", size, " bytes; at most ",
                     forecast::kMaxTrainingCsvBytes, " are read"));
  }
  in.seekg(0);
  std::ostringstream text;
  text << in.rdbuf();
  if (in.bad()) return absl::DataLossError(absl::StrCat("cannot read ", path));
  return text.str();
}

std::string BaseName(const std::string& path) {
  const size_t slash = path.find_last_of('/');
  return slash == std::string::npos ? path : path.substr(slash + 1);
}

// "m1_yearly.csv" -> "m1_yearly-own": a valid version label from a path.
std::string DefaultVersion(const std::string& path) {
  std::string stem = BaseName(path);
  const size_t dot = stem.find_last_of('.');
  if (dot != std::string::npos && dot > 0) stem.resize(dot);
  std::string out;
  for (char c : stem) {
    out += absl::ascii_isalnum(c) || c == '.' || c == '_' || c == '-' ? c : '-';
  }
  if (out.size() > 56) out.resize(56);
  return (out.empty() ? std::string("data") : out) + "-own";
}

}  // namespace

absl::Status RunCalibrateFile(const Options& options,
                              const std::string& version, const Streams& io) {
  if (options.data.empty() || options.out.empty() || options.out == "-") {
    return absl::InvalidArgumentError(
        "calibrate needs --data SERIES.csv (series_id,split,t,year,value or "
        "series_id,year,value) and --out FILE (the calibration to write); "
        "without --data it calibrates the server's store");
  }
  KPI_ASSIGN_OR_RETURN(const std::string text, ReadDataFile(options.data));
  const std::string label = BaseName(options.data);
  KPI_ASSIGN_OR_RETURN(const forecast::TrainingData data,
                       forecast::ParseTrainingCsv(text, label));
  const forecast::Calibration& builtin =
      forecast::DefaultEngine().calibration();
  forecast::LearnOptions learn;
  learn.version = version.empty() ? DefaultVersion(options.data) : version;
  learn.prior = &builtin;
  learn.source_label = label;
  absl::StatusOr<forecast::LearnedCalibration> learned =
      forecast::LearnCalibration(data.series, learn);
  if (!learned.ok()) {
    return absl::Status(learned.status().code(),
                        absl::StrCat(label, ": ", learned.status().message()));
  }
  // Written whole or not at all: a partial file would not parse.
  const std::string tmp = options.out + ".tmp";
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    out << learned->text;
    out.close();
    if (!out) {
      return absl::PermissionDeniedError(
          absl::StrCat("--out: cannot write ", tmp));
    }
  }
  if (std::rename(tmp.c_str(), options.out.c_str()) != 0) {
    std::remove(tmp.c_str());
    return absl::PermissionDeniedError(
        absl::StrCat("--out: cannot write ", options.out));
  }

  const forecast::LearnReport& r = learned->report;
  std::ostream& err = *io.err;
  err << absl::StrFormat(
      "kpictl calibrate: %d series of %s (%d rolling windows; %d rows read, "
      "%d test rows not read",
      r.series_used, label, r.windows, data.rows_read, data.test_rows_skipped);
  if (r.series_skipped > 0) {
    err << absl::StrFormat("; %d series with fewer than two points skipped",
                           r.series_skipped);
  }
  err << ")\n";
  std::vector<std::string> grid;
  for (const forecast::ShrinkCandidate& c : r.candidates) {
    grid.push_back(absl::StrFormat("%g%s: %.4f", c.strength,
                                   c.centered ? "c" : "", c.score));
  }
  err << "shrunk toward " << builtin.version << " by "
      << (std::isinf(r.strength)
              ? std::string("infinitely many pseudo-series: the built-in "
                            "calibration is kept as it is")
              : absl::StrFormat("%g pseudo-series, errors %s", r.strength,
                                r.centered ? "centered" : "as they fell"))
      << "\n  (chosen by two-fold cross-validation over series; strength, "
         "c = centered: score) "
      << absl::StrJoin(grid, ", ") << "\n";
  err << absl::StrFormat(
      "held out (k = 2, 3, 5, 7; h = 1..6; %d forecasts)\n"
      "  %-14s %10s %12s\n",
      r.held_out.forecasts, "", "learned", builtin.version);
  const forecast::HeldOutScore& p =
      r.prior_held_out.has_value() ? *r.prior_held_out : r.held_out;
  err << absl::StrFormat("  %-14s %10.3f %12.3f\n", "80% coverage",
                         r.held_out.cov80, p.cov80)
      << absl::StrFormat("  %-14s %10.3f %12.3f\n", "95% coverage",
                         r.held_out.cov95, p.cov95)
      << absl::StrFormat("  %-14s %10.4f %12.4f\n", "Brier", r.held_out.brier,
                         p.brier)
      << absl::StrFormat("  %-14s %10.3f %12.3f\n", "MASE", r.held_out.mase,
                         p.mase)
      << absl::StrFormat("  %-14s %10.3f %12.3f\n", "SQL", r.held_out.sql,
                         p.sql);
  err << "wrote " << options.out << " (version " << learn.version << ")\n";
  return absl::OkStatus();
}

namespace {

std::string Fixed(double value, int decimals) {
  return absl::StrFormat("%.*f", decimals, value);
}

}  // namespace

absl::Status RunCalibrateServer(const Rpc& rpc, const Options& options,
                                bool force, const Streams& io) {
  const i18n::Language lang = options.language;
  using i18n::MessageId;
  grpc::ClientContext context;
  SetDeadline(&context, std::max(rpc.timeout, absl::Minutes(6)));
  v1::CalibrateStoreRequest request;
  request.set_validate_only(options.validate_only);
  request.set_force(force);
  v1::CalibrateStoreResponse response;
  const grpc::Status status =
      rpc.forecast->CalibrateStore(&context, request, &response);
  if (!status.ok()) return FromGrpc(status, "CalibrateStore");
  const v1::CalibrationSkill& n = response.candidate();
  const v1::CalibrationSkill& u = response.in_use();
  std::ostream& out = *io.out;
  out << i18n::Format(MessageId::kSkillHeading, lang, u.calibration_version(),
                      u.series(), u.windows(), u.forecasts())
      << "\n";
  TextTable table(
      {std::string(i18n::Text(MessageId::kSkillColumnMeasure, lang)),
       std::string(i18n::Text(MessageId::kCalibrateColumnNew, lang)) + " " +
           n.calibration_version(),
       std::string(i18n::Text(MessageId::kCalibrateColumnInUse, lang)) + " " +
           u.calibration_version(),
       std::string(i18n::Text(MessageId::kSkillColumnIdeal, lang))},
      {false, true, true, true});
  const std::string lower(i18n::Text(MessageId::kSkillLowerIsBetter, lang));
  table.AddRow({std::string(i18n::Text(MessageId::kCalibrateScore, lang)),
                Fixed(n.score(), 4), Fixed(u.score(), 4), lower});
  table.AddRow({std::string(i18n::Text(MessageId::kSkillCoverage80, lang)),
                Fixed(n.coverage_80(), 3), Fixed(u.coverage_80(), 3), "0.800"});
  table.AddRow({std::string(i18n::Text(MessageId::kSkillCoverage95, lang)),
                Fixed(n.coverage_95(), 3), Fixed(u.coverage_95(), 3), "0.950"});
  table.AddRow({std::string(i18n::Text(MessageId::kSkillBrier, lang)),
                Fixed(n.brier(), 4), Fixed(u.brier(), 4), lower});
  table.AddRow({std::string(i18n::Text(MessageId::kSkillMase, lang)),
                Fixed(n.mase(), 3), Fixed(u.mase(), 3), lower});
  out << table.Render();
  if (response.shrink_strength() > 0) {
    out << i18n::Format(MessageId::kCalibrateShrinkage, lang,
                        FormatValue(response.shrink_strength()))
        << "\n";
  } else {
    out << i18n::Text(MessageId::kCalibrateShrinkageInfinite, lang) << "\n";
  }
  if (response.series_skipped() > 0) {
    out << i18n::Format(MessageId::kCalibrateSkipped, lang,
                        response.series_skipped())
        << "\n";
  }
  if (u.sampled()) {
    out << i18n::Format(MessageId::kSkillSampled, lang, u.series()) << "\n";
  }
  if (response.switched()) {
    out << i18n::Format(MessageId::kCalibrateSwitched, lang,
                        response.calibration_version(), response.version())
        << "\n";
  } else if (response.shrink_strength() == 0 && n.score() == u.score()) {
    out << i18n::Format(MessageId::kCalibrateKeptBuiltIn, lang,
                        response.calibration_in_use())
        << "\n";
  } else {
    out << i18n::Format(MessageId::kCalibrateKeptNotBetter, lang,
                        response.calibration_in_use())
        << "\n";
  }
  if (options.validate_only) {
    out << i18n::Text(MessageId::kCalibrateValidateOnly, lang) << "\n";
  }
  return absl::OkStatus();
}

absl::Status RunSkill(const Rpc& rpc, const Options& options,
                      const Streams& io) {
  const i18n::Language lang = options.language;
  using i18n::MessageId;
  grpc::ClientContext context;
  SetDeadline(&context, std::max(rpc.timeout, absl::Minutes(2)));
  v1::CalibrationSkill skill;
  const grpc::Status status =
      rpc.forecast->GetCalibrationSkill(&context, {}, &skill);
  if (!status.ok()) return FromGrpc(status, "GetCalibrationSkill");
  std::ostream& out = *io.out;
  out << i18n::Format(MessageId::kSkillHeading, lang,
                      skill.calibration_version(), skill.series(),
                      skill.windows(), skill.forecasts())
      << "\n";
  TextTable table(
      {std::string(i18n::Text(MessageId::kSkillColumnMeasure, lang)),
       std::string(i18n::Text(MessageId::kSkillColumnMeasured, lang)),
       std::string(i18n::Text(MessageId::kSkillColumnIdeal, lang))},
      {false, true, true});
  const std::string lower(i18n::Text(MessageId::kSkillLowerIsBetter, lang));
  table.AddRow({std::string(i18n::Text(MessageId::kSkillCoverage80, lang)),
                Fixed(skill.coverage_80(), 3), "0.800"});
  table.AddRow({std::string(i18n::Text(MessageId::kSkillCoverage95, lang)),
                Fixed(skill.coverage_95(), 3), "0.950"});
  table.AddRow({std::string(i18n::Text(MessageId::kSkillBrier, lang)),
                Fixed(skill.brier(), 4), lower});
  table.AddRow({std::string(i18n::Text(MessageId::kSkillMase, lang)),
                Fixed(skill.mase(), 3), lower});
  out << table.Render();
  if (skill.sampled()) {
    out << i18n::Format(MessageId::kSkillSampled, lang, skill.series()) << "\n";
  }
  out << i18n::Text(MessageId::kSkillReading, lang) << "\n";
  return absl::OkStatus();
}

}  // namespace kpi::kpictl
