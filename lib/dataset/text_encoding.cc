#include "lib/dataset/text_encoding.h"

#include <iconv.h>

#include <optional>

#include "absl/status/status.h"
#include "absl/strings/str_format.h"
#include "lib/domain/validation.h"

namespace kpi::dataset {
namespace {

bool StartsWith(std::string_view s, std::string_view prefix) {
  return s.substr(0, prefix.size()) == prefix;
}

struct Conversion {
  std::string text;           // when the whole input converted
  std::optional<size_t> bad;  // offset of the first byte that did not
};

// Converts `bytes` from `from` to UTF-8 with glibc iconv.
Conversion ConvertToUtf8(std::string_view bytes, const char* from) {
  Conversion result;
  iconv_t cd = iconv_open("UTF-8", from);
  if (cd == reinterpret_cast<iconv_t>(-1)) {
    result.bad = 0;
    return result;
  }
  // Each input byte yields at most 3 UTF-8 bytes (a half-width katakana).
  std::string out(3 * bytes.size() + 4, '\0');
  char* in_ptr = const_cast<char*>(bytes.data());
  size_t in_left = bytes.size();
  char* out_ptr = out.data();
  size_t out_left = out.size();
  const size_t rc = iconv(cd, &in_ptr, &in_left, &out_ptr, &out_left);
  if (rc == static_cast<size_t>(-1) || in_left != 0) {
    result.bad = bytes.size() - in_left;
  } else {
    out.resize(out.size() - out_left);
    result.text = std::move(out);
  }
  iconv_close(cd);
  return result;
}

bool HasHalfWidthKatakana(std::string_view utf8) {
  // U+FF61..U+FF9F is EF BD A1..EF BD BF and EF BE 80..EF BE 9F.
  for (size_t i = 0; i + 2 < utf8.size(); ++i) {
    const auto b = [&](size_t k) {
      return static_cast<unsigned char>(utf8[k]);
    };
    if (b(i) != 0xEF) continue;
    if ((b(i + 1) == 0xBD && b(i + 2) >= 0xA1) ||
        (b(i + 1) == 0xBE && b(i + 2) <= 0x9F)) {
      return true;
    }
  }
  return false;
}

// 1 + the number of '\n' before `offset`.
size_t LineAt(std::string_view bytes, size_t offset) {
  size_t line = 1;
  for (size_t i = 0; i < offset && i < bytes.size(); ++i) {
    if (bytes[i] == '\n') ++line;
  }
  return line;
}

// How one line's bytes read as UTF-8.
enum class LineUtf8 {
  kAscii,    // ASCII only: both encodings agree
  kValid,    // UTF-8 with at least one non-ASCII character
  kCut,      // UTF-8 characters, and none but characters cut short
  kInvalid,  // a byte no UTF-8 writer emits where it stands
};

// The length of the UTF-8 sequence led by `b`, 0 for a byte that cannot
// lead one (ASCII is 1).
int SequenceLength(unsigned char b) {
  if (b < 0x80) return 1;
  if (b >= 0xC2 && b <= 0xDF) return 2;
  if (b >= 0xE0 && b <= 0xEF) return 3;
  if (b >= 0xF0 && b <= 0xF4) return 4;
  return 0;
}

// Classifies `line`. A UTF-8 line spoilt by cutting (a sequence's lead byte
// and fewer continuation bytes than it needs, then ASCII or the end) keeps
// every other character valid; a CP932 line has a lead byte 0x81..0x9F
// (kana, level-1 kanji, symbols) or a half-width katakana 0xA1..0xDF, which
// in UTF-8 are continuation bytes without a lead, so it is kInvalid.
LineUtf8 ClassifyLine(std::string_view line) {
  bool non_ascii = false;
  bool cut = false;
  size_t i = 0;
  while (i < line.size()) {
    const auto b = static_cast<unsigned char>(line[i]);
    const int length = SequenceLength(b);
    if (length == 1) {
      ++i;
      continue;
    }
    if (length == 0) return LineUtf8::kInvalid;
    const std::string_view rest = line.substr(i, length);
    if (!domain::FindInvalidUtf8(rest).has_value() &&
        rest.size() == static_cast<size_t>(length)) {
      non_ascii = true;
      i += length;
      continue;
    }
    // Not a whole character: cut only if the bytes after the lead are all
    // continuation bytes up to ASCII or the end of the line.
    size_t j = i + 1;
    while (j < line.size() && j < i + length &&
           (static_cast<unsigned char>(line[j]) & 0xC0) == 0x80) {
      ++j;
    }
    if (j < line.size() && static_cast<unsigned char>(line[j]) >= 0x80) {
      return LineUtf8::kInvalid;
    }
    cut = true;
    i = j;
  }
  if (cut) return non_ascii ? LineUtf8::kCut : LineUtf8::kInvalid;
  return non_ascii ? LineUtf8::kValid : LineUtf8::kAscii;
}

}  // namespace

std::string_view TextEncodingName(TextEncoding encoding) {
  switch (encoding) {
    case TextEncoding::kUtf8:
      return "UTF-8";
    case TextEncoding::kUtf8WithBom:
      return "UTF-8 with BOM";
    case TextEncoding::kCp932:
      return "CP932";
  }
  return "?";
}

absl::StatusOr<DecodedText> DecodeText(std::string_view bytes,
                                       std::string_view source_name) {
  const auto invalid = [&](const std::string& what) {
    return absl::InvalidArgumentError(
        absl::StrFormat("%s: %s", source_name, what));
  };
  if (StartsWith(bytes, std::string_view("\xFF\xFE", 2)) ||
      StartsWith(bytes, std::string_view("\xFE\xFF", 2)) ||
      StartsWith(bytes, std::string_view("\0\0\xFE\xFF", 4))) {
    return invalid(
        "is UTF-16 or UTF-32 (it starts with that byte order mark); convert "
        "it to UTF-8, e.g. iconv -f UTF-16 -t UTF-8, or save it as UTF-8");
  }
  const size_t nul = bytes.find('\0');
  if (nul != std::string_view::npos) {
    return invalid(absl::StrFormat(
        "has a NUL byte at byte %d, so it is not UTF-8 or Shift_JIS text "
        "(UTF-16 without a byte order mark?); save it as UTF-8",
        nul));
  }
  constexpr std::string_view kBom = "\xEF\xBB\xBF";
  if (StartsWith(bytes, kBom)) {
    const std::string_view body = bytes.substr(kBom.size());
    if (std::optional<size_t> bad = domain::FindInvalidUtf8(body)) {
      return invalid(absl::StrFormat(
          "starts with a UTF-8 byte order mark but byte %d is not UTF-8; "
          "save it as UTF-8",
          *bad + kBom.size()));
    }
    return DecodedText{std::string(body), TextEncoding::kUtf8WithBom};
  }
  const std::optional<size_t> bad_utf8 = domain::FindInvalidUtf8(bytes);
  if (!bad_utf8.has_value()) {
    return DecodedText{std::string(bytes), TextEncoding::kUtf8};
  }
  // Not UTF-8. CP932 lead bytes include 0xE0..0xEF and trail bytes include
  // 0x80..0xBF, so most UTF-8 text also converts "from CP932" (旭川市 as
  // 譌ｭ蟾晏ｸ...): before converting, refuse a file with UTF-8 lines or a
  // UTF-8 line with a character cut short.
  std::optional<size_t> first_utf8_line;
  std::optional<size_t> first_bad_line;  // with its byte offset below
  size_t first_bad_offset = 0;
  size_t line_number = 1;
  for (size_t start = 0; start < bytes.size(); ++line_number) {
    size_t end = bytes.find('\n', start);
    if (end == std::string_view::npos) end = bytes.size();
    const std::string_view line = bytes.substr(start, end - start);
    switch (ClassifyLine(line)) {
      case LineUtf8::kAscii:
        break;
      case LineUtf8::kValid:
        if (!first_utf8_line) first_utf8_line = line_number;
        break;
      case LineUtf8::kCut:
        if (!first_utf8_line) {
          return invalid(absl::StrFormat(
              "line %d is UTF-8 with a character cut short at byte %d; save "
              "the whole file as UTF-8",
              line_number, start + *domain::FindInvalidUtf8(line)));
        }
        [[fallthrough]];
      case LineUtf8::kInvalid:
        if (!first_bad_line) {
          first_bad_line = line_number;
          first_bad_offset = start + *domain::FindInvalidUtf8(line);
        }
        break;
    }
    if (first_utf8_line && first_bad_line) {
      return invalid(absl::StrFormat(
          "mixes encodings: line %d is UTF-8 but line %d is not (byte %d); "
          "save the whole file as UTF-8",
          *first_utf8_line, *first_bad_line, first_bad_offset));
    }
    start = end + 1;
  }
  Conversion cp932 = ConvertToUtf8(bytes, "CP932");
  if (cp932.bad.has_value()) {
    return invalid(absl::StrFormat(
        "not UTF-8 (line %d, byte %d) and not Shift_JIS/CP932 (line %d, byte "
        "%d); save it as UTF-8",
        LineAt(bytes, *bad_utf8), *bad_utf8, LineAt(bytes, *cp932.bad),
        *cp932.bad));
  }
  if (HasHalfWidthKatakana(cp932.text) &&
      !ConvertToUtf8(bytes, "EUC-JP").bad.has_value()) {
    return invalid(absl::StrFormat(
        "not UTF-8 (line %d, byte %d); it reads as EUC-JP and, with "
        "half-width katakana, as Shift_JIS/CP932, so its encoding is "
        "uncertain; save it as UTF-8",
        LineAt(bytes, *bad_utf8), *bad_utf8));
  }
  return DecodedText{std::move(cp932.text), TextEncoding::kCp932};
}

absl::StatusOr<DecodedText> DecodeOwnedText(std::string bytes,
                                            std::string_view source_name) {
  // What DecodeText passes through: UTF-8 without a NUL byte after an
  // optional UTF-8 byte order mark (the UTF-16 and UTF-32 marks are not
  // UTF-8 or hold a NUL, so they never get here).
  constexpr std::string_view kBom = "\xEF\xBB\xBF";
  const bool bom = StartsWith(bytes, kBom);
  const std::string_view body =
      std::string_view(bytes).substr(bom ? kBom.size() : 0);
  if (body.find('\0') != std::string_view::npos ||
      domain::FindInvalidUtf8(body).has_value()) {
    return DecodeText(bytes, source_name);
  }
  if (bom) bytes.erase(0, kBom.size());
  return DecodedText{std::move(bytes),
                     bom ? TextEncoding::kUtf8WithBom : TextEncoding::kUtf8};
}

}  // namespace kpi::dataset
