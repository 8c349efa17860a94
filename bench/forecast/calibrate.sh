#!/usr/bin/env bash
# Regenerates the shipped forecast calibration from the TRAINING parts of the
# M3 yearly series. Usage: bench/forecast/calibrate.sh BUILD_DIR
# SHARED_DIR defaults to the shared/ folder beside the repository.
set -euo pipefail
cd "$(dirname "$0")/../.."
build=${1:-build}
shared=${SHARED_DIR:-$(git rev-parse --show-toplevel)/../shared}
cmake --build "$build" --target kpi_calibrate -j 2 >/dev/null
"$build/kpi_calibrate" --data "$shared/data/m3_yearly.csv" \
  --out lib/forecast/calibration/m3-train-v3.txt --version m3-train-v3 2>/dev/null
echo "wrote lib/forecast/calibration/m3-train-v3.txt"
