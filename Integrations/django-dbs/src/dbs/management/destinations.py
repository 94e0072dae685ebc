"""The destination options the management commands share.

``dbs_backup [PATH] --to-storage | --to-ssh PROFILE [--keep N] [--keep-days D]``,
``dbs_restore``/``dbs_validate NAME --from-storage | --from-ssh PROFILE``,
``dbs_list [--storage | --ssh PROFILE]``. The storage is ``STORAGES[DBS_STORAGE_ALIAS]``
(``"dbs"``); an SSH profile is a key of ``DBS_SSH_TARGETS``.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator, Optional

from django.core.exceptions import ImproperlyConfigured

from .. import conf
from ..exceptions import UsageError
from ..transports import Destination, SSHTarget, check_backup_name, get_destination

_FLAGS = {"to": ("--to-storage", "--to-ssh"), "from": ("--from-storage", "--from-ssh"), "at": ("--storage", "--ssh")}
_VERBS = {"to": "upload the backup to", "from": "take the backup PATH (a name) from", "at": "list the backups at"}


def add_destination_arguments(parser, direction: str) -> None:
    """``direction``: "to" (dbs_backup), "from" (dbs_restore, dbs_validate), "at" (dbs_list)."""
    storage_flag, ssh_flag = _FLAGS[direction]
    verb = _VERBS[direction]
    group = parser.add_mutually_exclusive_group()
    group.add_argument(storage_flag, dest="dbs_storage", action="store_true",
                       help=f'{verb} the Django storage STORAGES["dbs"] (DBS_STORAGE_ALIAS)')
    group.add_argument(ssh_flag, dest="dbs_ssh", metavar="PROFILE",
                       help=f"{verb} the SFTP profile PROFILE of DBS_SSH_TARGETS")


def destination_from_options(options: dict, default_storage: bool = False) -> Optional[Destination]:
    """The destination the options name, or None; a bad profile is a usage error."""
    try:
        if options.get("dbs_ssh"):
            return SSHTarget.from_settings(options["dbs_ssh"]).destination()
        if options.get("dbs_storage") or default_storage:
            return get_destination(storage=conf.get("DBS_STORAGE_ALIAS"))
    except ImproperlyConfigured as exc:
        raise UsageError(str(exc)) from None
    return None


@contextmanager
def fetched(destination: Destination, name: str) -> Iterator[str]:
    """The backup ``name`` copied from ``destination`` into a private temporary file,
    removed afterwards whatever happens."""
    check_backup_name(name)
    tmpdir = tempfile.mkdtemp(prefix="dbs-fetch-", dir=conf.get("DBS_TEMP_DIR"))
    try:
        with destination:
            path = destination.fetch(name, Path(tmpdir) / name)
        yield os.fspath(path)
    finally:
        shutil.rmtree(tmpdir, ignore_errors=True)


@contextmanager
def local_backup(options: dict) -> Iterator[str]:
    """The local path of the backup a restore or validate command reads: PATH itself, or
    the backup named PATH fetched from --from-storage / --from-ssh."""
    destination = destination_from_options(options)
    if destination is None:
        yield options["path"]
        return
    with fetched(destination, options["path"]) as path:
        yield path


class Shipment:
    """Where dbs_backup writes the backup, and what happens to it once written and
    verified: uploaded to --to-storage / --to-ssh, then retention at that destination
    (or, without one, in PATH's directory). Everything is checked before the backup
    starts, so a typo in a profile or a name retention cannot handle costs no backup."""

    def __init__(self, options: dict):
        from ..naming import backup_name
        from ..retention import RetentionPolicy
        from ..transports import StorageDestination

        self.destination = destination_from_options(options)
        self.policy = RetentionPolicy(keep=options.get("keep"), keep_days=options.get("keep_days"))
        self._tmpdir = None
        path = options.get("path")
        if path is None:
            if self.destination is None:
                raise UsageError("give PATH, or --to-storage / --to-ssh PROFILE to name and upload the backup")
            self._tmpdir = tempfile.mkdtemp(prefix="dbs-backup-", dir=conf.get("DBS_TEMP_DIR"))
            path = os.path.join(self._tmpdir, backup_name())
        elif os.path.isdir(path):
            path = os.path.join(path, backup_name())
        self.path = path
        self.name = os.path.basename(path)
        if self.destination is not None:
            check_backup_name(self.name)
        self.retained_at = self.destination
        if self.policy.active and self.retained_at is None:
            from django.core.files.storage import FileSystemStorage

            self.retained_at = StorageDestination(FileSystemStorage(location=os.path.dirname(os.path.abspath(path))))
            self.retained_at.label = os.path.dirname(os.path.abspath(path))
        if self.policy.active:
            self.policy.expired([], self.name)  # a name retention cannot order: refused now

    def deliver(self) -> dict:
        """Upload (atomic, read back) and then apply retention; returns what was done."""
        from ..retention import apply_retention
        from ..transports import BackupInfo

        done: dict = {}
        new = None
        if self.destination is not None:
            with self.destination:
                new = self.destination.upload(self.path, self.name)
            done["uploaded"] = {"destination": self.destination.label, **new.as_dict()}
            removed = getattr(self.destination, "stale_parts_removed", [])
            if removed:
                done["uploaded"]["stale_parts_removed"] = list(removed)
        if self.policy.active:
            new = new or BackupInfo(self.name, os.path.getsize(self.path), None)
            with self.retained_at:
                deleted = apply_retention(self.retained_at, self.policy, new)
            done["retention"] = {"at": self.retained_at.label, "deleted": [b.name for b in deleted]}
        return done

    @property
    def temporary(self) -> bool:
        """Whether the local file is only a staging copy (no PATH given), removed after."""
        return self._tmpdir is not None

    def close(self) -> None:
        if self._tmpdir:
            shutil.rmtree(self._tmpdir, ignore_errors=True)

    def __enter__(self) -> "Shipment":
        return self

    def __exit__(self, *exc) -> None:
        self.close()
