"""Engine entries -> rows and files, in one transaction.

The engine repairs and decrypts the backup while the entries stream in; rows are
inserted raw, a batch per executemany, with values from `field.get_db_prep_save`
(no save(), no bulk_create: those run pre_save and overwrite auto_now, and send
model signals). Foreign keys are checked once at the end, as loaddata does;
sequences are reset on PostgreSQL. If anything fails, the transaction rolls back
and every file written is removed.
"""
import json
import os

from django.apps import apps
from django.core.management.color import no_style
from django.db import IntegrityError, DatabaseError, connections, transaction

from . import conf, engine, payload, signals
from .exceptions import CorruptionError, DBSError, UsageError
from .files import FileJournal, allowed_target, check_relative
from .backup import applied_migrations
from .registry import dependency_order, stored_fields
from .results import RestoreResult
from .serialization import NATURAL_KEY_MODELS, NaturalKeys, RowDecoder
from .validation import backup_file, read_manifest


def migration_drift(backed_up, target):
    """Warnings for migrations applied on one side only."""
    warnings = []
    for app in sorted(set(backed_up) | set(target)):
        ours, theirs = set(backed_up.get(app, [])), set(target.get(app, []))
        if ours - theirs:
            warnings.append(f"migration drift: {app}: the backup has {', '.join(sorted(ours - theirs))} "
                            "which this database has not applied")
        if theirs - ours:
            warnings.append(f"migration drift: {app}: this database has {', '.join(sorted(theirs - ours))} "
                            "which the backup's database had not applied")
    return warnings


class TargetModel:
    """A model of the backup as it loads into this project."""

    def __init__(self, model, entry, connection):
        self.model = model
        self.label = model._meta.label
        self.fields = stored_fields(model)
        self.source_names = [f["attname"] for f in entry["fields"]]
        self.table = model._meta.db_table
        quote = connection.ops.quote_name
        columns = ", ".join(quote(f.column) for f in self.fields)
        marks = ", ".join(["%s"] * len(self.fields))
        self.insert_sql = f"INSERT INTO {quote(self.table)} ({columns}) VALUES ({marks})"
        self.natural = model._meta.label_lower in NATURAL_KEY_MODELS
        self.file_names = {}  # attname -> {name: [pk, ...]} of the last batch
        self.pk_position = next(i for i, f in enumerate(self.fields) if f.primary_key)
        self.pk_column = quote(model._meta.pk.column)
        # An automatic many-to-many table is unique on its (from, to) pair too: a pair
        # the target holds under another id is the same link, replaced like a key.
        self.pair = None
        if model._meta.auto_created:
            pair = [i for i, f in enumerate(self.fields) if f.is_relation]
            if len(pair) == 2:
                self.pair = (pair, " AND ".join(f"{quote(self.fields[i].column)} = %s" for i in pair))
        self.present = 0   # rows in the table before a merge
        self.replaced = 0  # of those, rows a backup row replaced


# Keys per DELETE of a merge: well under SQLite's bound-parameter limit.
DELETE_CHUNK = 500


class Restore:
    def __init__(self, path, passphrase, dry_run=False, flush=False, models=None, using="default", strict=False,
                 threads=0, progress=None, kdf_cap=None):
        self.path, self.passphrase = path, passphrase
        self.kdf_cap = kdf_cap
        self.dry_run, self.flush, self.strict = bool(dry_run), bool(flush), bool(strict)
        self.subset = None if models is None else {m.strip().lower() for m in models}
        self.using = using or "default"
        if self.using not in connections:
            raise UsageError(f"no database {self.using!r} in DATABASES")
        self.connection = connections[self.using]
        self.threads = threads
        self.progress = progress
        self.result = RestoreResult(dry_run=self.dry_run)
        self.journal = FileJournal()
        self.natural_keys = NaturalKeys(self.using)

    def warn_or_refuse(self, message):
        if self.strict:
            raise DBSError(f"{message} (refused under --strict)")
        self.result.warnings.append(message)

    def targets(self, manifest):
        """label -> TargetModel of every backed-up model this restore loads."""
        labels = {m["label"].lower(): m for m in manifest.get("models", [])}
        if self.subset is not None:
            unknown = sorted(self.subset - set(labels))
            if unknown:
                raise UsageError(f"--models names models the backup does not hold: {', '.join(unknown)}")
        chosen = {}
        for key, entry in labels.items():
            if self.subset is not None and key not in self.subset:
                continue
            try:
                model = apps.get_model(entry["label"])
            except (LookupError, ValueError):
                self.warn_or_refuse(f"{entry['label']}: the backup holds {entry.get('rows', 0)} rows of a model "
                                    "this project does not have; skipped")
                continue
            if model._meta.proxy or model._meta.concrete_model is not model:
                self.warn_or_refuse(f"{entry['label']} is not a concrete model here; skipped")
                continue
            target = TargetModel(model, entry, self.connection)
            ours = {f.attname for f in target.fields}
            theirs = set(target.source_names)
            excluded = set(entry.get("excluded", []))
            dropped = sorted(theirs - ours)
            added = sorted(f.name for f in target.fields if f.attname not in theirs and f.name not in excluded)
            if dropped:
                self.warn_or_refuse(f"{entry['label']}: the backup's columns {', '.join(dropped)} do not exist here; "
                                    "their values are dropped")
            if added:
                self.warn_or_refuse(f"{entry['label']}: the columns {', '.join(added)} are not in the backup; "
                                    "they get their defaults")
            target.decoder = RowDecoder(target.label, target.source_names, target.fields, self.connection,
                                        self.natural_keys)
            chosen[entry["label"]] = target
        return chosen

    def run(self):
        signals.pre_restore.send(sender=restore_backup, using=self.using,
                                 options={"dry_run": self.dry_run, "flush": self.flush, "models": self.subset})
        try:
            with engine.Reader(self.path, self.passphrase, self.threads, kdf_cap=self.kdf_cap) as reader:
                self.load(reader)
        except BaseException:
            self.journal.rollback()
            raise
        self.journal.commit()
        signals.post_restore.send(sender=restore_backup, using=self.using, result=self.result)
        return self.result

    def load(self, reader):
        manifest = read_manifest(reader)
        for warning in migration_drift(manifest.get("migrations", {}), applied_migrations(self.connection)):
            self.warn_or_refuse(warning)
        targets = self.targets(manifest)
        self.manifest = manifest
        ordered = [t for m in dependency_order([t.model for t in targets.values()])
                   for t in targets.values() if t.model is m]
        try:
            with transaction.atomic(using=self.using):
                with self.connection.constraint_checks_disabled():
                    self.prepare(ordered)
                    self.entries(reader, targets)
                self.check(ordered)
                self.merged(ordered)
                if self.dry_run:
                    transaction.set_rollback(True, using=self.using)
        except IntegrityError as error:
            raise DBSError(f"the rows do not fit this database ({error}); nothing was loaded") from error
        except DatabaseError as error:
            raise DBSError(f"the database refused the restore ({error}); nothing was loaded") from error
        report = reader.report()
        self.result.repair_report = report
        self.result.healed = bool(report.healed or not report.healthy)
        self.result.files_written = 0 if self.dry_run else self.journal.written

    def prepare(self, ordered):
        """Flush: the backed-up models' rows deleted, children first, raw (no
        signals, no `flush` command: that re-creates content types). Merge: the
        rows each table already holds counted, for the warning `merged` gives."""
        quote = self.connection.ops.quote_name
        with self.connection.cursor() as cursor:
            for target in reversed(ordered):
                if target.natural:
                    continue
                if self.flush:
                    cursor.execute(f"DELETE FROM {quote(target.table)}")
                else:
                    cursor.execute(f"SELECT COUNT(*) FROM {quote(target.table)}")
                    target.present = cursor.fetchone()[0]

    def merged(self, ordered):
        """Merge: a warning per table that already held rows, saying how many the
        backup replaced (same primary key) and how many were kept."""
        for target in ordered:
            if target.present:
                kept = target.present - target.replaced
                self.result.warnings.append(
                    f"{target.label}: {target.present} rows were already present; {target.replaced} had a primary key "
                    f"of the backup and were replaced by its rows, the other {kept} kept")

    def replace_present(self, cursor, target, params):
        """Merge as loaddata does: the rows whose primary keys (or, in an automatic
        many-to-many table, whose pairs) are in this batch are deleted before the
        batch's insert, in the restore's transaction. Foreign keys stay valid: the
        same keys come back, and the checks are deferred until `check`."""
        quote = self.connection.ops.quote_name
        for start in range(0, len(params), DELETE_CHUNK):
            chunk = params[start:start + DELETE_CHUNK]
            marks = ", ".join(["%s"] * len(chunk))
            cursor.execute(f"DELETE FROM {quote(target.table)} WHERE {target.pk_column} IN ({marks})",
                           [row[target.pk_position] for row in chunk])
            target.replaced += max(cursor.rowcount, 0)
            if target.pair is not None:
                positions, match = target.pair
                cursor.execute(f"DELETE FROM {quote(target.table)} WHERE " + " OR ".join([f"({match})"] * len(chunk)),
                               [row[i] for row in chunk for i in positions])
                target.replaced += max(cursor.rowcount, 0)

    def entries(self, reader, targets):
        while True:
            entry = reader.next_entry()
            if entry is None:
                return
            path = entry.path
            if entry.kind == engine.ENTRY_RECORDS:
                target = targets.get(entry.model_label)
                if target is not None and path.startswith(payload.ROWS):
                    self.rows(target, reader.read_all())
            elif entry.kind == engine.ENTRY_FILE:
                self.file(entry, reader, targets)

    def rows(self, target, content):
        lines = [line for line in content.split(b"\n") if line]
        if target.natural:
            self.natural_rows(target, lines)
            return
        params = [target.decoder.params(line) for line in lines]
        with self.connection.cursor() as cursor:
            if target.present > target.replaced:
                self.replace_present(cursor, target, params)
            cursor.executemany(target.insert_sql, params)
        file_fields = [(i, f) for i, f in enumerate(target.fields)
                       if f.get_internal_type() in ("FileField", "ImageField")]
        target.file_names = {}
        for index, field in file_fields:
            names = target.file_names.setdefault(field.attname, {})
            position = target.source_names.index(field.attname) if field.attname in target.source_names else None
            if position is None:
                continue
            for line in lines:
                values = json.loads(line)
                if values[position]:
                    names.setdefault(values[position], []).append(values[0])
        count = len(params)
        self.result.rows[target.label] = self.result.rows.get(target.label, 0) + count
        self.result.records_loaded += count
        if self.progress:
            self.progress(rows=count, files=0, bytes=0)

    def natural_rows(self, target, lines):
        """ContentType / Permission rows: matched by natural key, created when missing,
        never by primary key (those differ between databases)."""
        names = target.source_names
        for line in lines:
            row = dict(zip(names, json.loads(line)))
            if target.model._meta.label_lower == "contenttypes.contenttype":
                self.natural_keys.pk_for("contenttypes.contenttype", [row["app_label"], row["model"]])
            else:
                content_type = row.get("content_type_id") or [None, None]
                self.natural_keys.pk_for("auth.permission", [row["codename"], *content_type[:2], row.get("name")])
            self.result.records_loaded += 1
            self.result.rows[target.label] = self.result.rows.get(target.label, 0) + 1

    def file(self, entry, reader, targets):
        """One file entry, written or drained; the progress and the result count the
        bytes that streamed (a streamed entry's header size is 0: it is not known
        until the entry's end)."""
        counted = [0]

        def counting(chunks):
            for chunk in chunks:
                counted[0] += len(chunk)
                yield chunk

        written = self.place(entry, counting(reader.chunks()), targets)
        if written:
            self.result.file_bytes += counted[0]
        if self.progress:
            self.progress(rows=0, files=1, bytes=counted[0])

    def place(self, entry, chunks, targets):
        """Writes a file entry where it belongs; False where it was only read through."""
        path = entry.path
        if path.startswith(payload.FILES):
            label, attname, name = payload.split_file_path(path)
            check_relative(name, "file")
            target = targets.get(label)
            if target is None or self.dry_run:
                self.drain(chunks)
                return False
            field = next((f for f in target.fields if f.attname == attname), None)
            if field is None:
                self.drain(chunks)
                return False
            chosen = self.journal.save_to_storage(field.storage, name, chunks)
            if chosen is not None and chosen != name:
                pks = target.file_names.get(attname, {}).get(name, [])
                target.model._base_manager.using(self.using).filter(pk__in=pks).update(**{attname: chosen})
                self.result.warnings.append(f"{label}.{field.name}: a different file {name!r} already exists in "
                                            f"its storage; restored as {chosen!r} and {len(pks)} row(s) updated")
        elif path.startswith(payload.PATHS):
            label, attname, absolute = payload.split_path_entry(path)
            if label not in targets:
                self.drain(chunks)
                return False
            destination = allowed_target(absolute)
            if self.dry_run:
                self.drain(chunks)
                return False
            self.journal.write_path(destination, chunks, entry.mode, entry.mtime)
        elif path.startswith(payload.ROOTS):
            index, relative = payload.split_root_entry(path)
            check_relative(relative, "file root")
            roots = self.manifest.get("file_roots", [])
            if self.subset is not None or not 0 <= index < len(roots):
                self.drain(chunks)
                return False
            destination = allowed_target(os.path.join(roots[index], relative))
            if self.dry_run:
                self.drain(chunks)
                return False
            self.journal.write_path(destination, chunks, entry.mode, entry.mtime)
        else:
            self.drain(chunks)
            return False
        return True

    @staticmethod
    def drain(chunks):
        """Reads an entry through (its content is still verified) without writing it."""
        for _ in chunks:
            pass

    def check(self, ordered):
        """Foreign keys checked for the loaded tables (SQLite; PostgreSQL checks the
        deferred constraints here too), then sequences reset past the loaded keys."""
        tables = [t.table for t in ordered]
        self.connection.check_constraints(table_names=tables)
        statements = self.connection.ops.sequence_reset_sql(no_style(), [t.model for t in ordered])
        if statements:
            with self.connection.cursor() as cursor:
                for statement in statements:
                    cursor.execute(statement)


def restore_backup(blob_or_path, passphrase, dry_run=False, flush=False, models=None, *, using="default",
                   strict=False, threads=0, progress=None, kdf_cap=None):
    """Restores a backup (bytes or a path) into database `using`.

    dry_run: everything decrypted, checked and loaded, then rolled back; no file
    written. flush: the backed-up models' rows replaced instead of merged.
    models: ["app.Model", ...] to restore a subset. strict: refuse instead of
    warning on migration drift, unknown models and column differences.
    kdf_cap: (memory KiB, passes) the backup's Argon2id may cost, either None for
    DBS_MAX_KDF_MEMORY_KIB / DBS_MAX_KDF_TIME_COST (above: KDFCostRefused).
    Returns a RestoreResult; raises InvalidPassphrase, CorruptionError (beyond
    repair: nothing loaded, no file left) or DBSError."""
    with backup_file(blob_or_path) as path:
        return Restore(path, passphrase, dry_run=dry_run, flush=flush, models=models, using=using, strict=strict,
                       threads=threads, progress=progress, kdf_cap=kdf_cap).run()
