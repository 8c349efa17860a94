#include "services/server/report_service.h"

#include <memory>
#include <string>
#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "lib/base/field_violations.h"
#include "lib/domain/names.h"
#include "lib/fiscal/fiscal_year.h"
#include "lib/i18n/catalogue.h"
#include "lib/report/report.h"
#include "lib/report/stored.h"
#include "services/convert.h"
#include "services/server/suggestions.h"

namespace kpi::services {

ReportService::ReportService(storage::Repository* repository,
                             StoreCalibration* calibration,
                             const base::Clock* clock)
    : repository_(repository), calibration_(calibration), clock_(clock) {}

grpc::Status ReportService::RenderReport(grpc::ServerContext*,
                                         const v1::RenderReportRequest* request,
                                         v1::RenderReportResponse* response) {
  Violations violations;
  absl::Status parsed =
      domain::ParseName(request->name(), domain::ResourceType::kStrategy,
                        "name")
          .status();
  if (!parsed.ok()) {
    std::string message(parsed.message());
    if (absl::StartsWith(message, "name: ")) message.erase(0, 6);
    violations.push_back({"name", message});
  }
  i18n::Language language = i18n::Language::kJa;
  if (!request->language_code().empty()) {
    absl::StatusOr<i18n::Language> parsed_language =
        i18n::ParseLanguage(request->language_code());
    if (parsed_language.ok()) {
      language = *parsed_language;
    } else {
      violations.push_back(
          {"language_code", std::string(parsed_language.status().message())});
    }
  }
  const int year = request->evaluation_fiscal_year();
  if (year != 0 &&
      (year < fiscal::kMinFiscalYear || year > fiscal::kMaxFiscalYear)) {
    violations.push_back(
        {"evaluation_fiscal_year",
         absl::StrCat(year,
                      " is not a fiscal year this service accepts; "
                      "accepted: ",
                      fiscal::kMinFiscalYear, " to ", fiscal::kMaxFiscalYear,
                      ", or 0 for the latest evaluated")});
  }
  if (!violations.empty()) {
    return ToGrpcStatus(
        base::InvalidArgumentWithViolations("invalid request:", violations));
  }
  // The day in Japan, where the report is read.
  const absl::CivilDay today =
      absl::ToCivilDay(clock_->Now(), absl::FixedTimeZone(9 * 60 * 60));
  const std::shared_ptr<const forecast::Engine> engine =
      calibration_->Current();
  absl::StatusOr<report::ReportInput> input =
      report::LoadReportInput(*repository_, *engine, request->name(), today);
  if (!input.ok()) {
    return ToGrpcStatus(WithSuggestions(*repository_,
                                        domain::ResourceType::kStrategy,
                                        request->name(), input.status()));
  }
  input->evaluation_fiscal_year = year;
  report::Report rendered = report::RenderReport(*input, language);
  response->set_html(std::move(rendered.html));
  for (report::Chart& chart : rendered.charts) {
    v1::ReportChart* out = response->add_charts();
    out->set_kpi(std::move(chart.kpi));
    out->set_file_name(std::move(chart.file_name));
    out->set_svg(std::move(chart.svg));
  }
  return grpc::Status::OK;
}

}  // namespace kpi::services
