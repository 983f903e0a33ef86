"""The embedded catalog's lexical leg: BM25 over SQLite FTS5, and how many chunks hold a term.

The catalog (`catalog_sqlite.py`) writes a chunk's terms into the FTS5 table `chunk_terms` and
keeps `term_chunks`, each FTS5 token's count of chunks, in the same transaction; this module
reads both, and keeps the counts (`keep_term_chunks`). The PostgreSQL catalog's counterpart is
`lexical_pg.py`, which computes the same scores.
"""

from __future__ import annotations

import sqlite3
from collections import Counter
from collections.abc import Sequence, Sized

_TERM_CHUNKS = "term_chunks"


def term_chunks_exact(db: sqlite3.Connection) -> bool:
    """Whether the `term_chunks` table holds every term's chunk count."""
    return db.execute("SELECT 1 FROM meta WHERE key = ?", (_TERM_CHUNKS,)).fetchone() is not None


def keep_term_chunks(db: sqlite3.Connection, added: Counter[str], removed: Counter[str]) -> None:
    """Apply a write's change of each term's chunk count, and mark the table exact again (its
    chunk writes dropped the mark), in the write's transaction."""
    delta = Counter(added)
    delta.subtract(removed)
    db.executemany(
        "INSERT INTO term_chunks VALUES (?, ?) "
        "ON CONFLICT(term) DO UPDATE SET chunks = chunks + excluded.chunks",
        [(term, change) for term, change in delta.items() if change],
    )
    db.executemany(
        "DELETE FROM term_chunks WHERE term = ? AND chunks <= 0",
        [(term,) for term, change in delta.items() if change < 0],
    )
    mark_term_chunks_exact(db)


def mark_term_chunks_exact(db: sqlite3.Connection) -> None:
    """Record that the `term_chunks` table holds every term's chunk count."""
    db.execute("INSERT OR REPLACE INTO meta VALUES (?, '1')", (_TERM_CHUNKS,))


def search(
    db: sqlite3.Connection,
    query_terms: Sequence[str],
    limit: int,
    allowed: frozenset[int] | None,
    every_term: bool,
) -> list[tuple[str, float]]:
    """The `limit` best chunks by BM25 holding any of the terms (or every one), best first:
    (chunk id, score); only full-text rows in `allowed` when given, filtered before the cut."""
    expression = (" AND " if every_term else " OR ").join(phrase(t) for t in query_terms)
    if allowed is None:
        rows = db.execute(
            "SELECT c.chunk_id, -bm25(chunk_terms) AS score FROM chunk_terms "
            "JOIN chunks c ON c.id = chunk_terms.rowid "
            "WHERE chunk_terms MATCH ? ORDER BY rank LIMIT ?",
            (expression, limit),
        ).fetchall()
    else:
        # Best first over the whole full-text index (no join per row), keeping the allowed
        # collections' rows until `limit` of them are found: the filter before the cut.
        kept: list[tuple[int, float]] = []
        for rowid, score in db.execute(
            "SELECT rowid, -bm25(chunk_terms) FROM chunk_terms WHERE chunk_terms MATCH ? "
            "ORDER BY rank",
            (expression,),
        ):
            if rowid in allowed:
                kept.append((int(rowid), float(score)))
                if len(kept) == limit:
                    break
        if not kept:
            return []
        ids = dict(
            db.execute(
                f"SELECT id, chunk_id FROM chunks WHERE id IN ({marks(kept)})",
                [rowid for rowid, _ in kept],
            ).fetchall()
        )
        rows = [(ids[rowid], score) for rowid, score in kept if rowid in ids]
    return [(str(row[0]), float(row[1])) for row in rows]


def chunk_counts(
    db: sqlite3.Connection, query_terms: Sequence[str], kept: dict[object, int]
) -> dict[str, int]:
    """How many chunks hold each term (0 for a term the corpus never uses), over the whole
    index; `kept` holds the counts read before (and gains these) until the index changes."""
    missing = [term for term in dict.fromkeys(query_terms) if ("term", term) not in kept]
    for term in missing:
        kept[("term", term)] = 0
    if missing:
        if _TERM_CHUNKS not in kept:
            kept[_TERM_CHUNKS] = int(term_chunks_exact(db))
        # The kept table when it is exact (a row a term); else FTS5's vocabulary.
        table = "term_chunks" if kept[_TERM_CHUNKS] else "chunk_vocab"
        column = "chunks" if kept[_TERM_CHUNKS] else "doc"
        for term, count in db.execute(
            f"SELECT term, {column} FROM {table} WHERE term IN ({marks(missing)})", missing
        ):
            kept[("term", str(term))] = int(count)
    return {term: kept[("term", term)] for term in query_terms}


def chunk_counts_in(
    db: sqlite3.Connection, query_terms: Sequence[str], allowed: frozenset[int]
) -> dict[str, int]:
    """How many of the `allowed` full-text rows hold each term: each term's rows from the
    full-text index alone (no join per row), kept when they are allowed."""
    counts = dict.fromkeys(query_terms, 0)
    for term in counts:
        rows = db.execute(
            "SELECT rowid FROM chunk_terms WHERE chunk_terms MATCH ?", (phrase(term),)
        )
        counts[term] = sum(1 for (rowid,) in rows if rowid in allowed)
    return counts


def phrase(term: str) -> str:
    """An FTS5 string literal matching exactly one term."""
    return '"' + term.replace('"', '""') + '"'


def marks(values: Sized) -> str:
    """One SQL parameter mark for each value: "?,?,?"."""
    return ",".join("?" * len(values))
