#!/usr/bin/env bash
# Batch: series per second end to end through `kpictl batch` (CSV in, the
# server's StreamProjectSeries, CSV out) against the engine alone in process
# on the same series (kpi_engine_rate), and against R's thetaf on the same
# windows (bench/forecast/thetaf_speed.R, the forecast benchmark's script).
# The series are the M3 yearly windows of shared/BENCHMARK.md (the last k
# training points, k in 2,3,5,7, h = 6), repeated REPEAT times (default 20)
# under distinct ids. Usage: bench/load/batch.sh BUILD_DIR; SHARED_DIR
# defaults to the shared/ folder beside the repository.
set -euo pipefail
cd "$(dirname "$0")/../.."
build=$(realpath "${1:-build}")
shared=${SHARED_DIR:-$(git rev-parse --show-toplevel)/../shared}
data=$shared/data/m3_yearly.csv
windows=2,3,5,7
repeat=${REPEAT:-20}
work=$(mktemp -d)
source bench/load/lib.sh
trap 'stop_server; rm -rf "$work"' EXIT
[[ -r $data ]] || fail "cannot read $data (set SHARED_DIR)"

python3 - "$data" "$windows" "$repeat" >"$work/series.csv" <<'PY'
import csv, sys
path, windows, repeat = sys.argv[1], [int(k) for k in sys.argv[2].split(",")], int(sys.argv[3])
train = {}
with open(path, newline="") as f:
    for row in csv.DictReader(f):
        if row["split"] == "train":
            train.setdefault(row["series_id"], []).append(
                (int(row["t"]), row["value"]))
out = ["series_id,year,value"]
for r in range(repeat):
    for sid, points in train.items():
        points.sort()
        for k in windows:
            # The service takes fiscal years 1900 to 2200 and some M3 series
            # start in the 1800s: every window ends in 2020 instead (the
            # engine, like thetaf, sees consecutive years either way).
            for i, (_, value) in enumerate(points[-k:]):
                out.append(f"{sid}-k{k}-r{r},{2021 - k + i},{value}")
print("\n".join(out))
PY
series=$(($(cut -d, -f1 "$work/series.csv" | uniq | wc -l) - 1))

start_server batch
# Two runs; the faster counts (other processes share this machine).
# CPU seconds (user + system) of a process, from /proc/PID/stat.
cpu_seconds() {
  awk -v hz="$(getconf CLK_TCK)" '{printf "%.2f", ($14 + $15) / hz}' \
    "/proc/$1/stat"
}
best=0
for run in 1 2; do
  s0=$(cpu_seconds "$server_pid")
  t0=$(date +%s.%N)
  # The subshell runs only kpictl, so `times` gives kpictl's CPU time.
  (
    "$build/kpictl" --server "127.0.0.1:$port" batch --format=benchmark \
      --in "$work/series.csv" --out "$work/forecasts.csv" --horizon 6 \
      2>"$work/kpictl.txt" ||
      fail "kpictl batch: $(tail -n 5 "$work/kpictl.txt")"
    times >"$work/kpictl-cpu.txt"  # the second line: children
  )
  t1=$(date +%s.%N)
  s1=$(cpu_seconds "$server_pid")
  client_cpu=$(awk 'NR == 2 {gsub(/[ms]/, " "); print $1 * 60 + $2 + $3 * 60 + $4}' \
    "$work/kpictl-cpu.txt")
  grep -q "^kpictl batch: $series series projected, 0 failed$" "$work/kpictl.txt" ||
    fail "kpictl batch did not project all $series series: $(tail -n 3 "$work/kpictl.txt")"
  rows=$(($(wc -l <"$work/forecasts.csv") - 1))
  [[ $rows -eq $((series * 6)) ]] ||
    fail "kpictl batch wrote $rows forecast rows; expected $((series * 6))"
  rate=$(awk -v n="$series" -v a="$t0" -v b="$t1" 'BEGIN {printf "%.1f", n / (b - a)}')
  read -r server_us client_us < <(awk -v n="$series" -v a="$s0" -v b="$s1" \
    -v c="$client_cpu" 'BEGIN {printf "%.1f %.1f\n", (b - a) * 1e6 / n, c * 1e6 / n}')
  echo "  kpictl batch run $run: $series series in $(awk -v a="$t0" -v b="$t1" 'BEGIN {printf "%.2f", b - a}') s, $rate series/s, all projected; CPU per series: server $server_us us, kpictl $client_us us"
  if awk -v a="$rate" -v b="$best" 'BEGIN {exit !(a > b)}'; then
    best=$rate best_server_us=$server_us best_client_us=$client_us
  fi
done
# The stream alone, without CSV: kpi_stream_probe sends as many series
# (5 points each) as fast as the server takes them and reads every result.
"$build/kpi_stream_probe" --server "127.0.0.1:$port" --series "$series" \
  --stall_seconds 0 --bad_every 0 >"$work/probe.txt" ||
  fail "kpi_stream_probe: $(cat "$work/probe.txt")"
stream_rate=$(sed -n 's/.* per_second \([0-9.]*\) .*/\1/p' "$work/probe.txt")
echo "  StreamProjectSeries alone (kpi_stream_probe, no CSV): $stream_rate series/s, all projected"
calls=$(grep -c '^rpc /kpi.v1.ForecastService/StreamProjectSeries OK ' "$server_log") || true
[[ $calls -eq 3 ]] || fail "the server logged $calls OK streams; expected 3"
stop_server

# The engine alone, best of two runs like kpictl above: $1 threads; sets
# engine_rate and engine_projections.
engine_rate() {
  local rate failed n
  engine_rate=0
  for run in 1 2; do
    read -r _ n _ failed _ _ _ _ _ rate _ < <(
      "$build/kpi_engine_rate" --in "$work/series.csv" --horizon 6 \
        --min_seconds 3 --threads "$1")
    [[ $failed -eq 0 ]] || fail "the engine failed on $failed series"
    if awk -v a="$rate" -v b="$engine_rate" 'BEGIN {exit !(a > b)}'; then
      engine_rate=$rate engine_projections=$n
    fi
  done
}
engine_rate 1
inproc_rate=$engine_rate
echo "  engine in process (best of 2): $inproc_rate series/s ($engine_projections projections; $(awk -v r="$inproc_rate" 'BEGIN {printf "%.1f", 1e6 / r}') us a series)"
# For reference: the engine in process on every core at once (the server
# spreads a chunk over its cores too).
cores=$(nproc)
engine_rate "$cores"
all_rate=$engine_rate
echo "  engine in process on $cores threads: $all_rate series/s"

theta=
if Rscript -e 'suppressMessages(library(forecast))' >/dev/null 2>&1; then
  theta=$(Rscript bench/forecast/thetaf_speed.R "$data" "$windows")
  echo "  R thetaf (same windows, timed inside R): $theta series/s"
else
  echo "  R thetaf: unavailable (bench/forecast/backtest.sh installs r-cran-forecast)"
fi

result batch_series "$series"
result batch_rps "$best"
result stream_rps "$stream_rate"
result engine_rps "$inproc_rate"
result engine_all_cores_rps "$all_rate"
result cores "$cores"
result batch_server_us "$best_server_us"
result batch_client_us "$best_client_us"
result thetaf_rps "${theta:-}"
awk -v a="$best" -v b="$inproc_rate" -v c="$all_rate" -v n="$cores" 'BEGIN {
  printf "  kpictl batch / engine in process: %.2f (target >= 0.50); / engine on %d threads: %.2f\n", a / b, n, a / c}'
if [[ -n $theta ]]; then
  awk -v a="$best" -v b="$theta" 'BEGIN {
    printf "  kpictl batch / R thetaf: %.0f (target >= 1000)\n", a / b}'
fi
