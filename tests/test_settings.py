"""The one settings object: defaults, environment, TOML file, overrides, validation."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from pydantic import ValidationError
from pydantic_settings import SettingsError

from assistant import Settings


def test_defaults() -> None:
    settings = Settings()
    assert settings.index_dir == Path("index")
    assert settings.sources == [Path("seeds")]
    assert settings.host == "127.0.0.1"
    assert settings.port == 7860
    assert settings.answerer == "extractive"


def test_environment_overrides_toml(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    config = tmp_path / "assistant.toml"
    config.write_text('top_k = 7\nindex_dir = "from-toml"\nsources = ["a", "b"]\n')
    monkeypatch.setenv("ASSISTANT_CONFIG", str(config))
    monkeypatch.setenv("ASSISTANT_TOP_K", "9")
    settings = Settings()
    assert settings.top_k == 9
    assert settings.index_dir == Path("from-toml")
    assert settings.sources == [Path("a"), Path("b")]


def test_comma_separated_sources_from_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ASSISTANT_SOURCES", "docs, more-docs")
    assert Settings().sources == [Path("docs"), Path("more-docs")]


def ask_with_settings_file(config: Path) -> subprocess.CompletedProcess[str]:
    """`assistant ask` in a child process whose ASSISTANT_CONFIG names `config`."""
    return subprocess.run(
        [sys.executable, "-m", "assistant.cli", "ask", "hi?"],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "ASSISTANT_CONFIG": str(config)},
    )


def test_invalid_values_are_rejected(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ASSISTANT_CHUNK_OVERLAP", "500")
    with pytest.raises(ValidationError):
        Settings()


def test_unknown_keys_are_rejected(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    config = tmp_path / "assistant.toml"
    config.write_text("top_kk = 3\n")
    monkeypatch.setenv("ASSISTANT_CONFIG", str(config))
    with pytest.raises(ValidationError):
        Settings()


@pytest.mark.parametrize(
    ("content", "message"),
    [(b"top_k = = 3\n", "Invalid value"), (b'ui_title = "\xff\xfe"\n', "can't decode byte 0xff")],
)
def test_a_settings_file_that_is_not_readable_toml_is_one_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, content: bytes, message: str
) -> None:
    config = tmp_path / "assistant.toml"
    config.write_bytes(content)
    monkeypatch.setenv("ASSISTANT_CONFIG", str(config))
    with pytest.raises(SettingsError, match=f"cannot read the settings file {config}: "):
        Settings()
    result = ask_with_settings_file(config)
    assert result.returncode == 2
    assert result.stderr.startswith("assistant: error: invalid settings: cannot read the settings")
    assert message in result.stderr
    assert result.stderr.strip().count("\n") == 0


def test_with_overrides_validates_and_ignores_none() -> None:
    settings = Settings().with_overrides(top_k=3, index_dir=None)
    assert settings.top_k == 3
    assert settings.index_dir == Path("index")
    with pytest.raises(ValidationError):
        Settings().with_overrides(top_k=0)


def test_secret_token_never_prints(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ASSISTANT_CHROMA_TOKEN", "s3cr3t-token")
    settings = Settings()
    assert "s3cr3t-token" not in repr(settings)
    assert "s3cr3t-token" not in str(settings)


def test_llm_api_key_is_secret(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ASSISTANT_LLM_API_KEY", "sk-very-secret")
    settings = Settings().with_overrides(top_k=3)
    assert settings.llm_api_key is not None
    assert settings.llm_api_key.get_secret_value() == "sk-very-secret"
    assert "sk-very-secret" not in repr(settings)
    assert "sk-very-secret" not in settings.model_dump_json()


def test_unknown_answerer_is_named(tmp_path: Path) -> None:
    from assistant.answerers import create_answerer
    from assistant.errors import UnknownAnswererError

    with pytest.raises(
        UnknownAnswererError, match=r"'gpt' \(known: extractive, llamacpp, openai\)"
    ):
        create_answerer("gpt", Settings(index_dir=tmp_path))
    with pytest.raises(UnknownAnswererError, match="unknown answerer 'fake'"):
        create_answerer("fake", Settings(index_dir=tmp_path))  # a test double, not a product one


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("port", -5),
        ("port", 65536),
        ("chroma_port", 0),
        ("chroma_port", -5),
        ("chroma_port", 65536),
    ],
)
def test_ports_outside_the_tcp_range_are_refused(field: str, value: int) -> None:
    with pytest.raises(ValidationError, match=field):
        Settings.model_validate({field: value})


def test_port_zero_serves_on_any_free_port() -> None:
    assert Settings.model_validate({"port": 0}).port == 0  # `serve` prints the port it bound


def test_a_settings_file_named_but_missing_is_refused_and_an_empty_name_means_none(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A mistyped ASSISTANT_CONFIG ran with none of the file's settings (its login, its bind
    # address), silently; ./assistant.toml stays optional.
    config = tmp_path / "prdo.toml"
    monkeypatch.setenv("ASSISTANT_CONFIG", str(config))
    with pytest.raises(SettingsError, match=f"the settings file {config} .* does not exist"):
        Settings()
    result = ask_with_settings_file(config)
    assert result.returncode == 2
    assert result.stderr.strip().count("\n") == 0
    assert f"the settings file {config} (ASSISTANT_CONFIG) does not exist" in result.stderr
    monkeypatch.setenv("ASSISTANT_CONFIG", str(tmp_path))  # a folder: said so, not "missing"
    with pytest.raises(SettingsError, match=r"\(ASSISTANT_CONFIG\) is a folder, not a file"):
        Settings()
    (tmp_path / "assistant.toml").write_text("top_k = 9\n")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("ASSISTANT_CONFIG", "")
    assert Settings().top_k == 5  # set empty: no settings file, not even ./assistant.toml
    monkeypatch.delenv("ASSISTANT_CONFIG")
    assert Settings().top_k == 9  # unset: ./assistant.toml


def test_the_settings_file_in_use_is_kept_from_gradio(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    from assistant.ui.guard import blocked_paths

    config = tmp_path / "elsewhere" / "prod.toml"
    config.parent.mkdir()
    config.write_text("top_k = 5\n")
    monkeypatch.setenv("ASSISTANT_CONFIG", str(config))
    assert str(config.resolve()) in blocked_paths(Settings(index_dir=tmp_path / "index"))


def test_conversation_retention_from_env_and_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert Settings().conversation_retention_days == 0  # keep forever
    config = tmp_path / "assistant.toml"
    config.write_text("conversation_retention_days = 90\n")
    monkeypatch.setenv("ASSISTANT_CONFIG", str(config))
    assert Settings().conversation_retention_days == 90
    monkeypatch.setenv("ASSISTANT_CONVERSATION_RETENTION_DAYS", "30")
    assert Settings().conversation_retention_days == 30
    assert Settings().conversations_path == Path("index") / "conversations.sqlite3"
    monkeypatch.setenv("ASSISTANT_CONVERSATION_RETENTION_DAYS", "-1")
    with pytest.raises(ValidationError):
        Settings()
