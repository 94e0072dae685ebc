"""What create_backup, validate_backup and restore_backup return."""
from dataclasses import dataclass, field


@dataclass
class BackupResult:
    """A backup written: where, and what it holds."""

    path: str
    rows: dict = field(default_factory=dict)        # model label -> rows written
    files: int = 0                                  # file entries written
    file_bytes: int = 0
    warnings: list = field(default_factory=list)    # missing or changed files, ...
    changed_files: list = field(default_factory=list)  # {file, reason, size, sha256} of files changed while read

    @property
    def records(self):
        return sum(self.rows.values())

    def __fspath__(self):
        return self.path

    def as_dict(self):
        return {"path": self.path, "rows": dict(self.rows), "records": self.records, "files": self.files,
                "file_bytes": self.file_bytes, "warnings": list(self.warnings),
                "changed_files": [dict(c) for c in self.changed_files]}


@dataclass
class ValidationReport:
    """validate_backup's answer. `ok`: readable (healthy or healed); `repair_report`:
    the engine's counts; `django`: the manifest when a passphrase opened it."""

    ok: bool
    healed: bool
    repair_report: object
    decrypted: bool = False
    error: str = ""
    manifest: dict = None

    @property
    def healthy(self):
        return self.ok and not self.healed

    def summary(self):
        if not self.ok:
            return f"NOT restorable: {self.error or self.repair_report.describe()}"
        checked = "decrypted and verified" if self.decrypted else "structure verified (no passphrase: contents not decrypted)"
        state = self.repair_report.describe()
        models = ""
        if self.manifest:
            rows = sum(m.get("rows", 0) for m in self.manifest.get("models", []))
            models = f"; Django backup of {len(self.manifest.get('models', []))} models, {rows} rows"
        return f"{state}; {checked}{models}"

    def as_dict(self):
        return {"ok": self.ok, "healed": self.healed, "healthy": self.healthy, "decrypted": self.decrypted,
                "error": self.error, "repair": self.repair_report.as_dict() if self.repair_report else None,
                "summary": self.summary()}


@dataclass
class RestoreResult:
    """A restore done (or rehearsed, for a dry run)."""

    healed: bool = False
    records_loaded: int = 0
    files_written: int = 0
    file_bytes: int = 0                             # bytes of the files written
    repair_report: object = None
    warnings: list = field(default_factory=list)
    rows: dict = field(default_factory=dict)        # model label -> rows loaded
    dry_run: bool = False

    def as_dict(self):
        return {"healed": self.healed, "records_loaded": self.records_loaded, "files_written": self.files_written,
                "file_bytes": self.file_bytes, "rows": dict(self.rows), "dry_run": self.dry_run, "warnings": list(self.warnings),
                "repair": self.repair_report.as_dict() if self.repair_report else None}
