"""validate_backup: is this backup restorable, and is it a Django backup?"""
import json
import os
import tempfile
from contextlib import contextmanager

from . import engine, payload
from .exceptions import CorruptionError, DBSError, UsageError
from .results import ValidationReport


@contextmanager
def backup_file(blob_or_path):
    """A path for a backup given as bytes (written to a private temporary file,
    removed afterwards: it is ciphertext, but still nobody else's) or as a path."""
    if isinstance(blob_or_path, (bytes, bytearray, memoryview)):
        with tempfile.TemporaryDirectory(prefix="dbs-") as scratch:
            path = os.path.join(scratch, "backup.dbs")
            with open(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600), "wb") as handle:
                handle.write(blob_or_path)
            yield path
        return
    try:
        path = os.fspath(blob_or_path)
    except TypeError:
        raise UsageError(f"a backup is bytes or a path, not {type(blob_or_path).__name__}") from None
    if not os.path.isfile(path):
        raise DBSError(f"{path}: no such backup file", status=5)
    yield path


def read_manifest(reader):
    """The manifest of a Django backup from an open reader (its first entry), or a
    DBSError naming what the backup is instead."""
    entry = reader.next_entry()
    if entry is None:
        raise DBSError("this DBS backup is empty: it holds no Django data")
    if entry.kind != engine.ENTRY_RECORDS or entry.model_label != payload.MANIFEST_LABEL:
        raise DBSError("this is a DBS backup of a file tree (made by `dbs backup`), not a Django backup: "
                       "restore it with `dbs restore FILE --to DIRECTORY`")
    try:
        document = json.loads(reader.read_all())
    except ValueError as error:
        raise DBSError(f"the backup's Django manifest is not valid JSON ({error})") from error
    if document.get("format") != payload.FORMAT:
        raise DBSError(f"the backup's manifest is of format {document.get('format')!r}, not {payload.FORMAT!r}")
    version = document.get("payload_version")
    if not isinstance(version, int) or version > payload.PAYLOAD_VERSION:
        raise DBSError(f"this backup was made by a newer django-dbs (Django payload version {version}; "
                       f"this one reads up to {payload.PAYLOAD_VERSION}): upgrade django-dbs to restore it")
    return document


def validate_backup(blob_or_path, passphrase=None, threads=0, kdf_cap=None):
    """Checks a backup (bytes or a path). Without a passphrase: the structure of both
    copies (every shard checksum, Reed-Solomon consistency). With one: also decrypts
    and verifies every entry and reads the Django manifest. Returns a
    ValidationReport (`.ok` False when some of it is beyond repair); raises
    InvalidPassphrase for a wrong passphrase, DBSError for a file that is not a
    DBS backup or not a Django one. kdf_cap as restore_backup's."""
    with backup_file(blob_or_path) as path:
        try:
            structure = engine.validate(path, None, threads)
        except CorruptionError as error:
            return ValidationReport(ok=False, healed=False, repair_report=error.report, error=str(error))
        if passphrase is None:
            return ValidationReport(ok=True, healed=structure.healed, repair_report=structure)
        try:
            with engine.Reader(path, passphrase, threads, kdf_cap=kdf_cap) as reader:
                manifest = read_manifest(reader)
                while reader.next_entry() is not None:
                    for _ in reader.chunks():
                        pass
                contents = reader.report()
        except CorruptionError as error:
            return ValidationReport(ok=False, healed=False, repair_report=error.report or structure,
                                    error=str(error), decrypted=True)
        report = engine.RepairReport(**{**structure.as_dict(), "entries": contents.entries,
                                        "content_bytes": contents.content_bytes})
        return ValidationReport(ok=True, healed=structure.healed, repair_report=report, decrypted=True,
                                manifest=manifest)
