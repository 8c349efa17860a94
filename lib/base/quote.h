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

// The most bytes a message quotes of one input, escapes included.
inline constexpr size_t kMaxQuotedBytes = 160;

// `input` in double quotes, for a message: bytes that are not UTF-8 and
// control characters written as \xNN, \n, \r or \t; a double quote or
// backslash escaped with a backslash. When that text is longer than
// kMaxQuotedBytes, a prefix of at most kMaxQuotedBytes, cut at a character
// (or escape) boundary and followed by "…" and the input's length in bytes
// ("\"令和3年…\" (4096 bytes)"). Pure; thread-safe.
std::string QuoteInput(std::string_view input);

}  // namespace kpi::base

#endif  // KPI_LIB_BASE_QUOTE_H_
