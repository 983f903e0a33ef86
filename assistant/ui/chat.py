"""The chat function: a question streamed into an answer, and the answered turns of a chat."""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from assistant.accounts import User
from assistant.audit import new_request_id
from assistant.core import Assistant
from assistant.errors import AssistantError
from assistant.types import Answer, Message
from assistant.ui.names import SourceNames
from assistant.ui.render import render_answer, render_error, render_streaming

_STREAM_INTERVAL = 0.05  # seconds between streamed updates sent to the browser
log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Turn:
    """One answered question of a conversation."""

    question: str
    answer: Answer


# A session's answered turns by the chat position of the answer message. Keyed by position so
# that retry, undo and clear (which shorten the chat) drop exactly the turns they removed.
Turns = dict[int, Turn]


def conversation(turns: Turns) -> list[Message]:
    """The plain-text history the assistant needs to understand follow-up questions."""
    messages = []
    for position in sorted(turns):
        turn = turns[position]
        messages.append(Message(role="user", content=turn.question))
        messages.append(Message(role="assistant", content=turn.answer.text))
    return messages


def answer_stream(
    assistant: Assistant,
    message: str,
    history: list[dict[str, Any]],
    turns: Turns,
    user: User | None = None,
) -> Iterator[tuple[str, Turns]]:
    """The chat function: streamed HTML of the answer (from what `user` may read; None: all),
    then the final answer and the turns."""
    kept = {position: turn for position, turn in turns.items() if position < len(history)}
    past = conversation(kept)
    yield render_streaming(""), kept
    text, final, shown = "", None, 0.0
    try:
        for event in assistant.stream(message, past, user=user, request_id=new_request_id()):
            if isinstance(event, Answer):
                final = event
                continue
            text += event
            if time.monotonic() - shown >= _STREAM_INTERVAL:
                shown = time.monotonic()
                yield render_streaming(text), kept
    except AssistantError as exc:
        yield render_error(str(exc)), kept
        return
    except Exception:  # a bug must not leave the user staring at a spinner
        log.exception("answering %r failed", message)
        yield render_error("Something went wrong on the server; the error was logged."), kept
        return
    if final is None:
        yield render_error("The answerer stopped without an answer."), kept
        return
    # The answer message sits after this question's user message: position len(history) + 1.
    named = SourceNames(assistant.settings).answer(final)
    yield render_answer(named), {**kept, len(history) + 1: Turn(message, final)}


@dataclass(frozen=True)
class Saved:
    """Where a chat's latest answer was stored: the conversation id and when."""

    conversation_id: str
    updated_at: float


def answer_and_save(
    assistant: Assistant,
    message: str,
    history: list[dict[str, Any]],
    turns: Turns,
    owner: str | None,
    conversation_id: str | None,
    user: User | None = None,
) -> Iterator[tuple[str, Turns, str | None, Saved | None]]:
    """`answer_stream`, then the answered turn stored in the owner's conversation (a new one
    when `conversation_id` is None): the last update carries the conversation id and a `Saved`
    marker, earlier ones repeat the id and None."""
    # One update behind, so the final answer reaches the browser only once it is stored (a
    # reload right after it then finds it).
    last: tuple[str, Turns] | None = None
    for html, new_turns in answer_stream(assistant, message, history, turns, user):
        if last is not None:
            yield last[0], last[1], conversation_id, None
        last = (html, new_turns)
    if last is None:
        return
    html, new_turns = last
    turn = new_turns.get(len(history) + 1)
    if owner is None or turn is None:  # nobody to keep it for, or an error message
        yield html, new_turns, conversation_id, None
        return
    try:
        summary = assistant.conversations.save_turn(
            owner, conversation_id, len(new_turns) - 1, turn.question, turn.answer
        )
    except Exception:  # the answer stands even if it cannot be kept
        log.exception("storing the answer to %r failed", message)
        yield html, new_turns, conversation_id, None
        return
    yield html, new_turns, summary.id, Saved(summary.id, summary.updated_at)
