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
  Conversion cp932 = ConvertToUtf8(bytes, "CP932");
  if (cp932.bad.has_value()) {
    return invalid(absl::StrFormat(
        "not UTF-8 (byte %d) and not Shift_JIS/CP932 (byte %d); save it as "
        "UTF-8",
        *bad_utf8, *cp932.bad));
  }
  if (HasHalfWidthKatakana(cp932.text) &&
      !ConvertToUtf8(bytes, "EUC-JP").bad.has_value()) {
    return invalid(absl::StrFormat(
        "not UTF-8 (byte %d); it reads as EUC-JP and, with half-width "
        "katakana, as Shift_JIS/CP932, so its encoding is uncertain; save it "
        "as UTF-8",
        *bad_utf8));
  }
  return DecodedText{std::move(cp932.text), TextEncoding::kCp932};
}

}  // namespace kpi::dataset
