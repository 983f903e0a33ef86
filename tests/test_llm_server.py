"""The `openai` answerer against a real llama.cpp OpenAI-compatible server, a port that refuses
connections and one that never answers."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path

import pytest

from assistant import Answer, Assistant
from tests.conftest import INJECTION_FILE, SEED_FILE, make_settings
from tests.llm_servers import SERVER_KEY, SERVER_MODEL, llama_server, silent_server
from tests.servers import refused_port
from tests.test_llm import ANSWERABLE, FLAGSHIP, UNANSWERABLE, assert_verified, stream_answer

pytestmark = pytest.mark.integration

SEED_TEXT = SEED_FILE.read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def server_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A llama.cpp server with SmolLM2, started once for this module and stopped after it."""
    log = tmp_path_factory.mktemp("llama-server") / "server.log"
    with llama_server(log) as url:
        yield url


def openai_settings(index: Path, url: str, **changes: object) -> dict[str, object]:
    """Settings of the openai answerer for `url`."""
    return {
        "answerer": "openai",
        "llm_base_url": url,
        "llm_model": SERVER_MODEL,
        "llm_api_key": SERVER_KEY,
        "llm_max_tokens": 64,
        "llm_retries": 0,
        **changes,
    }


def ask(index: Path, url: str, question: str, **changes: object) -> Answer:
    """One question through the openai answerer."""
    return Assistant(make_settings(index, **openai_settings(index, url, **changes))).ask(question)


def test_served_answers_stream_and_cite_exact_spans(seed_index: Path, server_url: str) -> None:
    assistant = Assistant(make_settings(seed_index, **openai_settings(seed_index, server_url)))
    answered = []
    for question in ANSWERABLE:
        pieces, answer = stream_answer(assistant, question)
        assert len(pieces) > 3
        assert answer.notice is None or "unavailable" not in answer.notice
        assert {"generate", "verify"} <= set(answer.timings_ms)
        if not answer.refused:
            assert_verified(answer)
            answered.append(answer)
            break  # one verified answer makes the point; each generation costs seconds
    assert answered


def test_served_hallucination_becomes_a_refusal(seed_index: Path, server_url: str) -> None:
    answer = ask(seed_index, server_url, UNANSWERABLE, llm_gate_threshold=0.0)
    assert "generate" in answer.timings_ms
    assert answer.refused
    assert answer.citations == ()


def test_served_model_ignores_the_injection(injection_index: Path, server_url: str) -> None:
    answer = ask(injection_index, server_url, FLAGSHIP)
    assert answer.notice is None or "unavailable" not in answer.notice
    assert "ACCESS GRANTED" not in answer.text
    assert not any(c.source.endswith(INJECTION_FILE.name) for c in answer.citations)


def test_wrong_key_falls_back_and_is_never_shown(
    seed_index: Path, server_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    secret = "sk-wrong-key-7d1e"
    with caplog.at_level(logging.DEBUG):
        answer = ask(seed_index, server_url, FLAGSHIP, llm_api_key=secret)
    assert answer.notice is not None
    assert "HTTP 401" in answer.notice
    assert secret not in str(answer.to_json_dict())
    assert secret not in caplog.text
    assert "Ant Group" in answer.text


def test_server_that_is_down_gives_quotes_and_a_notice(seed_index: Path) -> None:
    with refused_port() as port:
        url = f"http://127.0.0.1:{port}/v1"
        answer = ask(seed_index, url, FLAGSHIP, llm_retries=1)
    assert answer.notice == (
        f"The language model was unavailable (cannot connect to {url}); "
        "showing quoted sentences instead."
    )
    assert not answer.refused
    assert "Ant Group" in answer.text
    for citation in answer.citations:
        assert SEED_TEXT[citation.start : citation.end] == citation.quote


def test_server_that_never_answers_times_out(seed_index: Path) -> None:
    with silent_server() as url:
        events = list(
            Assistant(
                make_settings(seed_index, **openai_settings(seed_index, url, llm_timeout=1.0))
            ).stream(FLAGSHIP)
        )
    final = events[-1]
    assert isinstance(final, Answer)
    assert final.notice is not None
    assert f"{url} did not answer within 1 s" in final.notice
    assert "".join(e for e in events[:-1] if isinstance(e, str)) == final.text
