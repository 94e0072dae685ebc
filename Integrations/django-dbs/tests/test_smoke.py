import pytest

from conftest import PASSPHRASE, table_rows, wipe


@pytest.mark.django_db(transaction=True)
def test_round_trip_smoke(populated, tmp_path):
    from dbs import create_backup, restore_backup, validate_backup

    before = table_rows()
    result = create_backup(PASSPHRASE, output=tmp_path / "b.dbs")
    report = validate_backup(result, PASSPHRASE)
    assert report.ok, report.summary()
    wipe()
    restored = restore_backup(result, PASSPHRASE)
    assert table_rows() == before
    assert restored.records_loaded == result.records
