#include "services/kpictl/report.h"

#include <filesystem>
#include <fstream>
#include <regex>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace kpi::kpictl {
namespace {

absl::Status WriteFile(const std::filesystem::path& path,
                       const std::string& text) {
  std::ofstream file(path, std::ios::binary | std::ios::trunc);
  file << text;
  file.close();
  if (!file) {
    return absl::InternalError(
        absl::StrCat("cannot write ", path.string(),
                     "; check that the directory is writable and has space"));
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status RunReport(const Rpc& rpc,
                       kpi::v1::ReportService::StubInterface& reports,
                       const Options& options, const Streams& io) {
  if (options.out.empty() || options.out == "-") {
    return absl::InvalidArgumentError(
        "report needs --out DIR: the directory to write index.html and one "
        ".svg per KPI into");
  }
  std::string strategy;
  if (!options.strategy.empty()) {
    strategy = StrategyName(options.strategy);
  } else {
    absl::StatusOr<std::vector<kpi::v1::Strategy>> all = ListAllStrategies(rpc);
    if (!all.ok()) return all.status();
    if (all->size() != 1) {
      std::vector<std::string> names;
      for (const kpi::v1::Strategy& s : *all)
        names.push_back(ShortId(s.name()));
      return absl::InvalidArgumentError(absl::StrCat(
          "the store holds ", all->size(),
          " strategies; choose one with --strategy",
          names.empty() ? "" : absl::StrCat(": ", absl::StrJoin(names, ", "))));
    }
    strategy = all->front().name();
  }
  kpi::v1::RenderReportRequest request;
  request.set_name(strategy);
  request.set_language_code(std::string(i18n::LanguageCode(options.language)));
  kpi::v1::RenderReportResponse response;
  grpc::ClientContext context;
  SetDeadline(&context, rpc.timeout);
  const grpc::Status status =
      reports.RenderReport(&context, request, &response);
  if (!status.ok()) return FromGrpc(status, "RenderReport");

  static const std::regex kChartFile(R"([a-z0-9][a-z0-9-]{0,62}\.svg)");
  for (const kpi::v1::ReportChart& chart : response.charts()) {
    if (!std::regex_match(chart.file_name(), kChartFile)) {
      return absl::DataLossError(absl::StrCat(
          "RenderReport returned the chart file name \"",
          chart.file_name().substr(0, 80),
          "\", which is not a KPI ID with .svg; nothing was written"));
    }
  }
  const std::filesystem::path dir(options.out);
  std::error_code error;
  std::filesystem::create_directories(dir, error);
  if (error) {
    return absl::InternalError(absl::StrCat(
        "cannot create the directory ", dir.string(), ": ", error.message()));
  }
  const std::filesystem::path index = dir / "index.html";
  if (absl::Status s = WriteFile(index, response.html()); !s.ok()) return s;
  for (const kpi::v1::ReportChart& chart : response.charts()) {
    if (absl::Status s = WriteFile(dir / chart.file_name(), chart.svg());
        !s.ok()) {
      return s;
    }
  }
  *io.out << index.string() << "\n";
  *io.err << "report: " << ShortId(strategy) << ", " << response.charts_size()
          << " charts in " << dir.string() << "\n";
  return absl::OkStatus();
}

}  // namespace kpi::kpictl
