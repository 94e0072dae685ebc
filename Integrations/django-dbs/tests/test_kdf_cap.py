"""The key-derivation cap (issue 12, item 4): a backup whose Argon2id cost is above
what a reader spends on a file it cannot yet authenticate is refused, naming the
settings that raise the cap, and is read once they are raised.

The cap is a maximum on passes and memory, so a backup costs little to make and to
open while still being above the default cap: 31 passes (the default cap is 30) over
8 KiB (the least one lane may have) take milliseconds."""
import pytest

from conftest import PASSPHRASE, table_rows, wipe
from test_commands import run
from dbs import create_backup, restore_backup, validate_backup
from dbs.exceptions import KDFCostRefused, UsageError

pytestmark = pytest.mark.django_db(transaction=True)

COSTLY = {"time_cost": 31, "memory_kib": 8, "parallelism": 1}


@pytest.fixture
def costly_backup(populated, tmp_path, settings):
    settings.DBS_KDF = COSTLY
    path = tmp_path / "costly.dbs"
    create_backup(PASSPHRASE, output=path)
    return path


def test_above_the_default_cap_refused_naming_the_settings_then_read_when_raised(costly_backup, settings):
    rows = table_rows()
    wipe()
    for attempt in (lambda: restore_backup(costly_backup, PASSPHRASE),
                    lambda: validate_backup(costly_backup, PASSPHRASE)):
        with pytest.raises(KDFCostRefused) as refused:
            attempt()
        message = str(refused.value)
        assert "t = 31" in message and "m = 8 KiB" in message, message
        assert "DBS_MAX_KDF_TIME_COST" in message and "DBS_MAX_KDF_MEMORY_KIB" in message, message
        assert "options->" not in message, message  # the settings' words, not the C fields
    assert all(not table for table in table_rows().values())  # nothing loaded
    # Without a passphrase nothing is derived: the structure is checked under any cap.
    assert validate_backup(costly_backup).ok

    settings.DBS_MAX_KDF_TIME_COST = 31
    report = validate_backup(costly_backup, PASSPHRASE)
    assert report.ok and report.decrypted
    restore_backup(costly_backup, PASSPHRASE)
    assert table_rows() == rows

    # The memory setting is the other half of the cap: below the file's 8 KiB, refused.
    settings.DBS_MAX_KDF_MEMORY_KIB = 7
    with pytest.raises(KDFCostRefused, match="m = 8 KiB"):
        validate_backup(costly_backup, PASSPHRASE)


def test_the_management_commands_name_the_settings_and_their_options(costly_backup, settings, monkeypatch):
    monkeypatch.setenv("DBS_PASSPHRASE", PASSPHRASE)
    rows = table_rows()
    for command in ("dbs_validate", "dbs_restore"):
        status, _, err = run(command, str(costly_backup))
        assert status == 1, err
        assert "DBS_MAX_KDF_TIME_COST" in err and "--max-kdf-time PASSES" in err, err
    # The options raise the cap for one run; a value below the file's refuses it again.
    status, _, err = run("dbs_validate", str(costly_backup), "--max-kdf-time", "31")
    assert status == 0 and "decrypted and verified" in err, err
    status, _, err = run("dbs_validate", str(costly_backup), "--max-kdf-time", "31", "--max-kdf-memory", "7")
    assert status == 1 and "m = 8 KiB" in err, err
    wipe()
    status, _, err = run("dbs_restore", str(costly_backup), "--max-kdf-time", "31")
    assert status == 0, err
    assert table_rows() == rows
    # The setting does the same for every run.
    settings.DBS_MAX_KDF_TIME_COST = 31
    status, _, err = run("dbs_validate", str(costly_backup))
    assert status == 0 and "decrypted and verified" in err, err
    status, _, err = run("dbs_validate", str(costly_backup), "--max-kdf-time", "0")
    assert status == 2 and "positive integer" in err, err


@pytest.mark.parametrize("value", [0, -1, "31", 2 ** 32, True])
def test_a_cap_setting_of_the_wrong_kind_is_a_usage_error(costly_backup, settings, value):
    settings.DBS_MAX_KDF_TIME_COST = value
    with pytest.raises(UsageError, match="DBS_MAX_KDF_TIME_COST"):
        validate_backup(costly_backup, PASSPHRASE)
