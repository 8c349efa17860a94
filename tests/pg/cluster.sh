#!/usr/bin/env bash
# A throwaway PostgreSQL cluster for the tests: Debian's initdb + pg_ctl, a
# temporary directory, 127.0.0.1 on a free port, trust authentication, run as
# an unprivileged user when called as root. Never touches a system cluster.
#
# Sourced (tests/run-all.sh):
#   source tests/pg/cluster.sh
#   pg_cluster_start   # exports KPI_TEST_POSTGRES_URL and KPI_TEST_PG_DIR
#   pg_cluster_stop    # stops the server and removes the directory
# Run directly:
#   eval "$(tests/pg/cluster.sh start)"; ...; tests/pg/cluster.sh stop "$KPI_TEST_PG_DIR"
#   tests/pg/cluster.sh server-stop DIR / server-start DIR: stop the server
#   and start it again on the same port, keeping the data (restart tests).

# The bin directory of Debian's newest installed PostgreSQL server.
pg_cluster_bindir() {
  local dir best="" best_ver=0 ver
  for dir in /usr/lib/postgresql/*/bin; do
    [[ -x $dir/initdb && -x $dir/pg_ctl ]] || continue
    ver=${dir#/usr/lib/postgresql/}
    ver=${ver%/bin}
    [[ $ver =~ ^[0-9]+$ ]] || continue
    if ((ver > best_ver)); then best_ver=$ver; best=$dir; fi
  done
  [[ -n $best ]] || { echo "pg-cluster: no /usr/lib/postgresql/<version>/bin/initdb; install the postgresql package" >&2; return 1; }
  echo "$best"
}

# True when nothing listens on 127.0.0.1:$1.
pg_cluster_port_free() {
  ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

# Runs "$@" as the cluster's owner (the unprivileged user when root).
pg_cluster_as_owner() {
  if [[ $(id -u) -eq 0 ]]; then
    runuser -u "$PG_CLUSTER_USER" -- "$@"
  else
    "$@"
  fi
}

pg_cluster_start() {
  local bindir port attempt
  bindir=$(pg_cluster_bindir) || return 1
  PG_CLUSTER_USER=${PG_CLUSTER_USER:-nobody}
  # As root the directory must be reachable by the unprivileged user: /tmp.
  local parent=${TMPDIR:-/tmp}
  [[ $(id -u) -ne 0 ]] || parent=/tmp
  KPI_TEST_PG_DIR=$(mktemp -d "$parent/kpi-pg.XXXXXX") || return 1
  export KPI_TEST_PG_DIR
  mkdir -p "$KPI_TEST_PG_DIR/socket"
  if [[ $(id -u) -eq 0 ]]; then
    id -u "$PG_CLUSTER_USER" >/dev/null 2>&1 || useradd --system --no-create-home --shell /usr/sbin/nologin "$PG_CLUSTER_USER" || return 1
    chown -R "$PG_CLUSTER_USER" "$KPI_TEST_PG_DIR"
    chmod 700 "$KPI_TEST_PG_DIR"
  fi
  # initdb and the server must not inherit an unreadable working directory.
  (cd / && pg_cluster_as_owner "$bindir/initdb" -D "$KPI_TEST_PG_DIR/data" -U postgres \
      -A trust -E UTF8 --locale=C.UTF-8 --no-sync >"$KPI_TEST_PG_DIR/initdb.log" 2>&1) || {
    echo "pg-cluster: initdb failed:" >&2; cat "$KPI_TEST_PG_DIR/initdb.log" >&2; return 1; }
  for attempt in 1 2 3 4 5 6 7 8 9 10; do
    port=$((20000 + RANDOM % 30000))
    pg_cluster_port_free "$port" || continue
    echo "$port" >"$KPI_TEST_PG_DIR/port"
    if pg_cluster_server_start "$KPI_TEST_PG_DIR"; then
      export KPI_TEST_POSTGRES_URL="postgresql://postgres@127.0.0.1:$port/postgres"
      echo "pg-cluster: PostgreSQL $("$bindir/postgres" --version | awk '{print $3}') on 127.0.0.1:$port ($KPI_TEST_PG_DIR)" >&2
      return 0
    fi
    # Lost a race for the port: try another.
    tail -n 3 "$KPI_TEST_PG_DIR/server.log" >&2
  done
  echo "pg-cluster: could not start a server on a free port; see $KPI_TEST_PG_DIR/server.log" >&2
  return 1
}

# Starts the server of cluster directory $1 on the port in $1/port.
pg_cluster_server_start() {
  local dir=$1 bindir port
  bindir=$(pg_cluster_bindir) || return 1
  port=$(<"$dir/port")
  PG_CLUSTER_USER=${PG_CLUSTER_USER:-nobody}
  (cd / && pg_cluster_as_owner "$bindir/pg_ctl" -D "$dir/data" -w -t 60 \
      -l "$dir/server.log" \
      -o "-p $port -c listen_addresses=127.0.0.1 -k $dir/socket -c max_connections=200" \
      start >/dev/null)
}

# Stops the server of cluster directory $1 (fast shutdown), keeping the data.
pg_cluster_server_stop() {
  local dir=$1 bindir
  bindir=$(pg_cluster_bindir) || return 1
  PG_CLUSTER_USER=${PG_CLUSTER_USER:-nobody}
  (cd / && pg_cluster_as_owner "$bindir/pg_ctl" -D "$dir/data" -m fast -w stop >/dev/null)
}

pg_cluster_stop() {
  local dir=${1:-${KPI_TEST_PG_DIR:-}} bindir
  [[ -n $dir && -d $dir ]] || return 0
  PG_CLUSTER_USER=${PG_CLUSTER_USER:-nobody}
  if [[ -f $dir/data/postmaster.pid ]] && bindir=$(pg_cluster_bindir); then
    (cd / && pg_cluster_as_owner "$bindir/pg_ctl" -D "$dir/data" -m immediate -w stop >/dev/null 2>&1) || true
  fi
  rm -rf "$dir"
}

if [[ ${BASH_SOURCE[0]} == "$0" ]]; then
  set -euo pipefail
  case ${1:-} in
    start)
      pg_cluster_start
      echo "export KPI_TEST_POSTGRES_URL=$KPI_TEST_POSTGRES_URL KPI_TEST_PG_DIR=$KPI_TEST_PG_DIR"
      ;;
    stop) pg_cluster_stop "${2:-}" ;;
    server-stop) pg_cluster_server_stop "${2:?cluster directory}" ;;
    server-start) pg_cluster_server_start "${2:?cluster directory}" ;;
    *) echo "usage: $0 start | stop DIR | server-stop DIR | server-start DIR" >&2; exit 2 ;;
  esac
fi
