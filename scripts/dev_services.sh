#!/usr/bin/env bash
# Local PostgreSQL 15 + Redis 7 for development and CI (Debian's packages, no containers).
#
#   scripts/dev_services.sh start    # idempotent: starts what is not running, prints the URLs to export
#   scripts/dev_services.sh status   # what runs (stderr), and the URLs (stdout: eval "$(... start)" works)
#   scripts/dev_services.sh stop     # stops both (the data dirs stay; `rm -rf` them to start afresh)
#
# Install the servers first (Debian, as root): apt-get install -y postgresql redis-server
# Settings (env): PG_BIN (/usr/lib/postgresql/15/bin), SHELFWISE_PG_DIR (/tmp/shelfwise-pg),
# SHELFWISE_PG_PORT (5433), SHELFWISE_REDIS_DIR (/tmp/shelfwise-redis), SHELFWISE_REDIS_PORT (6380).
# Both listen on 127.0.0.1 only; PostgreSQL trusts local connections (a development server, never a shop's).
set -euo pipefail

PG_BIN=${PG_BIN:-/usr/lib/postgresql/15/bin}
PG_DIR=${SHELFWISE_PG_DIR:-/tmp/shelfwise-pg}
PG_PORT=${SHELFWISE_PG_PORT:-5433}
PG_DB=${SHELFWISE_PG_DB:-shelfwise}
REDIS_DIR=${SHELFWISE_REDIS_DIR:-/tmp/shelfwise-redis}
REDIS_PORT=${SHELFWISE_REDIS_PORT:-6380}
PG_DATA="$PG_DIR/data"
PG_URL="postgresql://postgres@127.0.0.1:$PG_PORT/$PG_DB"
REDIS_URL="redis://127.0.0.1:$REDIS_PORT/0"

die() { echo "dev_services: $*" >&2; exit 2; }

# PostgreSQL refuses to run as root: run its tools as the `postgres` user when we are root.
as_pg() {
  if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

pg_running() { as_pg "$PG_BIN/pg_ctl" -D "$PG_DATA" status >/dev/null 2>&1; }
redis_running() { redis-cli -h 127.0.0.1 -p "$REDIS_PORT" ping >/dev/null 2>&1; }

start_pg() {
  [ -x "$PG_BIN/initdb" ] || die "no PostgreSQL at $PG_BIN (apt-get install -y postgresql, or set PG_BIN)"
  mkdir -p "$PG_DIR"
  if [ "$(id -u)" = 0 ]; then
    id postgres >/dev/null 2>&1 || die "no 'postgres' user (apt-get install -y postgresql creates it)"
    chown postgres: "$PG_DIR"
  fi
  if [ ! -s "$PG_DATA/PG_VERSION" ]; then
    as_pg "$PG_BIN/initdb" -D "$PG_DATA" -U postgres --auth=trust --encoding=UTF8 --locale=C.UTF-8 >"$PG_DIR/initdb.log" \
      || die "initdb failed, see $PG_DIR/initdb.log"
    cat >"$PG_DATA/pg_hba.conf" <<EOF
# shelfwise dev server: trust on the loopback and the private socket only
local all all trust
host  all all 127.0.0.1/32 trust
EOF
  fi
  if ! pg_running; then
    as_pg "$PG_BIN/pg_ctl" -D "$PG_DATA" -l "$PG_DIR/server.log" -w -t 60 \
      -o "-p $PG_PORT -c listen_addresses=127.0.0.1 -c unix_socket_directories=$PG_DIR -c max_connections=200" \
      start >/dev/null || die "PostgreSQL did not start, see $PG_DIR/server.log"
  fi
  if ! as_pg "$PG_BIN/psql" -h 127.0.0.1 -p "$PG_PORT" -U postgres -d postgres -tAc \
      "SELECT 1 FROM pg_database WHERE datname = '$PG_DB'" | grep -q 1; then
    as_pg "$PG_BIN/createdb" -h 127.0.0.1 -p "$PG_PORT" -U postgres "$PG_DB"
  fi
}

start_redis() {
  command -v redis-server >/dev/null || die "no redis-server (apt-get install -y redis-server)"
  mkdir -p "$REDIS_DIR"
  if ! redis_running; then
    redis-server --port "$REDIS_PORT" --bind 127.0.0.1 --daemonize yes --save '' --appendonly no \
      --dir "$REDIS_DIR" --pidfile "$REDIS_DIR/redis.pid" --logfile "$REDIS_DIR/redis.log"
    for _ in $(seq 50); do redis_running && break; sleep 0.1; done
    redis_running || die "Redis did not start, see $REDIS_DIR/redis.log"
  fi
}

print_urls() {
  echo "export SHELFWISE_TEST_POSTGRES=$PG_URL"
  echo "export SHELFWISE_TEST_REDIS=$REDIS_URL"
}

case "${1:-}" in
  start)
    start_pg
    start_redis
    print_urls
    ;;
  stop)
    if pg_running; then as_pg "$PG_BIN/pg_ctl" -D "$PG_DATA" -m fast -w stop >/dev/null; fi
    if redis_running; then redis-cli -h 127.0.0.1 -p "$REDIS_PORT" shutdown nosave >/dev/null || true; fi
    echo "stopped"
    ;;
  status)
    status=0
    if pg_running; then echo "postgresql: running on 127.0.0.1:$PG_PORT ($PG_DATA)" >&2; else echo "postgresql: stopped" >&2; status=3; fi
    if redis_running; then echo "redis: running on 127.0.0.1:$REDIS_PORT" >&2; else echo "redis: stopped" >&2; status=3; fi
    print_urls
    exit $status
    ;;
  *)
    echo "usage: $0 start|stop|status" >&2
    exit 2
    ;;
esac
