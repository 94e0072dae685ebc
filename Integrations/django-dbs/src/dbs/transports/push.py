"""Choosing a destination and pushing one backup to it."""

from __future__ import annotations

from typing import Optional, Union

from .base import BackupInfo, BackupSource, Destination, Progress
from .sftp import SSHTarget
from .storage import StorageDestination


def get_destination(target: Union[SSHTarget, Destination, None] = None, *, storage=None) -> Destination:
    """A ``Destination`` for an SSH profile (an ``SSHTarget`` or a profile name), a Django
    storage (a ``Storage`` object, an alias of ``STORAGES``, or ``True`` for ``"dbs"``), or
    an existing ``Destination`` (returned as is)."""
    if (target is None) == (storage is None or storage is False):
        raise TypeError("give exactly one destination: an SSH target or storage=")
    if isinstance(target, Destination):
        return target
    if isinstance(target, str):
        target = SSHTarget.from_settings(target)
    if isinstance(target, SSHTarget):
        return target.destination()
    if target is not None:
        raise TypeError(f"not a destination: {target!r}")
    return StorageDestination.for_storage(storage)


def push_backup(
    data_or_path: BackupSource,
    name: str,
    target: Union[SSHTarget, Destination, str, None] = None,
    *,
    storage=None,
    progress: Optional[Progress] = None,
) -> BackupInfo:
    """Upload one backup under ``name``: atomic (a ``.part`` renamed into place) and read
    back before it counts (size and SHA-256 of the stored copy). Returns what was stored."""
    destination = get_destination(target, storage=storage)
    owned = destination is not target
    try:
        return destination.upload(data_or_path, name, progress=progress)
    finally:
        if owned:
            destination.close()
