#include "services/kpictl/admin.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "google/protobuf/util/json_util.h"
#include "google/protobuf/util/time_util.h"
#include "lib/base/status_macros.h"
#include "lib/i18n/catalogue.h"
#include "services/kpictl/format.h"

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

namespace {

// A --since/--until value as a protobuf Timestamp.
absl::Status ParseTimeFlag(const std::string& flag, const std::string& text,
                           google::protobuf::Timestamp* out) {
  absl::Time time;
  std::string error;
  if (!absl::ParseTime(absl::RFC3339_full, text, &time, &error)) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "--%s: \"%s\" is not a time; accepted: RFC 3339 with a zone, e.g. "
        "2025-04-01T00:00:00+09:00 or 2025-03-31T15:00:00Z",
        flag, text.substr(0, 64)));
  }
  out->set_seconds(absl::ToUnixSeconds(time));
  out->set_nanos(static_cast<int32_t>(
      absl::ToInt64Nanoseconds(time - absl::FromUnixSeconds(out->seconds()))));
  return absl::OkStatus();
}

}  // namespace

absl::Status RunChanges(const Rpc& rpc, const std::vector<std::string>& args,
                        const Options& options, const ChangesOptions& changes,
                        const Streams& io) {
  if (args.size() > 1) {
    return absl::InvalidArgumentError(
        "changes takes at most one argument, a resource name (e.g. "
        "strategies/S/kpis/K) to list it and what is under it");
  }
  const std::string format = options.format.empty() ? "table" : options.format;
  if (format != "table" && format != "json") {
    return absl::InvalidArgumentError(
        absl::StrCat("--format: changes takes table (default) or json; got \"",
                     format, "\""));
  }
  if (changes.limit < 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("--limit: ", changes.limit,
                     " is negative; accepted: 0 (every entry) or more"));
  }
  v1::ListChangesRequest request;
  if (!args.empty()) request.set_resource(args[0]);
  request.set_actor(changes.actor);
  if (!changes.since.empty()) {
    KPI_RETURN_IF_ERROR(
        ParseTimeFlag("since", changes.since, request.mutable_start_time()));
  }
  if (!changes.until.empty()) {
    KPI_RETURN_IF_ERROR(
        ParseTimeFlag("until", changes.until, request.mutable_end_time()));
  }

  std::vector<v1::Change> entries;
  while (true) {
    const int wanted = changes.limit == 0
                           ? 1000
                           : changes.limit - static_cast<int>(entries.size());
    request.set_page_size(std::min(wanted, 1000));
    v1::ListChangesResponse response;
    grpc::ClientContext context;
    SetDeadline(&context, rpc.timeout);
    const grpc::Status status =
        rpc.kpi->ListChanges(&context, request, &response);
    if (!status.ok()) return FromGrpc(status, "ListChanges");
    entries.insert(entries.end(), response.changes().begin(),
                   response.changes().end());
    if (response.next_page_token().empty() ||
        (changes.limit > 0 &&
         static_cast<int>(entries.size()) >= changes.limit)) {
      break;
    }
    request.set_page_token(response.next_page_token());
  }

  if (format == "json") {
    google::protobuf::util::JsonPrintOptions json;
    json.preserve_proto_field_names = true;
    for (const v1::Change& c : entries) {
      std::string line;
      if (!google::protobuf::util::MessageToJsonString(c, &line, json).ok()) {
        return absl::InternalError("changes: an entry could not be printed");
      }
      *io.out << line << "\n";
    }
    return absl::OkStatus();
  }
  using i18n::MessageId;
  const auto text = [&](MessageId id) {
    return std::string(i18n::Text(id, options.language));
  };
  TextTable table(
      {text(MessageId::kColumnChangeTime), text(MessageId::kColumnActor),
       text(MessageId::kColumnOperation), text(MessageId::kColumnResource),
       text(MessageId::kColumnEtags), text(MessageId::kColumnSummary)});
  for (const v1::Change& c : entries) {
    const absl::Time time = absl::FromUnixSeconds(c.change_time().seconds());
    table.AddRow(
        {absl::FormatTime("%Y-%m-%d %H:%M:%S", time, absl::UTCTimeZone()),
         c.actor(), c.method(), c.resource(),
         absl::StrCat(c.etag_before().empty() ? "-" : c.etag_before(), "->",
                      c.etag_after().empty() ? "-" : c.etag_after()),
         c.summary()});
  }
  *io.out << table.Render();
  return absl::OkStatus();
}

}  // namespace kpi::kpictl
