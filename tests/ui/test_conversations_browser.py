"""Conversations kept on the server, in headless Chromium against a real `assistant serve`:
reload, restart, a second browser of the same user, another user, rename, delete with
confirmation and undo, search, and the Markdown export."""

from __future__ import annotations

import json
import re
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

from assistant.ui.auth import hash_password
from tests.llm_servers import silent_server
from tests.servers import Server, start_server, stop_server
from tests.ui.conftest import QUOTE, TIMEOUT_MS, PageLog, chat_page, open_citation, screenshot
from tests.ui.test_browser import IDLE, QUESTION, ask, cited_text

pytestmark = pytest.mark.browser

PASSWORD = "long enough passphrase"
FOLLOW_UP = "And who first reported the move?"
OTHER = "What is the name of China's state-backed digital currency?"
LISTED = "#qa-conversations label"
ANSWERS = "#qa-chat .qa-answer, #qa-chat .qa-refusal"
USER_MESSAGES = "#qa-chat [data-testid=user]"


def titles(page: Any) -> list[str]:
    """The conversation titles in the sidebar, top to bottom."""
    return [text.strip() for text in page.locator(LISTED).all_inner_texts()]


def open_conversation(page: Any, title: str) -> None:
    """Click a conversation in the sidebar (titled after its first question) and wait for it,
    and for the events its opening sets off (the sidebar, the browser's storage): a [1]
    clicked while they ran was lost once (a clean-clone run of 2026-12-01)."""
    opening = EventStreams(page, PageLog())
    page.locator(LISTED, has_text=title).click()
    expect(page.locator("#qa-chat [data-testid=user]").first).to_contain_text(title)
    page.locator("#qa-chat .qa-answer").first.wait_for()
    opening.wait_until_idle(page)


class EventStreams:
    """What of the page's work is under way: its queued events joined and not completed (the
    page's stream script counts them, assets/stream.js: its one event stream stays open) and
    its unqueued ones (a `run/predict` request each)."""

    def __init__(self, page: Any, log: PageLog) -> None:
        self.log = log
        # The requests themselves, held: keyed by id() they could be collected between their
        # start and their end and the id reused, leaving a finished request counted as open.
        self.open: set[Any] = set()
        page.on("request", self._started)
        page.on("requestfinished", self._ended)
        page.on("requestfailed", self._ended)

    def _started(self, request: Any) -> None:
        if "/run/predict" in request.url:
            self.open.add(request)

    def _ended(self, request: Any) -> None:
        self.open.discard(request)

    def busy(self, page: Any) -> bool:
        events = page.evaluate("() => (window.__qaStream ? window.__qaStream.busy() : 0)")
        return bool(self.open) or events > 0

    def wait_until_idle(self, page: Any, limit_s: float = 20) -> bool:
        """Wait until no event has run for a few polls (the answer stored, the sidebar and the
        browser's storage updated: the events an update sets off start within one poll), at
        most `limit_s`; whether it got there."""
        deadline = time.monotonic() + limit_s
        quiet = 0
        while quiet < 5:
            if time.monotonic() > deadline:
                return False
            quiet = 0 if self.busy(page) else quiet + 1
            page.wait_for_timeout(60)
        return True


@pytest.fixture
def streams(page: Any, page_log: PageLog) -> EventStreams:
    return EventStreams(page, page_log)


def reload(page: Any, streams: EventStreams) -> None:
    """Reload the page as a user does (F5), once nothing is running, so no request is cut off.

    After `wait_until_idle`'s limit the page is reloaded anyway, as a user would, and what the
    test checks next (the conversation brought back) still decides. The reload cuts the old
    page's event stream, which stays open while the page is (assets/stream.js): what the old
    page logged about it while being replaced is printed and not counted as the new page's
    error. Any other error logged meanwhile still fails the test."""
    idle = streams.wait_until_idle(page)
    if not idle:
        print(f"reloading with events still running: {sorted(r.url for r in streams.open)}")
    before = len(streams.log.errors)
    page.reload()
    page.wait_for_selector("#qa-chat")
    # Then the new page's load events run (the chat brought back, the list drawn): a click
    # meanwhile can land on a drawing that is replaced between its press and its release.
    streams.wait_until_idle(page)
    logged = streams.log.errors[before:]
    cut = [error for error in logged if _CUT_STREAM.search(error)]
    if cut:
        print(f"said while cutting it: {cut}")
    streams.log.errors[before:] = [error for error in logged if error not in cut]


# What Gradio's client logs when navigation aborts its open event stream.
_CUT_STREAM = re.compile(r"AbortError: signal is aborted|Connection errored out")


def new_chat(page: Any) -> None:
    """Start a new chat and wait for the empty chat."""
    page.click("#qa-new-chat")
    expect(page.locator(ANSWERS)).to_have_count(0)


def check_first_citation(page: Any, server: Server) -> None:
    """The first answer's [1] opens the passage whose text the catalog holds at its offsets."""
    first = page.locator("#qa-chat .qa-answer .qa-text a.qa-cite").first
    href = first.get_attribute("href")
    open_citation(page, first)
    mark = page.locator(QUOTE)
    assert mark.text_content() == cited_text(server, href)


def test_reload_brings_back_the_conversation_and_its_citations(
    page: Any, ui_server: Server, streams: EventStreams
) -> None:
    expect(page.locator("#qa-history-note")).to_contain_text("No conversations yet")
    answer = ask(page, QUESTION)
    shown = answer.locator(".qa-text").inner_text()
    expect(page.locator(LISTED)).to_have_count(1)
    assert titles(page) == ["Which tech giants had their Hong Kong stablecoin plans…"]
    ask(page, FOLLOW_UP)

    reload(page, streams)
    expect(page.locator("#qa-chat .qa-answer")).to_have_count(2)  # the open chat is back
    assert page.locator("#qa-chat .qa-answer .qa-text").first.inner_text() == shown
    expect(page.locator("#qa-chat [data-testid=user]")).to_have_count(2)
    assert QUESTION in page.locator("#qa-chat [data-testid=user]").first.inner_text()
    assert titles(page) == ["Which tech giants had their Hong Kong stablecoin plans…"]
    screenshot(page, "conversations")
    check_first_citation(page, ui_server)
    # At this width the chat between two open sidebars would be a strip: the list makes room.
    expect(page.locator("#qa-history")).not_to_have_class(re.compile(r"\bopen\b"))
    screenshot(page, "conversation-reloaded")

    # A follow-up after the reload continues the same conversation.
    follow = ask(page, "And how many users does it have?")
    assert follow.locator(".qa-searched").count() == 1
    reload(page, streams)
    expect(page.locator(ANSWERS)).to_have_count(3)  # answers and refusals alike
    assert "how many users" in page.locator("#qa-chat [data-testid=user]").last.inner_text()
    assert len(titles(page)) == 1


def test_the_chats_undo_is_kept_too(page: Any, streams: EventStreams) -> None:
    ask(page, QUESTION)
    ask(page, FOLLOW_UP)
    page.locator("#qa-chat button[aria-label='Undo']").last.click()
    expect(page.locator(ANSWERS)).to_have_count(1)
    reload(page, streams)
    expect(page.locator(ANSWERS)).to_have_count(1)  # the undone question stays undone
    assert "Ant Group" in page.locator("#qa-chat .qa-answer .qa-text").first.inner_text()


def test_a_question_is_shown_as_typed_through_retry_undo_and_reload(
    page: Any, streams: EventStreams
) -> None:
    # Markdown and HTML in a question are its letters, not markup: not italics, bold, a heading.
    typed = "Which tech giants had their *Hong Kong* stablecoin plans <b>stopped</b> by Beijing? #1"
    asked = page.locator(USER_MESSAGES)

    def shown_as_typed() -> None:
        expect(asked.last).to_have_text(typed)
        assert asked.last.locator("em, strong, b, h1").count() == 0

    ask(page, typed)
    shown_as_typed()
    expect(page.locator(LISTED)).to_have_count(1)
    assert titles(page) == ["Which tech giants had their *Hong Kong* stablecoin plans…"]
    # Retry asks the question as typed again (the conversation keeps it so: see the reload).
    before = page.locator(ANSWERS).count()
    page.locator("#qa-chat button[aria-label='Retry']").last.click()
    page.wait_for_function(IDLE, timeout=TIMEOUT_MS)
    expect(page.locator(ANSWERS)).to_have_count(before)
    shown_as_typed()
    reload(page, streams)
    expect(page.locator(ANSWERS)).to_have_count(1)
    shown_as_typed()
    # Undo puts it back in the box as typed, for editing.
    page.locator("#qa-chat button[aria-label='Undo']").last.click()
    expect(page.locator(ANSWERS)).to_have_count(0)
    expect(page.locator("#qa-question textarea")).to_have_value(typed)


def test_the_bin_icon_is_gone_and_new_chat_keeps_the_old_one(page: Any) -> None:
    ask(page, QUESTION)
    expect(page.locator(LISTED)).to_have_count(1)
    assert page.locator("#qa-chat button[aria-label='Clear']").filter(visible=True).count() == 0
    new_chat(page)
    ask(page, OTHER)
    expect(page.locator(LISTED)).to_have_count(2)
    assert titles(page)[0].startswith("What is the name of China")  # newest first
    open_conversation(page, "Which tech giants")
    assert "Ant Group" in page.locator("#qa-chat .qa-answer .qa-text").first.inner_text()


def start_asking(page: Any, question: str) -> None:
    """Send a question and return as soon as it shows in the chat, its answer still on its way."""
    before = page.locator(USER_MESSAGES).count()
    page.fill("#qa-question textarea", question)
    page.press("#qa-question textarea", "Enter")
    expect(page.locator(USER_MESSAGES)).to_have_count(before + 1)


def settle(page: Any, streams: EventStreams) -> None:
    """Wait until every event has run; after a minute the checks that follow decide, and the
    requests still open are printed."""
    if not streams.wait_until_idle(page, limit_s=60):
        print(f"events still running: {sorted(r.url for r in streams.open)}")


def test_switching_while_an_answer_is_on_its_way(page: Any, streams: EventStreams) -> None:
    """Another conversation, or New chat, chosen while an answer streams or is being stored:
    what was chosen is what stays on screen (the answer's last updates must not bring its chat
    back). The answers here take well under a second, so the click lands in any of their
    stages; each choice is checked once everything has run."""
    ask(page, QUESTION)
    new_chat(page)
    ask(page, OTHER)  # the newest conversation, on top of the list, open

    # A follow-up in the open conversation keeps the list's order: the click hits its target.
    start_asking(page, "And who issues it?")
    page.locator(LISTED, has_text="Which tech giants").click()
    settle(page, streams)
    expect(page.locator(USER_MESSAGES)).to_have_count(1)
    expect(page.locator(USER_MESSAGES)).to_contain_text(QUESTION)
    assert "Ant Group" in page.locator("#qa-chat .qa-answer .qa-text").first.inner_text()

    start_asking(page, FOLLOW_UP)
    page.click("#qa-new-chat")
    settle(page, streams)
    expect(page.locator(USER_MESSAGES)).to_have_count(0)
    expect(page.locator(ANSWERS)).to_have_count(0)

    # The chat goes on normally afterwards.
    ask(page, OTHER)
    expect(page.locator(USER_MESSAGES)).to_have_count(1)


def test_a_question_asked_before_the_page_finished_loading_is_kept(
    browser: Any, ui_server: Server
) -> None:
    """On a slow server the sidebar's load event (which gives a first-time browser its id) can
    run after the first question: the answer is kept all the same, under the id the load event
    then stores, and that event leaves the chat alone."""
    held: list[Any] = []

    def hold_the_sidebar_load(route: Any) -> None:
        body = route.request.post_data_json or {}
        data = body.get("data")
        if not held and isinstance(data, list) and len(data) == 1 and isinstance(data[0], dict):
            held.append(route)  # the one event whose only input is the browser's state
        else:
            route.continue_()

    context = browser.new_context(viewport={"width": 1280, "height": 800})
    log = PageLog()
    try:
        page = context.new_page()
        page.set_default_timeout(TIMEOUT_MS)
        log.attach(page)
        streams = EventStreams(page, log)
        page.route("**/queue/join*", hold_the_sidebar_load)
        page.goto(ui_server.url)
        page.wait_for_selector("#qa-chat")
        ask(page, QUESTION)
        assert len(held) == 1
        held[0].continue_()
        expect(page.locator(LISTED)).to_have_count(1)  # kept (before the fix: not, no owner yet)
        streams.wait_until_idle(page)  # (Gradio keeps the held event's stream open: at most 20 s)
        expect(page.locator(ANSWERS)).to_have_count(1)  # the load event left the chat alone
        page.unroute("**/queue/join*")
        reload(page, streams)
        expect(page.locator(LISTED)).to_have_count(1)  # kept for this browser
        open_conversation(page, "Which tech giants")
        assert log.errors == []
    finally:
        context.close()


def test_new_chat_stops_an_answer_that_is_not_coming(
    browser: Any, seed_index: Path, tmp_path: Path, page_log: PageLog
) -> None:
    """A language model that never replies: New chat stops the waiting answer at once, leaves
    an empty chat with the question box usable, and keeps nothing of the abandoned question;
    Stop says the answer was stopped."""
    with silent_server() as url:
        server = start_server(
            tmp_path, seed_index, answerer="openai", llm_base_url=url, llm_timeout="300",
            llm_retries="0", llm_gate_threshold="0",
        )  # fmt: skip
        try:
            with chat_page(browser, server, page_log, {"width": 1280, "height": 800}) as page:
                start_asking(page, QUESTION)
                expect(page.locator("#qa-question .stop-button")).to_be_visible()
                page.click("#qa-new-chat")
                expect(page.locator(USER_MESSAGES)).to_have_count(0)
                expect(page.locator("#qa-question textarea")).to_be_enabled()
                expect(page.locator("#qa-question .stop-button")).to_be_hidden()
                expect(page.locator("#qa-history-note")).to_contain_text("No conversations yet")

                # Stop itself: the question stays, with a note where the answer would be.
                start_asking(page, OTHER)
                expect(page.locator("#qa-chat .qa-working")).to_contain_text("Searching")
                page.click("#qa-question .stop-button")
                expect(page.locator("#qa-chat .qa-stopped")).to_contain_text("Stopped before")
                expect(page.locator("#qa-chat .qa-streaming")).to_have_count(0)
                expect(page.locator(USER_MESSAGES)).to_have_count(1)
                expect(page.locator("#qa-question textarea")).to_be_enabled()
        finally:
            stop_server(server)


def test_rename_search_delete_with_confirmation_and_undo(page: Any, streams: EventStreams) -> None:
    ask(page, QUESTION)
    new_chat(page)
    ask(page, OTHER)
    expect(page.locator(LISTED)).to_have_count(2)

    page.fill("#qa-title input, #qa-title textarea", "Digital yuan notes")
    page.click("#qa-rename")
    expect(page.locator(LISTED).first).to_have_text("Digital yuan notes")

    # Search finds titles and the text of questions and answers.
    page.fill("#qa-search input, #qa-search textarea", "tech giants")
    expect(page.locator(LISTED)).to_have_count(1)
    assert titles(page) == ["Which tech giants had their Hong Kong stablecoin plans…"]
    page.fill("#qa-search input, #qa-search textarea", "no such words here")
    expect(page.locator(LISTED)).to_have_count(0)
    expect(page.locator("#qa-history-note")).to_contain_text("No matching conversations")
    page.fill("#qa-search input, #qa-search textarea", "")
    expect(page.locator(LISTED)).to_have_count(2)

    # Delete asks first; Cancel keeps everything.
    page.click("#qa-delete")
    confirm = page.locator("#qa-confirm-row")
    expect(confirm).to_contain_text("Delete “Digital yuan notes”")
    screenshot(page, "conversation-delete-confirm")
    page.click("#qa-cancel-delete")
    expect(confirm).to_be_hidden()
    expect(page.locator(LISTED)).to_have_count(2)

    page.click("#qa-delete")
    page.click("#qa-confirm-delete")
    expect(page.locator(LISTED)).to_have_count(1)
    expect(page.locator("#qa-chat .qa-answer")).to_have_count(0)
    expect(page.locator("#qa-undo-row")).to_contain_text("Deleted “Digital yuan notes”")
    page.click("#qa-undo")
    expect(page.locator(LISTED)).to_have_count(2)
    expect(page.locator("#qa-undo-row")).to_be_hidden()
    expect(page.locator("#qa-chat .qa-answer")).to_have_count(1)  # reopened
    assert "Digital yuan notes" in titles(page)

    page.click("#qa-delete")
    page.click("#qa-confirm-delete")
    expect(page.locator(LISTED)).to_have_count(1)
    reload(page, streams)
    expect(page.locator(LISTED)).to_have_count(1)  # deleted for good once undo is gone
    assert titles(page) == ["Which tech giants had their Hong Kong stablecoin plans…"]


def test_export_matches_the_answers_and_sources_on_screen(page: Any) -> None:
    answer = ask(page, QUESTION)
    expect(page.locator("#qa-export")).to_be_visible()
    with page.expect_download() as download:
        page.click("#qa-export")
    path = download.value.path()
    assert download.value.suggested_filename.endswith(".md")
    markdown = Path(path).read_text(encoding="utf-8")

    assert markdown.startswith("# Which tech giants had their Hong Kong stablecoin plans…\n")
    assert f"## {QUESTION}\n" in markdown
    shown = " ".join(answer.locator(".qa-text").inner_text().split())
    exported = markdown.split(f"## {QUESTION}\n\n", 1)[1].split("\n\nSources:", 1)[0]
    assert " ".join(exported.split()) == shown
    sources = answer.locator(".qa-source")
    assert sources.count() >= 1
    for index in range(sources.count()):
        item = sources.nth(index)
        number = item.locator(".qa-cite").inner_text()
        title = item.locator(".qa-source-title").inner_text()
        where = item.locator(".qa-source-where").inner_text()
        assert f"{number} **{title}** — {where}\n" in markdown
        quote = item.locator(".qa-source-quote").inner_text().strip("“”…")
        flat = " ".join(markdown.replace("\n> ", " ").split())
        assert " ".join(quote.split()) in flat


# -- the same user in two browsers; another user; a restart -------------------------------------
@pytest.fixture(scope="module")
def login_server(seed_index: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    server = start_server(
        tmp_path_factory.mktemp("login-server"),
        seed_index,
        auth_users=json.dumps(
            {"alice": hash_password(PASSWORD), "bob": hash_password(PASSWORD + " bob")}
        ),
    )
    yield server
    stop_server(server)


def signed_in(browser: Any, server: Server, user: str, password: str) -> tuple[Any, Any]:
    """A new browser context signed in as `user`, and its page on the chat."""
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    page = context.new_page()
    page.set_default_timeout(TIMEOUT_MS)
    page.goto(server.url)
    page.get_by_label("username").fill(user)
    page.get_by_label("password").fill(password)
    page.get_by_role("button", name="Login").click()
    page.wait_for_selector("#qa-chat")
    return context, page


def test_same_user_elsewhere_sees_it_another_user_does_not_and_a_restart_keeps_it(
    browser: Any, login_server: Server, tmp_path: Path
) -> None:
    laptop, page = signed_in(browser, login_server, "alice", PASSWORD)
    try:
        ask(page, QUESTION)
        expect(page.locator(LISTED)).to_have_count(1)
    finally:
        laptop.close()

    desk, other = signed_in(browser, login_server, "alice", PASSWORD)
    try:
        expect(other.locator(LISTED)).to_have_count(1)  # another browser, no local state
        expect(other.locator("#qa-chat .qa-answer")).to_have_count(0)  # a new chat is open
        open_conversation(other, "Which tech giants")
        check_first_citation(other, login_server)
    finally:
        desk.close()

    bobs, bob = signed_in(browser, login_server, "bob", PASSWORD + " bob")
    try:
        expect(bob.locator("#qa-history-note")).to_contain_text("No conversations yet")
        assert bob.locator(LISTED).count() == 0
        assert bob.locator("#qa-chat .qa-answer").count() == 0
    finally:
        bobs.close()

    # A restart: a new server process on the same index files.
    restarted = start_server(
        tmp_path,
        login_server.index_dir,
        auth_users=json.dumps({"alice": hash_password(PASSWORD)}),
    )
    try:
        again, page = signed_in(browser, restarted, "alice", PASSWORD)
        try:
            expect(page.locator(LISTED)).to_have_count(1)
            open_conversation(page, "Which tech giants")
            check_first_citation(page, restarted)
            screenshot(page, "conversation-after-restart")
        finally:
            again.close()
    finally:
        stop_server(restarted)


def test_titles_are_text_not_markup(page: Any) -> None:
    ask(page, "What does <b>bold</b> & <i>this</i> mean?")
    expect(page.locator(LISTED)).to_have_count(1)
    assert titles(page) == ["What does <b>bold</b> & <i>this</i> mean?"]
    assert page.locator("#qa-conversations b, #qa-conversations i").count() == 0


@pytest.mark.parametrize("viewport", [{"width": 390, "height": 844}])
def test_phone_width_conversations(page: Any, viewport: dict[str, int]) -> None:
    history = page.locator("#qa-history")
    expect(history).not_to_have_class(re.compile(r"\bopen\b"))  # the chat is not covered
    ask(page, QUESTION)
    toggle = history.locator(".toggle-button").first
    toggle.click()
    new_chat(page)
    expect(history).not_to_have_class(re.compile(r"\bopen\b"))  # closed for the new chat
    toggle.click()
    expect(history).to_have_class(re.compile(r"\bopen\b"))
    expect(page.locator(LISTED)).to_have_count(1)
    page.wait_for_function(  # slid in: the list is on screen
        "document.querySelector('#qa-conversations').getBoundingClientRect().left >= 0"
    )
    screenshot(page, "phone-conversations")
    open_conversation(page, "Which tech giants")
    expect(history).not_to_have_class(re.compile(r"\bopen\b"))  # closed again on a pick
    open_citation(page, page.locator("#qa-chat .qa-answer .qa-text a.qa-cite").first)
    assert page.evaluate("document.documentElement.scrollWidth") <= 390


def test_the_conversations_are_one_group_the_arrow_keys_move_through(page: Any) -> None:
    ask(page, QUESTION)
    new_chat(page)
    ask(page, OTHER)
    expect(page.locator(LISTED)).to_have_count(2)
    options = page.locator("#qa-conversations input[type=radio]")
    names = set(options.evaluate_all("inputs => inputs.map(i => i.name)"))
    assert len(names) == 1, names  # one group: one Tab stop, not one per conversation
    options.first.focus()
    page.keyboard.press("ArrowDown")
    expect(options.nth(1)).to_be_focused()
    expect(page.locator("#qa-chat [data-testid=user]").first).to_contain_text("Which tech giants")


def test_a_delete_asks_and_offers_undo_in_view(page: Any) -> None:
    page.set_viewport_size({"width": 1366, "height": 520})  # the rows under the list: below
    ask(page, QUESTION)
    new_chat(page)
    ask(page, OTHER)
    expect(page.locator(LISTED)).to_have_count(2)
    page.click("#qa-delete")
    expect(page.locator("#qa-confirm-row")).to_be_in_viewport()
    page.click("#qa-confirm-delete")
    expect(page.locator("#qa-undo-row")).to_be_in_viewport()
