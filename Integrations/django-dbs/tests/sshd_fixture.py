"""A real OpenSSH sshd on 127.0.0.1 for the destination tests.

Started once per session on a free port with its own sshd_config, temporary host keys and
one authorized client key, in the foreground (``sshd -D -e``) so the test process owns it;
stopped afterwards. Import the fixture into a test module: ``from sshd_fixture import sshd``.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

SSHD = "/usr/sbin/sshd"
ENCRYPTED_KEY_PASSPHRASE = "correct horse battery staple"


def _keygen_pub(path: Path) -> str:
    return Path(f"{path}.pub").read_text()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _keygen(path: Path, kind: str = "ed25519", passphrase: str = "") -> str:
    subprocess.run(
        ["ssh-keygen", "-q", "-t", kind, "-N", passphrase, "-C", "dbs-test", "-f", str(path)],
        check=True,
        stdin=subprocess.DEVNULL,
    )
    return Path(f"{path}.pub").read_text()


@dataclass
class SSHServer:
    port: int
    home: Path             # the temporary tree: keys, config, remote directories
    host_key_line: str     # "<type> <base64>" of the server's host key
    client_key: Path       # authorized private key
    wrong_key: Path        # a key the server does not know
    encrypted_key: Path    # authorized, protected by ENCRYPTED_KEY_PASSPHRASE
    known_hosts: Path      # contains the server's real host key
    process: subprocess.Popen

    def profile(self, remote_dir: str, **extra) -> dict:
        return {
            "host": "127.0.0.1",
            "port": self.port,
            "username": "root",
            "key_filename": str(self.client_key),
            "known_hosts": str(self.known_hosts),
            "remote_dir": str(remote_dir),
            **extra,
        }

    def session_pids(self) -> list[int]:
        """The per-connection sshd processes (children of the listener)."""
        pids: list[int] = []
        pending = [self.process.pid]
        while pending:
            pid = pending.pop()
            try:
                children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
            except FileNotFoundError:
                continue
            for child in map(int, children):
                pids.append(child)
                pending.append(child)
        return pids

    def drop_connections(self) -> int:
        """Kill every live SSH session, as a network failure or a server crash would."""
        pids = self.session_pids()
        for pid in pids:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        return len(pids)


@pytest.fixture(scope="session")
def sshd(tmp_path_factory):
    if not os.path.exists(SSHD) or shutil.which("ssh-keygen") is None:
        pytest.fail("these tests need OpenSSH's sshd and ssh-keygen (apt-get install openssh-server)")
    os.makedirs("/run/sshd", mode=0o755, exist_ok=True)  # sshd's privilege-separation directory
    home = tmp_path_factory.mktemp("sshd")
    host_key = home / "ssh_host_ed25519_key"
    _keygen(host_key)
    host_key_line = " ".join((home / "ssh_host_ed25519_key.pub").read_text().split()[:2])
    client_key = home / "client_key"
    _keygen(client_key)
    wrong_key = home / "wrong_key"
    _keygen(wrong_key)
    encrypted_key = home / "encrypted_key"
    _keygen(encrypted_key, passphrase=ENCRYPTED_KEY_PASSPHRASE)
    authorized = home / "authorized_keys"
    authorized.write_text(_keygen_pub(client_key) + _keygen_pub(encrypted_key))
    port = _free_port()
    config = home / "sshd_config"
    config.write_text(
        "\n".join(
            [
                f"Port {port}",
                "ListenAddress 127.0.0.1",
                f"HostKey {host_key}",
                f"AuthorizedKeysFile {authorized}",
                f"PidFile {home / 'sshd.pid'}",
                "PermitRootLogin prohibit-password",
                "PubkeyAuthentication yes",
                "PasswordAuthentication no",
                "KbdInteractiveAuthentication no",
                "UsePAM no",
                "StrictModes no",
                "Subsystem sftp internal-sftp",
                "LogLevel ERROR",
                "",
            ]
        )
    )
    known_hosts = home / "known_hosts"
    known_hosts.write_text(f"[127.0.0.1]:{port} {host_key_line}\n")
    log = open(home / "sshd.log", "wb")
    process = subprocess.Popen([SSHD, "-D", "-e", "-f", str(config)], stdout=log, stderr=log, stdin=subprocess.DEVNULL)
    deadline = time.monotonic() + 10
    while True:
        if process.poll() is not None:
            raise RuntimeError(f"sshd exited: {(home / 'sshd.log').read_text()}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1) as s:
                if s.recv(4).startswith(b"SSH-"):
                    break
        except OSError:
            pass
        if time.monotonic() > deadline:
            process.kill()
            raise RuntimeError("sshd did not answer within 10 s")
        time.sleep(0.05)
    server = SSHServer(port, home, host_key_line, client_key, wrong_key, encrypted_key, known_hosts, process)
    try:
        yield server
    finally:
        server.drop_connections()
        process.terminate()
        try:
            process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.close()
