"""The server catalog: the `Catalog` interface in a PostgreSQL database that every replica shares.

What an ingest commits is one transaction, visible to every process at once, and the generation
counter lives in the database, so every replica sees a change when it is committed. The lexical
leg is FTS5's BM25 computed in SQL over postings made by FTS5's own tokenizer
(assistant.lexical_pg): both catalogs rank the same chunks the same
(tests/test_catalog_contract.py).

A lost connection (a restarted server) is replaced on the next call; a server that cannot be
reached raises CatalogUnavailableError, which the API answers with 503. So does a statement that
runs longer than `statement_timeout` (`catalog_statement_timeout`: a lock wait, an overloaded
server), instead of holding the request's thread for ever; the connection stays usable. The
index's own long work is exempt: schema migrations, an ingest's writes (`_unbounded`) and
`optimize`'s VACUUM. The URL's password is never logged or shown.
"""

from __future__ import annotations

import contextlib
import json
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from functools import partial
from typing import Any, TypeVar

import psycopg

from assistant import lexical_pg
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
from assistant.errors import CatalogUnavailableError, IndexBusyError
from assistant.fts_tokens import tokenize
from assistant.pgschema import migrate, parse_url
from assistant.types import Document

T = TypeVar("T")
_WRITER_LOCK = 0x77726974657273  # "writers"
_LOCK_POLL = 0.25  # seconds between tries for the writer lock
# Chunks read per statement when sentence search loads every sentence vector.
SENTENCE_PAGE = 2000


def _sentence_page(db: psycopg.Connection[Any], after: str) -> list[Any]:
    """The next page of chunk ids and sentence vectors after chunk id `after`."""
    return db.execute(
        "SELECT c.chunk_id, COALESCE(c.context_vectors, c.sentence_vectors) "
        "FROM chunks c JOIN documents d USING (doc_id) WHERE c.chunk_id > %s "
        "ORDER BY c.chunk_id LIMIT %s",
        (after, SENTENCE_PAGE),
        binary=True,
    ).fetchall()


class PostgresCatalog(Catalog):
    """The catalog in a PostgreSQL database; one connection per thread, opened on first use.

    `statement_timeout` (seconds; 0: none) bounds each statement of the connections that answer
    requests."""

    def __init__(self, url: str, statement_timeout: float = 0.0) -> None:
        self._conninfo, self.where, self._password = parse_url(url)
        self.statement_timeout = statement_timeout
        self._local = threading.local()
        self._lock = threading.Lock()
        self._migrated = False
        self._structures = StructureCache()
        self._members: dict[tuple[int, tuple[str, ...]], frozenset[str]] = {}
        self._term_counts: tuple[int, dict[str, int]] = (-1, {})

    def __repr__(self) -> str:
        return f"PostgresCatalog({self.where})"

    # -- connections ----------------------------------------------------------------------
    def _connect(self, statement_timeout: float | None = None) -> psycopg.Connection[Any]:
        """A new connection, the schema migrated, each statement bounded by `statement_timeout`
        (None: the catalog's)."""
        connection = psycopg.connect(self._conninfo, autocommit=True)
        try:
            # Every statement here is short: compiling one (JIT) costs more than running it.
            connection.execute("SET jit = off")
            with self._lock:
                migrated = self._migrated
            if not migrated:
                migrate(connection)
                with self._lock:
                    self._migrated = True
            seconds = self.statement_timeout if statement_timeout is None else statement_timeout
            # Set even when 0, so a default of the server or role does not apply either.
            connection.execute(f"SET statement_timeout = {_milliseconds(seconds)}")
        except BaseException:
            connection.close()
            raise
        return connection

    def _run(self, work: Callable[[psycopg.Connection[Any]], T]) -> T:
        """`work` on this thread's connection; a connection the server dropped since its last
        use (a restart) is replaced once, and an unreachable server raises
        CatalogUnavailableError."""
        for attempt in range(2):
            connection: psycopg.Connection[Any] | None = getattr(self._local, "connection", None)
            fresh = connection is None
            try:
                if connection is None:
                    connection = self._local.connection = self._connect()
                return work(connection)
            except psycopg.errors.QueryCanceled as exc:
                raise self._cancelled(exc) from None
            except psycopg.OperationalError as exc:
                if connection is not None and not connection.closed:
                    raise  # the statement's own failure (a deadlock, a cancel): no outage
                self.close()
                # A used connection fails once after a restart; work on a fresh one is final.
                # Every write here can be redone (a replaced version, a set value, a bump).
                if fresh or attempt:
                    raise self._unavailable(exc) from None
        raise AssertionError("unreachable")

    def _safe(self, exc: Exception) -> str:
        message = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
        return message.replace(self._password, "***") if self._password else message

    def _unavailable(self, exc: Exception) -> CatalogUnavailableError:
        """The error for a server that cannot be reached (where it is, why; no password)."""
        return CatalogUnavailableError(
            f"the catalog database {self.where} is unavailable: {self._safe(exc)}"
        )

    def _cancelled(self, exc: Exception) -> CatalogUnavailableError:
        """The error for a statement the server cancelled: past the statement timeout (a lock
        wait, an overloaded server), or by an administrator. The connection stays usable."""
        limit = self.statement_timeout
        hint = f" (catalog_statement_timeout = {limit:g} s)" if limit > 0 else ""
        return CatalogUnavailableError(
            f"the catalog database {self.where} is unavailable: {self._safe(exc)}{hint}"
        )

    def exists(self) -> bool:
        """Whether the database answers (its schema is made on the first connection)."""
        return self._run(lambda db: True)

    def close(self) -> None:
        """Close this thread's connection."""
        connection = getattr(self._local, "connection", None)
        self._local.connection = None
        if connection is not None:
            connection.close()

    def run(self, work: Callable[[psycopg.Connection[Any]], T]) -> T:
        """`work` on this thread's connection, as every catalog call runs (the accounts kept in
        this database use it too)."""
        return self._run(work)

    @contextmanager
    def transaction(self) -> Iterator[psycopg.Connection[Any]]:
        """This thread's connection in a transaction for the `with` block (committed at its end,
        rolled back on an error); CatalogUnavailableError when the server is lost meanwhile."""
        db = self._run(lambda db: db)
        try:
            with db.transaction():
                yield db
        except psycopg.errors.QueryCanceled as exc:
            raise self._cancelled(exc) from None
        except psycopg.OperationalError as exc:
            if not db.closed:
                raise
            self.close()  # the next call connects again
            raise self._unavailable(exc) from None

    def _rows(self, query: str, params: Sequence[Any] | dict[str, Any] = ()) -> list[Any]:
        return self._run(lambda db: db.execute(query, params).fetchall())

    def _write(self, query: str, params: Sequence[Any] = ()) -> None:
        """One statement of the index's writes (without the statement timeout)."""

        def work(db: psycopg.Connection[Any]) -> None:
            with _unbounded(db):
                db.execute(query, params)

        self._run(work)

    # -- metadata -------------------------------------------------------------------------
    def get_meta(self, key: str) -> str | None:
        """A stored metadata value."""
        rows = self._rows("SELECT value FROM meta WHERE key = %s", (key,))
        return str(rows[0][0]) if rows else None

    def set_meta(self, key: str, value: str) -> None:
        """Store a metadata value."""
        self._write(
            "INSERT INTO meta VALUES (%s, %s) "
            "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            (key, value),
        )

    def delete_meta(self, key: str) -> None:
        """Forget a metadata value."""
        self._write("DELETE FROM meta WHERE key = %s", (key,))

    # -- documents ------------------------------------------------------------------------
    def documents(self) -> dict[str, DocumentRecord]:
        """Every indexed document by absolute path."""
        rows = self._rows(f"SELECT {RECORD_COLUMNS} FROM documents ORDER BY source")
        return {row[1]: DocumentRecord(*row) for row in rows}

    def document(self, doc_id: str) -> DocumentRecord | None:
        """One indexed document's record by its id."""
        rows = self._rows(f"SELECT {RECORD_COLUMNS} FROM documents WHERE doc_id = %s", (doc_id,))
        return DocumentRecord(*rows[0]) if rows else None

    def document_structure(self, doc_id: str) -> Structure:
        """A document's extracted text, headings and page starts."""
        rows = self._rows("SELECT ingested_at FROM documents WHERE doc_id = %s", (doc_id,))
        if not rows:
            raise KeyError(doc_id)
        return self._structure(doc_id, rows[0][0])

    def _structure(self, doc_id: str, version: float) -> Structure:
        def load() -> Sequence[Any] | None:
            rows = self._rows(
                "SELECT ingested_at, text, headings, page_starts FROM documents WHERE doc_id = %s",
                (doc_id,),
            )
            return rows[0] if rows else None

        return self._structures.lookup(doc_id, version, load)

    def vector_ids(self, doc_id: str) -> list[str]:
        """Vector ids of a document's chunks."""
        rows = self._rows("SELECT chunk_id FROM chunks WHERE doc_id = %s ORDER BY id", (doc_id,))
        return [str(row[0]) for row in rows]

    def chunk_count(self, collections: Sequence[str] | None = None) -> int:
        """Number of chunks in the index, or in some collections."""
        # A document's row counts its chunks: no scan of the chunks.
        rows = self._rows(
            "SELECT coalesce(sum(chunks), 0) FROM documents WHERE %s OR collection = ANY(%s)",
            (collections is None, list(collections or ())),
        )
        return int(rows[0][0])

    def collections(self) -> dict[str, tuple[int, int]]:
        """Every collection with documents: name -> (documents, chunks)."""
        rows = self._rows(
            "SELECT collection, count(*), coalesce(sum(chunks), 0) FROM documents "
            "GROUP BY collection ORDER BY collection"
        )
        return {str(name): (int(docs), int(chunks)) for name, docs, chunks in rows}

    def collection_names(self) -> list[str]:
        """The names of every collection with documents, sorted."""
        rows = self._rows("SELECT DISTINCT collection FROM documents ORDER BY collection")
        return [str(row[0]) for row in rows]

    def doc_ids(self, collections: Sequence[str]) -> list[str]:
        """The documents of some collections."""
        rows = self._rows(
            "SELECT doc_id FROM documents WHERE collection = ANY(%s)", (list(collections),)
        )
        return [str(row[0]) for row in rows]

    def set_collection(self, doc_id: str, collection: str) -> None:
        """Move a document to another collection (its vectors' metadata is the caller's)."""

        def work(db: psycopg.Connection[Any]) -> None:
            with _unbounded(db):
                db.execute(
                    "UPDATE documents SET collection = %s WHERE doc_id = %s", (collection, doc_id)
                )
                _bump_generation(db)

        self._run(work)

    # -- the write journal ----------------------------------------------------------------
    def begin_document(self, doc_id: str, vector_ids: Sequence[str]) -> None:
        """Record vectors about to be written for a document that is not committed yet."""
        self._write(
            "INSERT INTO pending VALUES (%s, %s) "
            "ON CONFLICT (doc_id) DO UPDATE SET vector_ids = excluded.vector_ids",
            (doc_id, json.dumps(list(vector_ids))),
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
        # Tokenized before the transaction: it holds the generation's row lock meanwhile.
        tokens = tokenize([lexical_text(document, write.chunk) for write in writes])
        values = document_values(doc_id, path, document, len(writes), collection)
        blobs = [chunk_blobs(write) for write in writes]

        def work(db: psycopg.Connection[Any]) -> None:
            with _unbounded(db):
                _delete_document_rows(db, doc_id)
                _bump_generation(db)
                db.execute(
                    f"INSERT INTO documents ({DOCUMENT_COLUMNS}) VALUES ({_marks(values)})", values
                )
                # In the writes' order, so row ids (BM25's tie order) grow as in SQLite.
                rows = db.execute(
                    'INSERT INTO chunks (chunk_id, doc_id, ordinal, start, "end", '
                    "sentence_spans, sentence_vectors, context_vectors, length) "
                    "SELECT v.chunk_id, %s, v.ordinal, v.start, v.stop, v.spans, v.vectors, "
                    "v.contexts, v.length FROM unnest(%s::text[], %s::int[], %s::int[], "
                    "%s::int[], %s::bytea[], %s::bytea[], %s::bytea[], %s::int[]) WITH ORDINALITY "
                    "AS v (chunk_id, ordinal, start, stop, spans, vectors, contexts, length, n) "
                    "ORDER BY v.n RETURNING id, chunk_id",
                    (
                        doc_id,
                        [write.vector_id for write in writes],
                        [write.chunk.ordinal for write in writes],
                        [write.chunk.start for write in writes],
                        [write.chunk.end for write in writes],
                        [blob[0] for blob in blobs],
                        [blob[1] for blob in blobs],
                        [blob[2] for blob in blobs],
                        [len(chunk_tokens) for chunk_tokens in tokens],
                    ),
                ).fetchall()
                row_ids = dict((chunk_id, row_id) for row_id, chunk_id in rows)
                lexical_pg.add_rows(db, [row_ids[write.vector_id] for write in writes], tokens)
                db.execute("DELETE FROM pending WHERE doc_id = %s", (doc_id,))

        self._run(work)

    def rename_document(
        self,
        doc_id: str,
        new_doc_id: str,
        path: str,
        source: str,
        collection: str,
        vector_ids: dict[str, str],
    ) -> None:
        """Move a document to another path, keeping its text, chunks and BM25 rows."""

        def work(db: psycopg.Connection[Any]) -> None:
            with _unbounded(db):
                if new_doc_id != doc_id:
                    _delete_document_rows(db, new_doc_id)
                with db.cursor() as cursor:
                    cursor.executemany(
                        "UPDATE chunks SET chunk_id = %s, doc_id = %s WHERE chunk_id = %s",
                        [(new, new_doc_id, old) for old, new in vector_ids.items()],
                    )
                    cursor.executemany(
                        "INSERT INTO garbage VALUES (%s) ON CONFLICT DO NOTHING",
                        [(old,) for old, new in vector_ids.items() if old != new],
                    )
                db.execute(
                    "UPDATE documents SET doc_id = %s, path = %s, source = %s, collection = %s "
                    "WHERE doc_id = %s",
                    (new_doc_id, path, source, collection, doc_id),
                )
                db.execute("DELETE FROM pending WHERE doc_id = %s", (new_doc_id,))
                _bump_generation(db)

        self._run(work)

    def remove_document(self, doc_id: str) -> None:
        """Remove a document; its vectors are queued for deletion."""

        def work(db: psycopg.Connection[Any]) -> None:
            with _unbounded(db):
                _delete_document_rows(db, doc_id)
                _bump_generation(db)

        self._run(work)

    def pending(self) -> dict[str, list[str]]:
        """Vector writes of documents that were never committed."""
        rows = self._rows("SELECT doc_id, vector_ids FROM pending")
        return {str(row[0]): json.loads(row[1]) for row in rows}

    def clear_pending(self, doc_id: str) -> None:
        """Forget a pending write (after its vectors were deleted)."""
        self._write("DELETE FROM pending WHERE doc_id = %s", (doc_id,))

    def garbage(self) -> list[str]:
        """Vector ids that no committed chunk uses any more."""
        live = "SELECT 1 FROM chunks WHERE chunks.chunk_id = garbage.vector_id"
        rows = self._rows(f"SELECT vector_id FROM garbage WHERE NOT EXISTS ({live})")
        return [str(row[0]) for row in rows]

    def clear_garbage(self, vector_ids: Iterable[str]) -> None:
        """Forget garbage whose vectors were deleted."""
        self._write("DELETE FROM garbage WHERE vector_id = ANY(%s)", (list(vector_ids),))

    def reset(self) -> None:
        """Delete every document and journal entry."""

        def work(db: psycopg.Connection[Any]) -> None:
            with _unbounded(db):
                for table in ("postings", "chunks", "documents", "pending", "garbage"):
                    db.execute(f"DELETE FROM {table}")
                lexical_pg.clear_rows(db)
                _bump_generation(db)

        self._run(work)

    @contextmanager
    def writer_lock(self, timeout: float) -> Iterator[None]:
        """A session-level advisory lock on a connection of its own, so writers on any host
        take turns; released when the block ends (at once: others see it free when this
        returns), and by the server when the connection is lost."""
        try:
            connection = psycopg.connect(self._conninfo, autocommit=True)
        except psycopg.OperationalError as exc:
            raise self._unavailable(exc) from None
        held = False
        try:
            deadline = time.monotonic() + timeout
            while not connection.execute(
                "SELECT pg_try_advisory_lock(%s)", (_WRITER_LOCK,)
            ).fetchone()[0]:  # type: ignore[index]
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise IndexBusyError(
                        f"another ingest is writing to the catalog {self.where}; "
                        "try again when it ends"
                    )
                time.sleep(min(_LOCK_POLL, remaining))
            held = True
            yield
        finally:
            # Closing alone releases it only once the server has ended the session, a moment
            # later; a lost connection needs nothing.
            if held and not connection.closed:
                with contextlib.suppress(psycopg.Error):
                    connection.execute("SELECT pg_advisory_unlock(%s)", (_WRITER_LOCK,))
            connection.close()

    def writer_busy(self) -> bool:
        """Whether a session holds the writer lock (read from pg_locks: asking takes nothing)."""
        rows = self._rows(
            "SELECT EXISTS (SELECT 1 FROM pg_locks WHERE locktype = 'advisory' AND granted "
            "AND database = (SELECT oid FROM pg_database WHERE datname = current_database()) "
            "AND classid::bigint = %s AND objid::bigint = %s AND objsubid = 1)",
            (_WRITER_LOCK >> 32, _WRITER_LOCK & 0xFFFFFFFF),
        )
        return bool(rows[0][0])

    def optimize(self) -> None:
        """After a batch of writes: VACUUM and ANALYZE the postings, so BM25 reads the new
        ones from the index alone and the planner knows the terms' sizes (pages unchanged
        since the last VACUUM are skipped). On a connection of its own without the statement
        timeout (VACUUM cannot run in a transaction, where SET LOCAL would lift it)."""
        try:
            connection = self._connect(statement_timeout=0)
        except psycopg.OperationalError as exc:
            raise self._unavailable(exc) from None
        try:
            connection.execute("VACUUM (ANALYZE) postings")
        except psycopg.OperationalError as exc:
            if not connection.closed:
                raise
            raise self._unavailable(exc) from None
        finally:
            connection.close()

    # -- reading --------------------------------------------------------------------------
    def chunks(
        self, vector_ids: Sequence[str], collections: Sequence[str] | None = None
    ) -> dict[str, ChunkRow]:
        """Committed chunks by vector id; ids without a committed chunk are left out, and with
        `collections` those of other collections (in the same statement)."""
        if not vector_ids or (collections is not None and not collections):
            return {}
        allowed = "" if collections is None else " AND d.collection = ANY(%s)"
        params: list[Any] = [list(vector_ids)]
        if collections is not None:
            params.append(list(collections))

        def read(db: psycopg.Connection[Any]) -> tuple[list[Any], dict[str, Any]]:
            # One snapshot for the chunks and their documents' texts, read in one query for
            # every document not kept (binary: the vectors' bytes as they are, not in hex).
            with db.transaction():
                db.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY")
                rows = db.execute(
                    'SELECT c.chunk_id, c.doc_id, d.source, d.title, c.start, c."end", '
                    "d.ingested_at, c.sentence_spans, c.sentence_vectors, c.context_vectors "
                    "FROM chunks c JOIN documents d USING (doc_id) WHERE c.chunk_id = ANY(%s)"
                    + allowed,
                    params,
                    binary=True,
                ).fetchall()
                missing = self._structures.missing({row[1]: row[6] for row in rows})
                texts = db.execute(
                    "SELECT doc_id, ingested_at, text, headings, page_starts FROM documents "
                    "WHERE doc_id = ANY(%s)",
                    (missing,),
                ).fetchall()
            return rows, {row[0]: row[1:] for row in texts}

        rows, texts = self._run(read)
        result = {}
        for doc_id, row in texts.items():
            self._structures.put(doc_id, row)
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
        """FTS5's BM25 ranking of chunks containing any of the terms (or every one), best
        first."""
        if not query_terms or (collections is not None and not collections) or limit <= 0:
            return []
        query = self._run(lambda db: lexical_pg.phrases(db, query_terms))
        counts = self.term_counts([token for token, _ in query.single])  # kept per state
        return self._run(
            lambda db: lexical_pg.ranking(db, query, counts, limit, collections, every_term)
        )

    def term_counts(
        self, query_terms: Sequence[str], collections: Sequence[str] | None = None
    ) -> dict[str, int]:
        """How many chunks hold each term (0 for a term the corpus never uses)."""
        if not query_terms or (collections is not None and not collections):
            return {term: 0 for term in query_terms}
        if collections is not None:
            return self._run(lambda db: lexical_pg.term_counts(db, query_terms, collections))
        # One round trip for the terms not counted yet: counts are kept per generation.
        generation = self.generation()
        with self._lock:
            if self._term_counts[0] != generation or len(self._term_counts[1]) > _COUNTS_KEPT:
                self._term_counts = (generation, {})
            kept = self._term_counts[1]
            missing = [term for term in dict.fromkeys(query_terms) if term not in kept]
        if missing:
            found = self._run(lambda db: lexical_pg.term_counts(db, missing, None))
            with self._lock:
                if self._term_counts[0] == generation:
                    self._term_counts[1].update(found)
        else:
            found = {}
        return {term: found[term] if term in found else kept[term] for term in query_terms}

    def sentence_count(self) -> int:
        """How many sentences the committed chunks hold (each span is two int32)."""
        rows = self._rows(
            "SELECT COALESCE(SUM(length(c.sentence_spans)), 0) / 8 "
            "FROM chunks c JOIN documents d USING (doc_id)"
        )
        return int(rows[0][0])

    def sentence_rows(self) -> Iterator[tuple[str, bytes]]:
        """Every committed chunk's id with its sentences' vectors, a page of chunks at a time
        (by chunk id: a change between pages is read again at the next generation)."""
        after = ""
        while True:
            rows = self._run(partial(_sentence_page, after=after))
            for chunk_id, vectors in rows:
                yield str(chunk_id), bytes(vectors)
            if len(rows) < SENTENCE_PAGE:
                return
            after = str(rows[-1][0])

    def chunk_ids_of(self, collections: Sequence[str]) -> frozenset[str]:
        """The ids of some collections' chunks (cached per generation)."""
        key = (self.generation(), tuple(sorted(set(collections))))
        found = self._members.get(key)
        if found is None:
            rows = self._rows(
                "SELECT c.chunk_id FROM chunks c JOIN documents d USING (doc_id) "
                "WHERE d.collection = ANY(%s)",
                (list(key[1]),),
            )
            found = frozenset(str(row[0]) for row in rows)
            if len(self._members) >= 16:
                self._members.clear()
            self._members[key] = found
        return found


# Terms' chunk counts kept until the next generation: at most this many.
_COUNTS_KEPT = 100_000


def _bump_generation(db: psycopg.Connection[Any]) -> None:
    # In the transaction of the change it announces: readers never see one without the other.
    db.execute(
        "INSERT INTO meta VALUES (%s, '1') "
        "ON CONFLICT (key) DO UPDATE SET value = (meta.value::bigint + 1)::text",
        (GENERATION,),
    )


def _delete_document_rows(db: psycopg.Connection[Any], doc_id: str) -> None:
    db.execute(
        "INSERT INTO garbage SELECT chunk_id FROM chunks WHERE doc_id = %s ON CONFLICT DO NOTHING",
        (doc_id,),
    )
    lexical_pg.remove_rows(db, doc_id)
    db.execute("DELETE FROM chunks WHERE doc_id = %s", (doc_id,))  # postings cascade
    db.execute("DELETE FROM documents WHERE doc_id = %s", (doc_id,))


@contextmanager
def _unbounded(db: psycopg.Connection[Any]) -> Iterator[None]:
    """A transaction of the index's writes, without the statement timeout: an ingest or a copy
    may rightly take long, and a write cut half-way is worse than a wait."""
    with db.transaction():
        db.execute("SET LOCAL statement_timeout = 0")
        yield


def _milliseconds(seconds: float) -> int:
    """A timeout in seconds as PostgreSQL's milliseconds (0: none; never rounded to none)."""
    return max(1, round(seconds * 1000)) if seconds > 0 else 0


def _marks(values: Sequence[object]) -> str:
    return ", ".join(["%s"] * len(values))
