#!/usr/bin/env bash
# The short-window M3 backtest of shared/BENCHMARK.md: runs the engine in
# process, scores it beside the R forecast-package peers, prints ours / best
# peer per k and metric, then the speed against R's thetaf on the same
# windows. Usage: bench/forecast/backtest.sh BUILD_DIR
# SHARED_DIR defaults to the shared/ folder beside the repository. R
# (r-base-core, r-cran-forecast) is installed when missing; bench-only.
set -euo pipefail
cd "$(dirname "$0")/../.."
build=${1:-build}
shared=${SHARED_DIR:-$(git rev-parse --show-toplevel)/../shared}
data=$shared/data/m3_yearly.csv
peers=$shared/data/peers/m3
windows=2,3,5,7
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

cmake --build "$build" --target kpi_backtest -j 2 >/dev/null
"$build/kpi_backtest" --data "$data" --windows "$windows" \
  --out "$work/engine.csv" --repeat 20 >"$work/speed.txt"
python3 "$shared/tools/score_forecasts.py" "$data" "$work/engine.csv" \
  "$peers"/*.csv >"$work/scores.txt"
python3 bench/forecast/compare.py "$work/scores.txt" engine.csv

# Speed: series forecast per second, in process, against R's thetaf over the
# same windows (timed inside R, start-up excluded).
ours=$(awk '{print $6}' "$work/speed.txt")
if ! Rscript -e 'suppressMessages(library(forecast))' >/dev/null 2>&1; then
  echo "installing r-base-core r-cran-forecast for the speed comparison" >&2
  if ! (apt-get install -y -qq --no-install-recommends r-base-core r-cran-forecast >/dev/null 2>&1 ||
        (apt-get update -qq >/dev/null 2>&1 &&
         apt-get install -y -qq --no-install-recommends r-base-core r-cran-forecast >/dev/null 2>&1)); then
    printf 'speed: engine %.0f series/s; R thetaf unavailable (install failed)\n' "$ours"
    exit 0
  fi
fi
theta=$(Rscript bench/forecast/thetaf_speed.R "$data" "$windows")
python3 - "$ours" "$theta" <<'PY'
import sys
ours, theta = float(sys.argv[1]), float(sys.argv[2])
print(f"speed (series forecast per second, in process): engine {ours:,.0f}, "
      f"R thetaf {theta:,.0f}, ratio {ours / theta:,.1f}x")
PY
