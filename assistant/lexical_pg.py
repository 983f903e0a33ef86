"""The PostgreSQL catalog's lexical leg: SQLite FTS5's BM25, computed in SQL over postings.

The embedded catalog's lexical index is FTS5. Here the postings (token, chunk row, frequency,
positions) are made by the very same tokenizer (FTS5's unicode61, in an in-memory SQLite table
per thread), so both index the same tokens whatever Unicode a term holds (FTS5 folds case and
diacritics, and may split a word the assistant's terms keep whole). The ranking is FTS5's
bm25() (fts5_aux.c) term by term, in its order of operations, so the scores are the same
doubles:

    idf   = log((N - n + 0.5) / (n + 0.5)), at least 1e-6   (n: rows holding the phrase)
    score = sum over the query's phrases, in order, of
            idf * (f * (k1 + 1)) / (f + k1 * (1 - b + b * D / avgdl))

with k1 1.2, b 0.75, D a row's tokens, avgdl the tokens of all rows over N; ties go to the
earlier stored row, as FTS5's `ORDER BY rank` gives them.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import psycopg

from assistant.catalog import BM25_B, BM25_K1
from assistant.fts_tokens import rows_holding, tokenize

# Each query phrase's rows and frequency: one-token phrases from the postings' index, longer
# ones (found by their tokens' positions, here) as arrays.
_HITS = """
hits (phrase, row_id, tf, length) AS (
    SELECT q.phrase, p.row_id, p.tf, p.length
    FROM unnest(%(terms)s::text[], %(phrases)s::int[]) AS q (term, phrase)
    JOIN postings p ON p.term = q.term
    UNION ALL
    SELECT * FROM unnest(
        %(more_phrases)s::int[], %(more_rows)s::bigint[], %(more_tfs)s::int[],
        %(more_lengths)s::int[]
    )
)"""
# Each hit's share of its row's score: its phrase's IDF (from the phrases' row counts, known
# before the query) times the term-frequency part, with the chunk length the posting keeps.
_SHARES = f"""
WITH {_HITS},
idf (phrase, x) AS (
    SELECT (u.ord - 1)::int, ln((((SELECT chunks FROM lexical_totals) - u.n)::float8
        + 0.5::float8) / (u.n::float8 + 0.5::float8))
    FROM unnest(%(counts)s::bigint[]) WITH ORDINALITY AS u (n, ord)
),
shares AS (
    SELECT h.row_id, h.phrase,
        (CASE WHEN i.x <= 0 THEN 1e-6::float8 ELSE i.x END)
        * ((h.tf::float8 * %(k1_plus_1)s::float8)
           / (h.tf::float8 + %(k1)s::float8 * ((1::float8 - %(b)s::float8)
              + %(b)s::float8 * h.length::float8
              / (SELECT tokens::float8 / chunks::float8 FROM lexical_totals)))) AS share
    FROM hits h JOIN idf i USING (phrase)
    {{where}}
)"""
_IN_COLLECTIONS = (
    "WHERE h.row_id IN (SELECT c.id FROM chunks c JOIN documents d USING (doc_id) "
    "WHERE d.collection = ANY(%(collections)s))"
)


def _ranking_query(phrases: int, restricted: bool, every_term: bool = False) -> str:
    """The ranking for a query of `phrases` phrases: a row's shares summed in phrase order
    (one column per phrase, then added left to right), as FTS5 adds them, so the scores are
    the same doubles, without sorting every row's hits (an ordered aggregate). With
    `every_term`, only rows holding every phrase (FTS5's AND)."""
    columns = ", ".join(f"max(share) FILTER (WHERE phrase = {i}) AS s{i}" for i in range(phrases))
    total = "0::float8"
    for i in range(phrases):
        total = f"({total} + coalesce(s{i}, 0::float8))"
    having = f" HAVING count(DISTINCT phrase) = {phrases}" if every_term else ""
    return f"""{_SHARES.format(where=_IN_COLLECTIONS if restricted else "")},
by_row AS (SELECT row_id, {columns} FROM shares GROUP BY row_id{having}),
scored AS (
    SELECT row_id, {total} AS score FROM by_row ORDER BY score DESC, row_id LIMIT %(limit)s
)
SELECT c.chunk_id, s.score FROM scored s JOIN chunks c ON c.id = s.row_id
ORDER BY s.score DESC, s.row_id
"""


@dataclass(frozen=True)
class Phrases:
    """A query's phrases as FTS5 reads its terms: phrase i is query term i's tokens. One-token
    phrases are looked up in the postings' index; longer ones were matched here, by positions."""

    single: tuple[tuple[str, int], ...]  # (token, phrase)
    more: tuple[tuple[int, int, int, int], ...]  # (phrase, row, frequency, row length)
    count: int  # phrases in all (terms with no token make none)

    def rows_holding(self, token_counts: dict[str, int]) -> list[int]:
        """Each phrase's row count (BM25's n), from the one-token phrases' counts."""
        counts = [0] * self.count
        for token, phrase in self.single:
            counts[phrase] = token_counts.get(token, 0)
        for phrase, *_ in self.more:
            counts[phrase] += 1
        return counts


def phrases(db: psycopg.Connection[Any], query_terms: Sequence[str]) -> Phrases:
    """The query terms' phrases; a longer phrase's rows found from its tokens' positions."""
    single: list[tuple[str, int]] = []
    more: list[tuple[int, int, int]] = []
    tokenized = tokenize(list(query_terms))
    for phrase, tokens in enumerate(tokenized):
        if len(tokens) == 1:
            single.append((tokens[0], phrase))
        elif tokens:
            rows = db.execute(
                "SELECT term, row_id, positions FROM postings WHERE term = ANY(%s)", (tokens,)
            ).fetchall()
            more += [(phrase, row, tf) for row, tf in phrase_hits(tokens, rows).items()]
    lengths: dict[int, int] = {}
    if more:
        found = db.execute(
            "SELECT id, length FROM chunks WHERE id = ANY(%s)", ([hit[1] for hit in more],)
        ).fetchall()
        lengths = {int(row_id): int(length) for row_id, length in found}
    return Phrases(
        tuple(single),
        tuple((phrase, row, tf, lengths[row]) for phrase, row, tf in more if row in lengths),
        len(tokenized),
    )


def ranking(
    db: psycopg.Connection[Any],
    query: Phrases,
    token_counts: dict[str, int],
    limit: int,
    collections: Sequence[str] | None,
    every_term: bool = False,
) -> list[tuple[str, float]]:
    """The best `limit` chunks for the phrases (of `collections` only, when given), as FTS5's
    `MATCH "t1" OR "t2" ... ORDER BY rank` over the whole index gives them (with
    `every_term`, `"t1" AND "t2" ...`). `token_counts`: the rows holding each one-token
    phrase's token (the catalog keeps them per index state)."""
    if not query.single and not query.more:
        return []
    params = {
        **_hits_params(query),
        "counts": query.rows_holding(token_counts),
        "k1": BM25_K1,
        "k1_plus_1": BM25_K1 + 1.0,
        "b": BM25_B,
        "collections": list(collections or ()),
        "limit": limit,
    }
    sql = _ranking_query(query.count, collections is not None, every_term)
    rows = db.execute(sql, params).fetchall()
    return [(str(chunk_id), float(score)) for chunk_id, score in rows]


def term_counts(
    db: psycopg.Connection[Any], query_terms: Sequence[str], collections: Sequence[str] | None
) -> dict[str, int]:
    """How many chunks hold each term: over the whole index, as FTS5's vocabulary table counts
    (rows holding the term as one token); over some collections, as FTS5's MATCH finds it."""
    counts = {term: 0 for term in query_terms}
    if collections is None:
        rows = db.execute(
            "SELECT term, chunks FROM term_chunks WHERE term = ANY(%s)", (list(counts),)
        ).fetchall()
        counts.update({str(term): int(count) for term, count in rows})
        return counts
    ordered = list(counts)
    rows = db.execute(
        f"WITH {_HITS} SELECT h.phrase, count(*) FROM hits h "
        "JOIN chunks c ON c.id = h.row_id JOIN documents d USING (doc_id) "
        "WHERE d.collection = ANY(%(collections)s) GROUP BY h.phrase",
        {**_hits_params(phrases(db, ordered)), "collections": list(collections)},
    ).fetchall()
    counts.update({ordered[phrase]: int(count) for phrase, count in rows})
    return counts


def add_rows(
    db: psycopg.Connection[Any], row_ids: Sequence[int], tokens: Sequence[Sequence[str]]
) -> None:
    """Index new chunk rows (their ids and tokens), in the caller's transaction."""
    with db.cursor().copy("COPY postings (term, row_id, tf, positions, length) FROM STDIN") as copy:
        for row_id, row_tokens in zip(row_ids, tokens, strict=True):
            for term, positions in postings(row_tokens).items():
                copy.write_row((term, row_id, len(positions), positions, len(row_tokens)))
    db.execute(
        "UPDATE lexical_totals SET chunks = chunks + %s, tokens = tokens + %s",
        (len(row_ids), sum(len(row_tokens) for row_tokens in tokens)),
    )
    counts = rows_holding(tokens)
    db.execute(
        "INSERT INTO term_chunks SELECT * FROM unnest(%s::text[], %s::bigint[]) "
        "ON CONFLICT (term) DO UPDATE SET chunks = term_chunks.chunks + excluded.chunks",
        (list(counts), list(counts.values())),
    )


def remove_rows(db: psycopg.Connection[Any], doc_id: str) -> None:
    """Take a document's chunk rows out of the totals and the terms' chunk counts, before
    they are deleted (their postings go with them)."""
    db.execute(
        "UPDATE lexical_totals SET chunks = lexical_totals.chunks - gone.chunks, "
        "tokens = lexical_totals.tokens - gone.tokens FROM (SELECT count(*) AS chunks, "
        "coalesce(sum(length), 0) AS tokens FROM chunks WHERE doc_id = %s) AS gone",
        (doc_id,),
    )
    counted = db.execute(
        "UPDATE term_chunks SET chunks = term_chunks.chunks - gone.chunks FROM (SELECT p.term, "
        "count(*) AS chunks FROM postings p JOIN chunks c ON c.id = p.row_id "
        "WHERE c.doc_id = %s GROUP BY p.term) AS gone WHERE term_chunks.term = gone.term "
        "RETURNING term_chunks.term, term_chunks.chunks",
        (doc_id,),
    ).fetchall()
    emptied = [term for term, chunks in counted if chunks <= 0]
    if emptied:
        db.execute("DELETE FROM term_chunks WHERE term = ANY(%s)", (emptied,))


def clear_rows(db: psycopg.Connection[Any]) -> None:
    """Zero the totals (every chunk was deleted)."""
    db.execute("UPDATE lexical_totals SET chunks = 0, tokens = 0")
    db.execute("DELETE FROM term_chunks")


def _hits_params(query: Phrases) -> dict[str, Any]:
    """The `hits` query's parameters."""
    return {
        "terms": [token for token, _ in query.single],
        "phrases": [phrase for _, phrase in query.single],
        "more_phrases": [hit[0] for hit in query.more],
        "more_rows": [hit[1] for hit in query.more],
        "more_tfs": [hit[2] for hit in query.more],
        "more_lengths": [hit[3] for hit in query.more],
    }


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
