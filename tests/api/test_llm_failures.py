"""An LLM endpoint that is down, stalls or returns garbage: quoted sentences with a visible notice
through the Python API, the web chat's function and the HTTP API; and LLM answers again, with no
restart, once the endpoint is healthy."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from assistant import Answer, Assistant
from assistant.ui.app import answer_stream
from benchmarks.bench_load import Reply, check_reply
from tests.conftest import make_settings
from tests.flaky_llm import FAILURES, FlakyLLM, Mode, flaky_llm
from tests.servers import Server, refusing_socket, start_server, stop_server

pytestmark = pytest.mark.integration

QUESTION = "Which tech giants had their Hong Kong stablecoin plans stopped by Beijing?"
UNAVAILABLE = "The language model was unavailable ("
# Only a stalled endpoint (silent until the test ends) runs into it; a healthy reply from this
# loopback endpoint takes milliseconds, so even a loaded machine stays far inside it.
TIMEOUT = 5.0


@pytest.fixture(scope="module")
def llm() -> Iterator[FlakyLLM]:
    with flaky_llm() as endpoint:
        yield endpoint


@pytest.fixture
def healthy_afterwards(llm: FlakyLLM) -> Iterator[FlakyLLM]:
    yield llm
    llm.mode = "healthy"


def llm_settings(url: str) -> dict[str, str]:
    return {
        "answerer": "openai",
        "llm_base_url": url,
        "llm_model": "flaky",
        "llm_retries": "0",
        "llm_timeout": str(TIMEOUT),
    }


@pytest.fixture(scope="module")
def assistant(seed_index: Path, llm: FlakyLLM) -> Assistant:
    """One Assistant for the whole module: recovery must happen without a new one."""
    return Assistant(make_settings(seed_index, **llm_settings(llm.url)))


def reply_of(answer: Answer) -> Reply:
    return Reply(answer.text, answer.refused, [c.model_dump() for c in answer.citations])


def assert_from_the_llm(answer: Answer) -> None:
    assert answer.notice is None
    assert "generate" in answer.timings_ms
    assert not answer.refused
    assert check_reply(reply_of(answer)) is None


def assert_fallback(answer: Answer) -> None:
    assert answer.notice is not None
    assert answer.notice.startswith(UNAVAILABLE)
    assert answer.notice.endswith("showing quoted sentences instead.")
    assert "Ant Group" in answer.text
    assert check_reply(reply_of(answer)) is None


@pytest.mark.parametrize("mode", FAILURES)
def test_a_failing_endpoint_gives_quotes_with_a_notice_then_recovers(
    assistant: Assistant, healthy_afterwards: FlakyLLM, mode: Mode
) -> None:
    llm = healthy_afterwards
    assert_from_the_llm(assistant.ask(QUESTION))
    llm.mode = mode
    assert_fallback(assistant.ask(QUESTION))
    events = list(assistant.stream(QUESTION))
    final = events[-1]
    assert isinstance(final, Answer)
    assert_fallback(final)
    assert all(isinstance(event, str) for event in events[:-1])
    llm.mode = "healthy"
    assert_from_the_llm(assistant.ask(QUESTION))


def test_an_endpoint_that_is_down_and_comes_back(seed_index: Path) -> None:
    with refusing_socket() as held:  # refuses until the endpoint listens on it
        url = f"http://127.0.0.1:{held.getsockname()[1]}/v1"
        down = Assistant(make_settings(seed_index, **llm_settings(url)))
        answer = down.ask(QUESTION)
        assert_fallback(answer)
        assert f"cannot connect to {url}" in (answer.notice or "")
        with flaky_llm(held) as llm:  # the endpoint starts: the same Assistant uses it again
            assert llm.url == url
            assert_from_the_llm(down.ask(QUESTION))


def test_the_web_chat_shows_the_notice(assistant: Assistant, healthy_afterwards: FlakyLLM) -> None:
    healthy_afterwards.mode = "http_500"
    shown = [html for html, _ in answer_stream(assistant, QUESTION, [], {})]
    assert 'class="qa-notice"' in shown[-1]
    assert "The language model was unavailable" in shown[-1]
    assert "answered HTTP 500" in shown[-1]
    healthy_afterwards.mode = "healthy"
    final = [html for html, _ in answer_stream(assistant, QUESTION, [], {})][-1]
    assert 'class="qa-notice"' not in final
    assert "Ant Group" in final


@pytest.fixture(scope="module")
def llm_server(
    seed_index: Path, llm: FlakyLLM, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Server]:
    """`assistant serve` answering with the flaky endpoint."""
    server = start_server(
        tmp_path_factory.mktemp("llm-failures"), seed_index, **llm_settings(llm.url)
    )
    yield server
    stop_server(server)


@pytest.mark.parametrize("mode", ["malformed_json", "cut_mid_stream", "stalled"])
def test_the_http_api_reports_the_fallback_and_recovers(
    llm_server: Server, healthy_afterwards: FlakyLLM, mode: Mode
) -> None:
    body = {"messages": [{"role": "user", "content": QUESTION}]}
    with httpx.Client(base_url=llm_server.api, timeout=120) as http:
        healthy_afterwards.mode = mode
        for stream in (False, True):
            response = http.post("/chat/completions", json={**body, "stream": stream})
            assert response.status_code == 200
            text = response.text
            assert "The language model was unavailable" in text
            assert '"error"' not in text
        healthy_afterwards.mode = "healthy"
        data = http.post("/chat/completions", json=body).json()
        assert data["notice"] is None
        assert "Ant Group" in data["choices"][0]["message"]["content"]
    assert llm_server.process.poll() is None
