"""Every DBS_* setting with its default, read in one place.

Settings are read when used (not cached at import), so tests and projects may
override them with `override_settings`."""
import os

from django.conf import settings as django_settings

from .exceptions import UsageError

#: Models no backup holds unless the project asks for them (DBS_EXCLUDE_MODELS
#: "-app.Model" takes one back). Their rows are created by `migrate` and differ
#: between databases; references to ContentType and Permission are stored by
#: natural key instead.
DEFAULT_EXCLUDED_MODELS = (
    "contenttypes.contenttype",
    "auth.permission",
    "admin.logentry",
    "sessions.session",
)

DEFAULTS = {
    # ["app.Model", ...] excluded on top of DEFAULT_EXCLUDED_MODELS; "-app.Model" includes one.
    "DBS_EXCLUDE_MODELS": [],
    # Extra directory trees embedded in every backup.
    "DBS_FILE_ROOTS": [],
    # Directories under which a restore may write FILE_PATH files and file roots.
    "DBS_RESTORE_ROOTS": [],
    # Path of libDBSC.so; default: the copy shipped inside the package ($DBS_LIBRARY also works).
    "DBS_LIBRARY": None,
    # Rows per records entry (and per INSERT batch on restore).
    "DBS_BATCH_SIZE": 2000,
    # Engine worker threads; 0 = one per core.
    "DBS_THREADS": 0,
    # zstd level of the payload (-7..22).
    "DBS_COMPRESSION_LEVEL": 1,
    # Argon2id cost: {"time_cost": 3, "memory_kib": 65536, "parallelism": 4}; None = engine defaults.
    "DBS_KDF": None,
    # Reading: the most Argon2id memory (KiB) and passes a backup may ask for before it can be
    # authenticated; above them it is refused. None = the engine's defaults (1048576 KiB = 1 GiB, 30).
    "DBS_MAX_KDF_MEMORY_KIB": None,
    "DBS_MAX_KDF_TIME_COST": None,
    # Destinations (dbs.transports). SFTP profiles: {"name": {"host", "username", "key_filename",
    # "remote_dir", "port", "known_hosts", "key_passphrase_env", "allow_unknown_host_key", "timeout"}}.
    "DBS_SSH_TARGETS": {},
    # The STORAGES alias of --to-storage/--from-storage/dbs_list, and a folder inside it.
    "DBS_STORAGE_ALIAS": "dbs",
    "DBS_STORAGE_PREFIX": "",
    # Backup names are <DBS_BACKUP_NAME>-<UTC time>.dbs; None = the settings module's package.
    "DBS_BACKUP_NAME": None,
    # Directory of temporary files (downloads in the admin, backups fetched from a destination).
    "DBS_TEMP_DIR": None,
    # Admin restore page: largest upload accepted, where uploads wait for confirmation, for how long.
    "DBS_UPLOAD_MAX_BYTES": 2 * 1024 ** 3,
    "DBS_UPLOAD_DIR": None,
    "DBS_UPLOAD_TTL": 3600,
}


def get(name):
    """The value of setting `name`, or its default."""
    return getattr(django_settings, name, DEFAULTS[name])


def library_path():
    """DBS_LIBRARY from the settings, then the environment; None for the packaged one."""
    configured = get("DBS_LIBRARY") if django_settings.configured else None
    return configured or os.environ.get("DBS_LIBRARY") or None


def kdf_cap(memory_kib=None, time_cost=None):
    """(memory KiB, passes) a reader accepts: the arguments (a caller's own cap, e.g. a
    command's --max-kdf-memory/--max-kdf-time), else DBS_MAX_KDF_MEMORY_KIB and
    DBS_MAX_KDF_TIME_COST; each a positive integer, or None for the engine's default.
    A UsageError names a value of the wrong kind."""
    values = []
    for name, given in (("DBS_MAX_KDF_MEMORY_KIB", memory_kib), ("DBS_MAX_KDF_TIME_COST", time_cost)):
        value = given if given is not None else get(name) if django_settings.configured else None
        if value is not None and (isinstance(value, bool) or not isinstance(value, int)
                                  or not 1 <= value <= 0xFFFF_FFFF):
            source = "the key-derivation cap" if given is not None else f"settings.{name}"
            raise UsageError(f"{source} must be a positive integer (at most 4294967295), not {value!r}")
        values.append(value)
    return tuple(values)
