import os

from ...backup import create_backup
from ...exceptions import StorageError
from ..base import DBSCommand, human_bytes


class Command(DBSCommand):
    help = ("Back up the project's models, relations and files into one encrypted, redundant, self-healing file "
            "(written beside PATH, verified, then renamed into place).")
    confirm_passphrase = True

    def add_arguments(self, parser):
        super().add_arguments(parser)
        parser.add_argument("--force", action="store_true", help="Replace an existing PATH.")
        parser.add_argument("--compression-level", type=int, default=None, help="zstd level (-7..22, default 1).")

    def execute_dbs(self, options):
        path = options["path"]
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
        if options["json"]:
            self.emit_json(dict(result.as_dict(), size=os.path.getsize(path)))
            return
        for warning in result.warnings:
            self.say(options, f"warning: {warning}")
        self.say(options, f"dbs_backup: {path}: {result.records} rows of {len(result.rows)} models, "
                          f"{result.files} files ({human_bytes(result.file_bytes)}); "
                          f"{human_bytes(os.path.getsize(path))} written and verified")
