"""dbs_list: the backups at a destination (name, size, time), newest first."""

import json

from django.core.exceptions import ImproperlyConfigured
from django.core.management.base import BaseCommand, CommandError

from ...exceptions import DBSError
from ..destinations import add_destination_arguments, destination_from_options


class Command(BaseCommand):
    help = 'List the backups at a destination: STORAGES["dbs"] (default) or an SFTP profile.'

    def add_arguments(self, parser):
        add_destination_arguments(parser, "at")
        parser.add_argument("--json", action="store_true", help="one JSON document: destination and backups")

    def handle(self, *args, **options):
        try:
            with destination_from_options(options, default_storage=True) as destination:
                backups = destination.list()
        except (DBSError, ImproperlyConfigured) as exc:
            raise CommandError(str(exc), returncode=getattr(exc, "status", 2)) from exc
        if options["json"]:
            self.stdout.write(json.dumps({"destination": destination.label,
                                          "backups": [b.as_dict() for b in backups]}, indent=2))
            return
        if not backups:
            self.stdout.write(f"no backups at {destination.label}")
            return
        width = max(len(b.name) for b in backups)
        for b in backups:
            when = b.modified.strftime("%Y-%m-%d %H:%M:%S UTC") if b.modified else "-"
            self.stdout.write(f"{b.name:<{width}}  {b.size:>14,}  {when}")
        total = sum(b.size for b in backups)
        self.stdout.write(f"{len(backups)} backup(s), {total:,} bytes at {destination.label}")
