"""Model names: the answerers, the `default` alias, and per-request generation options (LLM
answerers here are the `fake` test double, registered by the `fake_answerer` fixture)."""

from __future__ import annotations

from pathlib import Path

import pytest

from assistant import Assistant
from assistant.answerers import REGISTRY
from assistant.answerers.generative import GenerativeAnswerer
from assistant.api import models as models_module
from assistant.api.errors import ApiError
from assistant.api.models import ModelConfigError, Models
from tests.conftest import make_settings


@pytest.fixture
def assistant(tmp_path: Path) -> Assistant:
    return Assistant(make_settings(tmp_path / "index"))


def test_names_are_the_registry_and_default(assistant: Assistant) -> None:
    models = Models(assistant)
    names = models.names()
    assert names["default"] == "extractive"
    assert set(names) == {"default", *REGISTRY}
    assert set(names) == {"default", "extractive", "llamacpp", "openai"}
    assert models.resolve(None) == models.resolve("default") == "extractive"
    with pytest.raises(ApiError) as unknown:
        models.resolve("gpt-4o")
    assert (unknown.value.status, unknown.value.code) == (404, "model_not_found")


def test_the_test_double_is_no_model(tmp_path: Path, assistant: Assistant) -> None:
    with pytest.raises(ApiError) as unknown:
        Models(assistant).resolve("fake")
    assert (unknown.value.status, unknown.value.code) == (404, "model_not_found")
    assert "known: default, extractive, llamacpp, openai" in unknown.value.message
    for setting in ("answerer", "api_default_model"):
        with pytest.raises(ModelConfigError, match=f"{setting}: unknown answerer 'fake'"):
            Models(Assistant(make_settings(tmp_path, **{setting: "fake"})))


def test_the_configured_answerer_is_the_one_the_chat_uses(assistant: Assistant) -> None:
    models = Models(assistant)
    assert models.answerer("default") is assistant.answerer
    assert models.answerer("extractive", 50, 1.0) is assistant.answerer  # it generates nothing


@pytest.mark.usefixtures("fake_answerer")
def test_llm_answerers_get_the_request_options(assistant: Assistant) -> None:
    models = Models(assistant)
    plain = models.answerer("fake")
    assert models.answerer("fake") is plain
    tuned = models.answerer("fake", 100, 0.5)
    assert isinstance(tuned, GenerativeAnswerer)
    assert tuned is not plain
    assert (tuned.settings.llm_max_tokens, tuned.settings.llm_temperature) == (100, 0.5)
    assert models.answerer("fake", 100, 0.5) is tuned
    small = models.answerer("fake", 1)
    big = models.answerer("fake", 10**6)
    assert isinstance(small, GenerativeAnswerer)
    assert isinstance(big, GenerativeAnswerer)
    assert (small.settings.llm_max_tokens, big.settings.llm_max_tokens) == (8, 4096)


@pytest.mark.usefixtures("fake_answerer")
def test_variants_are_kept_within_a_bound(
    assistant: Assistant, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(models_module, "_CACHED_VARIANTS", 2)
    models = Models(assistant)
    first = models.answerer("fake", 20)
    models.answerer("fake", 30)
    models.answerer("fake", 40)
    assert models.answerer("fake", 20) is not first  # evicted, built again


@pytest.mark.usefixtures("fake_answerer")
def test_default_model_setting(tmp_path: Path) -> None:
    models = Models(Assistant(make_settings(tmp_path, api_default_model="fake")))
    assert models.resolve("default") == "fake"
    assert models.names()["default"] == "fake"
    with pytest.raises(ModelConfigError, match="api_default_model: unknown answerer 'gpt'"):
        Models(Assistant(make_settings(tmp_path, api_default_model="gpt")))
