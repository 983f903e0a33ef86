"""The embedded catalog: one SQLite file with documents, chunks, the BM25 (FTS5) index and a
write journal (the `Catalog` interface of assistant.catalog).

SQLite gives the atomicity the vector store lacks: a document's text, chunks and lexical terms
change in one transaction, and the journal (`pending`, `garbage`) records vector writes that
are not yet matched by a committed catalog state, so an interrupted ingest can be repaired.
Readers use WAL mode and never block the writer.

Built in layers: the file, its schema and the writer lock (assistant.catalog_sqlite_file), the
reads on it (assistant.catalog_sqlite_reads), and here the metadata, the documents and the writes.
"""

from __future__ import annotations

import json
import sqlite3
from collections import Counter
from collections.abc import Iterable, Sequence

from assistant.catalog import (
    GENERATION,
    ChunkWrite,
    DocumentRecord,
    Structure,
    lexical_text,
)
from assistant.catalog_rows import (
    DOCUMENT_COLUMNS,
    RECORD_COLUMNS,
    chunk_blobs,
    document_values,
)
from assistant.catalog_sqlite_reads import SqliteReads
from assistant.collections import DEFAULT_COLLECTION
from assistant.fts_tokens import rows_holding, tokenize
from assistant.lexical_sqlite import (
    keep_term_chunks,
    mark_term_chunks_exact,
    marks,
    term_chunks_exact,
)
from assistant.types import Document


def _bump_generation(db: sqlite3.Connection) -> None:
    # In the same transaction as the change it announces, so readers never see one without
    # the other.
    db.execute(
        "INSERT INTO meta VALUES (?, '1') "
        "ON CONFLICT(key) DO UPDATE SET value = CAST(value AS INTEGER) + 1",
        (GENERATION,),
    )


class SqliteCatalog(SqliteReads):
    """The catalog in one SQLite file; one connection per thread."""

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

    def vector_ids(self, doc_id: str) -> list[str]:
        """Vector ids of a document's chunks."""
        rows = self.db.execute("SELECT chunk_id FROM chunks WHERE doc_id = ?", (doc_id,))
        return [str(row[0]) for row in rows]

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
