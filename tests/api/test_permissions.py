"""Personal API keys on a real server: a member never gets a byte of a collection not granted."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from assistant.accounts import Accounts
from assistant.core import Assistant
from tests.api.conftest import error_of
from tests.conftest import make_settings
from tests.servers import Server, start_server, stop_server
from tests.test_collections import SALARY, write_docs

SECRET = "95,000"  # only in hr/salaries.md
Team = tuple[Server, dict[str, str]]


@pytest.fixture(scope="module")
def team_server(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[tuple[Server, dict[str, str]]]:
    """Three members in different groups, each granted one collection, and an admin."""
    docs = write_docs(tmp_path_factory.mktemp("docs"))
    index = tmp_path_factory.mktemp("built") / "index"
    assistant = Assistant(make_settings(index))
    assistant.ingest([docs / "hr"], collection="hr")
    assistant.ingest([docs / "legal"], collection="legal")
    assistant.ingest([docs / "eng"])
    accounts = Accounts(index / "catalog.sqlite3")
    accounts.add_user("alice", "alice-password", ["people"])
    accounts.add_user("bob", "bob-password", ["engineering"])
    accounts.add_user("carol", "carol-password", ["lawyers"])
    accounts.add_user("dave", "dave-password", admin=True)
    accounts.grant("hr", group="people")
    accounts.grant("default", group="engineering")
    accounts.grant("legal", group="lawyers")
    keys = {name: accounts.create_api_key(name)[1] for name in ("alice", "bob", "carol", "dave")}
    PATHS.update({Path(r.source).name: (r.doc_id, r.source) for r in assistant.documents()})
    assistant.close()
    server = start_server(tmp_path_factory.mktemp("serve"), index)
    yield server, keys
    stop_server(server)


PATHS: dict[str, tuple[str, str]] = {}  # file name -> (doc id, source path), set by the fixture
# Per collection: a question only its documents answer, and words only they hold.
COLLECTION_FACTS = {
    "hr": (SALARY, ["95,000", "120,000", "salaries", "March", "leave.md"]),
    "legal": ("Who signs big supplier contracts?", ["finance director", "contracts.md"]),
    "default": ("How do I deploy billing?", ["make deploy", "Fridays", "deploy.md", "oncall"]),
}
GRANTED = {"alice": "hr", "bob": "default", "carol": "legal"}
FILES = {"hr": ["salaries.md", "leave.md"], "legal": ["contracts.md"], "default": ["deploy.md"]}


def client(server: Server, key: str | None) -> httpx.Client:
    headers = {"Authorization": f"Bearer {key}"} if key else {}
    return httpx.Client(base_url=server.url, headers=headers, timeout=180)


def test_with_users_the_api_needs_a_key(team_server: Team) -> None:
    server, _ = team_server
    with client(server, None) as anonymous:
        response = anonymous.post("/v1/ask", json={"question": SALARY})
        assert response.status_code == 401
        assert error_of(response)["code"] == "missing_api_key"
    with client(server, "qa-not-a-key-at-all-0123456789") as stranger:
        assert error_of(stranger.get("/v1/documents"))["code"] == "invalid_api_key"


def test_every_route_answers_a_member_from_granted_collections_only(
    team_server: Team,
) -> None:
    server, keys = team_server
    with client(server, keys["alice"]) as alice:
        assert SECRET in alice.post("/v1/ask", json={"question": SALARY}).json()["answer"]
    with client(server, keys["bob"]) as bob:
        bodies = [
            bob.post("/v1/ask", json={"question": SALARY}).text,
            bob.post(
                "/v1/chat/completions", json={"messages": [{"role": "user", "content": SALARY}]}
            ).text,
            bob.post(
                "/v1/chat/completions",
                json={"messages": [{"role": "user", "content": SALARY}], "stream": True},
            ).text,
            # A history quoting the forbidden document does not bring it back.
            bob.post(
                "/v1/ask",
                json={
                    "question": "And the bonus, when is it paid?",
                    "history": [
                        {"role": "user", "content": SALARY},
                        {"role": "assistant", "content": "It is 95,000 to 120,000 euros."},
                    ],
                },
            ).text,
            bob.get("/v1/documents").text,
            bob.get("/v1/collections").text,
            bob.get("/v1/suggestions", params={"limit": 12}).text,
        ]
        for body in bodies:
            assert "salaries" not in body
            assert "March" not in body  # the bonus month, only in the hr document
        assert json.loads(bodies[0])["refused"] is True
        listed = bob.get("/v1/collections").json()["collections"]
        assert [c["name"] for c in listed] == ["default"]
        forbidden = bob.post("/v1/ask", json={"question": SALARY, "collections": ["hr"]})
        assert forbidden.status_code == 400
        assert error_of(forbidden)["message"] == "unknown collection 'hr' (known: default)"


def test_suggested_questions_are_answered_for_the_caller(team_server: Team) -> None:
    server, keys = team_server
    with client(server, keys["bob"]) as bob:
        questions = bob.get("/v1/suggestions", params={"limit": 12}).json()["questions"]
        assert "How do I deploy the billing service?" in questions
        for question in questions:
            answer = bob.post("/v1/ask", json={"question": question}).json()
            assert not answer["refused"], question
            assert all("/eng/" in c["source"] for c in answer["citations"])
        assert bob.get("/v1/suggestions", params={"limit": 0}).json() == {"questions": []}
        too_many = bob.get("/v1/suggestions", params={"limit": 99})
        assert too_many.status_code == 422
        assert "limit" in json.dumps(too_many.json())


def test_a_grant_made_while_serving_applies_to_the_next_question(
    team_server: Team,
) -> None:
    server, keys = team_server
    accounts = Accounts(server.index_dir / "catalog.sqlite3")
    with client(server, keys["bob"]) as bob:
        assert bob.post("/v1/ask", json={"question": SALARY}).json()["refused"]
        accounts.grant("hr", user="bob")
        try:
            assert SECRET in bob.post("/v1/ask", json={"question": SALARY}).json()["answer"]
        finally:
            accounts.revoke("hr", user="bob")
        assert bob.post("/v1/ask", json={"question": SALARY}).json()["refused"]


def test_three_members_and_an_admin_each_read_their_grants_through_every_door(
    team_server: Team,
) -> None:
    """Each member asks every collection's question through every route, and tries the
    documents of the others by id (delete) and by path (the chat's file routes, signed in):
    not a byte of a collection not granted comes back. The admin reads all."""
    server, keys = team_server
    for name, granted in GRANTED.items():
        with client(server, keys[name]) as member:
            for collection, (question, words) in COLLECTION_FACTS.items():
                history = [
                    {"role": "user", "content": question},
                    {"role": "assistant", "content": " ".join(words)},
                ]
                bodies = [
                    member.post("/v1/ask", json={"question": question}).text,
                    json.dumps(
                        member.post(
                            "/v1/ask", json={"question": "And then?", "history": history}
                        ).json()["citations"]
                    ),
                    member.post(
                        "/v1/chat/completions",
                        json={"messages": [{"role": "user", "content": question}]},
                    ).text,
                    member.post(
                        "/v1/chat/completions",
                        json={"messages": [{"role": "user", "content": question}], "stream": True},
                    ).text,
                ]
                if collection == granted:
                    assert words[0] in bodies[0], (name, question)
                    continue
                for body in bodies:
                    for word in words:
                        assert word not in body, (name, question, word)
                assert json.loads(bodies[0])["refused"] is True
                for file in FILES[collection]:
                    doc_id, _ = PATHS[file]
                    deleted = member.delete(f"/v1/documents/{doc_id}")
                    assert deleted.status_code == 403, (name, file)
            listing = member.get("/v1/documents").text + member.get("/v1/collections").text
            suggestions = member.get("/v1/suggestions", params={"limit": 12}).text
            for collection, (_, words) in COLLECTION_FACTS.items():
                if collection != granted:
                    for word in words:
                        assert word not in listing + suggestions, (name, word)
        # The chat's file routes, signed in as the member, by the forbidden files' paths.
        with httpx.Client(base_url=server.url, timeout=180) as browser:
            login = browser.post("/login", data={"username": name, "password": f"{name}-password"})
            assert login.status_code == 200, login.text
            for collection, files in FILES.items():
                if collection == granted:
                    continue
                for file in files:
                    _, source = PATHS[file]
                    for route in ("/gradio_api/file=", "/file=", "/gradio_api/file/"):
                        response = browser.get(route + source)
                        assert response.status_code in (403, 404), (name, route, source)
                        body = response.text.replace(source, "")  # the error names the path
                        for word in COLLECTION_FACTS[collection][1]:
                            assert word not in body, (name, route, word)
    with client(server, keys["dave"]) as admin:
        for question, words in COLLECTION_FACTS.values():
            assert words[0] in admin.post("/v1/ask", json={"question": question}).text
