"""Answer feedback: thumbs and a comment box beside the answer they are about, and one record
per vote or comment, kept by the feedback store (assistant.feedbackstore: the data dir's
JSON-lines file, or the PostgreSQL catalog database in server mode).

On a refusal a thumbs-down means "this should have been answered" and is recorded as such
(`should_have_been_answered`); error messages get no thumbs (assets/feedback.js hides them,
and a vote on anything but an answer is not recorded).
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass
from typing import Any

import gradio as gr

from assistant.errors import AssistantError
from assistant.feedbackstore import FeedbackStore, Rating, feedback_record
from assistant.settings import Settings
from assistant.types import Answer
from assistant.ui.chat import Turns, conversation

_log = logging.getLogger(__name__)


def comment_prompt(answer: Answer, rating: Rating) -> tuple[str, str]:
    """What the comment box says after a vote: what was recorded, and what to add."""
    if answer.refused and rating == "down":
        return (
            "Recorded: this should have been answered.",
            "What answer did you expect, and which document holds it? (optional)",
        )
    if answer.refused:
        return "Recorded: rightly not answered.", "Add a comment (optional)"
    if rating == "up":
        return "Thanks: recorded as helpful.", "What was right? (optional)"
    return "Recorded as not helpful.", "What was wrong or missing? (optional)"


OPEN = "qa-comment-open"


def closed_row() -> gr.Row:
    """The comment box put away. It stays mounted (hidden by style.css): feedback.js moves it
    under an answer, and a component Gradio unmounts and mounts again would lose its place."""
    return gr.Row(elem_classes=[])


@dataclass
class FeedbackRow:
    """The comment box shown under the answer just voted on (assets/feedback.js moves it there)."""

    row: gr.Row
    note: gr.HTML
    comment: gr.Textbox
    send: gr.Button
    skip: gr.Button
    pending: gr.State  # the vote a comment would join: {"id", "index", "rating"}
    vote_ids: gr.State  # answer position -> feedback id, so a changed vote keeps its id


def build_feedback_row() -> FeedbackRow:
    """The comment box (hidden until a vote), inside the Blocks being built."""
    with gr.Row(elem_id="qa-comment-row") as row:
        with gr.Column(scale=6, min_width=200):
            note = gr.HTML("", elem_id="qa-comment-note")
            comment = gr.Textbox(
                label="Comment on this answer",
                show_label=False,
                placeholder="Add a comment (optional)",
                max_length=2000,
                elem_id="qa-comment",
            )
        send = gr.Button("Send", scale=1, min_width=80, elem_id="qa-send")
        skip = gr.Button("Skip", scale=1, min_width=80, variant="secondary", elem_id="qa-skip")
    return FeedbackRow(row, note, comment, send, skip, gr.State(None), gr.State({}))


def wire_feedback(
    box: FeedbackRow,
    chatbot: gr.Chatbot,
    turns: gr.State,
    settings: Settings,
    store: FeedbackStore,
) -> None:
    """Record votes and comments on the chat's answers in `store`."""
    private: dict[str, Any] = {"api_visibility": "private"}

    def keep(record: dict[str, Any]) -> None:
        try:
            store.append(record)
        except (OSError, AssistantError) as exc:  # a full disk, the catalog database down
            # The reason stays in the server's log: it names a path or a database host.
            _log.warning("feedback not saved (%s): %s", store.where, exc)
            raise gr.Error("Your feedback could not be saved; please try again later.") from exc

    def hidden() -> tuple[Any, ...]:
        # Made when an event runs: a component made while the Blocks are built would be drawn.
        return closed_row(), None, gr.Textbox(value=""), ""

    def on_like(
        data: gr.LikeData, state: Turns, votes: dict[int, str], request: gr.Request
    ) -> tuple[Any, ...]:
        index = data.index if isinstance(data.index, int) else data.index[0]
        turn = state.get(index)
        if turn is None:  # not an answer (an error message): nothing to record
            return (*hidden(), votes)
        # Gradio sends True (like), False (dislike) or "" (the vote was taken back).
        rating: Rating | None = None
        if data.liked is True or data.liked is False:
            rating = "up" if data.liked else "down"
        feedback_id = votes.get(index) or uuid.uuid4().hex  # a changed vote keeps its id
        user = getattr(request, "username", None)
        before = conversation({at: kept for at, kept in state.items() if at < index})
        record = feedback_record(
            turn.answer, rating, settings, user=user, feedback_id=feedback_id, history=before
        )
        keep(record)
        votes = {**votes, index: feedback_id}
        if rating is None:
            return (*hidden(), votes)
        said, hint = comment_prompt(turn.answer, rating)
        pending = {"id": feedback_id, "index": index, "rating": rating}
        note = f'<p class="qa-comment-note" role="status">{said}</p>'
        opened = gr.Row(elem_classes=[OPEN])
        return opened, pending, gr.Textbox(value="", placeholder=hint), note, votes

    chatbot.like(
        on_like,
        [turns, box.vote_ids],
        [box.row, box.pending, box.comment, box.note, box.vote_ids],
        **private,
    )

    def on_comment(
        text: str, pending: dict[str, Any] | None, state: Turns, request: gr.Request
    ) -> tuple[Any, ...]:
        turn = state.get(pending["index"]) if pending else None
        if pending is not None and turn is not None and text.strip():
            record = feedback_record(
                turn.answer,
                pending["rating"],
                settings,
                comment=text,
                user=getattr(request, "username", None),
                feedback_id=pending["id"],
                history=conversation({at: t for at, t in state.items() if at < pending["index"]}),
            )
            keep(record)
            gr.Info("Thank you: your comment was saved.")
        return hidden()

    outputs = [box.row, box.pending, box.comment, box.note]
    for trigger in (box.send.click, box.comment.submit):
        trigger(on_comment, [box.comment, box.pending, turns], outputs, **private)
    box.skip.click(hidden, None, outputs, **private)
