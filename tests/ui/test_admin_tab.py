"""The Admin tab on a real server, in headless Chromium: an admin adds a user with a group,
grants that group a collection (the new user then gets the answer only found there), revokes it
(they no longer do), changes a user's groups and role and removes a user after a confirmation; each
change is in the audit log with the admin's name; a member never sees the tab."""

from __future__ import annotations

import json
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.ui.conftest import screenshot
from tests.ui.test_browser import ask
from tests.ui.test_chat_users import BOARD_QUESTION, SECRET, Team, sign_in, team_chat

pytestmark = [pytest.mark.browser, pytest.mark.integration]
__all__ = ["team_chat"]  # the server fixture: alice (member, staff), dave (admin), `board`

GINA = "gina-password-1"


def field(page: Any, elem_id: str) -> Any:
    """The input of a Gradio textbox by its elem_id."""
    return page.locator(f"#{elem_id} input, #{elem_id} textarea").first


def choose(page: Any, elem_id: str, value: str) -> None:
    """Pick `value` in a Gradio dropdown, as a user does."""
    field(page, elem_id).click()
    page.get_by_role("option", name=value, exact=True).click()


def table_text(page: Any, elem_id: str) -> str:
    text: str = page.locator(f"#{elem_id}").inner_text()
    return text


def test_admins_manage_users_and_grants_and_members_never_see_the_tab(
    browser: Any, team_chat: Team
) -> None:
    server, _ = team_chat
    member = sign_in(browser, server, "alice")
    try:
        expect(member.get_by_role("tab", name="Documents")).to_be_visible()
        expect(member.get_by_role("tab", name="Admin")).to_have_count(0)
    finally:
        member.context.close()

    admin = sign_in(browser, server, "dave")
    try:
        admin.get_by_role("tab", name="Admin").click()
        expect(admin.locator("#qa-a-users")).to_contain_text("alice")
        expect(admin.locator("#qa-a-collections")).to_contain_text("admins only")  # board

        # A new user in a new group.
        field(admin, "qa-a-name").fill("gina")
        field(admin, "qa-a-password").fill(GINA)
        field(admin, "qa-a-groups").fill("legal")
        admin.click("#qa-a-add")
        expect(admin.locator("#qa-a-status")).to_contain_text("Added gina (member in legal)")
        expect(field(admin, "qa-a-password")).to_have_value("")  # never kept in the page
        expect(admin.locator("#qa-a-users")).to_contain_text("gina")

        # A password too short is refused with the reason, and nothing is added.
        field(admin, "qa-a-name").fill("hank")
        field(admin, "qa-a-password").fill("short")
        admin.click("#qa-a-add")
        expect(admin.locator("#qa-a-status")).to_contain_text("at least 8 characters")
        assert "hank" not in table_text(admin, "qa-a-users")

        # Grant `board` to the new group: gina gets the answer only found there.
        choose(admin, "qa-a-collection", "board")
        field(admin, "qa-a-principal").fill("legal")
        admin.click("#qa-a-grant")
        expect(admin.locator("#qa-a-status")).to_contain_text("Group legal may read board")
        expect(admin.locator("#qa-a-collections")).to_contain_text("group legal")
        screenshot(admin, "admin-tab")
        gina = sign_in(browser, server, "gina", GINA)
        try:
            assert SECRET in ask(gina, BOARD_QUESTION).inner_text()
        finally:
            gina.context.close()

        # Revoke it: her next question is refused.
        admin.click("#qa-a-revoke")
        expect(admin.locator("#qa-a-status")).to_contain_text("no longer reads board")
        gina = sign_in(browser, server, "gina", GINA)
        try:
            assert SECRET not in ask(gina, BOARD_QUESTION).inner_text()
        finally:
            gina.context.close()

        # Change alice's groups. Opening the user list again and leaving it without a choice
        # keeps what was typed (it once loaded her stored groups over it).
        choose(admin, "qa-a-user", "alice")
        expect(field(admin, "qa-a-new-groups")).to_have_value("staff")
        field(admin, "qa-a-new-groups").fill("staff, legal")
        field(admin, "qa-a-user").click()
        admin.get_by_text("Collections and who may read them").click()
        admin.click("#qa-a-set-groups")
        expect(admin.locator("#qa-a-status")).to_contain_text("alice is now in legal, staff")
        expect(field(admin, "qa-a-new-groups")).to_have_value("staff, legal")
        expect(admin.locator("#qa-a-role").get_by_label("member")).to_be_checked()
        admin.locator("#qa-a-role").get_by_label("admin").check()
        admin.click("#qa-a-set-role")
        expect(admin.locator("#qa-a-status")).to_contain_text("alice is now an admin")
        expect(admin.locator("#qa-a-users")).to_contain_text("admin")

        # Nobody removes themselves or changes their own role; gina is removed after a
        # confirmation.
        choose(admin, "qa-a-user", "dave")
        # Wait for his groups (none) and role to be loaded: a click on "member" before that
        # answer arrives is undone by it, as a person's would be.
        expect(field(admin, "qa-a-new-groups")).to_have_value("")
        expect(admin.locator("#qa-a-role").get_by_label("admin")).to_be_checked()
        admin.locator("#qa-a-role").get_by_label("member").check()
        admin.click("#qa-a-set-role")
        expect(admin.locator("#qa-a-status")).to_contain_text("cannot change your own role")
        admin.click("#qa-a-remove")
        expect(admin.locator("#qa-a-status")).to_contain_text("cannot remove yourself")
        expect(admin.locator("#qa-a-confirm-row")).to_be_hidden()
        choose(admin, "qa-a-user", "gina")
        admin.click("#qa-a-remove")
        expect(admin.locator("#qa-a-confirm-text")).to_contain_text("Remove gina")
        admin.click("#qa-a-confirm")
        expect(admin.locator("#qa-a-status")).to_contain_text("Removed gina")
        expect(admin.locator("#qa-a-confirm-row")).to_be_hidden()
        assert "gina" not in table_text(admin, "qa-a-users")
    finally:
        admin.context.close()

    events = [
        json.loads(line)
        for line in (server.index_dir / "audit.log").read_text("utf-8").splitlines()
    ]
    changes = [e for e in events if e["event"] in ADMIN_EVENTS]
    assert [e["event"] for e in changes] == [
        "user_added", "grant_added", "grant_revoked", "groups_changed", "role_changed",
        "user_removed",
    ]  # fmt: skip
    assert all(e["user"] == "dave" and e["request_id"] for e in changes)
    assert GINA not in json.dumps(events)


ADMIN_EVENTS = {
    "user_added", "user_removed", "groups_changed", "role_changed", "grant_added", "grant_revoked"
}  # fmt: skip
