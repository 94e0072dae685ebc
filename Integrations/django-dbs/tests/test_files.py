"""Files on restore: through the field's storage, collisions, refusals, all or nothing."""
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
