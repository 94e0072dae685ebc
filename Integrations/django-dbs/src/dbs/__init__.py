"""DBS for Django: one encrypted, redundant, self-healing backup file of a project's
models, relations and files. The public API, re-exported and nothing else."""
from .registry import BackupRegistry, FieldType, ModelBackup, backup_registry
from .backup import create_backup
from .restore import restore_backup
from .validation import validate_backup
from .results import BackupResult, RestoreResult, ValidationReport

__version__ = "0.1.0"

__all__ = [
    "backup_registry", "BackupRegistry", "FieldType", "ModelBackup",
    "create_backup", "restore_backup", "validate_backup",
    "BackupResult", "RestoreResult", "ValidationReport",
]
