"""Any Django storage as a destination: FileSystemStorage, and django-storages'
SFTPStorage against the real sshd of sshd_fixture."""

from __future__ import annotations

import os

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import FileSystemStorage, Storage

from dbs.transports import StorageDestination, TransportError, VerificationError, get_destination, push_backup
from sshd_fixture import sshd  # noqa: F401  (fixture)


@pytest.fixture
def fs_storage(tmp_path, settings):
    location = tmp_path / "backups"
    settings.STORAGES = {
        **settings.STORAGES,
        "dbs": {"BACKEND": "django.core.files.storage.FileSystemStorage", "OPTIONS": {"location": str(location)}},
    }
    return location


def test_storages_dbs_is_the_default_destination(fs_storage):
    data = os.urandom(2 * 1024 * 1024 + 3)
    sent = []
    info = push_backup(data, "site-20260101T000000Z.dbs", storage=True, progress=sent.append)
    assert (fs_storage / "site-20260101T000000Z.dbs").read_bytes() == data
    assert sorted(os.listdir(fs_storage)) == ["site-20260101T000000Z.dbs"]  # the .part was renamed
    assert info.size == len(data) and info.modified is not None and sent[-1] == len(data)
    dest = get_destination(storage="dbs")
    assert "'dbs'" in dest.label
    assert [(i.name, i.size) for i in dest.list()] == [("site-20260101T000000Z.dbs", len(data))]


def test_missing_storage_alias_is_a_clear_error(settings):
    with pytest.raises(TransportError, match=r'no storage .dbs.: add STORAGES\["dbs"\]'):
        push_backup(b"x", "x.dbs", storage=True)


def test_fetch_delete_and_refusals(fs_storage, tmp_path):
    dest = get_destination(storage=True)
    dest.upload(b"one", "a.dbs")
    with pytest.raises(TransportError, match="already exists"):
        dest.upload(b"two", "a.dbs")
    assert dest.fetch("a.dbs", tmp_path / "a-copy.dbs").read_bytes() == b"one"
    with pytest.raises(TransportError, match="invalid backup name"):
        dest.fetch("../a.dbs", tmp_path / "x.dbs")
    dest.delete("a.dbs")
    assert dest.list() == []
    with pytest.raises(TransportError, match="no backup named"):
        dest.delete("a.dbs")


class TruncatingStorage(FileSystemStorage):
    """A storage whose writes lose their last byte: a real FileSystemStorage under it, with
    the kind of fault a flaky network storage has."""

    def _save(self, name, content):
        data = b"".join(content.chunks())
        return super()._save(name, ContentFile(data[:-1]))


class ObjectStore(Storage):
    """An object store's shape: no path(), no rename; objects appear whole on save.
    Backed by a directory so the test reads what was really written."""

    def __init__(self, root):
        self.fs = FileSystemStorage(location=root)

    def _save(self, name, content):
        return self.fs._save(name, content)

    def _open(self, name, mode="rb"):
        return self.fs._open(name, mode)

    def exists(self, name):
        return self.fs.exists(name)

    def delete(self, name):
        self.fs.delete(name)

    def listdir(self, path):
        return self.fs.listdir(path)

    def size(self, name):
        return self.fs.size(name)


def test_a_copy_that_reads_back_different_is_refused_and_removed(tmp_path):
    dest = StorageDestination(TruncatingStorage(location=tmp_path))
    with pytest.raises(VerificationError, match="read back 4 bytes, sent 5"):
        dest.upload(b"12345", "a.dbs")
    assert os.listdir(tmp_path) == []


def test_storages_without_rename_get_the_object_under_its_final_name(tmp_path):
    dest = StorageDestination(ObjectStore(tmp_path), prefix="nightly")
    dest.upload(b"payload", "a.dbs")
    assert (tmp_path / "nightly" / "a.dbs").read_bytes() == b"payload"
    assert [(i.name, i.modified) for i in dest.list()] == [("a.dbs", None)]


def test_django_storages_sftp_storage_against_the_real_sshd(sshd, tmp_path, settings):
    pytest.importorskip("storages.backends.sftpstorage", reason="django-storages is an optional extra")
    root = tmp_path / "sftp-root"
    settings.STORAGES = {
        **settings.STORAGES,
        "dbs": {
            "BACKEND": "storages.backends.sftpstorage.SFTPStorage",
            "OPTIONS": {
                "host": "127.0.0.1",
                "root_path": str(root),
                "known_host_file": str(sshd.known_hosts),
                "params": {
                    "port": sshd.port,
                    "username": "root",
                    "key_filename": str(sshd.client_key),
                    "look_for_keys": False,
                    "allow_agent": False,
                },
            },
        },
    }
    data = os.urandom(1024 * 1024 + 5)
    dest = get_destination(storage=True)
    try:
        info = dest.upload(data, "site-20260101T000000Z.dbs")
        assert info.size == len(data)
        assert (root / "site-20260101T000000Z.dbs").read_bytes() == data
        assert os.listdir(root) == ["site-20260101T000000Z.dbs"]  # written as .part, posix-renamed
        assert [i.name for i in dest.list()] == ["site-20260101T000000Z.dbs"]
        assert dest.fetch("site-20260101T000000Z.dbs", tmp_path / "back.dbs").read_bytes() == data
        dest.delete("site-20260101T000000Z.dbs")
        assert dest.list() == []
    finally:
        dest.storage.close()
