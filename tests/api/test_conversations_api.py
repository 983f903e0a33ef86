"""/v1/conversations: the web chat's stored conversations of the caller's own user, over HTTP
(list, search, read, export as Markdown, delete); never another user's, and none for a caller
that is no user (a service key)."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from assistant.api.app import create_app
from assistant.conversation_views import WITHHELD
from assistant.core import Assistant
from assistant.security import hash_api_key
from tests.api.conftest import error_of
from tests.conftest import copy_index, make_settings

SERVICE_KEY = "conversations-suite-service-key-5b1e"
QUESTION = "Which tech giants had their Hong Kong stablecoin plans stopped by Beijing?"


@pytest.fixture
def api(seed_index: Path, tmp_path: Path) -> tuple[TestClient, Assistant, dict[str, str]]:
    index = tmp_path / "index"
    copy_index(seed_index, index)
    assistant = Assistant(
        make_settings(
            index, api_keys={"ops": hash_api_key(SERVICE_KEY)}, data_dir=tmp_path / "data"
        )
    )
    keys = {}
    for name in ("alice", "bob"):
        assistant.accounts.add_user(name, f"{name}-password-long", ["staff"])
        keys[name] = assistant.accounts.create_api_key(name)[1]
    assistant.accounts.grant("default", group="staff")
    return TestClient(create_app(assistant)), assistant, keys


def auth(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


def test_a_user_reads_searches_exports_and_deletes_their_own_conversations(
    api: tuple[TestClient, Assistant, dict[str, str]],
) -> None:
    http, assistant, keys = api
    answer = assistant.ask(QUESTION)
    assert "Ant Group" in answer.text
    mine = assistant.conversations.save_turn("user:alice", None, 0, QUESTION, answer)
    theirs = assistant.conversations.save_turn("user:bob", None, 0, QUESTION, answer)
    alice = auth(keys["alice"])
    with http:
        listed = http.get("/v1/conversations", headers=alice)
        assert listed.status_code == 200, listed.text
        assert [c["id"] for c in listed.json()["conversations"]] == [mine.id]
        assert listed.json()["count"] == 1
        found = http.get("/v1/conversations", params={"q": "ant group"}, headers=alice)
        assert found.json()["count"] == 1
        none = http.get("/v1/conversations", params={"q": "pierogi"}, headers=alice)
        assert none.json()["count"] == 0

        detail = http.get(f"/v1/conversations/{mine.id}", headers=alice)
        assert detail.status_code == 200, detail.text
        (turn,) = detail.json()["turns"]
        assert turn["question"] == QUESTION
        assert turn["answer"]["text"] == answer.text
        assert turn["answer"]["citations"][0]["quote"] == answer.citations[0].quote

        export = http.get(f"/v1/conversations/{mine.id}/export", headers=alice)
        assert export.status_code == 200
        assert export.headers["content-type"].startswith("text/markdown")
        assert QUESTION in export.text
        assert answer.citations[0].quote.split()[0] in export.text  # its numbered sources

        # Another user's conversation does not exist for alice: 404, the same as a made-up id.
        for path in (f"/v1/conversations/{theirs.id}", f"/v1/conversations/{theirs.id}/export"):
            other = http.get(path, headers=alice)
            assert other.status_code == 404
            assert error_of(other)["code"] == "conversation_not_found"
        refused = http.delete(f"/v1/conversations/{theirs.id}", headers=alice)
        assert refused.status_code == 404
        assert assistant.conversations.get("user:bob", theirs.id) is not None  # untouched

        # Without the grant the answer is withheld, and no longer searched.
        assistant.accounts.revoke("default", group="staff")
        withheld = http.get(f"/v1/conversations/{mine.id}", headers=alice).json()["turns"][0]
        assert withheld["answer"]["text"] == WITHHELD
        assert withheld["answer"]["citations"] == []
        export = http.get(f"/v1/conversations/{mine.id}/export", headers=alice)
        assert "Ant Group" not in export.text
        gone = http.get("/v1/conversations", params={"q": "ant group"}, headers=alice)
        assert gone.json()["count"] == 0

        deleted = http.delete(f"/v1/conversations/{mine.id}", headers=alice)
        assert deleted.status_code == 200
        assert deleted.json() == {"id": mine.id, "deleted": True}
        assert http.get("/v1/conversations", headers=alice).json()["count"] == 0
        assert assistant.conversations.get("user:alice", mine.id) is None


def test_a_caller_that_is_no_user_has_no_conversations(
    api: tuple[TestClient, Assistant, dict[str, str]],
) -> None:
    http, _, _ = api
    with http:
        service = http.get("/v1/conversations", headers=auth(SERVICE_KEY))
        assert service.status_code == 403
        assert error_of(service)["code"] == "no_user"
        assert "personal API key" in error_of(service)["message"]
        assert http.get("/v1/conversations").status_code == 401  # no key at all
