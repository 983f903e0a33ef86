"""Every question the assistant answered: who asked, when, what came back. The audit trail of
a team's use, and the data of the quality report (`assistant quality`, docs/evaluation.md).

The log is its own SQLite file beside the index, `<index_dir>/questions.sqlite3`, like the
conversations: a rebuild of the index keeps it. With `catalog_url` it is a table of the
PostgreSQL catalog database instead (step 6 of `assistant.pgschema`; `assistant.sqlstore`), so
`assistant quality` on any replica reads what every replica answered. One row per answered
question, written when `Assistant.ask` or `Assistant.stream` finishes; it holds the question,
the asker (user name and groups, or none for a trusted caller), the collections asked for,
whether it was refused, the confidence, the total time and the documents cited. Rows older than
`question_log_days` are removed on first use and then daily; `question_log_days = 0` keeps no
log at all.
"""

from __future__ import annotations

import json
import logging
import sqlite3
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from assistant.errors import CatalogUnavailableError, IndexBusyError, IndexUnusableError
from assistant.sqlstore import SqliteStore, Store, copy_tables, open_store

if TYPE_CHECKING:
    from assistant.catalog import Catalog
    from assistant.settings import Settings

# The SQLite file's schema (PostgreSQL's is step 6 of assistant.pgschema); files made before
# the log could live in PostgreSQL have the same table.
SCHEMA = """
CREATE TABLE IF NOT EXISTS questions (
    id TEXT PRIMARY KEY,
    asked_at REAL NOT NULL,
    user TEXT,
    groups TEXT NOT NULL,
    collections TEXT,
    question TEXT NOT NULL,
    standalone TEXT,
    refused INTEGER NOT NULL,
    confidence REAL NOT NULL,
    total_ms REAL NOT NULL,
    answer_chars INTEGER NOT NULL,
    sources TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS questions_by_time ON questions(asked_at);
"""
# The columns in the order of LoggedQuestion's fields (`user` quoted: a keyword in PostgreSQL).
COLUMNS = (
    'id, asked_at, "user", groups, collections, question, standalone, refused, confidence, '
    "total_ms, answer_chars, sources"
)
SWEEP_SECONDS = 86400.0
logger = logging.getLogger(__name__)
DAY_SECONDS = 86400.0


@dataclass(frozen=True)
class LoggedQuestion:
    """One answered question as the log keeps it."""

    id: str
    asked_at: float  # seconds since the epoch (UTC)
    user: str | None  # None: a trusted caller (service key, command line, Python)
    groups: tuple[str, ...]
    collections: tuple[str, ...] | None  # the collections asked for (None: all readable)
    question: str
    standalone: str | None  # the rewritten follow-up, when it was one
    refused: bool
    confidence: float
    total_ms: float
    answer_chars: int
    sources: tuple[str, ...]  # the cited documents, in citation order, each once


class QuestionLog:
    """The question log: append, read a period, forget what retention says."""

    def __init__(
        self,
        store: Store | Path,
        retention_days: float,
        clock: Callable[[], float] = time.time,
    ) -> None:
        # A path: a question log file (made on first use).
        self.store = sqlite_questions(store) if isinstance(store, Path) else store
        self.retention_days = retention_days
        self._clock = clock
        self._swept_at: float | None = None
        self._warned = False

    @property
    def enabled(self) -> bool:
        """Whether questions are logged at all (`question_log_days` > 0)."""
        return self.retention_days > 0

    def record(self, entry: LoggedQuestion) -> None:
        """Append one answered question (nothing when the log is off).

        A log that cannot be written (a read-only index folder, a full disk, the catalog
        database down) never costs the person their answer: the failure is logged once and the
        question goes unrecorded.
        """
        if not self.enabled:
            return
        try:
            self._sweep()
            self.store.execute(
                f"INSERT INTO questions ({COLUMNS}) VALUES (?,?,?,?,?,?,?,?,?,?,?,?)",
                (
                    entry.id,
                    entry.asked_at,
                    entry.user,
                    json.dumps(list(entry.groups)),
                    None if entry.collections is None else json.dumps(list(entry.collections)),
                    entry.question,
                    entry.standalone,
                    int(entry.refused),
                    entry.confidence,
                    entry.total_ms,
                    entry.answer_chars,
                    json.dumps(list(entry.sources)),
                ),
            )
        except (
            sqlite3.Error,
            OSError,
            CatalogUnavailableError,
            IndexUnusableError,
            IndexBusyError,
        ) as exc:
            if not self._warned:
                self._warned = True
                where = self.store.path if isinstance(self.store, SqliteStore) else "table"
                logger.warning("question log %s not written: %s", where, exc)

    def entries(
        self, since: float | None = None, until: float | None = None
    ) -> list[LoggedQuestion]:
        """The logged questions asked in [since, until), oldest first."""
        if not self.store.exists():
            return []
        self._sweep()
        rows = self.store.execute(
            f"SELECT {COLUMNS} FROM questions WHERE asked_at >= ? AND asked_at < ? "
            "ORDER BY asked_at",
            (since if since is not None else 0.0, until if until is not None else float("inf")),
        ).fetchall()
        return [_entry(row) for row in rows]

    def _sweep(self) -> None:
        now = self._clock()
        due = self._swept_at is None or now - self._swept_at >= SWEEP_SECONDS
        if not self.enabled or not due or not self.store.exists():
            return
        self._swept_at = now
        self.store.execute(
            "DELETE FROM questions WHERE asked_at < ?", (now - self.retention_days * DAY_SECONDS,)
        )

    def close(self) -> None:
        """Close this thread's connection."""
        self.store.close()


def question_log(settings: Settings, catalog: Catalog | None = None) -> QuestionLog:
    """The question log of the settings: in the PostgreSQL catalog database with `catalog_url`
    (through `catalog`'s connections when it is that database's), else in
    `<index_dir>/questions.sqlite3`."""
    store = open_store(settings, catalog, lambda: sqlite_questions(settings.questions_path))
    return QuestionLog(store, settings.question_log_days)


def sqlite_questions(path: Path) -> SqliteStore:
    """The question log in a SQLite file (made with its table on first use)."""
    return SqliteStore(path, lambda db: db.executescript(SCHEMA))


def copy_questions(source: Store, target: Store) -> int:
    """Every logged question of `source` into `target`, in one transaction; returns how many.
    The target must hold none (`holds_rows(target, "questions")`)."""
    return copy_tables(source, target, [("questions", COLUMNS)])[0]


def new_entry(
    question: str,
    standalone: str | None,
    *,
    user: str | None,
    groups: Sequence[str],
    collections: Sequence[str] | None,
    refused: bool,
    confidence: float,
    total_ms: float,
    answer_chars: int,
    sources: Sequence[str],
) -> LoggedQuestion:
    """A log entry for a question answered now."""
    return LoggedQuestion(
        id=uuid.uuid4().hex,
        asked_at=time.time(),
        user=user,
        groups=tuple(groups),
        collections=None if collections is None else tuple(collections),
        question=question,
        standalone=standalone,
        refused=refused,
        confidence=confidence,
        total_ms=total_ms,
        answer_chars=answer_chars,
        sources=tuple(dict.fromkeys(sources)),
    )


def _entry(row: tuple[object, ...]) -> LoggedQuestion:
    (id_, asked_at, user, groups, collections, question, standalone, refused, confidence,
     total_ms, answer_chars, sources) = row  # fmt: skip
    return LoggedQuestion(
        id=str(id_),
        asked_at=float(asked_at),  # type: ignore[arg-type]
        user=None if user is None else str(user),
        groups=tuple(json.loads(str(groups))),
        collections=None if collections is None else tuple(json.loads(str(collections))),
        question=str(question),
        standalone=None if standalone is None else str(standalone),
        refused=bool(refused),
        confidence=float(confidence),  # type: ignore[arg-type]
        total_ms=float(total_ms),  # type: ignore[arg-type]
        answer_chars=int(answer_chars),  # type: ignore[call-overload]
        sources=tuple(json.loads(str(sources))),
    )
