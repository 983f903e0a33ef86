"""The embedded catalog's reads: chunks with their documents' text (a structure kept per
document version), FTS5's BM25 ranking and the terms' chunk counts (assistant.lexical_sqlite),
counts kept per thread until the index changes, every sentence vector, and collections' chunks.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from assistant import lexical_sqlite
from assistant.catalog import Catalog, ChunkRow, Structure
from assistant.catalog_rows import StructureCache, chunk_rows
from assistant.catalog_sqlite_file import SqliteCatalogFile
from assistant.lexical_sqlite import marks

# Chunk sets of collections kept (distinct grants x collections asked for, per generation).
# At a million chunks one set of a tenth of them is ~15 MB: a few dozen would be too many.
_MEMBERS_CACHE_ENTRIES = 16


@dataclass(frozen=True)
class _Members:
    """The chunks of some collections: full-text rows and vector ids."""

    rows: frozenset[int]
    chunk_ids: frozenset[str]


class SqliteReads(SqliteCatalogFile, Catalog):
    """The catalog's reads on this thread's connection, with what they keep between calls."""

    def __init__(self, path: Path) -> None:
        super().__init__(path)
        self._structures = StructureCache()
        self._members_cache: dict[tuple[int, tuple[str, ...]], _Members] = {}

    def _structure(self, doc_id: str, version: float) -> Structure:
        return self._structures.lookup(
            doc_id,
            version,
            lambda: self.db.execute(
                "SELECT ingested_at, text, headings, page_starts FROM documents WHERE doc_id = ?",
                (doc_id,),
            ).fetchone(),
        )

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
        return chunk_rows(rows, self._structure)

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


# Counts kept per thread until the index changes (chunks, and terms' chunks): at most this many.
_COUNTS_KEPT = 100_000
