"""The quality loop: what staff asked and what they reported, and a reported answer turned into
a golden question (`assistant quality`, `Assistant.quality`; docs/evaluation.md).

The report reads two records the product already keeps: the question log
(`assistant.questionlog`: every answered question) and the web chat's feedback (thumbs and
comments, `assistant.feedbackstore`). From them: questions per day, the refusal rate, thumbs up
and down, the slowest answers, and the reported answers an admin should look at: every
thumbs-down, and every refusal someone marked with a thumbs-down ("this should have been answered").
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from assistant.errors import QualityError
from assistant.evaluation.golden import (
    UNANSWERABLE,
    ExpectedSource,
    GoldenItem,
    load_golden,
    write_golden,
)
from assistant.feedbackstore import latest_feedback
from assistant.questionlog import LoggedQuestion
from assistant.types import Message

if TYPE_CHECKING:
    from assistant.core import Assistant

SLOWEST = 5
__all__ = [
    "QualityError",
    "QualityReport",
    "ReportedAnswer",
    "build_report",
    "golden_from_feedback",
    "promote",
    "report_of",
]


@dataclass(frozen=True)
class ReportedAnswer:
    """An answer someone gave a thumbs-down, as its feedback record holds it."""

    feedback_id: str
    reported_at: str  # ISO 8601, UTC
    user: str | None
    comment: str | None
    question: str
    standalone_question: str | None
    answer: str
    refused: bool  # a refusal with a thumbs-down: "this should have been answered"
    citations: tuple[dict[str, Any], ...]
    history: tuple[Message, ...] = ()  # the conversation before the question

    @property
    def should_have_answered(self) -> bool:
        """A refusal the person said should have been an answer."""
        return self.refused


@dataclass(frozen=True)
class QualityReport:
    """What staff asked in a period, and what they reported."""

    since: float | None
    until: float | None
    questions: int
    refused: int
    per_day: tuple[tuple[str, int], ...]  # (YYYY-MM-DD, questions), oldest first
    thumbs_up: int
    thumbs_down: int
    slowest: tuple[LoggedQuestion, ...]
    reported: tuple[ReportedAnswer, ...]  # newest first
    notes: tuple[str, ...] = field(default=())

    @property
    def refusal_rate(self) -> float | None:
        """Refused questions over all questions (None: no questions)."""
        return self.refused / self.questions if self.questions else None

    @property
    def thumbs_down_rate(self) -> float | None:
        """Thumbs-down over all thumbs (None: no thumbs)."""
        votes = self.thumbs_up + self.thumbs_down
        return self.thumbs_down / votes if votes else None

    def to_json(self) -> dict[str, Any]:
        """The report as one JSON object (`assistant quality --json`)."""
        return {
            "since": _iso(self.since),
            "until": _iso(self.until),
            "questions": self.questions,
            "refused": self.refused,
            "refusal_rate": _round(self.refusal_rate),
            "per_day": [{"day": day, "questions": count} for day, count in self.per_day],
            "thumbs_up": self.thumbs_up,
            "thumbs_down": self.thumbs_down,
            "thumbs_down_rate": _round(self.thumbs_down_rate),
            "slowest": [
                {
                    "asked_at": _iso(entry.asked_at),
                    "question": entry.question,
                    "total_ms": round(entry.total_ms, 1),
                    "refused": entry.refused,
                }
                for entry in self.slowest
            ],
            "reported": [
                {
                    "feedback_id": item.feedback_id,
                    "reported_at": item.reported_at,
                    "user": item.user,
                    "should_have_answered": item.should_have_answered,
                    "comment": item.comment,
                    "question": item.question,
                    "standalone_question": item.standalone_question,
                    "answer": item.answer,
                    "history": [message.model_dump() for message in item.history],
                    "citations": list(item.citations),
                }
                for item in self.reported
            ],
            "notes": list(self.notes),
        }


def build_report(
    entries: Sequence[LoggedQuestion],
    feedback: Sequence[dict[str, Any]],
    *,
    since: float | None = None,
    until: float | None = None,
    asker: Callable[[str | None, Sequence[str]], bool] | None = None,
    cites: Callable[[Sequence[str]], bool] | None = None,
) -> QualityReport:
    """The report of one period from the question log and the feedback records.

    `asker(user, groups)` keeps only the questions of some people (a group filter) and
    `cites(sources)` only answers about some documents (a collection filter); feedback is
    filtered the same way, by its user and its citations.
    """
    kept = [
        entry
        for entry in entries
        if (asker is None or asker(entry.user, entry.groups))
        and (cites is None or cites(entry.sources))
    ]
    days = Counter(_day(entry.asked_at) for entry in kept)
    current = [
        record
        for record in latest_feedback(feedback).values()
        if _within(record.get("timestamp"), since, until)
        and (asker is None or asker(record.get("user"), ()))
        and (cites is None or cites([c.get("source", "") for c in record.get("citations", [])]))
    ]
    reported = sorted(
        (_reported(record) for record in current if record.get("rating") == "down"),
        key=lambda item: item.reported_at,
        reverse=True,
    )
    notes = []
    if not entries:
        notes.append("no questions in the log for this period (question_log_days = 0 keeps none)")
    return QualityReport(
        since=since,
        until=until,
        questions=len(kept),
        refused=sum(entry.refused for entry in kept),
        per_day=tuple(sorted(days.items())),
        thumbs_up=sum(record.get("rating") == "up" for record in current),
        thumbs_down=len(reported),
        slowest=tuple(sorted(kept, key=lambda e: e.total_ms, reverse=True)[:SLOWEST]),
        reported=tuple(reported),
        notes=tuple(notes),
    )


def report_of(
    assistant: Assistant,
    since: float | None,
    until: float | None,
    *,
    group: str | None = None,
    collection: str | None = None,
) -> QualityReport:
    """`Assistant.quality`: the report of [since, until) from the assistant's question log and
    feedback, kept to a group's members and to answers citing a collection's documents."""
    if since is not None and until is not None and until <= since:
        raise QualityError(
            f"the period ends before it starts: until ({_day(until)}) must come after since "
            f"({_day(since)})"
        )
    asker = None
    if group is not None:
        members = {u.name for u in assistant.accounts.users() if group in u.groups}

        def asker(user: str | None, groups: Sequence[str]) -> bool:
            return group in groups or user in members

    cites = None
    if collection is not None:
        assistant.check_collections([collection])
        held = {r.source for r in assistant.documents() if r.collection == collection}

        def cites(sources: Sequence[str]) -> bool:
            return any(source in held for source in sources)

    return build_report(
        assistant.questions.entries(since, until),
        assistant.feedback.records(),
        since=since,
        until=until,
        asker=asker,
        cites=cites,
    )


def promote(
    assistant: Assistant,
    feedback_id: str,
    golden: Path,
    *,
    key_terms: Sequence[str] = (),
    sources: Sequence[str] = (),
    answer: str | None = None,
    unanswerable: bool = False,
    question_id: str | None = None,
) -> GoldenItem:
    """`Assistant.promote_feedback`: a reported answer appended to `golden` as a golden
    question; QualityError for an unknown feedback id or a source that is not indexed."""
    record = latest_feedback(assistant.feedback.records(feedback_id)).get(feedback_id)
    if record is None:
        raise QualityError(f"no feedback with id {feedback_id!r} (see assistant quality)")
    indexed = [document.source for document in assistant.documents()]
    for source in sources:
        if not any(ExpectedSource(source=source).matches(path) for path in indexed):
            raise QualityError(f"{source!r} is not an indexed document")
    item = golden_from_feedback(
        record,
        question_id=question_id or next_question_id(golden),
        key_terms=key_terms,
        sources=sources,
        answer=answer,
        unanswerable=unanswerable,
    )
    append_golden(item, golden)
    return item


def golden_from_feedback(
    record: dict[str, Any],
    *,
    question_id: str,
    key_terms: Sequence[str] = (),
    sources: Sequence[str] = (),
    answer: str | None = None,
    unanswerable: bool = False,
    kind: str | None = None,
) -> GoldenItem:
    """A golden question from a reported answer and what the admin expects of it.

    A follow-up keeps the conversation before it as its `history` (the evaluation then also
    checks how the follow-up is understood); a record from before histories were kept gives
    the question that was searched, its rewritten, self-contained form. The item records where
    it came from in `origin`.
    """
    terms = tuple(term.strip().lower() for term in key_terms if term.strip())
    if unanswerable and (terms or sources or answer):
        raise QualityError("an unanswerable question has no key terms, sources or answer")
    if not unanswerable and not (terms or sources):
        raise QualityError(
            "say what a right answer holds: key terms (--expect), the document (--source), "
            "or --unanswerable"
        )
    history = _history(record)
    question = record.get("question") or ""
    if record.get("standalone_question") and not history:
        question = record["standalone_question"]
    if not question.strip():
        raise QualityError(f"feedback {record.get('id')} holds no question")
    who = record.get("user") or "a user"
    when = str(record.get("timestamp") or "")[:10]
    return GoldenItem(
        id=question_id,
        question=question,
        kind=UNANSWERABLE if unanswerable else (kind or "reported"),
        history=history,
        answers=(answer,) if answer else (),
        must_contain_any=terms,
        sources=tuple(ExpectedSource(source=source) for source in sources),
        origin=f"feedback {record.get('id')} ({who}, {when})",
        note=record.get("comment"),
    )


def append_golden(item: GoldenItem, path: Path) -> None:
    """Add a question to a golden file (created if missing), keeping its format and ids unique."""
    items = load_golden(path) if path.exists() else []
    if any(existing.id == item.id for existing in items):
        raise QualityError(f"{path} already has a question with id {item.id!r}")
    write_golden([*items, item], path)


def next_question_id(path: Path, prefix: str = "reported") -> str:
    """The next free id of the form PREFIX-NNN in a golden file."""
    items = load_golden(path) if path.exists() else []
    numbers = [
        int(match.group(1))
        for item in items
        if (match := re.fullmatch(re.escape(prefix) + r"-(\d+)", item.id))
    ]
    return f"{prefix}-{max(numbers, default=0) + 1:03d}"


def parse_when(text: str) -> float:
    """A date (YYYY-MM-DD, UTC midnight) or an ISO 8601 time as seconds since the epoch."""
    try:
        moment = datetime.fromisoformat(text.strip())
    except ValueError as exc:
        raise QualityError(f"not a date: {text!r} (use YYYY-MM-DD)") from exc
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.timestamp()


def _reported(record: dict[str, Any]) -> ReportedAnswer:
    return ReportedAnswer(
        feedback_id=str(record["id"]),
        reported_at=str(record.get("timestamp") or ""),
        user=record.get("user"),
        comment=record.get("comment"),
        question=str(record.get("question") or ""),
        standalone_question=record.get("standalone_question"),
        answer=str(record.get("answer") or ""),
        refused=bool(record.get("refused")),
        citations=tuple(record.get("citations") or ()),
        history=_history(record),
    )


def _history(record: dict[str, Any]) -> tuple[Message, ...]:
    """The conversation a feedback record kept before its question (none in older records)."""
    messages = []
    for entry in record.get("history") or ():
        try:
            messages.append(Message.model_validate(entry))
        except ValueError:
            return ()  # a record edited by hand: the question stands alone
    return tuple(messages)


def _within(timestamp: object, since: float | None, until: float | None) -> bool:
    if not isinstance(timestamp, str):
        return since is None and until is None
    try:
        moment = parse_when(timestamp)
    except QualityError:
        return False
    return (since is None or moment >= since) and (until is None or moment < until)


def _day(seconds: float) -> str:
    return datetime.fromtimestamp(seconds, UTC).date().isoformat()


def _iso(seconds: float | None) -> str | None:
    if seconds is None:
        return None
    return datetime.fromtimestamp(seconds, UTC).isoformat(timespec="seconds")


def _round(value: float | None) -> float | None:
    return None if value is None or math.isnan(value) else round(value, 4)
