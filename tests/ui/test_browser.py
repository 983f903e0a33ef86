"""The web chat in headless Chromium against a real `assistant serve`."""

from __future__ import annotations

import json
import re
import time
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

from assistant.catalog_sqlite import SqliteCatalog
from tests.ui.conftest import (
    QUOTE,
    TIMEOUT_MS,
    PageLog,
    Server,
    chat_page,
    open_citation,
    screenshot,
)

pytestmark = pytest.mark.browser

QUESTION = "Which tech giants had their Hong Kong stablecoin plans stopped by Beijing?"
FINAL = ".qa-answer:not(.qa-streaming), .qa-refusal, .qa-error"
HREF = re.compile(r"#cite-([0-9a-f]+)-(\d+)-(\d+)-(\d*)-[0-9a-f]+")


# The chat is done with a question (what assets/settle.js waits for): the question box is
# enabled again and the Stop button gone. Until then Gradio may still redraw the last message,
# and a click whose press and release land on two different drawings of a link is no click.
IDLE = """() => {
  const box = document.querySelector('#qa-question textarea');
  const stop = document.querySelector('#qa-question .stop-button');
  return box !== null && !box.disabled && (stop === null || stop.offsetParent === null);
}"""


def ask(page: Any, question: str) -> Any:
    """Type a question, press Enter, and return the final message it produced, once the chat
    is done with it."""
    before = page.locator(FINAL).count()
    page.fill("#qa-question textarea", question)
    page.press("#qa-question textarea", "Enter")
    page.wait_for_function(
        f"document.querySelectorAll({FINAL!r}).length > {before}", timeout=TIMEOUT_MS
    )
    page.wait_for_function(IDLE, timeout=TIMEOUT_MS)
    return page.locator(FINAL).nth(before)


def cited_text(server: Server, href: str) -> str:
    """What the document's extracted text holds at a citation link's offsets."""
    match = HREF.fullmatch(href)
    assert match, href
    doc_id, start, end = match.group(1), int(match.group(2)), int(match.group(3))
    catalog = SqliteCatalog(server.index_dir / "catalog.sqlite3")
    try:
        return catalog.document_structure(doc_id)[0][start:end]
    finally:
        catalog.close()


def upload(page: Any, *paths: Path) -> None:
    """Choose files with the Documents tab's upload button, as a user does."""
    page.get_by_role("tab", name="Documents").click()
    with page.expect_file_chooser() as chooser:
        page.click("#qa-upload")
    chooser.value.set_files([str(path) for path in paths])


def records(path: Path, count: int) -> list[dict[str, Any]]:
    """The feedback file's records once it holds `count` of them."""
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if path.exists():
            lines = [json.loads(line) for line in path.read_text().splitlines() if line]
            if len(lines) >= count:
                return lines
        time.sleep(0.2)
    raise AssertionError(f"{path} never held {count} records")


def test_citation_opens_the_quoted_passage(page: Any, ui_server: Server) -> None:
    # That the answer shows as streaming first: tests/ui/test_stream_browser.py, on a slow link
    # (here the local answer may reach the page in one read with its streaming updates).
    message = ask(page, QUESTION)
    assert "Ant Group" in message.locator(".qa-text").inner_text()
    assert message.locator(".qa-sources .qa-source").count() >= 1

    first = message.locator(".qa-text a.qa-cite").first
    assert first.inner_text() == "[1]"
    href = first.get_attribute("href")
    first.click()
    mark = page.locator(QUOTE)
    mark.wait_for()
    assert mark.text_content() == cited_text(ui_server, href)
    assert mark.is_visible()
    assert "seeds/000_4f69a52559980107.txt" in page.locator(".qa-viewer-meta").inner_text()

    # At 1280x800 the open panel ends up beside the chat, not over it (it slides in), and the
    # page never scrolls sideways.
    page.wait_for_function(
        """() => {
          const chat = document.querySelector('#qa-chat').getBoundingClientRect();
          const panel = document.querySelector('#qa-viewer').getBoundingClientRect();
          return chat.right <= panel.left && panel.right <= window.innerWidth;
        }"""
    )
    page.wait_for_timeout(400)  # let the slide finish for the screenshot
    assert page.evaluate("document.documentElement.scrollWidth") <= 1280
    screenshot(page, "chat-citation")

    page.click("#qa-viewer a.qa-open")
    page.wait_for_selector("#qa-viewer .qa-viewer[data-view=document]")
    assert page.locator(QUOTE).text_content() == cited_text(ui_server, href)
    screenshot(page, "whole-document")

    message.locator("a.qa-copy").click()
    page.wait_for_selector("a.qa-copy.qa-copied")
    copied = page.evaluate("navigator.clipboard.readText()")
    shown = message.locator(".qa-text").inner_text()
    assert copied.startswith(shown.split("[1]")[0].strip()[:40])
    assert "\n\nSources:\n[1] " in copied
    assert message.locator(".qa-related a.qa-related-link").count() >= 1
    assert "Also found" not in copied  # the copy is the answer and what it cites


def test_a_citation_address_opens_its_passage(
    page: Any, browser: Any, ui_server: Server, page_log: PageLog, viewport: dict[str, int]
) -> None:
    """A citation's link as the page's address (shared, bookmarked, or followed before the
    page's scripts ran) opens the passage, and leaves the address."""
    href = ask(page, QUESTION).locator(".qa-text a.qa-cite").first.get_attribute("href")
    with chat_page(browser, ui_server, page_log, viewport, query=href) as linked:
        mark = linked.locator(QUOTE)
        mark.wait_for()
        assert mark.text_content() == cited_text(ui_server, href)
        linked.wait_for_function("() => window.location.hash === ''")
        assert linked.url == ui_server.url


def test_a_citation_redrawn_while_pressed_still_opens(page: Any, ui_server: Server) -> None:
    """The chat may redraw a message between the press on [1] and its release (its last
    update, a conversation brought back): the browser then sends no click, and the release on
    the redrawn [1] still opens the passage."""
    message = ask(page, QUESTION)
    page.evaluate(
        """() => document.addEventListener('mousedown', () => {
             const text = document.querySelector('#qa-chat .qa-answer .qa-text');
             text.innerHTML = text.innerHTML;  // the same message, drawn anew
           }, {capture: true, once: true})"""
    )
    first = message.locator(".qa-text a.qa-cite").first
    href = first.get_attribute("href")
    first.click()
    mark = page.locator(QUOTE)
    mark.wait_for()
    assert mark.text_content() == cited_text(ui_server, href)


def test_follow_up_shows_what_was_searched(page: Any) -> None:
    ask(page, "What is the name of China's state-backed digital currency?")
    follow_up = ask(page, "And how many users is it being tested with?")
    searched = follow_up.locator(".qa-searched")
    assert "digital currency" in searched.inner_text()
    assert "hundreds of millions" in follow_up.locator(".qa-text").inner_text()


def test_unanswerable_question_is_a_refusal(page: Any, ui_server: Server) -> None:
    refusal = ask(page, "What is the boiling point of mercury on Mars?")
    assert "qa-refusal" in (refusal.get_attribute("class") or "")
    assert "Not found in the documents" in refusal.inner_text()
    assert "rephras" in refusal.locator(".qa-hint").inner_text()
    assert refusal.locator(".qa-text a.qa-cite").count() == 0
    assert refusal.evaluate("el => getComputedStyle(el).borderTopStyle") == "dashed"
    screenshot(page, "refusal")
    # Folded under it, the closest passages the search found; each opens in the panel.
    closest = refusal.locator("details.qa-related")
    assert closest.locator("summary").text_content().startswith("Closest passages found")
    link = closest.locator("a.qa-related-link").first
    assert not link.is_visible()
    closest.locator("summary").click()
    href = link.get_attribute("href")
    link.click()
    mark = page.locator(QUOTE)
    mark.wait_for()
    assert mark.text_content() == cited_text(ui_server, href)
    assert link.inner_text() in page.locator("#qa-viewer").inner_text()  # its section
    screenshot(page, "refusal-closest-passages")


def test_example_questions_come_from_the_corpus_and_run(page: Any) -> None:
    examples = page.locator("#qa-chat .examples button, #qa-chat button.example")
    examples.nth(1).wait_for()  # set when the page loads, from what this user may read
    text = examples.first.inner_text()
    assert text.endswith("?")
    assert "Tell me about" not in text
    examples.first.click()
    answer = page.wait_for_selector(FINAL)
    assert answer is not None
    assert "qa-refusal" not in (answer.get_attribute("class") or "")  # asked before offered
    assert answer.query_selector("a.qa-cite") is not None


def test_thumbs_up_writes_a_feedback_record(page: Any, ui_server: Server) -> None:
    already = len(records(ui_server.feedback, 0)) if ui_server.feedback.exists() else 0
    message = ask(page, QUESTION)
    answer_text = message.locator(".qa-text").inner_text()
    page.locator("#qa-chat button[aria-label='Like']").last.click()
    record = records(ui_server.feedback, already + 1)[-1]
    assert record["rating"] == "up"
    assert record["question"] == QUESTION
    assert record["refused"] is False
    assert record["citations"]
    assert record["citations"][0]["quote"]
    assert record["answer"].split(" [1]")[0] in answer_text
    assert record["settings"]["answerer"] == "extractive"

    page.fill("#qa-comment textarea", "Exactly what I needed")
    page.click("#qa-send")
    commented = records(ui_server.feedback, already + 2)[-1]
    assert commented["id"] == record["id"]
    assert commented["comment"] == "Exactly what I needed"
    page.wait_for_selector("#qa-comment-row", state="hidden")


def test_uploaded_document_is_indexed_and_answers(
    page: Any, ui_server: Server, tmp_path: Path
) -> None:
    doc = tmp_path / "parking.md"
    doc.write_text(
        "# Parking policy\n\nStaff parking permits are issued by the facilities desk on the "
        "second floor.\n\nVisitors register their car at reception.\n"
    )
    # The server is the session's: other files' tests may have uploaded to it already.
    counted = re.compile(r"\((\d+) documents?,")
    expect(page.locator("#qa-header")).to_contain_text(counted, timeout=TIMEOUT_MS)
    before = counted.search(page.locator("#qa-header").inner_text())
    assert before is not None
    upload(page, doc)
    status = page.locator("#qa-ingest-status .qa-status-ok")
    status.wait_for()
    assert "Added 1" in status.inner_text()
    expect(page.locator("#qa-documents")).to_contain_text("Parking policy", timeout=TIMEOUT_MS)
    expect(page.locator("#qa-header")).to_contain_text(
        f"{int(before.group(1)) + 1} documents", timeout=TIMEOUT_MS
    )  # updated after the upload
    screenshot(page, "documents")
    page.get_by_role("tab", name="Chat").click()
    answer = ask(page, "Where are staff parking permits issued?")
    assert "facilities desk" in answer.locator(".qa-text").inner_text()
    assert "Parking policy" in answer.locator(".qa-source-title").first.inner_text()


def test_bad_uploads_get_clear_errors(page: Any, tmp_path: Path) -> None:
    broken = tmp_path / "minutes.pdf"
    broken.write_bytes(b"%PDF-1.7 not really a pdf")
    upload(page, broken)
    error = page.locator("#qa-ingest-status .qa-status-error")
    error.wait_for()
    assert "minutes.pdf" in error.inner_text()
    assert "PDF" in error.inner_text()

    tool = tmp_path / "tool.exe"
    tool.write_bytes(b"MZ\x00")
    upload(page, tool)
    toast = page.get_by_text(re.compile(r"Invalid file type.*tool\.exe"))
    toast.wait_for()


def test_document_markup_cannot_run(page: Any, tmp_path: Path) -> None:
    doc = tmp_path / "canary.txt"
    doc.write_text(
        "Drill notes.\nThe canary code for the fire drill is 4711 "
        "<img src=x onerror=\"window.__pwned='img'\"><script>window.__pwned='script'</script>.\n"
    )
    upload(page, doc)
    page.locator("#qa-ingest-status .qa-status-ok").wait_for()
    page.get_by_role("tab", name="Chat").click()
    answer = ask(page, "What is the canary code for the fire drill?")
    assert "<script>" in answer.locator(".qa-text").inner_text()  # shown as text
    open_citation(page, answer.locator(".qa-text a.qa-cite").first)
    assert "<img src=x" in page.locator("#qa-viewer").inner_text()
    page.wait_for_timeout(500)
    assert page.evaluate("window.__pwned") is None
    assert page.locator("img[src=x], #qa-chat script, #qa-viewer script").count() == 0


def on_screen(locator: Any, height: int = 844) -> bool:
    """Whether some of the element is inside the window (of `height`)."""
    box = locator.bounding_box()
    return box is not None and box["y"] < height and box["y"] + box["height"] > 0


@pytest.mark.parametrize("viewport", [{"width": 390, "height": 844}])
def test_phone_width_layout(page: Any, viewport: dict[str, int]) -> None:
    box = page.locator("#qa-question textarea").bounding_box()
    assert box["x"] >= 0
    assert box["x"] + box["width"] <= 390
    ask(page, QUESTION)
    message = ask(page, "Who first reported the move?")
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    # The chat scrolls with the page, not in a box of its own: the new question and its
    # answer are on screen, not scrolled away behind a box showing the sources list.
    log = page.locator("#qa-chat [role=log]")
    assert log.evaluate("(e) => e.scrollHeight <= e.clientHeight + 1")
    assert page.evaluate("document.documentElement.scrollHeight") > 844  # the page scrolls
    assert on_screen(page.locator("#qa-chat [data-testid=user]").last)
    assert on_screen(message.locator(".qa-text"))
    assert page.locator(".toast-body").count() == 0  # no error at load (a heading-less upload)
    # Retry, Undo and the thumbs under the answer are a finger's target, 44 px at least.
    actions = page.locator("#qa-chat .icon-button-wrapper .icon-button").filter(visible=True)
    assert actions.count() >= 3
    for button in actions.all():
        size = button.bounding_box()
        assert size is not None
        assert size["width"] >= 44
        assert size["height"] >= 44
    message.locator("details.qa-related summary").click()  # opened, the list fits the width
    expect(message.locator("a.qa-related-link").first).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    for link in message.locator("a.qa-related-link").all():
        box = link.bounding_box()
        assert box is not None
        assert box["x"] >= 0
        assert box["x"] + box["width"] <= 390
    screenshot(page, "phone-chat")
    open_citation(page, message.locator(".qa-text a.qa-cite").first)
    # The panel slides over the chat and the quote ends up on screen.
    page.wait_for_function(
        """() => { const r = document.querySelector('#qa-viewer mark.qa-quote')
          .getBoundingClientRect(); return r.left >= 0 && r.right <= 390 && r.top >= 0
          && r.bottom <= 844; }"""
    )
    # A large close button, in from the edge, on top of everything (no arrow over the text).
    # (Waited for, not read once: the panel slides in.)
    close = page.get_by_role("button", name="Close source panel")
    close.wait_for()
    page.wait_for_function(
        """() => { const b = document.querySelector('#qa-sidebar.open > .toggle-button');
          const r = b.getBoundingClientRect();
          const hit = document.elementFromPoint(r.x + r.width / 2, r.y + r.height / 2);
          return r.width >= 44 && r.height >= 44 && r.left >= 8 && r.right <= 390 - 8
            && r.top >= 8 && (b === hit || b.contains(hit)); }"""
    )
    assert page.locator(".scroll-down-button-container:visible").count() == 0
    screenshot(page, "phone-citation")
    close.click()
    expect(page.locator("#qa-sidebar")).not_to_have_class(re.compile(r"\bopen\b"))


def test_page_loads_only_from_this_machine(page: Any, page_log: PageLog) -> None:
    page.get_by_role("tab", name="Documents").click()
    page.wait_for_selector("#qa-documents")
    page.get_by_role("tab", name="Chat").click()
    assert page_log.hosts == {"127.0.0.1"}
    assert page_log.errors == []
    # The theme uses the system's fonts rather than Gradio's default web font.
    font = page.evaluate("getComputedStyle(document.querySelector('#qa-chat')).fontFamily")
    assert font.startswith("system-ui")
