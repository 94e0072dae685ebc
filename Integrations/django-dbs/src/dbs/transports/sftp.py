"""SFTP destination (paramiko): named profiles from ``DBS_SSH_TARGETS``.

A profile holds no secret: the private key is named by path and its passphrase, if any,
by the name of an environment variable. Host keys are checked against the profile's
``known_hosts`` file; an unknown key is refused unless the profile sets
``allow_unknown_host_key`` (then it is added to that file), and a changed key is always
refused. Profile keys are checked, so a typo cannot silently turn a check off.
"""

from __future__ import annotations

import datetime as _dt
import os
import posixpath
import stat
from dataclasses import dataclass, field, fields
from typing import Any, BinaryIO, Mapping, Optional

from django.core.exceptions import ImproperlyConfigured

from .base import (
    CHUNK,
    BackupInfo,
    BackupSource,
    Destination,
    HostKeyError,
    LocalSource,
    Progress,
    TransportError,
    check_backup_name,
    check_copy,
    hash_stream,
    is_listed,
    part_name,
    stale_parts,
)

_REQUIRED = ("host", "username", "key_filename", "remote_dir")


def _paramiko():
    try:
        import paramiko
    except ImportError as exc:  # pragma: no cover - depends on the installation
        raise TransportError(
            "SFTP destinations need paramiko: pip install 'django-dbs[ssh]'"
        ) from exc
    return paramiko


@dataclass(frozen=True)
class SSHTarget:
    """One SFTP destination profile (a value: nothing connects until used)."""

    host: str
    username: str
    key_filename: str
    remote_dir: str
    port: int = 22
    known_hosts: str = field(default_factory=lambda: os.path.expanduser("~/.ssh/known_hosts"))
    key_passphrase_env: Optional[str] = None
    allow_unknown_host_key: bool = False
    timeout: float = 30.0
    name: str = ""

    @classmethod
    def from_profile(cls, profile: Mapping[str, Any], name: str = "") -> "SSHTarget":
        """Build from a settings-style dict; unknown or missing keys are an error."""
        what = f"DBS_SSH_TARGETS[{name!r}]" if name else "SSH profile"
        if not isinstance(profile, Mapping):
            raise ImproperlyConfigured(f"{what} must be a dict")
        allowed = {f.name for f in fields(cls)} - {"name"}
        unknown = sorted(set(profile) - allowed)
        if unknown:
            hint = ""
            if any(k in ("password", "passphrase", "key_passphrase") for k in unknown):
                hint = " (no secrets in settings: name the key by key_filename and its passphrase by key_passphrase_env, an environment variable's name)"
            raise ImproperlyConfigured(
                f"{what}: unknown key(s) {', '.join(unknown)}{hint}; allowed: {', '.join(sorted(allowed))}"
            )
        missing = [k for k in _REQUIRED if not profile.get(k)]
        if missing:
            raise ImproperlyConfigured(f"{what}: missing {', '.join(missing)}")
        if not isinstance(profile.get("allow_unknown_host_key", False), bool):
            raise ImproperlyConfigured(f"{what}: allow_unknown_host_key must be True or False")
        values = dict(profile)
        values["port"] = int(values.get("port", 22))
        for key in ("key_filename", "known_hosts"):
            if key in values:
                values[key] = os.path.expanduser(str(values[key]))
        return cls(name=name, **values)

    @classmethod
    def from_settings(cls, name: str) -> "SSHTarget":
        from .. import conf

        targets = conf.get("DBS_SSH_TARGETS") or {}
        if name not in targets:
            known = ", ".join(sorted(targets)) or "none configured"
            raise ImproperlyConfigured(f"no SSH profile {name!r} in DBS_SSH_TARGETS ({known})")
        return cls.from_profile(targets[name], name=name)

    @property
    def label(self) -> str:
        return f"sftp://{self.username}@{self.host}:{self.port}{'' if self.remote_dir.startswith('/') else '/~/'}{self.remote_dir}"

    def destination(self) -> "SFTPDestination":
        return SFTPDestination(self)


class SFTPDestination(Destination):
    """Backups in ``remote_dir`` on an SFTP server. One connection, opened on first use."""

    def __init__(self, target: SSHTarget):
        self.target = target
        self.label = target.label
        self._client = None
        self._sftp = None
        self.stale_parts_removed: list[str] = []  # by the last upload

    # -- connection ---------------------------------------------------------------

    def _connect(self):
        if self._sftp is not None:
            return self._sftp
        paramiko = _paramiko()
        t = self.target
        passphrase = None
        if t.key_passphrase_env:
            passphrase = os.environ.get(t.key_passphrase_env)
            if passphrase is None:
                raise TransportError(
                    f"{self.label}: environment variable {t.key_passphrase_env} (the key's passphrase) is not set"
                )
        client = paramiko.SSHClient()
        try:
            if os.path.exists(t.known_hosts):
                client.load_host_keys(t.known_hosts)
            elif not t.allow_unknown_host_key:
                raise HostKeyError(f"{self.label}: known_hosts file {t.known_hosts} does not exist")
            client.set_missing_host_key_policy(
                _AddAndSave(t.known_hosts) if t.allow_unknown_host_key else paramiko.RejectPolicy()
            )
            client.connect(
                t.host,
                port=t.port,
                username=t.username,
                key_filename=t.key_filename,
                passphrase=passphrase,
                allow_agent=False,
                look_for_keys=False,
                timeout=t.timeout,
                banner_timeout=t.timeout,
                auth_timeout=t.timeout,
            )
            sftp = client.open_sftp()
            sftp.get_channel().settimeout(t.timeout)
        except paramiko.BadHostKeyException as exc:
            client.close()
            raise HostKeyError(
                f"{self.label}: the server's host key ({exc.key.get_name()}) differs from the one in "
                f"{t.known_hosts}: refused (if the server was really re-keyed, replace its line there)"
            ) from None
        except paramiko.SSHException as exc:
            client.close()
            if "not found in known_hosts" in str(exc):
                raise HostKeyError(
                    f"{self.label}: host key not in {t.known_hosts}: refused "
                    "(add it there, or set allow_unknown_host_key for a first connection)"
                ) from None
            if isinstance(exc, paramiko.AuthenticationException):
                raise TransportError(f"{self.label}: authentication with {t.key_filename} refused") from None
            raise TransportError(f"{self.label}: {exc}") from exc
        except OSError as exc:
            client.close()
            raise TransportError(f"{self.label}: cannot connect: {exc}") from exc
        except BaseException:
            client.close()
            raise
        self._client, self._sftp = client, sftp
        return sftp

    def close(self) -> None:
        if self._client is not None:
            self._client.close()
        self._client = self._sftp = None

    def _path(self, name: str) -> str:
        return posixpath.join(self.target.remote_dir, name)

    def _ensure_dir(self, sftp) -> None:
        """``mkdir -p remote_dir``."""
        path = self.target.remote_dir
        parts = [p for p in path.split("/") if p]
        current = "/" if path.startswith("/") else ""
        for part in parts:
            current = posixpath.join(current, part) if current else part
            try:
                if not stat.S_ISDIR(sftp.stat(current).st_mode):
                    raise TransportError(f"{self.label}: {current} exists and is not a directory")
            except FileNotFoundError:
                sftp.mkdir(current)

    def _wrap(self, what: str, exc: BaseException) -> TransportError:
        self.close()  # a failed operation leaves the connection in an unknown state
        return TransportError(f"{self.label}: {what}: {exc or type(exc).__name__}")

    # -- Destination --------------------------------------------------------------

    def list(self) -> list[BackupInfo]:
        sftp = self._connect()
        try:
            entries = sftp.listdir_attr(self.target.remote_dir)
        except FileNotFoundError:
            return []
        except (OSError, EOFError) as exc:
            raise self._wrap("listing failed", exc) from exc
        infos = [
            BackupInfo(
                name=e.filename,
                size=e.st_size or 0,
                modified=_dt.datetime.fromtimestamp(e.st_mtime, _dt.timezone.utc) if e.st_mtime else None,
            )
            for e in entries
            if stat.S_ISREG(e.st_mode or 0) and is_listed(e.filename)
        ]
        return self.newest_first(infos)

    def upload(self, source: BackupSource, name: str, progress: Optional[Progress] = None) -> BackupInfo:
        check_backup_name(name)
        sftp = self._connect()
        final = self._path(name)
        with LocalSource(source) as local:
            part = self._path(part_name(name))
            try:
                self._ensure_dir(sftp)
                try:
                    sftp.stat(final)
                    raise TransportError(f"{self.label}: {name} already exists: refused to replace it")
                except FileNotFoundError:
                    pass
                sent = 0
                with sftp.open(part, "wb") as remote:
                    remote.set_pipelined(True)
                    for chunk in local.chunks():
                        remote.write(chunk)
                        sent += len(chunk)
                        if progress:
                            progress(sent)
                with sftp.open(part, "rb") as remote:
                    remote.prefetch(local.size)
                    size, sha = hash_stream(remote.read)
                check_copy(f"{self.label}: {name}", local, size, sha)
                sftp.posix_rename(part, final)
                attrs = sftp.stat(final)
            except TransportError:
                self._discard(part)
                raise
            except (OSError, EOFError, _paramiko().SSHException) as exc:
                self._discard(part)
                raise self._wrap(f"upload of {name} failed", exc) from exc
            except BaseException:
                self._discard(part)
                raise
        self.remove_stale_parts(sftp, name)
        if attrs.st_size != local.size:
            raise TransportError(f"{self.label}: {name} has {attrs.st_size} bytes after the rename, sent {local.size}")
        return BackupInfo(name, local.size, _dt.datetime.fromtimestamp(attrs.st_mtime, _dt.timezone.utc))

    def remove_stale_parts(self, sftp, name: str) -> None:
        """After an upload of ``name``: the ``.part`` files that dropped uploads of its
        series left (``stale_parts``) are removed, best effort (a failure here does not
        fail the upload that succeeded); their names end in ``stale_parts_removed``."""
        self.stale_parts_removed = []
        try:
            entries = [(e.filename, _dt.datetime.fromtimestamp(e.st_mtime, _dt.timezone.utc) if e.st_mtime else None)
                       for e in sftp.listdir_attr(self.target.remote_dir) if stat.S_ISREG(e.st_mode or 0)]
            for stale in stale_parts(entries, name):
                sftp.remove(self._path(stale))
                self.stale_parts_removed.append(stale)
        except (OSError, EOFError):
            pass

    def _discard(self, path: str) -> None:
        """Best effort: remove an unfinished ``.part`` (impossible if the connection is
        gone; it then stays under its ``.part`` name, never listed nor restored)."""
        if self._sftp is None:
            return
        try:
            self._sftp.remove(path)
        except Exception:
            pass

    def fetch_to(self, name: str, file: BinaryIO) -> int:
        check_backup_name(name)
        sftp = self._connect()
        try:
            with sftp.open(self._path(name), "rb") as remote:
                remote.prefetch()
                size = 0
                while chunk := remote.read(CHUNK):
                    file.write(chunk)
                    size += len(chunk)
                return size
        except FileNotFoundError:
            raise TransportError(f"{self.label}: no backup named {name}") from None
        except (OSError, EOFError) as exc:
            raise self._wrap(f"download of {name} failed", exc) from exc

    def delete(self, name: str) -> None:
        check_backup_name(name)
        sftp = self._connect()
        try:
            sftp.remove(self._path(name))
        except FileNotFoundError:
            raise TransportError(f"{self.label}: no backup named {name}") from None
        except (OSError, EOFError) as exc:
            raise self._wrap(f"deleting {name} failed", exc) from exc


class _AddAndSave:
    """Missing-host-key policy for profiles that opt in: trust on first use, recorded in
    the profile's known_hosts so the next connection is checked against it."""

    def __init__(self, path: str):
        self.path = path

    def missing_host_key(self, client, hostname, key):
        client.get_host_keys().add(hostname, key.get_name(), key)
        directory = os.path.dirname(self.path)
        if directory:
            os.makedirs(directory, mode=0o700, exist_ok=True)
        client.save_host_keys(self.path)
