# Sourced with a build directory: exports the options of the sanitizers that
# build was made with (KPI_SANITIZE in its CMakeCache.txt), for ctest and
# every process the tests start. Nothing for an ordinary build.
#   source tests/sanitizers/env.sh build-asan && ctest --test-dir build-asan
_kpi_sanitize=$(sed -n 's/^KPI_SANITIZE:STRING=//p' "${1:-build}/CMakeCache.txt" 2>/dev/null || true)
_kpi_sanitizers_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
if [[ -n $_kpi_sanitize ]]; then
  # Reports with file and line.
  for _kpi_s in llvm-symbolizer-14 llvm-symbolizer; do
    if command -v "$_kpi_s" >/dev/null; then
      export ASAN_SYMBOLIZER_PATH=$(command -v "$_kpi_s")
      export TSAN_SYMBOLIZER_PATH=$ASAN_SYMBOLIZER_PATH
      break
    fi
  done
  export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:strict_string_checks=1:detect_stack_use_after_return=1:check_initialization_order=1:strict_init_order=1}
  export LSAN_OPTIONS=${LSAN_OPTIONS:-suppressions=$_kpi_sanitizers_dir/lsan.supp:print_suppressions=0}
  export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
  export TSAN_OPTIONS=${TSAN_OPTIONS:-halt_on_error=1:second_deadlock_stack=1:suppressions=$_kpi_sanitizers_dir/tsan.supp}
fi
unset _kpi_sanitize _kpi_sanitizers_dir _kpi_s
