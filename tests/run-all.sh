#!/usr/bin/env bash
# Runs every test with ctest. Usage: tests/run-all.sh BUILD_DIR
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build}
ctest --test-dir "$build" --output-on-failure -j 2
