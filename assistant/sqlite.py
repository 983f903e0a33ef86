"""The SQLite files beside the index (catalog, accounts, conversations): how each connection is
opened and how a write transaction is run."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from assistant.errors import IndexUnusableError

# Written into the header of every SQLite file this assistant makes (`PRAGMA application_id`),
# so that another program's file of the same name is told apart and left as it is.
APPLICATION_ID = 0x446F6351  # "DocQ"
# The tables of the files releases before the mark wrote (catalog, accounts, conversations,
# question log): an unmarked file holding no other table is one of ours, and is marked.
_UNMARKED_TABLES = frozenset(
    {"meta", "documents", "chunks", "chunk_terms", "chunk_vocab", "term_chunks", "pending",
     "garbage", "users", "user_groups", "grants", "user_api_keys", "conversations", "turns",
     "questions"}
    | {f"chunk_terms_{shadow}" for shadow in ("config", "content", "data", "docsize", "idx")}
)  # fmt: skip


def connect(path: Path, foreign_keys: bool = False) -> sqlite3.Connection:
    """A connection to a SQLite file beside the index (WAL, autocommit), made when missing.
    Raises IndexUnusableError, the file left as it is, when it is not an SQLite database or is
    another program's."""
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        connection = sqlite3.connect(path, timeout=30, isolation_level=None)
    except sqlite3.Error as exc:
        raise IndexUnusableError(path.name, str(exc)) from exc
    try:
        _claim(connection, path)
        connection.execute("PRAGMA journal_mode=WAL")
        connection.execute("PRAGMA synchronous=NORMAL")
        if foreign_keys:
            connection.execute("PRAGMA foreign_keys=ON")
    except BaseException as exc:
        connection.close()
        if isinstance(exc, sqlite3.Error):
            raise IndexUnusableError(path.name, str(exc)) from exc
        raise
    return connection


def _claim(connection: sqlite3.Connection, path: Path) -> None:
    """Mark a new file (or one an earlier release wrote) as ours; refuse another program's
    before anything is written to it."""
    found = connection.execute("PRAGMA application_id").fetchone()[0]
    if found == APPLICATION_ID:
        return
    tables = {
        name
        for (name,) in connection.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table'"
            " AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\'"  # SQLite's own: sqlite_sequence, ...
        )
    }
    if found != 0 or not tables <= _UNMARKED_TABLES:
        raise IndexUnusableError(path.name, "another program's SQLite database")
    connection.execute(f"PRAGMA application_id = {APPLICATION_ID}")


class Transaction:
    """BEGIN IMMEDIATE ... COMMIT, or ROLLBACK on error."""

    def __init__(self, db: sqlite3.Connection) -> None:
        self.db = db

    def __enter__(self) -> sqlite3.Connection:
        self.db.execute("BEGIN IMMEDIATE")
        return self.db

    def __exit__(self, exc_type: object, exc: object, traceback: object) -> None:
        self.db.execute("ROLLBACK" if exc_type else "COMMIT")
