"""A read-only server behind a login: the login page, the API and the Documents tab."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

from assistant.ui.auth import hash_password
from tests.servers import Server, start_server, stop_server
from tests.ui.conftest import screenshot
from tests.ui.test_documents_browser import drag_file

pytestmark = [pytest.mark.browser, pytest.mark.integration]

PASSWORD = "long enough passphrase"


@pytest.fixture(scope="module")
def locked_server(seed_index: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    server = start_server(
        tmp_path_factory.mktemp("locked-server"),
        seed_index,
        auth_users=json.dumps({"alice": hash_password(PASSWORD)}),
        ui_allow_upload="false",
        ui_allow_reindex="false",
    )
    yield server
    stop_server(server)


def test_api_needs_the_login(locked_server: Server) -> None:
    from gradio_client import Client

    with pytest.raises(Exception, match=r"(?i)auth|login|401"):
        Client(locked_server.url, verbose=False).predict("Who?", api_name="/ask")
    with pytest.raises(Exception, match=r"(?i)auth|login|401|incorrect"):
        Client(locked_server.url, auth=("alice", "wrong"), verbose=False)
    client = Client(locked_server.url, auth=("alice", PASSWORD), verbose=False)
    reply = client.predict(
        "Which tech giants had their Hong Kong stablecoin plans stopped by Beijing?",
        api_name="/ask",
    )
    assert "Ant Group" in reply["answer"]


def test_login_page_then_read_only_documents(browser: Any, locked_server: Server) -> None:
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    page = context.new_page()
    page.set_default_timeout(60_000)
    try:
        page.goto(locked_server.url)
        page.get_by_label("username").fill("alice")
        page.get_by_label("password").fill("not it")
        page.get_by_role("button", name="Login").click()
        page.get_by_text("Incorrect Credentials").wait_for()
        page.get_by_label("username").fill("alice")
        page.get_by_label("password").fill(PASSWORD)
        page.get_by_role("button", name="Login").click()
        page.wait_for_selector("#qa-chat")
        page.get_by_role("tab", name="Documents").click()
        notes = page.locator("#qa-doc-notes")
        notes.wait_for()
        assert "read-only" in notes.inner_text()
        assert page.locator("#qa-upload, #qa-reindex").count() == 0
        expect(page.locator("#qa-documents")).to_contain_text("Beijing")  # once loaded
        # Preview, but no Delete: a read-only server deletes nothing.
        expect(page.locator("#qa-documents button", has_text="Preview")).to_have_count(1)
        assert page.locator("#qa-documents button", has_text="Delete").count() == 0
        screenshot(page, "read-only-documents")
        # A file dropped on a page without uploads is ignored: no upload, no navigation to it.
        transfer = drag_file(page, "notes.md", "# Notes\n\nNothing to see.\n")
        expect(page.locator("body")).not_to_have_class(re.compile(r"\bqa-dropping\b"))
        kept_from_the_browser = page.evaluate(
            """(transfer) => { const drop = new DragEvent('drop',
                {dataTransfer: transfer, bubbles: true, cancelable: true});
              document.querySelector('#qa-documents').dispatchEvent(drop);
              return drop.defaultPrevented; }""",
            transfer,
        )
        assert kept_from_the_browser  # the browser does not open the file instead of the chat
        expect(page.locator("#qa-ingest-status .qa-status-ok")).to_have_count(0)
        assert "notes.md" not in page.locator("#qa-documents").inner_text()
    finally:
        context.close()
