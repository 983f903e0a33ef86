"""DELETE /v1/documents/{doc_id} on a real server: administrators (and service keys) take a
document out of the index and out of every answer; a member gets 403 and nothing changes."""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient

from assistant.accounts import Accounts
from assistant.api.app import create_app
from assistant.api.requestid import HEADER
from assistant.audit import AuditLog, AuditRecord
from assistant.core import Assistant
from assistant.indexlock import writer_lock
from assistant.security import hash_api_key
from tests.api.conftest import error_of
from tests.api.test_docs import DELETE_CURL, on
from tests.conftest import copy_index, make_settings
from tests.servers import Server, start_server, stop_server
from tests.test_collections import SALARY, write_docs

SERVICE_KEY = "delete-suite-service-key-41d7e09c5a"
DEPLOY = "How do I deploy the billing service?"
UNKNOWN_ID = "0123456789abcdef0123"  # the form of a doc id, of no document


@dataclass(frozen=True)
class Team:
    """The server, and the personal keys of an admin (ada) and a member (max)."""

    server: Server
    admin_key: str
    member_key: str


@pytest.fixture(scope="module")
def team(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Team]:
    """A server over five small documents in `default`, read by the member too."""
    docs = write_docs(tmp_path_factory.mktemp("delete-docs"))
    index = tmp_path_factory.mktemp("delete-built") / "index"
    assistant = Assistant(make_settings(index))
    assert assistant.ingest([docs]).added == 5
    assistant.close()
    accounts = Accounts(index / "catalog.sqlite3")
    accounts.add_user("ada", "ada-password-3310", admin=True)
    accounts.add_user("max", "max-password-7702", ["staff"])
    accounts.grant("default", group="staff")
    admin_key = accounts.create_api_key("ada")[1]
    member_key = accounts.create_api_key("max")[1]
    server = start_server(
        tmp_path_factory.mktemp("delete-serve"),
        index,
        api_keys=json.dumps({"ci": hash_api_key(SERVICE_KEY)}),
    )
    yield Team(server, admin_key, member_key)
    stop_server(server)


def client(server: Server, key: str) -> httpx.Client:
    return httpx.Client(
        base_url=server.url, headers={"Authorization": f"Bearer {key}"}, timeout=180
    )


def listed(http: httpx.Client) -> dict[str, dict[str, Any]]:
    """The documents GET /v1/documents lists, by file name."""
    response = http.get("/v1/documents")
    assert response.status_code == 200
    return {Path(d["source"]).name: d for d in response.json()["documents"]}


def deletes(server: Server, request_id: str) -> list[AuditRecord]:
    log = AuditLog.from_settings(make_settings(server.index_dir))
    return [r for r in log.records(event="delete") if r.request_id == request_id]


def test_an_admin_deletes_a_document_from_the_list_and_the_answers(team: Team) -> None:
    with client(team.server, team.admin_key) as ada:
        before = listed(ada)
        salaries = before["salaries.md"]
        answered = ada.post("/v1/ask", json={"question": SALARY}).json()
        assert "95,000" in answered["answer"]  # only salaries.md says it

        response = ada.delete(f"/v1/documents/{salaries['doc_id']}")
        assert response.status_code == 200, response.text
        assert response.json() == {
            "doc_id": salaries["doc_id"],
            "source": salaries["source"],
            "title": "Salary bands",
            "collection": "default",
            "chunks_removed": salaries["chunks"],
        }
        after = listed(ada)
        assert set(after) == set(before) - {"salaries.md"}
        assert ada.get("/v1/documents").json()["count"] == len(before) - 1
        again = ada.post("/v1/ask", json={"question": SALARY}).json()
        assert "95,000" not in again["answer"]
        assert all(c["doc_id"] != salaries["doc_id"] for c in again["citations"])
        assert all("salaries" not in c["source"] for c in again["citations"])

        gone = ada.delete(f"/v1/documents/{salaries['doc_id']}")
        assert gone.status_code == 404
        assert error_of(gone)["code"] == "document_not_found"

    [event] = deletes(team.server, response.headers[HEADER])
    assert (event.user, event.details["doc_id"]) == ("ada", salaries["doc_id"])


def test_a_member_gets_403_and_nothing_is_deleted(team: Team) -> None:
    with client(team.server, team.member_key) as max_:
        deploy = listed(max_)["deploy.md"]
        refused = max_.delete(f"/v1/documents/{deploy['doc_id']}")
        assert refused.status_code == 403
        error = error_of(refused)
        assert (error["code"], error["type"]) == ("forbidden", "permission_error")
        assert error["message"] == "only administrators delete documents"
        # An unknown id is refused alike: a member does not learn which ids exist.
        probe = max_.delete(f"/v1/documents/{UNKNOWN_ID}")
        assert (probe.status_code, error_of(probe)["code"]) == (403, "forbidden")

        assert listed(max_)["deploy.md"] == deploy
        answer = max_.post("/v1/ask", json={"question": DEPLOY}).json()
        assert any(c["doc_id"] == deploy["doc_id"] for c in answer["citations"])
    assert deletes(team.server, refused.headers[HEADER]) == []


def test_an_unknown_id_is_404_and_changes_nothing(team: Team) -> None:
    with client(team.server, team.admin_key) as ada:
        before = ada.get("/v1/documents").json()
        response = ada.delete(f"/v1/documents/{UNKNOWN_ID}")
        assert response.status_code == 404
        error = error_of(response)
        assert (error["code"], error["param"]) == ("document_not_found", "doc_id")
        # An id is only ever a key to look up in the catalog: never a path, never SQL.
        for hostile in ("%27%20OR%201%3D1%20--", "..%2f..%2fcatalog.sqlite3", "%2Fetc%2Fpasswd"):
            assert ada.delete(f"/v1/documents/{hostile}").status_code == 404, hostile
        assert ada.get("/v1/documents").json() == before
    assert deletes(team.server, response.headers[HEADER]) == []


def test_a_service_key_deletes_as_a_trusted_caller(team: Team) -> None:
    """A service key reads everything, so it deletes as an admin does (docs/api.md); its
    audit event names no user, and the key's use under the same request id names the key."""
    with client(team.server, SERVICE_KEY) as ci:
        oncall = listed(ci)["oncall.md"]
        response = ci.delete(f"/v1/documents/{oncall['doc_id']}")
        assert response.status_code == 200, response.text
        assert response.json()["chunks_removed"] == oncall["chunks"]
        assert "oncall.md" not in listed(ci)
    request_id = response.headers[HEADER]
    [event] = deletes(team.server, request_id)
    assert (event.user, event.details["doc_id"]) == (None, oncall["doc_id"])
    log = AuditLog.from_settings(make_settings(team.server.index_dir))
    used = [r for r in log.records(event="api_key_used") if r.request_id == request_id]
    assert [(r.details["key"], r.details["kind"]) for r in used] == [("ci", "service")]


def test_the_docs_delete_example_runs(team: Team) -> None:
    [example] = DELETE_CURL
    with client(team.server, SERVICE_KEY) as ci:
        contracts = listed(ci)["contracts.md"]
        result = subprocess.run(
            ["bash", "-euo", "pipefail", "-c", on(team.server, example)],
            capture_output=True,
            text=True,
            env={
                **os.environ,
                "QA_API_KEY": SERVICE_KEY,
                "DOC_ID": contracts["doc_id"],
            },
            timeout=300,
        )
        assert result.returncode == 0, result.stderr
        assert json.loads(result.stdout)["doc_id"] == contracts["doc_id"]
        assert "contracts.md" not in listed(ci)


def test_the_schema_documents_the_delete(team: Team) -> None:
    schema = httpx.get(team.server.url + "openapi.json", timeout=60).json()
    operation = schema["paths"]["/v1/documents/{doc_id}"]["delete"]
    assert "administrators" in operation["summary"]
    assert "403" in operation["description"]
    responses = operation["responses"]
    assert responses["200"]["content"]["application/json"]["schema"]["$ref"].endswith(
        "/DeletedDocument"
    )
    for status in ("403", "404", "401", "503"):
        assert responses[status]["content"]["application/json"]["schema"]["$ref"].endswith(
            "/ErrorResponse"
        )
    fields = schema["components"]["schemas"]["DeletedDocument"]["properties"]
    assert set(fields) == {"doc_id", "source", "title", "collection", "chunks_removed"}
    assert "DELETE /v1/documents/{doc_id}" in schema["info"]["description"]


def test_an_open_api_deletes_as_a_trusted_caller_and_a_busy_index_is_503(
    seed_index: Path, tmp_path: Path
) -> None:
    """Without keys or users the API is open (loopback only), so a delete is a trusted
    caller's, as the web chat's delete is without logins; an ingest holding the index makes it
    wait `ingest_lock_timeout`, then 503."""
    index = tmp_path / "index"
    copy_index(seed_index, index)
    assistant = Assistant(make_settings(index, ingest_lock_timeout=0))
    with TestClient(create_app(assistant)) as http:
        [document] = http.get("/v1/documents").json()["documents"]
        with writer_lock(index):
            busy = http.delete(f"/v1/documents/{document['doc_id']}")
        assert busy.status_code == 503
        assert busy.json()["error"]["code"] == "index_busy"
        assert busy.headers["Retry-After"]
        assert http.get("/v1/documents").json()["count"] == 1

        response = http.delete(f"/v1/documents/{document['doc_id']}")
        assert response.status_code == 200, response.text
        assert response.json()["doc_id"] == document["doc_id"]
        assert http.get("/v1/documents").json()["count"] == 0
    [event] = [
        r
        for r in assistant.audit.records(event="delete")
        if r.request_id == response.headers[HEADER]
    ]
    assert event.user is None


def test_with_api_allow_delete_off_nobody_deletes_over_the_api(
    seed_index: Path, tmp_path: Path
) -> None:
    index = tmp_path / "index"
    copy_index(seed_index, index)
    settings = make_settings(
        index, api_keys={"ops": hash_api_key(SERVICE_KEY)}, api_allow_delete=False
    )
    assistant = Assistant(settings)
    with TestClient(create_app(assistant)) as http:
        headers = {"Authorization": f"Bearer {SERVICE_KEY}"}  # a service key reads all
        [document] = http.get("/v1/documents", headers=headers).json()["documents"]
        for doc_id in (document["doc_id"], UNKNOWN_ID):
            refused = http.delete(f"/v1/documents/{doc_id}", headers=headers)
            assert refused.status_code == 403
            error = error_of(refused)
            assert (error["code"], error["type"]) == ("forbidden", "permission_error")
            assert "api_allow_delete" in error["message"]
        assert http.get("/v1/documents", headers=headers).json()["count"] == 1
    assert list(assistant.audit.records(event="delete")) == []
