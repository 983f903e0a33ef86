"""A busy web chat says so, in the browser and to gradio_client, never a hang; and it answers
again once the work is done."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from playwright.sync_api import expect

from assistant import Assistant
from tests.conftest import make_settings
from tests.servers import Gate, serving, wait_for
from tests.ui.test_browser import FINAL, IDLE

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
            # Nothing is lost: the question is back in the box, which is enabled with Ask
            # shown, and the chat holds no unanswered question.
            # (The page applies the box's changes one by one: waited for, not read at once.)
            expect(page.locator("#qa-question textarea")).to_have_value(QUESTION)
            page.wait_for_function(IDLE)
            expect(page.locator("#qa-chat .message-row.user-row")).to_have_count(0)
            expect(page.locator("#qa-question .submit-button")).to_be_visible()

            gate.opened.set()
            assert "Ant Group" in first.result(timeout=60)["answer"]
            queued = next(f for f in others if f is not refused)
            assert "Ant Group" in queued.result(timeout=60)["answer"]
            # Asking again is one press of Enter, on the same page.
            page.press("#qa-question textarea", "Enter")
            page.locator(FINAL).first.wait_for()
            page.wait_for_function(IDLE)
            assert "Ant Group" in page.locator(FINAL).first.inner_text()
            assert page.locator("#qa-chat .message-row.user-row").count() == 1
        finally:
            gate.opened.set()
            context.close()
            for client in clients:
                client.close()


def test_the_give_back_step_acts_only_on_a_full_queue(browser: Any) -> None:
    """The page's failure step (assets/give_back.js) with the page's stream.js, in the browser,
    against joins answered as a full queue (503) or taken (200): after a turned-away unanswered
    question it returns the question to the box and drops it from the chat; after a
    turned-away step of an answered chat it only enables the box; after a step that failed
    otherwise (a stopped answer), or was turned away and then taken, it changes nothing."""
    from assistant.ui import ASSETS
    from assistant.ui.chat import ASK, QUESTION_HINT, give_back_script

    statuses: list[int] = []  # what the next joins are answered

    def join(route: Any) -> None:
        status = statuses.pop(0)
        reply = {"detail": "Queue is full"} if status == 503 else {"event_id": "e1"}
        route.fulfill(status=status, json=reply)

    context = browser.new_context()
    try:
        page = context.new_page()
        page.route("http://app.test/", lambda route: route.fulfill(body="<html></html>"))
        page.route("http://app.test/queue/join", join)
        page.goto("http://app.test/")
        page.evaluate((ASSETS / "stream.js").read_text(encoding="utf-8"))

        def joined(step: int, status: int) -> None:
            statuses.append(status)
            page.evaluate(
                """async (step) => { await fetch("/queue/join", {method: "POST",
                body: JSON.stringify({fn_index: step, data: []})}); }""",
                step,
            )

        def give_back(step: int, history: list[Any]) -> Any:
            return page.evaluate(f"(history) => ({give_back_script(step)})(history)", history)

        user = {"role": "user", "content": [{"type": "text", "text": QUESTION}]}
        answer = {"role": "assistant", "content": [{"type": "text", "text": "Ant Group."}]}
        unchanged = [{"__type__": "update"}, {"__type__": "update"}]

        joined(3, 503)
        box, chat = give_back(3, [answer, user])
        assert box == {
            "__type__": "update",
            "interactive": True,
            "submit_btn": ASK,
            "stop_btn": False,
            "placeholder": QUESTION_HINT,
            "value": QUESTION,
        }
        assert chat == [answer]
        assert give_back(3, [answer, user]) == unchanged  # each turning away counts once
        joined(5, 503)
        box, chat = give_back(5, [user, answer])
        assert box["interactive"]
        assert box["stop_btn"] is False
        assert "value" not in box
        assert chat == {"__type__": "update"}  # the chat is left as it is
        joined(3, 200)  # taken: the step failed for another reason (Stop, New chat)
        assert give_back(3, [user]) == unchanged
        joined(3, 503)
        joined(3, 200)  # turned away, then asked again and taken
        assert give_back(3, [user]) == unchanged
        joined(3, 503)
        box, chat = give_back(3, [{"role": "user", "content": "Plain text?"}])
        assert box["value"] == "Plain text?"
        assert chat == []
        assert statuses == []
    finally:
        context.close()
