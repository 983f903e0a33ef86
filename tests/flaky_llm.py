"""A real OpenAI-compatible chat endpoint on a loopback port whose health a test switches: it
answers well (quoting its first source with [1], as streamed SSE or one JSON), or fails in one
of the ways real endpoints fail."""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Literal

from llama_index.core.base.llms.types import ChatMessage

from tests.fake_answerer import quote_first_source

Mode = Literal[
    "healthy",
    "malformed_json",  # `data: {not json` / a body that is not JSON
    "wrong_shape",  # JSON without choices or deltas where they belong
    "empty_choices",  # `choices: []` in every chunk: no text at all
    "http_500",
    "cut_mid_stream",  # a few words, then the connection drops without the end of the body
    "stalled",  # a few words, then nothing: only the client's own timeout ends the wait
]
FAILURES: tuple[Mode, ...] = (
    "malformed_json",
    "wrong_shape",
    "empty_choices",
    "http_500",
    "cut_mid_stream",
    "stalled",
)


class FlakyLLM:
    """The endpoint's switch and what it was asked."""

    def __init__(self, url: str) -> None:
        self.url = url  # ends with /v1
        self.mode: Mode = "healthy"
        self.requests = 0


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:  # quiet test output
        pass

    def do_GET(self) -> None:
        self._json(200, {"object": "list", "data": [{"id": "flaky", "object": "model"}]})

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length", "0"))
        request = json.loads(self.rfile.read(length) or b"{}")
        state = self.server.state
        state.requests += 1
        mode = state.mode
        messages = [ChatMessage(content=m.get("content") or "") for m in request["messages"]]
        reply = quote_first_source(messages) or "The documents don't answer this."
        if mode == "http_500":
            self._json(500, {"error": {"message": "model crashed", "type": "server_error"}})
        elif not request.get("stream"):
            self._whole(mode, reply)
        else:
            self._stream(mode, reply)

    def _whole(self, mode: Mode, reply: str) -> None:
        if mode == "malformed_json":
            self._raw(
                200, b'{"choices": [{"message": {"content": "unterminated', "application/json"
            )
        elif mode == "wrong_shape":
            self._json(200, {"result": reply})
        elif mode == "empty_choices":
            self._json(200, _completion([]))
        else:
            message = {"role": "assistant", "content": reply}
            self._json(
                200, _completion([{"index": 0, "message": message, "finish_reason": "stop"}])
            )

    def _stream(self, mode: Mode, reply: str) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        words = reply.split(" ")
        for index, word in enumerate(words):
            piece = word if index == 0 else " " + word
            if mode == "malformed_json":
                self._chunk(b"data: {not json\n\n")
                break
            if mode == "wrong_shape":
                self._chunk(b'data: {"text": "' + piece.encode() + b'"}\n\n')
                continue
            if mode == "empty_choices":
                self._event(_chunk_of([]))
                continue
            self._event(_chunk_of([{"index": 0, "delta": {"content": piece}}]))
            if index == 2 and mode == "cut_mid_stream":
                self.wfile.flush()
                self.connection.close()  # no final chunk, no [DONE]: the body is truncated
                return
            if index == 2 and mode == "stalled":
                self.server.closing.wait()  # silent for as long as the endpoint runs
                return
        self._event(_chunk_of([{"index": 0, "delta": {}, "finish_reason": "stop"}]))
        self._chunk(b"data: [DONE]\n\n")
        self._chunk(b"")

    def _event(self, data: dict[str, Any]) -> None:
        self._chunk(f"data: {json.dumps(data)}\n\n".encode())

    def _chunk(self, data: bytes) -> None:
        self.wfile.write(f"{len(data):x}\r\n".encode() + data + b"\r\n")
        self.wfile.flush()

    def _json(self, status: int, body: dict[str, Any]) -> None:
        self._raw(status, json.dumps(body).encode(), "application/json")

    def _raw(self, status: int, body: bytes, content_type: str) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


def _completion(choices: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "id": "x",
        "object": "chat.completion",
        "created": 0,
        "model": "flaky",
        "choices": choices,
    }


def _chunk_of(choices: list[dict[str, Any]]) -> dict[str, Any]:
    head = {"id": "x", "object": "chat.completion.chunk", "created": 0, "model": "flaky"}
    return {**head, "choices": choices}


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    state: FlakyLLM
    closing: threading.Event

    def handle_error(self, request: Any, client_address: Any) -> None:
        """Quiet: clients that give up on a stalled reply reset their connection."""


@contextmanager
def flaky_llm(bound: socket.socket | None = None) -> Iterator[FlakyLLM]:
    """The endpoint on a free loopback port, healthy to begin with; or on `bound`, a socket
    bound but not yet listening (a port that refused connections until now)."""
    server = _Server(("127.0.0.1", 0), _Handler, bind_and_activate=bound is None)
    if bound is not None:
        server.socket.close()
        server.socket = bound
        server.server_address = bound.getsockname()
        server.server_activate()
    server.state = FlakyLLM(f"http://127.0.0.1:{server.server_address[1]}/v1")
    server.closing = threading.Event()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server.state
    finally:
        server.closing.set()  # ends the stalled replies
        server.shutdown()
        server.server_close()
