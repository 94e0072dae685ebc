"""The binding of libDBSC (include/dbs.h) through ctypes: the only module that knows C.

The library is loaded on first use, never at import: a pre-fork server
(`gunicorn --preload`) imports the app before forking, and the engine's worker
threads must not exist in the parent. ctypes.CDLL calls release the GIL, so a long
validate or a writer's sealing runs beside other Python threads.

Passphrases are handed over as bytes plus length and never kept here; the library
copies and wipes them.
"""
import ctypes
import os
import threading
from dataclasses import dataclass, fields
from pathlib import Path

from . import conf
from .exceptions import (CorruptionError, DBSError, InvalidPassphrase, KDFCostRefused, StorageError,
                         UsageError)

#: The dbs.h this binding is written against: the ABI 2 dbs_options (with the
#: key-derivation cap) and ABI 3's dbs_validate_with_options.
ABI_VERSION = 3

ENTRY_FILE, ENTRY_DIRECTORY, ENTRY_SYMLINK, ENTRY_RECORDS = 1, 2, 3, 4

_OK, _FAILURE, _USAGE, _WRONG_PASSPHRASE, _DAMAGED, _IO = range(6)

#: Bytes per read from a reader (the payload's chunk size).
READ_SIZE = 1 << 20


class _Options(ctypes.Structure):
    """dbs_options (ABI 2), field for field."""

    _fields_ = [("struct_size", ctypes.c_size_t)] + [
        (name, ctypes.c_int)
        for name in ("threads", "copies", "data_shards", "parity_shards", "shard_size",
                     "checksum", "compression", "compression_level")
    ] + [(name, ctypes.c_uint32) for name in ("kdf_time_cost", "kdf_memory_kib", "kdf_parallelism")] + [
        ("verify", ctypes.c_int), ("overwrite", ctypes.c_int)] + [
        (name, ctypes.c_uint32) for name in ("max_kdf_memory_kib", "max_kdf_time_cost")]


_REPORT_COUNTS = ("shards_from_other_copy", "shards_rebuilt", "bytes_corrected", "headers_repaired",
                  "heads_damaged", "stripes_lost", "lost_shards", "entries", "content_bytes")


class _Report(ctypes.Structure):
    """dbs_report."""

    _fields_ = [(name, ctypes.c_int) for name in ("healthy", "healed", "recoverable")] + [
        (name, ctypes.c_uint64) for name in _REPORT_COUNTS] + [("reserved", ctypes.c_uint64 * 8)]


class _EntryInfo(ctypes.Structure):
    """dbs_entry_info."""

    _fields_ = [
        ("path", ctypes.c_char_p), ("kind", ctypes.c_int), ("mode", ctypes.c_uint32),
        ("mtime_sec", ctypes.c_int64), ("mtime_nsec", ctypes.c_uint32), ("size", ctypes.c_uint64),
        ("link_target", ctypes.c_char_p), ("model_label", ctypes.c_char_p), ("streamed", ctypes.c_int),
    ]


@dataclass(frozen=True)
class RepairReport:
    """What the engine found and healed (dbs_report)."""

    healthy: bool
    healed: bool
    recoverable: bool
    shards_from_other_copy: int = 0
    shards_rebuilt: int = 0
    bytes_corrected: int = 0
    headers_repaired: int = 0
    heads_damaged: int = 0
    stripes_lost: int = 0
    lost_shards: int = 0
    entries: int = 0
    content_bytes: int = 0

    @classmethod
    def _from_c(cls, report):
        return cls(healthy=bool(report.healthy), healed=bool(report.healed), recoverable=bool(report.recoverable),
                   **{name: int(getattr(report, name)) for name in _REPORT_COUNTS})

    def as_dict(self):
        return {f.name: getattr(self, f.name) for f in fields(self)}

    def describe(self):
        """One line in the words of the `dbs` CLI: what was healed, or what is lost."""
        if not self.recoverable:
            return (f"damaged beyond repair: {self.stripes_lost} stripe(s) lost "
                    f"({self.lost_shards} shard(s) unreadable in both copies)")
        if self.healthy:
            return "healthy"
        parts = [f"{count} {what}" for count, what in (
            (self.shards_from_other_copy, "shard(s) taken from the other copy"),
            (self.shards_rebuilt, "shard(s) rebuilt by Reed-Solomon"),
            (self.bytes_corrected, "byte(s) corrected"),
            (self.headers_repaired, "stripe header(s) repaired"),
            (self.heads_damaged, "damaged head copy(ies)"),
        ) if count]
        return "healed: " + (", ".join(parts) if parts else "damage repaired")


_library = None
_library_lock = threading.Lock()


def _packaged_library():
    return Path(__file__).resolve().parent / "_lib" / "libDBSC.so"


def _declare(lib):
    c_void_pp = ctypes.POINTER(ctypes.c_void_p)
    for name in ("dbs_version", "dbs_rs_backend", "dbs_last_error"):
        getattr(lib, name).restype = ctypes.c_char_p
        getattr(lib, name).argtypes = []
    signatures = {
        "dbs_options_init": [ctypes.POINTER(_Options), ctypes.c_size_t],
        "dbs_validate_with_options": [ctypes.c_char_p, ctypes.c_void_p, ctypes.c_size_t, ctypes.POINTER(_Options),
                                      ctypes.POINTER(_Report)],
        "dbs_writer_open": [ctypes.c_char_p, ctypes.c_void_p, ctypes.c_size_t, ctypes.POINTER(_Options), c_void_pp],
        "dbs_writer_begin_entry": [ctypes.c_void_p, ctypes.POINTER(_EntryInfo)],
        "dbs_writer_write": [ctypes.c_void_p, ctypes.c_void_p, ctypes.c_size_t],
        "dbs_writer_end_entry": [ctypes.c_void_p],
        "dbs_writer_close": [ctypes.c_void_p],
        "dbs_reader_open_with_options": [ctypes.c_char_p, ctypes.c_void_p, ctypes.c_size_t, ctypes.POINTER(_Options),
                                         c_void_pp],
        "dbs_reader_next_entry": [ctypes.c_void_p, ctypes.POINTER(_EntryInfo), ctypes.POINTER(ctypes.c_int)],
        "dbs_reader_read": [ctypes.c_void_p, ctypes.c_void_p, ctypes.c_size_t, ctypes.POINTER(ctypes.c_size_t)],
        "dbs_reader_report": [ctypes.c_void_p, ctypes.POINTER(_Report)],
    }
    for name, argtypes in signatures.items():
        function = getattr(lib, name)
        function.argtypes = argtypes
        function.restype = ctypes.c_int
    for name in ("dbs_writer_abort", "dbs_reader_close"):
        getattr(lib, name).argtypes = [ctypes.c_void_p]
        getattr(lib, name).restype = None


def library():
    """The loaded libDBSC, loading it on the first call. A missing or unloadable
    library is one DBSError that says how to install it."""
    global _library
    if _library is not None:
        return _library
    with _library_lock:
        if _library is None:
            path = conf.library_path() or str(_packaged_library())
            try:
                lib = ctypes.CDLL(path)
                _declare(lib)
            except (OSError, AttributeError) as error:
                raise DBSError(
                    f"the DBS engine (libDBSC) could not be loaded from {path}: {error}. "
                    "Install django-dbs from the DBS repository with `pip install ./Integrations/django-dbs` "
                    "(it builds libDBSC; needs the Swift toolchain and the -dev packages README.md names), "
                    "or set DBS_LIBRARY (setting or environment variable) to the path of a built libDBSC.so."
                ) from error
            _library = lib
    return _library


def is_loaded():
    """True once the engine has been loaded in this process (the fork check uses it)."""
    return _library is not None


def version():
    return library().dbs_version().decode()


def _check(status, report=None):
    """Raises the typed error of a failed call. `report` is a RepairReport, or a
    function returning one, called only after the call's message has been copied
    (dbs_last_error is valid until the next dbs_ call)."""
    if status == _OK:
        return
    message = library().dbs_last_error().decode("utf-8", "replace")
    if callable(report):
        report = report()
    if status == _WRONG_PASSPHRASE:
        raise InvalidPassphrase(message or "wrong passphrase")
    if status == _DAMAGED:
        raise CorruptionError(message, report)
    if status == _USAGE:
        raise UsageError(message)
    if status == _IO:
        raise StorageError(message)
    if status == _FAILURE and _CAP_FIELDS[0] in message:
        raise KDFCostRefused(_in_settings_words(message))
    raise DBSError(message, status)


#: The dbs_options fields a key-derivation refusal names (dbs.h), and the settings
#: that set them here.
_CAP_FIELDS = ("options->max_kdf_memory_kib", "options->max_kdf_time_cost")
_CAP_SETTINGS = ("DBS_MAX_KDF_MEMORY_KIB", "DBS_MAX_KDF_TIME_COST")


def _in_settings_words(message):
    """The engine's refusal of a key derivation above the cap, naming the Django
    settings that raise it instead of the C fields."""
    reason = message.split("; if you trust this backup", 1)[0]
    return (f"{reason}; if you trust this backup, raise the settings {_CAP_SETTINGS[0]} (KiB) "
            f"and {_CAP_SETTINGS[1]} (passes)")


def _reader_options(threads, kdf_cap=None):
    """A dbs_options for reading: threads and the key-derivation cap, `kdf_cap`
    ((memory KiB, passes), either None) over the settings."""
    options = _Options()
    _check(library().dbs_options_init(ctypes.byref(options), ctypes.sizeof(options)))
    options.threads = int(threads)
    memory_kib, time_cost = conf.kdf_cap(*(kdf_cap or (None, None)))
    if memory_kib is not None:
        options.max_kdf_memory_kib = memory_kib
    if time_cost is not None:
        options.max_kdf_time_cost = time_cost
    return options


def _passphrase(passphrase):
    if passphrase is None:
        return None
    data = passphrase.encode("utf-8") if isinstance(passphrase, str) else bytes(passphrase)
    if not data:
        raise UsageError("the passphrase is empty")
    return data


def _fspath(path):
    return os.fsencode(os.fspath(path))


def validate(path, passphrase=None, threads=0, kdf_cap=None):
    """dbs_validate: structural check without a passphrase, a full decrypt with one.
    Returns the RepairReport; raises CorruptionError (with the report) when some of
    the backup is lost, InvalidPassphrase for a wrong passphrase."""
    lib = library()
    key = _passphrase(passphrase)
    options = _reader_options(threads, kdf_cap)
    report = _Report()
    status = lib.dbs_validate_with_options(_fspath(path), key, len(key) if key else 0, ctypes.byref(options),
                                           ctypes.byref(report))
    result = RepairReport._from_c(report)
    _check(status, result)
    return result


class Writer:
    """A backup written entry by entry (dbs_writer). Nothing appears at `path` until
    `close()` succeeds (the engine writes beside it, verifies, renames)."""

    def __init__(self, path, passphrase, threads=0, compression_level=None, kdf=None, copies=2,
                 overwrite=True, verify=True):
        lib = library()
        options = _Options()
        _check(lib.dbs_options_init(ctypes.byref(options), ctypes.sizeof(options)))
        options.threads = int(threads)
        options.copies = int(copies)
        options.verify = 1 if verify else 0
        options.overwrite = 1 if overwrite else 0
        if compression_level is not None:
            options.compression_level = int(compression_level)
        if kdf:
            options.kdf_time_cost = int(kdf.get("time_cost", options.kdf_time_cost))
            options.kdf_memory_kib = int(kdf.get("memory_kib", options.kdf_memory_kib))
            options.kdf_parallelism = int(kdf.get("parallelism", options.kdf_parallelism))
        key = _passphrase(passphrase)
        if key is None:
            raise UsageError("a backup needs a passphrase")
        handle = ctypes.c_void_p()
        _check(lib.dbs_writer_open(_fspath(path), key, len(key), ctypes.byref(options), ctypes.byref(handle)))
        self._lib, self._handle = lib, handle

    def _live(self):
        if not self._handle:
            raise UsageError("the backup writer is already closed")
        return self._handle

    def begin(self, path, kind, model_label=None, mode=0o600, mtime=0.0, size=0, streamed=True):
        seconds = int(mtime // 1)
        info = _EntryInfo(path=path.encode("utf-8"), kind=kind, mode=mode & 0o7777, mtime_sec=seconds,
                          mtime_nsec=min(int((mtime - seconds) * 1e9), 999_999_999), size=size,
                          link_target=None, model_label=model_label.encode("utf-8") if model_label else None,
                          streamed=1 if streamed else 0)
        _check(self._lib.dbs_writer_begin_entry(self._live(), ctypes.byref(info)))

    def write(self, data):
        if data:
            _check(self._lib.dbs_writer_write(self._live(), data, len(data)))

    def end(self):
        _check(self._lib.dbs_writer_end_entry(self._live()))

    def close(self):
        handle, self._handle = self._handle, None
        if handle:
            _check(self._lib.dbs_writer_close(handle))

    def abort(self):
        handle, self._handle = self._handle, None
        if handle:
            self._lib.dbs_writer_abort(handle)

    def __enter__(self):
        return self

    def __exit__(self, kind, value, traceback):
        if kind is None:
            self.close()
        else:
            self.abort()
        return False


@dataclass(frozen=True)
class Entry:
    """One entry of a backup as the reader hands it out."""

    path: str
    kind: int
    model_label: str
    mode: int
    mtime: float
    size: int
    streamed: bool


class Reader:
    """The entries of a backup, repaired and decrypted on the fly (dbs_reader).
    Content handed out passed its chunk's AES-GCM tag; an entry's SHA-256 is checked
    when its last bytes are read (a mismatch raises CorruptionError). A backup whose
    Argon2id cost is above `kdf_cap` ((memory KiB, passes), either None), else
    DBS_MAX_KDF_MEMORY_KIB / DBS_MAX_KDF_TIME_COST, is refused (KDFCostRefused)
    before any key is derived."""

    def __init__(self, path, passphrase, threads=0, kdf_cap=None):
        lib = library()
        key = _passphrase(passphrase)
        if key is None:
            raise UsageError("reading a backup needs its passphrase")
        options = _reader_options(threads, kdf_cap)
        handle = ctypes.c_void_p()
        _check(lib.dbs_reader_open_with_options(_fspath(path), key, len(key), ctypes.byref(options),
                                                ctypes.byref(handle)))
        self._lib, self._handle = lib, handle
        self._buffer = ctypes.create_string_buffer(READ_SIZE)

    def _live(self):
        if not self._handle:
            raise UsageError("the backup reader is closed")
        return self._handle

    def next_entry(self):
        """The next Entry, or None after the last one (the end record then verified)."""
        info, has_entry = _EntryInfo(), ctypes.c_int()
        status = self._lib.dbs_reader_next_entry(self._live(), ctypes.byref(info), ctypes.byref(has_entry))
        _check(status, self._report_or_none)
        if not has_entry.value:
            return None
        return Entry(path=info.path.decode("utf-8"), kind=info.kind,
                     model_label=info.model_label.decode("utf-8") if info.model_label else None,
                     mode=info.mode, mtime=info.mtime_sec + info.mtime_nsec / 1e9, size=info.size,
                     streamed=bool(info.streamed))

    def read(self, size=READ_SIZE):
        """Up to `size` bytes of the current entry; b"" at its end (once verified)."""
        length = ctypes.c_size_t()
        size = min(size, READ_SIZE)
        status = self._lib.dbs_reader_read(self._live(), self._buffer, size, ctypes.byref(length))
        _check(status, self._report_or_none)
        return self._buffer.raw[:length.value] if length.value else b""

    def chunks(self):
        """The current entry's content, chunk by chunk."""
        while True:
            data = self.read()
            if not data:
                return
            yield data

    def read_all(self):
        return b"".join(self.chunks())

    def report(self):
        report = _Report()
        _check(self._lib.dbs_reader_report(self._live(), ctypes.byref(report)))
        return RepairReport._from_c(report)

    def _report_or_none(self):
        if not self._handle:
            return None
        report = _Report()
        if self._lib.dbs_reader_report(self._handle, ctypes.byref(report)) != _OK:
            return None
        return RepairReport._from_c(report)

    def close(self):
        handle, self._handle = self._handle, None
        if handle:
            self._lib.dbs_reader_close(handle)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
        return False
