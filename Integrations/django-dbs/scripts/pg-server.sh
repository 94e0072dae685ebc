#!/usr/bin/env bash
# A private, throwaway PostgreSQL server on 127.0.0.1 for the Django tests.
#
#   eval "$(scripts/pg-server.sh start)"   # prints DBS_TEST_PG_PORT=... DBS_TEST_PG_DIR=...
#   scripts/pg-server.sh stop "$DBS_TEST_PG_DIR"
#
# Runs initdb/pg_ctl from /usr/lib/postgresql/15/bin as the postgres user (they refuse
# root), with a temporary data directory, trust authentication on loopback only and a
# free port, so it never touches a system cluster.
set -euo pipefail
bin="${PG_BIN:-/usr/lib/postgresql/15/bin}"
as_postgres() { if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }

case "${1:-}" in
start)
    dir="$(mktemp -d /tmp/dbs-pg.XXXXXX)"
    [ "$(id -u)" = 0 ] && chown postgres: "$dir"
    port="$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
    as_postgres "$bin/initdb" -D "$dir/data" -U postgres -A trust -E UTF8 --locale=C.UTF-8 >"$dir/initdb.log" 2>&1 \
        || { cat "$dir/initdb.log" >&2; exit 1; }
    as_postgres "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 \
        -o "-c listen_addresses=127.0.0.1 -p $port -k $dir -c fsync=off -c full_page_writes=off -c synchronous_commit=off" \
        start >/dev/null || { cat "$dir/server.log" >&2; exit 1; }
    echo "DBS_TEST_PG_PORT=$port; DBS_TEST_PG_DIR=$dir; export DBS_TEST_PG_PORT DBS_TEST_PG_DIR"
    ;;
stop)
    dir="${2:?usage: pg-server.sh stop DIR}"
    as_postgres "$bin/pg_ctl" -D "$dir/data" -m fast -w stop >/dev/null 2>&1 || true
    rm -rf "$dir"
    ;;
*)
    echo "usage: pg-server.sh start | stop DIR" >&2
    exit 2
    ;;
esac
