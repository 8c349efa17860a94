#ifndef KPI_LIB_DATASET_TEXT_ENCODING_H_
#define KPI_LIB_DATASET_TEXT_ENCODING_H_

// Turning an imported file's bytes into UTF-8 text. Japanese open data comes
// as UTF-8 (with or without a byte order mark) or as Shift_JIS/CP932; a file
// is converted only when its encoding is certain, never garbled.

#include <string>
#include <string_view>

#include "absl/status/statusor.h"

namespace kpi::dataset {

enum class TextEncoding {
  kUtf8,         // valid UTF-8, passed through
  kUtf8WithBom,  // valid UTF-8 after a byte order mark, which is removed
  kCp932,        // converted from Shift_JIS / CP932 (Windows-31J)
};

// "UTF-8", "UTF-8 with BOM" or "CP932", for messages.
std::string_view TextEncodingName(TextEncoding encoding);

struct DecodedText {
  std::string text;  // UTF-8, without a byte order mark
  TextEncoding encoding;
};

// Decodes a file's bytes. Valid UTF-8 passes unchanged (minus a UTF-8 byte
// order mark); otherwise the bytes are converted from CP932 with iconv when
// every byte converts. `source_name` (the file name) starts every message.
//
// Returns INVALID_ARGUMENT for:
// - a UTF-16 or UTF-32 byte order mark ("convert it to UTF-8");
// - a NUL byte (UTF-16 without a byte order mark, or not text);
// - a UTF-8 byte order mark followed by bytes that are not UTF-8;
// - bytes that are neither UTF-8 nor CP932: "FILE: not UTF-8 (byte N) and
//   not Shift_JIS/CP932 (byte M); save it as UTF-8";
// - bytes that read as CP932 only with half-width katakana and are valid
//   EUC-JP too: such a file is almost surely EUC-JP, which is rejected
//   rather than guessed.
// Thread-safe (each call opens its own iconv descriptor).
absl::StatusOr<DecodedText> DecodeText(std::string_view bytes,
                                       std::string_view source_name);

// As DecodeText, with the same result or error, but taking the bytes: valid
// UTF-8 (with or without a byte order mark) becomes the text in the same
// buffer, so that a large file is not held twice (kpictl import).
// Thread-safe.
absl::StatusOr<DecodedText> DecodeOwnedText(std::string bytes,
                                            std::string_view source_name);

}  // namespace kpi::dataset

#endif  // KPI_LIB_DATASET_TEXT_ENCODING_H_
