"""The page's event stream on a slow or broken network: the answer shows as streaming, and the
chat's question box comes back after every answer, even when the end of the page's event stream
reaches the page late (assets/stream.js)."""

from __future__ import annotations

import asyncio
import sqlite3
import threading
from collections.abc import Callable, Iterator
from contextlib import closing, contextmanager
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import urlparse

import pytest
from fastapi import FastAPI
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from assistant import Assistant
from tests.conftest import make_settings
from tests.servers import Server, restart_server, serving, start_server, stop_server, wait_for
from tests.ui.conftest import TIMEOUT_MS, PageLog
from tests.ui.test_browser import FINAL, IDLE, QUESTION, ask

pytestmark = [pytest.mark.integration, pytest.mark.browser]
W = TypeVar("W")

CLOSE = b'"msg":"close_stream"'
GENERATING = b'"msg":"process_generating"'
SLOW_S = 0.5  # far longer than a drawing of the page takes
LATE_S = 1.5  # longer than the page takes to join the next step of the answer's chain
LISTED = "#qa-conversations label"
OTHER = "What is the name of China's state-backed digital currency?"
QUESTIONS = (
    QUESTION,
    "Why did Beijing stop them?",
    "Which regulator runs the stablecoin sandbox in Hong Kong?",
)


class Delaying:
    """A slow network in front of `app`: each message of a page's event stream that holds
    `marker` reaches the page `seconds` after the one before it (`delayed` counts them)."""

    marker = b""
    seconds = 0.0

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self.delayed = 0

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not scope["path"].endswith("/queue/data"):
            await self.app(scope, receive, send)
            return

        async def late(message: Message) -> None:
            if message["type"] == "http.response.body" and self.marker in message.get("body", b""):
                self.delayed += 1
                await asyncio.sleep(self.seconds)
            await send(message)

        await self.app(scope, receive, late)


class LateClose(Delaying):
    """What a slow network may do: the server's close of a page's event stream reaches the
    page after the reply to the page's next join, which travels on another connection."""

    marker = CLOSE
    seconds = LATE_S


class SlowLink(Delaying):
    """A slow network: every update of a running answer reaches the page half a second after
    the one before. A local answer is done in milliseconds, so on a fast link the page may get
    the streaming updates and the final answer in one read and draw only the last."""

    marker = GENERATING
    seconds = SLOW_S


@contextmanager
def page_of_app(
    seed_index: Path, tmp_path: Path, browser: Any, wrap: Callable[[ASGIApp], W]
) -> Iterator[tuple[Any, PageLog, W]]:
    """A page of the web chat served in this process through `wrap`, what the page logged,
    and the wrapped server (unlike `tests.ui.conftest.chat_page`, the test decides which
    logged errors count: a cut stream logs some)."""
    from assistant.ui.app import mount_ui

    assistant = Assistant(make_settings(seed_index, data_dir=tmp_path / "data"))
    app = FastAPI()
    mount_ui(app, assistant, {})
    log = PageLog()
    server = wrap(app)
    with serving(server) as url:
        context = browser.new_context()
        try:
            page = context.new_page()
            log.attach(page)
            page.set_default_timeout(TIMEOUT_MS)
            page.goto(url)
            yield page, log, server
        finally:
            context.close()


def test_the_question_box_comes_back_when_the_stream_closes_late(
    seed_index: Path, tmp_path: Path, browser: Any
) -> None:
    with page_of_app(seed_index, tmp_path, browser, LateClose) as (page, log, server):
        # ask() waits for the box to be enabled again. Without stream.js the answer chain's
        # last step (which enables it) is joined while the close is on its way, and that step's
        # messages are never read.
        texts = [ask(page, question).inner_text() for question in QUESTIONS]
    assert "Ant Group" in texts[0]
    assert server.delayed >= len(QUESTIONS)  # the server did end its streams, each late
    assert log.errors == []


class Cuttable:
    """A server whose open event streams can be cut off, as a network failure or a restarting
    proxy would: the connection drops without an end or a close message."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self.streams: set[asyncio.Task[None]] = set()
        self.loop: asyncio.AbstractEventLoop | None = None
        self.cuts = 0

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not scope["path"].endswith("/queue/data"):
            await self.app(scope, receive, send)
            return
        self.loop = asyncio.get_running_loop()
        task = asyncio.ensure_future(self.app(scope, receive, send))
        self.streams.add(task)
        try:
            await task
        finally:
            self.streams.discard(task)

    def open_streams(self) -> int:
        return sum(not task.done() for task in self.streams)

    def cut(self) -> None:
        """Cancel every open stream (from the test's thread)."""
        assert self.loop is not None
        self.cuts += self.open_streams()
        for task in list(self.streams):
            self.loop.call_soon_threadsafe(task.cancel)


def test_a_page_whose_idle_stream_is_cut_answers_the_next_question(
    seed_index: Path, tmp_path: Path, browser: Any
) -> None:
    """The page's stream stays open between questions, so a dropped connection finds it idle:
    the page then opens a new stream with its next question instead of waiting on the dead
    one (what Gradio's client would do, as it never hears that the stream ended)."""
    with page_of_app(seed_index, tmp_path, browser, Cuttable) as (page, log, server):
        first = ask(page, QUESTION).inner_text()
        wait_for(lambda: server.open_streams() > 0, "the idle page's open stream")
        server.cut()
        second = ask(page, QUESTION).inner_text()
        errors = page.locator(".qa-error").count()
    assert server.cuts >= 1
    assert "Ant Group" in first
    assert "Ant Group" in second
    assert errors == 0
    # The cut shows in the console (the failed request, Gradio's report of it); nothing threw.
    assert not [error for error in log.errors if error.startswith("page error")], log.errors


class Forwarder:
    """One loopback address that forwards each new connection to the server started last, as a
    load balancer in front of a restarted server does (connections to a stopped one end)."""

    def __init__(self) -> None:
        self.target = 0  # the port connections go to
        self.port = 0
        self.loop = asyncio.new_event_loop()
        self.started = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()
        assert self.started.wait(30)

    def _run(self) -> None:
        asyncio.set_event_loop(self.loop)
        self.server = self.loop.run_until_complete(
            asyncio.start_server(self._forward, "127.0.0.1", 0)
        )
        self.port = self.server.sockets[0].getsockname()[1]
        self.started.set()
        self.loop.run_forever()

    async def _forward(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            upstream_reader, upstream_writer = await asyncio.open_connection(
                "127.0.0.1", self.target
            )
        except OSError:
            writer.close()
            return

        async def copy(source: asyncio.StreamReader, sink: asyncio.StreamWriter) -> None:
            try:
                while data := await source.read(65536):
                    sink.write(data)
                    await sink.drain()
            except OSError:
                pass
            finally:
                sink.close()

        await asyncio.gather(copy(reader, upstream_writer), copy(upstream_reader, writer))

    def close(self) -> None:
        self.loop.call_soon_threadsafe(self.server.close)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(30)


def port_of(server: Server) -> int:
    port = urlparse(server.url).port
    assert port is not None
    return port


def stored_questions(server: Server) -> list[list[str]]:
    """The questions of each conversation the server keeps, oldest conversation first."""
    if not (server.index_dir / "conversations.sqlite3").exists():
        return []
    with closing(sqlite3.connect(server.index_dir / "conversations.sqlite3")) as db:
        rows = db.execute(
            "SELECT c.id, t.question FROM conversations c JOIN turns t "
            "ON t.conversation_id = c.id WHERE c.deleted_at IS NULL "
            "ORDER BY c.created_at, t.ordinal"
        ).fetchall()
    questions: dict[str, list[str]] = {}
    for conversation_id, question in rows:
        questions.setdefault(conversation_id, []).append(question)
    return list(questions.values())


def test_an_open_page_answers_after_the_server_restarts(
    seed_index: Path, tmp_path: Path, browser: Any
) -> None:
    """A page left open while its server is stopped (SIGTERM) and started again: the stop cuts
    its event stream, and the page's next question is answered by the new server, in the same
    conversation: a follow-up is understood, and the chat keeps its earlier turn."""
    forwarder = Forwarder()
    first = start_server(tmp_path / "first", seed_index)
    kept = stored_questions(first)  # (the shared seed index may hold other tests' chats)
    second: Server | None = None
    context = browser.new_context()
    try:
        forwarder.target = port_of(first)
        page = context.new_page()
        page.set_default_timeout(TIMEOUT_MS)
        page.goto(f"http://127.0.0.1:{forwarder.port}/")
        assert "Ant Group" in ask(page, QUESTION).inner_text()
        page.locator(LISTED).first.wait_for()
        second = restart_server(first)
        forwarder.target = port_of(second)
        # The new process knows nothing of the page's session: the follow-up goes on in the
        # conversation the browser has open, read back from the store the two servers share.
        follow_up = ask(page, QUESTIONS[1])
        assert "tech giants" in follow_up.locator(".qa-searched").inner_text()
        assert page.locator("#qa-chat .message-row.user-row").count() == 2
        assert "Ant Group" in page.locator(FINAL).first.inner_text()
        assert stored_questions(second) == [*kept, [QUESTION, QUESTIONS[1]]]  # one conversation
    finally:
        context.close()
        stop_server(first)
        if second is not None:
            stop_server(second)
        forwarder.close()


def test_after_a_restart_each_tab_goes_on_in_its_own_conversation(
    seed_index: Path, tmp_path: Path, browser: Any
) -> None:
    """Two tabs of one browser, the second opened on the first's conversation and then on a new
    one (which the browser's storage now names as open): after the server restarts, the first
    tab's follow-up goes on in the first tab's conversation, never in the second's."""
    forwarder = Forwarder()
    server = start_server(tmp_path, seed_index)
    kept = stored_questions(server)  # (the shared seed index may hold other tests' chats)
    context = browser.new_context()
    try:
        forwarder.target = port_of(server)
        first, second = context.new_page(), context.new_page()
        for page in (first, second):
            page.set_default_timeout(TIMEOUT_MS)
        first.goto(f"http://127.0.0.1:{forwarder.port}/")
        assert "Ant Group" in ask(first, QUESTION).inner_text()
        second.goto(f"http://127.0.0.1:{forwarder.port}/")
        second.locator(FINAL).first.wait_for()  # it reopened the first tab's conversation
        second.click("#qa-new-chat")
        second.wait_for_function(f"document.querySelectorAll({FINAL!r}).length === 0")
        assert "e-CNY" in ask(second, OTHER).inner_text()
        second.wait_for_function(f"document.querySelectorAll({LISTED!r}).length === 2")
        server = restart_server(server)
        forwarder.target = port_of(server)
        first.fill("#qa-question textarea", QUESTIONS[1])
        first.press("#qa-question textarea", "Enter")
        first.locator(".message-row.user-row", has_text=QUESTIONS[1]).wait_for()
        first.wait_for_function("() => window.__qaStream.busy() === 0")
        first.wait_for_function(IDLE)
        assert "tech giants" in first.locator(FINAL).last.locator(".qa-searched").inner_text()
        assert OTHER not in first.locator("#qa-chat").inner_text()
        assert stored_questions(server) == [*kept, [QUESTION, QUESTIONS[1]], [OTHER]]
    finally:
        context.close()
        stop_server(server)
        forwarder.close()


def test_the_answer_shows_as_streaming_before_its_final_drawing(
    seed_index: Path, tmp_path: Path, browser: Any
) -> None:
    with page_of_app(seed_index, tmp_path, browser, SlowLink) as (page, log, server):
        page.evaluate(
            """() => { window.__drawn = [];
            new MutationObserver(() => {
              const streaming = document.querySelector('#qa-chat .qa-streaming');
              const final = document.querySelector('#qa-chat .qa-answer:not(.qa-streaming)');
              const now = streaming ? 'streaming' : final ? 'final' : null;
              if (now && window.__drawn.at(-1) !== now) window.__drawn.push(now);
            }).observe(document.body, {subtree: true, childList: true, attributes: true});
            }"""
        )
        text = ask(page, QUESTION).locator(".qa-text").inner_text()
        drawn = page.evaluate("window.__drawn")
    assert "Ant Group" in text
    assert server.delayed >= 2  # the streaming updates and the final one
    assert drawn == ["streaming", "final"], drawn
    assert log.errors == []
