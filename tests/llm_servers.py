"""Real servers for the `openai` answerer's tests: llama.cpp's OpenAI-compatible server, and
loopback ports that refuse or never answer."""

from __future__ import annotations

import re
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from assistant.answerers.llamacpp import bundled_model_path

__all__ = ["SERVER_KEY", "SERVER_MODEL", "llama_server", "silent_server"]

SERVER_MODEL = "smollm2"
SERVER_KEY = "test-key-5f3a9c"  # the server demands it: proves the key is sent


@contextmanager
def llama_server(log_file: Path, startup_seconds: float = 180.0) -> Iterator[str]:
    """`python -m llama_cpp.server` with the bundled SmolLM2 on port 0; yields its /v1 URL (the
    port read back from the "Uvicorn running on" line it logs once bound)."""
    command = [
        sys.executable,
        "-m",
        "llama_cpp.server",
        "--model",
        str(bundled_model_path()),
        "--model_alias",
        SERVER_MODEL,
        "--host",
        "127.0.0.1",
        "--port",
        "0",
        "--n_ctx",
        "4096",
        "--api_key",
        SERVER_KEY,
    ]
    with log_file.open("wb") as log:
        process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT)
        try:
            port = _wait_for_port(process, startup_seconds, log_file)
            base_url = f"http://127.0.0.1:{port}/v1"
            _wait_until_up(base_url, process, startup_seconds, log_file)
            yield base_url
        finally:
            process.terminate()
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=20)


RUNNING = re.compile(r"Uvicorn running on http://127\.0\.0\.1:(\d+)")


def _wait_for_port(process: subprocess.Popen[bytes], seconds: float, log_file: Path) -> int:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        found = RUNNING.search(log_file.read_text(errors="replace"))
        if found:
            return int(found.group(1))
        if process.poll() is not None:
            tail = log_file.read_text(errors="replace")[-2000:]
            raise RuntimeError(f"llama_cpp.server exited with {process.returncode}:\n{tail}")
        time.sleep(0.3)
    raise RuntimeError(f"llama_cpp.server did not bind a port within {seconds:g} s")


def _wait_until_up(
    base_url: str, process: subprocess.Popen[bytes], seconds: float, log_file: Path
) -> None:
    deadline = time.monotonic() + seconds
    request = urllib.request.Request(
        f"{base_url}/models", headers={"Authorization": f"Bearer {SERVER_KEY}"}
    )
    while time.monotonic() < deadline:
        if process.poll() is not None:
            tail = log_file.read_text(errors="replace")[-2000:]
            raise RuntimeError(f"llama_cpp.server exited with {process.returncode}:\n{tail}")
        try:
            with urllib.request.urlopen(request, timeout=2) as response:
                if response.status == 200:
                    return
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            time.sleep(0.5)
    raise RuntimeError(f"llama_cpp.server did not come up within {seconds:g} s")


@contextmanager
def silent_server() -> Iterator[str]:
    """A loopback port that accepts connections and never answers; yields its /v1 URL."""
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(16)  # the kernel completes handshakes; nobody ever reads or replies
        yield f"http://127.0.0.1:{listener.getsockname()[1]}/v1"
