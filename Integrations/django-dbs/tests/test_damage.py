"""Damage, wrong passphrases and bad input, through the real engine on real files."""
import json
import os
import re
import shutil
from pathlib import Path

import pytest

from conftest import PASSPHRASE, damage, media_files, table_rows, wipe
from zoo.sample_data import file_tree_backup
from dbs import create_backup, restore_backup, validate_backup
from dbs.exceptions import CorruptionError, DBSError, InvalidPassphrase, UsageError

pytestmark = pytest.mark.django_db(transaction=True)

RECORD = 8192 + 255 * 4096  # one stripe record: header region + n shards (docs/FORMAT.md)


def zoo_backup(tmp_path, settings, megabytes):
    """A backup of the zoo plus a file root with a file of `megabytes` MiB (so the
    payload spans stripes)."""
    tree = tmp_path / "tree"
    tree.mkdir()
    (tree / "big.bin").write_bytes(os.urandom(megabytes << 20))
    (tree / "sub").mkdir()
    (tree / "sub" / "名前.txt").write_text("root file\n")
    settings.DBS_FILE_ROOTS = [str(tree)]
    path = tmp_path / "zoo.dbs"
    create_backup(PASSPHRASE, output=path)
    return path


@pytest.fixture
def backup(populated, tmp_path, settings):
    return zoo_backup(tmp_path, settings, 3)


def reset(settings, populated):
    wipe()
    for directory in (settings.MEDIA_ROOT, populated / "tree", populated / "scans"):
        for root, _, names in os.walk(directory):
            for name in names:
                os.unlink(os.path.join(root, name))


def test_heals_damage_in_one_copy(backup, settings, populated):
    before, files = table_rows(), media_files(settings.MEDIA_ROOT)
    tree = media_files(populated / "tree")
    damage(backup, "A", 8192 + 5 * 4096 + 17, length=3000)
    report = validate_backup(backup)
    assert report.ok and report.healed and report.repair_report.shards_from_other_copy >= 1
    reset(settings, populated)
    result = restore_backup(backup, PASSPHRASE)
    assert result.healed and result.repair_report.shards_from_other_copy + result.repair_report.shards_rebuilt >= 1
    assert table_rows() == before
    assert media_files(settings.MEDIA_ROOT) == files and media_files(populated / "tree") == tree


def test_heals_damage_in_both_copies(backup, settings, populated):
    before, files = table_rows(), media_files(settings.MEDIA_ROOT)
    damage(backup, "A", 8192 + 2 * 4096 + 100, length=200)          # shard 2 of copy A
    damage(backup, "B", 8192 + 7 * 4096 + 900, length=50)           # shard 7 of copy B
    damage(backup, "A", RECORD + 8192 + 3 * 4096, length=4096)      # stripe 1, shard 3, both copies:
    damage(backup, "B", RECORD + 8192 + 3 * 4096, length=4096)      # Reed-Solomon rebuilds it
    report = validate_backup(backup, PASSPHRASE)
    assert report.ok and report.healed and report.decrypted
    assert report.repair_report.shards_rebuilt >= 1
    reset(settings, populated)
    result = restore_backup(backup, PASSPHRASE)
    assert result.healed
    assert table_rows() == before and media_files(settings.MEDIA_ROOT) == files


def test_beyond_repair_loads_nothing_and_leaves_no_file(populated, tmp_path, settings):
    # 11 stripes; the reader (one thread) reads ahead 4 of them, so rows and files are
    # written before it reaches the lost last stripe: the rollback must remove them.
    backup = zoo_backup(tmp_path, settings, 10)
    stripes = (os.path.getsize(backup) - 3 * 8192) // 2 // RECORD
    last = (stripes - 1) * RECORD
    damage(backup, "A", last + 8192, length=255 * 4096, xor=0x5A)
    damage(backup, "B", last + 8192, length=255 * 4096, xor=0xA5)
    report = validate_backup(backup)
    assert not report.ok and report.repair_report.stripes_lost >= 1
    assert "NOT restorable" in report.summary()
    reset(settings, populated)
    seen = {"files": 0}

    def progress(rows=0, files=0, bytes=0):
        seen["files"] += files

    with pytest.raises(CorruptionError) as failure:
        restore_backup(backup, PASSPHRASE, progress=progress, threads=1)
    assert "stripe" in str(failure.value) and failure.value.report.stripes_lost >= 1
    assert seen["files"] > 0, "the failure came before any file was written: the rollback is not exercised"
    assert all(rows == [] for rows in table_rows().values())
    assert media_files(settings.MEDIA_ROOT) == {}
    assert media_files(populated / "tree") == {} and media_files(populated / "scans") == {}


def test_wrong_passphrase_loads_nothing(backup, settings, populated):
    reset(settings, populated)
    with pytest.raises(InvalidPassphrase):
        restore_backup(backup, "not the passphrase")
    with pytest.raises(InvalidPassphrase):
        validate_backup(backup, "not the passphrase")
    assert all(rows == [] for rows in table_rows().values())
    assert media_files(settings.MEDIA_ROOT) == {}


def test_not_a_dbs_file(tmp_path, media):
    path = tmp_path / "random.dbs"
    path.write_bytes(os.urandom(100_000))
    with pytest.raises(DBSError):
        restore_backup(path, PASSPHRASE)
    with pytest.raises(DBSError, match="no such backup"):
        restore_backup(tmp_path / "missing.dbs", PASSPHRASE)


def test_refuses_a_file_tree_backup_made_by_the_cli_engine(tmp_path, media):
    tree = tmp_path / "plain"
    tree.mkdir()
    (tree / "a.txt").write_text("a file tree, not Django")
    output = file_tree_backup(str(tmp_path / "tree.dbs"), tree)
    with pytest.raises(DBSError, match=r"file tree \(made by `dbs backup`\), not a Django backup"):
        restore_backup(output, PASSPHRASE)


def write_payload(path, manifest, extra=()):
    from dbs import engine, payload

    with engine.Writer(path, PASSPHRASE, kdf={"time_cost": 1, "memory_kib": 8192, "parallelism": 1}) as writer:
        writer.begin(payload.MANIFEST_PATH, engine.ENTRY_RECORDS, model_label=payload.MANIFEST_LABEL)
        writer.write(json.dumps(manifest).encode())
        writer.end()
        for path_, label, content in extra:
            writer.begin(path_, engine.ENTRY_RECORDS if label else engine.ENTRY_FILE, model_label=label)
            writer.write(content)
            writer.end()


def test_refuses_a_newer_payload_version(tmp_path, media):
    path = tmp_path / "newer.dbs"
    write_payload(path, {"format": "django-dbs", "payload_version": 99, "models": []})
    with pytest.raises(DBSError, match="newer django-dbs"):
        restore_backup(path, PASSPHRASE)


def test_unknown_model_is_skipped_with_a_warning_or_refused_under_strict(tmp_path, media):
    path = tmp_path / "unknown.dbs"
    manifest = {"format": "django-dbs", "payload_version": 1, "migrations": {},
                "models": [{"label": "gone.Model", "fields": [{"attname": "id"}], "rows": 1}]}
    write_payload(path, manifest, [("rows/gone.Model/00000000", "gone.Model", b"[1]\n")])
    result = restore_backup(path, PASSPHRASE)
    assert any("gone.Model" in w and "does not have" in w for w in result.warnings)
    assert result.records_loaded == 0
    with pytest.raises(DBSError, match="--strict"):
        restore_backup(path, PASSPHRASE, strict=True)


def test_migration_drift_warns(backup, settings, populated):
    from django.db import connection

    from dbs.backup import applied_migrations

    reset(settings, populated)
    result = restore_backup(backup, PASSPHRASE, models=["zoo.Tag"])
    assert not any("drift" in w for w in result.warnings)
    path = populated / "drift.dbs"
    migrations = applied_migrations(connection)
    migrations["zoo"] = migrations["zoo"] + ["0002_future"]
    manifest = {"format": "django-dbs", "payload_version": 1, "models": [], "migrations": migrations}
    write_payload(path, manifest)
    result = restore_backup(path, PASSPHRASE)
    assert any("zoo" in w and "0002_future" in w for w in result.warnings)
    with pytest.raises(DBSError, match="0002_future"):
        restore_backup(path, PASSPHRASE, strict=True)


def test_file_path_outside_the_restore_roots_is_refused(backup, settings, populated, tmp_path):
    reset(settings, populated)
    settings.DBS_RESTORE_ROOTS = [str(tmp_path / "elsewhere")]
    with pytest.raises(DBSError, match="outside DBS_RESTORE_ROOTS"):
        restore_backup(backup, PASSPHRASE)
    assert all(rows == [] for rows in table_rows().values())
    assert media_files(settings.MEDIA_ROOT) == {} and media_files(populated / "scans") == {}


#: The attacker-made backups (tests/fixtures/make_unsafe_backups.py says how they were
#: made: DBS's writers, the app's included, refuse such paths). Their manifest names
#: the file root UNSAFE_BASE/root; each entry aims at UNSAFE_BASE/escape.txt.
FIXTURES = Path(__file__).parent / "fixtures"
UNSAFE_BASE = Path("/tmp/django-dbs-unsafe-path-fixture")


@pytest.fixture
def unsafe_base(media, settings):
    """The fixtures' file root, created empty, and its parent the only restore root: the
    escape target is inside DBS_RESTORE_ROOTS, so only the refusal of the path itself
    stands between the backup and it."""
    shutil.rmtree(UNSAFE_BASE, ignore_errors=True)
    (UNSAFE_BASE / "root").mkdir(parents=True)
    settings.DBS_RESTORE_ROOTS = [str(UNSAFE_BASE)]
    yield UNSAFE_BASE
    shutil.rmtree(UNSAFE_BASE, ignore_errors=True)


@pytest.mark.parametrize("fixture, unsafe", [
    ("unsafe-root-dotdot.dbs", "a/../../escape.txt"),
    ("unsafe-root-absolute.dbs", str(UNSAFE_BASE / "escape.txt")),  # os.path.join(root, it) is it
])
def test_unsafe_paths_in_a_backup_are_refused(fixture, unsafe, unsafe_base):
    path = FIXTURES / fixture
    assert validate_backup(path, PASSPHRASE).ok  # a sound backup: refused for its path, not damage
    with pytest.raises(DBSError, match=re.escape(f"unsafe file root path {unsafe!r}; refused")):
        restore_backup(path, PASSPHRASE)
    assert sorted(unsafe_base.rglob("*")) == [unsafe_base / "root"]  # no escape.txt, nothing in the root


def test_the_app_cannot_write_an_unsafe_path(tmp_path, media):
    """The binding's writer (dbs_writer) refuses what the fixtures hold, naming the path
    and the rule, and leaves no backup behind."""
    from dbs import engine

    output = tmp_path / "evil.dbs"
    with pytest.raises(UsageError, match=re.escape("invalid entry 'roots/0/a/../../escape.txt': the path has a '..' "
                                                   "component")):
        with engine.Writer(output, PASSPHRASE, kdf={"time_cost": 1, "memory_kib": 8192, "parallelism": 1}) as writer:
            writer.begin("roots/0/a/../../escape.txt", engine.ENTRY_FILE)
    assert not output.exists()
