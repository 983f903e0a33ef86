"""Answer feedback: thumbs and a comment box beside the answer they are about, and one JSON line
per vote or comment, appended atomically under the data dir.

On a refusal a thumbs-down means "this should have been answered" and is recorded as such
(`should_have_been_answered`); error messages get no thumbs (assets/feedback.js hides them,
and a vote on anything but an answer is not recorded).
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

import gradio as gr

from assistant.atomic import append_jsonl
from assistant.settings import Settings
from assistant.types import Answer, Message
from assistant.ui.chat import Turns, conversation

Rating = Literal["up", "down"]

# What shaped the answer; reviewers need it to compare feedback across configurations.
_SETTINGS_RECORDED = (
    "answerer",
    "top_k",
    "candidates",
    "refusal_threshold",
    "extractive_model",
    "chunk_size",
    "chunk_overlap",
    "embedding_model",
    "index_dir",
)


def feedback_record(
    answer: Answer,
    rating: Rating | None,
    settings: Settings,
    *,
    comment: str | None = None,
    user: str | None = None,
    feedback_id: str | None = None,
    history: Sequence[Message] = (),
) -> dict[str, Any]:
    """The JSON object stored for one piece of feedback on an answer.

    A changed or withdrawn vote (rating None) and a comment added later are stored as new
    records with the same `id`: the latest record of an id is the current state. `history` is
    the conversation before the question (a reviewer reads a follow-up in it).
    """
    recorded = settings.model_dump(include=set(_SETTINGS_RECORDED), mode="json")
    return {
        "id": feedback_id or uuid.uuid4().hex,
        "timestamp": datetime.now(UTC).isoformat(timespec="seconds"),
        "rating": rating,
        "comment": comment.strip() if comment and comment.strip() else None,
        "user": user,
        "question": answer.question,
        "history": [message.model_dump() for message in history],
        "standalone_question": answer.standalone_question,
        "answer": answer.text,
        "refused": answer.refused,
        # A thumbs-down on a refusal says the documents do answer it (up: rightly refused).
        "should_have_been_answered": (rating == "down") if answer.refused and rating else None,
        "confidence": round(answer.confidence, 4),
        "support": answer.support,
        "unsupported_sentences": [s.text for s in answer.sentences if not s.supported],
        "citations": [citation.model_dump() for citation in answer.citations],
        "answerer": settings.answerer,
        "settings": recorded,
    }


def read_feedback(path: Path) -> list[dict[str, Any]]:
    """Every record in a feedback file, oldest first (empty when there is none yet)."""
    if not path.exists():
        return []
    with path.open(encoding="utf-8") as handle:
        return [json.loads(line) for line in handle if line.strip()]


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
    box: FeedbackRow, chatbot: gr.Chatbot, turns: gr.State, settings: Settings
) -> None:
    """Record votes and comments on the chat's answers."""
    private: dict[str, Any] = {"api_visibility": "private"}

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
        append_jsonl(settings.feedback_path, record)
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
            append_jsonl(settings.feedback_path, record)
            gr.Info("Thank you: your comment was saved.")
        return hidden()

    outputs = [box.row, box.pending, box.comment, box.note]
    for trigger in (box.send.click, box.comment.submit):
        trigger(on_comment, [box.comment, box.pending, turns], outputs, **private)
    box.skip.click(hidden, None, outputs, **private)
