#!/usr/bin/env bash
# Local PostgreSQL 15 + Redis 7 (Debian's packages, no containers) and a two-node Ray cluster on 127.0.0.1
# (scripts/ray_local_cluster.py, with the project's venv) for development and CI.
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
RAY_DIR=${SHELFWISE_RAY_DIR:-/tmp/shelfwise-ray}
RAY_PYTHON=${SHELFWISE_RAY_PYTHON:-$(dirname "$0")/../.venv/bin/python}

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

ray_running() { [ -s "$RAY_DIR/address" ] && [ -s "$RAY_DIR/pid" ] && kill -0 "$(cat "$RAY_DIR/pid")" 2>/dev/null; }

start_ray() {
  # optional: needs ray in the venv (pip install -e '.[dev]' or '.[ray]'); without it the Ray tests skip
  if ! "$RAY_PYTHON" -c "import ray" >/dev/null 2>&1; then
    echo "dev_services: no ray in $RAY_PYTHON (pip install 'shelfwise[ray]'): the Ray tests will be skipped" >&2
    return 0
  fi
  mkdir -p "$RAY_DIR"
  if ! ray_running; then
    rm -f "$RAY_DIR/address"
    RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER=0 nohup "$RAY_PYTHON" "$(dirname "$0")/ray_local_cluster.py" --nodes 2 \
      --address-file "$RAY_DIR/address" >"$RAY_DIR/cluster.log" 2>&1 &
    echo $! >"$RAY_DIR/pid"
    for _ in $(seq 240); do [ -s "$RAY_DIR/address" ] && break; sleep 0.5; done
    ray_running || die "the Ray cluster did not start, see $RAY_DIR/cluster.log"
  fi
}

print_urls() {
  echo "export SHELFWISE_TEST_POSTGRES=$PG_URL"
  echo "export SHELFWISE_TEST_REDIS=$REDIS_URL"
  if ray_running; then echo "export SHELFWISE_TEST_RAY=$(cat "$RAY_DIR/address")"; fi
}

case "${1:-}" in
  start)
    start_pg
    start_redis
    start_ray
    print_urls
    ;;
  stop)
    if pg_running; then as_pg "$PG_BIN/pg_ctl" -D "$PG_DATA" -m fast -w stop >/dev/null; fi
    if redis_running; then redis-cli -h 127.0.0.1 -p "$REDIS_PORT" shutdown nosave >/dev/null || true; fi
    if ray_running; then kill "$(cat "$RAY_DIR/pid")" && rm -f "$RAY_DIR/pid"; fi
    echo "stopped"
    ;;
  status)
    status=0
    if pg_running; then echo "postgresql: running on 127.0.0.1:$PG_PORT ($PG_DATA)" >&2; else echo "postgresql: stopped" >&2; status=3; fi
    if redis_running; then echo "redis: running on 127.0.0.1:$REDIS_PORT" >&2; else echo "redis: stopped" >&2; status=3; fi
    if ray_running; then echo "ray: running at $(cat "$RAY_DIR/address")" >&2; else echo "ray: stopped" >&2; fi
    print_urls
    exit $status
    ;;
  *)
    echo "usage: $0 start|stop|status" >&2
    exit 2
    ;;
esac
