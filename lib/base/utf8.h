#ifndef KPI_LIB_BASE_UTF8_H_
#define KPI_LIB_BASE_UTF8_H_

// Reading and writing UTF-8 one code point at a time, for code that compares
// or converts Japanese text character by character. Pure; thread-safe.

#include <string>
#include <string_view>

namespace kpi::base {

// The code point of the UTF-8 sequence at s[*i], advancing *i past it.
// An invalid or truncated sequence gives U+FFFD and advances one byte.
// Requires *i < s.size().
char32_t NextCodePoint(std::string_view s, size_t* i);

// Appends `c` to `out` in UTF-8.
void AppendCodePoint(char32_t c, std::string* out);

}  // namespace kpi::base

#endif  // KPI_LIB_BASE_UTF8_H_
