#!/usr/bin/env bash
# The short-window backtest of shared/BENCHMARK.md on every open set (M3 and
# M1 yearly): for each, the engine with the built-in calibration and with the
# set's own (learned by `kpictl calibrate` from its training parts only,
# shrunk toward the built-in), scored beside the R forecast-package peers;
# then the speed against R's thetaf on the M3 windows.
# Usage: bench/forecast/backtest.sh BUILD_DIR
# SHARED_DIR defaults to the shared/ folder beside the repository. R
# (r-base-core, r-cran-forecast) is installed when missing; bench-only.
set -euo pipefail
cd "$(dirname "$0")/../.."
build=${1:-build}
shared=${SHARED_DIR:-$(git rev-parse --show-toplevel)/../shared}
windows=2,3,5,7
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

cmake --build "$build" --target kpi_backtest kpictl -j 2 >/dev/null
for set in m3 m1; do
  data=$shared/data/${set}_yearly.csv
  peers=$shared/data/peers/$set
  echo "-- ${set^^} yearly: built-in calibration and the set's own (kpictl calibrate on its training parts)"
  "$build/kpictl" calibrate --data "$data" --out "$work/$set-own.txt" \
    --version "$set-own" 2>"$work/$set-calibrate.txt"
  sed -n '1,2p' "$work/$set-calibrate.txt"
  repeat=1
  [ "$set" = m3 ] && repeat=20
  "$build/kpi_backtest" --data "$data" --windows "$windows" \
    --out "$work/built-in.csv" --repeat "$repeat" >"$work/$set-speed.txt"
  "$build/kpi_backtest" --data "$data" --windows "$windows" \
    --calibration "$work/$set-own.txt" --out "$work/own.csv" >/dev/null
  python3 "$shared/tools/score_forecasts.py" "$data" "$work/built-in.csv" \
    "$work/own.csv" "$peers"/*.csv >"$work/scores.txt"
  python3 bench/forecast/compare.py "$work/scores.txt" built-in.csv own.csv
done

# Speed: series forecast per second, in process, against R's thetaf over the
# same windows (timed inside R, start-up excluded).
data=$shared/data/m3_yearly.csv
ours=$(awk '{print $6}' "$work/m3-speed.txt")
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
