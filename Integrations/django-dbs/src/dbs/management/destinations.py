"""The destination options the management commands share.

``dbs_backup --to-storage | --to-ssh PROFILE``, ``dbs_restore``/``dbs_validate NAME
--from-storage | --from-ssh PROFILE``, ``dbs_list [--storage | --ssh PROFILE]``. The
storage is ``STORAGES[DBS_STORAGE_ALIAS]`` (``"dbs"``); an SSH profile is a key of
``DBS_SSH_TARGETS``.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator, Optional

from .. import conf
from ..transports import Destination, SSHTarget, check_backup_name, get_destination

_FLAGS = {"to": ("--to-storage", "--to-ssh"), "from": ("--from-storage", "--from-ssh"), "at": ("--storage", "--ssh")}
_VERBS = {"to": "upload the backup to", "from": "take the backup NAME from", "at": "list the backups at"}


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
    if options.get("dbs_ssh"):
        return SSHTarget.from_settings(options["dbs_ssh"]).destination()
    if options.get("dbs_storage") or default_storage:
        return get_destination(storage=conf.get("DBS_STORAGE_ALIAS"))
    return None


@contextmanager
def fetched(destination: Destination, name: str) -> Iterator[str]:
    """The backup ``name`` copied from ``destination`` into a private temporary file,
    removed afterwards whatever happens."""
    check_backup_name(name)
    tmpdir = tempfile.mkdtemp(prefix="dbs-fetch-", dir=conf.get("DBS_TEMP_DIR"))
    try:
        path = destination.fetch(name, Path(tmpdir) / name)
        yield os.fspath(path)
    finally:
        shutil.rmtree(tmpdir, ignore_errors=True)
