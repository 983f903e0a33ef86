"""The SQLite files beside the index (catalog, accounts, conversations): how each connection is
opened and how a write transaction is run."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Self

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


# The result codes that say the file itself cannot be used (damaged, not a database, unreadable
# or unwritable, its disk full), as against a statement's own error (a constraint, a bug).
_FILE_FAILURES = frozenset({
    sqlite3.SQLITE_CORRUPT, sqlite3.SQLITE_NOTADB, sqlite3.SQLITE_IOERR, sqlite3.SQLITE_FULL,
    sqlite3.SQLITE_CANTOPEN, sqlite3.SQLITE_READONLY, sqlite3.SQLITE_PERM,
})  # fmt: skip
_BUSY = frozenset({sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED})


def connect(path: Path, foreign_keys: bool = False) -> sqlite3.Connection:
    """A connection to a SQLite file beside the index (WAL, autocommit), made when missing.
    Raises IndexUnusableError, the file left as it is, when it is not an SQLite database or is
    another program's (found by a read-only look before the file is opened for writing), and
    IndexBusyError when another process holds it longer than the busy timeout."""
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        mark = not path.exists() or _unmarked_but_ours(path)
        connection = sqlite3.connect(
            path, timeout=30, isolation_level=None, factory=_IndexConnection
        )
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
    if _code(exc) in _BUSY:
        return IndexBusyError(
            f"the index's {path.name} is held by another process ({exc}); try again shortly"
        )
    return IndexUnusableError(path.name, str(exc))


def _code(exc: sqlite3.Error) -> int:
    """The primary result code of a SQLite error (0 when it has none)."""
    return int(getattr(exc, "sqlite_errorcode", 0) or 0) & 0xFF


def _failed(path: Path, exc: sqlite3.Error) -> Exception:
    """What a statement's error becomes: the file's failure (unusable or busy) as the
    assistant's error naming the file, any other error as it is."""
    return unusable(path, exc) if _code(exc) in _FILE_FAILURES | _BUSY else exc


@contextmanager
def _reported(path: Path) -> Iterator[None]:
    """Raise a SQLite error of the block as `_failed` says."""
    try:
        yield
    except sqlite3.Error as exc:
        raise _failed(path, exc) from exc


class _IndexCursor(sqlite3.Cursor):
    """A cursor whose statements and fetches report the file's failures as `_failed` says
    (a damaged page is often met only while the rows are read)."""

    def _path(self) -> Path:
        connection = self.connection
        assert isinstance(connection, _IndexConnection)
        return connection.path

    def execute(self, sql: str, parameters: Any = (), /) -> Self:
        with _reported(self._path()):
            return super().execute(sql, parameters)

    def executemany(self, sql: str, parameters: Iterable[Any], /) -> Self:
        with _reported(self._path()):
            return super().executemany(sql, parameters)

    def executescript(self, script: str, /) -> sqlite3.Cursor:
        with _reported(self._path()):
            return super().executescript(script)

    def fetchone(self) -> Any:
        with _reported(self._path()):
            return super().fetchone()

    def fetchmany(self, size: int | None = 1) -> list[Any]:
        with _reported(self._path()):
            return super().fetchmany(self.arraysize if size is None else size)

    def fetchall(self) -> list[Any]:
        with _reported(self._path()):
            return super().fetchall()

    def __next__(self) -> Any:
        try:  # not `_reported`: this runs once a row
            return super().__next__()
        except sqlite3.Error as exc:
            raise _failed(self._path(), exc) from exc


class _IndexConnection(sqlite3.Connection):
    """A connection to a file beside the index that knows its path, so that a failure of the
    file met by any statement names it (`_IndexCursor`)."""

    def __init__(self, database: Path, *args: Any, **kwargs: Any) -> None:
        super().__init__(database, *args, **kwargs)
        self.path = database

    def cursor(self, factory: Any = _IndexCursor) -> Any:
        return super().cursor(factory)

    def execute(self, sql: str, parameters: Any = (), /) -> sqlite3.Cursor:
        cursor: sqlite3.Cursor = self.cursor()
        return cursor.execute(sql, parameters)

    def executemany(self, sql: str, parameters: Iterable[Any], /) -> sqlite3.Cursor:
        cursor: sqlite3.Cursor = self.cursor()
        return cursor.executemany(sql, parameters)

    def executescript(self, script: str, /) -> sqlite3.Cursor:
        cursor: sqlite3.Cursor = self.cursor()
        return cursor.executescript(script)

    def commit(self) -> None:
        with _reported(self.path):
            super().commit()


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
        # The plain statement, not `_IndexConnection`'s, which would report the refused write
        # as an unusable file.
        sqlite3.Connection.execute(connection, f"PRAGMA application_id = {APPLICATION_ID}")
    except sqlite3.OperationalError as exc:
        if _code(exc) != sqlite3.SQLITE_READONLY:
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
