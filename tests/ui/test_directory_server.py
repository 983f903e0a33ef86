"""Directory (LDAP) users on a real server: the chat's login route, the chat's `ask` API and
the HTTP API, with groups from a real slapd deciding what they read; a wrong password and a
stopped directory give distinct errors, and the local admin still signs in."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from assistant.accounts import Accounts
from assistant.core import Assistant
from tests.api.conftest import error_of
from tests.conftest import make_settings
from tests.ldap_server import DirectoryPerson, Slapd, ldap_settings, start_slapd
from tests.servers import Server, refused_port, start_server, stop_server
from tests.test_collections import SALARY, write_docs
from tests.ui.conftest import screenshot

pytestmark = pytest.mark.integration

SECRET = "95,000"  # only in hr/salaries.md, the `hr` collection
PEOPLE = [
    DirectoryPerson("carol", "carol-directory-pw", ("people",)),  # hr is granted to `people`
    DirectoryPerson("dave", "dave-directory-pw", ("engineering",)),
]
ADMIN = ("root", "local-admin-password")
Team = tuple[Server, Slapd]


def team_index(root: Path) -> Path:
    """An index with `hr` granted to the directory group `people`, `default` to
    `engineering`, and a local admin."""
    docs = write_docs(root / "docs")
    index = root / "index"
    assistant = Assistant(make_settings(index))
    assistant.ingest([docs / "hr"], collection="hr")
    assistant.ingest([docs / "eng"])
    assistant.close()
    accounts = Accounts(index / "catalog.sqlite3")
    accounts.add_user(*ADMIN, admin=True)
    accounts.grant("hr", group="people")
    accounts.grant("default", group="engineering")
    return index


def start_team(root: Path) -> Team:
    directory = start_slapd(root / "slapd", PEOPLE)
    try:
        server = start_server(root / "serve", team_index(root), **ldap_settings(directory))
    except BaseException:
        directory.stop()
        raise
    return server, directory


@pytest.fixture(scope="module")
def team_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Team]:
    server, directory = start_team(tmp_path_factory.mktemp("team"))
    yield server, directory
    stop_server(server)
    directory.stop()


def sign_in(server: Server, name: str, password: str) -> httpx.Response:
    """The chat's login route, as its login page posts it."""
    with httpx.Client(base_url=server.url, timeout=60) as client:
        return client.post("/login", data={"username": name, "password": password})


def ask_api(server: Server, name: str, password: str) -> httpx.Response:
    with httpx.Client(base_url=server.url, auth=(name, password), timeout=180) as client:
        return client.post("/v1/ask", json={"question": SALARY})


def test_a_directory_user_signs_in_at_the_chat_login(team_server: Team) -> None:
    server, _ = team_server
    signed_in = sign_in(server, "carol", "carol-directory-pw")
    assert signed_in.status_code == 200
    assert signed_in.json() == {"success": True}
    assert any(name.startswith("access-token") for name in signed_in.cookies)
    wrong = sign_in(server, "carol", "dave-directory-pw")
    assert wrong.status_code == 400
    assert wrong.json()["detail"] == "Incorrect credentials."
    assert sign_in(server, "nobody", "carol-directory-pw").status_code == 400


def test_directory_groups_decide_what_the_chat_answers(team_server: Team) -> None:
    from gradio_client import Client

    server, _ = team_server
    carol = Client(server.url, auth=("carol", "carol-directory-pw"), verbose=False)
    assert SECRET in carol.predict(SALARY, api_name="/ask")["answer"]
    dave = Client(server.url, auth=("dave", "dave-directory-pw"), verbose=False)
    reply = dave.predict(SALARY, api_name="/ask")
    assert SECRET not in json.dumps(reply)
    assert "salaries" not in json.dumps(reply)


def test_the_api_takes_a_directory_users_password(team_server: Team) -> None:
    server, _ = team_server
    carol = ask_api(server, "carol", "carol-directory-pw")
    assert carol.status_code == 200
    assert SECRET in carol.json()["answer"]
    dave = ask_api(server, "dave", "dave-directory-pw")
    assert dave.status_code == 200
    assert SECRET not in dave.text
    wrong = ask_api(server, "carol", "not-her-password")
    assert wrong.status_code == 401
    assert error_of(wrong)["code"] == "invalid_credentials"
    with httpx.Client(base_url=server.url, timeout=60) as anonymous:
        garbled = anonymous.get("/v1/documents", headers={"Authorization": "Basic %%%"})
    assert garbled.status_code == 401
    assert error_of(garbled)["code"] == "invalid_credentials"


def test_a_stopped_directory_is_a_clear_error_and_the_local_admin_signs_in(
    tmp_path: Path,
) -> None:
    server, directory = start_team(tmp_path)
    try:
        assert sign_in(server, "carol", "carol-directory-pw").status_code == 200
        directory.stop()
        with refused_port(directory.port):
            down = sign_in(server, "carol", "carol-directory-pw")
            assert down.status_code == 503
            assert "cannot be reached" in down.json()["detail"]
            assert "carol-directory-pw" not in down.text
            api_down = ask_api(server, "carol", "carol-directory-pw")
            assert api_down.status_code == 503
            assert error_of(api_down)["code"] == "directory_unavailable"
            assert sign_in(server, *ADMIN).status_code == 200
            admin = ask_api(server, *ADMIN)
            assert admin.status_code == 200
            assert SECRET in admin.json()["answer"]
        assert "carol-directory-pw" not in server.log.read_text(errors="replace")
    finally:
        stop_server(server)
        directory.stop()


def test_the_login_page_says_the_directory_cannot_be_reached(browser: Any, tmp_path: Path) -> None:
    server, directory = start_team(tmp_path)
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    page = context.new_page()
    page.set_default_timeout(60_000)
    try:
        directory.stop()
        with refused_port(directory.port):
            page.goto(server.url)
            page.get_by_label("username").fill("carol")
            page.get_by_label("password").fill("carol-directory-pw")
            page.get_by_role("button", name="Login").click()
            alert = page.locator(".qa-login-error")
            alert.wait_for()
            text = alert.inner_text()
            assert "cannot be reached" in text
            assert "Incorrect" not in page.locator("body").inner_text()
            screenshot(page, "login-directory-down")
            page.get_by_label("username").fill(ADMIN[0])
            page.get_by_label("password").fill(ADMIN[1])
            page.get_by_role("button", name="Login").click()
            page.wait_for_selector("#qa-chat")
    finally:
        context.close()
        stop_server(server)
        directory.stop()
