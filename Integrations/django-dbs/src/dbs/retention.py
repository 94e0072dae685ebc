"""Retention: which older backups at a destination may go once a new one is safely there.

Backups are named ``<series>-<UTC time>.dbs`` (``dbs.naming``); retention only ever
considers backups of the new backup's own series, ordered by the time in their names
(not by the storage's modification time, which a copy or a sync changes), so another
project's backups or files a person put there are never touched.

Rules, as restic's ``forget`` has them: a backup is kept if ANY given rule keeps it:
``keep`` keeps the newest N, ``keep_days`` keeps those younger than D days. With both,
``--keep-days 30 --keep 3`` keeps a month of backups and never fewer than three. The new
backup is always kept: it is the last good one, uploaded and verified before retention
runs, and nothing is deleted if the destination does not list it.
"""

from __future__ import annotations

import datetime as _dt
from dataclasses import dataclass
from typing import Optional

from .exceptions import UsageError
from .naming import parse_name
from .transports.base import BackupInfo, Destination, TransportError


@dataclass(frozen=True)
class RetentionPolicy:
    keep: Optional[int] = None
    keep_days: Optional[float] = None

    def __post_init__(self):
        if self.keep is not None and (not isinstance(self.keep, int) or self.keep < 1):
            raise UsageError(f"--keep must be 1 or more (the new backup is always kept), not {self.keep!r}")
        if self.keep_days is not None and not self.keep_days > 0:
            raise UsageError(f"--keep-days must be more than 0, not {self.keep_days!r}")

    @property
    def active(self) -> bool:
        return self.keep is not None or self.keep_days is not None

    def expired(self, backups: list[BackupInfo], new: str, now: Optional[_dt.datetime] = None) -> list[BackupInfo]:
        """The backups this policy deletes, given the destination's listing and the name of
        the backup just uploaded and verified. Pure: nothing is touched here."""
        if not self.active:
            return []
        parsed = parse_name(new)
        if parsed is None:
            raise UsageError(
                f"retention needs backups named <series>-<UTC time>.dbs (as dbs_backup names them); {new!r} is not"
            )
        series = parsed[0]
        if new not in {b.name for b in backups}:
            return []  # the destination does not show the new backup: delete nothing
        now = now or _dt.datetime.now(_dt.timezone.utc)
        ours = []
        for b in backups:
            p = parse_name(b.name)
            if p and p[0] == series:
                ours.append((p[1], b))
        ours.sort(key=lambda item: (item[0], item[1].name), reverse=True)
        doomed = []
        for rank, (stamp, b) in enumerate(ours):
            if b.name == new:
                continue
            kept_by_count = self.keep is not None and rank < self.keep
            kept_by_age = self.keep_days is not None and now - stamp < _dt.timedelta(days=self.keep_days)
            if not (kept_by_count or kept_by_age):
                doomed.append(b)
        return doomed


def apply_retention(destination: Destination, policy: RetentionPolicy, new: BackupInfo,
                    now: Optional[_dt.datetime] = None) -> list[BackupInfo]:
    """Delete what ``policy`` lets go at ``destination``; call only after ``new`` was
    uploaded and verified. Returns the deleted backups; a failure to delete one stops
    there with an error naming it (the others stay)."""
    doomed = policy.expired(destination.list(), new.name, now)
    deleted = []
    for b in doomed:
        try:
            destination.delete(b.name)
        except TransportError as exc:
            raise TransportError(f"retention: deleted {len(deleted)} old backup(s), then: {exc}") from exc
        deleted.append(b)
    return deleted
