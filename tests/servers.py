"""A real `assistant serve` subprocess on a free loopback port, for the UI and API tests."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from assistant import Assistant
from tests.conftest import SEEDS


@dataclass
class Server:
    """A running server and where it keeps its files."""

    url: str  # ends with "/"
    index_dir: Path
    data_dir: Path
    log: Path
    process: subprocess.Popen[bytes]

    @property
    def feedback(self) -> Path:
        return self.data_dir / "feedback.jsonl"

    @property
    def api(self) -> str:
        """The API's base URL (what an OpenAI client takes as base_url)."""
        return self.url + "v1"


def free_port() -> int:
    """A TCP port nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def server_env(root: Path, data_dir: Path, **settings: str) -> dict[str, str]:
    """The environment of a server: no ASSISTANT_* of the developer, offline, these settings."""
    env = {key: value for key, value in os.environ.items() if not key.startswith("ASSISTANT_")}
    env.update(
        {
            "ASSISTANT_CONFIG": str(root / "no-assistant.toml"),
            "ASSISTANT_DATA_DIR": str(data_dir),
            "ASSISTANT_SOURCES": str(SEEDS),
            "GRADIO_ANALYTICS_ENABLED": "False",
            "HF_HUB_OFFLINE": "1",
            "TRANSFORMERS_OFFLINE": "1",
            **{f"ASSISTANT_{key.upper()}": value for key, value in settings.items()},
        }
    )
    return env


def start_server(
    root: Path, seed_index: Path, *args: str, ready: str = "healthz", **settings: str
) -> Server:
    """`assistant serve ARGS` on a copy of the seed index, with its own data dir and settings."""
    index_dir, data_dir = root / "index", root / "data"
    shutil.copytree(seed_index, index_dir)
    port = free_port()
    log = root / "serve.log"
    command = [sys.executable, "-m", "assistant.cli", "serve", "--port", str(port)]
    with log.open("wb") as handle:
        process = subprocess.Popen(
            [*command, "--index", str(index_dir), *args],
            stdout=handle,
            stderr=subprocess.STDOUT,
            env=server_env(root, data_dir, **settings),
            cwd=root,
        )
    server = Server(f"http://127.0.0.1:{port}/", index_dir, data_dir, log, process)
    try:
        wait_until_up(server, ready)
    except BaseException:
        stop_server(server)
        raise
    return server


def wait_until_up(server: Server, ready: str, timeout: float = 300) -> None:
    """Block until `ready` (a path) answers 200, or 401 behind a login."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            raise RuntimeError(f"server exited: {server.log.read_text()[-3000:]}")
        try:
            with urllib.request.urlopen(server.url + ready, timeout=5) as response:
                if response.status == 200:
                    return
        except urllib.error.HTTPError as exc:
            if exc.code == 401:
                return
        except OSError:
            pass
        time.sleep(0.5)
    raise TimeoutError(f"{server.url} did not come up: {server.log.read_text()[-3000:]}")


def stop_server(server: Server) -> None:
    """Stop the server process we started."""
    server.process.terminate()
    try:
        server.process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        server.process.kill()
        server.process.wait(timeout=30)


@contextmanager
def serving(app: Any) -> Iterator[str]:
    """An ASGI `app` under uvicorn on a free loopback port in this process; yields its URL."""
    import uvicorn

    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 60
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("uvicorn did not start")
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=30)


class Gate:
    """Holds every answer of an Assistant until opened (the server's work made observable)."""

    def __init__(self, assistant: Assistant) -> None:
        self.entered = threading.Event()
        self.opened = threading.Event()
        real = assistant.ask

        def ask(*args: Any, **kwargs: Any) -> Any:
            self.entered.set()
            assert self.opened.wait(60), "the test never opened the gate"
            return real(*args, **kwargs)

        assistant.ask = ask  # type: ignore[method-assign]


def wait_for(condition: Callable[[], bool], what: str) -> None:
    """Poll `condition` until it holds (or fail after 30 s naming `what`)."""
    deadline = time.monotonic() + 30
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.02)
