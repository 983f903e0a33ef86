"""Sentence-level dense search: a chunk found by its best sentence, not by its average.

A chunk's vector averages 160 word pieces, more than the embedding model saw at training;
a question that one sentence answers can rank its chunk low. Every sentence is also embedded
on its own after its document's title and its section (ingest, `context_vectors`): this
search compares the question with each of those vectors, scores a chunk by its best
sentence and hands the best chunks to retrieval as a third ranked list beside the chunk
vectors and BM25. `python -m benchmarks.tune_retrieval --configs "" sentences=0` on the
tuning and pending corpora: key fact in the top five, mean of the seven, 0.809 without it,
0.833 with it (docs/evaluation-history.md).

The search is exact (a matrix product over every sentence of the index, in memory: ~1.5 KB a
sentence, about 9 a chunk), so it is kept for indexes of up to `sentence_search_limit`
sentences; a larger index is searched by its chunk vectors and BM25 alone. A process that
changes the index (an upload, a sync, a delete) reads the matrix again right after its change;
another process (a replica) on its first question after the change (that question, and any
arriving meanwhile, wait for it: ~0.4 s for 42,000 sentences); vectors that cannot be read turn
the search off, logged, until the next change.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass, field

import numpy as np

from assistant.catalog import Catalog
from assistant.embedding import Embedder, Vector
from assistant.errors import AssistantError

log = logging.getLogger(__name__)

# Allowed-chunk masks kept per matrix: one per grant (set of collections) recently asked with.
MASKS_KEPT = 16


@dataclass(frozen=True)
class _Matrix:
    """The index's sentence vectors at one catalog generation, grouped by chunk."""

    generation: int
    chunk_ids: tuple[str, ...]
    starts: np.ndarray  # the first row of each chunk (rows of a chunk are contiguous)
    vectors: np.ndarray  # float32, one normalised row per sentence
    index_of: dict[str, int]
    # The allowed-chunk masks of recent restricted questions (cleared past MASKS_KEPT).
    masks: dict[frozenset[str], np.ndarray] = field(default_factory=dict)


class SentenceSearch:
    """Chunks ranked by their best sentence's similarity, read from the catalog lazily and
    again whenever its generation changes."""

    def __init__(self, catalog: Catalog, embedder: Embedder, limit: int) -> None:
        self.catalog = catalog
        self.embedder = embedder  # its vectors' length, read when the matrix is first loaded
        self.limit = limit
        self._lock = threading.Lock()
        self._matrix: _Matrix | None = None
        self._skipped: int | None = None  # the generation found too large to hold

    def search(
        self,
        vector: Vector,
        k: int,
        allowed: frozenset[str] | None = None,
    ) -> list[tuple[str, float]]:
        """The k chunks whose best sentence is closest to `vector`, best first (only `allowed`
        ones when given); none when the index is over the limit."""
        matrix = self._current()
        if matrix is None or k <= 0 or not matrix.chunk_ids:
            return []
        # One matrix-vector product: ~4 ms at 10k chunks on these CPUs (the matrix read once).
        similarity = matrix.vectors @ np.asarray(vector, dtype=np.float32)
        best = np.maximum.reduceat(similarity, matrix.starts)
        if allowed is not None:
            best = np.where(self._mask(matrix, allowed), best, -np.inf)
        count = min(k, int(np.count_nonzero(np.isfinite(best))))
        if count == 0:
            return []
        top = np.argpartition(-best, count - 1)[:count]
        # Ties broken by chunk id, so two processes rank the same index the same way.
        order = sorted(top, key=lambda i: (-best[i], matrix.chunk_ids[i]))
        return [(matrix.chunk_ids[i], float(best[i])) for i in order]

    @property
    def generation(self) -> int | None:
        """The catalog generation of the sentences held in memory (None: none held)."""
        matrix = self._matrix
        return None if matrix is None else matrix.generation

    def refresh(self) -> None:
        """After this process changed the index: read the sentences again now, so that the
        next question does not wait for them. Only when they have been read before (a process
        that only ingests never holds them)."""
        if self._matrix is not None or self._skipped is not None:
            self._current()

    def _mask(self, matrix: _Matrix, allowed: frozenset[str]) -> np.ndarray:
        """Which chunks of the matrix are allowed, kept per matrix for the last few grants (the
        catalog hands out one set per generation and grant, so a hit is an identity check)."""
        masks = matrix.masks
        found = masks.get(allowed)
        if found is None:
            found = np.zeros(len(matrix.chunk_ids), dtype=bool)
            found[[matrix.index_of[c] for c in allowed if c in matrix.index_of]] = True
            if len(masks) >= MASKS_KEPT:
                masks.clear()
            masks[allowed] = found
        return found

    def _current(self) -> _Matrix | None:
        if self.limit <= 0:
            return None
        generation = self.catalog.generation()
        matrix = self._matrix
        if matrix is not None and matrix.generation == generation:
            return matrix
        if self._skipped == generation:
            return None
        with self._lock:  # one reader loads; the questions arriving meanwhile wait for it
            if self._matrix is not None and self._matrix.generation == generation:
                return self._matrix
            if self._skipped == generation:
                return None
            self._matrix = None  # the old matrix goes before the new one is built
            try:
                # Every chunk holds a sentence: more chunks than the limit is over it, and
                # the sentences need not be counted (a scan of every chunk's spans).
                over = self.catalog.chunk_count() > self.limit
                count = 0 if over else self.catalog.sentence_count()
                if over or count > self.limit:
                    log.info(
                        "sentence search off: over sentence_search_limit %d sentences",
                        self.limit,
                    )
                    self._skipped = generation
                    return None
                self._matrix = self._load(generation, count)
            except Exception as exc:
                # The chunk vectors and BM25 still answer; tried again after the next change.
                # The catalog unusable, busy or unreachable is said in a line; a bug in full.
                if isinstance(exc, AssistantError):
                    log.warning("sentence search off until the index changes: %s", exc)
                else:
                    log.exception("sentence search off until the index changes: loading failed")
                self._skipped = generation
                return None
            return self._matrix

    def _load(self, generation: int, count: int) -> _Matrix:
        """Read every sentence vector into one float32 matrix, filled in place from the
        catalog's rows as they stream in (the previous matrix already dropped)."""
        dimension = self.embedder.dimension
        chunk_ids: list[str] = []
        starts: list[int] = []
        matrix = np.empty((count, dimension), dtype=np.float32)
        rows = 0
        for chunk_id, blob in self.catalog.sentence_rows():
            vectors = np.frombuffer(blob, np.float16).reshape(-1, dimension)
            if not len(vectors):
                continue
            if rows + len(vectors) > len(matrix):  # written since it was counted
                grown = np.empty((rows + len(vectors) + count // 8, dimension), np.float32)
                grown[:rows] = matrix[:rows]
                matrix = grown
            matrix[rows : rows + len(vectors)] = vectors
            chunk_ids.append(chunk_id)
            starts.append(rows)
            rows += len(vectors)
        matrix = matrix[:rows]
        norms = np.linalg.norm(matrix, axis=1, keepdims=True)
        matrix /= np.maximum(norms, 1e-12)
        return _Matrix(
            generation,
            tuple(chunk_ids),
            np.asarray(starts, dtype=np.int64),
            matrix,
            {chunk_id: i for i, chunk_id in enumerate(chunk_ids)},
        )
