from ...restore import restore_backup
from ..base import DBSCommand, human_bytes
from ..destinations import add_destination_arguments, local_backup


class Command(DBSCommand):
    help = ("Restore a backup's rows and files into the database, in one transaction: all of it or nothing "
            "(damage is repaired on the fly).")

    def add_arguments(self, parser):
        super().add_arguments(parser)
        parser.add_argument("--dry-run", action="store_true",
                            help="Decrypt, check and load everything, then roll back; write no file.")
        parser.add_argument("--flush", action="store_true",
                            help="Replace the backed-up models' rows instead of merging into them.")
        parser.add_argument("--models", nargs="+", metavar="app.Model", help="Restore only these models.")
        parser.add_argument("--strict", action="store_true",
                            help="Refuse (instead of warning about) migration drift, unknown models, column changes.")
        add_destination_arguments(parser, "from")
        self.add_kdf_cap_arguments(parser)

    def execute_dbs(self, options):
        passphrase = self.passphrase(options)
        progress = self.progress(options, "restoring")
        try:
            with local_backup(options) as path:
                result = restore_backup(path, passphrase, dry_run=options["dry_run"], flush=options["flush"],
                                        models=options["models"], using=options["database"], strict=options["strict"],
                                        threads=options["threads"] or 0, progress=progress,
                                        kdf_cap=self.kdf_cap(options))
        finally:
            if progress:
                progress.done()
        if options["json"]:
            self.emit_json(result.as_dict())
            return
        for warning in result.warnings:
            self.say(options, f"warning: {warning}")
        verb = "checked (dry run, rolled back)" if result.dry_run else "restored"
        self.say(options, f"dbs_restore: {verb} {result.records_loaded} rows of {len(result.rows)} models, "
                          f"{result.files_written} files written ({human_bytes(result.file_bytes)})")
        if result.healed:
            self.say(options, f"dbs_restore: healed damage: {result.repair_report.describe()}")
