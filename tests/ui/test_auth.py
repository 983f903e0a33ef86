"""Logins: password hashes, the Gradio check, the auth file, the open-bind warning."""

from __future__ import annotations

import io
import sys
from pathlib import Path

import pytest
from pydantic import SecretStr

from assistant.cli import main
from assistant.ui.auth import (
    AuthConfigError,
    hash_password,
    is_loopback,
    load_users,
    make_auth,
    open_bind_warning,
    verify_password,
)
from tests.conftest import make_settings


@pytest.fixture(scope="module")
def alice_hash() -> str:
    return hash_password("correct horse")


def test_hash_round_trip(alice_hash: str) -> None:
    assert alice_hash.startswith("scrypt$")
    assert "correct horse" not in alice_hash
    assert verify_password("correct horse", alice_hash)
    assert not verify_password("correct hors", alice_hash)
    assert not verify_password("", alice_hash)
    assert hash_password("correct horse") != alice_hash  # salted


@pytest.mark.parametrize(
    "encoded",
    [
        "plaintext-password",
        "scrypt$16384$8$1$c2FsdA==",
        "scrypt$16383$8$1$c2FsdA==$a2V5",  # n not a power of two
        "scrypt$1048576$8$1$c2FsdA==$a2V5",  # more memory than allowed
        "scrypt$16384$8$1$not base64!$a2V5",
        "bcrypt$16384$8$1$c2FsdA==$a2V5",
    ],
)
def test_malformed_hashes_are_refused(encoded: str) -> None:
    with pytest.raises(AuthConfigError):
        verify_password("x", encoded)


def test_auth_check(alice_hash: str) -> None:
    check = make_auth({"alice": alice_hash})
    assert check is not None
    assert check("alice", "correct horse")
    assert not check("alice", "wrong")
    assert not check("bob", "correct horse")
    assert make_auth({}) is None


def test_users_from_settings_and_file(tmp_path: Path, alice_hash: str) -> None:
    bob_hash = hash_password("hunter22")
    auth_file = tmp_path / "users.txt"
    auth_file.write_text(f"# staff logins\n\nbob:{bob_hash}\n")
    settings = make_settings(
        tmp_path / "index", auth_users={"alice": alice_hash}, auth_file=auth_file
    )
    assert isinstance(settings.auth_users["alice"], SecretStr)
    assert alice_hash not in repr(settings)  # hashes never print
    assert load_users(settings) == {"alice": alice_hash, "bob": bob_hash}

    auth_file.write_text("bob hunter22\n")
    with pytest.raises(AuthConfigError, match=r"users.txt:1"):
        load_users(settings)
    auth_file.write_text("bob:hunter22\n")
    with pytest.raises(AuthConfigError, match="login 'bob'"):
        load_users(settings)
    missing = make_settings(tmp_path / "index", auth_file=tmp_path / "nope.txt")
    with pytest.raises(AuthConfigError, match="cannot read auth file"):
        load_users(missing)


def test_users_from_environment(monkeypatch: pytest.MonkeyPatch, alice_hash: str) -> None:
    from assistant import Settings

    monkeypatch.setenv("ASSISTANT_AUTH_USERS", f'{{"alice": "{alice_hash}"}}')
    assert load_users(Settings()) == {"alice": alice_hash}


@pytest.mark.parametrize(
    ("host", "loopback"),
    [
        ("127.0.0.1", True),
        ("127.0.1.1", True),
        ("localhost", True),
        ("::1", True),
        ("[::1]", True),
        ("0.0.0.0", False),
        ("::", False),
        ("192.168.1.20", False),
        ("myhost.example", False),
    ],
)
def test_loopback_detection(host: str, loopback: bool) -> None:
    assert is_loopback(host) is loopback


def test_open_bind_warning_is_loud() -> None:
    warning = open_bind_warning("0.0.0.0")
    assert "WARNING" in warning
    assert "0.0.0.0" in warning
    assert "NO LOGIN" in warning
    assert warning.splitlines()[0] == "!" * len(warning.splitlines()[0])


def test_hash_password_command(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(sys, "stdin", io.StringIO("s3cret pass\n"))
    assert main(["hash-password", "--username", "carol"]) == 0
    out, err = capsys.readouterr()
    name, _, encoded = out.strip().partition(":")
    assert name == "carol"
    assert verify_password("s3cret pass", encoded)
    assert "s3cret" not in out + err

    monkeypatch.setattr(sys, "stdin", io.StringIO("\n"))
    assert main(["hash-password"]) == 2
    assert "empty" in capsys.readouterr().err
