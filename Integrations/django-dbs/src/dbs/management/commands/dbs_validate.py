from ...exceptions import CorruptionError
from ...validation import validate_backup
from ..base import DBSCommand


class Command(DBSCommand):
    help = ("Check a backup: without a passphrase its structure in both copies (no key needed); with one "
            "(--passphrase, $DBS_PASSPHRASE or --passphrase-file) also decrypt and verify every entry.")
    needs_passphrase = False

    def execute_dbs(self, options):
        path = options["path"]
        report = validate_backup(path, self.passphrase(options), threads=options["threads"] or 0)
        if options["json"]:
            self.emit_json(report.as_dict())
        else:
            self.say(options, f"dbs_validate: {path}: {report.summary()}")
        if not report.ok:
            raise CorruptionError(f"{path} is damaged beyond repair: {report.error or report.repair_report.describe()}",
                                  report.repair_report)
