"""SQLite FTS5's tokenizer (unicode61) as a function, for the PostgreSQL catalog's postings.

The embedded catalog's lexical index is FTS5; the server catalog stores postings made by the
very same tokenizer (an in-memory FTS5 table per thread), so both index the same tokens and
rank alike by construction, whatever Unicode a term holds (FTS5 folds case and diacritics and
may split a word the assistant's terms keep whole).
"""

from __future__ import annotations

import sqlite3
import threading
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


def postings(tokens: Sequence[str]) -> dict[str, list[int]]:
    """Each token's positions in a row."""
    found: dict[str, list[int]] = {}
    for position, token in enumerate(tokens):
        found.setdefault(token, []).append(position)
    return found


def phrase_hits(
    phrase: Sequence[str], rows: Iterable[tuple[str, int, Sequence[int]]]
) -> dict[int, int]:
    """How often each row holds `phrase` (its tokens at consecutive positions), from the
    (token, row, positions) postings of the phrase's tokens."""
    by_row: dict[int, dict[str, set[int]]] = {}
    for token, row, positions in rows:
        by_row.setdefault(row, {})[token] = set(positions)
    hits = {}
    for row, found in by_row.items():
        if all(token in found for token in phrase):
            count = sum(
                all(start + i in found[token] for i, token in enumerate(phrase))
                for start in found[phrase[0]]
            )
            if count:
                hits[row] = count
    return hits
