#!/usr/bin/env bash
# make run: starts kpi_server on LISTEN with the store DB (a SQLite path,
# created with its directory, or a postgresql:// URL), waits until it
# serves, prints the projection table of every KPI through kpictl, writes
# the Asahikawa report (kpictl report) to var/report/ (KPI_REPORT_DIR) and
# prints its path, then
# keeps the server in the foreground with its log until Ctrl-C, which stops
# it gracefully (SIGTERM: calls in flight finish). Nothing is left running.
#
# Usage: deploy/run-local.sh [BUILD_DIR [LISTEN [DB [LANG]]]]
#        (defaults: build 127.0.0.1:50051 var/kpi.sqlite3 ja; LANG is the
#        language of the printed projections, ja or en: kpictl --lang)
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build}
listen=${2:-127.0.0.1:50051}
db=${3:-var/kpi.sqlite3}
lang=${4:-ja}
start_timeout_s=${KPI_START_TIMEOUT_S:-60}

server_bin=$build/kpi_server
kpictl_bin=$build/kpictl
for binary in "$server_bin" "$kpictl_bin"; do
  if [[ ! -x $binary ]]; then
    echo "run-local: $binary is missing; run make build first" >&2
    exit 1
  fi
done
case $db in
  postgres://* | postgresql://*) ;;
  *) mkdir -p "$(dirname "$db")" ;;
esac

log=$(mktemp "${TMPDIR:-/tmp}/kpi_server.XXXXXX.log")
server_pid=
tail_pid=
cleanup() {
  if [[ -n $server_pid ]] && kill -0 "$server_pid" 2>/dev/null; then
    kill -TERM "$server_pid" 2>/dev/null || true
    wait "$server_pid" 2>/dev/null || true
  fi
  if [[ -n $tail_pid ]]; then
    kill "$tail_pid" 2>/dev/null || true
    wait "$tail_pid" 2>/dev/null || true
  fi
  rm -f "$log"
}
trap cleanup EXIT

# In a session of its own, so that Ctrl-C reaches this script only, which
# turns it into one SIGTERM for the server.
setsid "$server_bin" --listen="$listen" --db="$db" 2>"$log" &
server_pid=$!

address=
deadline=$((SECONDS + start_timeout_s))
while [[ -z $address ]]; do
  address=$(sed -n 's/^kpi_server listening on \(.*\)$/\1/p' "$log" | head -n 1)
  [[ -n $address ]] && break
  if ! kill -0 "$server_pid" 2>/dev/null; then
    wait "$server_pid" && code=0 || code=$?
    server_pid=
    echo "run-local: kpi_server exited (code $code) before serving on $listen" \
      "(port taken? bad --db?). Its output:" >&2
    sed 's/^/  /' "$log" >&2
    exit 1
  fi
  if ((SECONDS >= deadline)); then
    echo "run-local: kpi_server did not report listening on $listen within" \
      "${start_timeout_s}s. Its output so far:" >&2
    sed 's/^/  /' "$log" >&2
    exit 1
  fi
  sleep 0.1
done
sed 's/^/  /' "$log" >&2

# kpictl dials a wildcard address on loopback.
target=$address
case $address in
  0.0.0.0:*) target=127.0.0.1:${address##*:} ;;
  \[::\]:*) target=[::1]:${address##*:} ;;
esac
echo
if ! "$kpictl_bin" --server="$target" --lang="$lang" project --all --format=table; then
  echo "run-local: kpictl could not print the projections (above); the" \
    "server keeps running" >&2
fi
# The Asahikawa strategy's report: index.html and one .svg per KPI.
report_dir=${KPI_REPORT_DIR:-var/report}
if report_index=$("$kpictl_bin" --server="$target" --lang="$lang" report \
    --strategy=asahikawa-2020 --out="$report_dir"); then
  echo
  echo "The Asahikawa report: $report_index"
  echo "(open it in a browser, or print it: A4, a page per goal; one .svg per KPI beside it)"
else
  echo "run-local: kpictl could not write the report (above); the server" \
    "keeps running" >&2
fi
cat <<EOF

kpi_server is serving on $address (pid $server_pid, store $db).
Try: $kpictl_bin --server=$target list
     grpcurl -plaintext $target list
Press Ctrl-C to stop it (calls in flight finish first). Its log follows.
EOF

# Show the server's log from here on, until it exits.
tail -n 0 -f --pid="$server_pid" "$log" >&2 &
tail_pid=$!
trap 'echo "run-local: stopping kpi_server" >&2; kill -TERM "$server_pid" 2>/dev/null || true' INT TERM
# `wait` returns early when a trapped signal arrives: wait until the server
# has really exited.
code=0
while kill -0 "$server_pid" 2>/dev/null; do
  wait "$server_pid" && code=0 || code=$?
done
server_pid=
sleep 0.2  # let tail print the last lines
exit "$code"
