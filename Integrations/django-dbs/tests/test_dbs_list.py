"""dbs_list: the backups at STORAGES["dbs"] or an SFTP profile, as text or JSON."""

from __future__ import annotations

import io
import json

import pytest
from django.core.management import CommandError, call_command

from dbs.transports import SSHTarget, push_backup
from sshd_fixture import sshd  # noqa: F401  (fixture)


def run(*args) -> str:
    out = io.StringIO()
    call_command("dbs_list", *args, stdout=out)
    return out.getvalue()


def test_lists_the_storage_by_default(tmp_path, settings):
    settings.STORAGES = {**settings.STORAGES, "dbs": {
        "BACKEND": "django.core.files.storage.FileSystemStorage", "OPTIONS": {"location": str(tmp_path)}}}
    assert run().startswith("no backups at storage 'dbs'")
    push_backup(b"a" * 1500, "site-20260101T000000Z.dbs", storage=True)
    push_backup(b"b" * 10, "site-20260102T000000Z.dbs", storage=True)
    (tmp_path / "readme.txt").write_text("not listed")
    listing = json.loads(run("--json"))
    assert listing["destination"] == "storage 'dbs'"
    assert {b["name"]: b["size"] for b in listing["backups"]} == {
        "site-20260101T000000Z.dbs": 1500, "site-20260102T000000Z.dbs": 10}
    assert all(b["modified"].endswith("+00:00") for b in listing["backups"])
    text = run("--storage")
    assert "site-20260101T000000Z.dbs" in text and "1,500" in text and "2 backup(s), 1,510 bytes" in text


def test_lists_an_ssh_profile(sshd, tmp_path, settings):
    settings.DBS_SSH_TARGETS = {"offsite": sshd.profile(tmp_path / "remote")}
    push_backup(b"x" * 42, "site-20260101T000000Z.dbs", SSHTarget.from_settings("offsite"))
    listing = json.loads(run("--ssh", "offsite", "--json"))
    assert listing["destination"].startswith("sftp://root@127.0.0.1:")
    assert [(b["name"], b["size"]) for b in listing["backups"]] == [("site-20260101T000000Z.dbs", 42)]


def test_unknown_profile_and_bad_profile_are_command_errors(sshd, tmp_path, settings):
    settings.DBS_SSH_TARGETS = {"typo": {**sshd.profile(tmp_path), "known_host": "x"}}
    with pytest.raises(CommandError, match="no SSH profile 'nope' in DBS_SSH_TARGETS \\(typo\\)"):
        run("--ssh", "nope")
    with pytest.raises(CommandError, match="unknown key.*known_host"):
        run("--ssh", "typo")
