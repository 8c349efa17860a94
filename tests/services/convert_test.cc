#include "services/convert.h"

#include <cmath>
#include <string>

#include "absl/status/status.h"
#include "absl/time/civil_time.h"
#include "absl/time/time.h"
#include "gmock/gmock.h"
#include "google/rpc/error_details.pb.h"
#include "gtest/gtest.h"
#include "lib/base/field_violations.h"
#include "lib/base/status_matchers.h"

namespace kpi::services {
namespace {

using ::kpi::testing::IsOk;
using ::kpi::testing::StatusIs;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

TEST(TimeTest, RoundTripsNanoseconds) {
  const absl::Time t =
      absl::FromUnixSeconds(1617235200) + absl::Nanoseconds(123456789);
  google::protobuf::Timestamp ts;
  TimeToProto(t, &ts);
  EXPECT_EQ(ts.seconds(), 1617235200);
  EXPECT_EQ(ts.nanos(), 123456789);
  EXPECT_EQ(TimeFromProto(ts), t);
}

TEST(TimeTest, NegativeTimesKeepNanosPositive) {
  const absl::Time t = absl::FromUnixSeconds(-10) + absl::Milliseconds(250);
  google::protobuf::Timestamp ts;
  TimeToProto(t, &ts);
  EXPECT_EQ(ts.seconds(), -10);
  EXPECT_EQ(ts.nanos(), 250000000);
}

TEST(TimeTest, ClampsInfiniteFuture) {
  google::protobuf::Timestamp ts;
  TimeToProto(absl::InfiniteFuture(), &ts);
  EXPECT_EQ(ts.seconds(), 253402300799);
}

TEST(DayTest, ParsesOnlyRealDaysInIsoForm) {
  absl::CivilDay day;
  ASSERT_TRUE(ParseDay("2021-03-01", &day));
  EXPECT_EQ(day, absl::CivilDay(2021, 3, 1));
  EXPECT_EQ(FormatDay(day), "2021-03-01");
  for (const char* bad : {"2021-02-30", "2021-3-1", "20210301", "2021/03/01",
                          "2021-03-01T00:00", "", "abcd-ef-gh"}) {
    EXPECT_FALSE(ParseDay(bad, &day)) << bad;
  }
}

v1::Kpi SampleKpi() {
  v1::Kpi kpi;
  kpi.set_name("strategies/s/kpis/k");
  kpi.set_measure("strategies/s/measures/m");
  kpi.set_display_name("障害者の雇用率");
  kpi.set_unit("%");
  kpi.set_kind(v1::KPI_KIND_LEVEL);
  kpi.set_direction(v1::DIRECTION_INCREASE);
  kpi.mutable_baseline()->set_value(2.1);
  kpi.mutable_baseline()->set_fiscal_year(2018);
  kpi.mutable_baseline()->set_first_fiscal_year(2016);
  kpi.mutable_baseline()->set_aggregation(v1::AGGREGATION_MEAN);
  kpi.mutable_target()->set_reference("references/rate");
  kpi.mutable_target()->set_fiscal_year(2024);
  kpi.mutable_target()->set_label("法定雇用率以上");
  kpi.add_shock_fiscal_years(2020);
  kpi.set_ordinal(3);
  kpi.set_etag("abc");
  kpi.mutable_create_time()->set_seconds(100);
  kpi.mutable_update_time()->set_seconds(200);
  return kpi;
}

TEST(ResourceTest, KpiRoundTrips) {
  const v1::Kpi in = SampleKpi();
  Violations violations;
  const domain::Kpi kpi = FromProto(in, "kpi", &violations);
  EXPECT_THAT(violations, IsEmpty());
  EXPECT_EQ(kpi.display_name, "障害者の雇用率");
  EXPECT_EQ(kpi.kind, domain::KpiKind::kLevel);
  ASSERT_TRUE(kpi.baseline.has_value());
  EXPECT_EQ(kpi.baseline->aggregation, domain::Aggregation::kMean);
  EXPECT_FALSE(kpi.target.value.has_value());
  EXPECT_EQ(kpi.target.reference, "references/rate");
  EXPECT_THAT(kpi.shock_fiscal_years, ElementsAre(2020));
  EXPECT_EQ(kpi.meta.create_time, absl::FromUnixSeconds(100));
  v1::Kpi out;
  ToProto(kpi, &out);
  EXPECT_EQ(out.SerializeAsString(), in.SerializeAsString())
      << out.DebugString();
}

TEST(ResourceTest, KpiWithoutBaselineHasNone) {
  v1::Kpi in = SampleKpi();
  in.clear_baseline();
  in.mutable_target()->set_value(705);
  Violations violations;
  const domain::Kpi kpi = FromProto(in, "kpi", &violations);
  EXPECT_FALSE(kpi.baseline.has_value());
  ASSERT_TRUE(kpi.target.value.has_value());
  EXPECT_EQ(*kpi.target.value, 705);
  EXPECT_EQ(kpi.target.reference, "");
  v1::Kpi out;
  ToProto(kpi, &out);
  EXPECT_FALSE(out.has_baseline());
  EXPECT_EQ(out.target().value_source_case(), v1::Target::kValue);
}

TEST(ResourceTest, UnknownEnumNumberIsAViolationWithItsPath) {
  v1::Kpi in = SampleKpi();
  in.set_kind(static_cast<v1::KpiKind>(7));
  Violations violations;
  const domain::Kpi kpi = FromProto(in, "dataset.kpis[3]", &violations);
  ASSERT_EQ(violations.size(), 1u);
  EXPECT_EQ(violations[0].field, "dataset.kpis[3].kind");
  EXPECT_THAT(violations[0].description,
              HasSubstr("KPI_KIND_LEVEL, KPI_KIND_RUNNING_TOTAL"));
  EXPECT_EQ(kpi.kind, domain::KpiKind::kUnspecified);
}

TEST(ResourceTest, BadEffectiveDateIsAViolation) {
  v1::Reference in;
  in.set_name("references/r");
  in.add_values()->set_effective_date("2021-03-01");
  in.add_values()->set_effective_date("2021-13-01");
  Violations violations;
  const domain::Reference reference = FromProto(in, "reference", &violations);
  ASSERT_EQ(violations.size(), 1u);
  EXPECT_EQ(violations[0].field, "reference.values[1].effective_date");
  EXPECT_EQ(reference.values[0].effective_date, absl::CivilDay(2021, 3, 1));
}

TEST(ResourceTest, ObservationKeepsRevisions) {
  domain::Observation o;
  o.name = "strategies/s/kpis/k/observations/fy2021";
  o.fiscal_year = 2021;
  o.value = 12.5;
  o.status = domain::ObservationStatus::kProvisional;
  o.revisions.push_back({10, domain::ObservationStatus::kFinal, "old",
                         absl::FromUnixSeconds(5), "corrected", "alice"});
  v1::Observation proto;
  ToProto(o, &proto);
  ASSERT_EQ(proto.revisions_size(), 1);
  EXPECT_EQ(proto.revisions(0).reason(), "corrected");
  EXPECT_EQ(proto.revisions(0).actor(), "alice");
  EXPECT_EQ(proto.revisions(0).revise_time().seconds(), 5);
  Violations violations;
  const domain::Observation back = FromProto(proto, "o", &violations);
  EXPECT_EQ(back.revisions[0].value, 10);
  EXPECT_EQ(back.status, domain::ObservationStatus::kProvisional);
}

TEST(SeriesTest, AppliesContractDefaults) {
  v1::Series series;
  series.set_series_id("a");
  series.set_unit("%");
  auto* p = series.add_points();
  p->set_fiscal_year(2020);
  p->set_value(40);
  series.add_shock_fiscal_years(2021);
  v1::ScenarioOptions options;
  options.add_shock_fiscal_years(2020);
  options.add_shock_fiscal_years(2021);
  Violations violations;
  const forecast::SeriesInput input =
      SeriesFromProto(series, options, "series", "options", &violations);
  EXPECT_THAT(violations, IsEmpty());
  EXPECT_EQ(input.kind, domain::KpiKind::kLevel);
  EXPECT_EQ(input.direction, domain::Direction::kIncrease);
  EXPECT_EQ(input.value_domain, domain::ValueDomain::kPercent);
  EXPECT_EQ(input.points[0].status, domain::ObservationStatus::kFinal);
  EXPECT_THAT(input.shock_fiscal_years, ElementsAre(2020, 2021));
  EXPECT_FALSE(input.target_value.has_value());

  series.set_unit("人");
  EXPECT_EQ(SeriesFromProto(series, options, "series", "options", &violations)
                .value_domain,
            domain::ValueDomain::kReal);
}

TEST(ErrorTest, InvalidArgumentCarriesBadRequest) {
  const absl::Status status = base::InvalidArgumentWithViolations(
      "invalid request:", {{"series.points[2].fiscal_year", "duplicate"}});
  const grpc::Status grpc_status = ToGrpcStatus(status);
  EXPECT_EQ(grpc_status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(grpc_status.error_message(), std::string(status.message()));
  google::rpc::Status rpc;
  ASSERT_TRUE(rpc.ParseFromString(grpc_status.error_details()));
  EXPECT_EQ(rpc.code(), 3);
  ASSERT_EQ(rpc.details_size(), 1);
  google::rpc::BadRequest bad_request;
  ASSERT_TRUE(rpc.details(0).UnpackTo(&bad_request));
  ASSERT_EQ(bad_request.field_violations_size(), 1);
  EXPECT_EQ(bad_request.field_violations(0).field(),
            "series.points[2].fiscal_year");

  const absl::Status back = FromGrpcStatus(grpc_status);
  EXPECT_EQ(back.message(), status.message());
  const Violations violations = base::GetFieldViolations(back);
  ASSERT_EQ(violations.size(), 1u);
  EXPECT_EQ(violations[0].description, "duplicate");
}

TEST(ErrorTest, OtherCodesMapOneToOne) {
  const grpc::Status s = ToGrpcStatus(absl::AbortedError("stale etag"));
  EXPECT_EQ(s.error_code(), grpc::StatusCode::ABORTED);
  EXPECT_EQ(s.error_message(), "stale etag");
  EXPECT_TRUE(s.error_details().empty());
  EXPECT_TRUE(ToGrpcStatus(absl::OkStatus()).ok());
  EXPECT_THAT(FromGrpcStatus(s), StatusIs(absl::StatusCode::kAborted));
}

TEST(ErrorTest, PrefixFieldPathsRebuildsTheMessage) {
  const absl::Status status = base::InvalidArgumentWithViolations(
      "bad series:", {{"points[0].value", "not finite"}});
  const absl::Status prefixed = PrefixFieldPaths(status, "series[4].");
  EXPECT_THAT(prefixed, StatusIs(absl::StatusCode::kInvalidArgument,
                                 "bad series:\n  series[4].points[0].value: "
                                 "not finite"));
  EXPECT_EQ(base::GetFieldViolations(prefixed)[0].field,
            "series[4].points[0].value");
  EXPECT_THAT(PrefixFieldPaths(absl::NotFoundError("x"), "a."),
              StatusIs(absl::StatusCode::kNotFound, "x"));
}

TEST(JsonTest, RoundTripsADataset) {
  v1::Dataset dataset;
  *dataset.add_kpis() = SampleKpi();
  auto json = DatasetToJson(dataset);
  ASSERT_THAT(json, IsOk());
  EXPECT_THAT(*json, HasSubstr("\"display_name\": \"障害者の雇用率\""));
  EXPECT_THAT(*json, HasSubstr("\"KPI_KIND_LEVEL\""));
  auto back = DatasetFromJson(*json);
  ASSERT_THAT(back, IsOk());
  EXPECT_EQ(back->SerializeAsString(), dataset.SerializeAsString());
}

TEST(JsonTest, AcceptsCamelCaseNames) {
  auto dataset = DatasetFromJson(
      R"({"kpis": [{"name": "strategies/s/kpis/k", "displayName": "x"}]})");
  ASSERT_THAT(dataset, IsOk());
  EXPECT_EQ(dataset->kpis(0).display_name(), "x");
}

TEST(JsonTest, BadEnumNamesItsPath) {
  auto dataset =
      DatasetFromJson(R"({"kpis": [{}, {"kind": "KPI_KIND_SIDEWAYS"}]})");
  ASSERT_THAT(dataset, StatusIs(absl::StatusCode::kInvalidArgument));
  const Violations violations = base::GetFieldViolations(dataset.status());
  ASSERT_EQ(violations.size(), 1u);
  EXPECT_EQ(violations[0].field, "kpis[1].kind");
  EXPECT_THAT(violations[0].description, HasSubstr("KPI_KIND_SIDEWAYS"));
}

TEST(JsonTest, UnknownFieldsNameTheirPath) {
  auto top = DatasetFromJson(R"({"kpiz": []})");
  ASSERT_THAT(top, StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_EQ(base::GetFieldViolations(top.status())[0].field, "kpiz");
  auto nested = DatasetFromJson(R"({"kpis": [{"targetx": 1}]})");
  ASSERT_THAT(nested, StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_EQ(base::GetFieldViolations(nested.status())[0].field,
            "kpis[0].targetx");
  auto wrong_type =
      DatasetFromJson(R"({"kpis": [{"target": {"fiscalYear": 1.5}}]})");
  EXPECT_EQ(base::GetFieldViolations(wrong_type.status())[0].field,
            "kpis[0].target.fiscal_year");
}

TEST(JsonTest, MalformedJsonIsInvalidArgumentWithoutPath) {
  auto dataset = DatasetFromJson("{\"kpis\": [");
  EXPECT_THAT(dataset, StatusIs(absl::StatusCode::kInvalidArgument,
                                HasSubstr("not valid JSON")));
  EXPECT_THAT(base::GetFieldViolations(dataset.status()), IsEmpty());
}

}  // namespace
}  // namespace kpi::services
