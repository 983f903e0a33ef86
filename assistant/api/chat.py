"""OpenAI chat completions over the assistant: messages in, a cited answer out, plain or SSE.

The answer is checked before any of it is sent, also when streaming: an LLM answer may lose
unsupported sentences and have its [n] markers renumbered by the check, and a plain OpenAI
client cannot take back text it has shown. So a stream sends the role at once, keep-alive
comments while the answer is prepared, then the checked text in word-sized pieces, and the
citations in the last chunk.
"""

from __future__ import annotations

import asyncio
import json
import logging
import math
import time
import uuid
from collections.abc import AsyncIterator, Callable, Sequence
from typing import Any

from starlette.concurrency import run_in_threadpool

from assistant.api.errors import ApiError, api_error_for
from assistant.api.schemas import (
    AnswerExtras,
    AssistantReply,
    ChatCompletion,
    ChatMessage,
    Choice,
    Usage,
)
from assistant.api.slots import AnswerSlots
from assistant.text import text_pieces
from assistant.types import Answer, Message

log = logging.getLogger(__name__)

KEEPALIVE_SECONDS = 10.0
SSE_HEADERS = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}


def conversation(messages: Sequence[ChatMessage]) -> tuple[str, list[Message]]:
    """The question (the last user/assistant message: a user's) and its history (the earlier ones).

    System and developer messages are ignored: how the assistant answers (from the documents,
    with citations, or refusing) is not the client's to change.
    """
    turns = [
        Message(role=message.role, content=message_text(message, index))
        for index, message in enumerate(messages)
        if message.role in ("user", "assistant")
    ]
    if not turns or turns[-1].role != "user":
        raise ApiError(
            400,
            'the last message must be the user\'s question (role "user")',
            code="invalid_messages",
            param="messages",
        )
    return turns[-1].content, turns[:-1]


def message_text(message: ChatMessage, index: int) -> str:
    """A message's text: its content string, or its text parts joined by newlines."""
    if message.content is None:
        return ""
    if isinstance(message.content, str):
        return message.content
    texts = []
    for part in message.content:
        if part.type != "text" or part.text is None:
            raise ApiError(
                400,
                f"messages.{index}.content: only text parts are supported, not {part.type!r}",
                code="unsupported_content",
                param=f"messages.{index}.content",
            )
        texts.append(part.text)
    return "\n".join(texts)


def approx_tokens(text: str) -> int:
    """A token count estimate: about four characters per token (OpenAI's rule of thumb)."""
    return math.ceil(len(text) / 4)


def prompt_tokens(messages: Sequence[ChatMessage]) -> int:
    """Approximate tokens of every message of a request."""
    return sum(approx_tokens(message_text(m, i)) for i, m in enumerate(messages))


def usage(prompt: int, answer: Answer) -> Usage:
    """The usage block of a completion."""
    completion = approx_tokens(answer.text)
    return Usage(
        prompt_tokens=prompt, completion_tokens=completion, total_tokens=prompt + completion
    )


def extras(answer: Answer) -> dict[str, Any]:
    """The answer's citations, refusal flag and notes, as sent beside OpenAI's fields."""
    return AnswerExtras(
        citations=list(answer.citations),
        refused=answer.refused,
        confidence=round(answer.confidence, 4),
        notice=answer.notice,
        standalone_question=answer.standalone_question,
        related=list(answer.related),
    ).model_dump(mode="json")


def completion(answer: Answer, model: str, prompt: int) -> ChatCompletion:
    """The non-streamed response."""
    return ChatCompletion(
        id=_completion_id(),
        created=int(time.time()),
        model=model,
        choices=[Choice(message=AssistantReply(content=answer.text))],
        usage=usage(prompt, answer),
        **extras(answer),
    )


async def stream_events(
    answer: Callable[[], Answer],
    model: str,
    prompt: int,
    include_usage: bool,
    slots: AnswerSlots | None = None,
) -> AsyncIterator[str]:
    """Server-sent events of a streamed completion, ending with `data: [DONE]`.

    `answer` runs in a worker thread once one of `slots` is free; keep-alive comments flow
    while it waits and works.
    """
    ident, created = _completion_id(), int(time.time())

    def chunk(choices: list[dict[str, Any]], **more: Any) -> str:
        head = {"id": ident, "object": "chat.completion.chunk", "created": created, "model": model}
        return _event({**head, "choices": choices, **more})  # the shape of ChatCompletionChunk

    def choice(delta: dict[str, str], finish_reason: str | None = None) -> dict[str, Any]:
        return {"index": 0, "delta": delta, "finish_reason": finish_reason}

    yield chunk([choice({"role": "assistant", "content": ""})])
    task = asyncio.ensure_future(_in_slot(answer, slots))
    try:
        while not task.done():
            await asyncio.wait({task}, timeout=KEEPALIVE_SECONDS)
            if not task.done():
                yield ": keep-alive\n\n"  # proxies close connections that stay silent
        final = task.result()
    except Exception as exc:  # the status line is sent: report in-band, as OpenAI does
        yield _event(api_error_for(exc).body())
        yield "data: [DONE]\n\n"
        return
    finally:
        if not task.done():  # the client left: the answer finishes unseen
            task.add_done_callback(_discard)
    for piece in text_pieces(final.text):
        yield chunk([choice({"content": piece})])
    yield chunk([choice({}, "stop")], **extras(final))
    if include_usage:
        yield chunk([], usage=usage(prompt, final).model_dump())
    yield "data: [DONE]\n\n"


async def _in_slot(answer: Callable[[], Answer], slots: AnswerSlots | None) -> Answer:
    if slots is None:
        return await run_in_threadpool(answer)
    async with slots.hold():
        return await run_in_threadpool(answer)


def _event(data: dict[str, Any]) -> str:
    return f"data: {json.dumps(data, ensure_ascii=False)}\n\n"


def _discard(task: asyncio.Future[Any]) -> None:
    if not task.cancelled() and task.exception() is not None:
        log.warning("an abandoned streamed answer failed: %s", task.exception())


def _completion_id() -> str:
    return f"chatcmpl-{uuid.uuid4().hex[:24]}"
