"""The stored form both SQL catalogs share (`assistant.catalog_sqlite`, `assistant.catalog_pg`):
a document version's row and columns, a chunk's blobs, and reading them back into chunk rows and
documents' structure (text, headings, page starts), with a cache of that structure by version.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from assistant.catalog import ChunkRow, ChunkWrite, Structure
from assistant.types import Document, Heading

# The documents columns a DocumentRecord is made of, in its field order.
RECORD_COLUMNS = (
    "doc_id, path, source, title, format, content_hash, size, chunks, ingested_at, collection"
)
# The documents columns `document_values` gives, in its order.
DOCUMENT_COLUMNS = (
    "doc_id, path, source, title, format, content_hash, size, chunks, ingested_at, text, "
    "headings, page_starts, collection"
)


def document_values(
    doc_id: str, path: str, document: Document, chunks: int, collection: str
) -> tuple[object, ...]:
    """A document version's row, in DOCUMENT_COLUMNS order (ingested now)."""
    return (
        doc_id,
        path,
        document.source,
        document.title,
        document.format,
        document.content_hash,
        document.size,
        chunks,
        time.time(),
        document.text,
        json.dumps([(h.offset, h.title, h.kind, h.end) for h in document.headings]),
        json.dumps(list(document.page_starts)),
        collection,
    )


def chunk_blobs(write: ChunkWrite) -> tuple[bytes, bytes, bytes]:
    """A chunk's sentence spans, sentence vectors and context vectors as stored."""
    return (
        np.asarray(write.sentence_spans, dtype=np.int32).tobytes(),
        np.asarray(write.sentence_vectors, dtype=np.float16).tobytes(),
        np.asarray(write.context_vectors, dtype=np.float16).tobytes(),
    )


def structure_from(text: str, headings: str, page_starts: str) -> Structure:
    """A document's structure from its stored columns."""
    return (
        str(text),
        # (offset, title, kind, end); an index written before terms had an end has no fourth
        tuple(Heading(*row) for row in json.loads(headings)),
        tuple(json.loads(page_starts)),
    )


def chunk_rows(
    rows: Sequence[Sequence[Any]], structure: Callable[[str, float], Structure]
) -> dict[str, ChunkRow]:
    """Stored chunks by vector id, from a read's rows: each (chunk_id, doc_id, source, title,
    start, end, document version, spans, vectors, in-context vectors), with its document's
    structure at that version from `structure`."""
    result = {}
    for *stored, version, spans, vectors, contexts in rows:
        result[stored[0]] = chunk_row(
            stored, structure(stored[1], version), spans, vectors, contexts
        )
    return result


def chunk_row(
    stored: Sequence[Any],
    structure: Structure,
    spans: bytes,
    vectors: bytes,
    contexts: bytes | None,
) -> ChunkRow:
    """A stored chunk: `stored` is (chunk_id, doc_id, source, title, start, end)."""
    chunk_id, doc_id, source, title, start, end = stored
    text, headings, page_starts = structure
    span_array = np.frombuffer(spans, dtype=np.int32).reshape(-1, 2)
    return ChunkRow(
        chunk_id=chunk_id,
        doc_id=doc_id,
        source=source,
        title=title,
        start=start,
        end=end,
        text=text[start:end],
        headings=headings,
        page_starts=page_starts,
        sentence_spans=tuple((int(s), int(e)) for s, e in span_array),
        sentence_vectors=np.frombuffer(vectors, dtype=np.float16).reshape(len(span_array), -1),
        context_vectors=None
        if contexts is None
        else np.frombuffer(contexts, dtype=np.float16).reshape(len(span_array), -1),
    )


class StructureCache:
    """Documents' text and structure by id, each kept with the version it was read at (its
    `ingested_at`): another process may commit a new version of a document at any time, and a
    chunk's text is cut from its own version's text."""

    def __init__(self, size: int = 256) -> None:
        self.size = size
        self._kept: dict[str, tuple[float, Structure]] = {}

    def lookup(
        self, doc_id: str, version: float, load: Callable[[], Sequence[Any] | None]
    ) -> Structure:
        """The structure of `doc_id` at `version`; `load` reads (ingested_at, text, headings,
        page_starts) when it is not kept (KeyError: the document is gone)."""
        kept = self._kept.get(doc_id)
        if kept is not None and kept[0] == version:
            return kept[1]
        row = load()
        if row is None:
            raise KeyError(doc_id)
        return self.put(doc_id, row)

    def put(self, doc_id: str, row: Sequence[Any]) -> Structure:
        """Keep a document's structure from its (ingested_at, text, headings, page_starts)."""
        structure = structure_from(*row[1:])
        if len(self._kept) >= self.size:
            self._kept.clear()
        self._kept[doc_id] = (float(row[0]), structure)
        return structure

    def missing(self, versions: dict[str, float]) -> list[str]:
        """Of these documents (id -> version), the ones not kept at that version."""
        return [
            doc_id
            for doc_id, version in versions.items()
            if (kept := self._kept.get(doc_id)) is None or kept[0] != version
        ]

    def clear(self) -> None:
        """Forget every kept structure."""
        self._kept.clear()
