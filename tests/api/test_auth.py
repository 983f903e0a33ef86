"""API keys: the check against scrypt hashes, its memory, and `assistant hash-api-key`."""

from __future__ import annotations

import io
import sys
from pathlib import Path

import pytest

from assistant import Settings, security
from assistant.api import auth
from assistant.api.auth import ApiKeys
from assistant.cli import main
from assistant.security import AuthConfigError, hash_password, verify_password
from tests.conftest import make_settings

KEY = "qa-unit-key-3b9f1c7e2a6d4058"
OTHER = "qa-other-key-9e2d4c6b8a0f1357"


@pytest.fixture(scope="module")
def keys() -> dict[str, str]:
    return {"bot": hash_password(KEY), "widget": hash_password(OTHER)}


@pytest.fixture
def hashings(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every scrypt check the API key check makes, by the key's hash."""
    calls: list[str] = []

    def counted(token: str, encoded: str) -> bool:
        calls.append(encoded)
        return verify_password(token, encoded)

    monkeypatch.setattr(auth, "verify_password", counted)
    return calls


def test_a_key_is_known_by_its_name(keys: dict[str, str], hashings: list[str]) -> None:
    api_keys = ApiKeys(keys)
    assert api_keys.required
    assert api_keys.check(KEY) == "bot"
    assert api_keys.check(OTHER) == "widget"
    assert api_keys.check(KEY[:-1]) is None
    assert api_keys.check("") is None
    assert not ApiKeys({}).required


def test_each_key_costs_one_round_of_scrypt_per_run(
    keys: dict[str, str], hashings: list[str]
) -> None:
    api_keys = ApiKeys(keys)
    for _ in range(3):
        assert api_keys.check(KEY) == "bot"
        assert api_keys.check("qa-wrong") is None
    assert len(hashings) == 2 * len(keys)  # the first good and the first wrong check only


def test_wrong_keys_are_remembered_within_a_bound(
    keys: dict[str, str], hashings: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(auth, "_REMEMBERED_WRONG_KEYS", 2)
    api_keys = ApiKeys(keys)
    for wrong in ("w1", "w2", "w3", "w1"):  # w1 was forgotten when w3 came
        assert api_keys.check(wrong) is None
    assert len(hashings) == 4 * len(keys)


def test_malformed_hashes_and_names_stop_the_server(keys: dict[str, str]) -> None:
    with pytest.raises(AuthConfigError, match="API key 'bot'"):
        ApiKeys({"bot": "not-a-hash"})
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
    assert verify_password(key, encoded)
    assert main(["hash-api-key"]) == 0
    assert key not in capsys.readouterr().out  # a new one each time


def test_hash_api_key_hashes_a_given_key(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(sys, "stdin", io.StringIO(KEY + "\n"))
    assert main(["hash-api-key", "--stdin"]) == 0
    out, err = capsys.readouterr()
    assert verify_password(KEY, out.strip())
    assert KEY not in out + err
    monkeypatch.setattr(sys, "stdin", io.StringIO("short\n"))
    assert main(["hash-api-key", "--stdin"]) == 2
    assert "at least 20 characters" in capsys.readouterr().err
