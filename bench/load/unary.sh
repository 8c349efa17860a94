#!/usr/bin/env bash
# Unary ProjectKpi under load from a second process (h2load, nghttp2-client)
# against a no-op RPC of the same server (grpc.health.v1.Health/Check) with
# the same client and concurrency; with the projection cache (the default)
# and without it (--projection_cache_entries=0); and, for reference, our
# cheapest synchronous call, KpiService/GetStrategy (one store read).
# Usage: bench/load/unary.sh BUILD_DIR. Env: SECONDS_PER_RUN (default 6),
# CONNECTIONS (4), STREAMS (16 per connection), ROUNDS (3; the best run of
# each RPC counts, so that a burst from another process does not decide),
# MODES ("cached uncached").
# Every call is checked: h2load must count each request as succeeded, every
# response must carry the bytes of an OK response, and the server's call log
# must show exactly one OK line per request and nothing else.
set -euo pipefail
cd "$(dirname "$0")/../.."
build=$(realpath "${1:-build}")
work=$(mktemp -d)
source bench/load/lib.sh
trap 'stop_server; rm -rf "$work"' EXIT

seconds=${SECONDS_PER_RUN:-6}
connections=${CONNECTIONS:-4}
streams=${STREAMS:-16}
rounds=${ROUNDS:-3}
kpi=strategies/asahikawa-2020/kpis/children-growing-healthily
googleapis=/usr/share/gocode/src/github.com/gogo/googleapis
for tool in h2load nghttp protoc; do
  command -v $tool >/dev/null || fail "$tool is missing (make deps installs it)"
done

# gRPC request bodies: flag byte 0, 4-byte big-endian length, the message.
frame() {
  python3 -c 'import struct, sys
b = open(sys.argv[1], "rb").read()
open(sys.argv[2], "wb").write(b"\0" + struct.pack(">I", len(b)) + b)' "$1" "$2"
}
echo "name: \"$kpi\"" |
  protoc --encode=kpi.v1.ProjectKpiRequest -I proto -I "$googleapis" \
    -I /usr/share/grpc-proto proto/kpi/v1/forecast_service.proto \
    >"$work/project.pb"
frame "$work/project.pb" "$work/project.bin"
: >"$work/check.pb"  # HealthCheckRequest{service: ""} is empty
frame "$work/check.pb" "$work/check.bin"
echo 'name: "strategies/asahikawa-2020"' |
  protoc --encode=kpi.v1.GetStrategyRequest -I proto -I "$googleapis" \
    proto/kpi/v1/kpi_service.proto >"$work/strategy.pb"
frame "$work/strategy.pb" "$work/strategy.bin"

noop=grpc.health.v1.Health/Check
project=kpi.v1.ForecastService/ProjectKpi
# A reference point: gRPC 1.51's health service is a callback service (it
# answers on gRPC's own thread), as is ProjectKpi (hits answered on gRPC's
# thread, the rest on its own pool); KpiService is synchronous (a thread of
# the sync pool runs each call), and GetStrategy, its cheapest call (one
# store read), shows what the synchronous path costs by itself.
read=kpi.v1.KpiService/GetStrategy
declare -A body=([$noop]=check.bin [$project]=project.bin [$read]=strategy.bin)

# One call with nghttp: grpc-status must be 0; sets ok_bytes to the length
# of the response's DATA (what every OK response of that call carries).
probe() {
  local path=$1 out
  out=$(nghttp -v -H ':method: POST' -H 'content-type: application/grpc' \
    -H 'te: trailers' -d "$work/${body[$path]}" \
    "http://127.0.0.1:$port/$path" 2>&1 | tr -cd '\11\12\15\40-\176')
  grep -q 'grpc-status: 0' <<<"$out" ||
    fail "$path: the probe call did not return grpc-status 0: $(grep -a grpc- <<<"$out")"
  ok_bytes=$(grep -o 'recv DATA frame <length=[0-9]*' <<<"$out" |
    awk -F= '{s += $2} END {print s + 0}')
}

# h2load on one method: sets rps, p50_ms, p99_ms; fails unless every call
# is verified OK.
load() {
  local path=$1 n=$2 log=$work/h2load.txt lat=$work/latency.tsv
  probe "$path"
  local before after
  sleep 0.5  # calls of the previous run are logged
  before=$(wc -l <"$server_log")
  h2load -n "$n" -c "$connections" -m "$streams" -t 1 \
    -d "$work/${body[$path]}" -H 'content-type: application/grpc' \
    -H 'te: trailers' --log-file="$lat" "http://127.0.0.1:$port/$path" \
    >"$log" 2>&1 || fail "h2load: $(cat "$log")"
  sleep 0.5
  after=$(wc -l <"$server_log")
  grep -q "requests: $n total, $n started, $n done, $n succeeded, 0 failed, 0 errored, 0 timeout" \
    "$log" || fail "$path: not every request succeeded: $(grep requests: "$log")"
  local data
  data=$(sed -n 's/.*(\([0-9]*\)) data$/\1/p' "$log")
  [[ $data -eq $((n * ok_bytes)) ]] ||
    fail "$path: $data response bytes; $n OK responses carry $((n * ok_bytes))"
  local logged ok
  logged=$((after - before))
  ok=$(tail -n "$logged" "$server_log" | grep -c "^rpc /$path OK ") || true
  [[ $logged -eq $n && $ok -eq $n ]] ||
    fail "$path: the server logged $logged calls, $ok of them OK; expected $n OK"
  rps=$(sed -n 's/^finished in [0-9.]*s, \([0-9.]*\) req\/s.*/\1/p' "$log")
  read -r p50_ms p99_ms < <(cut -f3 "$lat" | sort -n | awk '
    {v[NR] = $1} END {printf "%.2f %.2f\n", v[int(NR * 0.50)] / 1000,
                      v[int(NR * 0.99)] / 1000}')
}

# Best of `rounds` runs of each method, alternating; prints and records
# "<label>_{rps,p50_ms,p99_ms}".
declare -A best_rps best_p50 best_p99
measure() {
  local label=$1 path=$2 warm n
  h2load -D 2 -c "$connections" -m "$streams" -t 1 -d "$work/${body[$path]}" \
    -H 'content-type: application/grpc' -H 'te: trailers' \
    "http://127.0.0.1:$port/$path" >"$work/warm.txt" 2>&1 || true
  warm=$(sed -n 's/^finished in [0-9.]*s, \([0-9]*\).*/\1/p' "$work/warm.txt")
  n=$(((${warm:-1000} * seconds / 1000 + 1) * 1000))
  load "$path" "$n"
  printf '  %-28s %9.0f calls/s  p50 %6.2f ms  p99 %6.2f ms  (%d calls, all OK)\n' \
    "$label" "$rps" "$p50_ms" "$p99_ms" "$n"
  if [[ -z ${best_rps[$label]:-} ]] ||
    awk -v a="$rps" -v b="${best_rps[$label]}" 'BEGIN {exit !(a > b)}'; then
    best_rps[$label]=$rps best_p50[$label]=$p50_ms best_p99[$label]=$p99_ms
  fi
}
record() {
  local label=$1
  result "${label}_rps" "${best_rps[$label]}"
  result "${label}_p50_ms" "${best_p50[$label]}"
  result "${label}_p99_ms" "${best_p99[$label]}"
}

echo "unary: h2load -c $connections -m $streams -t 1, ~${seconds}s a run, best of $rounds"
for mode in ${MODES:-cached uncached}; do
  if [[ $mode == cached ]]; then
    start_server unary-cached
  else
    start_server unary-uncached --projection_cache_entries=0
  fi
  for r in $(seq 1 "$rounds"); do
    measure "noop_$mode" "$noop"
    measure "project_$mode" "$project"
    if [[ $mode == cached ]]; then measure sync_read "$read"; fi
  done
  stop_server
  record "noop_$mode"
  record "project_$mode"
  if [[ $mode == cached ]]; then record sync_read; fi
  awk -v p="${best_rps[project_$mode]}" -v q="${best_rps[noop_$mode]}" -v m="$mode" \
    'BEGIN {printf "  ProjectKpi (%s) / Health.Check: %.2f (target >= 0.70)\n", m, p / q}'
done

# The same call in process, step by step, without gRPC (µs per call).
echo "  in process, without gRPC (kpi_project_path):"
"$build/kpi_project_path" --db "$work/steps.sqlite3" --kpi "$kpi" \
  --iterations 20000 | sed 's/^/    /'
