"""What dbs_backup, dbs_validate and dbs_restore share: the passphrase sources, the
common options, a progress line on a terminal, and errors turned into the `dbs`
CLI's exit statuses (0 ok or healed, 1 failure, 2 usage, 3 wrong passphrase,
4 damaged beyond repair, 5 input or output)."""
import getpass
import json
import os
import sys
import time

from django.core.management.base import BaseCommand, CommandError

from ..exceptions import DBSError, KDFCostRefused

PASSPHRASE_ENV = "DBS_PASSPHRASE"


def human_bytes(count):
    for unit in ("B", "KiB", "MiB", "GiB"):
        if count < 1024 or unit == "GiB":
            return f"{count:.0f} {unit}" if unit == "B" else f"{count:.1f} {unit}"
        count /= 1024


class Progress:
    """One line on stderr, rewritten at most 5 times a second: rows, files, bytes."""

    def __init__(self, stream, verb):
        self.stream, self.verb = stream, verb
        self.rows = self.files = self.bytes = 0
        self.shown = 0.0

    def __call__(self, rows=0, files=0, bytes=0):
        self.rows += rows
        self.files += files
        self.bytes += bytes
        now = time.monotonic()
        if now - self.shown >= 0.2:
            self.shown = now
            self.stream.write(f"\r{self.verb}: {self.rows} rows, {self.files} files, {human_bytes(self.bytes)}\x1b[K")
            self.stream.flush()

    def done(self):
        if self.shown:
            self.stream.write("\r\x1b[K")
            self.stream.flush()


class DBSCommand(BaseCommand):
    """Base of the three commands. Subclasses implement `execute_dbs(options)`."""

    #: Whether a prompt asks twice (a new backup: a typo would lock the data away).
    confirm_passphrase = False
    #: Whether a passphrase is required (validate works without one).
    needs_passphrase = True

    #: Whether PATH is required (dbs_backup --to-storage/--to-ssh names the backup itself).
    path_required = True
    #: Help of the PATH argument.
    path_help = "The backup file."

    def add_arguments(self, parser):
        parser.add_argument("path", nargs=None if self.path_required else "?", help=self.path_help)
        parser.add_argument("-p", "--passphrase",
                            help="The passphrase. Weakest source: other users can see it in the process list; "
                                 "prefer $DBS_PASSPHRASE or --passphrase-file.")
        parser.add_argument("--passphrase-file", help="Read the passphrase from the first line of this file.")
        parser.add_argument("--threads", type=int, default=None, help="Engine worker threads (default: one per core).")
        parser.add_argument("--database", default="default", help="The database alias (default: default).")
        parser.add_argument("--json", action="store_true", help="Print one JSON document on stdout.")
        parser.add_argument("--quiet", action="store_true", help="No progress line and no summary.")

    def passphrase(self, options):
        """--passphrase, then $DBS_PASSPHRASE, then --passphrase-file, then a prompt
        without echo on a terminal; none of them: a usage error, never a hang."""
        if options.get("passphrase"):
            return options["passphrase"]
        if os.environ.get(PASSPHRASE_ENV):
            return os.environ[PASSPHRASE_ENV]
        if options.get("passphrase_file"):
            try:
                with open(options["passphrase_file"], encoding="utf-8") as handle:
                    line = handle.readline().rstrip("\r\n")
            except OSError as error:
                raise CommandError(f"cannot read the passphrase file {options['passphrase_file']}: "
                                   f"{error.strerror}", returncode=5) from None
            if not line:
                raise CommandError("the passphrase file's first line is empty", returncode=2)
            return line
        if not self.needs_passphrase:
            return None
        if not sys.stdin.isatty():
            raise CommandError("no passphrase: pass --passphrase-file FILE, set $DBS_PASSPHRASE, or run on a terminal "
                               "to be prompted", returncode=2)
        first = getpass.getpass("Passphrase: ")
        if not first:
            raise CommandError("the passphrase is empty", returncode=2)
        if self.confirm_passphrase and getpass.getpass("Passphrase again: ") != first:
            raise CommandError("the passphrases do not match", returncode=2)
        return first

    @staticmethod
    def add_kdf_cap_arguments(parser):
        """The cap on a backup's key-derivation cost, for one command (the settings
        DBS_MAX_KDF_MEMORY_KIB / DBS_MAX_KDF_TIME_COST for every run)."""
        parser.add_argument("--max-kdf-memory", type=int, default=None, metavar="KIB",
                            help="Refuse a backup whose Argon2id memory is above this many KiB "
                                 "(default: DBS_MAX_KDF_MEMORY_KIB, else 1 GiB).")
        parser.add_argument("--max-kdf-time", type=int, default=None, metavar="PASSES",
                            help="Refuse a backup whose Argon2id time cost is above this many passes "
                                 "(default: DBS_MAX_KDF_TIME_COST, else 30).")

    @staticmethod
    def kdf_cap(options):
        return options.get("max_kdf_memory"), options.get("max_kdf_time")

    def progress(self, options, verb):
        if options["quiet"] or options["json"] or not self.stderr.isatty():
            return None
        return Progress(self.stderr, verb)

    def say(self, options, message):
        if not options["quiet"] and not options["json"]:
            self.stderr.write(message)

    def emit_json(self, document):
        self.stdout.write(json.dumps(document, ensure_ascii=False, indent=2))

    def handle(self, *args, **options):
        try:
            self.execute_dbs(options)
        except KDFCostRefused as error:
            raise CommandError(f"{error}, or pass --max-kdf-memory KIB and --max-kdf-time PASSES",
                               returncode=error.status) from error
        except DBSError as error:
            raise CommandError(str(error), returncode=error.status) from error
        except KeyboardInterrupt:
            raise CommandError("interrupted; nothing was changed", returncode=1) from None

    def execute_dbs(self, options):
        raise NotImplementedError
