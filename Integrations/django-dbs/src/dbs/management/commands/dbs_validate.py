from ...exceptions import CorruptionError
from ...validation import validate_backup
from ..base import DBSCommand
from ..destinations import add_destination_arguments, local_backup


class Command(DBSCommand):
    help = ("Check a backup: without a passphrase its structure in both copies (no key needed); with one "
            "(--passphrase, $DBS_PASSPHRASE or --passphrase-file) also decrypt and verify every entry.")
    needs_passphrase = False

    def add_arguments(self, parser):
        super().add_arguments(parser)
        add_destination_arguments(parser, "from")
        self.add_kdf_cap_arguments(parser)

    def execute_dbs(self, options):
        path = options["path"]
        passphrase = self.passphrase(options)
        with local_backup(options) as local:
            report = validate_backup(local, passphrase, threads=options["threads"] or 0,
                                     kdf_cap=self.kdf_cap(options))
        if options["json"]:
            self.emit_json(report.as_dict())
        else:
            self.say(options, f"dbs_validate: {path}: {report.summary()}")
        if not report.ok:
            raise CorruptionError(f"{path} is damaged beyond repair: {report.error or report.repair_report.describe()}",
                                  report.repair_report)
