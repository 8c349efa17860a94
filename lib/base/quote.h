#ifndef KPI_LIB_BASE_QUOTE_H_
#define KPI_LIB_BASE_QUOTE_H_

// Quoting input in error messages. A message says what was wrong with an
// input, but must stay short and valid UTF-8 whatever the input is: gRPC
// sends it in a trailer of at most 8 KiB, and the google.rpc.BadRequest
// detail holds it in protobuf strings, which must be UTF-8.

#include <cstddef>
#include <string>
#include <string_view>

namespace kpi::base {

// The most bytes of an input a message quotes.
inline constexpr size_t kMaxQuotedBytes = 160;

// `input` in double quotes, for a message: at most kMaxQuotedBytes of it,
// cut at a character boundary and followed by "…" and its length in bytes
// when longer ("\"令和3年…\" (4096 bytes)"); bytes that are not UTF-8 and
// control characters written as \xNN, \n, \r or \t; a double quote or
// backslash escaped with a backslash. Pure; thread-safe.
std::string QuoteInput(std::string_view input);

}  // namespace kpi::base

#endif  // KPI_LIB_BASE_QUOTE_H_
