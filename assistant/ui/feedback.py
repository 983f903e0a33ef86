"""Answer feedback: one JSON line per vote or comment, appended atomically under the data dir."""

from __future__ import annotations

import fcntl
import json
import os
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

from assistant.settings import Settings
from assistant.types import Answer

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
) -> dict[str, Any]:
    """The JSON object stored for one piece of feedback on an answer.

    A changed or withdrawn vote (rating None) and a comment added later are stored as new
    records with the same `id`: the latest record of an id is the current state.
    """
    recorded = settings.model_dump(include=set(_SETTINGS_RECORDED), mode="json")
    return {
        "id": feedback_id or uuid.uuid4().hex,
        "timestamp": datetime.now(UTC).isoformat(timespec="seconds"),
        "rating": rating,
        "comment": comment.strip() if comment and comment.strip() else None,
        "user": user,
        "question": answer.question,
        "standalone_question": answer.standalone_question,
        "answer": answer.text,
        "refused": answer.refused,
        "confidence": round(answer.confidence, 4),
        "support": answer.support,
        "unsupported_sentences": [s.text for s in answer.sentences if not s.supported],
        "citations": [citation.model_dump() for citation in answer.citations],
        "answerer": settings.answerer,
        "settings": recorded,
    }


def append_jsonl(path: Path, record: dict[str, Any]) -> None:
    """Append one record as one line; concurrent writers never interleave or tear lines."""
    line = (json.dumps(record, ensure_ascii=False, sort_keys=True) + "\n").encode("utf-8")
    path.parent.mkdir(parents=True, exist_ok=True)
    descriptor = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
    try:
        # O_APPEND places each write at the end; the lock keeps a large line whole even if
        # the kernel splits the write, and keeps other processes from writing mid-line.
        fcntl.flock(descriptor, fcntl.LOCK_EX)
        view = memoryview(line)
        while view:
            written = os.write(descriptor, view)
            view = view[written:]
        os.fsync(descriptor)
    finally:
        os.close(descriptor)  # closing releases the lock


def read_feedback(path: Path) -> list[dict[str, Any]]:
    """Every record in a feedback file, oldest first (empty when there is none yet)."""
    if not path.exists():
        return []
    with path.open(encoding="utf-8") as handle:
        return [json.loads(line) for line in handle if line.strip()]
