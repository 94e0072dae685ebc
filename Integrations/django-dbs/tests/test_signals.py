"""dbs.signals as the README documents them: what each carries, when it is sent (and
not sent), and the two uses people have for them: shipping a finished backup from
post_backup, vetoing a backup from pre_backup."""

from __future__ import annotations

import os
from contextlib import contextmanager

import pytest
from django.core.files.storage import FileSystemStorage

from conftest import PASSPHRASE, damage, table_rows
from dbs import create_backup, restore_backup, signals, validate_backup
from dbs.exceptions import InvalidPassphrase
from dbs.transports import StorageDestination, push_backup

pytestmark = pytest.mark.django_db(transaction=True)

NAMES = ("pre_backup", "post_backup", "pre_restore", "post_restore")


@contextmanager
def receiving(**handlers):
    """Connect handlers by signal name for the duration of the block."""
    for name, handler in handlers.items():
        getattr(signals, name).connect(handler, weak=False)
    try:
        yield
    finally:
        for name, handler in handlers.items():
            getattr(signals, name).disconnect(handler)


@pytest.fixture
def seen():
    log = []
    handlers = {name: (lambda name: lambda sender, signal, **kw: log.append((name, sender, kw)))(name)
                for name in NAMES}
    with receiving(**handlers):
        yield log


def test_what_each_signal_carries(populated, tmp_path, seen):
    path = tmp_path / "b.dbs"
    backup = create_backup(PASSPHRASE, output=str(path))
    restore_backup(str(path), PASSPHRASE, flush=True)
    assert [(name, sender) for name, sender, _ in seen] == [
        ("pre_backup", create_backup), ("post_backup", create_backup),
        ("pre_restore", restore_backup), ("post_restore", restore_backup)]
    (_, _, pre_b), (_, _, post_b), (_, _, pre_r), (_, _, post_r) = seen
    assert pre_b["using"] == "default" and pre_b["options"]["copies"] == 2
    assert post_b["result"] is backup and post_b["result"].path == str(path)
    assert pre_r["options"] == {"dry_run": False, "flush": True, "models": None}
    result = post_r["result"]
    assert result.records_loaded == backup.records and not result.dry_run
    assert result.repair_report is not None and not result.healed
    for _, _, kwargs in seen:
        assert PASSPHRASE not in repr(kwargs)  # no receiver ever sees the passphrase


def test_post_backup_comes_once_the_file_is_complete_and_verified(populated, tmp_path):
    """The documented use: ship every backup offsite as soon as it exists."""
    offsite = StorageDestination(FileSystemStorage(location=tmp_path / "offsite"))
    checked = []

    def ship(sender, result, **kwargs):
        checked.append(validate_backup(result.path, PASSPHRASE).ok)
        push_backup(result.path, os.path.basename(result.path), offsite)

    with receiving(post_backup=ship):
        create_backup(PASSPHRASE, output=str(tmp_path / "project-20260101T000000Z.dbs"))
    assert checked == [True]
    assert [b.name for b in offsite.list()] == ["project-20260101T000000Z.dbs"]


def test_a_pre_backup_receiver_can_veto_and_nothing_is_written(populated, tmp_path):
    def maintenance(sender, **kwargs):
        raise RuntimeError("maintenance window: no backups now")

    with receiving(pre_backup=maintenance), pytest.raises(RuntimeError, match="maintenance"):
        create_backup(PASSPHRASE, output=str(tmp_path / "b.dbs"))
    assert not [p.name for p in tmp_path.iterdir() if "b.dbs" in p.name]  # no file, no partial file


def test_post_restore_reports_healing_and_rows_are_visible_to_it(populated, tmp_path):
    from zoo.models import Article

    path = tmp_path / "b.dbs"
    create_backup(PASSPHRASE, output=str(path))
    damage(str(path), "A", 8192 + 100, length=500)
    before = table_rows()
    Article.objects.all().delete()
    observed = {}

    def audit(sender, result, **kwargs):
        observed.update(healed=result.healed, report=result.repair_report.describe(),
                        articles=Article.objects.count())

    with receiving(post_restore=audit):
        restore_backup(str(path), PASSPHRASE, flush=True)
    assert observed["healed"] is True and observed["report"]
    assert observed["articles"] == 25
    assert table_rows() == before


def test_dry_run_says_so_and_a_failed_restore_sends_no_post_restore(populated, tmp_path, seen):
    path = tmp_path / "b.dbs"
    create_backup(PASSPHRASE, output=str(path))
    seen.clear()
    restore_backup(str(path), PASSPHRASE, dry_run=True, flush=True)
    assert [name for name, _, _ in seen] == ["pre_restore", "post_restore"]
    assert seen[0][2]["options"]["dry_run"] is True and seen[1][2]["result"].dry_run is True
    seen.clear()
    with pytest.raises(InvalidPassphrase):
        restore_backup(str(path), "not the passphrase")
    assert [name for name, _, _ in seen] == ["pre_restore"]
