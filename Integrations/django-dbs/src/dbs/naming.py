"""Backup file names: ``<series>-<UTC time>.dbs``.

The series is ``DBS_BACKUP_NAME`` or, by default, the project's package (the first part
of ``DJANGO_SETTINGS_MODULE``), so a download or an upload says which project and when,
and retention can tell one project's backups from another's in a shared destination.
"""

from __future__ import annotations

import datetime as _dt
import os
import re
from typing import Optional

STAMP_FORMAT = "%Y%m%dT%H%M%SZ"
_NAME = re.compile(r"^(?P<series>[A-Za-z0-9][A-Za-z0-9._+@=-]*?)-(?P<stamp>\d{8}T\d{6}Z)\.dbs$")
_UNSAFE = re.compile(r"[^A-Za-z0-9._+@=-]+")


def default_series() -> str:
    from django.conf import settings

    from . import conf

    configured = conf.get("DBS_BACKUP_NAME")
    # SETTINGS_MODULE is None under override_settings: the environment still names it.
    module = getattr(settings, "SETTINGS_MODULE", None) or os.environ.get("DJANGO_SETTINGS_MODULE") or "django"
    raw = configured or module.split(".")[0]
    return _UNSAFE.sub("-", raw).strip("-.") or "django"


def backup_name(series: Optional[str] = None, when: Optional[_dt.datetime] = None) -> str:
    """``<series>-<YYYYmmddTHHMMSSZ>.dbs``, the name of a backup made at ``when`` (now)."""
    when = (when or _dt.datetime.now(_dt.timezone.utc)).astimezone(_dt.timezone.utc)
    return f"{series or default_series()}-{when.strftime(STAMP_FORMAT)}.dbs"


def parse_name(name: str) -> Optional[tuple[str, _dt.datetime]]:
    """(series, time) of a name made by ``backup_name``, or None for any other name."""
    match = _NAME.match(name)
    if not match:
        return None
    stamp = _dt.datetime.strptime(match["stamp"], STAMP_FORMAT).replace(tzinfo=_dt.timezone.utc)
    return match["series"], stamp
