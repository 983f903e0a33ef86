"""The web chat's feedback (thumbs and comments on answers): one record per vote or comment, in
the JSON-lines file `<data_dir>/feedback.jsonl` (the embedded default), or with `catalog_url`
one row per record in the table `feedback` of the PostgreSQL catalog database (step 8 of
`assistant.pgschema`), so `assistant quality` on any replica reads every replica's thumbs.

A changed or withdrawn vote and a comment added later are new records with the same `id`;
`latest_feedback` folds them into each piece of feedback's current state, in the order they
were kept (the file's lines; the table's `seq`). The UI writes through `FeedbackStore.append`,
the quality report and `promote` read through `FeedbackStore.records`.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, Protocol

from assistant.atomic import append_jsonl
from assistant.sqlstore import Store, postgres_store

if TYPE_CHECKING:
    from assistant.catalog import Catalog
    from assistant.settings import Settings
    from assistant.types import Answer, Message

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
# A record's fields, the table's columns ("timestamp" and "user" quoted: keywords in
# PostgreSQL); those holding lists or objects are JSON text in the table.
FIELDS = (
    "id",
    "timestamp",
    "rating",
    "comment",
    "user",
    "question",
    "history",
    "standalone_question",
    "answer",
    "refused",
    "should_have_been_answered",
    "confidence",
    "support",
    "unsupported_sentences",
    "citations",
    "answerer",
    "settings",
)
_JSON_FIELDS = frozenset({"history", "unsupported_sentences", "citations", "settings"})
_COLUMNS = ", ".join(f'"{name}"' if name in ("timestamp", "user") else name for name in FIELDS)


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
    """The record kept for one piece of feedback on an answer.

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


def latest_feedback(records: Iterable[Mapping[str, Any]]) -> dict[str, dict[str, Any]]:
    """The current state of each piece of feedback: its latest record (a changed vote or a
    comment added later is a new record with the same id; a vote does not erase a comment)."""
    latest: dict[str, dict[str, Any]] = {}
    for record in records:
        identifier = record.get("id")
        if isinstance(identifier, str):
            present = {k: v for k, v in record.items() if not (k == "comment" and v is None)}
            latest[identifier] = {**latest.get(identifier, {}), **present}
    return latest


class FeedbackStore(Protocol):
    """Where the feedback records are kept."""

    @property
    def where(self) -> str:
        """The place, for a message (never a password)."""
        ...

    def append(self, record: Mapping[str, Any]) -> None:
        """Keep one record (OSError or CatalogUnavailableError when it cannot)."""
        ...

    def records(self, feedback_id: str | None = None) -> list[dict[str, Any]]:
        """The records kept (only those of `feedback_id` when given), oldest first."""
        ...


class FeedbackFile:
    """Feedback as JSON lines, each appended whole under a lock (`atomic.append_jsonl`), the
    file made with mode 0600."""

    def __init__(self, path: Path) -> None:
        self.path = path

    @property
    def where(self) -> str:
        """The file's path."""
        return str(self.path)

    def append(self, record: Mapping[str, Any]) -> None:
        """One line at the end of the file."""
        append_jsonl(self.path, dict(record))

    def records(self, feedback_id: str | None = None) -> list[dict[str, Any]]:
        """Every record of the file in its order (none when there is no file yet)."""
        if not self.path.exists():
            return []
        with self.path.open(encoding="utf-8") as handle:
            found = [json.loads(line) for line in handle if line.strip()]
        return [r for r in found if feedback_id is None or r.get("id") == feedback_id]


class FeedbackTable:
    """Feedback as the table `feedback` of the catalog database: every replica appends to it
    and reads all of it. A record's fields are its columns (a field it lacks reads as None)."""

    where = "table of the catalog database"

    def __init__(self, store: Store) -> None:
        self.store = store

    def append(self, record: Mapping[str, Any]) -> None:
        """One row."""
        self.store.execute(_INSERT, _row(record))

    def append_all(self, records: Iterable[Mapping[str, Any]]) -> int:
        """Rows for `records` in one transaction, in their order (a copy of a file); those
        without an id, which count for nothing, are left out. Returns how many were kept."""
        rows = [_row(record) for record in records if isinstance(record.get("id"), str)]
        with self.store.transaction() as statements:
            statements.executemany(_INSERT, rows)
        return len(rows)

    def records(self, feedback_id: str | None = None) -> list[dict[str, Any]]:
        """The rows in the order they were kept (through the index on id for one id)."""
        where, params = ("WHERE id = ? ", (feedback_id,)) if feedback_id is not None else ("", ())
        rows = self.store.execute(f"SELECT {_COLUMNS} FROM feedback {where}ORDER BY seq", params)
        return [
            {
                name: json.loads(value) if name in _JSON_FIELDS and value is not None else value
                for name, value in zip(FIELDS, row, strict=True)
            }
            for row in rows
        ]


_INSERT = f"INSERT INTO feedback ({_COLUMNS}) VALUES ({', '.join('?' * len(FIELDS))})"


def _row(record: Mapping[str, Any]) -> tuple[object, ...]:
    return tuple(
        json.dumps(record.get(name), ensure_ascii=False)
        if name in _JSON_FIELDS and record.get(name) is not None
        else record.get(name)
        for name in FIELDS
    )


def feedback_store(settings: Settings, catalog: Catalog | None = None) -> FeedbackStore:
    """The table of the PostgreSQL catalog database with `catalog_url` (through `catalog`'s
    connections when it is that database's), else the file at `feedback_path`."""
    if settings.catalog_url is not None:
        return FeedbackTable(postgres_store(settings, catalog))
    return FeedbackFile(settings.feedback_path)
