"""SFTP destination against a real OpenSSH sshd on 127.0.0.1 (see sshd_fixture)."""

from __future__ import annotations

import os
import time

import pytest
from django.core.exceptions import ImproperlyConfigured

from dbs.transports import HostKeyError, SSHTarget, TransportError, VerificationError, push_backup
from sshd_fixture import ENCRYPTED_KEY_PASSPHRASE, sshd  # noqa: F401  (fixture)


@pytest.fixture
def remote_dir(sshd, tmp_path):
    # Not created: the destination must make it (two levels deep).
    return tmp_path / "offsite" / "myproject"


def target(sshd, remote_dir, **extra) -> SSHTarget:
    return SSHTarget.from_profile(sshd.profile(remote_dir, **extra), name="offsite")


def test_upload_creates_dir_lands_whole_and_lists(sshd, remote_dir):
    data = os.urandom(3 * 1024 * 1024 + 17)
    seen = []
    info = push_backup(data, "site-20260101T000000Z.dbs", target(sshd, remote_dir), progress=seen.append)
    assert (remote_dir / "site-20260101T000000Z.dbs").read_bytes() == data
    assert info.name == "site-20260101T000000Z.dbs" and info.size == len(data)
    assert seen[-1] == len(data)
    assert sorted(p.name for p in remote_dir.iterdir()) == ["site-20260101T000000Z.dbs"]  # no .part left
    with target(sshd, remote_dir).destination() as dest:
        assert [(i.name, i.size) for i in dest.list()] == [("site-20260101T000000Z.dbs", len(data))]


def test_upload_from_path_fetch_and_delete(sshd, remote_dir, tmp_path):
    local = tmp_path / "local.dbs"
    local.write_bytes(b"DBS" * 100_000)
    with target(sshd, remote_dir).destination() as dest:
        dest.upload(local, "a.dbs")
        (remote_dir / "notes.txt").write_text("not a backup")
        (remote_dir / "b.dbs.1234abcd.part").write_bytes(b"unfinished")
        assert [i.name for i in dest.list()] == ["a.dbs"]  # only finished *.dbs files
        fetched = dest.fetch("a.dbs", tmp_path / "back.dbs")
        assert fetched.read_bytes() == local.read_bytes()
        dest.delete("a.dbs")
        assert dest.list() == []
        with pytest.raises(TransportError, match="no backup named a.dbs"):
            dest.fetch("a.dbs", tmp_path / "again.dbs")
        assert not (tmp_path / "again.dbs").exists()


def test_existing_name_is_not_replaced(sshd, remote_dir):
    push_backup(b"first", "x.dbs", target(sshd, remote_dir))
    with pytest.raises(TransportError, match="already exists"):
        push_backup(b"second", "x.dbs", target(sshd, remote_dir))
    assert (remote_dir / "x.dbs").read_bytes() == b"first"


@pytest.mark.parametrize("bad", ["../escape.dbs", "sub/dir.dbs", ".hidden.dbs", "x.dbs.part", ""])
def test_names_outside_the_directory_are_refused(sshd, remote_dir, bad):
    with pytest.raises(TransportError, match="invalid backup name"):
        push_backup(b"x", bad, target(sshd, remote_dir))


def test_connection_dropped_mid_upload_leaves_nothing_under_the_final_name(sshd, remote_dir):
    data = os.urandom(24 * 1024 * 1024)
    dropped = []

    def drop_after_first_mib(sent):
        if sent >= 1024 * 1024 and not dropped:
            dropped.append(sshd.drop_connections())

    with pytest.raises(TransportError, match="upload of big.dbs failed"):
        push_backup(data, "big.dbs", target(sshd, remote_dir, timeout=10), progress=drop_after_first_mib)
    assert dropped and dropped[0] >= 1
    assert not (remote_dir / "big.dbs").exists()
    with target(sshd, remote_dir).destination() as dest:
        assert dest.list() == []
    # The retry succeeds; a stale .part may stay, never listed and never under the final name.
    push_backup(data, "big.dbs", target(sshd, remote_dir))
    assert (remote_dir / "big.dbs").read_bytes() == data


def test_a_remote_copy_that_differs_from_what_was_sent_is_refused_and_removed(sshd, remote_dir):
    """The remote file changed under the upload (another writer, a failing disk): the
    read-back catches it, nothing appears under the final name, the .part is removed."""
    data = os.urandom(2 * 1024 * 1024)

    def corrupt_remote_copy(sent):
        if sent == len(data):
            (part,) = remote_dir.glob("x.dbs.*.part")
            # The writes are pipelined: wait until the server has applied the last one
            # (sftp-server applies them in order), or a late write of the first chunk
            # would overwrite the corruption.
            deadline = time.monotonic() + 10
            while part.stat().st_size < len(data) and time.monotonic() < deadline:
                time.sleep(0.01)
            with open(part, "r+b") as f:
                f.seek(12345)
                f.write(b"\xff")

    with pytest.raises(VerificationError, match="SHA-256 of the copy read back differs"):
        push_backup(data, "x.dbs", target(sshd, remote_dir), progress=corrupt_remote_copy)
    assert list(remote_dir.iterdir()) == []


def test_unknown_host_key_refused(sshd, remote_dir, tmp_path):
    empty = tmp_path / "known_hosts"
    empty.write_text("")
    with pytest.raises(HostKeyError, match="host key not in"):
        push_backup(b"x", "x.dbs", target(sshd, remote_dir, known_hosts=str(empty)))
    with pytest.raises(HostKeyError, match="does not exist"):
        push_backup(b"x", "x.dbs", target(sshd, remote_dir, known_hosts=str(tmp_path / "missing")))
    assert not remote_dir.exists()


def test_unknown_host_key_added_only_when_the_profile_allows_it(sshd, remote_dir, tmp_path):
    known = tmp_path / "ssh" / "known_hosts"
    push_backup(b"x", "x.dbs", target(sshd, remote_dir, known_hosts=str(known), allow_unknown_host_key=True))
    assert sshd.host_key_line in known.read_text()
    # From then on the recorded key is checked, without the opt-in.
    push_backup(b"y", "y.dbs", target(sshd, remote_dir, known_hosts=str(known)))


def test_changed_host_key_refused_even_when_unknown_keys_are_allowed(sshd, remote_dir, tmp_path):
    other = tmp_path / "other_host_key"
    os.system(f"ssh-keygen -q -t ed25519 -N '' -f {other}")
    forged = tmp_path / "known_hosts"
    forged.write_text(f"[127.0.0.1]:{sshd.port} {' '.join(open(f'{other}.pub').read().split()[:2])}\n")
    for allow in (False, True):
        with pytest.raises(HostKeyError, match="differs from the one in"):
            push_backup(b"x", "x.dbs", target(sshd, remote_dir, known_hosts=str(forged), allow_unknown_host_key=allow))
    assert not remote_dir.exists()


def test_wrong_key_refused(sshd, remote_dir):
    with pytest.raises(TransportError, match="authentication with .*wrong_key refused"):
        push_backup(b"x", "x.dbs", target(sshd, remote_dir, key_filename=str(sshd.wrong_key)))
    assert not remote_dir.exists()


def test_key_passphrase_comes_from_the_named_environment_variable(sshd, remote_dir, monkeypatch):
    profile = dict(key_filename=str(sshd.encrypted_key), key_passphrase_env="DBS_TEST_KEY_PASSPHRASE")
    monkeypatch.delenv("DBS_TEST_KEY_PASSPHRASE", raising=False)
    with pytest.raises(TransportError, match="DBS_TEST_KEY_PASSPHRASE .* is not set"):
        push_backup(b"x", "x.dbs", target(sshd, remote_dir, **profile))
    monkeypatch.setenv("DBS_TEST_KEY_PASSPHRASE", "not it")
    with pytest.raises(TransportError) as wrong:
        push_backup(b"x", "x.dbs", target(sshd, remote_dir, **profile))
    assert "not it" not in str(wrong.value)
    monkeypatch.setenv("DBS_TEST_KEY_PASSPHRASE", ENCRYPTED_KEY_PASSPHRASE)
    push_backup(b"x", "x.dbs", target(sshd, remote_dir, **profile))
    assert (remote_dir / "x.dbs").read_bytes() == b"x"


@pytest.mark.parametrize(
    "typo, message",
    [
        ({"known_host": "/tmp/kh"}, "unknown key.*known_host"),
        ({"allow_unkown_host_key": True}, "unknown key.*allow_unkown_host_key"),
        ({"password": "hunter2"}, "no secrets in settings"),
        ({"allow_unknown_host_key": "yes"}, "must be True or False"),
    ],
)
def test_profile_keys_are_checked(sshd, remote_dir, typo, message):
    with pytest.raises(ImproperlyConfigured, match=message) as err:
        SSHTarget.from_profile(sshd.profile(remote_dir, **typo), name="offsite")
    assert "hunter2" not in str(err.value)


def test_profile_missing_required_keys(sshd, remote_dir):
    profile = sshd.profile(remote_dir)
    del profile["key_filename"]
    with pytest.raises(ImproperlyConfigured, match="missing key_filename"):
        SSHTarget.from_profile(profile)
