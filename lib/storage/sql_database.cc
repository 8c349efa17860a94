#include "lib/storage/sql_database.h"

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"

namespace kpi::storage {

bool SqlRow::IsNull(size_t i) const {
  return i >= columns_.size() ||
         std::holds_alternative<std::monostate>(columns_[i]);
}

int64_t SqlRow::Int(size_t i) const {
  if (i >= columns_.size()) return 0;
  const SqlValue& v = columns_[i];
  if (const auto* n = std::get_if<int64_t>(&v)) return *n;
  if (const auto* d = std::get_if<double>(&v)) return static_cast<int64_t>(*d);
  if (const auto* s = std::get_if<std::string>(&v)) {
    int64_t n = 0;
    return absl::SimpleAtoi(*s, &n) ? n : 0;
  }
  return 0;
}

double SqlRow::Double(size_t i) const {
  if (i >= columns_.size()) return 0;
  const SqlValue& v = columns_[i];
  if (const auto* d = std::get_if<double>(&v)) return *d;
  if (const auto* n = std::get_if<int64_t>(&v)) return static_cast<double>(*n);
  if (const auto* s = std::get_if<std::string>(&v)) {
    double d = 0;
    return absl::SimpleAtod(*s, &d) ? d : 0;
  }
  return 0;
}

std::string SqlRow::Text(size_t i) const {
  if (i >= columns_.size()) return "";
  const SqlValue& v = columns_[i];
  if (const auto* s = std::get_if<std::string>(&v)) return *s;
  if (const auto* n = std::get_if<int64_t>(&v)) return absl::StrCat(*n);
  if (const auto* d = std::get_if<double>(&v)) return absl::StrCat(*d);
  return "";
}

}  // namespace kpi::storage
