"""The SQLite files beside the index (catalog, accounts, conversations): how each connection is
opened and how a write transaction is run."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from assistant.errors import AssistantError, IndexBusyError, IndexUnusableError

# Written into the header of every SQLite file this assistant makes (`PRAGMA application_id`),
# so that another program's file of the same name is told apart and left as it is.
APPLICATION_ID = 0x446F6351  # "DocQ"
# The tables of the files releases before the mark wrote (catalog, accounts, conversations,
# question log), each with columns every release gave it: an unmarked file holding these tables
# only, each with those columns, is one of ours and gets the mark.
_UNMARKED_TABLES: dict[str, frozenset[str]] = {
    name: frozenset(columns.split())
    for name, columns in {
        "meta": "key value",
        "documents": "doc_id path content_hash text headings",
        "chunks": "chunk_id ordinal start end sentence_spans",
        "chunk_terms": "terms",
        "chunk_vocab": "term doc",
        "term_chunks": "term chunks",
        "pending": "doc_id vector_ids",
        "garbage": "vector_id",
        "users": "name password_hash role",
        "user_groups": "user grp",
        "grants": "principal collection",
        "user_api_keys": "key_id digest",
        "conversations": "id owner title",
        "turns": "conversation_id ordinal question answer",
        "questions": "id asked_at question",
        **{
            f"chunk_terms_{shadow}": ""
            for shadow in ("config", "content", "data", "docsize", "idx")
        },
    }.items()
}


def connect(path: Path, foreign_keys: bool = False) -> sqlite3.Connection:
    """A connection to a SQLite file beside the index (WAL, autocommit), made when missing.
    Raises IndexUnusableError, the file left as it is, when it is not an SQLite database or is
    another program's (found by a read-only look before the file is opened for writing), and
    IndexBusyError when another process holds it longer than the busy timeout."""
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        mark = not path.exists() or _unmarked_but_ours(path)
        connection = sqlite3.connect(path, timeout=30, isolation_level=None)
    except sqlite3.Error as exc:
        raise unusable(path, exc) from exc
    try:
        if mark:
            _mark(connection)
        connection.execute("PRAGMA journal_mode=WAL")
        connection.execute("PRAGMA synchronous=NORMAL")
        if foreign_keys:
            connection.execute("PRAGMA foreign_keys=ON")
    except BaseException as exc:
        connection.close()
        if isinstance(exc, sqlite3.Error):
            raise unusable(path, exc) from exc
        raise
    return connection


def unusable(path: Path, exc: sqlite3.Error) -> AssistantError:
    """The error to raise for a SQLite error met while opening or preparing a file: busy, or
    unusable (damaged, not a database, unreadable)."""
    if getattr(exc, "sqlite_errorcode", 0) & 0xFF in (sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED):
        return IndexBusyError(
            f"the index's {path.name} is held by another process ({exc}); try again shortly"
        )
    return IndexUnusableError(path.name, str(exc))


def _unmarked_but_ours(path: Path) -> bool:
    """Whether an existing file lacks the mark but holds only what earlier releases wrote
    (True), or has the mark (False); raises IndexUnusableError for another program's file.
    Read on a read-only connection, which never writes to the file (nor checkpoints its
    journal)."""
    probe = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True, timeout=30)
    try:
        found = probe.execute("PRAGMA application_id").fetchone()[0]
        if found == APPLICATION_ID:
            return False
        tables = [
            name
            for (name,) in probe.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table'"
                " AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\'"  # SQLite's own: sqlite_sequence, ...
            )
        ]
        ours = found == 0 and all(
            name in _UNMARKED_TABLES
            and _UNMARKED_TABLES[name]
            <= {row[1] for row in probe.execute(f'PRAGMA table_info("{name}")')}
            for name in tables
        )
    finally:
        probe.close()
    if not ours:
        raise IndexUnusableError(path.name, "another program's SQLite database")
    return True


def _mark(connection: sqlite3.Connection) -> None:
    """Write the mark into a new file or one an earlier release wrote; a file that cannot be
    written (a read-only index) is read without it."""
    try:
        connection.execute(f"PRAGMA application_id = {APPLICATION_ID}")
    except sqlite3.OperationalError as exc:
        if getattr(exc, "sqlite_errorcode", 0) & 0xFF != sqlite3.SQLITE_READONLY:
            raise


class Transaction:
    """BEGIN IMMEDIATE ... COMMIT, or ROLLBACK on error."""

    def __init__(self, db: sqlite3.Connection) -> None:
        self.db = db

    def __enter__(self) -> sqlite3.Connection:
        self.db.execute("BEGIN IMMEDIATE")
        return self.db

    def __exit__(self, exc_type: object, exc: object, traceback: object) -> None:
        self.db.execute("ROLLBACK" if exc_type else "COMMIT")
