"""Hybrid retrieval: dense top-k from the vector store fused with BM25 by reciprocal rank fusion."""

from __future__ import annotations

import math
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from functools import lru_cache

import numpy as np

from assistant.catalog import VECTOR_COLLECTIONS, Catalog, idf_from_counts
from assistant.embedding import Embedder, Vector
from assistant.interpret import focus_clause
from assistant.reading import in_document
from assistant.sentence_search import SentenceSearch
from assistant.text import content_terms
from assistant.types import Passage
from assistant.vectorstore import VectorStore, in_collections, of_documents

# Second stage: the fused top passages are re-scored by their best sentence's similarity to the
# question (or its asking clause), using the sentence vectors stored at ingest.
# `python -m benchmarks.tune_retrieval` on the tuning corpora: weights up to 0.5 leave the set
# of top-5 passages as it was (key fact@5 0.972 / 0.940 / 0.857) and only reorder it; 0.75
# loses facts. The answerer's models were fitted on this order (passage rank is a feature).
# The depth, the candidates and the fusion constant are settings (settings.py, their one home).
RERANK_WEIGHT = 0.5
# A restricted question's dense leg: one unfiltered search of FACTOR times the expected number
# of allowed hits (at most MAX vectors), when the allowed collections hold at least MIN_SHARE
# of the index (bench_restricted: Chroma's metadata filter costs ~10 ms at 10k chunks, an
# unfiltered search of 300 vectors ~2 ms).
OVERFETCH_FACTOR = 3
OVERFETCH_MAX = 1000
OVERFETCH_MIN_SHARE = 0.05


@dataclass(frozen=True)
class Retrieval:
    """Passages retrieved for a query, with what the answerer needs to score them."""

    query: str
    query_vector: Vector = field(repr=False)
    passages: tuple[Passage, ...]
    timings_ms: dict[str, float]
    idf: dict[str, float] = field(default_factory=dict)
    # How many chunks hold each query term: 0 means the corpus never uses it.
    term_counts: dict[str, int] = field(default_factory=dict)
    # The vector of the question's asking clause, when it differs from the whole question.
    focus_vector: Vector | None = field(default=None, repr=False)
    # How many chunks the index holds: a term missing from 2,000 chunks says more than one
    # missing from 20.
    chunk_count: int = 0


class HybridRetriever:
    """Dense + lexical retrieval over the catalog and the vector store."""

    def __init__(
        self,
        catalog: Catalog,
        store: VectorStore,
        embedder: Embedder,
        *,
        candidates: int,
        rrf_k: int,
        rerank_depth: int,
        rerank_weight: float = RERANK_WEIGHT,
        sentences: SentenceSearch | None = None,
    ) -> None:
        self.catalog = catalog
        self.store = store
        self.embedder = embedder
        self.candidates = candidates
        self.rrf_k = rrf_k
        self.rerank_depth = rerank_depth
        self.rerank_weight = rerank_weight
        # The third ranked list (None: chunk vectors and BM25 only).
        self.sentences = sentences

    def retrieve(self, query: str, k: int, collections: Sequence[str] | None = None) -> Retrieval:
        """The k best passages for `query`, from every collection or only the given ones.

        A restriction runs inside both searches, before fusion and the top-k cut, and the
        corpus statistics the answerer reads (term counts, chunk count) cover only the allowed
        collections: a restricted question sees the index as if it held nothing else.
        """
        timings: dict[str, float] = {}
        # The BM25 lookup needs no query vector: it runs beside the embedding and the vector
        # search (SQLite and ONNX Runtime release the GIL), so the slower of the two sets the pace.
        # Stemmed here, not in the pool: the process's first stem imports nltk (assistant.text),
        # which must not run beside another thread's imports.
        lexical_job = lexical_pool().submit(self._lexical, content_terms(query), collections)
        # The first query of a process also opens the vector store beside the embedding (the
        # model loads in ONNX Runtime without the GIL while Chroma imports): a cold `ask` waits
        # for the slower of the two, not for both.
        opening = None if self.store.is_open else lexical_pool().submit(_open, self.store)
        clock = time.perf_counter()
        query_vector = self.embedder.embed_query(query)
        focus = focus_clause(query)
        focus_vector = None if focus == query.strip() else self.embedder.embed_query(focus)
        timings["embed"] = _ms(clock)

        clock = time.perf_counter()
        if opening is not None:
            opening.result()  # a store that cannot open raises here, as the query would
        dense = self._dense(query_vector, collections)
        timings["dense"] = _ms(clock)

        clock = time.perf_counter()
        by_sentence = self._by_sentence(query_vector, collections)
        timings["sentences"] = _ms(clock)

        clock = time.perf_counter()
        lexical, counts, idf, total, timings["lexical"] = lexical_job.result()
        timings["lexical_wait"] = _ms(clock)

        clock = time.perf_counter()
        fused = reciprocal_rank_fusion([dense, lexical, by_sentence], self.rrf_k)
        reranking = self.rerank_weight > 0 and self.rerank_depth > 0
        depth = max(k, self.rerank_depth) if reranking else k
        pool = self._passages(fused, depth, collections)
        ranked = rerank(pool, query_vector, focus_vector, self.rerank_weight if reranking else 0)
        # Read from the heading right above, on over what a chunk's last line leads into,
        # with the document's code blocks (reading.in_document); the document's text is
        # the one catalog.chunks just read for these passages (cached by document).
        passages = [
            replace(in_document(p, self.catalog.document_structure(p.doc_id)[0]), rank=rank)
            for rank, p in enumerate(ranked[:k])
        ]
        timings["fuse"] = _ms(clock)
        return Retrieval(
            query, query_vector, tuple(passages), timings, idf, counts, focus_vector, total
        )

    def _passages(
        self,
        fused: list[tuple[str, float]],
        depth: int,
        collections: Sequence[str] | None = None,
    ) -> list[Passage]:
        """The first `depth` fused hits that the catalog holds, in fused order, of the allowed
        collections only (checked again as the rows are read: the lists were built from what
        the collections held a moment before).

        A dense hit of an uncommitted or removed chunk has no row and is skipped. Rows are read
        for as many hits as are still wanted, then for the next ones if some were skipped: each
        row read costs its document's text and headings (at a million chunks the hits lie in
        as many documents, which no cache holds), so none is read to be thrown away.
        """
        pool: list[Passage] = []
        position = 0
        while len(pool) < depth and position < len(fused):
            batch = fused[position : position + depth - len(pool)]
            position += len(batch)
            rows = self.catalog.chunks([chunk_id for chunk_id, _ in batch], collections)
            for chunk_id, score in batch:
                row = rows.get(chunk_id)
                if row is None:
                    continue
                pool.append(
                    Passage(
                        chunk_id=row.chunk_id,
                        doc_id=row.doc_id,
                        source=row.source,
                        title=row.title,
                        text=row.text,
                        start=row.start,
                        end=row.end,
                        score=score,
                        page_starts=row.page_starts,
                        headings=row.headings,
                        sentence_spans=row.sentence_spans,
                        sentence_vectors=row.sentence_vectors,
                        context_vectors=row.context_vectors,
                    )
                )
        return pool

    def _dense(
        self, query_vector: Vector, collections: Sequence[str] | None
    ) -> list[tuple[str, float]]:
        if collections is None:
            return self.store.query(query_vector, self.candidates)
        if not collections:
            return []  # a user who may read nothing finds nothing
        if self.catalog.get_meta(VECTOR_COLLECTIONS):
            found = self._dense_overfetched(query_vector, collections)
            if found is not None:
                return found
            where = in_collections(collections)
        else:  # vectors stored before collections existed carry only their document id
            doc_ids = self.catalog.doc_ids(collections)
            if not doc_ids:
                return []
            where = of_documents(doc_ids)
        return self.store.query(query_vector, self.candidates, where)

    def _dense_overfetched(
        self, query_vector: Vector, collections: Sequence[str]
    ) -> list[tuple[str, float]] | None:
        """The allowed collections' nearest vectors from one unfiltered search of a few times
        more candidates, when that holds enough of them (None: it did not; search with the
        filter). Chroma's metadata filter costs several times the search itself; the over-fetch
        is kept only when it found as many allowed vectors as the filtered search would return.
        """
        allowed = self.catalog.chunk_ids_of(collections)
        total = self.catalog.chunk_count()
        if not allowed or total <= 0:
            return None
        share = len(allowed) / total
        if share < OVERFETCH_MIN_SHARE:
            return None  # a small collection: the filtered search is the cheaper one
        fetch = min(OVERFETCH_MAX, math.ceil(self.candidates / share * OVERFETCH_FACTOR))
        kept = [hit for hit in self.store.query(query_vector, fetch) if hit[0] in allowed]
        return kept[: self.candidates] if len(kept) >= self.candidates else None

    def _by_sentence(
        self, query_vector: Vector, collections: Sequence[str] | None
    ) -> list[tuple[str, float]]:
        """Chunks by their best sentence's similarity to the question (its vector only; also
        searching the asking clause's found one question more of the tuning and pending
        corpora, key fact@5 0.835 against 0.833, for a second pass over every sentence),
        within the allowed collections."""
        if self.sentences is None or (collections is not None and not collections):
            return []
        allowed = None if collections is None else self.catalog.chunk_ids_of(collections)
        return self.sentences.search(query_vector, self.candidates, allowed)

    def _lexical(
        self, query_terms: list[str], collections: Sequence[str] | None = None
    ) -> tuple[list[tuple[str, float]], dict[str, int], dict[str, float], int, float]:
        """BM25 hits, the query terms' chunk counts and IDF, the chunk count, milliseconds."""
        clock = time.perf_counter()
        counts = self.catalog.term_counts(query_terms, collections)
        total = self.catalog.chunk_count(collections)
        idf = idf_from_counts(counts, total)
        lookup = (
            lexical_lookup(idf, counts, total)
            if total >= LARGE_INDEX
            else LexicalLookup(tuple(query_terms))
        )
        hits = self.catalog.lexical_search(
            lookup.terms, self.candidates, collections, every_term=lookup.every_term
        )
        return hits, counts, idf, total, _ms(clock)


def _open(store: VectorStore) -> None:
    store.collection  # noqa: B018  # connects on first use


@lru_cache(maxsize=1)
def lexical_pool() -> ThreadPoolExecutor:
    """The threads that run BM25 lookups (and a first store opening) beside the embedding: made
    on the first query, not at import (importing the package starts no thread)."""
    return ThreadPoolExecutor(max_workers=4, thread_name_prefix="bm25")


# From this many chunks on, very common query terms are left out of the BM25 lookup.
LARGE_INDEX = 1000
# Terms in more chunks than this share barely move BM25 but make FTS5 score every such chunk.
COMMON_TERM_SHARE = 0.05
_COMMON_IDF = math.log(1 + (1 - COMMON_TERM_SHARE) / COMMON_TERM_SHARE)
# FTS5 scores every chunk that holds any term of the lookup (about 2 us a chunk on these
# CPUs), so its time grows with the terms' chunk counts summed: past this many, only the rarest
# term is looked up, with as many of the next rarest as fit (at a million chunks a term in one
# chunk of a hundred is in ten thousand). Below ~3,300 chunks three terms always fit (every
# golden corpus of docs/evaluation.md is smaller). The dense search is not capped. At a million
# chunks, 10,000 instead of 40,000 (with `lexical_lookup`) halved the lookup, p50 73-88 ms ->
# 33-44 ms, and as many golden questions found their page among its hits (docs/benchmarks.md).
LEXICAL_POSTINGS_BUDGET = 10_000


@dataclass(frozen=True)
class LexicalLookup:
    """The terms of a question's BM25 lookup, and whether a chunk must hold every one of them
    (else any)."""

    terms: tuple[str, ...]
    every_term: bool = False


def lexical_lookup(
    idf: dict[str, float],
    counts: dict[str, int],
    total: int,
    budget: int = LEXICAL_POSTINGS_BUDGET,
) -> LexicalLookup:
    """The BM25 lookup of a large index: the selective terms (`selective_terms`), or, when
    even the rarest term is in more chunks than the budget, the chunks that hold the rarest
    terms together.

    A lookup of one common term scores every chunk holding it (200,000 of a million for "call":
    0.45 s) and ranks them by how often a common word occurs. The chunks that hold the rarest
    two or three terms at once are few and are those the full lookup ranks first. Terms are
    added, rarest first, until the expected size of their intersection (as if they occurred
    independently) is within the budget; when no set of them gets there, there is no lookup
    and the dense search finds the passages alone.
    """
    chosen = selective_terms(idf, counts, budget=budget)
    if not chosen or counts.get(chosen[0], 0) <= budget:
        return LexicalLookup(tuple(chosen))
    together: list[str] = []
    expected = float(total)
    for term in sorted(idf, key=lambda term: -idf[term]):
        if counts.get(term, 0) >= total:
            break  # in every chunk, as is every term after it: it narrows nothing
        together.append(term)
        expected *= counts.get(term, 0) / total
        if expected <= budget:
            break
    if len(together) < 2 or expected > budget:
        return LexicalLookup(())
    return LexicalLookup(tuple(together), every_term=True)


def selective_terms(
    idf: dict[str, float],
    counts: dict[str, int],
    keep_at_least: int = 3,
    budget: int = LEXICAL_POSTINGS_BUDGET,
) -> list[str]:
    """The query terms worth a BM25 lookup, rarest first: all but the very common ones (yet at
    least `keep_at_least`), within `budget` chunks to score; the rarest term always."""
    chosen: list[str] = []
    postings = 0
    for term in sorted(idf, key=lambda term: -idf[term]):
        count = counts.get(term, 0)
        over_budget = postings + count > budget
        common = idf[term] < _COMMON_IDF and len(chosen) >= keep_at_least
        if chosen and (over_budget or common):
            break  # rarest first: every term after this one is as common or more
        chosen.append(term)
        postings += count
    return chosen


def rerank(
    passages: list[Passage], query: Vector, focus: Vector | None, weight: float
) -> list[Passage]:
    """Passages ordered by (1 - weight) * fused score (scaled to the best) + weight * max-sim."""
    if weight <= 0 or not passages:
        return passages
    top = max(p.score for p in passages) or 1.0
    scored = []
    for passage in passages:
        similarity = float(np.max(cosine_rows(passage.sentence_vectors, query), initial=0.0))
        if focus is not None:
            focus_similarity = cosine_rows(passage.sentence_vectors, focus)
            similarity = max(similarity, float(np.max(focus_similarity, initial=0.0)))
        combined = (1 - weight) * passage.score / top + weight * similarity
        scored.append(replace(passage, score=combined))
    return sorted(scored, key=lambda p: -p.score)


def reciprocal_rank_fusion(
    rankings: list[list[tuple[str, float]]], rrf_k: int
) -> list[tuple[str, float]]:
    """Fuse ranked lists: each item scores the sum of 1 / (rrf_k + rank) over the lists."""
    scores: dict[str, float] = {}
    for ranking in rankings:
        for rank, (item, _) in enumerate(ranking, start=1):
            scores[item] = scores.get(item, 0.0) + 1.0 / (rrf_k + rank)
    return sorted(scores.items(), key=lambda pair: (-pair[1], pair[0]))


def _ms(since: float) -> float:
    return (time.perf_counter() - since) * 1000.0


def cosine_rows(matrix: np.ndarray, vector: Vector) -> np.ndarray:
    """Dot products of unit rows with a unit vector (float16 rows are widened)."""
    if matrix is None or len(matrix) == 0:
        return np.zeros(0, dtype=np.float32)
    return np.asarray(matrix, dtype=np.float32) @ vector
