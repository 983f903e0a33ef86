"""The quality loop in the browser (issue 17): a member gives a thumbs-down with a comment, an
admin opens the Quality tab, sees it with the passages retrieved for it, turns it into a golden
question, and `assistant eval` then scores that question; a member never sees the tab."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.conftest import run_cli
from tests.ui.conftest import TIMEOUT_MS, screenshot
from tests.ui.test_browser import ask
from tests.ui.test_chat_users import OPEN_QUESTION, Team, sign_in, team_chat

pytestmark = [pytest.mark.browser, pytest.mark.integration]
__all__ = ["team_chat"]  # the server fixture, shared with the member / admin tests

COMMENT = "It should say when the office closes."
FOLLOW_UP = "And when does it close?"


def test_a_thumbs_down_becomes_a_golden_question_from_the_quality_tab(
    browser: Any, team_chat: Team, tmp_path: Path
) -> None:
    server, _ = team_chat
    member = sign_in(browser, server, "alice")
    try:
        expect(member.get_by_role("tab", name="Quality")).to_have_count(0)
        answer = ask(member, OPEN_QUESTION)
        assert "eight" in answer.inner_text()
        ask(member, FOLLOW_UP)
        member.locator("#qa-chat button[aria-label='Dislike']").last.click()
        member.locator("#qa-comment textarea").wait_for()
        member.fill("#qa-comment textarea", COMMENT)
        member.click("#qa-send")
        member.wait_for_selector("#qa-comment-row", state="hidden")
        expect(member.get_by_role("tab", name="Quality")).to_have_count(0)
    finally:
        member.context.close()

    admin = sign_in(browser, server, "dave")
    admin.set_default_timeout(TIMEOUT_MS)
    try:
        admin.get_by_role("tab", name="Quality").click()
        cards = admin.locator("#qa-q-reported .qa-q-card")
        expect(cards.first).to_contain_text(COMMENT)
        card = cards.filter(has_text=COMMENT)
        expect(card).to_contain_text("Conversation before it")
        expect(card.locator("details")).to_contain_text(OPEN_QUESTION)  # the turn before
        expect(card).to_contain_text("close")  # the follow-up, as it was searched
        expect(card).to_contain_text("by alice")
        expect(card).to_contain_text("Retrieved now")
        expect(card).to_contain_text("handbook.md")
        expect(admin.locator("#qa-q-summary")).to_contain_text("thumbs down")
        screenshot(admin, "quality-tab")

        admin.fill("#qa-q-terms textarea, #qa-q-terms input", "six, 6")
        admin.fill("#qa-q-source textarea, #qa-q-source input", "handbook.md")
        admin.click("#qa-q-add")
        expect(admin.locator("#qa-q-status")).to_contain_text("Added reported-001")
    finally:
        admin.context.close()

    golden = server.data_dir / "golden" / "reported.jsonl"
    [item] = [json.loads(line) for line in golden.read_text("utf-8").splitlines()]
    assert item["question"] == FOLLOW_UP  # a follow-up keeps the turn before it
    assert item["history"][0] == {"role": "user", "content": OPEN_QUESTION}
    assert item["history"][1]["role"] == "assistant"
    assert item["must_contain_any"] == ["six", "6"]
    assert item["note"] == COMMENT
    assert "alice" in item["origin"]
    result = run_cli(
        "eval", str(golden), "--index", str(server.index_dir), "--report", str(tmp_path / "r")
    )
    assert result.returncode == 0, result.stderr
    [scored] = json.loads((tmp_path / "r" / "result.json").read_text("utf-8"))["items"]
    assert scored["id"] == "reported-001"
    assert scored["history"] == item["history"]  # asked as the follow-up it was
    assert scored["standalone_question"]
