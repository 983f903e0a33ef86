"""Logins: password hashes, the Gradio check, the auth file, the open-bind warning."""

from __future__ import annotations

import io
import sys
from pathlib import Path

import pytest
from pydantic import SecretStr

from assistant.accounts import Accounts
from assistant.cli import main
from assistant.ui.auth import (
    NOBODY,
    AuthConfigError,
    WebLogins,
    hash_password,
    is_loopback,
    load_users,
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


def test_auth_check(alice_hash: str, tmp_path: Path) -> None:
    logins = WebLogins(Accounts(tmp_path / "catalog.sqlite3"), {"alice": alice_hash})
    assert logins.required
    assert logins.check("alice", "correct horse")
    assert not logins.check("alice", "wrong")
    assert not logins.check("bob", "correct horse")
    assert not WebLogins(Accounts(tmp_path / "other.sqlite3")).required


@pytest.fixture
def team_logins(tmp_path: Path, alice_hash: str) -> WebLogins:
    """Catalog users alice (member of `people`) and dave (admin); the settings' logins `ops`,
    and an `alice` whose settings password ("correct horse") the catalog's alice overrides."""
    accounts = Accounts(tmp_path / "catalog.sqlite3")
    accounts.add_user("alice", "alice-password", ["people"])
    accounts.add_user("dave", "dave-password", admin=True)
    accounts.grant("hr", group="people")
    return WebLogins(accounts, {"ops": hash_password("ops-password"), "alice": alice_hash})


def test_catalog_users_sign_in_with_their_own_password(team_logins: WebLogins) -> None:
    assert team_logins.check("alice", "alice-password")
    assert not team_logins.check("alice", "correct horse")  # the catalog's alice decides
    assert team_logins.check("dave", "dave-password")
    assert team_logins.check("ops", "ops-password")
    assert not team_logins.check("ops", "dave-password")
    assert not team_logins.check("nobody", "alice-password")
    assert not team_logins.check("", "")


def test_every_login_attempt_costs_one_hash(
    team_logins: WebLogins, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Known and unknown names, catalog users and settings logins: one scrypt each, so the
    time of a wrong try does not tell which names exist."""
    import hashlib

    calls: list[str] = []
    scrypt = hashlib.scrypt

    def counted(*args: object, **kwargs: object) -> bytes:
        calls.append("scrypt")
        return scrypt(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(hashlib, "scrypt", counted)
    for name, password in [
        ("alice", "wrong"),
        ("alice", "alice-password"),
        ("ops", "wrong"),
        ("nobody", "wrong"),
        ("dave", "dave-password"),
    ]:
        calls.clear()
        team_logins.check(name, password)
        assert calls == ["scrypt"], name


def test_who_a_signed_in_name_reads_as(team_logins: WebLogins) -> None:
    accounts = team_logins.accounts
    alice = team_logins.reader("alice")
    assert alice == accounts.user("alice")
    assert alice is not None
    assert accounts.readable(alice) == frozenset({"hr"})
    dave = team_logins.reader("dave")
    assert dave == accounts.user("dave")
    assert dave is not None
    assert dave.admin
    assert team_logins.reader("ops") is None  # a settings login reads everything
    # A user removed while signed in, and anyone on a chat mounted before users existed.
    assert team_logins.reader("gone") is NOBODY
    assert team_logins.reader(None) is NOBODY
    assert accounts.readable(NOBODY) == frozenset()
    assert [team_logins.may_change_index(n) for n in ("alice", "dave", "ops", "gone", None)] == [
        False,
        True,
        True,
        False,
        False,
    ]
    # A catalog user added while the server runs is that user from their next request.
    accounts.add_user("ops", "ops-new-password")
    assert not team_logins.check("ops", "ops-password")
    assert team_logins.reader("ops") == accounts.user("ops")
    assert not team_logins.may_change_index("ops")


def test_without_users_or_logins_everyone_reads_everything(tmp_path: Path) -> None:
    open_chat = WebLogins(Accounts(tmp_path / "catalog.sqlite3"))
    assert not open_chat.required
    assert open_chat.reader(None) is None
    assert open_chat.may_change_index(None)


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

    # A line auth_file could not read back ("a:b:scrypt$..." is the login "a"), or a password
    # `users add` would refuse: refused here too, nothing printed.
    for args, stdin, message in [
        (["--username", "a:b"], "s3cret pass\n", "bad user name 'a:b'"),
        (["--username", ""], "s3cret pass\n", "bad user name ''"),
        ([], "short\n", "the password needs at least 8 characters"),
        # Bytes that are not UTF-8 arrive as lone surrogates (surrogateescape).
        ([], "\udcff\udcfe long password\n", "standard input is not UTF-8 text"),
    ]:
        monkeypatch.setattr(sys, "stdin", io.StringIO(stdin))
        assert main(["hash-password", *args]) == 2
        out, err = capsys.readouterr()
        assert message in err
        assert out == ""
