#!/usr/bin/env bash
# Runs every benchmark (what `make bench` runs after building).
# Usage: bench/run-all.sh BUILD_DIR. Each step is one line below; add new
# benchmarks as their own step.
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build}

echo "== forecast engine: M3 short-window backtest against the R peers"
bench/forecast/backtest.sh "$build"

echo "== service load: unary ProjectKpi vs no-op, kpictl batch vs in-process, streaming memory"
bench/load/run.sh "$build"

echo "== hostile clients: issue 10's probes, before and now, memory and streams against an unbounded peer"
bench/hostile/run.sh "$build"
