"""Chat completion logic: messages to question and history, usage, the event stream."""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import Callable, Coroutine
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from assistant.api import chat
from assistant.api.errors import ApiError
from assistant.api.schemas import ChatCompletionChunk, ChatMessage
from assistant.errors import IndexMissingError
from assistant.types import Answer, Citation, Message

CITATION = Citation(id=1, source="a.txt", start=0, end=5, quote="Hello", score=0.9)
ANSWER = Answer(question="q?", text="Hello there [1].", citations=(CITATION,), confidence=0.8)


def messages(*pairs: tuple[str, object]) -> list[ChatMessage]:
    return [ChatMessage.model_validate({"role": role, "content": text}) for role, text in pairs]


def test_last_user_message_is_the_question_and_the_rest_the_history() -> None:
    question, history = chat.conversation(
        messages(
            ("system", "Be brief."),
            ("user", "First?"),
            ("assistant", "One [1]."),
            ("developer", "Ignore the documents."),
            ("user", [{"type": "text", "text": "And"}, {"type": "text", "text": "then?"}]),
            ("system", "Ignored, even after the question."),
        )
    )
    assert question == "And\nthen?"
    assert history == [
        Message(role="user", content="First?"),
        Message(role="assistant", content="One [1]."),
    ]


@pytest.mark.parametrize(
    "pairs",
    [
        [("user", "Q?"), ("assistant", "A.")],
        [("system", "Only a system message.")],
        [("user", "Q?"), ("assistant", "A."), ("system", "Ignored, so the assistant's is last.")],
    ],
)
def test_the_last_turn_must_be_the_users(pairs: list[tuple[str, object]]) -> None:
    with pytest.raises(ApiError) as raised:
        chat.conversation(messages(*pairs))
    assert raised.value.status == 400
    assert raised.value.code == "invalid_messages"


def test_only_text_parts_are_understood() -> None:
    with pytest.raises(ApiError) as raised:
        chat.conversation(messages(("user", [{"type": "image_url", "image_url": {"url": "x"}}])))
    assert raised.value.code == "unsupported_content"
    assert raised.value.param == "messages.0.content"
    question, _ = chat.conversation(messages(("user", None)))
    assert question == ""  # then refused as an empty question by the assistant


def test_usage_is_about_four_characters_per_token() -> None:
    assert chat.approx_tokens("") == 0
    assert chat.approx_tokens("abcd") == 1
    assert chat.approx_tokens("abcde") == 2
    sent = messages(("system", "x" * 40), ("user", "y" * 8))
    assert chat.prompt_tokens(sent) == 12
    usage = chat.usage(12, ANSWER)
    assert usage.completion_tokens == chat.approx_tokens(ANSWER.text)
    assert usage.total_tokens == 12 + usage.completion_tokens


def events_of(answer: Callable[[], Answer], include_usage: bool = False) -> list[str]:
    async def collect() -> list[str]:
        return [event async for event in chat.stream_events(answer, "m", 3, include_usage)]

    return run_coroutine(collect())


def run_coroutine(coroutine: Coroutine[Any, Any, list[str]]) -> list[str]:
    """asyncio.run in a thread of its own: a browser test earlier in the same worker leaves
    Playwright's event loop running in the main thread, where asyncio.run refuses to start."""
    with ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, coroutine).result()


def test_stream_is_role_pieces_final_usage_done() -> None:
    events = events_of(lambda: ANSWER, include_usage=True)
    assert all(event.endswith("\n\n") for event in events)
    assert events[-1] == "data: [DONE]\n\n"
    chunks = [json.loads(event.removeprefix("data: ")) for event in events[:-1]]
    for chunk in chunks:
        ChatCompletionChunk.model_validate(chunk)
    assert chunks[0]["choices"][0]["delta"] == {"role": "assistant", "content": ""}
    text = "".join(c["choices"][0]["delta"].get("content", "") for c in chunks if c["choices"])
    assert text == ANSWER.text
    final, usage = chunks[-2], chunks[-1]
    assert final["choices"][0] == {"index": 0, "delta": {}, "finish_reason": "stop"}
    assert final["citations"] == [CITATION.model_dump()]
    assert final["refused"] is False
    assert "citations" not in chunks[1]  # only the last chunk carries them
    assert usage["choices"] == []
    assert usage["usage"]["prompt_tokens"] == 3


def test_a_failure_after_the_stream_started_is_an_error_event() -> None:
    def fail() -> Answer:
        raise IndexMissingError("no index at x: run `assistant ingest` first")

    events = events_of(fail)
    assert events[-1] == "data: [DONE]\n\n"
    error = json.loads(events[-2].removeprefix("data: "))
    assert error["error"]["code"] == "index_missing"
    assert "assistant ingest" in error["error"]["message"]


def test_a_slow_answer_keeps_the_connection_alive(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(chat, "KEEPALIVE_SECONDS", 0.01)
    kept_alive = threading.Event()

    def slow() -> Answer:  # pending until the stream has sent a keep-alive, however long that is
        assert kept_alive.wait(60), "no keep-alive while the answer was pending"
        return ANSWER

    async def collect() -> list[str]:
        events = []
        async for event in chat.stream_events(slow, "m", 3, False):
            events.append(event)
            if event == ": keep-alive\n\n":
                kept_alive.set()
        return events

    events = run_coroutine(collect())
    assert ": keep-alive\n\n" in events
    assert events.index(": keep-alive\n\n") == 1  # after the role, before any text
