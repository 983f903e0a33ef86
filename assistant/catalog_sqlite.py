"""The embedded catalog: one SQLite file with documents, chunks, the BM25 (FTS5) index and a
write journal (the `Catalog` interface of assistant.catalog).

SQLite gives the atomicity the vector store lacks: a document's text, chunks and lexical terms
change in one transaction, and the journal (`pending`, `garbage`) records vector writes that
are not yet matched by a committed catalog state, so an interrupted ingest can be repaired.
Readers use WAL mode and never block the writer.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from filelock import Timeout

from assistant import lexical_sqlite
from assistant.catalog import (
    GENERATION,
    Catalog,
    ChunkRow,
    ChunkWrite,
    DocumentRecord,
    Structure,
    lexical_text,
)
from assistant.catalog_rows import (
    DOCUMENT_COLUMNS,
    RECORD_COLUMNS,
    StructureCache,
    chunk_blobs,
    chunk_row,
    document_values,
)
from assistant.collections import DEFAULT_COLLECTION
from assistant.errors import IndexBusyError
from assistant.fts_tokens import rows_holding, tokenize
from assistant.indexlock import ingest_running, writer_lock
from assistant.lexical_sqlite import (
    keep_term_chunks,
    mark_term_chunks_exact,
    marks,
    term_chunks_exact,
)
from assistant.sqlite import Transaction
from assistant.sqlstore import SqliteStore
from assistant.types import Document

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


# Chunk sets of collections kept (distinct grants x collections asked for, per generation).
# At a million chunks one set of a tenth of them is ~15 MB: a few dozen would be too many.
_MEMBERS_CACHE_ENTRIES = 16


@dataclass(frozen=True)
class _Members:
    """The chunks of some collections: full-text rows and vector ids."""

    rows: frozenset[int]
    chunk_ids: frozenset[str]


def _bump_generation(db: sqlite3.Connection) -> None:
    # In the same transaction as the change it announces, so readers never see one without
    # the other.
    db.execute(
        "INSERT INTO meta VALUES (?, '1') "
        "ON CONFLICT(key) DO UPDATE SET value = CAST(value AS INTEGER) + 1",
        (GENERATION,),
    )


class SqliteCatalog(Catalog):
    """The catalog in one SQLite file; one connection per thread."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._file = SqliteStore(path, _prepare)
        self._local = threading.local()  # per thread: the term counts kept
        self._structures = StructureCache()
        self._members_cache: dict[tuple[int, tuple[str, ...]], _Members] = {}

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

    # -- metadata -------------------------------------------------------------------------
    def get_meta(self, key: str) -> str | None:
        """A stored metadata value."""
        row = self.db.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return None if row is None else str(row[0])

    def set_meta(self, key: str, value: str) -> None:
        """Store a metadata value."""
        self.db.execute("INSERT OR REPLACE INTO meta VALUES (?, ?)", (key, value))

    def delete_meta(self, key: str) -> None:
        """Forget a metadata value."""
        self.db.execute("DELETE FROM meta WHERE key = ?", (key,))

    # -- documents ------------------------------------------------------------------------
    def documents(self) -> dict[str, DocumentRecord]:
        """Every indexed document by absolute path."""
        rows = self.db.execute(f"SELECT {RECORD_COLUMNS} FROM documents ORDER BY source").fetchall()
        return {row[1]: DocumentRecord(*row) for row in rows}

    def document(self, doc_id: str) -> DocumentRecord | None:
        """One indexed document's record by its id."""
        row = self.db.execute(
            f"SELECT {RECORD_COLUMNS} FROM documents WHERE doc_id = ?",
            (doc_id,),
        ).fetchone()
        return None if row is None else DocumentRecord(*row)

    def document_structure(self, doc_id: str) -> Structure:
        """A document's extracted text, headings and page starts."""
        row = self.db.execute(
            "SELECT ingested_at FROM documents WHERE doc_id = ?", (doc_id,)
        ).fetchone()
        if row is None:
            raise KeyError(doc_id)
        return self._structure(doc_id, row[0])

    def _structure(self, doc_id: str, version: float) -> Structure:
        return self._structures.lookup(
            doc_id,
            version,
            lambda: self.db.execute(
                "SELECT ingested_at, text, headings, page_starts FROM documents WHERE doc_id = ?",
                (doc_id,),
            ).fetchone(),
        )

    def vector_ids(self, doc_id: str) -> list[str]:
        """Vector ids of a document's chunks."""
        rows = self.db.execute("SELECT chunk_id FROM chunks WHERE doc_id = ?", (doc_id,))
        return [str(row[0]) for row in rows]

    def _counts(self) -> dict[object, int]:
        """This thread's counts of the index as it is now (chunks, terms' chunks): kept until
        the index changes. data_version moves when another connection commits; our own writes
        clear them."""
        version = self.db.execute("PRAGMA data_version").fetchone()[0]
        cached: tuple[int, dict[object, int]] | None = getattr(self._local, "count", None)
        if cached is None or cached[0] != version or len(cached[1]) > _COUNTS_KEPT:
            cached = (version, {})
            self._local.count = cached
        return cached[1]

    def chunk_count(self, collections: Sequence[str] | None = None) -> int:
        """Number of chunks in the index, or in some collections (cached until it changes)."""
        key = None if collections is None else tuple(sorted(collections))
        counts = self._counts()
        if key in counts:
            return counts[key]
        if key is None:
            count = int(self.db.execute("SELECT count(*) FROM chunks").fetchone()[0])
        else:
            count = int(
                self.db.execute(
                    "SELECT coalesce(sum(chunks), 0) FROM documents "
                    f"WHERE collection IN ({marks(key)})",
                    key,
                ).fetchone()[0]
            )
        counts[key] = count
        return count

    def collections(self) -> dict[str, tuple[int, int]]:
        """Every collection with documents: name -> (documents, chunks)."""
        rows = self.db.execute(
            "SELECT collection, count(*), coalesce(sum(chunks), 0) FROM documents "
            "GROUP BY collection ORDER BY collection"
        )
        return {str(name): (int(docs), int(chunks)) for name, docs, chunks in rows}

    def collection_names(self) -> list[str]:
        """The names of every collection with documents, sorted."""
        rows = self.db.execute("SELECT DISTINCT collection FROM documents ORDER BY collection")
        return [str(row[0]) for row in rows]

    def doc_ids(self, collections: Sequence[str]) -> list[str]:
        """The documents of some collections."""
        rows = self.db.execute(
            f"SELECT doc_id FROM documents WHERE collection IN ({marks(collections)})",
            list(collections),
        )
        return [str(row[0]) for row in rows]

    def set_collection(self, doc_id: str, collection: str) -> None:
        """Move a document to another collection (its vectors' metadata is the caller's)."""
        with self._transaction() as db:
            db.execute("UPDATE documents SET collection = ? WHERE doc_id = ?", (collection, doc_id))
            _bump_generation(db)

    # -- the write journal ----------------------------------------------------------------
    def begin_document(self, doc_id: str, vector_ids: Sequence[str]) -> None:
        """Record vectors about to be written for a document that is not committed yet."""
        self.db.execute(
            "INSERT OR REPLACE INTO pending VALUES (?, ?)", (doc_id, json.dumps(list(vector_ids)))
        )

    def commit_document(
        self,
        doc_id: str,
        path: str,
        document: Document,
        writes: Sequence[ChunkWrite],
        collection: str = DEFAULT_COLLECTION,
    ) -> None:
        """Make a document version visible, atomically replacing any earlier version."""
        with self._transaction() as db:
            exact = term_chunks_exact(db)
            removed = self._delete_document_rows(db, doc_id, exact)
            _bump_generation(db)
            db.execute(
                f"INSERT INTO documents ({DOCUMENT_COLUMNS}) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                document_values(doc_id, path, document, len(writes), collection),
            )
            texts: list[str] = []
            for write in writes:
                chunk = write.chunk
                cursor = db.execute(
                    "INSERT INTO chunks (chunk_id, doc_id, ordinal, start, end, sentence_spans, "
                    "sentence_vectors, context_vectors) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                    (
                        write.vector_id,
                        doc_id,
                        chunk.ordinal,
                        chunk.start,
                        chunk.end,
                        *chunk_blobs(write),
                    ),
                )
                terms = lexical_text(document, chunk)
                db.execute(
                    "INSERT INTO chunk_terms (rowid, terms) VALUES (?, ?)",
                    (cursor.lastrowid, terms),
                )
                texts.append(terms)
            if exact:
                keep_term_chunks(db, rows_holding(tokenize(texts)), removed)
            db.execute("DELETE FROM pending WHERE doc_id = ?", (doc_id,))

    def rename_document(
        self,
        doc_id: str,
        new_doc_id: str,
        path: str,
        source: str,
        collection: str,
        vector_ids: dict[str, str],
    ) -> None:
        """Move a document to another path, keeping its text, chunks and BM25 rows (the old
        vector ids queued as garbage)."""
        with self._transaction() as db:
            if new_doc_id != doc_id:
                self._delete_document_counted(db, new_doc_id)
            db.executemany(
                "UPDATE chunks SET chunk_id = ?, doc_id = ? WHERE chunk_id = ?",
                [(new, new_doc_id, old) for old, new in vector_ids.items()],
            )
            db.executemany(
                "INSERT OR IGNORE INTO garbage VALUES (?)",
                [(old,) for old, new in vector_ids.items() if old != new],
            )
            db.execute(
                "UPDATE documents SET doc_id = ?, path = ?, source = ?, collection = ? "
                "WHERE doc_id = ?",
                (new_doc_id, path, source, collection, doc_id),
            )
            db.execute("DELETE FROM pending WHERE doc_id = ?", (new_doc_id,))
            _bump_generation(db)

    def remove_document(self, doc_id: str) -> None:
        """Remove a document; its vectors are queued for deletion."""
        with self._transaction() as db:
            self._delete_document_counted(db, doc_id)
            _bump_generation(db)

    def _delete_document_counted(self, db: sqlite3.Connection, doc_id: str) -> None:
        """Delete a document's rows, and its chunks from the terms' counts when they are kept."""
        exact = term_chunks_exact(db)
        removed = self._delete_document_rows(db, doc_id, exact)
        if exact:
            keep_term_chunks(db, Counter(), removed)

    def _delete_document_rows(
        self, db: sqlite3.Connection, doc_id: str, count_terms: bool
    ) -> Counter[str]:
        """Delete a document's rows; with `count_terms`, how many of its chunks held each term."""
        rows = db.execute("SELECT id, chunk_id FROM chunks WHERE doc_id = ?", (doc_id,)).fetchall()
        removed: Counter[str] = Counter()
        if count_terms and rows:
            texts = db.execute(
                f"SELECT terms FROM chunk_terms WHERE rowid IN ({marks(rows)})",
                [row[0] for row in rows],
            )
            removed = rows_holding(tokenize([str(text) for (text,) in texts]))
        db.executemany("INSERT OR IGNORE INTO garbage VALUES (?)", [(row[1],) for row in rows])
        db.executemany("DELETE FROM chunk_terms WHERE rowid = ?", [(row[0],) for row in rows])
        db.execute("DELETE FROM chunks WHERE doc_id = ?", (doc_id,))
        db.execute("DELETE FROM documents WHERE doc_id = ?", (doc_id,))
        return removed

    def pending(self) -> dict[str, list[str]]:
        """Vector writes of documents that were never committed."""
        rows = self.db.execute("SELECT doc_id, vector_ids FROM pending").fetchall()
        return {str(row[0]): json.loads(row[1]) for row in rows}

    def clear_pending(self, doc_id: str) -> None:
        """Forget a pending write (after its vectors were deleted)."""
        self.db.execute("DELETE FROM pending WHERE doc_id = ?", (doc_id,))

    def garbage(self) -> list[str]:
        """Vector ids that no committed chunk uses any more."""
        live = "SELECT 1 FROM chunks WHERE chunks.chunk_id = garbage.vector_id"
        rows = self.db.execute(f"SELECT vector_id FROM garbage WHERE NOT EXISTS ({live})")
        return [str(row[0]) for row in rows]

    def clear_garbage(self, vector_ids: Iterable[str]) -> None:
        """Forget garbage whose vectors were deleted."""
        self.db.executemany("DELETE FROM garbage WHERE vector_id = ?", [(v,) for v in vector_ids])

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

    def needs_optimize(self) -> bool:
        """Whether the terms' chunk counts are to be filled (see `optimize`)."""
        return not term_chunks_exact(self.db)

    def optimize(self) -> None:
        """After a batch of writes: fill the terms' chunk counts again from FTS5's vocabulary
        if a write did not keep them (a catalog from before the table, a bulk load); FTS5 and
        SQLite's indexes are current after every commit."""
        if term_chunks_exact(self.db):
            return
        with self._transaction() as db:
            if term_chunks_exact(db):
                return
            db.execute("DELETE FROM term_chunks")
            db.execute("INSERT INTO term_chunks SELECT term, doc FROM chunk_vocab")
            mark_term_chunks_exact(db)

    def reset(self) -> None:
        """Delete every document and journal entry."""
        with self._transaction() as db:
            tables = ("chunk_terms", "chunks", "documents", "pending", "garbage", "term_chunks")
            for table in tables:
                db.execute(f"DELETE FROM {table}")
            keep_term_chunks(db, Counter(), Counter())
            _bump_generation(db)

    # -- reading --------------------------------------------------------------------------
    def chunks(
        self, vector_ids: Sequence[str], collections: Sequence[str] | None = None
    ) -> dict[str, ChunkRow]:
        """Committed chunks by vector id; ids without a committed chunk are left out, and with
        `collections` those of other collections (in the same statement)."""
        if not vector_ids or (collections is not None and not collections):
            return {}
        wanted = marks(vector_ids)
        allowed = "" if collections is None else f" AND d.collection IN ({marks(collections)})"
        rows = self.db.execute(
            "SELECT c.chunk_id, c.doc_id, d.source, d.title, c.start, c.end, d.ingested_at, "
            "c.sentence_spans, c.sentence_vectors, c.context_vectors "
            "FROM chunks c JOIN documents d USING (doc_id) "
            f"WHERE c.chunk_id IN ({wanted}){allowed}",
            [*vector_ids, *(collections or [])],
        ).fetchall()
        result = {}
        for *stored, version, spans, vectors, contexts in rows:
            structure = self._structure(stored[1], version)
            result[stored[0]] = chunk_row(stored, structure, spans, vectors, contexts)
        return result

    def lexical_search(
        self,
        query_terms: Sequence[str],
        limit: int,
        collections: Sequence[str] | None = None,
        every_term: bool = False,
    ) -> list[tuple[str, float]]:
        """BM25 ranking of chunks containing any of the terms (or every one), best first.

        With `collections`, only their chunks are ranked and cut to `limit` (the filter runs
        inside the query, before the cut).
        """
        if not query_terms or (collections is not None and not collections):
            return []
        allowed = None if collections is None else self._rows_of(collections)
        return lexical_sqlite.search(self.db, query_terms, limit, allowed, every_term)

    def term_counts(
        self, query_terms: Sequence[str], collections: Sequence[str] | None = None
    ) -> dict[str, int]:
        """How many chunks hold each term (0 for a term the corpus never uses).

        With `collections`, counted over their chunks only: what other collections hold
        leaves no trace in what a restricted question sees.
        """
        if not query_terms or (collections is not None and not collections):
            return dict.fromkeys(query_terms, 0)
        if collections is None:
            # Counting a term's chunks reads its whole posting list (37 ms at a million chunks
            # for a common word): counts are kept until the index changes.
            return lexical_sqlite.chunk_counts(self.db, query_terms, self._counts())
        return lexical_sqlite.chunk_counts_in(self.db, query_terms, self._rows_of(collections))

    def _rows_of(self, collections: Sequence[str]) -> frozenset[int]:
        """The full-text rows of some collections' chunks."""
        return self._members(collections).rows

    def sentence_count(self) -> int:
        """How many sentences the committed chunks hold (each span is two int32)."""
        row = self.db.execute(
            "SELECT COALESCE(SUM(LENGTH(c.sentence_spans)), 0) / 8 "
            "FROM chunks c JOIN documents d USING (doc_id)"
        ).fetchone()
        return int(row[0])

    def sentence_rows(self) -> Iterator[tuple[str, bytes]]:
        """Every committed chunk's id with its sentences' vectors, read row by row from one
        statement (one snapshot)."""
        rows = self.db.execute(
            "SELECT c.chunk_id, COALESCE(c.context_vectors, c.sentence_vectors) "
            "FROM chunks c JOIN documents d USING (doc_id) ORDER BY c.id"
        )
        for chunk_id, vectors in rows:
            yield str(chunk_id), bytes(vectors)

    def chunk_ids_of(self, collections: Sequence[str]) -> frozenset[str]:
        """The ids of some collections' chunks (their vectors' ids)."""
        return self._members(collections).chunk_ids

    def _members(self, collections: Sequence[str]) -> _Members:
        """Some collections' chunks, cached per generation (a change bumps it)."""
        key = (self.generation(), tuple(sorted(set(collections))))
        found = self._members_cache.get(key)
        if found is None:
            rows = self.db.execute(
                "SELECT c.id, c.chunk_id FROM chunks c JOIN documents d USING (doc_id) "
                f"WHERE d.collection IN ({marks(collections)})",
                list(collections),
            ).fetchall()
            found = _Members(
                frozenset(int(row[0]) for row in rows), frozenset(str(row[1]) for row in rows)
            )
            if len(self._members_cache) >= _MEMBERS_CACHE_ENTRIES:
                self._members_cache.clear()
            self._members_cache[key] = found
        return found

    # -- helpers --------------------------------------------------------------------------
    def _transaction(self) -> Transaction:
        self._local.count = None
        return Transaction(self.db)


# Counts kept per thread until the index changes (chunks, and terms' chunks): at most this many.
_COUNTS_KEPT = 100_000
