#ifndef KPI_SERVICES_CONVERT_H_
#define KPI_SERVICES_CONVERT_H_

// The one place where kpi.v1 protobuf messages meet the plain C++ domain
// (lib/domain/model.h), the forecast engine's types (lib/forecast/engine.h)
// and absl::Status: resources both ways, ad-hoc series and projections, error
// mapping onto gRPC (AIP-193: a google.rpc.BadRequest detail per bad field),
// and datasets to and from the protobuf JSON mapping.
//
// Every function is pure and thread-safe.

#include <grpcpp/support/status.h>

#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/civil_time.h"
#include "absl/time/time.h"
#include "google/protobuf/timestamp.pb.h"
#include "google/rpc/status.pb.h"
#include "kpi/v1/forecast_service.pb.h"
#include "kpi/v1/kpi_service.pb.h"
#include "kpi/v1/resources.pb.h"
#include "lib/base/field_violations.h"
#include "lib/domain/model.h"
#include "lib/forecast/engine.h"
#include "lib/i18n/catalogue.h"

namespace kpi::services {

using Violations = std::vector<base::FieldViolation>;

// ---- Scalars ----------------------------------------------------------------

absl::Time TimeFromProto(const google::protobuf::Timestamp& timestamp);
// Times before 0001-01-01 or after 9999-12-31 are clamped to those bounds
// (the range google.protobuf.Timestamp accepts).
void TimeToProto(absl::Time time, google::protobuf::Timestamp* out);

// "YYYY-MM-DD".
std::string FormatDay(absl::CivilDay day);
// Parses exactly "YYYY-MM-DD" naming a real day (no 2021-02-30).
bool ParseDay(std::string_view text, absl::CivilDay* day);

// ---- Resources: domain -> proto (never fails) -------------------------------

void ToProto(const domain::Strategy& in, v1::Strategy* out);
void ToProto(const domain::Goal& in, v1::Goal* out);
void ToProto(const domain::Measure& in, v1::Measure* out);
void ToProto(const domain::Kpi& in, v1::Kpi* out);
void ToProto(const domain::Observation& in, v1::Observation* out);
void ToProto(const domain::Evaluation& in, v1::Evaluation* out);
void ToProto(const domain::Reference& in, v1::Reference* out);
void ToProto(const domain::Dataset& in, v1::Dataset* out);

// ---- Resources: proto -> domain ---------------------------------------------
// Copies every field, output-only ones included. A value the domain cannot
// hold (an enum number outside the enum, an effective_date that is not
// "YYYY-MM-DD") adds a violation to `violations` whose field path starts with
// `path` (e.g. "kpi.kind", "dataset.kpis[3].kind") and leaves the domain
// field at its unspecified value. Range and consistency rules are the
// validators' job (lib/domain/validation.h), not these functions'.

domain::Strategy FromProto(const v1::Strategy& in, std::string_view path,
                           Violations* violations);
domain::Goal FromProto(const v1::Goal& in, std::string_view path,
                       Violations* violations);
domain::Measure FromProto(const v1::Measure& in, std::string_view path,
                          Violations* violations);
domain::Kpi FromProto(const v1::Kpi& in, std::string_view path,
                      Violations* violations);
domain::Observation FromProto(const v1::Observation& in, std::string_view path,
                              Violations* violations);
domain::Evaluation FromProto(const v1::Evaluation& in, std::string_view path,
                             Violations* violations);
domain::Reference FromProto(const v1::Reference& in, std::string_view path,
                            Violations* violations);
domain::Dataset FromProto(const v1::Dataset& in, std::string_view path,
                          Violations* violations);

// ---- Forecast ---------------------------------------------------------------

// The engine's input for an ad-hoc series with its scenario options, with
// the defaults of kpi.v1.Series applied: kind LEVEL, direction INCREASE,
// value domain PERCENT when unit is "%" and REAL otherwise, status FINAL.
// Points keep their request order so that the engine's "points[i]" paths
// match the request's. Enum numbers outside their enum add violations under
// `path` (e.g. "series.kind") and `options_path`.
forecast::SeriesInput SeriesFromProto(const v1::Series& series,
                                      const v1::ScenarioOptions& options,
                                      std::string_view path,
                                      std::string_view options_path,
                                      Violations* violations);

// Adds a violation under `path` when `treatment` is not a ShockTreatment.
forecast::ShockTreatment ShockTreatmentFromProto(v1::ShockTreatment treatment,
                                                 std::string_view path,
                                                 Violations* violations);

// The projection with its explanation: the structured parts, and the text
// and summary rendered in `language` (lib/i18n/explanation.h).
void ToProto(const forecast::Projection& in, i18n::Language language,
             v1::Projection* out);

// ---- Errors -----------------------------------------------------------------

// The same code and message; for INVALID_ARGUMENT with field violations
// (lib/base/field_violations.h), error_details carries a serialized
// google.rpc.Status holding a google.rpc.BadRequest with one FieldViolation
// each.
grpc::Status ToGrpcStatus(const absl::Status& status);

// The google.rpc.Status form of `status` (code, message, BadRequest detail
// as above), for per-item errors of batch results.
void ToRpcStatus(const absl::Status& status, google::rpc::Status* out);

// The inverse of ToGrpcStatus, for clients: the field violations of a
// BadRequest detail come back as lib/base field violations.
absl::Status FromGrpcStatus(const grpc::Status& status);

// `status` with `prefix` put in front of every field violation's path and
// of the message ("series." + "points[2].value"); other statuses unchanged.
absl::Status PrefixFieldPaths(const absl::Status& status,
                              std::string_view prefix);

// ---- Datasets as JSON -------------------------------------------------------

// Parses a kpi.v1.Dataset in the protobuf JSON mapping (field names in
// lower_snake_case or lowerCamelCase, enums by name). INVALID_ARGUMENT for
// malformed JSON; for an unknown field or a bad value, with a field
// violation at the JSON path protobuf reports (e.g. "kpis[2].kind").
absl::StatusOr<v1::Dataset> DatasetFromJson(std::string_view json);

// Indented JSON with lower_snake_case field names, enums by name. INTERNAL
// only if protobuf cannot print the message (it holds invalid UTF-8).
absl::StatusOr<std::string> DatasetToJson(const v1::Dataset& dataset);

}  // namespace kpi::services

#endif  // KPI_SERVICES_CONVERT_H_
