"""The audit log of a real server: every API request has an id, sign-ins and key use are
recorded under it, and no password or key is ever written."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from assistant.accounts import Accounts
from assistant.api.requestid import HEADER
from assistant.security import hash_api_key
from tests.api.conftest import QUESTION
from tests.conftest import copy_index, run_cli
from tests.servers import Server, start_server, stop_server

SERVICE_KEY = "audit-suite-service-key-5b0e2c7d91"
PASSWORD = "alice-secret-pass-8841"
WRONG_PASSWORD = "alice-wrong-pass-1907"
BAD_KEY = "not-a-key-of-ours-3f6a9c0e27d4b815"


@pytest.fixture(scope="module")
def audited(
    seed_index: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[Server, str, str]]:
    """A server over the seed index with a user alice (password and personal key) and a
    service key; yields the server, alice's key and its id."""
    index = tmp_path_factory.mktemp("audit-built") / "index"
    copy_index(seed_index, index)
    accounts = Accounts(index / "catalog.sqlite3")
    accounts.add_user("alice", PASSWORD, admin=True)
    key_id, key = accounts.create_api_key("alice")
    server = start_server(
        tmp_path_factory.mktemp("audit-serve"),
        index,
        api_keys=json.dumps({"ci": hash_api_key(SERVICE_KEY)}),
    )
    yield server, key, key_id
    stop_server(server)


def records(server: Server) -> list[dict[str, Any]]:
    path = server.index_dir / "audit.log"
    return [json.loads(line) for line in path.read_text("utf-8").splitlines() if line]


def test_api_sign_ins_and_key_use_are_recorded_without_secrets(
    audited: tuple[Server, str, str],
) -> None:
    server, personal_key, key_id = audited
    with httpx.Client(base_url=server.url, timeout=180) as http:
        asked = http.post("/v1/ask", json={"question": QUESTION}, auth=("alice", PASSWORD))
        assert asked.status_code == 200
        asked_id = asked.headers[HEADER]
        listed = http.get("/v1/documents", headers={"Authorization": f"Bearer {personal_key}"})
        assert listed.status_code == 200
        served = http.get("/v1/documents", headers={"Authorization": f"Bearer {SERVICE_KEY}"})
        assert served.status_code == 200
        wrong = http.get("/v1/documents", auth=("alice", WRONG_PASSWORD))
        assert wrong.status_code == 401
        bad = http.get("/v1/documents", headers={"Authorization": f"Bearer {BAD_KEY}"})
        assert bad.status_code == 401
    ids = {response.headers[HEADER] for response in (asked, listed, served, wrong, bad)}
    assert len(ids) == 5  # one fresh id per request

    found = records(server)
    by_request = {(r["event"], r["request_id"]): r for r in found}
    # FastAPI computes the key check once per request: one record each, not two.
    assert len(by_request) == len({(r["event"], r["request_id"]) for r in found})
    assert sum(r["request_id"] == asked_id for r in found) == 2  # the login and the question
    login = by_request[("login", asked_id)]
    assert login["user"] == "alice"
    assert login["method"] == "basic"
    question = by_request[("question", asked_id)]
    assert question["user"] == "alice"
    assert question["cited"]
    assert question["refused"] is False
    personal = by_request[("api_key_used", listed.headers[HEADER])]
    assert (personal["user"], personal["key"], personal["kind"]) == ("alice", key_id, "personal")
    service = by_request[("api_key_used", served.headers[HEADER])]
    assert (service["user"], service["key"], service["kind"]) == (None, "ci", "service")
    failed = by_request[("login_failed", wrong.headers[HEADER])]
    assert (failed["user"], failed["name"], failed["method"]) == (None, "alice", "basic")
    assert by_request[("login_failed", bad.headers[HEADER])]["method"] == "api_key"

    text = (server.index_dir / "audit.log").read_text("utf-8")
    for secret in (PASSWORD, WRONG_PASSWORD, personal_key, SERVICE_KEY, BAD_KEY):
        assert secret not in text


def test_the_audit_command_reads_the_servers_log(audited: tuple[Server, str, str]) -> None:
    server, _, _ = audited
    with httpx.Client(base_url=server.url, timeout=180) as http:
        response = http.get("/v1/documents", headers={"Authorization": f"Bearer {SERVICE_KEY}"})
    assert response.status_code == 200
    done = run_cli("audit", "--index", str(server.index_dir), "--event", "api_key_used", "--json")
    assert done.returncode == 0, done.stderr
    request_ids = [json.loads(line)["request_id"] for line in done.stdout.splitlines()]
    assert response.headers[HEADER] in request_ids
