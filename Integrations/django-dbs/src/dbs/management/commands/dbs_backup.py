import os

from ...backup import create_backup
from ...exceptions import StorageError
from ..base import DBSCommand, human_bytes
from ..destinations import Shipment, add_destination_arguments


class Command(DBSCommand):
    help = ("Back up the project's models, relations and files into one encrypted, redundant, self-healing file "
            "(written beside PATH, verified, then renamed into place).")
    confirm_passphrase = True
    path_required = False
    path_help = ("The backup file, or a directory to write <project>-<UTC time>.dbs into "
                 "(optional with --to-storage / --to-ssh).")

    def add_arguments(self, parser):
        super().add_arguments(parser)
        parser.add_argument("--force", action="store_true", help="Replace an existing PATH.")
        parser.add_argument("--compression-level", type=int, default=None, help="zstd level (-7..22, default 1).")
        add_destination_arguments(parser, "to")
        parser.add_argument("--keep", type=int, metavar="N",
                            help="After the new backup is uploaded and verified, delete this project's older backups "
                                 "at the destination (or in PATH's directory) beyond the newest N.")
        parser.add_argument("--keep-days", type=float, metavar="D",
                            help="Likewise, delete those older than D days (with --keep: a backup either rule keeps "
                                 "stays). The new backup is never deleted.")

    def execute_dbs(self, options):
        with Shipment(options) as shipment:
            self.back_up(options, shipment)

    def back_up(self, options, shipment):
        path = shipment.path
        if os.path.exists(path) and not options["force"]:
            raise StorageError(f"{path} already exists (--force replaces it)")
        passphrase = self.passphrase(options)
        progress = self.progress(options, "backing up")
        try:
            result = create_backup(passphrase, output=path, using=options["database"], threads=options["threads"],
                                   compression_level=options["compression_level"], overwrite=options["force"],
                                   progress=progress)
        finally:
            if progress:
                progress.done()
        shipped = shipment.deliver()
        if options["json"]:
            self.emit_json(dict(result.as_dict(), path=None if shipment.temporary else path,
                                size=os.path.getsize(path), **shipped))
            return
        for warning in result.warnings:
            self.say(options, f"warning: {warning}")
        self.say(options, f"dbs_backup: {shipment.name if shipment.temporary else path}: {result.records} rows of {len(result.rows)} models, "
                          f"{result.files} files ({human_bytes(result.file_bytes)}); "
                          f"{human_bytes(os.path.getsize(path))} written and verified")
        if "uploaded" in shipped:
            self.say(options, f"dbs_backup: uploaded as {shipment.name} to {shipped['uploaded']['destination']} "
                              "(read back and verified)")
        if "retention" in shipped:
            deleted = shipped["retention"]["deleted"]
            self.say(options, f"dbs_backup: retention at {shipped['retention']['at']}: deleted {len(deleted)} older "
                              f"backup(s){': ' + ', '.join(deleted) if deleted else ''}")
