"""Fixtures of the django-dbs suite: a populated model zoo (zoo/sample_data.py has
the data and the helpers that compare databases and damage real backup files)."""
import pytest

from zoo.sample_data import (PASSPHRASE, copy_ranges, damage, media_files, populate,  # noqa: F401
                             table_rows, wipe)


@pytest.fixture
def media(settings, tmp_path):
    """A fresh MEDIA_ROOT, and restore roots for FILE_PATH files and file roots."""
    root = tmp_path / "media"
    root.mkdir()
    settings.MEDIA_ROOT = str(root)
    scans = tmp_path / "scans"
    scans.mkdir()
    settings.DBS_RESTORE_ROOTS = [str(tmp_path)]
    return tmp_path


@pytest.fixture
def populated(media, django_db_blocker):
    populate(media)
    return media
