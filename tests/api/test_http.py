"""The API over plain HTTP against the real server: keys, bad bodies, limits, every endpoint."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
from base64 import b64encode
from urllib.parse import urlparse

import httpx
import pytest

from tests.api.conftest import (
    API_KEY,
    CURRENCY,
    FOLLOW_UP,
    FOLLOW_UP_ANSWER,
    QUESTION,
    error_of,
)
from tests.conftest import SEED_FILE
from tests.servers import Server, server_env

pytestmark = pytest.mark.integration

CHAT = "v1/chat/completions"
JSON_TYPE = {"Content-Type": "application/json"}


def chat_body(question: str = QUESTION, **more: object) -> dict[str, object]:
    return {"model": "extractive", "messages": [{"role": "user", "content": question}], **more}


@pytest.mark.parametrize(
    ("headers", "code"),
    [
        ({}, "missing_api_key"),
        # Basic is a user's name and password (docs/api.md), never a key.
        ({"Authorization": f"Basic {API_KEY}"}, "invalid_credentials"),
        (
            {"Authorization": "Basic " + b64encode(b"nobody:" + API_KEY.encode()).decode()},
            "invalid_credentials",
        ),
        ({"Authorization": "Bearer"}, "missing_api_key"),
        ({"Authorization": "Bearer qa-wrong-key-0000000000000"}, "invalid_api_key"),
        ({"Authorization": f"Bearer {API_KEY}x"}, "invalid_api_key"),
    ],
)
@pytest.mark.parametrize(
    ("method", "path"), [("POST", CHAT), ("POST", "v1/ask"), ("GET", "v1/documents")]
)
def test_every_v1_endpoint_needs_the_key(
    api_server: Server, method: str, path: str, headers: dict[str, str], code: str
) -> None:
    response = httpx.request(
        method, api_server.url + path, headers=headers, json={"question": "x"}, timeout=60
    )
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == "Bearer"
    error = error_of(response)
    assert error["code"] == code
    assert error["type"] == "authentication_error"


def test_a_caller_without_a_valid_key_learns_nothing_else(api_server: Server) -> None:
    # The key is checked before the body is read or the path matched: not 400 for a body that
    # is not JSON, 422 for one that breaks the schema, 404 or 405 for a path (they were).
    wrong = {"Authorization": "Bearer qa-wrong-key-0000000000000"}
    sent = [
        ("POST", CHAT, "{not json", wrong),
        ("POST", CHAT, "[" * 100_000 + "]" * 100_000, {}),
        ("POST", "v1/ask", "{}", wrong),
        ("GET", "v1/nothing-here", "", wrong),
        ("GET", CHAT, "", {}),
        ("DELETE", "v1/documents/x", "", {}),
    ]
    for method, path, body, headers in sent:
        response = httpx.request(
            method,
            api_server.url + path,
            content=body,
            headers={**JSON_TYPE, **headers},
            timeout=60,
        )
        assert response.status_code == 401, (method, path, response.text)
        assert error_of(response)["code"] in {"missing_api_key", "invalid_api_key"}
        assert response.headers["x-request-id"]


def test_a_caller_without_a_key_is_refused_before_the_body_is_sent(api_server: Server) -> None:
    """A client declaring 50 MB without a key gets its 401 at once, its body unread (and so
    does one within the limit: the server waits for no body it will not read)."""
    reply = _declaring_50_mb(api_server, b"", until=b'"missing_api_key"')
    assert reply.startswith("HTTP/1.1 401")
    assert '"missing_api_key"' in reply


def test_the_key_never_reaches_the_log(api_server: Server, http: httpx.Client) -> None:
    assert http.post(CHAT, json=chat_body()).status_code == 200
    assert API_KEY not in api_server.log.read_text(errors="replace")


@pytest.mark.parametrize(
    ("body", "status", "code", "says"),
    [
        ("{not json", 400, "invalid_json", "not valid JSON"),
        ("[1, 2]", 422, "invalid_body", "JSON object"),
        ("", 400, "invalid_json", "JSON object"),
        ("{}", 422, "invalid_body", "messages"),
        ('{"messages": []}', 422, "invalid_body", "at least 1"),
        ('{"messages": [{"role": "robot", "content": "hi"}]}', 422, "invalid_body", "role"),
        ('{"messages": [{"role": "user", "content": 5}]}', 422, "invalid_body", "content"),
        ('{"n": 2, "messages": [{"role": "user", "content": "hi"}]}', 422, "invalid_body", "n"),
        (
            '{"temperature": 9, "messages": [{"role": "user", "content": "x"}]}',
            422,
            "invalid_body",
            "te",
        ),
        (
            '{"max_tokens": "64", "messages": [{"role": "user", "content": "x"}]}',
            422,
            "invalid_body",
            "max_tokens",
        ),
        ('{"n": true, "messages": [{"role": "user", "content": "x"}]}', 422, "invalid_body", "n"),
        ('{"messages": [{"role": "assistant", "content": "hi"}]}', 400, "invalid_messages", "last"),
        ('{"messages": [{"role": "system", "content": "hi"}]}', 400, "invalid_messages", "user"),
        ('{"messages": [{"role": "user", "content": "  \\n "}]}', 400, "invalid_question", "empty"),
        (
            '{"messages": [{"role": "user", "content": [{"type": "image_url"}]}]}',
            400,
            "unsupported_content",
            "text",
        ),
        (json.dumps(chat_body("why? " * 500)), 400, "invalid_question", "too long"),
    ],
)
def test_bad_chat_bodies_get_a_clear_json_error(
    http: httpx.Client, body: str, status: int, code: str, says: str
) -> None:
    for stream in (False, True):  # a streamed request fails the same way, before any event
        data = body.replace('{"messages"', '{"stream": true, "messages"') if stream else body
        response = http.post(CHAT, content=data, headers={"Content-Type": "application/json"})
        assert response.status_code == status, response.text
        error = error_of(response)
        assert error["code"] == code
        assert says in error["message"]


def test_a_body_that_is_no_json_is_400_invalid_json(http: httpx.Client) -> None:
    # As docs/api.md's table says: a form, no body, bytes that are not UTF-8, JSON nested too
    # deep to parse (they were 422 invalid_body, and 400 with a code the docs never list).
    sent = [
        http.post(CHAT, data={"question": QUESTION}),
        http.post(CHAT),
        http.post(CHAT, content=b'{"messages": "\xff\xfe"}', headers=JSON_TYPE),
        http.post(CHAT, content="[" * 100_000 + "]" * 100_000, headers=JSON_TYPE),
    ]
    for response in sent:
        assert response.status_code == 400, response.text
        assert error_of(response)["code"] == "invalid_json"
    assert "application/json" in error_of(sent[0])["message"]


def test_one_model_is_read_as_openai_clients_read_it(http: httpx.Client) -> None:
    one = http.get("v1/models/default")
    assert one.status_code == 200
    assert one.json()["id"] == "default"
    assert one.json()["object"] == "model"
    assert one.json()["answerer"] == "extractive"
    missing = http.get("v1/models/gpt-4")
    assert missing.status_code == 404
    assert error_of(missing)["code"] == "model_not_found"


def test_an_agents_tool_messages_are_ignored(http: httpx.Client) -> None:
    body = chat_body()
    body["messages"] = [
        {"role": "assistant", "content": None, "tool_calls": [{"id": "c1", "type": "function"}]},
        {"role": "tool", "tool_call_id": "c1", "content": "42"},
        *body["messages"],
    ]
    response = http.post(CHAT, json=body)
    assert response.status_code == 200, response.text
    assert response.json()["choices"][0]["message"]["content"]


def test_bodies_over_the_limit_are_refused_before_parsing(http: httpx.Client) -> None:
    huge = json.dumps({"question": "x" * 1_100_000})
    declared = http.post("v1/ask", content=huge, headers={"Content-Type": "application/json"})
    assert declared.status_code == 413
    assert error_of(declared)["code"] == "request_too_large"

    def chunks() -> object:  # no Content-Length: the server counts as it reads
        for start in range(0, len(huge), 65536):
            yield huge[start : start + 65536].encode()

    chunked = http.post("v1/ask", content=chunks(), headers={"Content-Type": "application/json"})
    assert chunked.status_code == 413
    assert error_of(chunked)["code"] == "request_too_large"


def test_a_lying_content_length_is_refused_unread(api_server: Server) -> None:
    """A client that declares 50 MB is answered at once, without the server waiting for it."""
    key = b"Authorization: Bearer " + API_KEY.encode() + b"\r\n"
    reply = _declaring_50_mb(api_server, key, until=b'"request_too_large"')
    assert reply.startswith("HTTP/1.1 413")
    assert '"request_too_large"' in reply


def _declaring_50_mb(api_server: Server, headers: bytes, until: bytes) -> str:
    """The server's reply to a POST /v1/ask declaring 50 MB and sending one byte of it, read
    until `until` arrives (head and body may come apart) or the server closes."""
    address = urlparse(api_server.url)
    with socket.create_connection((address.hostname, address.port), timeout=30) as sock:
        sock.sendall(
            b"POST /v1/ask HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            + headers
            + b"Content-Length: 50000000\r\n\r\n{"
        )
        received = b""
        while until not in received:
            piece = sock.recv(65536)
            if not piece:
                break
            received += piece
    return received.decode()


def test_unknown_paths_and_methods_under_v1(http: httpx.Client) -> None:
    missing = http.get("v1/nothing-here")
    assert missing.status_code == 404
    assert error_of(missing)["code"] == "not_found"
    wrong_method = http.get(CHAT)
    assert wrong_method.status_code == 405
    assert wrong_method.headers["allow"] == "POST"
    assert error_of(wrong_method)["code"] == "method_not_allowed"


def test_ask_is_the_cli_json(api_server: Server, http: httpx.Client) -> None:
    response = http.post("v1/ask", json={"question": QUESTION})
    assert response.status_code == 200
    api = response.json()
    cli = subprocess.run(
        [sys.executable, "-m", "assistant.cli", "ask", "--json", QUESTION],
        capture_output=True,
        text=True,
        env=server_env(api_server.index_dir.parent, api_server.data_dir)
        | {"ASSISTANT_INDEX_DIR": str(api_server.index_dir)},
        timeout=300,
        check=True,
    )
    expected = json.loads(cli.stdout)
    assert list(api) == list(expected)  # the same keys in the same order
    api.pop("timings_ms")
    expected.pop("timings_ms")
    assert api == expected
    assert api["citations"]
    assert api["related"]


def test_ask_takes_history_and_k(http: httpx.Client) -> None:
    history = [{"role": "user", "content": CURRENCY}]
    response = http.post("v1/ask", json={"question": FOLLOW_UP, "history": history, "k": 3})
    assert response.status_code == 200
    answer = response.json()
    assert FOLLOW_UP_ANSWER in answer["answer"]
    assert "digital currency" in answer["standalone_question"]
    assert "context:" not in answer["standalone_question"]
    # [role, content] pairs, as the Python API takes them: the same answer.
    pairs = {"question": FOLLOW_UP, "history": [["user", CURRENCY]], "k": 3}
    paired = http.post("v1/ask", json=pairs)
    assert paired.status_code == 200, paired.text
    assert paired.json()["answer"] == answer["answer"]
    assert paired.json()["standalone_question"] == answer["standalone_question"]
    for turn in ({"role": "bot"}, ["bot", CURRENCY], ["user"], ["user", CURRENCY, "x"], "hi"):
        bad = http.post("v1/ask", json={"question": FOLLOW_UP, "history": [turn]})
        assert bad.status_code == 422, turn
        assert error_of(bad)["param"].startswith("history.0"), turn
    assert http.post("v1/ask", json={"question": QUESTION, "k": 0}).status_code == 422
    for k in (True, "2", 2.0):  # as Assistant.ask refuses them: not a number of passages
        wrong = http.post("v1/ask", json={"question": QUESTION, "k": k})
        assert wrong.status_code == 422, k
        assert error_of(wrong)["param"] == "k"
    streamed = http.post(CHAT, json={**chat_body(), "stream": "yes"})
    assert streamed.status_code == 422
    assert error_of(streamed)["param"] == "stream"
    assert http.post("v1/ask", json={"question": QUESTION, "model": "nope"}).status_code == 404


def test_documents_lists_the_index(http: httpx.Client) -> None:
    response = http.get("v1/documents")
    assert response.status_code == 200
    listing = response.json()
    (document,) = listing["documents"]
    assert document["source"].endswith(SEED_FILE.name)
    assert document["chunks"] == listing["chunks"] > 0
    assert document["size"] == SEED_FILE.stat().st_size
    assert document["ingested_at"].endswith("Z")
    assert listing["count"] == 1


def test_health_needs_no_key_and_tells_no_secret(api_server: Server) -> None:
    response = httpx.get(api_server.url + "healthz", timeout=60)
    assert response.status_code == 200
    health = response.json()
    assert health["status"] == "ok"
    assert health["index_ready"] is True
    assert health["documents"] == 1
    assert health["chunks"] > 0
    assert health["answerer"] == "extractive"
    assert str(api_server.index_dir) not in response.text
    assert "scrypt" not in response.text


def test_streams_are_server_sent_events(http: httpx.Client) -> None:
    with http.stream("POST", CHAT, json=chat_body(stream=True)) as response:
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/event-stream")
        assert response.headers["cache-control"] == "no-cache"
        lines = [line for line in response.iter_lines() if line]
    assert all(line.startswith(("data: ", ": ")) for line in lines)
    assert lines[-1] == "data: [DONE]"
    final = json.loads(lines[-2].removeprefix("data: "))
    assert final["choices"][0]["finish_reason"] == "stop"
    assert final["refused"] is False
    assert final["citations"]


def test_the_chat_page_is_still_served_at_the_root(api_server: Server) -> None:
    page = httpx.get(api_server.url, timeout=60)
    assert page.status_code == 200
    assert "text/html" in page.headers["content-type"]
    assert "gradio" in page.text.lower()
    config = httpx.get(api_server.url + "config", timeout=60).json()
    assert config["title"] == "Document assistant"
    # The Swagger and ReDoc pages would load scripts from a CDN: not served.
    for page_name in ("docs", "redoc"):
        assert "swagger" not in httpx.get(api_server.url + page_name, timeout=60).text.lower()
        assert "redoc" not in httpx.get(api_server.url + page_name, timeout=60).text.lower()
