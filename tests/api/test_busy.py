"""A busy server says so: 429 or 503 with Retry-After from the API, a full-queue message from the
web chat, never a hang; and it answers normally again once the work is done."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from assistant import Assistant
from tests.conftest import make_settings
from tests.servers import serving

pytestmark = pytest.mark.integration

QUESTION = "Which companies had to halt their stablecoin plans in Hong Kong?"


class Gate:
    """Holds every answer of an Assistant until opened (the server's work made observable)."""

    def __init__(self, assistant: Assistant) -> None:
        self.entered = threading.Event()
        self.opened = threading.Event()
        real = assistant.ask

        def ask(*args: Any, **kwargs: Any) -> Any:
            self.entered.set()
            assert self.opened.wait(60), "the test never opened the gate"
            return real(*args, **kwargs)

        assistant.ask = ask  # type: ignore[method-assign]


def wait_for(condition: Callable[[], bool], what: str) -> None:
    deadline = time.monotonic() + 30
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.02)


def test_api_refuses_with_retry_after_when_busy_and_recovers(seed_index: Path) -> None:
    from assistant.api.app import create_app

    settings = make_settings(
        seed_index, api_concurrency=1, api_queue_size=1, api_queue_timeout=1.5, busy_retry_after=7
    )
    assistant = Assistant(settings)
    gate = Gate(assistant)
    app = create_app(assistant)
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

            timed_out = waiting.result(timeout=30)  # waited 1.5 s for a slot: 503
            assert timed_out.status_code == 503
            assert timed_out.headers["Retry-After"] == "7"
            assert "no answer slot came free within 1.5 s" in timed_out.json()["error"]["message"]

            gate.opened.set()
            answered = first.result(timeout=60)
        assert answered.status_code == 200
        assert "Ant Group" in answered.json()["choices"][0]["message"]["content"]
        again = http.post("v1/chat/completions", json={**body, "stream": True})
        assert again.status_code == 200
        assert again.text.rstrip().endswith("data: [DONE]")
        assert slots.running == slots.waiting == 0


@pytest.mark.browser
def test_web_chat_reports_a_full_queue_and_recovers(seed_index: Path, browser: Any) -> None:
    from gradio_client import Client
    from gradio_client.exceptions import AppError
    from gradio_client.utils import QueueError

    from assistant.ui.app import mount_ui
    from tests.ui.test_browser import ask

    settings = make_settings(seed_index, ui_concurrency=1, ui_queue_size=1)
    assistant = Assistant(settings)
    gate = Gate(assistant)
    app = FastAPI()
    mount_ui(app, assistant, {})
    with serving(app) as url, ThreadPoolExecutor(max_workers=3) as pool:
        context = browser.new_context()
        page = context.new_page()
        page.set_default_timeout(90_000)
        page.goto(url)
        page.wait_for_selector("#qa-question textarea:not([disabled])")  # its load event ran
        clients = [Client(url, verbose=False) for _ in range(3)]
        try:
            first = pool.submit(clients[0].predict, QUESTION, api_name="/ask")
            assert gate.entered.wait(30)  # the one worker is busy
            # One of the next two takes the one queue place; the other is turned away at once.
            others = [pool.submit(c.predict, QUESTION, api_name="/ask") for c in clients[1:]]
            wait_for(lambda: any(f.done() for f in others), "a full-queue refusal")
            refused = next(f for f in others if f.done())
            with pytest.raises((QueueError, AppError), match=r"(?i)queue is full"):
                refused.result()
            # A person in the browser is told the same, at once, in words.
            page.fill("#qa-question textarea", QUESTION)
            page.press("#qa-question textarea", "Enter")
            page.get_by_text("This application is currently busy. Please try again.").wait_for()

            gate.opened.set()
            assert "Ant Group" in first.result(timeout=60)["answer"]
            queued = next(f for f in others if f is not refused)
            assert "Ant Group" in queued.result(timeout=60)["answer"]
            # Gradio leaves the question box disabled after turning a chat request away (its
            # chat component never sees the event end): the page is reloaded, not the server.
            page.reload()
            page.wait_for_selector("#qa-question textarea:not([disabled])")
            assert "Ant Group" in ask(page, QUESTION).inner_text()
        finally:
            gate.opened.set()
            context.close()
            for client in clients:
                client.close()
