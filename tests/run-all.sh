#!/usr/bin/env bash
# Runs the tests of one build directory with ctest.
# Usage: tests/run-all.sh BUILD_DIR [CTEST_ARGS...], e.g.
#   tests/run-all.sh build-asan -LE '^fuzz$'   (the ASan suite, no fuzzing)
#
# The storage suite runs against SQLite and a real PostgreSQL server: unless
# KPI_TEST_POSTGRES_URL is already set, a throwaway cluster is started here
# (tests/pg/cluster.sh) and stopped on exit, whether the tests pass or not.
# In a sanitizer build (KPI_SANITIZE in its CMakeCache.txt) the sanitizers'
# options and suppressions come from tests/sanitizers/env.sh.
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build}
shift || true

source tests/sanitizers/env.sh "$build"
source tests/pg/cluster.sh
if [[ -z ${KPI_TEST_POSTGRES_URL:-} ]]; then
  if pg_cluster_start; then
    trap pg_cluster_stop EXIT
    trap 'exit 130' INT TERM
  elif [[ ${CI:-} == true ]]; then
    echo "run-all: cannot start PostgreSQL, and CI runs every test" >&2
    exit 1
  else
    echo "run-all: no PostgreSQL server; its tests will be skipped" >&2
  fi
fi

ctest --test-dir "$build" --output-on-failure -j 2 "$@"
