# cmake -DINPUT=file -DOUTPUT=file.cc -P embed_file.cmake
# Writes a .cc defining kpi::forecast::EmbeddedCalibrationText() with the
# bytes of INPUT (as a byte array, so that any content compiles).
file(READ "${INPUT}" hex HEX)
string(REGEX REPLACE "([0-9a-f][0-9a-f])" "0x\\1," bytes "${hex}")
string(REGEX REPLACE "(0x..,0x..,0x..,0x..,0x..,0x..,0x..,0x..,0x..,0x..,0x..,0x..,0x..,0x..,0x..,0x..,)" "\\1\n" bytes "${bytes}")
string(LENGTH "${hex}" hex_len)
math(EXPR len "${hex_len} / 2")
file(WRITE "${OUTPUT}.tmp"
"// Generated from ${INPUT} by embed_file.cmake; do not edit.
#include \"lib/forecast/embedded_calibration.h\"

namespace kpi::forecast {
namespace {
const char kText[] = {
${bytes}0};
}  // namespace

absl::string_view EmbeddedCalibrationText() {
  return absl::string_view(kText, ${len});
}

}  // namespace kpi::forecast
")
file(COPY_FILE "${OUTPUT}.tmp" "${OUTPUT}" ONLY_IF_DIFFERENT)
file(REMOVE "${OUTPUT}.tmp")
