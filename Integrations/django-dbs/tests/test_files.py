"""Files on restore: through the field's storage, collisions, refusals, all or nothing."""
import hashlib
import os

import pytest
from django.core.files.base import ContentFile

from conftest import PASSPHRASE, media_files, table_rows, wipe
from dbs import create_backup, restore_backup
from dbs.exceptions import StorageError

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_storage_that_refuses_a_write_fails_the_restore_cleanly(populated, settings):
    blob = create_backup(PASSPHRASE)
    wipe()
    for name in list(media_files(settings.MEDIA_ROOT)):
        (populated / "media" / name).unlink()
    (populated / "scans" / "scan 扫描.bin").unlink()
    settings.STORAGES = dict(settings.STORAGES, default={"BACKEND": "zoo.storage.RefusingStorage"})
    with pytest.raises(StorageError, match="RefusingStorage refused to write .*No space left"):
        restore_backup(blob, PASSPHRASE)
    assert all(rows == [] for rows in table_rows().values())
    assert media_files(settings.MEDIA_ROOT) == {} and media_files(populated / "scans") == {}


def test_a_different_file_under_the_same_name_is_kept_and_the_row_renamed(populated, settings):
    from zoo.models import Article

    article = Article.objects.exclude(attachment="").order_by("pk").first()
    name = article.attachment.name
    original = article.attachment.read()
    blob = create_backup(PASSPHRASE)
    wipe()
    path = populated / "media" / name
    path.write_bytes(b"someone else's file")
    result = restore_backup(blob, PASSPHRASE)
    assert path.read_bytes() == b"someone else's file"
    restored = Article.objects.get(pk=article.pk)
    assert restored.attachment.name != name and restored.attachment.read() == original
    assert any("already exists" in w and "1 row(s) updated" in w for w in result.warnings)


def test_identical_files_already_present_are_not_rewritten(populated, settings):
    blob = create_backup(PASSPHRASE)
    before = media_files(settings.MEDIA_ROOT)
    wipe()
    result = restore_backup(blob, PASSPHRASE)
    assert result.files_written == 0 and media_files(settings.MEDIA_ROOT) == before


def test_a_replaced_file_path_file_is_put_back_when_the_restore_fails(populated, settings):
    from zoo.models import Tag

    scan = populated / "scans" / "scan 扫描.bin"
    blob = create_backup(PASSPHRASE)
    scan.write_bytes(b"newer scan")
    wipe()
    # Another key, the name of a backed-up tag: its unique constraint fails the restore.
    Tag.objects.create(pk=10_000, name="python")
    with pytest.raises(Exception, match="nothing was loaded"):
        restore_backup(blob, PASSPHRASE)
    assert scan.read_bytes() == b"newer scan"
    assert sorted(p.name for p in scan.parent.iterdir()) == [scan.name]  # no temporary or moved-aside file


def rewrite_when_read(path, change):
    """A progress hook that changes `path` once the backup has streamed its bytes and
    before it lets go of the file (a writer racing the backup)."""
    size = path.stat().st_size

    def progress(rows, files, bytes):
        if files and bytes == size and path.exists():
            change(path)
    return progress


def same_size_same_mtime(path):
    """Rewritten in place, same size, its mtime put back: size + mtime cannot see it."""
    stat = path.stat()
    with open(path, "r+b") as handle:
        handle.write(b"\0" * 64)
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns))


def replaced(path):
    other = path.with_name(path.name + ".new")
    other.write_bytes(path.read_bytes())
    os.utime(other, ns=(path.stat().st_atime_ns, path.stat().st_mtime_ns))
    os.replace(other, path)


@pytest.mark.parametrize("change, reason", [(same_size_same_mtime, "changed while it was read"),
                                            (replaced, "was replaced by another file while it was read"),
                                            (os.unlink, "vanished while it was read")])
def test_a_file_changed_while_read_is_reported_with_what_the_backup_holds(populated, tmp_path, change, reason):
    scan = populated / "scans" / "scan 扫描.bin"
    content = scan.read_bytes()
    result = create_backup(PASSPHRASE, output=tmp_path / "raced.dbs", progress=rewrite_when_read(scan, change))
    where = "zoo.Article.scan_path: file"
    changed = [c for c in result.changed_files if c["file"].startswith(where)]
    assert changed == [{"file": f"{where} {str(scan)!r}", "reason": reason, "size": len(content),
                        "sha256": hashlib.sha256(content).hexdigest()}]
    assert f"{where} {str(scan)!r} {reason}; the backup holds what was read ({len(content)} bytes, SHA-256 " \
           f"{hashlib.sha256(content).hexdigest()})" in result.warnings
    assert result.as_dict()["changed_files"] == result.changed_files
    # The backup holds the bytes as they were read.
    scan.unlink(missing_ok=True)
    restore_backup(result, PASSPHRASE, flush=True)
    assert scan.read_bytes() == content

