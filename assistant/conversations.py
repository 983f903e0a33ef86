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
misread (the schema and its steps: `assistant.conversation_schema`).

Every read and write names its owner (a signed-in user, or a browser when logins are off) and
touches only that owner's rows. A deleted conversation can be restored until its owner deletes
another one or the undo window passes; then it is gone for good. Conversations not updated for
`retention_days` are removed when the store is first used and then once a day.
"""

from __future__ import annotations

import re
import secrets
import threading
import time
from collections.abc import Callable
from contextlib import AbstractContextManager
from pathlib import Path
from typing import TYPE_CHECKING

from assistant.conversation_schema import sqlite_conversations
from assistant.sqlstore import Statements, Store, open_store
from assistant.types import Answer, Conversation, ConversationSummary, ConversationTurn

if TYPE_CHECKING:
    from assistant.catalog import Catalog
    from assistant.settings import Settings

TITLE_CHARS = 60  # a new conversation's title: its first question, cut at a word
MAX_TITLE_CHARS = 120
SEARCH_WORDS = 8  # a search uses its first words only
UNDO_SECONDS = 3600.0  # a deleted conversation can be restored this long (unless replaced)
SWEEP_SECONDS = 86400.0  # retention is applied on first use, then at most this often
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


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
        if self._none_yet(owner):
            return []
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
        if self._none_yet(owner):
            return None
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
        owner = _owner(owner)
        _check_turn(conversation_id, ordinal, question, answer)
        self._maybe_sweep()
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
        if self._none_yet(owner):
            return None
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
        cleaned = clean_title(title)
        if not cleaned:
            raise ValueError("a title cannot be blank")
        if self._none_yet(owner):
            return None
        self._maybe_sweep()
        self.store.execute(
            "UPDATE conversations SET title = ? WHERE id = ? AND owner = ? AND deleted_at IS NULL",
            (cleaned, conversation_id, _owner(owner)),
        )
        return self._summary(owner, conversation_id)

    def delete(self, owner: str, conversation_id: str) -> bool:
        """Delete one of the owner's conversations, restorable until the next delete."""
        if self._none_yet(owner):
            return False
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
        if self._none_yet(owner):
            return None
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
        if not self.store.exists():
            return 0
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
    def _none_yet(self, owner: str) -> bool:
        """Whether no conversation was ever saved (the SQLite file is not made yet): a read
        then finds nothing and makes no file, nor its folder. The owner is checked first."""
        _owner(owner)
        return not self.store.exists()

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


def _check_turn(conversation_id: object, ordinal: object, question: object, answer: object) -> None:
    """A turn's arguments as `save_turn` takes them (ValueError or TypeError, nothing
    written): a negative ordinal would replace every turn of the conversation."""
    if conversation_id is not None and not isinstance(conversation_id, str):
        raise TypeError(f"the conversation id must be text or None, not {conversation_id!r}")
    if isinstance(ordinal, bool) or not isinstance(ordinal, int):
        raise TypeError(f"the ordinal must be a whole number, not {ordinal!r}")
    if ordinal < 0:
        raise ValueError(f"the ordinal counts the turns from 0, not {ordinal}")
    if not isinstance(question, str) or not question.strip():
        raise ValueError("a turn needs the question asked, as text")
    if not isinstance(answer, Answer):
        raise TypeError(f"the answer must be an assistant Answer, not {type(answer).__name__}")


def _owner(owner: str) -> str:
    if not owner or not isinstance(owner, str):
        raise ValueError("a conversation needs an owner")
    return owner
