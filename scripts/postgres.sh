#!/usr/bin/env bash
# Starts (or stops) a throw-away PostgreSQL server on 127.0.0.1 for the cluster backend's tests and
# examples, without systemd: CI (.ci/run) and developers run the same script.
#
#   bash scripts/postgres.sh start   # installs Debian's postgresql when missing, initdb, pg_ctl start
#   bash scripts/postgres.sh stop
#   bash scripts/postgres.sh url     # prints the connection URL the tests read (EFFECT_PARALLEL_PG_URL)
#
# PGPORT (default 54329) and PGDATA_DIR (default /tmp/effect-parallel-pg) pick the port and data folder.
# The server trusts local connections (a test database, never a real one) and listens on loopback only.
set -euo pipefail

PORT="${PGPORT:-54329}"
DATA="${PGDATA_DIR:-/tmp/effect-parallel-pg}"
URL="postgres://postgres@127.0.0.1:${PORT}/postgres"

find_bin() {
  local dir
  for dir in /usr/lib/postgresql/*/bin; do
    if [ -x "$dir/pg_ctl" ]; then echo "$dir"; return 0; fi
  done
  return 1
}

# Runs a command as the postgres user: initdb refuses to run as root.
as_postgres() {
  if [ "$(id -u)" = "0" ]; then
    runuser -u postgres -- "$@"
  else
    "$@"
  fi
}

install_postgres() {
  echo "postgres.sh: installing PostgreSQL from Debian's packages" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  # no main cluster: we make our own data folder and start it ourselves (no systemd here)
  apt-get install -y -qq postgresql-common >/dev/null
  sed -i 's/^#\?\s*create_main_cluster.*/create_main_cluster = false/' /etc/postgresql-common/createcluster.conf
  apt-get install -y -qq postgresql >/dev/null
}

case "${1:-start}" in
  start)
    BIN="$(find_bin || true)"
    if [ -z "$BIN" ]; then install_postgres; BIN="$(find_bin)"; fi
    if [ -f "$DATA/postmaster.pid" ] && as_postgres "$BIN/pg_ctl" -D "$DATA" status >/dev/null 2>&1; then
      echo "postgres.sh: already running on 127.0.0.1:${PORT} ($DATA)" >&2
      echo "$URL"
      exit 0
    fi
    if [ ! -f "$DATA/PG_VERSION" ]; then
      rm -rf "$DATA"
      mkdir -p "$DATA"
      if [ "$(id -u)" = "0" ]; then chown postgres:postgres "$DATA"; fi
      as_postgres "$BIN/initdb" -D "$DATA" -U postgres --auth=trust -E UTF8 >/dev/null
    fi
    # the socket directory defaults to /var/run/postgresql, which may not exist without the service
    as_postgres "$BIN/pg_ctl" -D "$DATA" -l "$DATA/server.log" -w -t 60 \
      -o "-c listen_addresses=127.0.0.1 -p ${PORT} -c unix_socket_directories=${DATA} -c max_connections=200 -c fsync=off" \
      start >/dev/null
    echo "postgres.sh: PostgreSQL running on 127.0.0.1:${PORT} ($DATA)" >&2
    echo "$URL"
    ;;
  stop)
    BIN="$(find_bin || true)"
    if [ -n "$BIN" ] && [ -f "$DATA/postmaster.pid" ]; then
      as_postgres "$BIN/pg_ctl" -D "$DATA" -m fast -w stop >/dev/null || true
    fi
    ;;
  url)
    echo "$URL"
    ;;
  *)
    echo "usage: $0 start|stop|url" >&2
    exit 2
    ;;
esac
