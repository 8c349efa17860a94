#include "lib/dataset/encode_text.h"

#include <iconv.h>

#include <algorithm>
#include <cerrno>
#include <optional>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "lib/base/utf8.h"

namespace kpi::dataset {
namespace {

constexpr std::string_view kUtf8Bom = "\xEF\xBB\xBF";

absl::string_view AsAbsl(std::string_view s) { return {s.data(), s.size()}; }

// Converts all of `in` with glibc iconv; nullopt when some byte does not
// convert.
std::optional<std::string> Convert(std::string_view in, const char* to,
                                   const char* from) {
  iconv_t cd = iconv_open(to, from);
  if (cd == reinterpret_cast<iconv_t>(-1)) return std::nullopt;
  // UTF-8 to CP932 never grows; CP932 to UTF-8 at most triples.
  std::string out(3 * in.size() + 4, '\0');
  char* in_ptr = const_cast<char*>(in.data());
  size_t in_left = in.size();
  char* out_ptr = out.data();
  size_t out_left = out.size();
  const size_t rc = iconv(cd, &in_ptr, &in_left, &out_ptr, &out_left);
  iconv_close(cd);
  if (rc == static_cast<size_t>(-1) || in_left != 0) return std::nullopt;
  out.resize(out.size() - out_left);
  return out;
}

// The seven characters JIS X 0208 and Microsoft's CP932 table decode
// differently: glibc writes the first with the code CP932 reads as the
// second.
bool IsCp932Substitute(char32_t from, char32_t to) {
  static constexpr char32_t kPairs[][2] = {
      {0x301C, 0xFF5E},  // 〜 WAVE DASH -> ～
      {0x2212, 0xFF0D},  // − MINUS SIGN -> －
      {0x2016, 0x2225},  // ‖ DOUBLE VERTICAL LINE -> ∥
      {0x00A2, 0xFFE0},  // ¢ -> ￠
      {0x00A3, 0xFFE1},  // £ -> ￡
      {0x00AC, 0xFFE2},  // ¬ -> ￢
      {0x2014, 0x2015},  // — EM DASH -> ―
  };
  return std::any_of(
      std::begin(kPairs), std::end(kPairs),
      [&](const char32_t* p) { return p[0] == from && p[1] == to; });
}

absl::Status Unencodable(std::string_view utf8, size_t offset, int first_line,
                         std::string_view why) {
  const size_t line_start = utf8.rfind('\n', offset == 0 ? 0 : offset - 1);
  const size_t start =
      offset == 0 || line_start == std::string_view::npos ? 0 : line_start + 1;
  const int line = first_line + static_cast<int>(std::count(
                                    utf8.begin(), utf8.begin() + offset, '\n'));
  std::string_view row = utf8.substr(start);
  row = row.substr(0, std::min(row.find_first_of(",\n"), size_t{80}));
  size_t end = offset;
  const char32_t c = base::NextCodePoint(utf8, &end);
  return absl::InvalidArgumentError(absl::StrFormat(
      "line %d (%s): \"%s\" (U+%04X) %s in CP932 (Shift_JIS as Windows "
      "writes it); write the file with --encoding=utf-8-bom or utf-8, which "
      "hold every character, or change the text",
      line, row, utf8.substr(offset, end - offset), static_cast<uint32_t>(c),
      why));
}

absl::StatusOr<std::string> EncodeCp932(std::string_view utf8, int first_line) {
  std::optional<std::string> encoded = Convert(utf8, "CP932", "UTF-8");
  if (!encoded.has_value()) {
    // Find the first character that does not convert, one at a time.
    for (size_t i = 0; i < utf8.size();) {
      const size_t start = i;
      base::NextCodePoint(utf8, &i);
      if (!Convert(utf8.substr(start, i - start), "CP932", "UTF-8")) {
        return Unencodable(utf8, start, first_line, "has no code");
      }
    }
    return absl::InvalidArgumentError(
        "the text does not convert to CP932 (invalid UTF-8)");
  }
  std::optional<std::string> back = Convert(*encoded, "UTF-8", "CP932");
  if (back.has_value() && *back == utf8) return *std::move(encoded);
  if (!back.has_value()) {
    return absl::InternalError("CP932 output does not read back");
  }
  // Walk both texts a character at a time: each character converts to one.
  size_t i = 0;
  size_t j = 0;
  while (i < utf8.size() && j < back->size()) {
    const size_t start = i;
    const char32_t a = base::NextCodePoint(utf8, &i);
    const char32_t b = base::NextCodePoint(*back, &j);
    if (a != b && !IsCp932Substitute(a, b)) {
      return Unencodable(
          utf8, start, first_line,
          absl::StrFormat("has no code of its own (its code reads back as "
                          "U+%04X)",
                          static_cast<uint32_t>(b)));
    }
  }
  return *std::move(encoded);
}

}  // namespace

absl::StatusOr<TextEncoding> ParseTextEncoding(std::string_view name,
                                               std::string_view flag) {
  const std::string lower = absl::AsciiStrToLower(std::string(name));
  if (lower == "utf-8" || lower == "utf8") return TextEncoding::kUtf8;
  if (lower == "utf-8-bom" || lower == "utf-8-sig" || lower == "utf8-bom") {
    return TextEncoding::kUtf8WithBom;
  }
  if (lower == "cp932" || lower == "shift_jis" || lower == "sjis" ||
      lower == "windows-31j") {
    return TextEncoding::kCp932;
  }
  return absl::InvalidArgumentError(absl::StrCat(
      AsAbsl(flag), "=", AsAbsl(name.substr(0, 32)),
      " is not an encoding; accepted: utf-8, utf-8-bom (UTF-8 with a byte "
      "order mark, which Japanese Excel opens without mojibake), cp932 "
      "(Shift_JIS as Windows writes it)"));
}

std::string_view TextEncodingFlagValue(TextEncoding encoding) {
  switch (encoding) {
    case TextEncoding::kUtf8:
      return "utf-8";
    case TextEncoding::kUtf8WithBom:
      return "utf-8-bom";
    case TextEncoding::kCp932:
      return "cp932";
  }
  return "utf-8";
}

std::string_view EncodingPreamble(TextEncoding encoding) {
  return encoding == TextEncoding::kUtf8WithBom ? kUtf8Bom : std::string_view();
}

absl::StatusOr<std::string> EncodeText(std::string_view utf8,
                                       TextEncoding encoding, int first_line) {
  if (encoding != TextEncoding::kCp932) return std::string(utf8);
  return EncodeCp932(utf8, first_line);
}

absl::StatusOr<std::string> EncodeFile(std::string_view utf8,
                                       TextEncoding encoding) {
  absl::StatusOr<std::string> body = EncodeText(utf8, encoding);
  if (!body.ok()) return body.status();
  return absl::StrCat(AsAbsl(EncodingPreamble(encoding)), *body);
}

}  // namespace kpi::dataset
