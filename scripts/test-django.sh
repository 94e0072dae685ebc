#!/usr/bin/env bash
# The Django app's suite (Integrations/django-dbs), self-contained, as CI runs it:
#  1. installs PostgreSQL 15, python3-venv, openssh-server, chromium and chromium-driver
#     from Debian if missing (idempotent);
#  2. makes a venv (.build/django-venv) and installs the package the way a user does,
#     `pip install ./Integrations/django-dbs[dev]`, which builds libDBSC in release
#     (scripts/install-cabi.sh: incremental after the C ABI step) and ships it inside;
#  3. starts a private PostgreSQL on 127.0.0.1 (a temporary cluster, a free port);
#  4. runs pytest with SQLite as the default database (PostgreSQL as the second one:
#     the cross-database restores), then with PostgreSQL as the default;
#  5. if pyenv has Python 3.12+, the suite on Django 6 with SQLite.
# Then stops the server and removes its data. DBS_DJANGO_SKIP_DJANGO6=1 skips step 5.
set -euo pipefail
cd "$(dirname "$0")/.."
root="$PWD"
app="$root/Integrations/django-dbs"

need=()
[ -x /usr/lib/postgresql/15/bin/initdb ] || need+=(postgresql-15)
python3 -c 'import ensurepip, venv' 2>/dev/null || need+=(python3-venv)
# The destination and admin tests: a real sshd on loopback, a real headless browser.
[ -x /usr/sbin/sshd ] || need+=(openssh-server)
[ -x /usr/bin/chromium ] || need+=(chromium)
[ -x /usr/bin/chromedriver ] || need+=(chromium-driver)
if ((${#need[@]})); then
    sudo=""; [ "$(id -u)" = 0 ] || sudo="sudo"
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${need[@]}"
fi

venv() {  # venv DIR PYTHON [extra pip requirement]: a venv with the package installed
    local dir="$1" python="$2"
    [ -x "$dir/bin/python" ] || "$python" -m venv "$dir"
    "$dir/bin/pip" install -q --upgrade pip
    "$dir/bin/pip" install -q "$app[dev]" ${3:+"$3"}
}

started=$SECONDS
echo "== pip install ./Integrations/django-dbs[dev] (builds libDBSC)"
venv "$root/.build/django-venv" python3
echo "installed in $((SECONDS - started))s: $("$root/.build/django-venv/bin/python" -c 'import dbs.engine as e; print(e._packaged_library())')"

eval "$(bash "$app/scripts/pg-server.sh" start)"
trap 'bash "$app/scripts/pg-server.sh" stop "$DBS_TEST_PG_DIR"' EXIT
unset DBS_LIBRARY  # the library the package ships, nothing else

cd "$app"
echo "== pytest: SQLite default, PostgreSQL as the other database"
DBS_TEST_DATABASE=sqlite "$root/.build/django-venv/bin/pytest" -q
# Once is enough for the browser test (issue 11), and for the destination tests that use
# no database at all: the later runs skip them.
once=(--ignore=tests/test_admin_browser.py)
no_database=(--ignore=tests/test_transports.py --ignore=tests/test_storage_destination.py
             --ignore=tests/test_retention.py)
echo "== pytest: PostgreSQL default, SQLite as the other database"
DBS_TEST_DATABASE=postgresql "$root/.build/django-venv/bin/pytest" -q "${once[@]}" "${no_database[@]}"

py312=""
if command -v pyenv >/dev/null; then
    for candidate in "$(pyenv root)"/versions/3.1[2-9]*/bin/python3; do
        [ -x "$candidate" ] && { py312="$candidate"; break; }
    done
fi
if [ -z "${DBS_DJANGO_SKIP_DJANGO6:-}" ] && [ -n "$py312" ]; then
    echo "== Django 6 on Python 3.12, SQLite"
    venv "$root/.build/django6-venv" "$py312" "Django>=6,<7"
    "$root/.build/django6-venv/bin/python" -c 'import django; print("Django", django.get_version())'
    env -u DBS_TEST_PG_PORT DBS_TEST_DATABASE=sqlite "$root/.build/django6-venv/bin/pytest" -q "${once[@]}"
fi
echo "django tests passed in $((SECONDS - started))s"
