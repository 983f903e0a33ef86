"""Answers drawn as text, lists and code, and files named as people know them (never by the
server's paths), in headless Chromium against a real `assistant serve` whose configured
folders are the seeds and a `handbook` folder, with one document uploaded."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

from assistant import Assistant
from tests.conftest import SEEDS, copy_index, make_settings
from tests.servers import Server, start_server, stop_server
from tests.ui.conftest import QUOTE, PageLog, chat_page, open_citation, screenshot
from tests.ui.test_browser import ask, upload

pytestmark = pytest.mark.browser

PRINTING = """# Printing at the office

## Installing the print client

To install the print client on a laptop, run the following command:

    sudo apt install office-print-client --yes

## Printer rooms

The colour printers are in the following rooms:

- Room 101 next to the kitchen
- Room 202 beside the library

## Toner

Replacement toner is ordered by the facilities desk <img src=x onerror="window.__pwned='img'">
and <script>window.__pwned='script'</script> arrives within two days.
"""
PARKING = """Parking at the head office

Staff parking permits are issued by the facilities desk on the second floor.
"""


@pytest.fixture(scope="module")
def handbook_server(seed_index: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    root = tmp_path_factory.mktemp("handbook")
    handbook = root / "srv" / "handbook"
    (handbook / "it").mkdir(parents=True)
    (handbook / "it" / "printing.md").write_text(PRINTING, encoding="utf-8")
    index = root / "prebuilt"
    copy_index(seed_index, index)
    report = Assistant(make_settings(index)).ingest([SEEDS, handbook])
    assert report.added == 1
    assert not report.failed
    server = start_server(root, index, sources=f"{SEEDS},{handbook}")
    yield server
    stop_server(server)


@pytest.fixture
def handbook_page(browser: Any, handbook_server: Server, page_log: PageLog) -> Iterator[Any]:
    with chat_page(browser, handbook_server, page_log, {"width": 1280, "height": 800}) as page:
        yield page


def test_lists_and_commands_are_lists_and_code(handbook_page: Any) -> None:
    page = handbook_page
    command = ask(page, "How do I install the print client?")
    code = command.locator(".qa-text pre.qa-code")
    expect(code).to_have_text("sudo apt install office-print-client --yes")
    assert command.locator(".qa-text p").first.inner_text().endswith("following command:")
    assert command.locator(".qa-text .qa-code-cite a.qa-cite").inner_text() == "[1]"

    rooms = ask(page, "Which rooms have the colour printers?")
    items = rooms.locator(".qa-text ul.qa-list > li")
    expect(items).to_have_count(2)
    assert items.nth(0).inner_text() == "Room 101 next to the kitchen"
    assert items.nth(1).inner_text().startswith("Room 202 beside the library")
    # The citation chip still opens its passage.
    open_citation(page, items.nth(1).locator("a.qa-cite"))
    expect(page.locator(QUOTE)).to_contain_text("Room 202")
    screenshot(page, "answer-list-and-code")

    rooms.locator("a.qa-copy").click()
    page.wait_for_selector("a.qa-copy.qa-copied")
    copied = page.evaluate("navigator.clipboard.readText()")
    assert "rooms:\n- Room 101 next to the kitchen\n- Room 202 beside the library [1]" in copied


def test_markup_in_a_document_renders_inert(handbook_page: Any) -> None:
    page = handbook_page
    answer = ask(page, "Who orders the replacement toner?")
    text = answer.locator(".qa-text").inner_text()
    # Markdown is read as the rendered page: its tags (and the script's code) never reach the
    # index, so the answer holds the sentence without them (tests/security keeps such markup
    # in a plain-text document to show that the page escapes it).
    assert "facilities desk and arrives within two days" in text
    assert "<script>" not in text
    assert "__pwned" not in text
    assert page.evaluate("window.__pwned") is None
    assert page.locator("#qa-chat img[src=x], #qa-chat script").count() == 0


def visible_text(page: Any) -> str:
    """The page's text and every attribute a person can meet (titles, labels, links)."""
    return str(
        page.evaluate(
            """() => document.body.innerText + '\\n' + [...document.querySelectorAll('*')]
              .flatMap((el) => ['title', 'aria-label', 'href', 'alt', 'placeholder', 'value']
                .map((name) => el.getAttribute(name) || '')).join('\\n')"""
        )
    )


def test_files_are_named_inside_the_document_folders(
    handbook_page: Any, handbook_server: Server, tmp_path: Path
) -> None:
    page = handbook_page
    server_root = str(handbook_server.data_dir.parent)
    # Every text the page shows while the upload is indexed, the progress included.
    page.evaluate(
        """() => { window.__texts = [];
        new MutationObserver(() => window.__texts.push(document.body.innerText))
          .observe(document.body, {subtree: true, childList: true, characterData: true}); }"""
    )
    doc = tmp_path / "parking.txt"
    doc.write_text(PARKING, encoding="utf-8")
    upload(page, doc)
    page.locator("#qa-ingest-status .qa-status-ok").wait_for()
    documents = page.locator("#qa-documents")
    expect(documents).to_contain_text("uploads/parking.txt")
    expect(documents).to_contain_text("handbook/it/printing.md")
    # (What the progress says is in test_names.py: a fast upload may never show it.)
    assert not any(server_root in text for text in page.evaluate("window.__texts"))

    page.get_by_role("tab", name="Chat").click()
    answer = ask(page, "Where are staff parking permits issued?")
    expect(answer.locator(".qa-source-where").first).to_have_text("uploads/parking.txt")
    open_citation(page, answer.locator(".qa-text a.qa-cite").first)
    expect(page.locator("#qa-viewer .qa-viewer-meta")).to_have_text("uploads/parking.txt (txt)")
    printing = ask(page, "How do I install the print client?")
    expect(printing.locator(".qa-source-where").first).to_contain_text("handbook/it/printing.md")
    assert server_root not in visible_text(page)
    assert "/srv/" not in visible_text(page)
    # The audit log has the upload (by file name), the questions and the cited passage shown.
    records = [
        json.loads(line)
        for line in (handbook_server.index_dir / "audit.log").read_text("utf-8").splitlines()
    ]
    [uploaded] = [r for r in records if r["event"] == "upload"]
    assert uploaded["targets"] == ["parking.txt"]
    assert uploaded["added"] == 1
    # This test's two questions: the last ones (the module's other tests share the server).
    questions = [r for r in records if r["event"] == "question"][-2:]
    assert all(r["request_id"] and r["cited"] for r in questions)
    assert len({r["request_id"] for r in questions}) == 2  # one id per chat turn
    shown = [r for r in records if r["event"] == "document_shown"][-1]
    assert shown["allowed"] is True
    assert shown["doc_id"] in questions[0]["cited"]
    assert "issued by the facilities desk" not in json.dumps(records)  # no document text
