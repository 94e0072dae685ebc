"""The destination abstraction every place a backup can be kept implements.

A destination is a flat directory of backup files: it lists them, fetches one into a
local file, uploads one atomically (the final name appears only once the whole file is
there and its size and SHA-256 were read back and matched) and deletes one. Retention,
``dbs_list`` and restoring "by name" are written once against this interface, so SFTP
and every Django storage behave alike.
"""

from __future__ import annotations

import datetime as _dt
import hashlib
import os
import re
import secrets
from abc import ABC, abstractmethod
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, Callable, Iterator, Optional, Union

from ..exceptions import StorageError

#: What ``push_backup`` and ``Destination.upload`` accept: the backup's bytes, a path to
#: it, or an open binary file positioned at its start.
BackupSource = Union[bytes, bytearray, memoryview, str, os.PathLike, BinaryIO]

#: Called with the number of bytes sent so far during an upload.
Progress = Callable[[int], None]

CHUNK = 1 << 20
BACKUP_SUFFIX = ".dbs"
PART_SUFFIX = ".part"


class TransportError(StorageError):
    """A destination could not be reached, refused an operation, or returned bytes that
    do not match what was sent. The message names the destination, never a secret."""


class HostKeyError(TransportError):
    """The SSH server's host key is unknown or differs from the one in known_hosts."""


class VerificationError(TransportError):
    """The file read back from the destination differs from the one sent (size or hash)."""


@dataclass(frozen=True)
class BackupInfo:
    """One backup at a destination, as ``dbs_list`` shows it."""

    name: str
    size: int
    modified: Optional[_dt.datetime]  # aware, UTC; None where the storage cannot tell

    def as_dict(self) -> dict:
        return {
            "name": self.name,
            "size": self.size,
            "modified": self.modified.isoformat() if self.modified else None,
        }


_SAFE_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._+@=-]*$")


def check_backup_name(name: str) -> str:
    """A backup name is one plain file name: no directory part, no leading dot, no
    ``.part`` suffix. Restoring "by name" from a destination must never reach outside it."""
    if not isinstance(name, str) or not _SAFE_NAME.match(name) or ".." in name:
        raise TransportError(
            f"invalid backup name {name!r}: use a plain file name "
            "(letters, digits, '.', '_', '-', '+', '@', '='; no '/' and no leading dot)"
        )
    if name.endswith(PART_SUFFIX):
        raise TransportError(f"invalid backup name {name!r}: '{PART_SUFFIX}' is reserved for uploads in progress")
    return name


def part_name(name: str) -> str:
    """The temporary name an upload is written under before it is renamed into place; a
    random token keeps two concurrent uploads of the same name apart."""
    return f"{name}.{secrets.token_hex(4)}{PART_SUFFIX}"


#: A ``.part`` left by a dropped upload is removed by a later upload once this old:
#: older than any upload still running, with room for a server clock that differs.
STALE_PART_AGE = _dt.timedelta(hours=1)
_PART = re.compile(r"^(?P<name>.+)\.[0-9a-f]{8}" + re.escape(PART_SUFFIX) + "$")


def stale_parts(entries: list[tuple[str, Optional[_dt.datetime]]], new: str,
                now: Optional[_dt.datetime] = None) -> list[str]:
    """The names among ``entries`` ((name, modified) pairs of a destination's directory)
    that are ``.part`` files of uploads of ``new``'s series (the same name, where ``new``
    is not ``<series>-<UTC time>.dbs``) older than STALE_PART_AGE: what a dropped
    connection left behind. Another project's parts and younger ones are never named."""
    from ..naming import parse_name

    parsed = parse_name(new)
    now = now or _dt.datetime.now(_dt.timezone.utc)
    doomed = []
    for name, modified in entries:
        match = _PART.match(name)
        if not match or modified is None or now - modified < STALE_PART_AGE:
            continue
        uploaded = match["name"]
        theirs = parse_name(uploaded)
        if (theirs is not None and parsed is not None and theirs[0] == parsed[0]) or uploaded == new:
            doomed.append(name)
    return sorted(doomed)


def is_listed(name: str) -> bool:
    """Only finished DBS backups are listed (and so only they are ever deleted by
    retention): ``*.dbs``, not hidden, not an upload in progress."""
    return name.endswith(BACKUP_SUFFIX) and not name.startswith(".")


class LocalSource:
    """A backup to upload, opened as a file whatever form it was given in, with its size
    and SHA-256 computed once (the digest the destination's copy must match)."""

    def __init__(self, source: BackupSource):
        self._owned = False
        if isinstance(source, (bytes, bytearray, memoryview)):
            import io

            self.file: BinaryIO = io.BytesIO(bytes(source))
        elif isinstance(source, (str, os.PathLike)):
            self.file = open(Path(source), "rb")
            self._owned = True
        elif hasattr(source, "read"):
            self.file = source
        else:
            raise TypeError("a backup to upload is bytes, a path or a binary file object")
        self._start = self.file.tell() if hasattr(self.file, "tell") else 0
        digest = hashlib.sha256()
        size = 0
        for chunk in self.chunks():
            digest.update(chunk)
            size += len(chunk)
        self.size = size
        self.sha256 = digest.hexdigest()

    def chunks(self, size: int = CHUNK) -> Iterator[bytes]:
        self.file.seek(self._start)
        while True:
            chunk = self.file.read(size)
            if not chunk:
                return
            yield chunk

    def close(self) -> None:
        if self._owned:
            self.file.close()

    def __enter__(self) -> "LocalSource":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def hash_stream(read: Callable[[int], bytes]) -> tuple[int, str]:
    """Size and SHA-256 of everything ``read`` yields (the read-back check)."""
    digest = hashlib.sha256()
    size = 0
    while True:
        chunk = read(CHUNK)
        if not chunk:
            return size, digest.hexdigest()
        digest.update(chunk)
        size += len(chunk)


def check_copy(where: str, source: LocalSource, size: int, sha256: str) -> None:
    if size != source.size:
        raise VerificationError(f"{where}: read back {size} bytes, sent {source.size}")
    if sha256 != source.sha256:
        raise VerificationError(f"{where}: SHA-256 of the copy read back differs from the file sent")


class Destination(ABC):
    """A place backups are kept. Subclasses hold their connection lazily and release it in
    ``close`` (also as a context manager)."""

    #: Shown in messages and ``dbs_list``; never contains a secret.
    label: str = "destination"

    @abstractmethod
    def list(self) -> list[BackupInfo]:
        """The finished backups here (see ``is_listed``), newest first."""

    @abstractmethod
    def upload(self, source: BackupSource, name: str, progress: Optional[Progress] = None) -> BackupInfo:
        """Store ``source`` under ``name`` atomically and verified; refuse to replace an
        existing backup of that name."""

    @abstractmethod
    def fetch_to(self, name: str, file: BinaryIO) -> int:
        """Write the backup ``name`` into ``file``; return its size."""

    @abstractmethod
    def delete(self, name: str) -> None:
        """Remove the backup ``name``."""

    def fetch(self, name: str, local_path: Union[str, os.PathLike]) -> Path:
        """Copy the backup ``name`` to ``local_path`` (written beside it, renamed into place
        once complete; nothing left under that name if the transfer fails)."""
        check_backup_name(name)
        target = Path(local_path)
        tmp = target.with_name(f".{target.name}.{secrets.token_hex(4)}{PART_SUFFIX}")
        try:
            with open(tmp, "xb") as out:
                self.fetch_to(name, out)
                out.flush()
                os.fsync(out.fileno())
            os.replace(tmp, target)
        except BaseException:
            tmp.unlink(missing_ok=True)
            raise
        return target

    def close(self) -> None:
        pass

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    @staticmethod
    def newest_first(infos: list[BackupInfo]) -> list[BackupInfo]:
        epoch = _dt.datetime.min.replace(tzinfo=_dt.timezone.utc)
        return sorted(infos, key=lambda i: (i.modified or epoch, i.name), reverse=True)
