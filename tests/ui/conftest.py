"""A real `assistant serve` on a free loopback port, and headless Chromium pages that record
every console message and every request host."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import pytest

from tests.conftest import REPO, SEEDS

ARTIFACTS = REPO / "test-artifacts"
TIMEOUT_MS = 90_000  # answers and ingests on a busy 2-core machine


@dataclass
class Server:
    """A running web chat and where it keeps its files."""

    url: str
    index_dir: Path
    data_dir: Path
    log: Path
    process: subprocess.Popen[bytes]

    @property
    def feedback(self) -> Path:
        return self.data_dir / "feedback.jsonl"


def free_port() -> int:
    """A TCP port nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def start_server(root: Path, seed_index: Path, **settings: str) -> Server:
    """`assistant serve` on a copy of the seed index, with its own data dir and settings."""
    index_dir, data_dir = root / "index", root / "data"
    shutil.copytree(seed_index, index_dir)
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
    port = free_port()
    log = root / "serve.log"
    with log.open("wb") as handle:
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "assistant.cli",
                "serve",
                "--port",
                str(port),
                "--index",
                str(index_dir),
            ],
            stdout=handle,
            stderr=subprocess.STDOUT,
            env=env,
            cwd=root,
        )
    server = Server(f"http://127.0.0.1:{port}/", index_dir, data_dir, log, process)
    try:
        wait_until_up(server)
    except BaseException:
        stop_server(server)
        raise
    return server


def wait_until_up(server: Server, timeout: float = 300) -> None:
    """Block until the page answers 200 (or 401 behind a login)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            raise RuntimeError(f"server exited: {server.log.read_text()[-3000:]}")
        try:
            with urllib.request.urlopen(server.url + "config", timeout=5) as response:
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


@pytest.fixture(scope="session")
def ui_server(seed_index: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """The web chat on a writable copy of the seed index, shared by the session's UI tests."""
    server = start_server(tmp_path_factory.mktemp("ui-server"), seed_index)
    yield server
    stop_server(server)


@dataclass
class PageLog:
    """What a page did: console errors, uncaught exceptions, failed requests, hosts asked."""

    errors: list[str] = field(default_factory=list)
    hosts: set[str] = field(default_factory=set)

    def attach(self, page: Any) -> None:
        page.on("console", lambda m: m.type == "error" and self.errors.append(f"console: {m.text}"))
        page.on("pageerror", lambda e: self.errors.append(f"page error: {e}"))
        page.on("request", lambda r: self.hosts.add(urlparse(r.url).hostname or r.url))
        page.on("requestfailed", self._failed)
        page.on("response", lambda r: r.status >= 400 and self.errors.append(f"{r.status} {r.url}"))

    def _failed(self, request: Any) -> None:
        # Gradio's client closes its event stream itself once no event is pending: an abort.
        if request.failure != "net::ERR_ABORTED":
            self.errors.append(f"request failed: {request.url} {request.failure}")


@pytest.fixture
def page_log() -> PageLog:
    return PageLog()


@pytest.fixture
def viewport() -> dict[str, int]:
    """Desktop size; tests override it for a phone."""
    return {"width": 1280, "height": 800}


@pytest.fixture
def page(
    browser: Any, ui_server: Server, page_log: PageLog, viewport: dict[str, int]
) -> Iterator[Any]:
    """A fresh page of the chat; afterwards, no console error and no request off 127.0.0.1."""
    context = browser.new_context(viewport=viewport)
    context.grant_permissions(["clipboard-read", "clipboard-write"])
    page = context.new_page()
    page.set_default_timeout(TIMEOUT_MS)
    page_log.attach(page)
    page.goto(ui_server.url)
    page.wait_for_selector("#qa-chat")
    yield page
    errors, hosts = list(page_log.errors), set(page_log.hosts)  # closing aborts live streams
    context.close()
    assert errors == []
    assert hosts <= {"127.0.0.1"}


def screenshot(page: Any, name: str) -> Path:
    """Save a screenshot under test-artifacts/."""
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path))
    return path
