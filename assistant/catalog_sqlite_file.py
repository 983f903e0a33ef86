"""The embedded catalog's file: its schema (made when missing, migrated when old), this thread's
connection, transactions, and the lock file that lets one writer in at a time. `SqliteCatalog`
(assistant.catalog_sqlite) is built on it.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from filelock import Timeout

from assistant.errors import IndexBusyError
from assistant.indexlock import ingest_running, writer_lock
from assistant.lexical_sqlite import mark_term_chunks_exact, term_chunks_exact
from assistant.sqlite import Transaction
from assistant.sqlstore import SqliteStore

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS documents (
    doc_id TEXT PRIMARY KEY,
    path TEXT NOT NULL UNIQUE,
    source TEXT NOT NULL,
    title TEXT NOT NULL,
    format TEXT NOT NULL,
    content_hash TEXT NOT NULL,
    size INTEGER NOT NULL,
    chunks INTEGER NOT NULL,
    ingested_at REAL NOT NULL,
    text TEXT NOT NULL,
    headings TEXT NOT NULL,
    page_starts TEXT NOT NULL,
    collection TEXT NOT NULL DEFAULT 'default'
);
CREATE TABLE IF NOT EXISTS chunks (
    id INTEGER PRIMARY KEY,
    chunk_id TEXT NOT NULL UNIQUE,
    doc_id TEXT NOT NULL REFERENCES documents(doc_id),
    ordinal INTEGER NOT NULL,
    start INTEGER NOT NULL,
    end INTEGER NOT NULL,
    sentence_spans BLOB NOT NULL,
    sentence_vectors BLOB NOT NULL,
    context_vectors BLOB
);
CREATE INDEX IF NOT EXISTS chunks_by_doc ON chunks(doc_id);
CREATE VIRTUAL TABLE IF NOT EXISTS chunk_terms USING fts5(terms, tokenize = 'unicode61');
CREATE VIRTUAL TABLE IF NOT EXISTS chunk_vocab USING fts5vocab(chunk_terms, 'row');
-- How many chunks hold each FTS5 token, kept by every write of this catalog, so counting a
-- question's terms reads a row each rather than the terms' posting lists. Exact while the meta
-- key `term_chunks` is there: a write that adds or deletes chunks without keeping the table
-- (an older release, a bulk load) drops the key, and `optimize` fills the table again.
CREATE TABLE IF NOT EXISTS term_chunks (term TEXT PRIMARY KEY, chunks INTEGER NOT NULL)
    WITHOUT ROWID;
CREATE TRIGGER IF NOT EXISTS term_chunks_after_insert AFTER INSERT ON chunks
    BEGIN DELETE FROM meta WHERE key = 'term_chunks'; END;
CREATE TRIGGER IF NOT EXISTS term_chunks_after_delete AFTER DELETE ON chunks
    BEGIN DELETE FROM meta WHERE key = 'term_chunks'; END;
CREATE TABLE IF NOT EXISTS pending (doc_id TEXT PRIMARY KEY, vector_ids TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS garbage (vector_id TEXT PRIMARY KEY);
"""


def _prepare(db: sqlite3.Connection) -> None:
    """A new connection's schema: made when missing, migrated when old."""
    db.executescript(_SCHEMA)
    _migrate(db)


def _migrate(db: sqlite3.Connection) -> None:
    """Bring a catalog written by an earlier release up to this schema (idempotent)."""
    # Before collections every document was in `default`; before context vectors a chunk had
    # none (the schema version in the ingest fingerprint then re-embeds every document once).
    _add_column(db, "documents", "collection", "TEXT NOT NULL DEFAULT 'default'")
    _add_column(db, "chunks", "context_vectors", "BLOB")
    db.execute("CREATE INDEX IF NOT EXISTS documents_by_collection ON documents(collection)")
    # A catalog without chunks has its (empty) term counts exact from the start; one with
    # chunks from before the table gets them from the next ingest's `optimize`.
    if not term_chunks_exact(db) and _no_chunks(db):
        with Transaction(db):
            if not term_chunks_exact(db) and _no_chunks(db):
                db.execute("DELETE FROM term_chunks")
                mark_term_chunks_exact(db)


def _no_chunks(db: sqlite3.Connection) -> bool:
    return db.execute("SELECT 1 FROM chunks LIMIT 1").fetchone() is None


def _add_column(db: sqlite3.Connection, table: str, column: str, declaration: str) -> None:
    if column in {row[1] for row in db.execute(f"PRAGMA table_info({table})")}:
        return
    try:
        db.execute(f"ALTER TABLE {table} ADD COLUMN {column} {declaration}")
    except sqlite3.OperationalError as exc:  # another connection migrated first
        if "duplicate column" not in str(exc):
            raise


class SqliteCatalogFile:
    """The catalog's SQLite file: this thread's connection, transactions and the writer lock."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._file = SqliteStore(path, _prepare)
        self._local = threading.local()  # per thread: the term counts kept

    def exists(self) -> bool:
        """Whether the catalog file is there."""
        return self.path.exists()

    @property
    def db(self) -> sqlite3.Connection:
        """This thread's connection, created with the schema on first use."""
        return self._file.db

    def close(self) -> None:
        """Close this thread's connection."""
        self._file.close()

    # -- the writer lock ------------------------------------------------------------------
    @contextmanager
    def writer_lock(self, timeout: float) -> Iterator[None]:
        """The lock file beside the catalog (`ingest.lock` in the index folder)."""
        lock = writer_lock(self.path.parent)
        try:
            lock.acquire(timeout=timeout)
        except Timeout as exc:
            raise IndexBusyError(
                f"another ingest is writing to {self.path.parent}; try again when it ends"
            ) from exc
        try:
            yield
        finally:
            lock.release()

    def writer_busy(self) -> bool:
        """Whether the index folder's lock file is held."""
        return ingest_running(self.path.parent)

    # -- helpers --------------------------------------------------------------------------
    def _transaction(self) -> Transaction:
        self._local.count = None
        return Transaction(self.db)
