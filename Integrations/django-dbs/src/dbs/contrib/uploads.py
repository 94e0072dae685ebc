"""Uploaded backups: streamed to a private staging directory, never into memory.

``StagingUploadHandler`` replaces Django's handlers for the restore page: it writes the
file under ``DBS_UPLOAD_DIR`` (mode 0600, in a 0700 directory), hashes it on the way, and
stops at ``DBS_UPLOAD_MAX_BYTES``. A staged backup lives between the report and the
confirmation (the session holds only its token, name, size and SHA-256; never the
passphrase) and is removed once restored, cancelled, refused, or older than
``DBS_UPLOAD_TTL``.
"""

from __future__ import annotations

import hashlib
import os
import secrets
import tempfile
import time
from pathlib import Path
from typing import Optional

from django.core.files.uploadedfile import UploadedFile
from django.core.files.uploadhandler import FileUploadHandler, StopUpload

from .. import conf

_TOKEN_LENGTH = 32


def staging_dir() -> Path:
    configured = conf.get("DBS_UPLOAD_DIR")
    path = Path(configured) if configured else Path(tempfile.gettempdir()) / f"dbs-uploads-{os.getuid()}"
    path.mkdir(mode=0o700, parents=True, exist_ok=True)
    return path


def staged_path(token: str) -> Optional[Path]:
    """The staged file of ``token``, or None for a token that is not one of ours."""
    if not isinstance(token, str) or len(token) != _TOKEN_LENGTH or not all(c in "0123456789abcdef" for c in token):
        return None
    path = staging_dir() / f"{token}.dbs"
    return path if path.is_file() else None


def discard(token: str) -> None:
    path = staged_path(token)
    if path:
        path.unlink(missing_ok=True)


def sweep() -> None:
    """Remove staged uploads older than DBS_UPLOAD_TTL seconds (abandoned restores)."""
    limit = time.time() - conf.get("DBS_UPLOAD_TTL")
    for path in staging_dir().glob("*.dbs"):
        try:
            if path.stat().st_mtime < limit:
                path.unlink()
        except FileNotFoundError:
            pass


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


class StagedUpload(UploadedFile):
    """An uploaded backup already in the staging directory."""

    def __init__(self, token: str, path: Path, name: str, size: int, sha256: str):
        super().__init__(open(path, "rb"), name=name, content_type="application/octet-stream", size=size)
        self.token = token
        self.path = path
        self.sha256 = sha256

    def temporary_file_path(self) -> str:
        return str(self.path)


class StagingUploadHandler(FileUploadHandler):
    """Streams each uploaded file into the staging directory, within the size limit."""

    def __init__(self, request=None):
        super().__init__(request)
        self.max_bytes = conf.get("DBS_UPLOAD_MAX_BYTES")
        self.too_large = False
        self.tokens: list[str] = []  # every file this request staged, finished or not
        self._file = None

    def new_file(self, *args, **kwargs):
        super().new_file(*args, **kwargs)
        self.token = secrets.token_hex(_TOKEN_LENGTH // 2)
        self.path = staging_dir() / f"{self.token}.dbs"
        self.tokens.append(self.token)
        fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        self._file = os.fdopen(fd, "wb")
        self._digest = hashlib.sha256()
        self._size = 0

    def receive_data_chunk(self, raw_data, start):
        self._size += len(raw_data)
        if self._size > self.max_bytes:
            self.too_large = True
            self._remove()
            raise StopUpload(connection_reset=True)
        self._file.write(raw_data)
        self._digest.update(raw_data)
        return None

    def file_complete(self, file_size):
        self._file.close()
        self._file = None
        return StagedUpload(self.token, self.path, self.file_name, file_size, self._digest.hexdigest())

    def upload_interrupted(self):
        self._remove()

    def _remove(self):
        if self._file is not None:
            self._file.close()
            self._file = None
            self.path.unlink(missing_ok=True)
