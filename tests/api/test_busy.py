"""A busy API says so: 429 or 503 with Retry-After, never a hang; and it answers normally again
once the work is done (the web chat's full queue: tests/ui/test_busy.py)."""

from __future__ import annotations

from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import pytest

from assistant import Assistant
from tests.conftest import make_settings
from tests.servers import Gate, serving, wait_for

pytestmark = pytest.mark.integration

QUESTION = "Which tech giants had their Hong Kong stablecoin plans stopped by Beijing?"


def busy_app(seed_index: Path, queue_timeout: float) -> tuple[Any, Gate]:
    """The API with one answer slot and one place in the waiting room; answers held by a gate."""
    from assistant.api.app import create_app

    settings = make_settings(
        seed_index,
        api_concurrency=1,
        api_queue_size=1,
        api_queue_timeout=queue_timeout,
        busy_retry_after=7,
    )
    assistant = Assistant(settings)
    return create_app(assistant), Gate(assistant)


def test_api_refuses_with_retry_after_when_busy_and_recovers(seed_index: Path) -> None:
    # The waiting request never times out during the test (the gate opens long before): the
    # waiting room stays full for as long as the refusals are checked, however slow the machine.
    app, gate = busy_app(seed_index, queue_timeout=600)
    slots = app.state.answer_slots
    body = {"messages": [{"role": "user", "content": QUESTION}]}
    with serving(app) as url, httpx.Client(base_url=url, timeout=60) as http:
        with ThreadPoolExecutor(max_workers=2) as pool:
            first: Future[httpx.Response] = pool.submit(http.post, "v1/chat/completions", json=body)
            assert gate.entered.wait(30)  # the only slot is taken
            waiting = pool.submit(http.post, "v1/ask", json={"question": QUESTION})
            wait_for(lambda: slots.waiting == 1, "the second request to wait")

            for streamed in (False, True):  # the waiting room is full: 429 at once
                refused = http.post("v1/chat/completions", json={**body, "stream": streamed})
                assert refused.status_code == 429
                assert refused.headers["Retry-After"] == "7"
                error = refused.json()["error"]
                assert error["code"] == "server_busy"
                assert "busy" in error["message"]
                assert "retry" in error["message"]

            gate.opened.set()  # both the running and the waiting request are answered
            answered = first.result(timeout=60)
            served = waiting.result(timeout=120)
        assert answered.status_code == 200
        assert "Ant Group" in answered.json()["choices"][0]["message"]["content"]
        assert served.status_code == 200
        again = http.post("v1/chat/completions", json={**body, "stream": True})
        assert again.status_code == 200
        assert again.text.rstrip().endswith("data: [DONE]")
        assert slots.running == slots.waiting == 0


def test_a_request_that_waits_too_long_gets_503_with_retry_after(seed_index: Path) -> None:
    # The gate holds the only slot until the waiting request has its reply, so its wait always
    # runs out: the outcome does not depend on how long anything takes.
    app, gate = busy_app(seed_index, queue_timeout=0.2)
    slots = app.state.answer_slots
    body = {"messages": [{"role": "user", "content": QUESTION}]}
    with serving(app) as url, httpx.Client(base_url=url, timeout=60) as http:
        with ThreadPoolExecutor(max_workers=1) as pool:
            first: Future[httpx.Response] = pool.submit(http.post, "v1/chat/completions", json=body)
            assert gate.entered.wait(30)  # the only slot is taken
            timed_out = http.post("v1/ask", json={"question": QUESTION})
            assert timed_out.status_code == 503
            assert timed_out.headers["Retry-After"] == "7"
            error = timed_out.json()["error"]
            assert error["code"] == "server_busy"
            assert "no answer slot came free within 0.2 s" in error["message"]
            gate.opened.set()
            assert first.result(timeout=60).status_code == 200
        assert slots.running == slots.waiting == 0
