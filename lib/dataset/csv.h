#ifndef KPI_LIB_DATASET_CSV_H_
#define KPI_LIB_DATASET_CSV_H_

// RFC 4180 CSV: fields separated by commas, records by CRLF or LF; a field
// in double quotes may hold commas, line breaks and doubled quotes ("").
// Pure functions, thread-safe.

#include <string>
#include <string_view>
#include <vector>

#include "lib/base/field_violations.h"

namespace kpi::dataset {

struct CsvRecord {
  // 1-based line on which the record starts.
  int line = 0;
  std::vector<std::string> fields;
  // A syntax problem was reported for this record; its fields are a best
  // effort and should not be checked further.
  bool malformed = false;
};

// Splits `text` into records, skipping empty lines. Syntax problems (a
// quote inside an unquoted field, text after a closing quote, a quoted
// field left open at the end, a carriage return not followed by a line
// feed) are appended to `violations` with field "SOURCE:LINE", and the
// record is marked malformed; parsing goes on with the next record.
std::vector<CsvRecord> ParseCsv(std::string_view text,
                                std::string_view source_name,
                                std::vector<base::FieldViolation>* violations);

// Appends `fields` as one record ending in "\n", quoting a field when it
// holds a comma, a double quote, a CR or an LF, or is the only field and
// empty (so that the record is not an empty line).
void AppendCsvRecord(const std::vector<std::string>& fields, std::string* out);

}  // namespace kpi::dataset

#endif  // KPI_LIB_DATASET_CSV_H_
