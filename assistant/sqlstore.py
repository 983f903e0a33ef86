"""The small stores kept beside the documents (accounts, conversations, the question log; the
audit log's table) on either database: a SQLite file beside the index (the embedded default),
or the PostgreSQL catalog database when `catalog_url` is set, so that every replica reads and
changes the same rows.

Each store's SQL is written once, in what both databases understand (`?` placeholders, quoted
`"user"`, `ON CONFLICT DO NOTHING`); where they differ the caller asks `dialect`. A duplicate
key is `DuplicateRowError` from either; PostgreSQL being unreachable is CatalogUnavailableError,
as for the catalog (the API answers 503), and the next call connects again.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Callable, Collection, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, Protocol

from assistant.sqlite import Transaction, connect, unusable

if TYPE_CHECKING:
    from assistant.catalog import Catalog
    from assistant.catalog_pg import PostgresCatalog
    from assistant.settings import Settings

Dialect = Literal["sqlite", "postgresql"]


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
    """Runs a store's SQL (in a transaction, or each statement on its own)."""

    def execute(self, sql: str, params: Sequence[Any] = ()) -> Rows: ...

    def executemany(self, sql: str, rows: Sequence[Sequence[Any]]) -> None: ...


class Store(Statements, Protocol):
    """A database holding a store's tables."""

    @property
    def dialect(self) -> Dialect: ...

    def exists(self) -> bool:
        """Whether it may hold rows (a SQLite file not made yet holds none)."""
        ...

    def transaction(self) -> AbstractContextManager[Statements]:
        """The statements of a `with` block, committed together or not at all."""
        ...

    def close(self) -> None:
        """Close this thread's connection."""
        ...


class SqliteStore:
    """Tables in a SQLite file (WAL; one connection per thread, prepared by `setup` when made:
    a schema script, or a migration)."""

    dialect: Dialect = "sqlite"

    def __init__(
        self,
        path: Path,
        setup: Callable[[sqlite3.Connection], object] | None = None,
        foreign_keys: bool = False,
    ) -> None:
        self.path = path
        self._setup = setup
        self._foreign_keys = foreign_keys
        self._local = threading.local()

    def exists(self) -> bool:
        """Whether the file is there."""
        return self.path.exists()

    @property
    def db(self) -> sqlite3.Connection:
        """This thread's connection."""
        connection: sqlite3.Connection | None = getattr(self._local, "connection", None)
        if connection is None:
            connection = connect(self.path, foreign_keys=self._foreign_keys)
            try:
                if self._setup is not None:
                    self._setup(connection)
            except BaseException as exc:
                connection.close()
                if isinstance(exc, sqlite3.Error):
                    raise unusable(self.path, exc) from exc
                raise
            self._local.connection = connection
        return connection

    def execute(self, sql: str, params: Sequence[Any] = ()) -> Rows:
        """One statement, committed."""
        return _SqliteStatements(self.db).execute(sql, params)

    def executemany(self, sql: str, rows: Sequence[Sequence[Any]]) -> None:
        """One statement for each row, committed."""
        _SqliteStatements(self.db).executemany(sql, rows)

    @contextmanager
    def transaction(self) -> Iterator[Statements]:
        """BEGIN IMMEDIATE ... COMMIT (ROLLBACK on error)."""
        with Transaction(self.db) as db:
            yield _SqliteStatements(db)

    def close(self) -> None:
        """Close this thread's connection."""
        connection = getattr(self._local, "connection", None)
        self._local.connection = None
        if connection is not None:
            connection.close()


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


class PostgresStore:
    """Tables in the catalog's PostgreSQL database (made by its schema migrations), on the
    catalog's connections."""

    dialect: Dialect = "postgresql"

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

    def close(self) -> None:
        """Close this thread's connection."""
        self.catalog.close()


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


def holds_rows(store: Store, table: str) -> bool:
    """Whether a store's `table` has any row (a store not made yet has none)."""
    return store.exists() and store.execute(f"SELECT 1 FROM {table} LIMIT 1").fetchone() is not None


def copy_tables(
    source: Store,
    target: Store,
    tables: Sequence[tuple[str, str]],
    keep_existing: Collection[str] = (),
) -> list[int]:
    """The rows of `tables` ((name, columns) in the order their references need; each table's
    rows in the order stored) from `source` into `target`, in one transaction; the rows read
    per table. In the tables named in `keep_existing` a row whose key the target holds already
    is left as it is; elsewhere it is DuplicateRowError. A source not made yet copies nothing."""
    if not source.exists():
        return [0] * len(tables)
    copied = []
    with target.transaction() as statements:
        for table, columns in tables:
            rows = [tuple(row) for row in source.execute(f"SELECT {columns} FROM {table}")]
            if rows:
                marks = ", ".join("?" * len(rows[0]))
                keep = " ON CONFLICT DO NOTHING" if table in keep_existing else ""
                statements.executemany(
                    f"INSERT INTO {table} ({columns}) VALUES ({marks}){keep}", rows
                )
            copied.append(len(rows))
    return copied


def open_store(
    settings: Settings, catalog: Catalog | None, sqlite: Callable[[], SqliteStore]
) -> Store:
    """The catalog's PostgreSQL database when `catalog_url` is set (through `catalog`'s
    connections when it is that database's), else the SQLite file `sqlite` opens."""
    if settings.catalog_url is None:
        return sqlite()
    return postgres_store(settings, catalog)


def postgres_store(settings: Settings, catalog: Catalog | None) -> PostgresStore:
    """The PostgreSQL catalog database of `catalog_url` (which must be set), through
    `catalog`'s connections when it is that database's."""
    from assistant.catalog import open_catalog
    from assistant.catalog_pg import PostgresCatalog

    assert settings.catalog_url is not None
    if not isinstance(catalog, PostgresCatalog):
        catalog = open_catalog(settings)
        assert isinstance(catalog, PostgresCatalog)  # catalog_url is set
    return PostgresStore(catalog)
