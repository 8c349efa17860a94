#include "lib/dataset/csv.h"

#include "absl/strings/str_format.h"

namespace kpi::dataset {

std::vector<CsvRecord> ParseCsv(std::string_view text,
                                std::string_view source_name,
                                std::vector<base::FieldViolation>* violations) {
  std::vector<CsvRecord> records;
  int line = 1;
  size_t i = 0;
  const auto at_line_end = [&](size_t k) {
    return k >= text.size() || text[k] == '\n' ||
           (text[k] == '\r' && k + 1 < text.size() && text[k + 1] == '\n');
  };
  // Consumes the line break at text[i] (LF or CRLF), if any.
  const auto skip_line_break = [&] {
    if (i < text.size() && text[i] == '\r') ++i;
    if (i < text.size() && text[i] == '\n') {
      ++i;
      ++line;
    }
  };
  while (i < text.size()) {
    if (at_line_end(i)) {  // an empty line
      skip_line_break();
      continue;
    }
    CsvRecord record;
    record.line = line;
    const auto report = [&](int at_line, const std::string& what) {
      if (record.malformed) return;  // one problem per record is enough
      record.malformed = true;
      violations->push_back(
          {absl::StrFormat("%s:%d", source_name, at_line), what});
    };
    while (true) {
      std::string field;
      if (text[i] == '"') {
        const int open_line = line;
        ++i;
        bool closed = false;
        while (i < text.size()) {
          if (text[i] == '"') {
            if (i + 1 < text.size() && text[i + 1] == '"') {
              field += '"';
              i += 2;
              continue;
            }
            ++i;
            closed = true;
            break;
          }
          if (text[i] == '\n') ++line;
          field += text[i++];
        }
        if (!closed) {
          report(open_line,
                 "a quoted field opened here is never closed; close it with "
                 "\" and write a quote inside a field as \"\"");
        }
        // Anything between the closing quote and the next separator.
        if (!at_line_end(i) && text[i] != ',') {
          report(line,
                 "text after a closing quote; quote the whole field and "
                 "write a quote inside it as \"\"");
          while (!at_line_end(i) && text[i] != ',') field += text[i++];
        }
      } else {
        while (!at_line_end(i) && text[i] != ',') {
          if (text[i] == '"') {
            report(line,
                   "a double quote inside an unquoted field; quote the whole "
                   "field and write the quote as \"\"");
          } else if (text[i] == '\r') {
            report(line,
                   "a carriage return not followed by a line feed; end lines "
                   "with LF or CRLF");
          }
          field += text[i++];
        }
      }
      record.fields.push_back(std::move(field));
      if (i < text.size() && text[i] == ',') {
        ++i;
        if (i >= text.size() || at_line_end(i)) {
          record.fields.emplace_back();  // a trailing empty field
          break;
        }
        continue;
      }
      break;
    }
    skip_line_break();
    records.push_back(std::move(record));
  }
  return records;
}

void AppendCsvRecord(const std::vector<std::string>& fields, std::string* out) {
  for (size_t i = 0; i < fields.size(); ++i) {
    const std::string& f = fields[i];
    if (i > 0) out->push_back(',');
    const bool quote = f.find_first_of(",\"\r\n") != std::string::npos ||
                       (fields.size() == 1 && f.empty());
    if (!quote) {
      out->append(f);
      continue;
    }
    out->push_back('"');
    for (char c : f) {
      if (c == '"') out->push_back('"');
      out->push_back(c);
    }
    out->push_back('"');
  }
  out->push_back('\n');
}

}  // namespace kpi::dataset
