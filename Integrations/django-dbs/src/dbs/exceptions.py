"""The errors of django-dbs. Every failure is a DBSError; the two a user acts on
differently have their own class. `status` is the `dbs` command's exit code for it."""


class DBSError(Exception):
    """Any DBS failure: bad input, an I/O error, an engine that cannot be loaded."""

    #: Exit status of the management commands, the same as the `dbs` CLI's.
    status = 1

    def __init__(self, message, status=None):
        super().__init__(message)
        if status is not None:
            self.status = status


class UsageError(DBSError):
    """A bad argument or setting (exit status 2)."""

    status = 2


class InvalidPassphrase(DBSError):
    """The passphrase does not open this backup (exit status 3). Nothing was read."""

    status = 3


class KDFCostRefused(DBSError):
    """The backup asks for a key derivation (Argon2id memory or passes) above what
    this reader spends on a file it cannot yet authenticate: settings
    DBS_MAX_KDF_MEMORY_KIB and DBS_MAX_KDF_TIME_COST. Nothing was derived or read."""

    status = 1


class CorruptionError(DBSError):
    """The backup is damaged beyond repair or was tampered with (exit status 4).
    `report` is the engine's ValidationReport of what is lost, when it has one."""

    status = 4

    def __init__(self, message, report=None):
        super().__init__(message)
        self.report = report


class StorageError(DBSError):
    """Reading or writing a file failed (exit status 5)."""

    status = 5
