"""The tokens FTS5's unicode61 tokenizer makes of a text, for the catalogs that need them outside
FTS5 itself: the PostgreSQL catalog indexes them as its postings, and the embedded catalog counts
each term's chunks as it commits them. One in-memory SQLite table per thread does the reading, so
the tokens are exactly the ones `chunk_terms` indexes (case and diacritics folded, words split
where FTS5 splits them)."""

from __future__ import annotations

import sqlite3
import threading
from collections import Counter
from collections.abc import Iterable, Sequence

_local = threading.local()


def _tokenizer() -> sqlite3.Connection:
    db: sqlite3.Connection | None = getattr(_local, "db", None)
    if db is None:
        db = sqlite3.connect(":memory:")
        db.execute("CREATE VIRTUAL TABLE t USING fts5(terms, tokenize = 'unicode61')")
        db.execute("CREATE VIRTUAL TABLE v USING fts5vocab(t, 'instance')")
        _local.db = db
    return db


def tokenize(texts: Sequence[str]) -> list[list[str]]:
    """Each text's tokens in order, as FTS5's unicode61 tokenizer reads it."""
    if not texts:
        return []
    db = _tokenizer()
    tokens: list[list[str]] = [[] for _ in texts]
    with db:
        db.executemany(
            "INSERT INTO t (rowid, terms) VALUES (?, ?)",
            [(row, text) for row, text in enumerate(texts, 1)],
        )
        for term, row, _ in db.execute("SELECT term, doc, offset FROM v ORDER BY doc, offset"):
            tokens[row - 1].append(str(term))
        db.execute("DELETE FROM t")
    return tokens


def rows_holding(rows: Iterable[Sequence[str]]) -> Counter[str]:
    """How many of the rows (each its tokens) hold each token (FTS5's vocabulary count of rows,
    for these rows)."""
    counts: Counter[str] = Counter()
    for tokens in rows:
        counts.update(set(tokens))
    return counts
