"""dbs_backup --to-storage/--to-ssh with --keep/--keep-days, and dbs_restore/dbs_validate
taking a backup from a destination by name, through the real engine and the test sshd."""

from __future__ import annotations

import io
import json
import os

import pytest
from django.core.management import CommandError, call_command

from conftest import PASSPHRASE, table_rows
from dbs.naming import backup_name, parse_name
from sshd_fixture import sshd  # noqa: F401  (fixture)

pytestmark = pytest.mark.django_db(transaction=True)


def run(*args) -> tuple[str, str]:
    out, err = io.StringIO(), io.StringIO()
    call_command(*args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def refused(*args) -> CommandError:
    with pytest.raises(CommandError) as info:
        run(*args)
    return info.value


@pytest.fixture
def storage_dir(tmp_path, settings, monkeypatch):
    monkeypatch.setenv("DBS_PASSPHRASE", PASSPHRASE)
    settings.DBS_TEMP_DIR = str(tmp_path / "tmp")
    os.makedirs(settings.DBS_TEMP_DIR)
    location = tmp_path / "storage"
    settings.STORAGES = {**settings.STORAGES, "dbs": {
        "BACKEND": "django.core.files.storage.FileSystemStorage", "OPTIONS": {"location": str(location)}}}
    return location


@pytest.fixture
def offsite(sshd, tmp_path, settings, storage_dir):
    remote = tmp_path / "offsite"
    settings.DBS_SSH_TARGETS = {"offsite": sshd.profile(remote),
                                "wrong-key": sshd.profile(remote, key_filename=str(sshd.wrong_key))}
    return remote


def seed(directory, names):
    directory.mkdir(parents=True, exist_ok=True)
    for name in names:
        (directory / name).write_bytes(b"an older backup")


def test_backup_to_storage_names_uploads_and_leaves_no_local_copy(populated, storage_dir, settings):
    out, _ = run("dbs_backup", "--to-storage", "--json")
    document = json.loads(out)
    name = document["uploaded"]["name"]
    series, _ = parse_name(name)
    assert series == "project" and document["path"] is None
    assert document["uploaded"]["size"] == document["size"] == (storage_dir / name).stat().st_size
    assert os.listdir(settings.DBS_TEMP_DIR) == []
    listed = json.loads(run("dbs_list", "--json")[0])["backups"]
    assert [b["name"] for b in listed] == [name]


def test_backup_into_a_directory_keeps_the_local_copy_and_uploads_the_same_bytes(populated, storage_dir, tmp_path):
    local = tmp_path / "local"
    local.mkdir()
    document = json.loads(run("dbs_backup", str(local), "--to-storage", "--json")[0])
    (name,) = os.listdir(local)
    assert document["path"] == str(local / name) and document["uploaded"]["name"] == name
    assert (storage_dir / name).read_bytes() == (local / name).read_bytes()


def test_restore_and_validate_by_name_from_sftp(populated, offsite, settings):
    from zoo.models import Article

    _, err = run("dbs_backup", "--to-ssh", "offsite")
    assert "uploaded as project-" in err and "read back and verified" in err
    (name,) = os.listdir(offsite)
    before = table_rows()
    out, _ = run("dbs_validate", name, "--from-ssh", "offsite", "--json")
    assert json.loads(out)["ok"] is True and json.loads(out)["decrypted"] is True
    Article.objects.all().delete()
    assert table_rows() != before
    _, err = run("dbs_restore", name, "--from-ssh", "offsite", "--flush")
    assert "restored" in err
    assert table_rows() == before
    assert os.listdir(settings.DBS_TEMP_DIR) == []  # the fetched copy is gone


def test_restore_from_storage_refuses_missing_and_unsafe_names(storage_dir):
    assert refused("dbs_restore", "nope.dbs", "--from-storage").returncode == 5
    error = refused("dbs_validate", "../etc/passwd", "--from-storage")
    assert error.returncode == 5 and "invalid backup name" in str(error)


def test_retention_keeps_exactly_the_newest_n_of_this_project(populated, storage_dir):
    old = [backup_name("project", when) for when in (
        _days_ago(1), _days_ago(2), _days_ago(3), _days_ago(30))]
    others = [backup_name("other-project", _days_ago(40)), "hand-made.dbs", "notes.txt"]
    seed(storage_dir, old + others)
    out, _ = run("dbs_backup", "--to-storage", "--keep", "2", "--json")
    document = json.loads(out)
    new = document["uploaded"]["name"]
    assert sorted(document["retention"]["deleted"]) == sorted(old[1:])
    assert sorted(os.listdir(storage_dir)) == sorted([new, old[0]] + others)


def test_keep_days_with_keep_as_a_floor(populated, storage_dir):
    old = [backup_name("project", _days_ago(d)) for d in (1, 5, 9, 20)]
    seed(storage_dir, old)
    out, _ = run("dbs_backup", "--to-storage", "--keep-days", "7", "--keep", "4", "--json")
    new = json.loads(out)["uploaded"]["name"]
    # Kept: the new one, everything younger than 7 days, and the newest 4 whatever their age.
    assert sorted(os.listdir(storage_dir)) == sorted([new] + old[:3])


def test_retention_runs_only_after_a_verified_upload(populated, storage_dir, settings, offsite):
    old = [backup_name("project", _days_ago(d)) for d in (1, 2)]
    seed(storage_dir, old)
    settings.STORAGES = {**settings.STORAGES, "dbs": {**settings.STORAGES["dbs"],
                                                       "BACKEND": "test_storage_destination.TruncatingStorage"}}
    error = refused("dbs_backup", "--to-storage", "--keep", "1")
    assert error.returncode == 5 and "read back" in str(error)
    assert sorted(os.listdir(storage_dir)) == sorted(old)  # nothing uploaded, nothing deleted
    seed(offsite, old)
    error = refused("dbs_backup", "--to-ssh", "wrong-key", "--keep", "1")
    assert error.returncode == 5 and "authentication" in str(error)
    assert sorted(os.listdir(offsite)) == sorted(old)


def test_retention_in_a_local_directory(populated, storage_dir, tmp_path):
    local = tmp_path / "local"
    old = [backup_name("project", _days_ago(d)) for d in (1, 2, 3)]
    seed(local, old)
    out, _ = run("dbs_backup", str(local), "--keep", "2", "--json")
    document = json.loads(out)
    new = os.path.basename(document["path"])
    assert document["retention"]["deleted"] == old[1:]
    assert sorted(os.listdir(local)) == sorted([new, old[0]])


def test_bad_options_are_refused_before_any_backup(populated, storage_dir, tmp_path, offsite):
    error = refused("dbs_backup", str(tmp_path / "manual.dbs"), "--keep", "1")
    assert error.returncode == 2 and "named <series>-<UTC time>.dbs" in str(error)
    assert refused("dbs_backup", "--to-ssh", "nope").returncode == 2
    assert refused("dbs_backup", "--to-storage", "--keep", "0").returncode == 2
    assert refused("dbs_backup").returncode == 2  # neither PATH nor a destination
    assert not (tmp_path / "manual.dbs").exists() and not storage_dir.exists()


def _days_ago(days):
    import datetime

    return datetime.datetime.now(datetime.timezone.utc) - datetime.timedelta(days=days, minutes=1)
