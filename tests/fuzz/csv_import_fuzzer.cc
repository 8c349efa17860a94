// Fuzzes the CSV observation importer as `kpictl import FILE.csv` and
// ImportDataset run it: the file's bytes through DecodeText (encoding
// detection: UTF-8, UTF-8 with BOM, CP932), ParseObservationRows and
// CheckRowsAgainstKpis (lib/dataset).
//
// Properties: every file is imported or refused as a user error
// (fuzz_check.h); decoded text is UTF-8, and equals the bytes when they were
// UTF-8; every parsed observation is valid and named under its row's KPI;
// writing the rows back (WriteObservationsCsv) and parsing again gives the
// same observations and identity columns, bit for bit.

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "lib/dataset/observations_csv.h"
#include "lib/dataset/text_encoding.h"
#include "lib/domain/model.h"
#include "lib/domain/validation.h"
#include "tests/fuzz/fuzz_check.h"

namespace kpi::dataset {
namespace {

using fuzz::Check;

constexpr std::string_view kSource = "fuzz.csv";

bool SameBits(double a, double b) { return std::memcmp(&a, &b, 8) == 0; }

bool SameObservation(const domain::Observation& a,
                     const domain::Observation& b) {
  return a.name == b.name && a.fiscal_year == b.fiscal_year &&
         a.first_fiscal_year == b.first_fiscal_year &&
         a.aggregation == b.aggregation && SameBits(a.value, b.value) &&
         a.status == b.status && a.source_note == b.source_note &&
         a.reported_fiscal_year == b.reported_fiscal_year;
}

void CheckDecoded(std::string_view bytes, const DecodedText& decoded) {
  Check(!domain::FindInvalidUtf8(decoded.text).has_value(),
        "DecodeText returned text that is not UTF-8");
  switch (decoded.encoding) {
    case TextEncoding::kUtf8:
      Check(decoded.text == bytes, "UTF-8 input was changed");
      break;
    case TextEncoding::kUtf8WithBom:
      Check(bytes.substr(0, 3) == "\xEF\xBB\xBF" &&
                decoded.text == bytes.substr(3),
            "UTF-8 with BOM: not the bytes after the BOM");
      break;
    case TextEncoding::kCp932:
      Check(domain::FindInvalidUtf8(bytes).has_value(),
            "valid UTF-8 input was converted from CP932");
      // A file mixing UTF-8 lines with other bytes is refused, not
      // converted: no converted line is UTF-8 beyond ASCII.
      for (absl::string_view line : absl::StrSplit(
               absl::string_view(bytes.data(), bytes.size()), '\n')) {
        const bool ascii = std::all_of(line.begin(), line.end(), [](char c) {
          return static_cast<unsigned char>(c) < 0x80;
        });
        Check(ascii || domain::FindInvalidUtf8(
                           std::string_view(line.data(), line.size()))
                           .has_value(),
              "a file with a UTF-8 line was converted from CP932");
      }
      break;
  }
}

void FuzzOne(std::string_view bytes) {
  absl::StatusOr<DecodedText> decoded = DecodeText(bytes, kSource);
  if (!decoded.ok()) {
    fuzz::CheckUserError(decoded.status(), "DecodeText");
    return;
  }
  CheckDecoded(bytes, *decoded);
  const std::string& text = decoded->text;
  absl::StatusOr<std::vector<ObservationRow>> rows =
      ParseObservationRows(text, kSource);
  if (!rows.ok()) {
    fuzz::CheckUserError(rows.status(), "ParseObservationRows");
    return;
  }

  // The KPIs the rows name, as a store would hold them, taking the identity
  // columns of the first row of each.
  domain::Dataset dataset;
  absl::flat_hash_map<std::string, size_t> kpi_index;
  for (const ObservationRow& row : *rows) {
    Check(absl::StartsWith(row.observation.name,
                           absl::StrCat(row.kpi, "/observations/")),
          absl::StrCat("observation ", row.observation.name,
                       " is not under its KPI ", row.kpi));
    std::vector<base::FieldViolation> violations;
    domain::ValidateObservation(row.observation, "observation", &violations);
    Check(violations.empty(),
          absl::StrCat("an accepted row is invalid: ",
                       violations.empty() ? "" : violations[0].description));
    if (kpi_index.emplace(row.kpi, dataset.kpis.size()).second) {
      domain::Kpi kpi;
      kpi.name = row.kpi;
      kpi.display_name = row.kpi_display_name;
      kpi.unit = row.unit;
      dataset.kpis.push_back(kpi);
    }
    dataset.observations.push_back(row.observation);
  }
  const absl::Status fits = CheckRowsAgainstKpis(*rows, dataset.kpis, kSource);
  if (!fits.ok()) fuzz::CheckUserError(fits, "CheckRowsAgainstKpis");

  const std::string written = WriteObservationsCsv(dataset);
  absl::StatusOr<std::vector<ObservationRow>> again =
      ParseObservationRows(written, kSource);
  Check(again.ok(), absl::StrCat("the written CSV does not parse: ",
                                 again.status().ToString(), "\n", written));
  Check(again->size() == rows->size(),
        absl::StrCat("the written CSV has ", again->size(), " rows, not ",
                     rows->size()));
  for (size_t i = 0; i < rows->size(); ++i) {
    const ObservationRow& a = (*rows)[i];
    const ObservationRow& b = (*again)[i];
    const domain::Kpi& kpi = dataset.kpis[kpi_index[a.kpi]];
    Check(SameObservation(a.observation, b.observation) && a.kpi == b.kpi &&
              b.kpi_display_name == kpi.display_name && b.unit == kpi.unit,
          absl::StrCat("row ", i, " does not round-trip:\n", written));
  }
}

}  // namespace
}  // namespace kpi::dataset

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  kpi::dataset::FuzzOne(
      std::string_view(reinterpret_cast<const char*>(data), size));
  return 0;
}
