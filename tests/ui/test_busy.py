"""A busy web chat says so, in the browser and to gradio_client, never a hang; and it answers
again once the work is done."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI

from assistant import Assistant
from tests.conftest import make_settings
from tests.servers import Gate, serving, wait_for
from tests.ui.test_browser import ask

pytestmark = [pytest.mark.integration, pytest.mark.browser]

QUESTION = "Which tech giants had their Hong Kong stablecoin plans stopped by Beijing?"


def test_web_chat_reports_a_full_queue_and_recovers(seed_index: Path, browser: Any) -> None:
    from gradio_client import Client
    from gradio_client.exceptions import AppError
    from gradio_client.utils import QueueError

    from assistant.ui.app import mount_ui

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
            # (Each event of the chat's submit chain that the full queue turns away shows the
            # toast: one or two, depending on timing.)
            busy = page.get_by_text("This application is currently busy. Please try again.")
            busy.first.wait_for()

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
