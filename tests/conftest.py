"""Shared fixtures: hermetic settings, a seed index built once per session."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from assistant import Assistant, Settings

REPO = Path(__file__).resolve().parents[1]
SEEDS = REPO / "seeds"
SEED_FILE = SEEDS / "000_4f69a52559980107.txt"
GOLDEN = REPO / "tests" / "golden"
INJECTION_FILE = REPO / "tests" / "corpus" / "injection.txt"

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")


@pytest.fixture(autouse=True)
def hermetic_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No ASSISTANT_* variable or assistant.toml of the developer leaks into a test."""
    for key in list(os.environ):
        if key.startswith("ASSISTANT_"):
            monkeypatch.delenv(key)
    monkeypatch.setenv("ASSISTANT_CONFIG", str(tmp_path / "no-such-assistant.toml"))
    monkeypatch.setenv("ASSISTANT_DATA_DIR", str(tmp_path / "data"))


def make_settings(index_dir: Path, **changes: object) -> Settings:
    """Settings for a test index, ignoring the environment."""
    return Settings.model_validate({"index_dir": index_dir, **changes})


@pytest.fixture(scope="session")
def seed_index(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An index of seeds/, built once per test session (read-only for tests)."""
    index_dir = tmp_path_factory.mktemp("seed-index")
    report = Assistant(make_settings(index_dir)).ingest([SEEDS])
    assert report.added == 1
    assert not report.failed
    return index_dir


@pytest.fixture(scope="session")
def seed_assistant(seed_index: Path) -> Assistant:
    """An Assistant over the seed index."""
    return Assistant(make_settings(seed_index))


@pytest.fixture(scope="session")
def injection_index(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An index of seeds/ plus a document that tries a prompt injection (read-only for tests)."""
    index_dir = tmp_path_factory.mktemp("injection-index")
    report = Assistant(make_settings(index_dir)).ingest([SEEDS, INJECTION_FILE])
    assert report.added == 2
    return index_dir


@pytest.fixture
def corpus(tmp_path: Path) -> Path:
    """A writable copy of seeds/ for tests that change files."""
    target = tmp_path / "corpus"
    shutil.copytree(SEEDS, target)
    return target


@pytest.fixture
def fresh_index(tmp_path: Path) -> Iterator[Path]:
    """An empty index directory."""
    index_dir = tmp_path / "index"
    return index_dir
