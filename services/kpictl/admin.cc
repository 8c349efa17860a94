#include "services/kpictl/admin.h"

#include "absl/strings/str_cat.h"

namespace kpi::kpictl {

absl::Status RunHealth(grpc::health::v1::Health::StubInterface& health,
                       absl::Duration timeout,
                       const std::vector<std::string>& args,
                       const Streams& io) {
  if (args.size() > 1) {
    return absl::InvalidArgumentError(
        "health takes at most one argument, the service name (e.g. "
        "kpi.v1.ForecastService); none for the server as a whole");
  }
  grpc::health::v1::HealthCheckRequest request;
  if (!args.empty()) request.set_service(args[0]);
  grpc::health::v1::HealthCheckResponse response;
  grpc::ClientContext context;
  SetDeadline(&context, timeout);
  const grpc::Status status = health.Check(&context, request, &response);
  if (!status.ok()) return FromGrpc(status, "Check");
  const std::string name =
      grpc::health::v1::HealthCheckResponse::ServingStatus_Name(
          response.status());
  *io.out << name << "\n";
  if (response.status() != grpc::health::v1::HealthCheckResponse::SERVING) {
    return absl::UnavailableError(absl::StrCat(
        request.service().empty() ? "the server" : request.service(), " is ",
        name));
  }
  return absl::OkStatus();
}

}  // namespace kpi::kpictl
