"""Where users, groups, grants and personal API keys are kept: the index's SQLite catalog file
(the embedded default), or the PostgreSQL catalog database when `catalog_url` is set, so that
every replica reads and changes the same accounts.

`assistant.accounts` writes its SQL once, in the dialect both understand (`?` placeholders,
`"user"` quoted, `ON CONFLICT DO NOTHING`); a store runs it on this thread's connection. A
duplicate row is `DuplicateRowError` from either; PostgreSQL being unreachable is
CatalogUnavailableError, as for the catalog (the API answers 503).
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from assistant.sqlite import Transaction, connect

if TYPE_CHECKING:
    from assistant.catalog_pg import PostgresCatalog

SQLITE_SCHEMA = """
CREATE TABLE IF NOT EXISTS users (
    name TEXT PRIMARY KEY,
    password_hash TEXT NOT NULL,
    role TEXT NOT NULL CHECK (role IN ('admin', 'member')),
    created REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS user_groups (
    user TEXT NOT NULL REFERENCES users(name) ON DELETE CASCADE,
    grp TEXT NOT NULL,
    PRIMARY KEY (user, grp)
);
CREATE TABLE IF NOT EXISTS grants (
    collection TEXT NOT NULL,
    kind TEXT NOT NULL CHECK (kind IN ('group', 'user')),
    principal TEXT NOT NULL,
    PRIMARY KEY (collection, kind, principal)
);
CREATE TABLE IF NOT EXISTS user_api_keys (
    key_id TEXT PRIMARY KEY,
    user TEXT NOT NULL REFERENCES users(name) ON DELETE CASCADE,
    digest BLOB NOT NULL,
    created REAL NOT NULL
);
"""


class DuplicateRowError(Exception):
    """A row with that key exists already."""


class Rows(Protocol):
    """What a statement returns: its rows and how many it changed."""

    @property
    def rowcount(self) -> int: ...

    def fetchone(self) -> Any: ...

    def fetchall(self) -> list[Any]: ...

    def __iter__(self) -> Iterator[Any]: ...


class Statements(Protocol):
    """Runs the accounts' SQL (in a transaction, or each statement on its own)."""

    def execute(self, sql: str, params: Sequence[Any] = ()) -> Rows: ...

    def executemany(self, sql: str, rows: Sequence[Sequence[Any]]) -> None: ...


class AccountStore(Statements, Protocol):
    """A database holding the accounts."""

    def exists(self) -> bool:
        """Whether it may hold accounts (an index file not made yet holds none)."""
        ...

    def transaction(self) -> AbstractContextManager[Statements]:
        """The statements of a `with` block, committed together or not at all."""
        ...


class SqliteAccountStore:
    """The accounts in the index's catalog file (one connection per thread)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._local = threading.local()

    def exists(self) -> bool:
        """Whether the file is there."""
        return self.path.exists()

    @property
    def _db(self) -> sqlite3.Connection:
        connection: sqlite3.Connection | None = getattr(self._local, "connection", None)
        if connection is None:
            connection = connect(self.path, SQLITE_SCHEMA, foreign_keys=True)
            self._local.connection = connection
        return connection

    def execute(self, sql: str, params: Sequence[Any] = ()) -> Rows:
        """One statement, committed."""
        return _SqliteStatements(self._db).execute(sql, params)

    def executemany(self, sql: str, rows: Sequence[Sequence[Any]]) -> None:
        """One statement for each row, committed."""
        _SqliteStatements(self._db).executemany(sql, rows)

    @contextmanager
    def transaction(self) -> Iterator[Statements]:
        """BEGIN IMMEDIATE ... COMMIT (ROLLBACK on error)."""
        with Transaction(self._db) as db:
            yield _SqliteStatements(db)


class _SqliteStatements:
    def __init__(self, db: sqlite3.Connection) -> None:
        self.db = db

    def execute(self, sql: str, params: Sequence[Any] = ()) -> Rows:
        try:
            return self.db.execute(sql, params)
        except sqlite3.IntegrityError as exc:
            raise DuplicateRowError(str(exc)) from None

    def executemany(self, sql: str, rows: Sequence[Sequence[Any]]) -> None:
        try:
            self.db.executemany(sql, rows)
        except sqlite3.IntegrityError as exc:
            raise DuplicateRowError(str(exc)) from None


class PostgresAccountStore:
    """The accounts in the catalog's PostgreSQL database (its schema has their tables)."""

    def __init__(self, catalog: PostgresCatalog) -> None:
        self.catalog = catalog

    def exists(self) -> bool:
        """Always: the tables are made with the catalog's schema."""
        return True

    def execute(self, sql: str, params: Sequence[Any] = ()) -> Rows:
        """One statement, committed (retried once on a connection the server dropped)."""
        return self.catalog.run(lambda db: _PostgresStatements(db).execute(sql, params))

    def executemany(self, sql: str, rows: Sequence[Sequence[Any]]) -> None:
        """One statement for each row, committed together."""
        with self.transaction() as statements:
            statements.executemany(sql, rows)

    @contextmanager
    def transaction(self) -> Iterator[Statements]:
        """A transaction on this thread's connection."""
        with self.catalog.transaction() as db:
            yield _PostgresStatements(db)


class _PostgresStatements:
    def __init__(self, db: Any) -> None:
        self.db = db

    def execute(self, sql: str, params: Sequence[Any] = ()) -> Rows:
        import psycopg

        try:
            cursor: Rows = self.db.execute(sql.replace("?", "%s"), params)
        except psycopg.IntegrityError as exc:
            raise DuplicateRowError(str(exc)) from None
        return cursor

    def executemany(self, sql: str, rows: Sequence[Sequence[Any]]) -> None:
        import psycopg

        try:
            self.db.cursor().executemany(sql.replace("?", "%s"), rows)
        except psycopg.IntegrityError as exc:
            raise DuplicateRowError(str(exc)) from None


# The accounts' tables in the order their references need, with their columns.
ACCOUNT_TABLES = (
    ("users", "name, password_hash, role, created"),
    ("user_groups", '"user", grp'),
    ("grants", "collection, kind, principal"),
    ("user_api_keys", 'key_id, "user", digest, created'),
)


def holds_users(store: AccountStore) -> bool:
    """Whether a store has any user."""
    return store.exists() and store.execute("SELECT 1 FROM users LIMIT 1").fetchone() is not None


def copy_accounts(source: AccountStore, target: AccountStore) -> int:
    """Every user (with their password hash), group membership, grant and personal key's digest
    of `source` into `target`, in one transaction; returns the users copied. The target must
    hold no users (`holds_users`)."""
    if not source.exists():
        return 0
    copied = 0
    with target.transaction() as statements:
        for table, columns in ACCOUNT_TABLES:
            rows = [tuple(row) for row in source.execute(f"SELECT {columns} FROM {table}")]
            if rows:
                marks = ", ".join("?" * len(rows[0]))
                statements.executemany(f"INSERT INTO {table} ({columns}) VALUES ({marks})", rows)
            if table == "users":
                copied = len(rows)
    return copied
