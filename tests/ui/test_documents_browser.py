"""The Documents tab at size, in headless Chromium against a real `assistant serve`: search,
sort, preview and delete (confirmed), and its cards at a phone's width."""

from __future__ import annotations

import re
import shutil
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

from assistant.audit import AuditLog
from tests.conftest import SEED_FILE, make_settings
from tests.servers import Server
from tests.ui.conftest import click_until, screenshot
from tests.ui.test_browser import ask, upload

pytestmark = pytest.mark.browser

LOCKERS = "# Locker rules\n\nLocker keys are handed out by the caretaker in room 12.\n"


def titles(page: Any) -> list[str]:
    """The titles the table shows, top to bottom."""
    return [t.strip() for t in page.locator("#qa-documents td.qa-doc-title").all_inner_texts()]


def test_documents_are_searched_sorted_previewed_and_deleted(
    page: Any, ui_server: Server, tmp_path: Path
) -> None:
    doc = tmp_path / "lockers.md"
    doc.write_text(LOCKERS, encoding="utf-8")
    upload(page, doc)
    page.locator("#qa-ingest-status .qa-status-ok").wait_for()
    table = page.locator("#qa-documents")
    expect(table).to_contain_text("Locker rules")
    assert len(titles(page)) >= 2

    search = page.get_by_label("Search documents")
    search.fill("LOCKER rules")
    expect(table.locator("tbody tr")).to_have_count(1)
    expect(table.locator(".qa-doc-matches")).to_contain_text("documents matches “LOCKER rules”")
    search.fill("no such words anywhere")
    expect(table).to_contain_text("No document matches “no such words anywhere”")
    search.fill("")
    expect(table.locator(".qa-doc-matches")).to_have_count(0)

    page.get_by_label("Sort by").click()
    page.get_by_role("option", name="Title (A-Z)").click()
    page.wait_for_function(
        """() => { const t = [...document.querySelectorAll('#qa-documents td.qa-doc-title')]
          .map((c) => c.innerText.trim().toLowerCase());
          return t.length > 1 && t.every((x, i) => i === 0 || t[i - 1] <= x); }"""
    )
    shown = titles(page)
    assert shown == sorted(shown, key=str.casefold)

    # Preview: the whole text in the source panel; Esc closes it and returns to the button.
    preview = table.get_by_role("button", name="Preview Locker rules")
    preview.click()
    panel = page.locator("#qa-viewer .qa-viewer[data-view=preview]")
    expect(panel).to_contain_text("handed out by the caretaker in room 12")
    expect(panel.locator(".qa-viewer-meta")).to_have_text("uploads/lockers.md (md) · 1 passage")
    page.keyboard.press("Escape")
    expect(page.locator("#qa-sidebar")).not_to_have_class(re.compile(r"\bopen\b"))
    expect(preview).to_be_focused()

    # The page widens back as the panel closes (Gradio's 0.3 s padding transition): once it has,
    # Delete is where it stays.
    page.wait_for_function(
        "() => getComputedStyle(document.querySelector('.sidebar-parent')).paddingRight === '0px'"
    )

    # Delete asks first; Cancel keeps the document. (A loaded clean-clone run once lost the first
    # Delete click, no confirmation ever came: the user clicks again, so does `click_until`.)
    delete = table.get_by_role("button", name="Delete Locker rules")
    confirm = page.locator("#qa-doc-confirm")
    click_until(delete, confirm)
    expect(confirm).to_contain_text("Delete “Locker rules” (uploads/lockers.md)?")
    expect(page.locator("#qa-doc-cancel")).to_be_focused()
    page.click("#qa-doc-cancel")
    expect(confirm).to_be_hidden()
    expect(table).to_contain_text("Locker rules")
    click_until(delete, confirm)
    page.click("#qa-doc-delete")
    expect(page.locator("#qa-ingest-status .qa-status-ok")).to_contain_text(
        "Deleted “Locker rules” (uploads/lockers.md)."
    )
    expect(confirm).to_be_hidden()
    expect(table).not_to_contain_text("Locker rules")
    screenshot(page, "documents-deleted")
    # The audit log ties the deletion to its own request, as every other change of the index.
    audit = AuditLog.from_settings(make_settings(ui_server.index_dir))
    deleted = list(audit.records(event="delete"))
    assert deleted[-1].request_id
    assert deleted[-1].details["doc_id"]

    # Gone from the answers too.
    page.get_by_role("tab", name="Chat").click()
    answer = ask(page, "Who hands out the locker keys?")
    assert "caretaker" not in answer.inner_text()


def test_column_headings_sort_the_table(page: Any, tmp_path: Path) -> None:
    for name, title in (("zebra.md", "Zebra crossing rules"), ("aardvark.md", "Aardvark care")):
        (tmp_path / name).write_text(f"# {title}\n\nKept in the annex.\n", encoding="utf-8")
    upload(page, tmp_path / "zebra.md", tmp_path / "aardvark.md")
    page.locator("#qa-ingest-status .qa-status-ok").wait_for()
    table = page.locator("#qa-documents")
    expect(table).to_contain_text("Aardvark care")
    sort = page.get_by_label("Sort by")

    title = table.get_by_role("button", name="Title", exact=True)
    expect(title.locator("xpath=..")).to_have_attribute("aria-sort", "none")
    title.click()
    expect(sort).to_have_value("Title (A-Z)")  # the "Sort by" choice follows the heading
    expect(table.get_by_role("columnheader", name="Title")).to_have_attribute(
        "aria-sort", "ascending"
    )
    shown = titles(page)
    assert shown == sorted(shown, key=str.casefold)
    assert shown.index("Aardvark care") < shown.index("Zebra crossing rules")

    # "Last indexed": newest first, and a second click turns it round.
    table.get_by_role("button", name="Last indexed").click()
    expect(sort).to_have_value("Newest first")
    expect(table.get_by_role("columnheader", name="Last indexed")).to_have_attribute(
        "aria-sort", "descending"
    )
    table.get_by_role("button", name="Last indexed").click()
    expect(sort).to_have_value("Oldest first")
    expect(table.get_by_role("columnheader", name="Last indexed")).to_have_attribute(
        "aria-sort", "ascending"
    )
    assert titles(page)[-1] in {"Aardvark care", "Zebra crossing rules"}  # the newest last


def drag_file(page: Any, name: str, text: str) -> Any:
    """A DataTransfer holding one file, as a file manager's drag carries it, over the page."""
    transfer = page.evaluate_handle(
        """([name, text]) => { const transfer = new DataTransfer();
        transfer.items.add(new File([text], name, {type: 'text/markdown'}));
        return transfer; }""",
        [name, text],
    )
    page.dispatch_event("#qa-chat", "dragenter", {"dataTransfer": transfer})
    page.dispatch_event("#qa-chat", "dragover", {"dataTransfer": transfer})
    return transfer


def test_files_dropped_anywhere_on_the_page_are_uploaded(page: Any) -> None:
    bikes = "# Bike rules\n\nBikes are parked in the courtyard shed behind building C.\n"
    transfer = drag_file(page, "bikes.md", bikes)  # over the chat, the Documents tab unseen
    expect(page.locator("body")).to_have_class(re.compile(r"\bqa-dropping\b"))
    page.dispatch_event("#qa-chat", "drop", {"dataTransfer": transfer})
    expect(page.locator("body")).not_to_have_class(re.compile(r"\bqa-dropping\b"))
    # The Documents tab opens to show the upload's progress and outcome.
    expect(page.get_by_role("tab", name="Documents")).to_have_attribute("aria-selected", "true")
    expect(page.locator("#qa-ingest-status .qa-status-ok")).to_contain_text("Added 1")
    expect(page.locator("#qa-documents")).to_contain_text("uploads/bikes.md")
    page.get_by_role("tab", name="Chat").click()
    answer = ask(page, "Where are bikes parked?")
    expect(answer).to_contain_text("courtyard shed")


@pytest.mark.parametrize("viewport", [{"width": 390, "height": 844}])
def test_documents_are_cards_at_a_phone_width(page: Any, viewport: dict[str, int]) -> None:
    page.get_by_role("tab", name="Documents").click()
    card = page.locator("#qa-documents tbody tr").first
    card.wait_for()
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    # One card a document: its cells stacked at the card's full width, no column squeezed
    # into wrapping letter by letter.
    box = card.bounding_box()
    assert box["width"] >= 300
    for cell in card.locator("td").all():
        assert cell.bounding_box()["width"] >= box["width"] - 20
    for name in ("title", "file"):  # whole words a line (a squeezed column had 1-3 letters)
        letters, lines = card.locator(f"td.qa-doc-{name}").evaluate(
            """(e) => { const s = getComputedStyle(e);
              const inner = e.clientHeight - parseFloat(s.paddingTop) - parseFloat(s.paddingBottom);
              return [e.innerText.trim().length, Math.round(inner / parseFloat(s.lineHeight))]; }"""
        )
        # A short title fits on one line; a longer one keeps at least 15 letters a line.
        assert lines == 1 or letters / lines >= 15, (name, letters, lines)
    header = page.locator("#qa-documents thead").bounding_box()
    assert header["height"] <= 1  # the labels are inside each card instead
    preview = card.get_by_role("button", name="Preview")
    size = preview.bounding_box()
    assert size["width"] >= 44
    assert size["height"] >= 44
    card.scroll_into_view_if_needed()
    screenshot(page, "phone-documents")


def long_pdf(path: Path, pages: int) -> Path:
    """A PDF of `pages` pages, each a short paragraph naming that page's own fact."""
    from reportlab.lib.pagesizes import A4
    from reportlab.pdfgen import canvas

    pdf = canvas.Canvas(str(path), pagesize=A4)
    for number in range(1, pages + 1):
        pdf.drawString(72, 770, f"Maintenance bay {number}")
        pdf.drawString(72, 750, f"Bay {number} uses air filter model FX-{number:03d}.")
        pdf.drawString(72, 735, f"Its inspection is due every {number % 9 + 2} weeks.")
        pdf.showPage()
    pdf.save()
    return path


def test_a_200_page_pdf_upload_shows_its_progress_rising_and_finishes(
    browser: Any, page_log: Any, seed_index: Path, tmp_path: Path
) -> None:
    """A broken upload's error, then a 200-page PDF: the error gives way to one progress
    indicator (in the status area) whose share rises while the PDF is read and indexed; then
    the report, the table lists the document, and its facts are answered."""
    from tests.servers import start_server, stop_server
    from tests.ui.conftest import chat_page

    server = start_server(tmp_path / "server", seed_index)
    try:
        with chat_page(browser, server, page_log, {"width": 1280, "height": 800}) as page:
            # Every change of the page: how many progress bars count files or texts, and what
            # the status area's one says.
            page.evaluate(
                """() => { window.__progress = [];
                new MutationObserver(() => {
                  const bars = [...document.querySelectorAll('.progress-text')].filter((n) =>
                    n.offsetParent !== null && /\\d+\\/\\d+ (texts|files)/.test(n.innerText));
                  const level = document.querySelector('#qa-ingest-status .progress-level-inner');
                  const now = bars.length + ' ' + (level ? level.innerText.trim() : '');
                  const log = window.__progress;
                  if (bars.length && now !== log[log.length - 1]) log.push(now);
                }).observe(document.body, {subtree: true, childList: true,
                  characterData: true}); }"""
            )
            broken = tmp_path / "scanner-output.pdf"
            broken.write_bytes(b"%PDF-1.4 this is not really a PDF")
            upload(page, broken)
            status = page.locator("#qa-ingest-status")
            expect(status.locator(".qa-status-error")).to_contain_text("scanner-output.pdf")
            page.evaluate("window.__progress = []")
            upload(page, long_pdf(tmp_path / "bays.pdf", 200))
            status.locator(".qa-status-ok").wait_for()
            expect(status.locator(".qa-status-error")).to_have_count(0)  # the old error is gone
            expect(status).not_to_contain_text("scanner-output.pdf")
            seen: list[str] = page.evaluate("window.__progress")
            assert seen, "no progress was shown"
            assert all(text.startswith("1 ") for text in seen), seen  # one indicator at a time
            shares = [int(m) for text in seen for m in re.findall(r"\((\d+) % of its text\)", text)]
            assert len(set(shares)) >= 3, seen  # several steps shown, not one frozen bar
            assert shares == sorted(shares), seen  # rising
            assert max(shares) >= 50, seen
            assert "Finishing" in seen[-1] or max(shares) >= 90, seen
            expect(page.locator("#qa-documents")).to_contain_text("bays.pdf")
            page.get_by_role("tab", name="Chat").click()
            answer = ask(page, "Which air filter model does bay 137 use?")
            expect(answer).to_contain_text("FX-137")
    finally:
        stop_server(server)


def test_suggested_questions_follow_an_upload_into_an_empty_index(
    browser: Any, page_log: Any, tmp_path: Path
) -> None:
    """A server without documents suggests nothing and says so; after an upload the empty
    chat suggests questions drawn from the uploaded document, without a reload."""
    from tests.servers import start_server, stop_server
    from tests.ui.conftest import chat_page

    empty = tmp_path / "empty-index"
    empty.mkdir()
    server = start_server(tmp_path / "server", empty)
    try:
        with chat_page(browser, server, page_log, {"width": 1280, "height": 800}) as page:
            chat = page.locator("#qa-chat")
            expect(chat).to_contain_text("No documents are indexed yet")
            expect(chat.locator(".example, .examples button")).to_have_count(0)
            doc = tmp_path / SEED_FILE.name
            shutil.copy(SEED_FILE, doc)
            upload(page, doc)
            page.locator("#qa-ingest-status .qa-status-ok").wait_for()
            page.get_by_role("tab", name="Chat").click()
            examples = chat.locator(".example, .examples button")
            examples.first.wait_for()
            shown = " ".join(examples.all_inner_texts()).lower()
            assert any(word in shown for word in ("stablecoin", "hong kong", "web3")), shown
            expect(chat).not_to_contain_text("No documents are indexed yet")
    finally:
        stop_server(server)
