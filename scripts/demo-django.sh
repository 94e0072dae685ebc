#!/usr/bin/env bash
# The main job's Django part (scripts/demo.sh runs it): the django-dbs app on a sample
# project with SQLite (the test project's model zoo: rows of every relation kind, and
# media files), through the management commands a user runs:
#   populate -> dbs_backup -> damage both copies -> dbs_validate -> wipe the database and
#   the media -> dbs_restore -> compare row for row and byte for byte.
# usage: scripts/demo-django.sh [DBS_BINARY]   (the dbs CLI, for `dbs inspect` and the damage)
set -euo pipefail
cd "$(dirname "$0")/.."
root="$PWD"
app="$root/Integrations/django-dbs"
dbs="${1:-$(swift build -c release --show-bin-path)/dbs}"

python3 -c 'import ensurepip, venv' 2>/dev/null || {
    sudo=""; [ "$(id -u)" = 0 ] || sudo="sudo"
    $sudo apt-get update -qq && DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq python3-venv; }
venv="$root/.build/django-venv"
[ -x "$venv/bin/python" ] || python3 -m venv "$venv"
echo "== pip install ./Integrations/django-dbs (builds libDBSC, ships it in the package)"
"$venv/bin/pip" install -q "$app" Pillow   # Pillow: the sample has an ImageField

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
export DBS_TEST_SCRATCH="$work" DJANGO_SETTINGS_MODULE=project.settings PYTHONPATH="$app/tests" DBS_TEST_DATABASE=sqlite
unset DBS_TEST_PG_PORT DBS_LIBRARY
manage() { "$venv/bin/django-admin" "$@"; }
export DBS_PASSPHRASE="demo passphrase, not a real one"

echo "== sample project in $work: migrate, rows and files"
manage migrate -v 0
"$venv/bin/python" "$app/scripts/sample.py" populate
"$venv/bin/python" "$app/scripts/sample.py" snapshot "$work/before.json"

echo "== dbs_backup"
manage dbs_backup "$work/site.dbs"
echo "== the dbs CLI reads it unchanged: dbs inspect"
"$dbs" inspect "$work/site.dbs"

echo "== damage: bit flips at 1e-5 per bit in both copies, 64 KiB zeroed in copy A"
"$dbs" inspect --json "$work/site.dbs" > "$work/inspect.json"
python3 scripts/damage.py "$work/site.dbs" --copies-json "$work/inspect.json" \
    --flip-rate 1e-5 --zero-in-copy A:20000:65536 --seed 7

echo "== dbs_validate (no passphrase: structure only)"
env -u DBS_PASSPHRASE "$venv/bin/django-admin" dbs_validate "$work/site.dbs"

echo "== wipe: the database and the media are gone"
rm -rf "$work/db.sqlite3" "$work/media" "$work/scans"
manage migrate -v 0

echo "== dbs_restore"
manage dbs_restore "$work/site.dbs"
echo "== compare"
"$venv/bin/python" "$app/scripts/sample.py" compare "$work/before.json"
echo "demo-django: the damaged Django backup restored row for row and byte for byte"
