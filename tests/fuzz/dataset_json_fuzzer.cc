// Fuzzes the JSON dataset importer as `kpictl import FILE.json` and
// ImportDataset run it: DatasetFromJson (protobuf's JSON mapping of
// kpi.v1.Dataset), FromProto (proto -> domain) and ValidateDataset.
//
// Properties: every text is imported or refused as a user error
// (fuzz_check.h) at each step; an accepted dataset prints as JSON
// (DatasetToJson) and that JSON parses to the same message; the proto ->
// domain -> proto conversion loses nothing of a valid dataset.

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "absl/strings/str_cat.h"
#include "google/protobuf/util/field_comparator.h"
#include "google/protobuf/util/message_differencer.h"
#include "kpi/v1/resources.pb.h"
#include "lib/base/field_violations.h"
#include "lib/domain/model.h"
#include "lib/domain/validation.h"
#include "services/convert.h"
#include "tests/fuzz/fuzz_check.h"

namespace kpi::services {
namespace {

using fuzz::Check;
using google::protobuf::util::DefaultFieldComparator;
using google::protobuf::util::MessageDifferencer;

// Whether `a` and `b` are equal field for field, doubles bit for bit but
// NaN equal to NaN (JSON carries "NaN"; validation refuses it later).
bool SameMessage(const google::protobuf::Message& a,
                 const google::protobuf::Message& b, std::string* diff) {
  DefaultFieldComparator comparator;
  comparator.set_float_comparison(DefaultFieldComparator::EXACT);
  comparator.set_treat_nan_as_equal(true);
  MessageDifferencer differencer;
  differencer.set_field_comparator(&comparator);
  differencer.ReportDifferencesToString(diff);
  return differencer.Compare(a, b);
}

void CheckJsonRoundTrip(const v1::Dataset& dataset, const std::string& what) {
  absl::StatusOr<std::string> json = DatasetToJson(dataset);
  Check(
      json.ok(),
      absl::StrCat(what, ": DatasetToJson failed: ", json.status().ToString()));
  absl::StatusOr<v1::Dataset> again = DatasetFromJson(*json);
  Check(again.ok(), absl::StrCat(what, ": the printed JSON does not parse: ",
                                 again.status().ToString(), "\n", *json));
  std::string diff;
  Check(SameMessage(dataset, *again, &diff),
        absl::StrCat(what,
                     ": the printed JSON parses to another dataset: ", diff));
}

void FuzzOne(std::string_view json) {
  absl::StatusOr<v1::Dataset> parsed = DatasetFromJson(json);
  if (!parsed.ok()) {
    fuzz::CheckUserError(parsed.status(), "DatasetFromJson");
    return;
  }
  CheckJsonRoundTrip(*parsed, "parsed");

  Violations violations;
  const domain::Dataset dataset = FromProto(*parsed, "dataset", &violations);
  if (!violations.empty()) {
    fuzz::CheckUserError(
        base::InvalidArgumentWithViolations("invalid dataset:", violations),
        "FromProto");
    return;
  }
  const absl::Status valid = domain::ValidateDataset(dataset);
  if (!valid.ok()) {
    fuzz::CheckUserError(valid, "ValidateDataset");
    return;
  }
  // What is imported is what was sent: for a valid dataset (whose required
  // messages are all present) the domain holds every field.
  v1::Dataset back;
  ToProto(dataset, &back);
  std::string diff;
  Check(SameMessage(*parsed, back, &diff),
        absl::StrCat("proto -> domain -> proto changed the dataset: ", diff));
}

}  // namespace
}  // namespace kpi::services

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  kpi::services::FuzzOne(
      std::string_view(reinterpret_cast<const char*>(data), size));
  return 0;
}
