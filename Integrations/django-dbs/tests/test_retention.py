"""Retention keeps exactly what it should, and deletes only after the new backup is safe."""

from __future__ import annotations

import datetime as _dt

import pytest
from django.core.files.storage import FileSystemStorage

from dbs.exceptions import UsageError
from dbs.naming import backup_name, parse_name
from dbs.retention import RetentionPolicy, apply_retention
from dbs.transports import BackupInfo, SSHTarget, StorageDestination, push_backup
from sshd_fixture import sshd  # noqa: F401  (fixture)

NOW = _dt.datetime(2026, 3, 10, 12, 0, 0, tzinfo=_dt.timezone.utc)


def day(n: int, series: str = "site") -> str:
    """The name of a backup made n days before NOW."""
    return backup_name(series, NOW - _dt.timedelta(days=n))


def infos(*names: str) -> list[BackupInfo]:
    return [BackupInfo(n, 1, None) for n in names]


def test_names_round_trip():
    assert backup_name("my-site", NOW) == "my-site-20260310T120000Z.dbs"
    assert parse_name("my-site-20260310T120000Z.dbs") == ("my-site", NOW)
    assert parse_name("manual.dbs") is None
    assert parse_name("my-site-20260310T120000Z.dbs.part") is None


@pytest.mark.parametrize(
    "policy, deleted",
    [
        (RetentionPolicy(keep=3), [3, 4, 10, 40]),
        (RetentionPolicy(keep=1), [1, 2, 3, 4, 10, 40]),
        (RetentionPolicy(keep=100), []),
        (RetentionPolicy(keep_days=7), [10, 40]),
        (RetentionPolicy(keep_days=3.5), [4, 10, 40]),
        # Either rule keeps a backup: a month of them, never fewer than 6.
        (RetentionPolicy(keep=6, keep_days=3.5), [40]),
        (RetentionPolicy(keep=2, keep_days=30), [40]),
        (RetentionPolicy(), []),
    ],
)
def test_policy_keeps_exactly_what_it_should(policy, deleted):
    listing = infos(day(0), day(1), day(2), day(3), day(4), day(10), day(40))
    assert [b.name for b in policy.expired(listing, day(0), NOW)] == [day(n) for n in deleted]


def test_the_new_backup_is_never_deleted_even_when_older_than_every_rule():
    # A clock set back: the new backup's time is older than keep_days and than others.
    listing = infos(day(0), day(1), day(50))
    doomed = RetentionPolicy(keep=1, keep_days=1).expired(listing, day(50), NOW)
    assert day(50) not in [b.name for b in doomed]


def test_other_series_and_other_files_are_never_touched():
    listing = infos(day(0), day(9), day(9, "other-project"), "manual.dbs", "site-latest.dbs")
    assert [b.name for b in RetentionPolicy(keep=1).expired(listing, day(0), NOW)] == [day(9)]


def test_nothing_deleted_when_the_destination_does_not_show_the_new_backup():
    assert RetentionPolicy(keep=1).expired(infos(day(1), day(2)), day(0), NOW) == []


@pytest.mark.parametrize("kwargs", [{"keep": 0}, {"keep": -1}, {"keep_days": 0}, {"keep_days": -2}])
def test_policies_that_would_delete_everything_are_refused(kwargs):
    with pytest.raises(UsageError):
        RetentionPolicy(**kwargs)


def test_retention_needs_generated_names():
    with pytest.raises(UsageError, match="named <series>-<UTC time>.dbs"):
        RetentionPolicy(keep=1).expired(infos("manual.dbs"), "manual.dbs", NOW)


def seed(destination, names):
    for n in names:
        destination.upload(n.encode(), n)


def test_apply_on_a_filesystem_storage(tmp_path):
    dest = StorageDestination(FileSystemStorage(location=tmp_path), alias="dbs")
    seed(dest, [day(1), day(2), day(3), day(9, "other")])
    (tmp_path / "notes.txt").write_text("kept")
    new = push_backup(b"fresh", day(0), dest)
    deleted = apply_retention(dest, RetentionPolicy(keep=2), new, NOW)
    assert [b.name for b in deleted] == [day(2), day(3)]
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([day(0), day(1), day(9, "other"), "notes.txt"])


def test_apply_over_sftp(sshd, tmp_path):
    remote = tmp_path / "remote"
    with SSHTarget.from_profile(sshd.profile(remote)).destination() as dest:
        seed(dest, [day(1), day(5), day(8), day(30)])
        new = dest.upload(b"fresh", day(0))
        deleted = apply_retention(dest, RetentionPolicy(keep_days=7, keep=2), new, NOW)
    assert sorted(b.name for b in deleted) == sorted([day(8), day(30)])
    assert sorted(p.name for p in remote.iterdir()) == sorted([day(0), day(1), day(5)])


def test_the_next_sftp_upload_removes_this_projects_stale_part_files(sshd, tmp_path):
    """A dropped upload leaves its ``.part`` on the server (the connection was gone, nothing
    could remove it). The next upload removes this series' parts older than an hour, and
    nothing else: a younger part (an upload perhaps still running), another project's."""
    import os
    import time

    remote = tmp_path / "remote"
    remote.mkdir()
    old, young = time.time() - 2 * 3600, time.time() - 600
    files = {f"{day(3)}.0badc0de.part": old, f"{day(2)}.12345678.part": young,
             f"{day(3, 'other')}.deadbeef.part": old, "notes.part": old, f"{day(4)}.part.txt": old}
    for name, stamp in files.items():
        (remote / name).write_bytes(b"half an upload")
        os.utime(remote / name, (stamp, stamp))
    with SSHTarget.from_profile(sshd.profile(remote)).destination() as dest:
        dest.upload(b"fresh", day(0))
        assert dest.stale_parts_removed == [f"{day(3)}.0badc0de.part"]
    left = sorted(p.name for p in remote.iterdir())
    assert left == sorted([day(0)] + [n for n in files if n != f"{day(3)}.0badc0de.part"])
