#include "lib/base/quote.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace kpi::base {
namespace {

// The length of the well-formed UTF-8 sequence at the start of `s` (no
// overlong forms, surrogates or code points past U+10FFFF), or 0.
size_t Utf8Length(std::string_view s) {
  const auto byte = [&](size_t i) { return static_cast<unsigned char>(s[i]); };
  const unsigned char b0 = byte(0);
  if (b0 < 0x80) return 1;
  size_t len;
  unsigned char lo = 0x80, hi = 0xBF;  // bounds of the second byte
  if (b0 >= 0xC2 && b0 <= 0xDF) {
    len = 2;
  } else if (b0 >= 0xE0 && b0 <= 0xEF) {
    len = 3;
    if (b0 == 0xE0) lo = 0xA0;
    if (b0 == 0xED) hi = 0x9F;
  } else if (b0 >= 0xF0 && b0 <= 0xF4) {
    len = 4;
    if (b0 == 0xF0) lo = 0x90;
    if (b0 == 0xF4) hi = 0x8F;
  } else {
    return 0;
  }
  if (s.size() < len || byte(1) < lo || byte(1) > hi) return 0;
  for (size_t i = 2; i < len; ++i) {
    if ((byte(i) & 0xC0) != 0x80) return 0;
  }
  return len;
}

}  // namespace

std::string QuoteInput(std::string_view input) {
  std::string out = "\"";
  std::string piece;
  size_t pos = 0;
  while (pos < input.size()) {
    const size_t len = Utf8Length(input.substr(pos));
    const unsigned char c = static_cast<unsigned char>(input[pos]);
    piece.clear();
    if (len > 1) {
      piece.assign(input.data() + pos, len);
    } else if (len == 0 || c < 0x20 || c == 0x7F) {
      switch (c) {
        case '\n':
          piece = "\\n";
          break;
        case '\r':
          piece = "\\r";
          break;
        case '\t':
          piece = "\\t";
          break;
        default:
          piece = absl::StrFormat("\\x%02X", c);
      }
    } else {
      if (c == '"' || c == '\\') piece.push_back('\\');
      piece.push_back(static_cast<char>(c));
    }
    // The bound is on what the message holds, escapes included.
    if (out.size() - 1 + piece.size() > kMaxQuotedBytes) break;
    out += piece;
    pos += len == 0 ? 1 : len;
  }
  if (pos < input.size()) {
    absl::StrAppend(&out, "…\" (", input.size(), " bytes)");
  } else {
    out.push_back('"');
  }
  return out;
}

}  // namespace kpi::base
