"""The PostgreSQL catalog's reads: chunks with their documents' text (a structure kept per
document version), FTS5's BM25 ranking and the terms' chunk counts (kept per generation) over
assistant.lexical_pg's postings, every sentence vector a page at a time, and collections' chunk
ids.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from functools import partial
from typing import Any

import psycopg

from assistant import lexical_pg
from assistant.catalog import Catalog, ChunkRow, Structure
from assistant.catalog_pg_connection import PostgresConnections
from assistant.catalog_rows import StructureCache, chunk_rows

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


class PostgresReads(PostgresConnections, Catalog):
    """The catalog's reads on this thread's connection, with what they keep between calls."""

    def __init__(self, url: str, statement_timeout: float = 0.0) -> None:
        super().__init__(url, statement_timeout)
        self._structures = StructureCache()
        self._members: dict[tuple[int, tuple[str, ...]], frozenset[str]] = {}
        self._term_counts: tuple[int, dict[str, int]] = (-1, {})

    def _structure(self, doc_id: str, version: float) -> Structure:
        def load() -> Sequence[Any] | None:
            rows = self._rows(
                "SELECT ingested_at, text, headings, page_starts FROM documents WHERE doc_id = %s",
                (doc_id,),
            )
            return rows[0] if rows else None

        return self._structures.lookup(doc_id, version, load)

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
        for doc_id, row in texts.items():
            self._structures.put(doc_id, row)
        return chunk_rows(rows, self._structure)

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
