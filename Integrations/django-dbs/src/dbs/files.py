"""Writing a restore's files so that a failed restore leaves nothing behind.

FileJournal remembers every file a restore created and every file it replaced
(moved aside, not deleted); `rollback()` removes the created ones and puts the
originals back, `commit()` drops the originals. Files outside DBS_RESTORE_ROOTS are
refused before a byte is written.
"""
import hashlib
import os
import tempfile

from django.core.files import File
from django.utils.functional import empty

from . import conf
from .exceptions import DBSError, StorageError


def check_relative(path, what):
    """Refuses a path from the backup that could leave the directory it is joined to."""
    parts = path.split("/")
    if not path or path.startswith("/") or "\x00" in path or any(p in ("", ".", "..") for p in parts):
        raise DBSError(f"the backup holds an unsafe {what} path {path!r}; refused")
    return path


def allowed_target(path):
    """`path` (absolute) if it lies under one of DBS_RESTORE_ROOTS, else a DBSError:
    FILE_PATH files and file roots are only ever written there."""
    roots = [os.path.realpath(os.fspath(r)) for r in conf.get("DBS_RESTORE_ROOTS")]
    check_relative(path.lstrip("/"), "file")
    parent = os.path.realpath(os.path.dirname(path))
    target = os.path.join(parent, os.path.basename(path))
    for root in roots:
        if os.path.commonpath([root, target]) == root and target != root:
            return target
    shown = ", ".join(roots) if roots else "none configured"
    raise DBSError(f"refusing to write {path}: it is outside DBS_RESTORE_ROOTS ({shown}); "
                   "add its directory to DBS_RESTORE_ROOTS to restore it")


class EntryStream:
    """A file-like object over one entry's chunks (read only, no seek), for Storage.save."""

    def __init__(self, chunks):
        self._chunks = iter(chunks)
        self._pending = b""
        self.hash = hashlib.sha256()

    def read(self, size=-1):
        while size < 0 or len(self._pending) < size:
            chunk = next(self._chunks, None)
            if chunk is None:
                break
            self.hash.update(chunk)
            self._pending += chunk
        if size < 0:
            data, self._pending = self._pending, b""
        else:
            data, self._pending = self._pending[:size], self._pending[size:]
        return data


def storage_name(storage):
    """The class name of a storage, seen through Django's lazy default_storage."""
    wrapped = getattr(storage, "_wrapped", None)
    if wrapped is empty:
        storage._setup()
        wrapped = storage._wrapped
    return type(wrapped if wrapped is not None else storage).__name__


def _same_content(opened, digest):
    other = hashlib.sha256()
    with opened as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            other.update(chunk)
    return other.digest() == digest


class FileJournal:
    def __init__(self):
        self.created_storage = []   # (storage, name)
        self.created_paths = []     # absolute paths
        self.replaced = []          # (target, moved-aside original)
        self.written = 0

    def save_to_storage(self, storage, name, chunks):
        """Writes an entry through `storage` under `name`. Returns the name the file
        has (another one when a different file already holds `name`), or None when an
        identical file is already there."""
        try:
            if storage.exists(name):
                spool = tempfile.SpooledTemporaryFile(max_size=8 << 20)
                stream = EntryStream(chunks)
                for data in iter(lambda: stream.read(1 << 20), b""):
                    spool.write(data)
                if _same_content(storage.open(name, "rb"), stream.hash.digest()):
                    spool.close()
                    return None
                spool.seek(0)
                with spool:
                    chosen = storage.save(name, File(spool, name=name))
            else:
                try:
                    chosen = storage.save(name, File(EntryStream(chunks), name=name))
                except BaseException:
                    if storage.exists(name):
                        storage.delete(name)
                    raise
        except DBSError:
            raise
        except Exception as error:
            raise StorageError(f"storage {storage_name(storage)} refused to write {name!r}: {error}") from error
        self.created_storage.append((storage, chosen))
        self.written += 1
        return chosen

    def write_path(self, target, chunks, mode=0o600, mtime=None):
        """Writes an entry to the absolute path `target` (already allowed) through a
        temporary file beside it; an existing different file is moved aside until
        commit. Returns False when an identical file is already there."""
        parent = os.path.dirname(target)
        try:
            os.makedirs(parent, exist_ok=True)
            if os.path.islink(target):
                raise DBSError(f"refusing to write {target}: it is a symbolic link")
            descriptor, temporary = tempfile.mkstemp(dir=parent, prefix=".dbs-restore-")
        except OSError as error:
            raise StorageError(f"cannot write {target}: {error}") from error
        try:
            digest = hashlib.sha256()
            with os.fdopen(descriptor, "wb") as handle:
                for chunk in chunks:
                    digest.update(chunk)
                    handle.write(chunk)
            os.chmod(temporary, mode & 0o7777 or 0o600)
            if mtime:
                os.utime(temporary, (mtime, mtime))
            if os.path.exists(target):
                if _same_content(open(target, "rb"), digest.digest()):
                    os.unlink(temporary)
                    return False
                aside = tempfile.mktemp(dir=parent, prefix=".dbs-original-")
                os.rename(target, aside)
                self.replaced.append((target, aside))
            os.rename(temporary, target)
        except BaseException as error:
            if os.path.exists(temporary):
                os.unlink(temporary)
            if isinstance(error, OSError):
                raise StorageError(f"cannot write {target}: {error}") from error
            raise
        self.created_paths.append(target)
        self.written += 1
        return True

    def rollback(self):
        """Removes every file written, puts back every file replaced."""
        for storage, name in reversed(self.created_storage):
            try:
                storage.delete(name)
            except Exception:
                pass
        for path in reversed(self.created_paths):
            try:
                os.unlink(path)
            except OSError:
                pass
        for target, aside in reversed(self.replaced):
            try:
                os.rename(aside, target)
            except OSError:
                pass
        self.created_storage, self.created_paths, self.replaced, self.written = [], [], [], 0

    def commit(self):
        for _, aside in self.replaced:
            try:
                os.unlink(aside)
            except OSError:
                pass
        self.replaced = []
