# Shared by the bench/load scripts (sourced, not run). Expects $build (the
# build directory) and $work (a scratch directory the caller removes).

# Starts kpi_server on 127.0.0.1:0 over a fresh SQLite file seeded with the
# builtin Asahikawa dataset; extra arguments go to kpi_server. Sets
# server_pid, port and server_log (its stderr: the call log).
start_server() {
  local name=$1
  shift
  server_log=$work/$name.log
  "$build/kpi_server" --listen 127.0.0.1:0 --db "$work/$name.sqlite3" \
    --seed_dataset builtin "$@" 2>"$server_log" &
  server_pid=$!
  port=
  for _ in $(seq 1 100); do
    port=$(sed -n 's/^kpi_server listening on 127\.0\.0\.1:\([0-9]*\)$/\1/p' \
      "$server_log")
    [[ -n $port ]] && return 0
    kill -0 "$server_pid" 2>/dev/null || break
    sleep 0.1
  done
  echo "kpi_server did not start:" >&2
  cat "$server_log" >&2
  return 1
}

# Stops the server started last, by its process id.
stop_server() {
  if [[ -n ${server_pid:-} ]]; then
    kill -TERM "$server_pid" 2>/dev/null || true
    wait "$server_pid" 2>/dev/null || true
    server_pid=
  fi
}

# A field of /proc/PID/status in kB, e.g. status_kb VmRSS.
status_kb() {
  awk -v f="$1:" '$1 == f {print $2}' "/proc/$server_pid/status"
}

# Starts a new peak-RSS (VmHWM) window for the server (Linux >= 4.0).
reset_peak() {
  echo 5 >"/proc/$server_pid/clear_refs"
}

# Appends "key value" to the results file run.sh reads (if any).
result() {
  if [[ -n ${LOAD_RESULTS:-} ]]; then echo "$1 $2" >>"$LOAD_RESULTS"; fi
}

fail() {
  echo "FAILED: $*" >&2
  exit 1
}
