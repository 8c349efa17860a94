#!/usr/bin/env bash
# Runs a fuzz target for ctest (tests/fuzz/CMakeLists.txt).
#
#   run.sh replay TARGET INPUT...   each file (or each file of each
#                                   directory) once, as a regression test
#   run.sh fuzz TARGET CORPUS WORK SECONDS [DICT]
#                                   libFuzzer for SECONDS from CORPUS, which
#                                   is only read: new inputs go to
#                                   WORK/corpus, a failing input to WORK/
# The sanitizers' options come from tests/sanitizers/env.sh (run-all.sh).
set -euo pipefail
mode=$1
target=$2
shift 2

case $mode in
  replay)
    inputs=()
    for path in "$@"; do
      if [[ -d $path ]]; then
        while IFS= read -r -d '' f; do inputs+=("$f"); done \
          < <(find "$path" -type f -print0 | sort -z)
      else
        inputs+=("$path")
      fi
    done
    ((${#inputs[@]})) || { echo "run.sh: no inputs in $*" >&2; exit 1; }
    exec "$target" "${inputs[@]}"
    ;;
  fuzz)
    corpus=$1 work=$2 seconds=$3 dict=${4:-}
    rm -rf "$work"
    mkdir -p "$work/corpus"
    args=(-seed=1 -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048
      -max_len=8192 -print_final_stats=1 -artifact_prefix="$work/")
    [[ -n $dict ]] && args+=(-dict="$dict")
    if ! "$target" "${args[@]}" "$work/corpus" "$corpus"; then
      name=$(basename "$target")
      echo >&2
      echo "run.sh: $name failed; the input is in $work/ (crash-*, leak-*," \
        "timeout-* or oom-*)." >&2
      echo "Reproduce: $target $work/crash-..." >&2
      echo "Once fixed, add it to tests/fuzz/corpus/$name/ (tests/fuzz/README.md)." >&2
      exit 1
    fi
    ;;
  *)
    echo "usage: run.sh replay TARGET INPUT... | fuzz TARGET CORPUS WORK SECONDS [DICT]" >&2
    exit 2
    ;;
esac
