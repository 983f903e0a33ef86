"""Writing a batch of read documents into the index: embed only what their last versions do
not already have, journal the vector ids, store the vectors, commit each document.

Part of ingestion (`assistant.ingest`), which reads the files and decides what to write; the
crash safety it describes rests on the order here: `begin_document` journals the vector ids
before the store is written, and `commit_document` switches the catalog to the new version in
one transaction.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from assistant.catalog import Catalog, ChunkWrite, DocumentRecord, stored_document
from assistant.discovery import SourceFile, doc_id_for
from assistant.embed_inputs import context_prefix, embedding_inputs, sentence_context
from assistant.embedding import EmbeddedChunk, Embedder
from assistant.ingest_progress import IngestTracker
from assistant.types import Chunk, Document, section_starts
from assistant.vectorstore import VectorStore

log = logging.getLogger(__name__)


@dataclass
class Prepared:
    """A document read and chunked, waiting to be embedded and written."""

    file: SourceFile
    document: Document
    chunks: list[Chunk]
    replaces: DocumentRecord | None  # the indexed version this one replaces
    collection: str


class BatchWriter:
    """Embeds and writes batches of prepared documents."""

    def __init__(self, catalog: Catalog, store: VectorStore, embedder: Embedder) -> None:
        self.catalog = catalog
        self.store = store
        self.embedder = embedder

    def write(
        self, batch: list[Prepared], counts: dict[str, int], tracker: IngestTracker | None = None
    ) -> None:
        """Embed and write each document of the batch, one catalog commit each; `counts`
        gains the documents added and updated and the chunks whose vectors were kept."""
        if not batch:
            return
        chunks = [chunk for item in batch for chunk in item.chunks]
        inputs = [one for item in batch for one in embedding_inputs(item.document, item.chunks)]
        keys = [
            _ChunkKey(one.prefix, chunk.text, tuple(one.spans))
            for one, chunk in zip(inputs, chunks, strict=True)
        ]
        contexts = [text for one in inputs for text in one.contexts]
        kept = self._last_versions([item.replaces for item in batch if item.replaces is not None])
        # Only what neither an edited document's last version nor this batch already has is
        # embedded: a chunk whose input (prefix, text, sentences) is unchanged keeps its
        # vectors, and so does a sentence read in the same context. Chunks overlap, so a
        # sentence of two chunks is embedded once.
        new_keys = list(dict.fromkeys(key for key in keys if key not in kept.chunks))
        new_contexts = list(
            dict.fromkeys(t for t in contexts if t is not None and t not in kept.contexts)
        )
        edited = [item.replaces is not None for item in batch for _ in item.chunks]
        reused = sum(1 for key, ed in zip(keys, edited, strict=True) if ed and key in kept.chunks)
        counts["chunks_reused"] += reused
        advance = None if tracker is None else tracker.embedding(len(new_keys) + len(new_contexts))
        log.info(
            "embedding %d chunks of %d documents (%d kept from their last version)",
            len(new_keys), len(batch), reused,
        )  # fmt: skip
        embedded_chunks = self.embedder.embed_chunks(
            [key.text for key in new_keys],
            [list(key.spans) for key in new_keys],
            [key.prefix for key in new_keys],
            advance,
        )
        by_key = {**kept.chunks, **dict(zip(new_keys, embedded_chunks, strict=True))}
        log.info("embedding %d sentences in their context", len(new_contexts))
        embedded_contexts = self.embedder.embed_texts(new_contexts, advance).astype(np.float16)
        by_context = {**kept.contexts, **dict(zip(new_contexts, embedded_contexts, strict=True))}
        context_vectors = np.zeros((len(contexts), self.embedder.dimension), dtype=np.float16)
        for row, text in enumerate(contexts):
            if text is not None:
                context_vectors[row] = by_context[text]
        embedded = iter([by_key[key] for key in keys])
        taken = 0
        for item in batch:
            doc_id = doc_id_for(item.file.path)
            version = item.document.content_hash[:12]
            writes = []
            vectors = []
            for chunk in item.chunks:
                result = next(embedded)
                vectors.append(result.vector)
                count = len(result.sentences)
                writes.append(
                    ChunkWrite(
                        chunk=chunk,
                        vector_id=f"{doc_id}:{version}:{chunk.ordinal}",
                        sentence_spans=[
                            (s + chunk.start, e + chunk.start) for s, e in result.sentences
                        ],
                        sentence_vectors=result.sentence_vectors,
                        context_vectors=context_vectors[taken : taken + count],
                    )
                )
                taken += count
            vector_ids = [write.vector_id for write in writes]
            log.info("writing %s: %d vectors", item.file.source, len(vector_ids))
            self.catalog.begin_document(doc_id, vector_ids)
            self.store.add(
                vector_ids,
                np.stack(vectors),
                [doc_id] * len(vector_ids),
                [item.collection] * len(vector_ids),
            )
            self.catalog.commit_document(
                doc_id, str(item.file.path), item.document, writes, item.collection
            )
            log.info("committed %s", item.file.source)
            counts["added" if item.replaces is None else "updated"] += 1
        if tracker is not None:
            tracker.wrote(len(chunks))

    def _last_versions(self, records: Sequence[DocumentRecord]) -> _Kept:
        """The vectors of these indexed documents, by what was embedded: each chunk's input and
        each sentence in its context."""
        kept = _Kept({}, {})
        for record in records:
            ids = self.catalog.vector_ids(record.doc_id)
            if not ids:
                continue
            last = stored_document(record, self.catalog.document_structure(record.doc_id))
            starts = section_starts(last.headings)
            vectors = self.store.vectors(ids)
            for row in self.catalog.chunks(ids).values():
                vector = vectors.get(row.chunk_id)
                if vector is None:
                    continue
                chunk = Chunk(record.doc_id, 0, row.start, row.end, row.text)
                spans = tuple((s - row.start, e - row.start) for s, e in row.sentence_spans)
                key = _ChunkKey(context_prefix(last, chunk), row.text, spans)
                kept.chunks[key] = EmbeddedChunk(vector, spans, row.sentence_vectors)
                if row.context_vectors is None:
                    continue
                for (s, e), context in zip(row.sentence_spans, row.context_vectors, strict=True):
                    if s not in starts:
                        kept.contexts[sentence_context(last, s, e)] = context
        return kept


@dataclass(frozen=True)
class _ChunkKey:
    """What a chunk's vectors are computed from: equal keys, equal vectors."""

    prefix: str
    text: str
    spans: tuple[tuple[int, int], ...]


@dataclass(frozen=True)
class _Kept:
    """Vectors an edited document's last version already has, by what they were computed from."""

    chunks: dict[_ChunkKey, EmbeddedChunk]
    contexts: dict[str, npt.NDArray[np.float16]]
