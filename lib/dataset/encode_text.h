#ifndef KPI_LIB_DATASET_ENCODE_TEXT_H_
#define KPI_LIB_DATASET_ENCODE_TEXT_H_

// Writing text files in the encoding their reader needs: UTF-8, UTF-8 with a
// byte order mark (what Japanese Excel needs to open a CSV without
// mojibake), or CP932 (Shift_JIS as Windows writes it, for older systems).
// DecodeText (text_encoding.h) reads each of them back. All functions are
// pure and thread-safe (each call opens its own iconv descriptor).

#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "lib/dataset/text_encoding.h"

namespace kpi::dataset {

// "utf-8", "utf-8-bom" or "cp932" (any case; also utf8, utf-8-sig,
// shift_jis, sjis and windows-31j). INVALID_ARGUMENT naming `flag` and
// listing the accepted names otherwise.
absl::StatusOr<TextEncoding> ParseTextEncoding(std::string_view name,
                                               std::string_view flag);

// The name ParseTextEncoding reads: "utf-8", "utf-8-bom", "cp932".
std::string_view TextEncodingFlagValue(TextEncoding encoding);

// What starts a file: the UTF-8 byte order mark for kUtf8WithBom, else "".
std::string_view EncodingPreamble(TextEncoding encoding);

// `utf8` (valid UTF-8) in `encoding`, without the preamble, so that a file
// written in parts converts each part. UTF-8 either way is unchanged.
//
// CP932 must give back the same text when read: a character is written
// only when its code reads back as itself, or as the character CP932 has in
// its place for the seven that JIS and Windows map differently (〜 U+301C
// is written as ～, − as －, ‖ as ∥, ¢ as ￠, £ as ￡, ¬ as ￢, — as ―).
// Anything else (𠮷, emoji, ¥ whose code would read back as a backslash)
// is INVALID_ARGUMENT naming the line (counting from `first_line`), the
// row's first field, the character and its code point, and the encodings
// that can hold it.
absl::StatusOr<std::string> EncodeText(std::string_view utf8,
                                       TextEncoding encoding,
                                       int first_line = 1);

// EncodingPreamble + EncodeText: a whole file.
absl::StatusOr<std::string> EncodeFile(std::string_view utf8,
                                       TextEncoding encoding);

}  // namespace kpi::dataset

#endif  // KPI_LIB_DATASET_ENCODE_TEXT_H_
