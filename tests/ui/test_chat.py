"""The chat function and how `serve` mounts it, without a browser."""

from __future__ import annotations

import socket
import threading
from collections.abc import Awaitable, Callable, Generator, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, TypeVar

import anyio
import gradio as gr
import pytest

from assistant import Assistant
from assistant.api.server import serve
from assistant.security import hash_api_key
from assistant.ui.app import Turn, answer_stream, conversation
from assistant.ui.auth import hash_password
from assistant.ui.chat import in_worker_thread, stopped
from assistant.ui.render import render_streaming
from tests.conftest import make_settings

T = TypeVar("T")
QUESTION = "Which tech giants had their Hong Kong stablecoin plans stopped by Beijing?"


def test_stream_then_final_answer_and_turns(seed_assistant: Assistant) -> None:
    updates = list(answer_stream(seed_assistant, QUESTION, [], {}))
    assert "qa-streaming" in updates[0][0]
    html, turns = updates[-1]
    assert "qa-streaming" not in html
    assert 'class="qa-cite"' in html
    assert list(turns) == [1]  # the answer is chat message 1, after the question
    assert turns[1].question == QUESTION
    assert turns[1].answer.citations

    history = [{"role": "user", "content": QUESTION}, {"role": "assistant", "content": html}]
    html2, turns2 = list(
        answer_stream(seed_assistant, "And who first reported that move?", history, turns)
    )[-1]
    assert 'class="qa-searched"' in html2
    assert turns2[3].answer.standalone_question
    assert "context:" not in turns2[3].answer.standalone_question
    assert [m.role for m in conversation(turns2)] == ["user", "assistant"] * 2


def test_a_turn_keeps_the_question_without_control_or_bidi_characters(
    seed_assistant: Assistant,
) -> None:
    # Shown again when the conversation is opened later: never reversed, never a bell.
    odd = f"\u202e{QUESTION}\x07\u200f"
    _, turns = list(answer_stream(seed_assistant, odd, [], {}))[-1]
    assert turns[1].question == QUESTION


def test_a_stopped_chat_is_marked_and_a_finished_one_left_alone() -> None:
    question = {"role": "user", "content": QUESTION}
    writing = {"role": "assistant", "content": [{"type": "text", "text": render_streaming("Ant")}]}
    marked = stopped([question, writing])
    assert marked is not None
    assert marked[0] == question
    assert len(marked) == 2
    assert "qa-stopped" in marked[1]["content"]
    assert "Ant" not in marked[1]["content"]  # unchecked text is not left as if an answer
    nothing_yet = stopped([question])  # stopped before the first update was drawn
    assert nothing_yet is not None
    assert "qa-stopped" in nothing_yet[1]["content"]
    done = {"role": "assistant", "content": '<div class="qa-msg qa-answer">done</div>'}
    assert stopped([question, done]) is None
    assert stopped([]) is None


def in_own_loop(main: Callable[[], Awaitable[T]]) -> T:
    """`anyio.run(main)` in a thread of its own: the browser tests sharing this process keep
    an event loop running in the main thread."""
    with ThreadPoolExecutor(1) as pool:
        return pool.submit(anyio.run, main).result()


def test_a_stopped_stream_returns_at_once_and_its_source_is_closed_after() -> None:
    """A step blocked (as on a language model that never replies) does not hold up the stop;
    the source is closed, in its own thread, as soon as that step returns."""
    blocked, release, closed = threading.Event(), threading.Event(), threading.Event()

    def source() -> Generator[str, None, None]:
        try:
            yield "first"
            blocked.set()
            release.wait()  # blocked until the test lets it go
            yield "second"
        finally:
            closed.set()

    async def consume() -> list[str]:
        seen: list[str] = []

        async def read() -> None:
            async for item in in_worker_thread(source()):
                seen.append(item)

        async with anyio.create_task_group() as group:
            group.start_soon(read)
            await anyio.to_thread.run_sync(blocked.wait)
            group.cancel_scope.cancel()  # what Gradio's cancel does to the event's task
        return seen

    assert in_own_loop(consume) == ["first"]  # returned while the second step was still blocked
    assert not closed.is_set()
    release.set()
    assert closed.wait(30)  # "second" was dropped and the generator closed

    async def drain() -> list[str]:
        return [item async for item in in_worker_thread(item for item in "ab")]

    assert in_own_loop(drain) == ["a", "b"]


def test_retry_and_undo_drop_the_turns_they_removed(seed_assistant: Assistant) -> None:
    old = list(answer_stream(seed_assistant, QUESTION, [], {}))[-1][1]
    stale = {**old, 3: Turn("removed", old[1].answer)}
    # The chat now holds only the first exchange (two messages); turn 3 was undone.
    _, turns = list(answer_stream(seed_assistant, QUESTION, [{}, {}], stale))[-1]
    assert sorted(turns) == [1, 3]
    assert turns[3].question == QUESTION


def test_bad_question_is_an_error_message(seed_assistant: Assistant) -> None:
    html, turns = list(answer_stream(seed_assistant, "   ", [], {}))[-1]
    assert 'class="qa-msg qa-error"' in html
    assert "empty" in html
    assert turns == {}


def test_missing_index_is_an_error_message(tmp_path: Path) -> None:
    assistant = Assistant(make_settings(tmp_path / "none"))
    html, _ = list(answer_stream(assistant, QUESTION, [], {}))[-1]
    assert "qa-error" in html
    assert "assistant ingest" in html


@pytest.fixture
def served(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[tuple[Any, dict[str, Any]]]]:
    """What `serve` hands uvicorn (instead of serving): the app, and where it is bound."""
    import uvicorn

    calls: list[tuple[Any, dict[str, Any]]] = []
    listeners: list[socket.socket] = []

    def run(server: uvicorn.Server, sockets: list[socket.socket]) -> None:
        listeners.extend(sockets)
        host, port = sockets[0].getsockname()[:2]
        calls.append((server.config.app, {"host": host, "port": port}))

    monkeypatch.setattr(uvicorn.Server, "run", run)
    yield calls
    for listener in listeners:
        listener.close()


def mounted_blocks(asgi_app: Any) -> gr.Blocks:
    """The Gradio Blocks mounted at `/` of the served app."""
    (mount,) = [route for route in asgi_app.routes if getattr(route, "path", None) == ""]
    blocks: gr.Blocks = mount.app.get_blocks()
    return blocks


def test_serve_warns_when_open_without_logins(
    seed_index: Path, served: list[Any], capsys: pytest.CaptureFixture[str]
) -> None:
    settings = make_settings(
        seed_index, host="0.0.0.0", port=0, max_upload_mb=3, allow_unauthenticated_remote=True
    )
    serve(settings, api=False)
    err = capsys.readouterr().err
    assert "WARNING" in err
    assert "NO LOGIN for the web chat" in err
    ((asgi_app, options),) = served
    assert options["host"] == "0.0.0.0"
    assert options["port"] > 0  # port 0: the one the system gave
    blocks = mounted_blocks(asgi_app)
    assert blocks.auth is None
    assert blocks.max_file_size == 3_000_000
    assert blocks.footer_links == []
    fonts = [*blocks.theme.font, *blocks.theme.font_mono]
    assert fonts
    assert not any(isinstance(font, gr.themes.GoogleFont) for font in fonts)


def test_serve_with_logins_is_quiet(
    seed_index: Path, served: list[Any], capsys: pytest.CaptureFixture[str]
) -> None:
    settings = make_settings(
        seed_index,
        host="0.0.0.0",
        port=0,
        auth_users={"ann": hash_password("pw")},
        api_keys={"bot": hash_api_key("qa-chat-test-key-0000000000")},
    )
    serve(settings)
    assert "WARNING" not in capsys.readouterr().err
    ((asgi_app, _),) = served
    check = mounted_blocks(asgi_app).auth
    assert check("ann", "pw")
    assert not check("ann", "nope")
    assert "/v1/chat/completions" in asgi_app.openapi()["paths"]


def test_every_answer_step_gives_the_question_box_back_when_it_fails(
    seed_assistant: Assistant,
) -> None:
    """A full queue fails the chat's answer step before it starts, and Gradio's page then runs
    only its failure steps: each answer step of the chat's chains, and each queued step that
    writes the question box, has one, which runs in the page alone (tests/ui/test_busy.py runs
    it in a browser)."""
    from assistant.ui.app import build_app
    from assistant.ui.chat import give_back_script

    steps = build_app(seed_assistant).fns
    box = next(block for block in steps[0].outputs if block.elem_id == "qa-question")
    answers = [i for i, step in steps.items() if step.name == "_submit_fn"]
    assert len(answers) == 4  # asking, an example, retrying, an option
    box_steps = [
        i for i, step in steps.items() if step.queue and any(b is box for b in step.outputs)
    ]
    assert len(box_steps) == 3  # giving the box back after asking and retrying; retry's disabling
    for index in answers + box_steps:
        on_failure = [
            step
            for step in steps.values()
            if step.trigger_after == index and step.trigger_only_on_failure
        ]
        assert len(on_failure) == 1, index
        assert on_failure[0].fn is None  # no request: a full queue cannot turn it away too
        assert on_failure[0].js == give_back_script(index)
        assert [block.elem_id for block in on_failure[0].outputs] == ["qa-question", "qa-chat"]


def test_a_question_from_the_box_reads_back_a_lost_session_before_it_is_answered(
    seed_assistant: Assistant,
) -> None:
    """The step that reads the open conversation back after a restart sits between the step
    that shows the question and the answer step, unqueued (tests/ui/test_stream_browser.py
    runs it across a restart)."""
    from assistant.ui.app import build_app

    steps = build_app(seed_assistant).fns
    added = [i for i, step in steps.items() if step.name == "on_question"]
    assert len(added) == 1
    step = steps[added[0]]
    assert not step.queue
    assert steps[step.trigger_after].name == "_append_message_to_history"
    after = [s for s in steps.values() if s.trigger_after == added[0]]
    assert [s.name for s in after] == ["_submit_fn"]
