"""A real `assistant serve` on a free loopback port, and headless Chromium pages that record
every console message and every request host."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import pytest
from playwright.sync_api import TimeoutError as PlaywrightTimeoutError
from playwright.sync_api import expect

from tests.servers import Server, start_server, stop_server

# Screenshots go to this folder when it is set (e.g. `ASSISTANT_TEST_ARTIFACTS=test-artifacts` to
# refresh docs/'s screenshots), else to the session's temporary folder: never into the repository.
# Read at import: the autouse `hermetic_env` fixture removes every ASSISTANT_* variable.
ARTIFACTS_VARIABLE = "ASSISTANT_TEST_ARTIFACTS"
_CHOSEN_ARTIFACTS = os.environ.get(ARTIFACTS_VARIABLE)
_artifacts: list[Path] = []  # the session's folder, set by the `artifacts` fixture
TIMEOUT_MS = 90_000  # answers and ingests on a busy 2-core machine
# Assertions wait as long as actions: expect's own 5 s default failed a conversation list that
# refreshed after a second answer on a machine under load.
expect.set_options(timeout=TIMEOUT_MS)
# Gradio redraws the chat's HTML after an answer (and when load events run), and a click whose
# press and release land on two drawings of a link does nothing (lost on loaded clean-clone
# runs, never here): the user clicks again, and so does `click_until`, printing that it had to.
CLICKS = 3
CLICK_WAIT_MS = 30_000
QUOTE = "#qa-viewer mark.qa-quote"  # the cited passage, marked in the source panel


@pytest.fixture(scope="session", autouse=True)
def artifacts(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Where this session's screenshots go: $ASSISTANT_TEST_ARTIFACTS, else a temporary folder."""
    if _CHOSEN_ARTIFACTS:
        folder = Path(_CHOSEN_ARTIFACTS).resolve()
        folder.mkdir(parents=True, exist_ok=True)
    else:
        folder = tmp_path_factory.mktemp("artifacts")
    _artifacts[:] = [folder]
    return folder


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
        # A page's client aborts its own event stream and heartbeat when it goes away.
        if request.failure != "net::ERR_ABORTED":
            self.errors.append(f"request failed: {request.url} {request.failure}")


@pytest.fixture
def page_log() -> PageLog:
    return PageLog()


@pytest.fixture
def viewport() -> dict[str, int]:
    """Desktop size; tests override it for a phone."""
    return {"width": 1280, "height": 800}


@contextmanager
def chat_page(
    browser: Any,
    server: Server,
    page_log: PageLog,
    viewport: dict[str, int],
    query: str = "",
    trust_any_certificate: bool = False,
) -> Iterator[Any]:
    """A fresh page of a server's chat (`query`: e.g. "?__theme=dark"; `trust_any_certificate`
    for a test's self-signed TLS proxy); afterwards, no console error and no request off
    127.0.0.1."""
    context = browser.new_context(viewport=viewport, ignore_https_errors=trust_any_certificate)
    context.grant_permissions(["clipboard-read", "clipboard-write"])
    page = context.new_page()
    page.set_default_timeout(TIMEOUT_MS)
    page_log.attach(page)
    page.goto(server.url + query)
    page.wait_for_selector("#qa-chat")
    yield page
    errors, hosts = list(page_log.errors), set(page_log.hosts)  # closing aborts live streams
    context.close()
    assert errors == []
    assert hosts <= {"127.0.0.1"}


@pytest.fixture
def page(
    browser: Any, ui_server: Server, page_log: PageLog, viewport: dict[str, int]
) -> Iterator[Any]:
    """A fresh page of the chat (see `chat_page`)."""
    with chat_page(browser, ui_server, page_log, viewport) as page:
        yield page


def screenshot(target: Any, name: str) -> Path:
    """Save a screenshot of a page or a locator as NAME.png in the `artifacts` folder."""
    (folder,) = _artifacts
    path = folder / f"{name}.png"
    target.screenshot(path=str(path))
    return path


def click_until(target: Any, shown: Any) -> None:
    """Click `target` (a locator) until `shown` (a locator) is visible, at most CLICKS times."""
    for click in range(1, CLICKS + 1):
        target.click()
        try:
            shown.first.wait_for(timeout=CLICK_WAIT_MS)
            return
        except PlaywrightTimeoutError:
            print(f"click {click} on {target} showed nothing; clicking again")
    raise AssertionError(f"{CLICKS} clicks on {target} never showed {shown}")


def open_citation(page: Any, chip: Any) -> None:
    """Click a citation chip until the source panel shows its marked passage."""
    click_until(chip, page.locator(QUOTE))
