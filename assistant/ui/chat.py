"""The chat function: a question streamed into an answer, and the answered turns of a chat;
and the steps the app adds to ChatInterface's chains of events (before an answer, after a
failed one)."""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import AsyncIterator, Generator, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

import anyio
import gradio as gr
from gradio.events import EventListener

from assistant.account_types import User
from assistant.audit import new_request_id
from assistant.core import Assistant
from assistant.errors import AssistantError
from assistant.text import clean_lines
from assistant.types import Answer, Message
from assistant.ui import ASSETS
from assistant.ui.names import SourceNames
from assistant.ui.render import (
    render_answer,
    render_error,
    render_stopped,
    render_streaming,
    shown_question,
    typed_question,
)

QUESTION_HINT = "Ask a question about the documents…"
ASK = "Ask"  # the question box's send button
_STREAM_INTERVAL = 0.05  # seconds between streamed updates sent to the browser
log = logging.getLogger(__name__)
T = TypeVar("T")
_END = object()


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


class LiteralChat(gr.ChatInterface):
    """Gradio's ChatInterface with each question drawn as typed, not as Markdown (`*args*` no
    italics, `<b>` no bold): a question enters the chat through `_message_as_message_dict` on
    every path (the box, an example, retry) and is escaped there; it leaves it through
    `_pop_last_user_message` (retry asks it again, undo puts it back in the box) and is
    unescaped there. The chat function and the stored conversation get the question as typed.
    """

    def _message_as_message_dict(self, message: Any, role: Any) -> list[Any]:
        messages = super()._message_as_message_dict(message, role)
        if role != "user":
            return messages
        return [{**m, "content": _shown_content(m.get("content"))} for m in messages]

    def _pop_last_user_message(self, history: list[Any]) -> tuple[list[Any], Any]:
        history, message = super()._pop_last_user_message(history)
        return history, typed_question(message) if isinstance(message, str) else message


def _shown_content(content: Any) -> Any:
    if isinstance(content, str):
        return shown_question(content)
    if isinstance(content, list):
        return [shown_question(part) if isinstance(part, str) else part for part in content]
    return content  # a file or a component


def answer_stream(
    assistant: Assistant,
    message: str,
    history: list[dict[str, Any]],
    turns: Turns,
    user: User | None = None,
    collections: Sequence[str] | None = None,
) -> Iterator[tuple[str, Turns]]:
    """The chat function: streamed HTML of the answer (from what `user` may read, None: all;
    within `collections` when given), then the final answer and the turns."""
    kept = {position: turn for position, turn in turns.items() if position < len(history)}
    past = conversation(kept)
    yield render_streaming(""), kept
    text, final, shown = "", None, 0.0
    try:
        events = assistant.stream(
            message, past, user=user, collections=collections, request_id=new_request_id()
        )
        for event in events:
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
    # Kept as it was read (control characters and bidi overrides out), and shown so again when
    # the conversation is opened later.
    turn = Turn(clean_lines(message), final)
    yield render_answer(named), {**kept, len(history) + 1: turn}


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
    collections: Sequence[str] | None = None,
) -> Generator[tuple[str, Turns, str | None, Saved | None], None, None]:
    """`answer_stream`, the answered turn stored in the owner's conversation (a new one when
    `conversation_id` is None) before its update is sent: that last update carries the
    conversation id and a `Saved` marker, earlier ones repeat the id and None. The final
    answer reaches the browser only once it is stored (a reload right after it finds it)."""
    for html, new_turns in answer_stream(assistant, message, history, turns, user, collections):
        turn = new_turns.get(len(history) + 1)
        if owner is None or turn is None:  # nobody to keep it for, still being written, an error
            yield html, new_turns, conversation_id, None
            continue
        try:
            summary = assistant.conversations.save_turn(
                owner, conversation_id, len(new_turns) - 1, turn.question, turn.answer
            )
        except Exception:  # the answer stands even if it cannot be kept
            log.exception("storing the answer to %r failed", message)
            yield html, new_turns, conversation_id, None
            return
        yield html, new_turns, summary.id, Saved(summary.id, summary.updated_at)


async def in_worker_thread(items: Generator[T, None, None]) -> AsyncIterator[T]:
    """`items`, each produced in a worker thread, so that stopping the chat (its Stop button,
    New chat, a closed page) takes effect at once even while a step is blocked, e.g. on a
    language model that does not reply: the blocked step is abandoned, and `items` is closed
    (ending its work, closing its connections) as soon as that step returns."""
    lock = threading.Lock()
    state = {"running": False, "stopped": False}

    def step() -> Any:
        item: Any = next(items, _END)
        with lock:
            state["running"] = False
            abandoned = state["stopped"]
        if abandoned:
            items.close()  # here, in the thread that ran it
            return _END
        return item

    try:
        while True:
            with lock:
                state["running"] = True
            item = await anyio.to_thread.run_sync(step, abandon_on_cancel=True)
            if item is _END:
                return
            yield item
    finally:
        with lock:
            state["stopped"] = True
            idle = not state["running"]
        if idle:
            items.close()


def settle_script(switch: bool) -> str:
    """The browser-side step (an event's `js`) that makes an event changing the chat's messages
    wait until an answer on its way is done with them; `switch`: the event puts another
    conversation in the chat (the answer is stopped first); otherwise its inputs arrive as None
    when a switch came in between (see assets/settle.js)."""
    script = (ASSETS / "settle.js").read_text(encoding="utf-8")
    return script.replace("const SWITCH = true;", f"const SWITCH = {str(switch).lower()};")


def run_before_each_question(
    demo: gr.Blocks, fn: Any, inputs: list[Any], outputs: list[Any]
) -> None:
    """Run `fn` (unqueued) in the chain of a question sent from the question box, right before
    ChatInterface's answer step reads the chat's history: the step is chained after the one
    that shows the question and the answer step after it."""
    added = []
    for step in list(demo.fns.values()):
        before = demo.fns.get(step.trigger_after) if step.trigger_after is not None else None
        if step.name != "_submit_fn" or before is None:
            continue
        if before.name != "_append_message_to_history" or before.trigger_after is None:
            continue  # the question box's chain only (retrying shows the question another way)
        if demo.fns[before.trigger_after].name != "_clear_and_save_textbox":
            continue
        dependency = EventListener("then", has_trigger=False, trigger_after=before._id).listener(
            None, fn, inputs, outputs, queue=False, show_progress="hidden", api_visibility="private"
        )
        step.trigger_after = dependency["id"]
        added.append(dependency["id"])
    if len(added) != 1:  # Gradio renamed or rewired ChatInterface's steps: say so, not drop it
        raise RuntimeError(f"the question box's answer step was found {len(added)} times")


def said(message: Mapping[str, Any]) -> str:
    """The text of a chat message as the page sends it (its content a string, or a list of
    parts with text)."""
    content = message.get("content")
    parts = content if isinstance(content, list) else [content]
    return "".join(
        str(part.get("text") or "") if isinstance(part, dict) else str(part or "") for part in parts
    )


def give_back_on_failure(demo: gr.Blocks, chat: gr.ChatInterface) -> None:
    """When the server turns away (HTTP 503: its queue is full, or it is shutting down) a
    queued step of the chat's answer, give the question box back in the browser: enabled, and
    with the question in it when no answer came (assets/give_back.js; assets/stream.js tells a
    turned-away step from a stopped answer).

    Gradio's page runs only a failed step's failure steps, and ChatInterface gives the box
    back in steps chained after the answer, which then never run. The added steps run in the
    page alone (no request: a full queue cannot turn them away, and they cannot race the
    server), after each answer step of the chat's chains and each queued step that writes the
    box (an example's or an option's first step changes neither the box nor the shown chat).
    """
    for index, step in list(demo.fns.items()):
        writes_box = any(block is chat.textbox for block in step.outputs)
        if not step.queue or not (step.name == "_submit_fn" or writes_box):
            continue
        EventListener(
            "failure", has_trigger=False, trigger_after=index, trigger_only_on_failure=True
        ).listener(
            None,
            None,
            js=give_back_script(index),
            inputs=[chat.chatbot],
            outputs=[chat.textbox, chat.chatbot],
            queue=False,
            show_progress="hidden",
            api_visibility="undocumented",
        )


def give_back_script(step: int) -> str:
    """assets/give_back.js for the failure of step `step`, with the box's button label and
    hint."""
    script = (ASSETS / "give_back.js").read_text(encoding="utf-8")
    script = script.replace("const STEP = -1;", f"const STEP = {int(step)};")
    script = script.replace('const ASK = "Ask";', f"const ASK = {json.dumps(ASK)};")
    return script.replace('const HINT = "";', f"const HINT = {json.dumps(QUESTION_HINT)};")


def stopped(messages: list[dict[str, Any]]) -> list[dict[str, Any]] | None:
    """The chat's messages with a stopped answer (still drawn as being written, its text not
    yet checked against the passages, or not drawn yet) replaced by a note that it was stopped;
    None if the chat does not end with such an answer."""
    note = {"role": "assistant", "content": render_stopped()}
    if not messages:
        return None
    if messages[-1].get("role") == "user":  # stopped before anything of the answer was shown
        return [*messages, note]
    if "qa-streaming" not in said(messages[-1]):
        return None
    return [*messages[:-1], note]
