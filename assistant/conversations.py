"""Conversations kept on the server, per owner, with retention: a SQLite file beside the index,
or with `catalog_url` tables of the PostgreSQL catalog database that every replica shares (step
5 of `assistant.pgschema`; `assistant.sqlstore`).

In the embedded mode conversations live in their own file, `<index_dir>/conversations.sqlite3`,
not in the catalog:
the catalog describes the indexed documents (a rebuild empties it, and its schema version is
part of the ingest fingerprint, so changing it forces re-embedding every document), while
conversations are what people wrote and must outlive both. The schema is versioned with
`PRAGMA user_version`; opening a file applies the missing steps of `MIGRATIONS` in one
transaction, so a file made by an older release (or none at all, as in an index made before
conversations existed) opens fine, and a file from a newer release is refused rather than
misread.

Every read and write names its owner (a signed-in user, or a browser when logins are off) and
touches only that owner's rows. A deleted conversation can be restored until its owner deletes
another one or the undo window passes; then it is gone for good. Conversations not updated for
`retention_days` are removed when the store is first used and then once a day.
"""

from __future__ import annotations

import re
import secrets
import sqlite3
import threading
import time
from collections.abc import Callable, Collection, Iterable
from contextlib import AbstractContextManager
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from assistant.citations import RELATED_HEADING
from assistant.errors import AssistantError
from assistant.sqlite import Transaction
from assistant.sqlstore import SqliteStore, Statements, Store, copy_tables, open_store
from assistant.text import PREVIEW_CHARS, one_line
from assistant.types import Answer, Conversation, ConversationSummary, ConversationTurn

if TYPE_CHECKING:
    from assistant.catalog import Catalog
    from assistant.settings import Settings

# Step i brings a file from version i to version i + 1. Append steps; never edit one.
MIGRATIONS: tuple[str, ...] = (
    """
    CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
    CREATE TABLE conversations (
        id TEXT PRIMARY KEY,
        owner TEXT NOT NULL,
        title TEXT NOT NULL,
        created_at REAL NOT NULL,
        updated_at REAL NOT NULL,
        deleted_at REAL
    );
    CREATE INDEX conversations_by_owner ON conversations(owner, updated_at);
    CREATE TABLE turns (
        conversation_id TEXT NOT NULL,
        ordinal INTEGER NOT NULL,
        question TEXT NOT NULL,
        answer_text TEXT NOT NULL,
        answer TEXT NOT NULL,
        asked_at REAL NOT NULL,
        PRIMARY KEY (conversation_id, ordinal)
    );
    """,
)
SCHEMA_VERSION = len(MIGRATIONS)
TITLE_CHARS = 60  # a new conversation's title: its first question, cut at a word
MAX_TITLE_CHARS = 120
SEARCH_WORDS = 8  # a search uses its first words only
UNDO_SECONDS = 3600.0  # a deleted conversation can be restored this long (unless replaced)
SWEEP_SECONDS = 86400.0  # retention is applied on first use, then at most this often
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


class ConversationStoreError(AssistantError):
    """The conversation file cannot be used (e.g. it was written by a newer release)."""


def title_from_question(question: str, limit: int = TITLE_CHARS) -> str:
    """A conversation title from its first question: one line, cut at a word with an ellipsis."""
    text = clean_title(question)
    if len(text) <= limit:
        return text or "New conversation"
    head = text[: limit + 1]
    cut = head.rfind(" ")
    head = head[:cut] if cut > limit // 2 else text[:limit]
    return head.rstrip(" ,;:-–—") + "…"


def clean_title(title: str) -> str:
    """A title as stored: control characters dropped, whitespace collapsed, length capped."""
    return " ".join(_CONTROL.sub(" ", title).split())[:MAX_TITLE_CHARS]


class ConversationStore:
    """Conversations per owner in one SQLite file; one connection per thread.

    Construction is cheap: the file is created and migrated on first use.
    """

    def __init__(
        self,
        store: Store | Path,
        retention_days: float = 0,
        clock: Callable[[], float] = time.time,
    ) -> None:
        # A path: a conversation file (made and migrated on first use).
        self.store = sqlite_conversations(store) if isinstance(store, Path) else store
        self.retention_days = retention_days
        self._clock = clock
        self._sweep_lock = threading.Lock()
        self._swept_at: float | None = None

    # -- listing and reading --------------------------------------------------------------
    def list_conversations(
        self, owner: str, query: str = "", limit: int = 200
    ) -> list[ConversationSummary]:
        """The owner's conversations, most recently updated first; `query` filters them by
        words found in the title, a question or an answer (all words must occur)."""
        self._maybe_sweep()
        sql = [
            "SELECT c.id, c.title, c.created_at, c.updated_at,",
            " (SELECT count(*) FROM turns t WHERE t.conversation_id = c.id)",
            " FROM conversations c WHERE c.owner = ? AND c.deleted_at IS NULL",
        ]
        params: list[object] = [_owner(owner)]
        # Words match ignoring case (SQLite's LIKE does for ASCII letters, ILIKE for all); ties in
        # time go to the conversation made last.
        like, made = ("LIKE", "rowid") if self.store.dialect == "sqlite" else ("ILIKE", "seq")
        for word in query.split()[:SEARCH_WORDS]:
            pattern = "%" + word.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
            sql.append(
                f" AND (c.title {like} ? ESCAPE '\\' OR EXISTS (SELECT 1 FROM turns t WHERE"
                f" t.conversation_id = c.id AND (t.question {like} ? ESCAPE '\\'"
                f" OR t.answer_text {like} ? ESCAPE '\\')))"
            )
            params += [pattern, pattern, pattern]
        sql.append(f" ORDER BY c.updated_at DESC, c.{made} DESC LIMIT ?")
        params.append(limit)
        rows = self.store.execute("".join(sql), params).fetchall()
        return [
            ConversationSummary(
                id=row[0], title=row[1], created_at=row[2], updated_at=row[3], turns=row[4]
            )
            for row in rows
        ]

    def get(self, owner: str, conversation_id: str) -> Conversation | None:
        """One of the owner's conversations with its turns, or None (unknown, deleted, or
        another owner's)."""
        self._maybe_sweep()
        row = self.store.execute(
            "SELECT id, title, created_at, updated_at FROM conversations "
            "WHERE id = ? AND owner = ? AND deleted_at IS NULL",
            (conversation_id, _owner(owner)),
        ).fetchone()
        if row is None:
            return None
        turns = self.store.execute(
            "SELECT question, answer, asked_at FROM turns WHERE conversation_id = ? "
            "ORDER BY ordinal",
            (conversation_id,),
        ).fetchall()
        return Conversation(
            id=row[0],
            title=row[1],
            created_at=row[2],
            updated_at=row[3],
            turns=tuple(
                ConversationTurn(
                    question=question, answer=Answer.model_validate_json(answer), asked_at=asked
                )
                for question, answer, asked in turns
            ),
        )

    # -- writing --------------------------------------------------------------------------
    def save_turn(
        self,
        owner: str,
        conversation_id: str | None,
        ordinal: int,
        question: str,
        answer: Answer,
    ) -> ConversationSummary:
        """Store the answer to the `ordinal`-th question (0-based) of a conversation.

        Turns from `ordinal` on are replaced (a retried or edited question drops what followed
        it). Without an id, or with one the owner cannot write to, a new conversation is
        started, titled after the question.
        """
        self._maybe_sweep()
        owner = _owner(owner)
        now = self._clock()
        with self._transaction() as db:
            row = None
            if conversation_id is not None:
                row = db.execute(
                    "SELECT id FROM conversations WHERE id = ? AND owner = ? "
                    "AND deleted_at IS NULL",
                    (conversation_id, owner),
                ).fetchone()
            if row is None:
                target, ordinal = secrets.token_hex(16), 0
                db.execute(
                    "INSERT INTO conversations (id, owner, title, created_at, updated_at, "
                    "deleted_at) VALUES (?, ?, ?, ?, ?, NULL)",
                    (target, owner, title_from_question(question), now, now),
                )
            else:
                target = str(row[0])
            db.execute(
                "DELETE FROM turns WHERE conversation_id = ? AND ordinal >= ?",
                (target, ordinal),
            )
            count = db.execute(
                "SELECT count(*) FROM turns WHERE conversation_id = ?", (target,)
            ).fetchone()[0]
            db.execute(
                "INSERT INTO turns VALUES (?, ?, ?, ?, ?, ?)",
                (
                    target,
                    min(ordinal, count),
                    question,
                    answer.text,
                    answer.model_dump_json(),
                    now,
                ),
            )
            db.execute("UPDATE conversations SET updated_at = ? WHERE id = ?", (now, target))
        summary = self._summary(owner, target)
        assert summary is not None  # written in the transaction above
        return summary

    def truncate(self, owner: str, conversation_id: str, keep: int) -> ConversationSummary | None:
        """Keep only the first `keep` answered questions of one of the owner's conversations
        (the chat's undo of its last question); the conversation itself stays."""
        self._maybe_sweep()
        if self._summary(owner, conversation_id) is None:
            return None
        with self._transaction() as db:
            db.execute(
                "DELETE FROM turns WHERE conversation_id = ? AND ordinal >= ?",
                (conversation_id, max(0, keep)),
            )
        return self._summary(owner, conversation_id)

    def rename(self, owner: str, conversation_id: str, title: str) -> ConversationSummary | None:
        """Give one of the owner's conversations a new title (blank titles are refused)."""
        self._maybe_sweep()
        cleaned = clean_title(title)
        if not cleaned:
            raise ValueError("a title cannot be blank")
        self.store.execute(
            "UPDATE conversations SET title = ? WHERE id = ? AND owner = ? AND deleted_at IS NULL",
            (cleaned, conversation_id, _owner(owner)),
        )
        return self._summary(owner, conversation_id)

    def delete(self, owner: str, conversation_id: str) -> bool:
        """Delete one of the owner's conversations, restorable until the next delete."""
        self._maybe_sweep()
        owner = _owner(owner)
        with self._transaction() as db:
            # Only the latest delete can be undone: earlier ones go for good now.
            self._purge(db, "owner = ? AND deleted_at IS NOT NULL", (owner,))
            cursor = db.execute(
                "UPDATE conversations SET deleted_at = ? WHERE id = ? AND owner = ? "
                "AND deleted_at IS NULL",
                (self._clock(), conversation_id, owner),
            )
        return cursor.rowcount == 1

    def restore(self, owner: str, conversation_id: str) -> ConversationSummary | None:
        """Undo the owner's latest delete of this conversation, if it is still restorable."""
        self._maybe_sweep()
        self.store.execute(
            "UPDATE conversations SET deleted_at = NULL WHERE id = ? AND owner = ? "
            "AND deleted_at >= ?",
            (conversation_id, _owner(owner), self._clock() - UNDO_SECONDS),
        )
        return self._summary(owner, conversation_id)

    def secret(self, name: str) -> str:
        """A random secret made on first use and kept in the file (e.g. the key that protects
        the chat's browser ids in the browser's storage, stable across restarts)."""
        candidate = secrets.token_urlsafe(32)
        self.store.execute(
            "INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT DO NOTHING",
            (f"secret:{name}", candidate),
        )
        row = self.store.execute("SELECT value FROM meta WHERE key = ?", (f"secret:{name}",))
        return str(row.fetchone()[0])

    def apply_retention(self) -> int:
        """Remove conversations idle longer than the retention, and deletes past their undo
        window; returns how many conversations went."""
        now = self._clock()
        with self._transaction() as db:
            removed = self._purge(
                db, "deleted_at IS NOT NULL AND deleted_at < ?", (now - UNDO_SECONDS,)
            )
            if self.retention_days > 0:
                cutoff = now - self.retention_days * 86400
                removed += self._purge(db, "updated_at < ?", (cutoff,))
        with self._sweep_lock:
            self._swept_at = now
        return removed

    def close(self) -> None:
        """Close this thread's connection."""
        self.store.close()

    # -- helpers --------------------------------------------------------------------------
    def _transaction(self) -> AbstractContextManager[Statements]:
        return self.store.transaction()

    def _summary(self, owner: str, conversation_id: str) -> ConversationSummary | None:
        row = self.store.execute(
            "SELECT c.id, c.title, c.created_at, c.updated_at, (SELECT count(*) FROM turns t "
            "WHERE t.conversation_id = c.id) FROM conversations c "
            "WHERE c.id = ? AND c.owner = ? AND c.deleted_at IS NULL",
            (conversation_id, _owner(owner)),
        ).fetchone()
        if row is None:
            return None
        return ConversationSummary(
            id=row[0], title=row[1], created_at=row[2], updated_at=row[3], turns=row[4]
        )

    def _purge(self, db: Statements, where: str, params: tuple[object, ...]) -> int:
        ids = [row[0] for row in db.execute(f"SELECT id FROM conversations WHERE {where}", params)]
        db.executemany("DELETE FROM turns WHERE conversation_id = ?", [(i,) for i in ids])
        db.executemany("DELETE FROM conversations WHERE id = ?", [(i,) for i in ids])
        return len(ids)

    def _maybe_sweep(self) -> None:
        with self._sweep_lock:
            due = self._swept_at is None or self._clock() - self._swept_at >= SWEEP_SECONDS
        if due:
            self.apply_retention()


def conversation_store(settings: Settings, catalog: Catalog | None = None) -> ConversationStore:
    """The conversations of the settings: in the PostgreSQL catalog database with
    `catalog_url` (through `catalog`'s connections when it is that database's), else in
    `<index_dir>/conversations.sqlite3`."""
    store = open_store(settings, catalog, lambda: sqlite_conversations(settings.conversations_path))
    return ConversationStore(store, settings.conversation_retention_days)


# The conversations' tables for a copy, each in the order stored (so the newest stays newest).
CONVERSATION_TABLES = (
    ("conversations", "id, owner, title, created_at, updated_at, deleted_at"),
    ("turns", "conversation_id, ordinal, question, answer_text, answer, asked_at"),
    ("meta", "key, value"),  # the chat's secrets: browser ids signed before stay valid
)


def copy_conversations(source: Store, target: Store) -> int:
    """Every conversation (deleted ones within their undo window too) and the chat's secrets
    of `source` into `target`, in one transaction; returns the conversations copied. The
    target must hold none (`holds_rows(target, "conversations")`)."""
    # The target's own secrets (a replica started before the copy made them) are kept.
    return copy_tables(source, target, CONVERSATION_TABLES, keep_existing={"meta"})[0]


def sqlite_conversations(path: Path) -> SqliteStore:
    """The conversations in a SQLite file (made and migrated on first use)."""
    return SqliteStore(path, migrate)


def migrate(db: sqlite3.Connection) -> int:
    """Bring a conversation file to SCHEMA_VERSION in one transaction; returns the old version."""
    with Transaction(db):
        version = int(db.execute("PRAGMA user_version").fetchone()[0])
        if version > SCHEMA_VERSION:
            raise ConversationStoreError(
                f"the conversation file has schema version {version}, newer than this release "
                f"understands ({SCHEMA_VERSION}); upgrade the assistant"
            )
        for step in MIGRATIONS[version:]:
            for statement in _statements(step):
                db.execute(statement)
        if version < SCHEMA_VERSION:
            db.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
    return version


def _statements(script: str) -> Iterable[str]:
    # executescript() would commit the open transaction; run the statements one by one.
    return (part.strip() for part in script.split(";") if part.strip())


def _owner(owner: str) -> str:
    if not owner or not isinstance(owner, str):
        raise ValueError("a conversation needs an owner")
    return owner


WITHHELD = "This answer quoted a document you may not read now, so it is not shown."


def withhold_unreadable(conversation: Conversation, readable: Collection[str]) -> Conversation:
    """The conversation with each answer that cites a document outside `readable` (catalog
    ids) replaced by a note, and the passages listed to read on from such documents left out:
    what a user's grants no longer cover is not shown again."""
    turns = []
    for turn in conversation.turns:
        answer = turn.answer
        if not all(citation.doc_id in readable for citation in answer.citations):
            answer = Answer(question=turn.question, text=WITHHELD)
        elif not all(passage.doc_id in readable for passage in answer.related):
            related = tuple(passage for passage in answer.related if passage.doc_id in readable)
            answer = answer.model_copy(update={"related": related})
        turns.append(turn if answer is turn.answer else turn.model_copy(update={"answer": answer}))
    return conversation.model_copy(update={"turns": tuple(turns)})


def mentions_all(conversation: Conversation, query: str) -> bool:
    """Whether every word of `query` (as `list_conversations` takes them) occurs in the title,
    a question or an answer, ignoring case."""
    parts = [conversation.title]
    for turn in conversation.turns:
        parts += [turn.question, turn.answer.text]
    text = "\n".join(parts).casefold()
    return all(word.casefold() in text for word in query.split()[:SEARCH_WORDS])


def conversation_markdown(conversation: Conversation) -> str:
    """A conversation as Markdown: each question, its answer and the answer's numbered sources
    (title, location, full quote), as the chat shows them."""
    lines = [f"# {conversation.title}", ""]
    when = _date(conversation.updated_at)
    count = len(conversation.turns)
    lines += [f"_Exported conversation, last updated {when}; {count} question(s)._", ""]
    for turn in conversation.turns:
        answer = turn.answer
        lines += [f"## {' '.join(turn.question.split())}", ""]
        if answer.standalone_question:
            lines += [f"_Searched for: {answer.standalone_question}_", ""]
        if answer.notice:
            lines += [f"> {answer.notice}", ""]
        if answer.refused:
            lines += ["**Not found in the documents.**", ""]
        lines += [answer.text.strip(), ""]
        unsupported = [s.text for s in answer.sentences if not s.supported]
        if unsupported:
            lines += ["_Not supported by a cited passage: " + " ".join(unsupported) + "_", ""]
        if answer.citations:
            lines += ["Sources:", ""]
            for citation in answer.citations:
                title = citation.title or citation.source
                lines.append(f"[{citation.id}] **{title}** — {citation.location()}")
                lines += [f"> {line}" if line else ">" for line in citation.quote.splitlines()]
                lines.append("")
        if answer.related:
            lines += [f"{RELATED_HEADING}:", ""]
            for passage in answer.related:
                lines.append(f"- **{passage.title or passage.source}** — {passage.location()}")
                lines.append(f"  > {one_line(passage.text, PREVIEW_CHARS)}")
            lines.append("")
    return "\n".join(lines).rstrip() + "\n"


def _date(timestamp: float) -> str:
    return datetime.fromtimestamp(timestamp, UTC).strftime("%Y-%m-%d %H:%M UTC")
