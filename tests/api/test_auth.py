"""API keys: SHA-256 hashes checked in constant time, older scrypt hashes still accepted, and
`assistant hash-api-key`."""

from __future__ import annotations

import io
import logging
import sys
from pathlib import Path

import pytest

from assistant import Settings, security
from assistant.api.auth import ApiKeys
from assistant.cli import main
from assistant.security import AuthConfigError, hash_api_key, hash_password
from tests.conftest import make_settings

KEY = "qa-unit-key-3b9f1c7e2a6d4058"
OTHER = "qa-other-key-9e2d4c6b8a0f1357"


@pytest.fixture(scope="module")
def keys() -> dict[str, str]:
    return {"bot": hash_api_key(KEY), "widget": hash_api_key(OTHER)}


@pytest.fixture(scope="module")
def scrypt_hash() -> str:
    """KEY hashed as `hash-api-key` did before SHA-256."""
    return hash_password(KEY)


def test_a_key_is_known_by_its_name(keys: dict[str, str]) -> None:
    api_keys = ApiKeys(keys)
    assert api_keys.required
    assert api_keys.check(KEY) == "bot"
    assert api_keys.check(OTHER) == "widget"
    assert api_keys.check(KEY[:-1]) is None
    assert api_keys.check(KEY + " ") is None
    assert api_keys.check("") is None
    assert api_keys.scrypt_hashed == []
    assert not ApiKeys({}).required


def test_the_stored_form_is_a_self_describing_sha256_digest() -> None:
    encoded = hash_api_key(KEY)
    scheme, digest = encoded.split("$")
    assert scheme == "sha256"
    assert len(digest) == 64
    assert int(digest, 16) >= 0  # hex
    assert KEY not in encoded
    assert hash_api_key(KEY) == encoded  # a random key needs no salt: the same key, the same hash
    assert hash_api_key(OTHER) != encoded
    assert ApiKeys({"bot": f"sha256${digest.upper()}"}).check(KEY) == "bot"
    with pytest.raises(ValueError, match="empty"):
        hash_api_key("")


def test_scrypt_hashed_keys_still_work_and_move_to_sha256_when_first_used(
    scrypt_hash: str, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING, logger="assistant.api.auth"):
        api_keys = ApiKeys({"old": scrypt_hash, "new": hash_api_key(OTHER)})
    (record,) = caplog.records
    notice = record.getMessage()
    assert "deprecated scrypt hash: old;" in notice
    assert "assistant hash-api-key --stdin" in notice
    assert "\n" not in notice
    for secret in (KEY, scrypt_hash, *scrypt_hash.split("$")[4:]):
        assert secret not in notice
    assert api_keys.scrypt_hashed == ["old"]
    assert api_keys.check(OTHER) == "new"
    assert api_keys.check("qa-wrong-key-0000000000000") is None
    assert api_keys.scrypt_hashed == ["old"]  # only the key itself moves it
    assert api_keys.check(KEY) == "old"
    assert api_keys.scrypt_hashed == []  # checked by its SHA-256 digest from now on
    assert api_keys.check(KEY) == "old"
    assert api_keys.check(KEY[:-1]) is None


def test_keys_hashed_with_sha256_log_nothing(
    keys: dict[str, str], caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.DEBUG, logger="assistant.api.auth"):
        ApiKeys(keys).check(KEY)
    assert caplog.records == []


@pytest.mark.parametrize(
    "encoded",
    [
        "not-a-hash",
        "sha256$abc",  # too short
        "sha256$" + "g" * 64,  # not hex
        "sha256$" + "a" * 65,
        "md5$" + "a" * 32,
        "scrypt$16384$8$1$c2FsdA==",  # a scrypt hash missing its key
    ],
)
def test_malformed_hashes_stop_the_server(encoded: str) -> None:
    with pytest.raises(AuthConfigError, match="API key 'bot'"):
        ApiKeys({"bot": encoded})


def test_an_empty_name_stops_the_server(keys: dict[str, str]) -> None:
    with pytest.raises(AuthConfigError, match="empty name"):
        ApiKeys({" ": keys["bot"]})


def test_keys_come_from_settings_and_never_print(
    tmp_path: Path, keys: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = make_settings(tmp_path, api_keys=keys)
    assert keys["bot"] not in repr(settings)
    assert ApiKeys.from_settings(settings).check(KEY) == "bot"
    monkeypatch.setenv("ASSISTANT_API_KEYS", f'{{"env-bot": "{keys["bot"]}"}}')
    assert ApiKeys.from_settings(Settings()).check(KEY) == "env-bot"


def test_hash_api_key_makes_a_new_key(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["hash-api-key"]) == 0
    out = capsys.readouterr().out
    lines = dict(line.split(maxsplit=1) for line in out.strip().splitlines())
    key, encoded = lines["key:"], lines["hash:"]
    assert key.startswith(security.API_KEY_PREFIX)
    assert len(key) >= 40
    assert encoded.startswith("sha256$")
    assert ApiKeys({"client": encoded}).check(key) == "client"
    assert main(["hash-api-key"]) == 0
    assert key not in capsys.readouterr().out  # a new one each time


def test_hash_api_key_rehashes_a_given_key(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(sys, "stdin", io.StringIO(KEY + "\n"))
    assert main(["hash-api-key", "--stdin"]) == 0
    out, err = capsys.readouterr()
    assert out == hash_api_key(KEY) + "\n"  # the migration of a scrypt-hashed key
    assert KEY not in out + err
    monkeypatch.setattr(sys, "stdin", io.StringIO("short\n"))
    assert main(["hash-api-key", "--stdin"]) == 2
    assert "at least 20 characters" in capsys.readouterr().err
