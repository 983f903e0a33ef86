"""Question length and blank questions in headless Chromium against a real `assistant serve`
whose limit is set to 120 characters (`max_question_chars`), so it comes from the settings."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from gradio_client import Client
from playwright.sync_api import expect

from tests.servers import Server, start_server, stop_server
from tests.ui.conftest import PageLog, chat_page
from tests.ui.test_browser import IDLE, QUESTION, ask

pytestmark = pytest.mark.browser

LIMIT = 120
BOX = "#qa-question textarea"
USER = "#qa-chat [data-testid=user]"


@pytest.fixture(scope="module")
def limited_server(seed_index: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    server = start_server(
        tmp_path_factory.mktemp("limited"), seed_index, max_question_chars=str(LIMIT)
    )
    yield server
    stop_server(server)


@pytest.fixture
def limited(browser: Any, limited_server: Server, page_log: PageLog) -> Iterator[Any]:
    with chat_page(browser, limited_server, page_log, {"width": 1280, "height": 800}) as page:
        yield page


def test_blank_questions_are_not_sent(limited: Any) -> None:
    page = limited
    page.fill(BOX, "   \n  ")
    page.press(BOX, "Enter")
    expect(page.locator("#qa-counter")).to_have_text("Type a question first.")
    page.click("#qa-question .submit-button")
    ask(page, QUESTION[:100])
    # Only the real question reached the chat: no empty bubble, no error.
    expect(page.locator(USER)).to_have_count(1)
    assert page.locator("#qa-chat .qa-error").count() == 0
    expect(page.locator("#qa-counter")).to_have_text("")


def test_counter_near_the_limit_and_a_clear_message_over_it(limited: Any) -> None:
    page = limited
    page.fill(BOX, "x" * 90)  # under 80 % of the limit: nothing to say
    expect(page.locator("#qa-counter")).to_have_text("")
    page.fill(BOX, "x" * 100)
    expect(page.locator("#qa-counter")).to_have_text(f"100 of {LIMIT} characters")

    long = QUESTION + " Please answer in detail and name every source you used."
    assert len(long) > LIMIT
    page.fill(BOX, long)
    assert page.input_value(BOX) == long  # nothing cut
    counter = page.locator("#qa-counter .qa-counter")
    expect(counter).to_have_text(
        f"Too long: {len(long)} of {LIMIT} characters. "
        f"Shorten the question by {len(long) - LIMIT} to send it."
    )
    expect(counter).to_have_class("qa-counter qa-over")
    assert page.get_attribute(BOX, "aria-invalid") == "true"
    page.press(BOX, "Enter")
    page.click("#qa-question .submit-button")
    assert page.input_value(BOX) == long  # held back, still there to shorten

    page.fill(BOX, QUESTION)  # shortened: it goes
    page.press(BOX, "Enter")
    page.locator("#qa-chat .qa-answer:not(.qa-streaming)").wait_for()
    expect(page.locator(USER)).to_have_count(1)
    assert QUESTION in page.locator(USER).inner_text()
    assert page.get_attribute(BOX, "aria-invalid") == "false"


def test_the_server_refuses_a_question_over_the_limit(limited_server: Server) -> None:
    client = Client(limited_server.url, verbose=False)
    with pytest.raises(Exception, match=f"too long .*the limit is {LIMIT}"):
        client.predict("y" * (LIMIT + 1), api_name="/ask")


def test_the_box_has_the_focus_back_after_an_answer_and_a_held_back_question_says_why_in_view(
    limited: Any,
) -> None:
    page = limited
    page.set_viewport_size({"width": 1366, "height": 768})  # a laptop's screen
    # The page's load events have drawn the header's counts and the suggested questions: the
    # layout no longer moves under the scroll (a clean-clone run of 2026-12-07 filled the box
    # while they were drawn, and they pushed the brought-up message below the fold again).
    expect(page.locator("#qa-header")).to_contain_text("passages indexed")
    page.locator("#qa-chat .example").first.wait_for()
    page.fill(BOX, "x" * (LIMIT + 5))  # the counter under the box is below the fold
    page.press(BOX, "Enter")
    counter = page.locator("#qa-counter .qa-counter")
    expect(counter).to_be_in_viewport()
    page.fill(BOX, "")
    page.click(BOX)
    page.keyboard.type(QUESTION[:100])
    page.keyboard.press("Enter")
    page.locator("#qa-chat .qa-answer:not(.qa-streaming)").wait_for()
    page.wait_for_function(IDLE)
    # The box was disabled while the answer came; the next question is typed straight away.
    expect(page.locator(BOX)).to_be_focused()
    page.keyboard.type("x" * (LIMIT + 5))
    expect(page.locator(BOX)).to_have_value("x" * (LIMIT + 5))
    page.keyboard.press("Enter")
    expect(counter).to_have_text(f"Too long: {LIMIT + 5} of {LIMIT} characters. "
                                 "Shorten the question by 5 to send it.")  # fmt: skip
    expect(counter).to_be_in_viewport()


def test_a_question_is_shown_without_control_or_bidi_characters(limited: Any) -> None:
    page = limited
    # Nothing but such characters (or half of one) is a blank question: held back.
    page.locator(BOX).evaluate(
        """(box) => { box.value = "\\u202e\\u0007" + String.fromCharCode(0xd800);
          box.dispatchEvent(new Event("input", { bubbles: true })); }"""
    )
    page.press(BOX, "Enter")
    expect(page.locator("#qa-counter")).to_have_text("Type a question first.")
    expect(page.locator(USER)).to_have_count(0)
    page.fill(BOX, f"\u202e{QUESTION[:100]}\u0007\u200f")
    page.press(BOX, "Enter")
    page.locator("#qa-chat .qa-answer:not(.qa-streaming), #qa-chat .qa-refusal").wait_for()
    shown = page.locator(USER).inner_text().strip()
    assert shown == QUESTION[:100].strip()  # not reversed, no bell


def test_a_citation_is_named_for_what_it_opens(limited: Any) -> None:
    page = limited
    answer = ask(page, QUESTION)
    cite = answer.locator("a.qa-cite").first
    expect(cite).to_have_text("[1]")
    # A screen reader says "Source [1]: <document> — <section>", not "[1]" alone (its visible
    # text stays in its name, for speech input).
    expect(cite).to_have_attribute("aria-label", re.compile(r"^Source \[1\]: \S"))
