#!/usr/bin/env bash
# Issue 10's hostile-client probes against fresh kpi_server processes: one
# row per probe, what the issue measured before the hardening and what
# happens now; memory and stream figures beside a peer (the same binary with
# its bounds off) measured in the same run. Usage: bench/hostile/run.sh
# BUILD_DIR. Takes about a minute; the client briefly holds 1.6 GB. Debian's
# python3 (its grpcio and grpc_tools), as the e2e tests use.
set -euo pipefail
cd "$(dirname "$0")/../.."
build=${1:-build}
cmake --build "$build" -j 2 --target kpi_server kpictl >/dev/null
cache_value() { sed -n "s/^$1:[A-Z]*=//p" "$build/CMakeCache.txt"; }
export KPI_SERVER=$build/kpi_server KPICTL=$build/kpictl
export KPI_SOURCE_DIR=$PWD KPI_BINARY_DIR=$build
KPI_GRPC_PROTO_DIR=$(cache_value KPI_GRPC_PROTO_DIR)
KPI_GOOGLEAPIS_DIR=$(cache_value KPI_GOOGLEAPIS_DIR)
export KPI_GRPC_PROTO_DIR KPI_GOOGLEAPIS_DIR PYTHONDONTWRITEBYTECODE=1
exec /usr/bin/python3 -B bench/hostile/probes.py
