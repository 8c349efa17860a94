#!/usr/bin/env bash
# Memory: the server's peak RSS (VmHWM, reset before each job through
# /proc/PID/clear_refs) while `kpictl batch` streams a job of 100,000 and
# then 1,000,000 generated series through StreamProjectSeries, against its
# RSS at idle; then a client that reads no result for a few seconds while
# it keeps sending (kpi_stream_probe), to see the server stop reading ahead.
# Every job has a few invalid series (every 100,000th): each must come back
# as its own INVALID_ARGUMENT in the stream, and every other series as a
# projection. Usage: bench/load/memory.sh BUILD_DIR. Env: JOBS (default
# "100000 1000000").
set -euo pipefail
cd "$(dirname "$0")/../.."
build=$(realpath "${1:-build}")
jobs=${JOBS:-100000 1000000}
bad_every=100000
work=$(mktemp -d)
source bench/load/lib.sh
sampler=
trap 'if [[ -n $sampler ]]; then kill "$sampler" 2>/dev/null || true; fi
      stop_server; rm -rf "$work"' EXIT

start_server memory
sleep 1
idle=$(status_kb VmRSS)
echo "  idle: VmRSS $idle kB"
result mem_idle_kb "$idle"

# Samples the server's VmRSS every 0.2 s into $1 while it runs.
sample() {
  while kill -0 "$server_pid" 2>/dev/null; do
    status_kb VmRSS >>"$1"
    sleep 0.2
  done
}
# The peak since reset_peak: VmHWM, or a higher sample (the kernel updates
# VmHWM lazily, so a transient peak may show only in the samples).
peak_kb() {
  { status_kb VmHWM; cat "$1"; } | sort -n | tail -n 1
}
stop_sampler() {
  kill "$sampler" 2>/dev/null || true
  wait "$sampler" 2>/dev/null || true
  sampler=
}

for n in $jobs; do
  # kpictl's own peak RSS, when GNU time (Debian package time) is there.
  timer=
  if [[ -x /usr/bin/time ]]; then
    timer="/usr/bin/time -f %M -o $work/kpictl-rss-$n.txt"
  fi
  reset_peak
  : >"$work/rss-$n.txt"
  sample "$work/rss-$n.txt" &
  sampler=$!
  bad=$((n / bad_every))
  t0=$(date +%s.%N)
  set +e
  "$build/kpi_gen_series" --series "$n" --bad_every "$bad_every" |
    $timer "$build/kpictl" --server "127.0.0.1:$port" batch --format=benchmark \
      --in - --out /dev/null 2>"$work/kpictl-$n.txt"
  code=$?
  set -e
  t1=$(date +%s.%N)
  stop_sampler
  peak=$(peak_kb "$work/rss-$n.txt")
  # kpictl exits 1 when any series failed; exactly the invalid ones must.
  [[ $code -eq $((bad > 0 ? 1 : 0)) ]] ||
    fail "kpictl batch exited $code: $(tail -n 3 "$work/kpictl-$n.txt")"
  grep -q "^kpictl batch: $((n - bad)) series projected, $bad failed$" \
    "$work/kpictl-$n.txt" ||
    fail "expected $((n - bad)) projected and $bad failed: $(grep -a '^kpictl batch: [0-9]* series projected, [0-9]* failed$' "$work/kpictl-$n.txt")"
  listed=$(grep -c '^  [^ ]* (line [0-9]*): ' "$work/kpictl-$n.txt") || true
  expected=$(grep -c '^  s[0-9]*00000 (line [0-9]*): INVALID_ARGUMENT: ' \
    "$work/kpictl-$n.txt") || true
  named=$(grep -c '^  series\[[0-9]*\]\.target_fiscal_year: ' "$work/kpictl-$n.txt") || true
  [[ $listed -eq $((bad < 20 ? bad : 20)) && $expected -eq $listed &&
    $named -eq $listed ]] ||
    fail "the failures listed are not the invalid series: $(grep -a '^  ' "$work/kpictl-$n.txt" | head -4)"
  seconds=$(awk -v a="$t0" -v b="$t1" 'BEGIN {printf "%.1f", b - a}')
  client=$(tail -n 1 "$work/kpictl-rss-$n.txt" 2>/dev/null || echo "?")
  echo "  $n series in $seconds s ($(awk -v n="$n" -v s="$seconds" 'BEGIN {printf "%.0f", n / s}')/s): server peak RSS $peak kB (kpictl's: $client kB); $((n - bad)) projected, each of the $bad invalid series reported as its own error in the stream"
  if [[ $client != "?" ]]; then result "mem_client_${n}_kb" "$client"; fi
  # The RSS over the job: flat after the start means bounded.
  read -r q1 q2 q3 q4 first_half second_half < <(awk '{v[NR] = $1}
    END {m1 = m2 = 0
         for (i = 1; i <= NR; ++i) {
           if (i <= NR / 2 && v[i] > m1) m1 = v[i]
           if (i > NR / 2 && v[i] > m2) m2 = v[i]
         }
         print v[int(NR / 4) + 1], v[int(NR / 2) + 1], v[int(3 * NR / 4) + 1],
               v[NR], m1, m2}' "$work/rss-$n.txt")
  echo "    server RSS at 1/4, 1/2, 3/4 and the end of the job: $q1 $q2 $q3 $q4 kB; max of the first half $first_half kB, of the second $second_half kB"
  result "mem_first_half_${n}_kb" "$first_half"
  result "mem_second_half_${n}_kb" "$second_half"
  result "mem_peak_${n}_kb" "$peak"
  result "mem_seconds_${n}" "$seconds"
done

# A client that stalls: how many series can it push while reading nothing?
# With flow control the number stops growing (the windows and socket
# buffers are full); the RSS is sampled during the stall only.
reset_peak
probe_n=200000
: >"$work/rss-stall.txt"
(sleep 0.5; sample "$work/rss-stall.txt") &
sampler=$!
"$build/kpi_stream_probe" --server "127.0.0.1:$port" --series "$probe_n" \
  --stall_seconds 4 --bad_every 1000 >"$work/probe.txt" &
probe=$!
sleep 3.5
stop_sampler
wait "$probe" || fail "kpi_stream_probe: $(cat "$work/probe.txt")"
read -r _ ahead _ <"$work/probe.txt"
peak=$(sort -n "$work/rss-stall.txt" | tail -n 1)
echo "  stalled client (reads nothing for 4 s): the server took $ahead of $probe_n series (in messages of 250), then waited; RSS during the stall at most $peak kB; then every result came in order, the 200 invalid series as errors"
result mem_stall_ahead "$ahead"
result mem_stall_peak_kb "$peak"
calls=$(grep -c '^rpc /kpi.v1.ForecastService/StreamProjectSeries OK ' "$server_log") || true
expected=$(($(wc -w <<<"$jobs") + 1))
[[ $calls -eq $expected ]] || fail "the server logged $calls OK streams; expected $expected"
