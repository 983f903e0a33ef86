"""`assistant serve`: the API alone, an empty index, settings files (binding: tests/security)."""

from __future__ import annotations

import contextlib
import signal
import subprocess
import threading
from pathlib import Path

import httpx
import pytest

from assistant import Assistant, Settings
from assistant.api.server import GRACEFUL_SHUTDOWN_S, build_server
from assistant.security import hash_api_key
from tests.conftest import make_settings
from tests.servers import serving as running
from tests.servers import start_server, stop_server

QUESTION = {"messages": [{"role": "user", "content": "Who halted their plans?"}]}


def test_api_alone_without_an_index_says_so(tmp_path: Path) -> None:
    """No keys on loopback: open. No index: health says so and questions get 503."""
    app = build_server(Assistant(make_settings(tmp_path / "none")), ui=False)
    with running(app) as url:
        health = httpx.get(f"{url}/healthz", timeout=60).json()
        assert (health["status"], health["index_ready"], health["chunks"]) == ("no_index", False, 0)
        for body in (QUESTION, {**QUESTION, "stream": True}):
            response = httpx.post(f"{url}/v1/chat/completions", json=body, timeout=60)
            assert response.status_code == 503
            assert response.json()["error"]["code"] == "index_missing"
            assert "assistant ingest" in response.json()["error"]["message"]
            assert str(tmp_path) not in response.text  # no folder of the server's to a client
        ask = httpx.post(f"{url}/v1/ask", json={"question": "Who?"}, timeout=60)
        assert ask.status_code == 503
        assert str(tmp_path) not in ask.text
        documents = httpx.get(f"{url}/v1/documents", timeout=60).json()
        assert documents == {"documents": [], "count": 0, "chunks": 0}
        root = httpx.get(f"{url}/", timeout=60)  # no chat in API-only mode
        assert root.status_code == 404
        assert root.json()["error"]["code"] == "not_found"
        schema = httpx.get(f"{url}/openapi.json", timeout=60).json()
        # The bearer scheme (and a user's password) is always documented: once a user exists
        # (docs/teams.md), every request needs one; until then a request without is answered.
        assert schema["paths"]["/v1/ask"]["post"]["security"] == [{"ApiKey": []}, {"Password": []}]


def test_api_keys_from_a_toml_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    encoded = hash_api_key("qa-toml-key-00000000000000")
    config = tmp_path / "assistant.toml"
    config.write_text(
        'max_request_bytes = 4096\napi_default_model = "llamacpp"\n\n'
        f'[api_keys]\nbot = "{encoded}"\n'
    )
    monkeypatch.setenv("ASSISTANT_CONFIG", str(config))
    settings = Settings()
    assert settings.api_keys["bot"].get_secret_value() == encoded
    assert (settings.max_request_bytes, settings.api_default_model) == (4096, "llamacpp")


@pytest.mark.parametrize("stop", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_a_stopped_server_leaves_no_conversation_exports(
    seed_index: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, stop: signal.Signals
) -> None:
    """The chat's export folder goes with the server however it is stopped: uvicorn ends a
    server stopped by a signal by raising it again, so no exit handler would have run."""
    temporary = tmp_path / "tmp"  # the server's own temporary folder (tempfile reads TMPDIR)
    temporary.mkdir()
    monkeypatch.setenv("TMPDIR", str(temporary))
    server = start_server(tmp_path, seed_index)
    try:
        [exports] = temporary.glob("assistant-exports-*")  # made when the chat is mounted
        (exports / "c0ffee").mkdir()
        (exports / "c0ffee" / "a-conversation.md").write_text("# An export\n", "utf-8")
        server.process.send_signal(stop)
        server.process.wait(timeout=GRACEFUL_SHUTDOWN_S + 110)
    finally:
        stop_server(server)
    assert not exports.exists(), server.log.read_text()[-2000:]
    assert "Traceback" not in server.log.read_text()


def test_sigterm_stops_the_server_while_a_chat_stream_is_open(
    seed_index: Path, tmp_path: Path
) -> None:
    """An open browser tab holds an event stream that never ends: SIGTERM still stops the
    server on its own, after the grace period for answers in flight (uvicorn then ends by the
    signal it caught, as a service manager expects)."""
    server = start_server(tmp_path, seed_index)
    opened = threading.Event()

    def hold_a_stream() -> None:
        url = f"{server.url}gradio_api/heartbeat/{'a' * 11}"
        with contextlib.suppress(httpx.HTTPError), httpx.stream("GET", url, timeout=None) as held:
            assert held.status_code == 200
            opened.set()
            for _ in held.iter_bytes():
                pass

    reader = threading.Thread(target=hold_a_stream, daemon=True)
    reader.start()
    try:
        assert opened.wait(timeout=120), server.log.read_text()
        server.process.terminate()
        try:  # before the grace period existed, only the kill below ever stopped it
            code = server.process.wait(timeout=GRACEFUL_SHUTDOWN_S + 110)
        except subprocess.TimeoutExpired:
            pytest.fail("the server ignored SIGTERM while a stream was open")
    finally:
        stop_server(server)
    log = server.log.read_text()
    assert code == -signal.SIGTERM, log[-2000:]
    # One line says the stream was cancelled; no traceback that reads like a crash.
    assert "timeout graceful shutdown exceeded" in log
    assert "Traceback" not in log, log[-2000:]
    reader.join(timeout=60)
    assert not reader.is_alive()
