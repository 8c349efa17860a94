// kpictl: a command-line client of kpi_server for people and scripts.
// Errors go to stderr with their gRPC code; the exit code is 0 on success,
// 1 on an error, 2 for an unknown subcommand.

#include <cstdlib>
#include <iostream>
#include <memory>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "absl/flags/usage_config.h"
#include "absl/status/status.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "services/kpictl/admin.h"
#include "services/kpictl/calibrate.h"
#include "services/kpictl/commands.h"
#include "services/kpictl/report.h"
#include "services/kpictl/rpc.h"

ABSL_FLAG(std::string, server, "127.0.0.1:50051",
          "Address of kpi_server, host:port.");
ABSL_FLAG(bool, tls, false,
          "Connect with TLS, checking the server against the system's CAs "
          "(implied by any --tls_* flag).");
ABSL_FLAG(std::string, tls_ca_file, "",
          "PEM file of the CA that signed the server's certificate (TLS).");
ABSL_FLAG(std::string, tls_cert_file, "",
          "PEM file of this client's certificate, for a server that requires "
          "client certificates (mutual TLS); with --tls_key_file.");
ABSL_FLAG(std::string, tls_key_file, "",
          "PEM file of the private key of --tls_cert_file.");
ABSL_FLAG(std::string, tls_server_name, "",
          "Name the server's certificate must carry when it differs from the "
          "host of --server (e.g. when connecting by IP address).");
ABSL_FLAG(std::string, token_file, "",
          "File holding the bearer token sent with every call "
          "(authorization: Bearer TOKEN); without it, the environment "
          "variable KPI_TOKEN is used when set.");
ABSL_FLAG(absl::Duration, timeout, absl::Seconds(30),
          "Deadline of each call, e.g. 10s; the batch stream has none.");
ABSL_FLAG(std::string, strategy, "",
          "Strategy ID or name (strategies/ID) to limit list, project --all "
          "and export to, and to resolve bare KPI IDs under.");
ABSL_FLAG(bool, all, false, "project: every KPI (of --strategy, or of all).");
ABSL_FLAG(int, target_year, 0,
          "project: fiscal year to project to; 0 means each KPI's target "
          "year.");
ABSL_FLAG(std::string, shock, "",
          "project: treatment of shock years, include, exclude or blend; "
          "empty for the server's documented rule (recovery, or a blend of "
          "both scenarios).");
ABSL_FLAG(std::string, format, "",
          "Output format: project takes table (default), json or csv; "
          "export takes json (default) or csv; batch takes csv (default: one "
          "row per series and fiscal year) or benchmark (the backtest's "
          "series_id,k,h,q025,... format, which bench/ reads); changes "
          "takes table (default) or json (one entry per line).");
ABSL_FLAG(bool, validate_only, false,
          "import: check the file on the server and write nothing.");
ABSL_FLAG(std::string, out, "",
          "export, batch, backtest: output file; - or empty (export only) "
          "for stdout.");
ABSL_FLAG(std::string, in, "", "batch: input CSV of series; - for stdin.");
ABSL_FLAG(std::string, data, "",
          "backtest: data CSV (series_id,split,t,year,value); calibrate: the "
          "series to learn from (that format, only its train rows, or "
          "series_id,year,value).");
ABSL_FLAG(std::string, windows, "2,3,5,7",
          "backtest: window lengths k, comma-separated.");
ABSL_FLAG(bool, force, false,
          "calibrate (against a server): switch to the new calibration even "
          "when it does not score better than the one in use.");
ABSL_FLAG(std::string, calibration, "",
          "backtest: a calibration file (kpictl calibrate) to use instead of "
          "the built-in one.");
ABSL_FLAG(std::string, version, "",
          "calibrate --data: the version label of the calibration written "
          "(default: the data file's name and -own).");
ABSL_FLAG(std::string, lang, "",
          "Language of what people read (tables, era labels such as "
          "令和6年度, status words, Japanese CSV exports): ja or en; empty "
          "for the locale's (ja when LC_ALL, LC_MESSAGES or LANG names ja).");
ABSL_FLAG(std::string, encoding, "",
          "export, project --format=csv, batch: the file's encoding, utf-8, "
          "utf-8-bom or cp932; empty for the format's default (CSV: "
          "utf-8-bom, which Japanese Excel opens without mojibake; JSON and "
          "--format=benchmark: utf-8).");
ABSL_FLAG(std::string, actor, "",
          "changes: only the changes of this actor (a token's label or a "
          "client certificate's subject, exactly).");
ABSL_FLAG(std::string, since, "",
          "changes: only changes at or after this RFC 3339 time, e.g. "
          "2025-04-01T00:00:00+09:00.");
ABSL_FLAG(std::string, until, "",
          "changes: only changes before this RFC 3339 time.");
ABSL_FLAG(int, limit, 50,
          "changes: most entries shown, newest first; 0 for "
          "all.");
ABSL_FLAG(int, horizon, 6,
          "batch, backtest: years to project past the last point when a "
          "series has no target year (1 to 30).");

namespace {

constexpr char kUsage[] =
    "kpictl [--server HOST:PORT] [--timeout 30s] [--tls_ca_file CA.pem] "
    "[--token_file FILE] SUBCOMMAND [ARGS] [FLAGS]\n\n";

bool IsKpictlFlagFile(absl::string_view path) {
  return absl::StrContains(path, "kpictl");
}

int Run(const std::vector<char*>& positional) {
  using namespace kpi::kpictl;  // NOLINT(build/namespaces): main only
  const Streams io{&std::cout, &std::cerr};
  if (positional.size() < 2) {
    std::cerr << kUsage << SubcommandSummary();
    return 2;
  }
  const std::string command = positional[1];
  const std::vector<std::string> args(positional.begin() + 2, positional.end());
  if (command == "help") {
    std::cout << kUsage << SubcommandSummary() << "\nFlags: kpictl --help\n";
    return 0;
  }
  Options options;
  options.strategy = absl::GetFlag(FLAGS_strategy);
  options.all = absl::GetFlag(FLAGS_all);
  options.target_year = absl::GetFlag(FLAGS_target_year);
  options.shock = absl::GetFlag(FLAGS_shock);
  options.format = absl::GetFlag(FLAGS_format);
  options.validate_only = absl::GetFlag(FLAGS_validate_only);
  options.out = absl::GetFlag(FLAGS_out);
  options.in = absl::GetFlag(FLAGS_in);
  options.data = absl::GetFlag(FLAGS_data);
  options.windows = absl::GetFlag(FLAGS_windows);
  options.horizon = absl::GetFlag(FLAGS_horizon);
  options.calibration = absl::GetFlag(FLAGS_calibration);
  options.encoding = absl::GetFlag(FLAGS_encoding);
  const std::string lang = absl::GetFlag(FLAGS_lang);
  if (lang.empty()) {
    options.language = kpi::i18n::LanguageFromEnvironment();
  } else if (absl::StatusOr<kpi::i18n::Language> parsed =
                 kpi::i18n::ParseLanguage(lang);
             parsed.ok()) {
    options.language = *parsed;
  } else {
    std::cerr << "kpictl: --lang: " << parsed.status().message() << "\n";
    return 2;
  }

  absl::Status status;
  if (command == "backtest") {
    status = args.empty() ? RunBacktestCommand(options, io)
                          : absl::InvalidArgumentError(
                                "backtest takes no arguments, only flags");
  } else if (command == "calibrate" && !options.data.empty()) {
    status = args.empty()
                 ? RunCalibrateFile(options, absl::GetFlag(FLAGS_version), io)
                 : absl::InvalidArgumentError(
                       "calibrate takes no arguments, only flags");
  } else {
    ConnectOptions connect;
    connect.target = absl::GetFlag(FLAGS_server);
    connect.tls = absl::GetFlag(FLAGS_tls);
    connect.ca_file = absl::GetFlag(FLAGS_tls_ca_file);
    connect.cert_file = absl::GetFlag(FLAGS_tls_cert_file);
    connect.key_file = absl::GetFlag(FLAGS_tls_key_file);
    connect.server_name = absl::GetFlag(FLAGS_tls_server_name);
    absl::StatusOr<std::shared_ptr<grpc::Channel>> made;
    if (absl::StatusOr<std::string> token = ReadToken(
            absl::GetFlag(FLAGS_token_file), std::getenv("KPI_TOKEN"));
        token.ok()) {
      connect.token = *std::move(token);
      made = MakeChannel(connect, &std::cerr);
    } else {
      made = token.status();
    }
    if (!made.ok()) {
      std::cerr << "kpictl " << command << ": "
                << absl::StatusCodeToString(made.status().code()) << ": "
                << made.status().message() << "\n";
      return 1;
    }
    const std::shared_ptr<grpc::Channel> channel = *std::move(made);
    const auto kpi_stub = kpi::v1::KpiService::NewStub(channel);
    const auto forecast_stub = kpi::v1::ForecastService::NewStub(channel);
    const Rpc rpc{kpi_stub.get(), forecast_stub.get(),
                  absl::GetFlag(FLAGS_timeout)};
    const auto no_args = [&](absl::string_view name) {
      if (args.empty()) return absl::OkStatus();
      return absl::InvalidArgumentError(absl::StrCat(
          name, " takes no arguments; got \"", args.front(), "\""));
    };
    if (command == "list") {
      status = no_args("list");
      if (status.ok()) status = RunList(rpc, options, io);
    } else if (command == "show") {
      status = RunShow(rpc, args, options, io);
    } else if (command == "project") {
      status = RunProject(rpc, args, options, io);
    } else if (command == "import") {
      status = RunImport(rpc, args, options, io);
    } else if (command == "export") {
      status = no_args("export");
      if (status.ok()) status = RunExport(rpc, options, io);
    } else if (command == "health") {
      const auto health_stub = grpc::health::v1::Health::NewStub(channel);
      status = RunHealth(*health_stub, absl::GetFlag(FLAGS_timeout), args, io);
    } else if (command == "changes") {
      ChangesOptions changes;
      changes.actor = absl::GetFlag(FLAGS_actor);
      changes.since = absl::GetFlag(FLAGS_since);
      changes.until = absl::GetFlag(FLAGS_until);
      changes.limit = absl::GetFlag(FLAGS_limit);
      status = RunChanges(rpc, args, options, changes, io);
    } else if (command == "report") {
      const auto report_stub = kpi::v1::ReportService::NewStub(channel);
      status = no_args("report");
      if (status.ok()) status = RunReport(rpc, *report_stub, options, io);
    } else if (command == "calibrate") {
      status = no_args("calibrate");
      if (status.ok()) {
        status =
            RunCalibrateServer(rpc, options, absl::GetFlag(FLAGS_force), io);
      }
    } else if (command == "skill") {
      status = no_args("skill");
      if (status.ok()) status = RunSkill(rpc, options, io);
    } else if (command == "batch") {
      status = no_args("batch");
      if (status.ok()) status = RunBatchCommand(rpc, options, io);
    } else {
      std::cerr << "kpictl: unknown subcommand \"" << command << "\"\n\n"
                << SubcommandSummary();
      return 2;
    }
  }
  if (status.ok()) return 0;
  std::cerr << "kpictl " << command << ": "
            << absl::StatusCodeToString(status.code()) << ": "
            << status.message() << "\n";
  return 1;
}

}  // namespace

int main(int argc, char** argv) {
  absl::FlagsUsageConfig config;
  config.contains_help_flags = IsKpictlFlagFile;
  config.contains_helpshort_flags = IsKpictlFlagFile;
  absl::SetFlagsUsageConfig(config);
  absl::SetProgramUsageMessage(
      absl::StrCat(kUsage, kpi::kpictl::SubcommandSummary()));
  const std::vector<char*> positional = absl::ParseCommandLine(argc, argv);
  return Run(positional);
}
