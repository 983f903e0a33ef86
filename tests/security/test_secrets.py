"""Secrets never leak: a login password, API keys, the LLM endpoint's key and the Chroma token
(distinctive markers) appear in no log (debug level), error, `--json` output, eval result,
feedback record, page, Gradio config or API body, whether requests succeed or fail."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, ClassVar

import httpx
import pytest

from assistant import Answer, Settings
from assistant.feedbackstore import feedback_record
from assistant.security import hash_api_key, hash_password
from tests.conftest import GOLDEN, SEEDS
from tests.servers import Server, refused_port, server_env, start_server, stop_server

pytestmark = pytest.mark.integration

PASSWORD = "pw-MARKER-7f3d1c-correct-horse"
API_KEY = "qa-MARKER-4e8b2a-api-key-000000000000"
OLD_KEY = "qa-MARKER-6a1f9e-scrypt-hashed-key-0000"  # hashed before API keys used SHA-256
LLM_KEY = "sk-MARKER-91c0d5-llm-endpoint-key"
CHROMA_TOKEN = "chroma-MARKER-2b6e4f-token"
PASSWORD_HASH = hash_password(PASSWORD)
KEY_HASH = hash_api_key(API_KEY)
OLD_KEY_HASH = hash_password(OLD_KEY)
MARKERS = ("MARKER-7f3d1c", "MARKER-4e8b2a", "MARKER-6a1f9e", "MARKER-91c0d5", "MARKER-2b6e4f")
HASHES = tuple(encoded.split("$")[-1] for encoded in (PASSWORD_HASH, KEY_HASH, OLD_KEY_HASH))
QUESTION = "Which tech giants had their Hong Kong stablecoin plans stopped by Beijing?"


def assert_clean(where: str, text: str) -> None:
    """No marker (nor a stored hash) in `text`."""
    found = [marker for marker in (*MARKERS, *HASHES) if marker in text]
    assert found == [], f"{where} leaks {found}"


class _EchoingEndpoint(BaseHTTPRequestHandler):
    """An OpenAI-compatible endpoint that rejects every key and echoes it, as OpenAI does."""

    received: ClassVar[list[str]] = []

    def do_POST(self) -> None:
        key = self.headers.get("Authorization", "")
        self.received.append(key)
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        body = json.dumps(
            {"error": {"message": f"Incorrect API key provided: {key}", "type": "invalid"}}
        ).encode()
        self.send_response(401)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: Any) -> None:
        """Quiet."""


@pytest.fixture(scope="module")
def echoing_endpoint() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _EchoingEndpoint)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/v1"
    server.shutdown()
    server.server_close()


def secret_settings(llm_url: str) -> dict[str, str]:
    """Every secret set, as a deployment would in the environment."""
    return {
        "auth_users": json.dumps({"alice": PASSWORD_HASH}),
        "api_keys": json.dumps({"bot": KEY_HASH, "old-bot": OLD_KEY_HASH}),
        "answerer": "openai",
        "llm_base_url": llm_url,
        "llm_api_key": LLM_KEY,
        "llm_retries": "0",
        "chroma_token": CHROMA_TOKEN,
        "log_level": "debug",
    }


@pytest.fixture(scope="module")
def secret_server(
    seed_index: Path, tmp_path_factory: pytest.TempPathFactory, echoing_endpoint: str
) -> Iterator[Server]:
    server = start_server(
        tmp_path_factory.mktemp("secret-server"), seed_index, **secret_settings(echoing_endpoint)
    )
    yield server
    stop_server(server)


def test_settings_never_show_secrets(echoing_endpoint: str) -> None:
    values: dict[str, Any] = {
        key: json.loads(value) if key in ("auth_users", "api_keys") else value
        for key, value in secret_settings(echoing_endpoint).items()
    }
    settings = Settings.model_validate(values)
    for dump in (repr(settings), str(settings), settings.model_dump_json(), f"{settings!r}"):
        assert_clean("settings dump", dump)
    assert settings.llm_api_key is not None
    assert settings.llm_api_key.get_secret_value() == LLM_KEY  # still usable where needed
    answer = Answer(question="q", text="a [1].", confidence=0.9)
    record = feedback_record(answer, "up", settings, comment="fine", user="alice")
    assert_clean("feedback record", json.dumps(record))


def test_the_endpoint_did_get_and_echo_the_key(secret_server: Server) -> None:
    """The leak tests are not vacuous: the key travelled and came back in an error body."""
    with httpx.Client(base_url=secret_server.url, timeout=120) as http:
        bearer = {"Authorization": f"Bearer {API_KEY}"}
        assert http.post("/v1/ask", json={"question": QUESTION}, headers=bearer).is_success
    assert f"Bearer {LLM_KEY}" in _EchoingEndpoint.received


def test_a_served_session_leaks_nothing(secret_server: Server) -> None:
    from gradio_client import Client

    seen: dict[str, str] = {}
    bearer = {"Authorization": f"Bearer {API_KEY}"}
    with httpx.Client(base_url=secret_server.url, timeout=120) as http:
        seen["login page"] = http.get("/").text
        wrong = http.post("/login", data={"username": "alice", "password": PASSWORD + "x"})
        seen["failed login"] = wrong.text + str(wrong.headers)
        assert wrong.status_code >= 400
        right = http.post("/login", data={"username": "alice", "password": PASSWORD})
        assert right.status_code == 200, right.text
        seen["login"] = right.text + str(right.headers)
        seen["page"] = http.get("/").text
        config = http.get("/config")
        assert config.status_code == 200
        seen["gradio config"] = config.text
        seen["openapi"] = http.get("/openapi.json").text
        for key in (None, API_KEY + "x", "Bearer " + API_KEY):
            headers = {"Authorization": f"Bearer {key}"} if key else {}
            refused = http.post("/v1/ask", json={"question": QUESTION}, headers=headers)
            assert refused.status_code == 401
            seen[f"401 {key}"] = refused.text + str(refused.headers)
        seen["models"] = http.get("/v1/models", headers=bearer).text
        old = http.get("/v1/documents", headers={"Authorization": f"Bearer {OLD_KEY}"})
        assert old.status_code == 200  # a key hashed with scrypt before SHA-256 still works
        seen["scrypt-hashed key"] = old.text
        seen["documents"] = http.get("/v1/documents", headers=bearer).text
        asked = http.post("/v1/ask", json={"question": QUESTION}, headers=bearer)
        assert asked.status_code == 200
        notice = asked.json()["notice"]
        assert notice is not None
        assert "HTTP 401" in notice  # the endpoint refused the key, and said which key
        seen["ask"] = asked.text
        chat = http.post(
            "/v1/chat/completions",
            json={"messages": [{"role": "user", "content": QUESTION}], "stream": True},
            headers=bearer,
        )
        seen["chat stream"] = chat.text
        seen["bad body"] = http.post("/v1/ask", json={"x": 1}, headers=bearer).text
        seen["health"] = http.get("/healthz").text
    client = Client(secret_server.url, auth=("alice", PASSWORD), verbose=False)
    seen["gradio ask"] = json.dumps(client.predict(QUESTION, api_name="/ask"))
    seen["gradio api info"] = json.dumps(client.view_api(print_info=False, return_format="dict"))
    stop_server(secret_server)  # flush and close the log before reading it
    seen["server log"] = secret_server.log.read_text()
    assert "DEBUG" in seen["server log"]  # it did log at debug level
    assert "HTTP 401" in seen["server log"]  # and logged the failure, without the key
    assert "deprecated scrypt hash: old-bot;" in seen["server log"]  # the one-line notice
    for where, text in seen.items():
        assert_clean(where, text)


def run_cli(root: Path, settings: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "assistant.cli", *args],
        capture_output=True,
        text=True,
        env=server_env(root, root / "data", **settings),
        cwd=root,
        timeout=900,
    )


def test_the_command_line_leaks_nothing(
    seed_index: Path, tmp_path: Path, echoing_endpoint: str
) -> None:
    settings = secret_settings(echoing_endpoint)
    asked = run_cli(tmp_path, settings, "ask", QUESTION, "--index", str(seed_index), "--json")
    assert asked.returncode == 0, asked.stderr
    assert "HTTP 401" in json.loads(asked.stdout)["notice"]
    streamed = run_cli(tmp_path, settings, "ask", QUESTION, "--index", str(seed_index))
    golden = tmp_path / "two.jsonl"
    golden.write_text("".join((GOLDEN / "seed_qa.jsonl").read_text().splitlines(True)[:2]))
    report = tmp_path / "report"
    evaluated = run_cli(
        tmp_path,
        settings,
        "eval",
        str(golden),
        "--index",
        str(seed_index),
        "--report",
        str(report),
    )
    assert (report / "result.json").exists(), evaluated.stderr
    # Chroma as a server that is not there, with its token: a clear error, not the token.
    with refused_port() as port:
        dead_chroma = {**settings, "chroma_mode": "http", "chroma_port": str(port)}
        index = str(tmp_path / "i")
        no_store = run_cli(tmp_path, dead_chroma, "ingest", str(SEEDS), "--index", index)
        assert no_store.returncode != 0
        assert "Traceback" not in no_store.stderr
        no_store_ask = run_cli(tmp_path, dead_chroma, "ask", QUESTION, "--index", str(seed_index))
    outputs = {
        "ask --json": asked.stdout + asked.stderr,
        "ask": streamed.stdout + streamed.stderr,
        "eval": evaluated.stdout + evaluated.stderr,
        "dead chroma ingest": no_store.stdout + no_store.stderr,
        "dead chroma ask": no_store_ask.stdout + no_store_ask.stderr,
    }
    outputs.update({f"report {p.name}": p.read_text() for p in report.iterdir() if p.is_file()})
    for where, text in outputs.items():
        assert_clean(where, text)
