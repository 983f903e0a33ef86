"""Hybrid retrieval: dense top-k from the vector store fused with BM25 by reciprocal rank fusion."""

from __future__ import annotations

import math
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

import numpy as np

from assistant.catalog import Catalog
from assistant.embedding import Embedder, Vector
from assistant.text import content_terms
from assistant.types import Passage
from assistant.vectorstore import VectorStore


@dataclass(frozen=True)
class Retrieval:
    """Passages retrieved for a query, with what the answerer needs to score them."""

    query: str
    query_vector: Vector = field(repr=False)
    passages: tuple[Passage, ...]
    timings_ms: dict[str, float]
    idf: dict[str, float] = field(default_factory=dict)


class HybridRetriever:
    """Dense + lexical retrieval over the catalog and the vector store."""

    def __init__(
        self,
        catalog: Catalog,
        store: VectorStore,
        embedder: Embedder,
        candidates: int = 30,
        rrf_k: int = 60,
    ) -> None:
        self.catalog = catalog
        self.store = store
        self.embedder = embedder
        self.candidates = candidates
        self.rrf_k = rrf_k

    def retrieve(self, query: str, k: int) -> Retrieval:
        """The k best passages for `query`."""
        timings: dict[str, float] = {}
        # The BM25 lookup needs no query vector: it runs beside the embedding and the vector
        # search (SQLite and ONNX Runtime release the GIL), so the slower of the two sets the pace.
        lexical_job = _LEXICAL_POOL.submit(self._lexical, query)
        clock = time.perf_counter()
        query_vector = self.embedder.embed_query(query)
        timings["embed"] = _ms(clock)

        clock = time.perf_counter()
        dense = self.store.query(query_vector, self.candidates)
        timings["dense"] = _ms(clock)

        clock = time.perf_counter()
        lexical, idf, timings["lexical"] = lexical_job.result()
        timings["lexical_wait"] = _ms(clock)

        clock = time.perf_counter()
        fused = reciprocal_rank_fusion([dense, lexical], self.rrf_k)
        # Ask for more than k: dense hits of uncommitted or removed chunks are dropped here.
        wanted = [chunk_id for chunk_id, _ in fused[: k * 2]]
        rows = self.catalog.chunks(wanted)
        passages: list[Passage] = []
        for chunk_id, score in fused:
            row = rows.get(chunk_id)
            if row is None:
                continue
            passages.append(
                Passage(
                    chunk_id=row.chunk_id,
                    doc_id=row.doc_id,
                    source=row.source,
                    title=row.title,
                    text=row.text,
                    start=row.start,
                    end=row.end,
                    score=score,
                    rank=len(passages),
                    page_starts=row.page_starts,
                    headings=row.headings,
                    sentence_spans=row.sentence_spans,
                    sentence_vectors=row.sentence_vectors,
                )
            )
            if len(passages) == k:
                break
        timings["fuse"] = _ms(clock)
        return Retrieval(query, query_vector, tuple(passages), timings, idf)

    def _lexical(self, query: str) -> tuple[list[tuple[str, float]], dict[str, float], float]:
        """BM25 hits, the query terms' IDF, and the milliseconds it took."""
        clock = time.perf_counter()
        query_terms = content_terms(query)
        idf = self.catalog.idf(query_terms)
        large = self.catalog.chunk_count() >= LARGE_INDEX
        hits = self.catalog.lexical_search(
            selective_terms(idf) if large else query_terms, self.candidates
        )
        return hits, idf, _ms(clock)


_LEXICAL_POOL = ThreadPoolExecutor(max_workers=4, thread_name_prefix="bm25")


# From this many chunks on, very common query terms are left out of the BM25 lookup.
LARGE_INDEX = 1000
# Terms in more chunks than this share barely move BM25 but make FTS5 score every such chunk.
COMMON_TERM_SHARE = 0.05
_COMMON_IDF = math.log(1 + (1 - COMMON_TERM_SHARE) / COMMON_TERM_SHARE)


def selective_terms(idf: dict[str, float], keep_at_least: int = 3) -> list[str]:
    """The query terms worth a BM25 lookup: all but the very common ones (the rarest stay)."""
    ranked = sorted(idf, key=lambda term: -idf[term])
    selective = [term for term in ranked if idf[term] >= _COMMON_IDF]
    return selective if len(selective) >= keep_at_least else ranked[:keep_at_least]


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
