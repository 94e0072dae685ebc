#!/usr/bin/env bash
# django-dbs against Django's dumpdata/loaddata, django-dbbackup (dbbackup + mediabackup,
# compressed) and the dbs CLI, on one sample project, in the same run (figures in
# docs/PERFORMANCE.md, "Django"):
#   Benchmarks/django-bench.sh [--rows 100000] [--media-mb 1024] [--rss-rows 1000000] [--runs 1]
# Also runs the rows part on a private PostgreSQL (Integrations/django-dbs/scripts/pg-server.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
root="$PWD"
app="$root/Integrations/django-dbs"
swift build -c release --product dbs >/dev/null
dbs="$(swift build -c release --show-bin-path)/dbs"
venv="$root/.build/django-venv"
[ -x "$venv/bin/python" ] || python3 -m venv "$venv"
"$venv/bin/pip" install -q "$app[dev]" django-dbbackup
work="$(mktemp -d /tmp/dbs-django-bench.XXXXXX)"
eval "$(bash "$app/scripts/pg-server.sh" start)"
trap 'bash "$app/scripts/pg-server.sh" stop "$DBS_TEST_PG_DIR"; rm -rf "$work"' EXIT
unset DBS_LIBRARY
echo "== SQLite"
"$venv/bin/python" "$app/scripts/bench.py" "$work" --dbs "$dbs" "$@"
echo "== PostgreSQL (rows)"
createdb_sql="CREATE DATABASE dbs"
runuser -u postgres -- psql -h 127.0.0.1 -p "$DBS_TEST_PG_PORT" -U postgres -qc "$createdb_sql" postgres
"$venv/bin/python" "$app/scripts/bench.py" "$work" --dbs "$dbs" "$@" --database postgresql --media-mb 0 --rss-rows 0
