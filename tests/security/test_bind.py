"""Who can connect: the real `assistant serve` binds loopback by default, refuses an open
network address without logins and keys, and starts there only with the explicit override."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from assistant.accounts import Accounts
from assistant.api.server import UnsafeBindError, check_bind
from assistant.security import hash_api_key, hash_password
from tests.conftest import copy_index, make_settings
from tests.servers import Server, server_env, start_server, stop_server

pytestmark = pytest.mark.integration

LOGINS = json.dumps({"alice": hash_password("bind test passphrase")})
KEYS = json.dumps({"bot": hash_api_key("qa-bind-test-key-000000000000")})


def listening_addresses(port: int) -> set[str]:
    """The local IPv4/IPv6 addresses with a TCP socket listening on `port` (from /proc)."""
    found = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in Path(table).read_text().splitlines()[1:]:
            fields = line.split()
            address, port_hex = fields[1].rsplit(":", 1)
            if int(port_hex, 16) == port and fields[3] == "0A":  # 0A: LISTEN
                found.add(_address(address))
    return found


def _address(hex_address: str) -> str:
    raw = bytes.fromhex(hex_address)
    if len(raw) == 4:
        return ".".join(str(b) for b in reversed(raw))
    words = [raw[i : i + 4][::-1] for i in range(0, 16, 4)]  # each 32-bit word is host order
    import ipaddress

    return str(ipaddress.IPv6Address(b"".join(words)))


@pytest.fixture(scope="module")
def default_server(seed_index: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    server = start_server(tmp_path_factory.mktemp("default-bind"), seed_index)
    yield server
    stop_server(server)


def test_serve_listens_on_loopback_only_by_default(default_server: Server) -> None:
    port = int(default_server.url.rstrip("/").rsplit(":", 1)[1])
    assert listening_addresses(port) == {"127.0.0.1"}
    assert "WARNING" not in default_server.log.read_text()


@pytest.mark.parametrize(
    ("host", "changes", "parts", "logins", "refused"),
    [
        ("127.0.0.1", {}, ("api", "ui"), False, None),
        ("localhost", {}, ("api", "ui"), False, None),
        ("::1", {}, ("api", "ui"), False, None),
        ("0.0.0.0", {}, ("api", "ui"), False, "the web chat and the API"),
        ("192.168.1.20", {}, ("api",), False, "the API"),
        ("0.0.0.0", {}, ("ui",), False, "the web chat"),
        ("0.0.0.0", {}, ("ui",), True, None),
        ("0.0.0.0", {}, ("api", "ui"), True, "the API"),
        ("0.0.0.0", {"api_keys": {"bot": "sha256$..."}}, ("api", "ui"), False, "the web chat"),
        ("0.0.0.0", {"api_keys": {"bot": "sha256$..."}}, ("api", "ui"), True, None),
        ("0.0.0.0", {"api_keys": {"bot": "sha256$..."}}, ("api",), False, None),
    ],
)
def test_nothing_is_open_to_the_network_by_accident(
    tmp_path: Path,
    host: str,
    changes: dict[str, object],
    parts: tuple[str, ...],
    logins: bool,
    refused: str | None,
) -> None:
    settings = make_settings(tmp_path, host=host, **changes)
    where = {"api": "api" in parts, "ui": "ui" in parts, "has_logins": logins}
    if refused is None:
        assert check_bind(settings, **where) is None
        return
    with pytest.raises(UnsafeBindError, match=f"^refusing to serve {refused} on {host} "):
        check_bind(settings, **where)
    allowed = settings.with_overrides(allow_unauthenticated_remote=True)
    warning = check_bind(allowed, **where)
    assert warning is not None
    assert f"NO LOGIN for {refused}" in warning


@pytest.mark.parametrize(
    ("parts", "logins", "refused"),
    [
        (("api", "ui"), True, None),
        (("api",), False, None),
        (("ui",), False, "the web chat"),  # users guard the chat only when it asks for them
    ],
)
def test_accounts_guard_the_api(
    tmp_path: Path, parts: tuple[str, ...], logins: bool, refused: str | None
) -> None:
    """Users in the catalog (or a trusted proxy) close the API: every request then needs a
    user's key or password, as with service keys."""
    settings = make_settings(tmp_path, host="0.0.0.0")
    where = {"api": "api" in parts, "ui": "ui" in parts, "has_logins": logins}
    if refused is None:
        assert check_bind(settings, **where, has_accounts=True) is None
    else:
        with pytest.raises(UnsafeBindError, match=f"^refusing to serve {refused} on "):
            check_bind(settings, **where, has_accounts=True)


def serve_at(tmp_path: Path, *args: str, **settings: str) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "assistant.cli", "serve", "--port", "0"]
    return subprocess.run(
        [*command, "--index", str(tmp_path / "index"), *args],
        capture_output=True,
        text=True,
        env=server_env(tmp_path, tmp_path / "data", **settings),
        timeout=120,
    )


@pytest.mark.parametrize(
    ("args", "settings", "refused"),
    [
        (("--host", "0.0.0.0"), {}, "the web chat and the API on 0.0.0.0 without logins and"),
        (("--host", "0.0.0.0", "--ui-only"), {}, "the web chat on 0.0.0.0 without logins"),
        (("--host", "0.0.0.0", "--api-only"), {}, "the API on 0.0.0.0 without API keys"),
        (("--host", "0.0.0.0"), {"auth_users": LOGINS}, "the API on 0.0.0.0 without API keys"),
        (("--host", "::"), {"api_keys": KEYS}, "the web chat on :: without logins"),
        (("--api-only",), {"host": "0.0.0.0"}, "the API on 0.0.0.0 without API keys"),
    ],
)
def test_an_open_address_without_guards_is_refused(
    tmp_path: Path, args: tuple[str, ...], settings: dict[str, str], refused: str
) -> None:
    result = serve_at(tmp_path, *args, **settings)
    assert result.returncode == 2, result.stderr
    assert f"assistant: error: refusing to serve {refused}" in result.stderr
    for remedy in ("--allow-unauthenticated-remote", "127.0.0.1", "docs/security.md"):
        assert remedy in result.stderr
    assert ("hash-password" in result.stderr) == ("web chat" in refused)
    assert ("hash-api-key" in result.stderr) == ("API" in refused)
    assert "Traceback" not in result.stderr
    assert not (tmp_path / "index").exists()  # refused before anything was loaded


def test_the_override_starts_with_a_loud_warning(
    seed_index: Path, tmp_path_factory: pytest.TempPathFactory
) -> None:
    root = tmp_path_factory.mktemp("open-bind")
    server = start_server(
        root,
        seed_index,
        "--host",
        "0.0.0.0",
        "--allow-unauthenticated-remote",
        "--ui-only",
        ready="config",
    )
    try:
        port = int(server.url.rstrip("/").rsplit(":", 1)[1])
        assert listening_addresses(port) == {"0.0.0.0"}
        assert httpx.get(server.url, timeout=60).status_code == 200
    finally:
        stop_server(server)
    log = server.log.read_text()
    assert "WARNING: serving on 0.0.0.0" in log
    assert "NO LOGIN for the web chat" in log
    assert log.index("WARNING") < log.index("assistant: serving")


def test_users_in_the_catalog_are_the_chats_and_the_apis_logins(
    seed_index: Path, tmp_path_factory: pytest.TempPathFactory
) -> None:
    """With a catalog user, no settings logins and no API keys, the chat and the API start on
    an open address, each behind its login, without a warning."""
    built = tmp_path_factory.mktemp("users-bind") / "index"
    copy_index(seed_index, built)
    Accounts(built / "catalog.sqlite3").add_user("alice", "alice-password")
    server = start_server(
        tmp_path_factory.mktemp("users-bind-serve"),
        built,
        "--host",
        "0.0.0.0",
        ready="config",
    )
    try:
        assert httpx.get(server.url + "config", timeout=60).status_code == 401
        documents = server.url + "v1/documents"
        assert httpx.get(documents, timeout=60).status_code == 401
        signed_in = httpx.get(documents, auth=("alice", "alice-password"), timeout=60)
        assert signed_in.status_code == 200
    finally:
        stop_server(server)
    assert "WARNING" not in server.log.read_text()


def test_a_port_in_use_fails_at_once_with_a_clear_message(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = serve_at(tmp_path, "--port", str(port))
    assert result.returncode == 1, result.stderr
    assert f"assistant: error: cannot listen on 127.0.0.1:{port}" in result.stderr
    assert "--port (0 picks a free one)" in result.stderr
    assert "Traceback" not in result.stderr
    assert not (tmp_path / "index").exists()  # failed before anything was loaded
