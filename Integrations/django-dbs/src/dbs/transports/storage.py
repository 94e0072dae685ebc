"""Any Django storage as a destination: ``STORAGES["dbs"]`` by default, the convention
django-dbbackup set, so S3, GCS, Azure or SFTP through django-storages need no DBS code.

Atomicity depends on what the storage can do, and the strongest available path is taken:
a local storage (one with ``path()``) and django-storages' ``SFTPStorage`` write a
``.part`` and rename it into place; object stores (S3, GCS, Azure) make an object visible
only once its upload completes, so the object is written under its final name. In every
case the stored copy is read back through the storage and its size and SHA-256 compared
before the upload counts; a copy that does not match is deleted.
"""

from __future__ import annotations

import datetime as _dt
import os
import posixpath
from typing import BinaryIO, Optional

from django.core.files.base import File
from django.utils import timezone

from .. import conf
from .base import (
    CHUNK,
    BackupInfo,
    BackupSource,
    Destination,
    LocalSource,
    Progress,
    TransportError,
    VerificationError,
    check_backup_name,
    check_copy,
    hash_stream,
    is_listed,
    part_name,
)

DEFAULT_ALIAS = "dbs"


class _ProgressFile(File):
    """A ``File`` over the local backup that reports bytes read to ``progress``."""

    def __init__(self, source: LocalSource, progress: Optional[Progress]):
        super().__init__(source.file)
        self.size = source.size
        self._progress = progress
        self._sent = 0

    def chunks(self, chunk_size=None):
        self.file.seek(0)
        while chunk := self.file.read(chunk_size or CHUNK):
            self._sent += len(chunk)
            if self._progress:
                self._progress(self._sent)
            yield chunk


class StorageDestination(Destination):
    """Backups in the top directory (or ``prefix``) of a Django storage."""

    def __init__(self, storage, alias: str = "", prefix: str = ""):
        self.storage = storage
        self.prefix = prefix.strip("/")
        where = alias or type(storage).__name__
        self.label = f"storage {where!r}" + (f" under {self.prefix}/" if self.prefix else "")

    @classmethod
    def for_storage(cls, storage=True) -> "StorageDestination":
        """``True`` or an alias name: that entry of ``STORAGES``; a storage object: itself."""
        from django.core.files.storage import storages
        from django.core.files.storage.handler import InvalidStorageError

        prefix = conf.get("DBS_STORAGE_PREFIX") or ""
        if storage is True:
            storage = DEFAULT_ALIAS
        if isinstance(storage, str):
            try:
                return cls(storages[storage], alias=storage, prefix=prefix)
            except InvalidStorageError:
                raise TransportError(
                    f'no storage {storage!r}: add STORAGES["{storage}"] to the settings '
                    '(e.g. {"BACKEND": "django.core.files.storage.FileSystemStorage", '
                    '"OPTIONS": {"location": "/var/backups/myproject"}})'
                ) from None
        return cls(storage, prefix=prefix)

    def _key(self, name: str) -> str:
        return posixpath.join(self.prefix, name) if self.prefix else name

    def list(self) -> list[BackupInfo]:
        try:
            _dirs, files = self.storage.listdir(self.prefix)
        except FileNotFoundError:
            return []
        except Exception as exc:
            raise TransportError(f"{self.label}: listing failed: {exc}") from exc
        infos = []
        for name in files:
            if not is_listed(name):
                continue
            key = self._key(name)
            infos.append(BackupInfo(name, self.storage.size(key), self._modified(key)))
        return self.newest_first(infos)

    def upload(self, source: BackupSource, name: str, progress: Optional[Progress] = None) -> BackupInfo:
        check_backup_name(name)
        final = self._key(name)
        if self.storage.exists(final):
            raise TransportError(f"{self.label}: {name} already exists: refused to replace it")
        rename = self._renamer()
        with LocalSource(source) as local:
            written = self._key(part_name(name)) if rename else final
            try:
                stored = self.storage.save(written, _ProgressFile(local, progress))
                if stored != written:  # the storage chose another name: keep nothing ambiguous
                    written = stored
                    raise TransportError(f"{self.label}: the storage stored {name} as {stored}")
                with self.storage.open(written, "rb") as copy:
                    size, sha = hash_stream(copy.read)
                check_copy(f"{self.label}: {name}", local, size, sha)
                if rename:
                    rename(written, final)
                    written = final
            except BaseException as exc:
                self._discard(written)
                if isinstance(exc, (TransportError, KeyboardInterrupt, SystemExit)):
                    raise
                raise TransportError(f"{self.label}: upload of {name} failed: {exc}") from exc
            if self.storage.size(final) != local.size:
                self._discard(final)
                raise VerificationError(f"{self.label}: {name} changed size after the rename")
        return BackupInfo(name, local.size, self._modified(final))

    def _modified(self, key: str) -> Optional[_dt.datetime]:
        """The storage's modification time in UTC (storages answer naive local time when
        USE_TZ is off), or None where it cannot tell."""
        try:
            when = self.storage.get_modified_time(key)
        except (NotImplementedError, AttributeError):
            return None
        if timezone.is_naive(when):
            when = timezone.make_aware(when)
        return when.astimezone(_dt.timezone.utc)

    def _renamer(self):
        """A function renaming one key to another atomically, where the storage has one."""
        storage = self.storage
        try:
            storage.path("probe")
        except (NotImplementedError, AttributeError):
            pass
        else:
            return lambda src, dst: os.replace(storage.path(src), storage.path(dst))
        if hasattr(storage, "sftp") and hasattr(storage, "_remote_path"):  # django-storages' SFTPStorage
            return lambda src, dst: storage.sftp.posix_rename(storage._remote_path(src), storage._remote_path(dst))
        return None

    def _discard(self, key: str) -> None:
        try:
            self.storage.delete(key)
        except Exception:
            pass

    def fetch_to(self, name: str, file: BinaryIO) -> int:
        check_backup_name(name)
        key = self._key(name)
        if not self.storage.exists(key):
            raise TransportError(f"{self.label}: no backup named {name}")
        size = 0
        try:
            with self.storage.open(key, "rb") as stored:
                while chunk := stored.read(CHUNK):
                    file.write(chunk)
                    size += len(chunk)
        except Exception as exc:
            raise TransportError(f"{self.label}: download of {name} failed: {exc}") from exc
        return size

    def delete(self, name: str) -> None:
        check_backup_name(name)
        key = self._key(name)
        if not self.storage.exists(key):
            raise TransportError(f"{self.label}: no backup named {name}")
        self.storage.delete(key)
