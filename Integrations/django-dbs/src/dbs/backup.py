"""Rows and files -> engine entries, read in one snapshot.

Every row is read inside one transaction (REPEATABLE READ READ ONLY on PostgreSQL,
one read transaction on SQLite), through each model's base manager, in keyset
batches ordered by primary key: one batch in memory at a time, whatever the table
size, and it works where server-side cursors do not (pgbouncer). Each batch is one
records entry, followed by the files its rows name, streamed from their storage.
"""
import datetime
import hashlib
import json
import os
import platform
import tempfile
from contextlib import contextmanager

import django
from django.db import connections, transaction
from django.db.migrations.recorder import MigrationRecorder

from . import conf, engine, payload, signals
from .exceptions import DBSError, StorageError
from .files import storage_name
from .registry import FieldType, backup_registry
from .results import BackupResult
from .serialization import NaturalKeys, RowEncoder

#: Bytes of JSON lines gathered before one write into the engine.
WRITE_SIZE = 1 << 20


def changed_while_read(path, before, after):
    """Why a local file read between the stats `before` and `after` (of the open
    handle) is not what was there when the read began, or None. ctime is in the
    comparison: every write moves it, and unlike mtime no one can put it back;
    the path is stat'ed again to see a file replaced (another inode) or removed."""
    def identity(stat):
        return (stat.st_size, stat.st_mtime_ns, stat.st_ctime_ns)

    try:
        now = os.stat(path)
    except FileNotFoundError:
        return "vanished while it was read"
    if (now.st_dev, now.st_ino) != (before.st_dev, before.st_ino):
        return "was replaced by another file while it was read"
    if identity(after) != identity(before):
        return "changed while it was read"
    return None


def stored_size(storage, name):
    """A remote storage's size of `name`, None where it cannot say or the file is gone."""
    try:
        return storage.size(name)
    except (OSError, NotImplementedError):
        return None


@contextmanager
def snapshot(using, warnings):
    """One read transaction on database `using`: every query inside sees the same
    moment. Inside an already open transaction (ATOMIC_REQUESTS, a test case) the
    isolation level can no longer be set; the backup then says so."""
    connection = connections[using]
    outer = connection.in_atomic_block
    with transaction.atomic(using=using):
        if connection.vendor == "postgresql":
            if outer:
                warnings.append("the backup ran inside an open transaction: its isolation level could not be "
                                "set to REPEATABLE READ, so the rows may not be one snapshot")
            else:
                with connection.cursor() as cursor:
                    cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY")
        yield connection


def applied_migrations(connection):
    recorder = MigrationRecorder(connection)
    if not recorder.has_table():
        return {}
    applied = {}
    for app, name in recorder.applied_migrations():
        applied.setdefault(app, []).append(name)
    return {app: sorted(names) for app, names in sorted(applied.items())}


def file_roots(plans):
    roots = []
    for root in list(conf.get("DBS_FILE_ROOTS")) + [r for plan in plans for r in plan.backup.file_roots]:
        absolute = os.path.realpath(os.fspath(root))
        if absolute not in roots:
            roots.append(absolute)
    return roots


def manifest(plans, connection, using, counts, roots, options):
    return {
        "format": payload.FORMAT,
        "payload_version": payload.PAYLOAD_VERSION,
        "dbs_version": engine.version(),
        "django_dbs_version": "0.1.0",
        "django_version": django.get_version(),
        "python_version": platform.python_version(),
        "database": {"alias": using, "vendor": connection.vendor},
        "created": datetime.datetime.now(datetime.timezone.utc).isoformat(),
        "migrations": applied_migrations(connection),
        "models": [{
            "label": plan.label,
            "table": plan.model._meta.db_table,
            "fields": [{"name": f.field.name, "attname": f.attname, "type": f.field.get_internal_type(),
                        "kind": f.kind.value} for f in plan.fields],
            "excluded": list(plan.excluded),
            "rows": counts[plan.label],
        } for plan in plans],
        "file_roots": roots,
        "options": options,
    }


class BackupRun:
    """One backup: the writer, the counts and the warnings it gathers."""

    def __init__(self, writer, using, batch_size, progress):
        self.writer = writer
        self.using = using
        self.batch_size = batch_size
        self.progress = progress
        self.result = BackupResult(path="")
        self.natural_keys = NaturalKeys(using)

    def records(self, path, label, lines):
        writer = self.writer
        writer.begin(path, engine.ENTRY_RECORDS, model_label=label)
        buffer = bytearray()
        for line in lines:
            buffer += line
            if len(buffer) >= WRITE_SIZE:
                writer.write(bytes(buffer))
                buffer.clear()
        writer.write(bytes(buffer))
        writer.end()

    def document(self, path, label, value):
        self.records(path, label, [json.dumps(value, ensure_ascii=False).encode("utf-8")])

    def model(self, plan):
        names = [f.attname for f in plan.fields]
        encoder = RowEncoder([f.field for f in plan.fields], self.natural_keys)
        queryset = plan.backup.get_queryset(plan.model).using(self.using).order_by("pk")
        file_columns = [(i, f) for i, f in enumerate(plan.fields) if f.kind in (FieldType.FILE, FieldType.FILE_PATH)]
        seen = {i: set() for i, _ in file_columns}
        last, batch, total = None, 0, 0
        while True:
            page = queryset if last is None else queryset.filter(pk__gt=last)
            rows = list(page.values_list(*names)[: self.batch_size])
            if not rows:
                break
            self.records(payload.rows_path(plan.label, batch), plan.label, (encoder.line(row) for row in rows))
            for index, field_plan in file_columns:
                for row in rows:
                    name = row[index]
                    if name and name not in seen[index]:
                        seen[index].add(name)
                        self.file_of(plan, field_plan, name)
            total += len(rows)
            batch += 1
            last = rows[-1][0]
            self.report_progress(rows=len(rows))
            if len(rows) < self.batch_size:
                break
        self.result.rows[plan.label] = total

    def file_of(self, plan, field_plan, name):
        field = field_plan.field
        if field_plan.kind is FieldType.FILE:
            storage = field.storage
            where = f"{plan.label}.{field.name}: file {name!r} of storage {storage_name(storage)}"
            try:
                local = storage.path(name)
            except NotImplementedError:
                local = None
            if local is not None:
                self.local_file(payload.file_path(plan.label, field.attname, name), local, where)
                return
            try:
                handle = storage.open(name, "rb")
            except (OSError, FileNotFoundError) as error:
                self.result.warnings.append(f"{where} is missing ({error}); the row is kept without it")
                return
            size_before = stored_size(storage, name)
            with handle:
                size, digest = self.stream(payload.file_path(plan.label, field.attname, name), handle, 0o644, 0.0)
            size_after = stored_size(storage, name)
            if size_after is None and size_before is not None:
                self.changed(where, "vanished while it was read", size, digest)
            elif size_before is not None and not size_before == size == size_after:
                self.changed(where, "changed while it was read", size, digest)
        else:
            absolute = os.path.realpath(os.path.abspath(name))
            self.local_file(payload.path_entry(plan.label, field.attname, absolute), absolute, f"{plan.label}.{field.name}: file {name!r}")

    def local_file(self, entry, path, where):
        try:
            handle = open(path, "rb")
        except FileNotFoundError:
            self.result.warnings.append(f"{where} is missing; the row is kept without it")
            return
        except OSError as error:
            raise StorageError(f"{where} cannot be read: {error}") from error
        with handle:
            before = os.fstat(handle.fileno())
            size, digest = self.stream(entry, handle, before.st_mode, before.st_mtime)
            reason = changed_while_read(path, before, os.fstat(handle.fileno()))
        if reason:
            self.changed(where, reason, size, digest)

    def changed(self, where, reason, size, digest):
        """A file that changed, was replaced or vanished while read: the backup holds
        what was read (a consistent copy of no moment of the file, perhaps), and says so
        with the size and SHA-256 of those bytes (the ones the engine entry carries)."""
        self.result.changed_files.append({"file": where, "reason": reason, "size": size, "sha256": digest})
        self.result.warnings.append(f"{where} {reason}; the backup holds what was read ({size} bytes, SHA-256 {digest})")

    def stream(self, entry, handle, mode, mtime):
        """Streams a file into one engine entry; returns its size and SHA-256."""
        self.writer.begin(entry, engine.ENTRY_FILE, mode=mode & 0o777 or 0o600, mtime=max(mtime, 0.0))
        size, sha256 = 0, hashlib.sha256()
        while True:
            try:
                data = handle.read(WRITE_SIZE)
            except OSError as error:
                raise StorageError(f"{entry[entry.index('/') + 1:]}: read failed: {error}") from error
            if not data:
                break
            size += len(data)
            sha256.update(data)
            self.writer.write(data)
        self.writer.end()
        self.result.files += 1
        self.result.file_bytes += size
        self.report_progress(files=1, bytes=size)
        return size, sha256.hexdigest()

    def root(self, index, root):
        if not os.path.isdir(root):
            self.result.warnings.append(f"file root {root} is not a directory; skipped")
            return
        for directory, subdirectories, names in os.walk(root):
            subdirectories.sort()
            for name in sorted(names):
                path = os.path.join(directory, name)
                if os.path.islink(path) or not os.path.isfile(path):
                    self.result.warnings.append(f"file root {root}: {os.path.relpath(path, root)} is not a regular file; skipped")
                    continue
                relative = os.path.relpath(path, root).replace(os.sep, "/")
                self.local_file(payload.root_entry(index, relative), path, f"file root {root}: {relative}")

    def report_progress(self, rows=0, files=0, bytes=0):
        if self.progress is not None:
            self.progress(rows=rows, files=files, bytes=bytes)


def _write(passphrase, output, using="default", threads=None, compression_level=None, kdf=None, copies=2,
           overwrite=True, verify=True, batch_size=None, progress=None):
    """Writes the backup of database `using` to `output`; returns the BackupResult."""
    using = using or "default"
    if using not in connections:
        raise DBSError(f"no database {using!r} in DATABASES")
    plans = backup_registry.plans(using)
    batch_size = int(batch_size or conf.get("DBS_BATCH_SIZE"))
    options = {"using": using, "copies": copies,
               "compression_level": compression_level if compression_level is not None else conf.get("DBS_COMPRESSION_LEVEL")}
    signals.pre_backup.send(sender=create_backup, using=using, options=options)
    writer = engine.Writer(output, passphrase, threads=conf.get("DBS_THREADS") if threads is None else threads,
                           compression_level=options["compression_level"], kdf=kdf or conf.get("DBS_KDF"),
                           copies=copies, overwrite=overwrite, verify=verify)
    run = BackupRun(writer, using, batch_size, progress)
    try:
        with snapshot(using, run.result.warnings) as connection:
            counts = {plan.label: plan.backup.get_queryset(plan.model).using(using).count() for plan in plans}
            roots = file_roots(plans)
            run.document(payload.MANIFEST_PATH, payload.MANIFEST_LABEL,
                         manifest(plans, connection, using, counts, roots, options))
            for plan in plans:
                run.model(plan)
            for index, root in enumerate(roots):
                run.root(index, root)
            run.document(payload.SUMMARY_PATH, payload.SUMMARY_LABEL,
                         {"rows": run.result.rows, "files": run.result.files, "file_bytes": run.result.file_bytes})
    except BaseException:
        writer.abort()
        raise
    writer.close()
    run.result.path = os.fspath(output)
    signals.post_backup.send(sender=create_backup, using=using, result=run.result)
    return run.result


def create_backup(passphrase, output=None, **options):
    """Backs up the project's models, relations and files into one DBS file.

    With `output`, writes it there atomically (nothing there unless complete and
    verified) and returns a BackupResult (a path-like: `validate_backup(result)`
    works); without, returns the backup's bytes. Options: using (database alias,
    default "default"), threads, compression_level, kdf ({time_cost, memory_kib,
    parallelism}), copies, overwrite, verify, batch_size, progress (a callable
    taking rows=, files=, bytes=)."""
    if output is not None:
        return _write(passphrase, output, **options)
    with tempfile.TemporaryDirectory(prefix="dbs-") as scratch:
        path = os.path.join(scratch, "backup.dbs")
        _write(passphrase, path, **options)
        with open(path, "rb") as handle:
            return handle.read()
