#!/usr/bin/env bash
# Runs every test with ctest. Usage: tests/run-all.sh BUILD_DIR
#
# The storage suite runs against SQLite and a real PostgreSQL server: unless
# KPI_TEST_POSTGRES_URL is already set, a throwaway cluster is started here
# (tests/pg/cluster.sh) and stopped on exit, whether the tests pass or not.
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build}

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

ctest --test-dir "$build" --output-on-failure -j 2
