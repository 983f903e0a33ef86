"""Feedback beside the answer it is about, in headless Chromium against a real server: the
comment box opens under the voted answer, a thumbs-down on a refusal is recorded as "this
should have been answered", error messages offer no thumbs, and a vote that cannot be saved
says so without saying where."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.servers import launch_server, server_env, stop_server
from tests.ui.conftest import PageLog, Server, chat_page
from tests.ui.test_browser import QUESTION, ask, records

pytestmark = pytest.mark.browser

ROW = "#qa-chat .message-row"
BOX = "#qa-comment-row"


def row_of(message: Any) -> Any:
    """The chat row (message and its buttons) holding a message."""
    return message.locator("xpath=ancestor::div[contains(@class, 'message-row')]")


def box_follows(page: Any, message: Any) -> bool:
    """Whether the comment box is drawn right under the row of `message`."""
    return bool(
        row_of(message).evaluate(
            "(row) => row.nextElementSibling === document.querySelector('#qa-comment-row')"
        )
    )


def already(server: Server) -> int:
    return len(records(server.feedback, 0)) if server.feedback.exists() else 0


def test_the_comment_box_opens_under_the_voted_answer(page: Any, ui_server: Server) -> None:
    count = already(ui_server)
    first = ask(page, QUESTION)
    ask(page, "What is the name of China's state-backed digital currency?")
    expect(page.locator(BOX)).to_be_hidden()
    row_of(first).locator("button[aria-label='Like']").click()
    expect(page.locator(BOX)).to_be_visible()
    assert box_follows(page, first)  # under the first answer, not at the bottom of the page
    expect(page.locator("#qa-comment-note")).to_have_text("Thanks: recorded as helpful.")
    expect(page.locator("#qa-comment textarea")).to_be_focused()
    vote = records(ui_server.feedback, count + 1)[-1]
    assert vote["rating"] == "up"
    assert vote["question"] == QUESTION
    assert vote["should_have_been_answered"] is None

    page.keyboard.type("Exactly what I needed")
    page.click("#qa-send")
    expect(page.locator(BOX)).to_be_hidden()
    commented = records(ui_server.feedback, count + 2)[-1]
    assert commented["id"] == vote["id"]
    assert commented["comment"] == "Exactly what I needed"


def test_thumbs_down_on_a_refusal_means_it_should_have_been_answered(
    page: Any, ui_server: Server
) -> None:
    count = already(ui_server)
    refusal = ask(page, "What is the boiling point of mercury on Mars?")
    assert "qa-refusal" in (refusal.get_attribute("class") or "")
    down = row_of(refusal).locator("button[aria-label='This should have been answered']")
    expect(row_of(refusal).locator("button[aria-label='Rightly not answered']")).to_be_visible()
    down.click()
    expect(page.locator("#qa-comment-note")).to_have_text(
        "Recorded: this should have been answered."
    )
    assert box_follows(page, refusal)
    record = records(ui_server.feedback, count + 1)[-1]
    assert record["refused"] is True
    assert record["rating"] == "down"
    assert record["should_have_been_answered"] is True
    page.click("#qa-skip")
    expect(page.locator(BOX)).to_be_hidden()


@pytest.fixture(scope="module")
def unindexed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """A server started before anything was ingested: every question is an error message."""
    root = tmp_path_factory.mktemp("unindexed")
    index_dir, data_dir = root / "index", root / "data"
    command = [sys.executable, "-m", "assistant.cli", "serve", "--index", str(index_dir)]
    server = launch_server(
        command, root, index_dir, data_dir, server_env(root, data_dir), "healthz"
    )
    yield server
    stop_server(server)


def test_error_messages_offer_no_thumbs(
    page: Any, browser: Any, unindexed: Server, page_log: PageLog
) -> None:
    answer = ask(page, QUESTION)
    thumbs = "button[aria-label='Like'], button[aria-label='Dislike']"
    assert row_of(answer).locator(thumbs).filter(visible=True).count() == 2
    # (A question the page cannot send, blank once its invisible characters are gone, is held
    # back there: the error comes from a server with no index yet.)
    with chat_page(browser, unindexed, page_log, {"width": 1280, "height": 800}) as fresh:
        error = ask(fresh, QUESTION)
        assert "qa-error" in (error.get_attribute("class") or "")
        assert row_of(error).locator(thumbs).count() == 2  # there, and hidden
        assert row_of(error).locator(thumbs).filter(visible=True).count() == 0


def test_a_vote_that_cannot_be_saved_says_so_and_keeps_the_reason_in_the_log(
    page: Any, ui_server: Server
) -> None:
    path = ui_server.feedback
    kept = path.read_bytes() if path.exists() else None
    if kept is not None:
        path.unlink()
    path.parent.mkdir(parents=True, exist_ok=True)  # no vote or chat saved there yet
    path.mkdir()  # a folder where the file goes: every append fails, also for root
    try:
        answer = ask(page, QUESTION)
        row_of(answer).locator("button[aria-label='Like']").click()
        toast = page.locator(".toast-body")
        expect(toast).to_contain_text("Your feedback could not be saved; please try again later.")
        assert str(path.parent) not in toast.inner_text()  # the path stays in the server's log
    finally:
        path.rmdir()
        if kept is not None:
            path.write_bytes(kept)
