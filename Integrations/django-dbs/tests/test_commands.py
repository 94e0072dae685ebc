"""The management commands as a user runs them: argv in, exit status and messages out."""
import io
import json
import os
from contextlib import redirect_stderr, redirect_stdout

import pytest
from django.core.management import ManagementUtility

from conftest import PASSPHRASE, damage, table_rows, wipe
from zoo.sample_data import file_tree_backup

pytestmark = pytest.mark.django_db(transaction=True, databases=["default", "other"])  # Django 6 checks every alias


def run(*argv, env=None, monkeypatch=None):
    """Runs `manage.py argv...` in-process; returns (exit status, stdout, stderr)."""
    out, err = io.StringIO(), io.StringIO()
    status = 0
    with redirect_stdout(out), redirect_stderr(err):
        try:
            ManagementUtility(["manage.py", *argv]).execute()
        except SystemExit as exit:
            status = exit.code if isinstance(exit.code, int) else 1
    return status, out.getvalue(), err.getvalue()


@pytest.fixture
def passphrase_env(monkeypatch):
    monkeypatch.setenv("DBS_PASSPHRASE", PASSPHRASE)


def test_backup_validate_restore_exit_statuses(populated, tmp_path, passphrase_env, monkeypatch):
    path = str(tmp_path / "cmd.dbs")
    before = table_rows()
    status, _, err = run("dbs_backup", path, "--threads", "2")
    assert status == 0, err
    assert "rows of" in err and "written and verified" in err
    status, _, err = run("dbs_backup", path)
    assert status == 5 and "already exists" in err
    assert run("dbs_backup", path, "--force", "--quiet")[0] == 0

    status, _, err = run("dbs_validate", path)
    assert status == 0 and "decrypted and verified" in err  # $DBS_PASSPHRASE is a source
    monkeypatch.delenv("DBS_PASSPHRASE")
    status, _, err = run("dbs_validate", path)
    assert status == 0 and "structure verified" in err
    status, out, _ = run("dbs_validate", path, "--json")
    assert status == 0 and json.loads(out)["ok"] is True
    status, _, err = run("dbs_validate", path, "--passphrase", "wrong")
    assert status == 3

    status, _, err = run("dbs_restore", path)  # no source, no TTY: a usage error, not a hang
    assert status == 2 and "no passphrase" in err
    status, _, err = run("dbs_restore", path, "--passphrase", "wrong")
    assert status == 3
    secret = tmp_path / "secret.txt"
    secret.write_text(PASSPHRASE + "\n")
    wipe()
    status, out, err = run("dbs_restore", path, "--passphrase-file", str(secret), "--json")
    assert status == 0, err
    document = json.loads(out)
    assert document["records_loaded"] == sum(len(rows) for rows in before.values())
    assert table_rows() == before

    status, _, err = run("dbs_restore", path, "--passphrase-file", str(secret), "--dry-run", "--flush")
    assert status == 0 and "dry run" in err
    status, _, err = run("dbs_restore", path, "--passphrase-file", str(secret), "--flush",
                         "--models", "zoo.Tag", "zoo.Category")
    assert status == 0 and "restored" in err
    assert run("dbs_restore", path, "--passphrase-file", str(tmp_path / "none"))[0] == 5
    assert run("dbs_restore", str(tmp_path / "missing.dbs"), "--passphrase", "x")[0] == 5
    assert run("dbs_restore", path, "--no-such-option")[0] == 2


def test_healed_and_beyond_repair_statuses(populated, tmp_path, passphrase_env):
    path = str(tmp_path / "cmd.dbs")
    assert run("dbs_backup", path)[0] == 0
    damage(path, "A", 8192 + 100, length=500)
    status, _, err = run("dbs_validate", path)
    assert status == 0 and "healed" in err and "other copy" in err
    wipe()
    status, _, err = run("dbs_restore", path)
    assert status == 0 and "healed damage" in err
    for copy in "AB":
        damage(path, copy, 8192, length=255 * 4096, xor=0x33)
    status, _, err = run("dbs_validate", path)
    assert status == 4 and "damaged beyond repair" in err
    wipe()
    status, _, err = run("dbs_restore", path)
    assert status == 4
    assert all(rows == [] for rows in table_rows().values())


def test_restore_refuses_a_cli_file_tree_with_status_1(tmp_path, media, passphrase_env):
    tree = tmp_path / "plain"
    tree.mkdir()
    (tree / "x").write_text("x")
    file_tree_backup(str(tmp_path / "t.dbs"), tree)
    status, _, err = run("dbs_restore", str(tmp_path / "t.dbs"))
    assert status == 1 and "not a Django backup" in err
