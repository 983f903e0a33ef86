"""The web chat signed in as catalog users, on a real server: a member never sees a byte of a
collection not granted to them (answers, source panel, suggested questions, Documents tab,
stored conversations and their export, the page's config, the `ask` API), an admin sees it,
a settings login reads everything, and the login page names the product and signs out."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import expect

from assistant.accounts import Accounts
from assistant.core import Assistant
from assistant.ui.auth import hash_password
from tests.conftest import make_settings
from tests.servers import Server, start_server, stop_server
from tests.ui.conftest import TIMEOUT_MS, screenshot
from tests.ui.test_accessibility_browser import axe
from tests.ui.test_browser import FINAL, ask

pytestmark = [pytest.mark.browser, pytest.mark.integration]

SECRET = "Quillfeather"  # only in board/merger-notes.md, collection `board`
SECRET_FILE = "merger-notes"
BOARD_QUESTION = "What acquisition did the board approve?"
OPEN_QUESTION = "When does the office open?"
TITLE = "Acme answers"
PASSWORDS = {"alice": "alice-password", "dave": "dave-password", "ops": "ops-password"}
DOCS = {
    "board/merger-notes.md": "# Project Quillfeather\n\nThe board approved Project Quillfeather, "
    "the acquisition of Northwind Tools, for 42 million euros. The deal closes in June. "
    "Project Quillfeather is the code name of the Northwind Tools acquisition.\n\n"
    "## Quillfeather integration plan\n\nNorthwind staff move to the Leeds office in "
    "September.\n",
    "open/handbook.md": "# Staff handbook\n\n## Office hours\n\nThe office opens at eight in the "
    "morning and closes at six in the evening.\n\n## Parking rules\n\nStaff park in the "
    "north car park; visitors use the south one.\n\n## Booking a meeting room\n\nBook a "
    "meeting room in the shared calendar by noon on the day before you need it.\n",
}
Team = tuple[Server, dict[str, str]]  # the server and the documents' catalog ids by file name


@pytest.fixture(scope="module")
def team_chat(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Team]:
    """`board` holds the secret; alice (member of `staff`) may read `default` only, dave is an
    admin, `ops` a login of the settings."""
    root = tmp_path_factory.mktemp("team-docs")
    for name, text in DOCS.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text, "utf-8")
    index = tmp_path_factory.mktemp("team-built") / "index"
    assistant = Assistant(make_settings(index))
    assistant.ingest([root / "open"])
    assistant.ingest([root / "board"], collection="board")
    ids = {Path(r.source).name: r.doc_id for r in assistant.documents()}
    accounts = Accounts(index / "catalog.sqlite3")
    accounts.add_user("alice", PASSWORDS["alice"], ["staff"])
    accounts.add_user("dave", PASSWORDS["dave"], admin=True)
    accounts.grant("default", group="staff")
    assistant.close()
    server = start_server(
        tmp_path_factory.mktemp("team-serve"),
        index,
        auth_users=json.dumps({"ops": hash_password(PASSWORDS["ops"])}),
        ui_title=TITLE,
    )
    yield server, ids
    stop_server(server)


def page_and_config(server: Server, name: str) -> tuple[httpx.Response, httpx.Response]:
    """The page and `/config` as `name` sees them, signed in through Gradio's /login."""
    with httpx.Client(base_url=server.url, timeout=180) as client:
        response = client.post("/login", data={"username": name, "password": PASSWORDS[name]})
        assert response.status_code == 200, response.text
        return client.get("/"), client.get("/config")


def ask_api(server: Server, name: str, question: str) -> dict[str, Any]:
    """The chat's public `ask` endpoint, called as `name` with gradio_client."""
    from gradio_client import Client

    client = Client(server.url, auth=(name, PASSWORDS[name]), verbose=False)
    reply: dict[str, Any] = client.predict(question, api_name="/ask")
    return reply


def test_the_ask_api_answers_each_login_from_what_it_may_read(team_chat: Team) -> None:
    server, _ = team_chat
    member = ask_api(server, "alice", BOARD_QUESTION)
    assert member["refused"] is True
    assert SECRET not in json.dumps(member)
    assert SECRET in ask_api(server, "dave", BOARD_QUESTION)["answer"]
    assert SECRET in ask_api(server, "ops", BOARD_QUESTION)["answer"]  # a settings login
    assert "eight" in ask_api(server, "alice", OPEN_QUESTION)["answer"]


def test_the_page_config_holds_nothing_of_the_documents(team_chat: Team) -> None:
    server, _ = team_chat
    for name in ("alice", "dave"):
        page, config = page_and_config(server, name)
        assert page.status_code == config.status_code == 200
        assert "auth_required" not in config.text  # signed in
        for body in (page.text, config.text):
            assert SECRET not in body
            assert SECRET_FILE not in body
            assert "Office hours" not in body  # nothing of any document, for anyone


def test_a_wrong_password_and_the_login_page(browser: Any, team_chat: Team) -> None:
    server, _ = team_chat
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    page = context.new_page()
    page.set_default_timeout(TIMEOUT_MS)
    try:
        page.goto(server.url)
        page.get_by_label("username").wait_for()
        assert page.title() == TITLE
        expect(page.locator(".qa-login-product")).to_have_text(TITLE)
        assert axe(page) == []  # the login page, and below with its error, pass axe-core
        page.get_by_label("username").fill("alice")
        page.get_by_label("password").fill("not her password")
        page.get_by_role("button", name="Login").click()
        page.get_by_text("Incorrect Credentials").wait_for()
        assert axe(page) == []
        expect(page.get_by_label("username")).to_have_value("alice")  # kept for the next try
        expect(page.get_by_label("password")).to_have_value("")
        screenshot(page, "login-failed")
        page.get_by_label("password").fill(PASSWORDS["alice"])
        page.get_by_role("button", name="Login").click()
        page.wait_for_selector("#qa-chat")
        expect(page.locator("#qa-header .qa-signed-in")).to_contain_text("Signed in as alice")
        assert page.title() == TITLE
        page.click("#qa-logout")
        page.get_by_label("username").wait_for()
        expect(page.locator("#qa-chat")).to_have_count(0)
        page.goto(server.url)  # the login is gone, not just hidden
        page.get_by_label("username").wait_for()
    finally:
        context.close()


def sign_in(browser: Any, server: Server, name: str, password: str | None = None) -> Any:
    """A page of the chat signed in as `name` (with `password`, else theirs in PASSWORDS),
    once its load events have filled it."""
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    page = context.new_page()
    page.set_default_timeout(TIMEOUT_MS)
    page.goto(server.url)
    page.get_by_label("username").fill(name)
    page.get_by_label("password").fill(password or PASSWORDS[name])
    page.get_by_role("button", name="Login").click()
    page.wait_for_selector("#qa-chat")
    expect(page.locator("#qa-header")).to_contain_text("passages indexed")
    return page


def example_texts(page: Any) -> list[str]:
    """The suggested questions on the empty chat, once the page's load has set them."""
    examples = page.locator("#qa-chat .examples button, #qa-chat button.example")
    examples.first.wait_for()
    texts: list[str] = examples.all_inner_texts()
    return texts


def open_passage(page: Any, doc_id: str, view: str = "passage") -> str:
    """Ask the source panel for a span of a document by id (as a crafted citation link
    would) and return what the panel shows (it must differ from what it showed before)."""
    panel = page.locator("#qa-viewer .qa-viewer")
    before = panel.inner_text() if panel.count() else ""
    page.evaluate(
        "([doc, view]) => window.__qaTrigger('cite', {doc, start: '0', end: '30', n: '1', "
        "q: '', view})",
        [doc_id, view],
    )
    expect(panel).not_to_have_text(before, use_inner_text=True)
    text: str = panel.inner_text()
    return text


def test_a_member_sees_nothing_of_a_collection_not_granted(browser: Any, team_chat: Team) -> None:
    server, ids = team_chat
    page = sign_in(browser, server, "alice")
    try:
        shown = example_texts(page)
        assert "How do I book a meeting room?" in shown
        answer = ask(page, BOARD_QUESTION)
        assert "qa-refusal" in (answer.get_attribute("class") or "")
        assert "eight" in ask(page, OPEN_QUESTION).inner_text()

        # The forbidden document reads as one that does not exist, in both views (the
        # handbook in between, so that each look waits for a new panel).
        for view in ("passage", "document"):
            forbidden = open_passage(page, ids["merger-notes.md"], view)
            assert "Staff handbook" in open_passage(page, ids["handbook.md"], view)
            missing = open_passage(page, "f" * 20, view)
            open_passage(page, ids["handbook.md"], view)
            assert forbidden == missing
            assert "no longer in the index" in forbidden

        page.get_by_role("tab", name="Documents").click()
        table = page.locator("#qa-documents")
        expect(table).to_contain_text("handbook.md")
        expect(page.locator("#qa-doc-count")).to_contain_text("1 document")
        expect(page.locator("#qa-upload")).to_be_hidden()
        expect(page.locator("#qa-reindex")).to_be_hidden()
        expect(page.locator("#qa-doc-notes")).to_contain_text("Only administrators")
        expect(table.locator("button", has_text="Preview")).to_have_count(1)
        assert table.locator("button", has_text="Delete").count() == 0
        # Preview shows the whole document, and the audit log says who was shown what.
        table.locator("button", has_text="Preview").click()
        expect(page.locator("#qa-viewer .qa-viewer")).to_contain_text("Staff handbook")
        records = [
            json.loads(line)
            for line in (server.index_dir / "audit.log").read_text("utf-8").splitlines()
        ]
        shown = [r for r in records if r["event"] == "document_shown" and r["user"] == "alice"]
        assert shown[-1]["doc_id"] == ids["handbook.md"]
        assert shown[-1]["allowed"] is True
        # the forbidden document was asked for above (both views), and refused
        refused = {r["doc_id"] for r in shown if r["allowed"] is False}
        assert ids["merger-notes.md"] in refused
        page.keyboard.press("Escape")
        screenshot(page, "member-documents")
        everything = page.content()
        assert SECRET not in everything
        assert SECRET_FILE not in everything
        assert "Northwind" not in everything
    finally:
        page.context.close()


def test_an_admin_sees_every_collection(browser: Any, team_chat: Team) -> None:
    server, ids = team_chat
    page = sign_in(browser, server, "dave")
    try:
        assert any(SECRET in text for text in example_texts(page))
        answer = ask(page, BOARD_QUESTION)
        assert SECRET in answer.inner_text()
        assert SECRET in open_passage(page, ids["merger-notes.md"], "document")
        page.get_by_role("tab", name="Documents").click()
        expect(page.locator("#qa-documents")).to_contain_text(SECRET_FILE)
        expect(page.locator("#qa-upload")).to_be_visible()
        expect(page.get_by_role("button", name=re.compile(r"^Delete "))).not_to_have_count(0)
        expect(page.locator("#qa-header .qa-signed-in")).to_contain_text("Signed in as dave")
    finally:
        page.context.close()


def choose_scope(page: Any, name: str) -> None:
    """Choose a collection in the chat's "Search in" selector, as a user does: type its name,
    press Enter."""
    box = page.locator("#qa-scope input")
    box.click()
    box.fill(name)
    box.press("Enter")
    page.keyboard.press("Escape")
    expect(page.locator("#qa-scope .token")).to_contain_text([name])


def test_the_chat_searches_the_collections_chosen(browser: Any, team_chat: Team) -> None:
    """dave reads both collections: the selector offers them; a question limited to `default`
    does not find the board's answer, limited to `board` it does. alice reads one collection:
    there is nothing to choose, and no selector."""
    server, _ = team_chat
    page = sign_in(browser, server, "dave")
    try:
        scope = page.locator("#qa-scope")
        expect(scope).to_be_visible()
        page.locator("#qa-scope input").click()
        options = page.get_by_role("option")
        expect(options).to_have_text(
            [re.compile(r"board \(1 document\)$"), re.compile(r"default \(1 document\)$")]
        )
        page.keyboard.press("Escape")
        choose_scope(page, "default")
        answer = ask(page, BOARD_QUESTION)
        assert "qa-refusal" in (answer.get_attribute("class") or "")
        assert SECRET not in answer.inner_text()
        page.locator("#qa-scope .token-remove").first.click()
        expect(page.locator("#qa-scope .token")).to_have_count(0)
        choose_scope(page, "board")
        assert SECRET in ask(page, BOARD_QUESTION).inner_text()
        screenshot(page, "chat-scope")
    finally:
        page.context.close()
    member = sign_in(browser, server, "alice")
    try:
        expect(member.locator("#qa-header")).to_contain_text("passages indexed")
        assert "eight" in ask(member, OPEN_QUESTION).inner_text()
        expect(member.locator("#qa-scope")).to_be_hidden()
        assert "board (" not in member.content()  # the collection is not even named
    finally:
        member.context.close()


def test_a_conversation_forgets_what_a_revoked_grant_let_it_read(
    browser: Any, team_chat: Team
) -> None:
    """alice reads `board` while it is granted to her; once revoked, her stored conversation
    reopens with that answer withheld, its export holds none of it, and a search does not
    find it by that answer's words."""
    server, _ = team_chat
    accounts = Accounts(server.index_dir / "catalog.sqlite3")
    accounts.grant("board", user="alice")
    page = sign_in(browser, server, "alice")
    try:
        try:
            assert SECRET in ask(page, BOARD_QUESTION).inner_text()
            page.locator("#qa-conversation-actions").wait_for()
        finally:
            accounts.revoke("board", user="alice")
        page.reload()
        page.wait_for_selector("#qa-chat")
        page.locator(f"#qa-chat {FINAL}").first.wait_for()
        expect(page.locator("#qa-chat")).to_contain_text("may not read now")
        assert SECRET not in page.locator("#qa-chat").inner_text()
        with page.expect_download() as download:
            page.click("#qa-export")
        exported = Path(download.value.path()).read_text("utf-8")
        assert BOARD_QUESTION in exported
        assert SECRET not in exported
        assert SECRET_FILE not in exported
        # Nor does searching the conversations find it by the withheld answer's words.
        search = "#qa-search input, #qa-search textarea"
        listed = page.locator("#qa-conversations label")
        page.fill(search, SECRET)
        expect(page.locator("#qa-history-note")).to_contain_text("No matching conversations")
        expect(listed).to_have_count(0)
        page.fill(search, "acquisition")  # a word of her own question
        expect(listed).not_to_have_count(0)
    finally:
        page.context.close()
