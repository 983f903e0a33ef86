"""A real PostgreSQL 15 (Debian's binaries) on a loopback port, in a temporary folder, for the
PostgreSQL catalog's tests: `initdb` with a password (scram-sha-256), then `postgres` in the
foreground until stopped.

initdb and postgres refuse to run as root: as root (CI), they run as `nobody` (setpriv, which
execs them, so the process we stop is postgres itself) in a folder that user owns; otherwise as
whoever runs the tests. `postgres` cannot bind port 0 and say which port it got, so it starts
through `start_with_port_retries` (tests/servers.py)."""

from __future__ import annotations

import os
import pwd
import shutil
import signal
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import psycopg
import pytest

from tests.servers import PortTaken, exited_on_taken_port, start_with_port_retries, stop_process

BIN = Path("/usr/lib/postgresql/15/bin")
USER = "assistant"
PASSWORD = "pg-catalog-secret-pw"  # a test's logs and errors must never show it
UNPRIVILEGED = "nobody"


@dataclass
class Postgres:
    """A running PostgreSQL and where it keeps its files."""

    root: Path
    port: int
    process: subprocess.Popen[bytes]

    @property
    def log(self) -> Path:
        return self.root / "postgres.log"

    def url(self, database: str = "postgres") -> str:
        """A postgresql:// URL of one of its databases, with the password."""
        return f"postgresql://{USER}:{PASSWORD}@127.0.0.1:{self.port}/{database}"

    def create_database(self, name: str) -> str:
        """A new empty database's URL."""
        with psycopg.connect(self.url(), autocommit=True) as db:
            db.execute(f'CREATE DATABASE "{name}"')
        return self.url(name)

    def stop(self) -> None:
        """Stop it as `pg_ctl stop` does by default (SIGINT: a fast shutdown, which ends the
        clients' connections; SIGTERM would wait for them to close) and wait until it has
        exited (SIGKILL after 30 s)."""
        self.process.send_signal(signal.SIGINT)
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            stop_process(self.process)

    def start(self, timeout: float = 60) -> None:
        """Start it again on the same port and data (after `stop`)."""
        self.process = _launch(self.root, self.port, timeout)


def as_unprivileged(command: list[str], euid: int | None = None) -> list[str]:
    """`command` as run for the tests: under `nobody` when we are root (PostgreSQL refuses to
    run as root), else unchanged."""
    if (os.geteuid() if euid is None else euid) != 0:
        return command
    user = pwd.getpwnam(UNPRIVILEGED)
    ids = [f"--reuid={user.pw_uid}", f"--regid={user.pw_gid}", "--clear-groups"]
    return ["setpriv", *ids, *command]


def require_postgres() -> None:
    """Skip with the install command when Debian's PostgreSQL 15 is not there."""
    if not (BIN / "initdb").exists():
        pytest.skip("Debian's PostgreSQL 15 is not installed: `make system-deps`")


def start_postgres(timeout: float = 60) -> Postgres:
    """A fresh cluster in a new temporary folder, serving on a free loopback port."""
    require_postgres()
    # Not under pytest's tmp_path: as root, its folders (0700) would keep `nobody` out.
    root = Path(tempfile.mkdtemp(prefix="assistant-pg-"))
    (root / "password").write_text(PASSWORD + "\n")
    if os.geteuid() == 0:
        user = pwd.getpwnam(UNPRIVILEGED)
        for path in (root, root / "password"):
            os.chown(path, user.pw_uid, user.pw_gid)
    initdb = subprocess.run(
        as_unprivileged(
            [
                str(BIN / "initdb"),
                "--pgdata",
                str(root / "data"),
                "--username",
                USER,
                "--pwfile",
                str(root / "password"),
                "--auth",
                "scram-sha-256",
                "--no-sync",
                "--encoding",
                "UTF8",
                "--locale",
                "C",
            ]
        ),
        capture_output=True,
        text=True,
    )
    if initdb.returncode != 0:
        shutil.rmtree(root, ignore_errors=True)
        raise RuntimeError(f"initdb failed ({initdb.returncode}): {initdb.stderr.strip()}")
    try:
        return start_with_port_retries(
            lambda port: Postgres(root, port, _launch(root, port, timeout))
        )
    except BaseException:
        shutil.rmtree(root, ignore_errors=True)
        raise


def remove_postgres(server: Postgres) -> None:
    """Stop it and delete its files."""
    server.stop()
    shutil.rmtree(server.root, ignore_errors=True)


def _launch(root: Path, port: int, timeout: float) -> subprocess.Popen[bytes]:
    log = root / "postgres.log"
    start = log.stat().st_size if log.exists() else 0
    command = [
        str(BIN / "postgres"),
        "-D",
        str(root / "data"),
        "-h",
        "127.0.0.1",
        "-p",
        str(port),
        "-k",
        str(root),  # its unix socket beside its data, not in /var/run/postgresql
        "-c",
        "fsync=off",
        "-c",
        "full_page_writes=off",
    ]
    with log.open("ab") as handle:
        process = subprocess.Popen(
            as_unprivileged(command), stdout=handle, stderr=subprocess.STDOUT
        )
    url = f"postgresql://{USER}:{PASSWORD}@127.0.0.1:{port}/postgres?connect_timeout=2"
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            text = log.read_bytes()[start:].decode(errors="replace")
            if exited_on_taken_port(text):
                raise PortTaken(f"port {port}: {text[-300:]}")
            raise RuntimeError(f"postgres exited: {text[-2000:]}")
        try:
            with psycopg.connect(url):
                return process
        except psycopg.OperationalError:
            time.sleep(0.1)
    stop_process(process)
    raise TimeoutError(f"postgres did not start: {log.read_text(errors='replace')[-2000:]}")
