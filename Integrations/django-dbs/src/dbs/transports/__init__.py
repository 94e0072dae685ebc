"""Getting backups off the machine they protect.

``push_backup(data_or_path, name, SSHTarget.from_settings("offsite"))`` or
``push_backup(data_or_path, name, storage=...)``; every destination (SFTP profile, Django
storage) implements ``Destination``: list, fetch, atomic verified upload, delete.
"""

from .base import (
    BackupInfo,
    Destination,
    HostKeyError,
    TransportError,
    VerificationError,
    check_backup_name,
)
from .push import get_destination, push_backup
from .sftp import SFTPDestination, SSHTarget
from .storage import StorageDestination

__all__ = [
    "BackupInfo",
    "Destination",
    "HostKeyError",
    "SFTPDestination",
    "SSHTarget",
    "StorageDestination",
    "TransportError",
    "VerificationError",
    "check_backup_name",
    "get_destination",
    "push_backup",
]
