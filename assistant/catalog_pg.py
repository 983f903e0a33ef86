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

Built in layers: the connections, their errors and the writer lock
(assistant.catalog_pg_connection), the reads on them (assistant.catalog_pg_reads), and here the
metadata, the documents and the writes.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import psycopg

from assistant import lexical_pg
from assistant.catalog import (
    GENERATION,
    ChunkWrite,
    DocumentRecord,
    Structure,
    lexical_text,
)
from assistant.catalog_pg_reads import PostgresReads
from assistant.catalog_rows import (
    DOCUMENT_COLUMNS,
    RECORD_COLUMNS,
    chunk_blobs,
    document_values,
)
from assistant.collections import DEFAULT_COLLECTION
from assistant.fts_tokens import tokenize
from assistant.types import Document


class PostgresCatalog(PostgresReads):
    """The catalog in a PostgreSQL database; one connection per thread, opened on first use.

    `statement_timeout` (seconds; 0: none) bounds each statement of the connections that answer
    requests."""

    def __repr__(self) -> str:
        return f"PostgresCatalog({self.where})"

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


def _marks(values: Sequence[object]) -> str:
    return ", ".join(["%s"] * len(values))
