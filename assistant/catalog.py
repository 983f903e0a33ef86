"""The catalog's interface: documents, chunks, the lexical (BM25) index and the write journal.

Two implementations keep it: `SqliteCatalog` (assistant.catalog_sqlite), one file beside the
embedded index, the default; and `PostgresCatalog` (assistant.catalog_pg), a PostgreSQL database
that every `assistant serve` replica shares (`catalog_url`). `open_catalog` picks one from the
settings; callers only see `Catalog`. One contract suite runs against both
(tests/test_catalog_contract.py).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

import numpy as np

from assistant.collections import DEFAULT_COLLECTION
from assistant.errors import UsageError
from assistant.text import terms
from assistant.types import Chunk, Document, Heading

if TYPE_CHECKING:
    from assistant.settings import Settings

# What the stored chunks and their terms are made of (part of the ingest fingerprint).
SCHEMA_VERSION = "2"
# Set once every vector in the store carries its document's collection in its metadata.
VECTOR_COLLECTIONS = "vector_collections"
# The meta key of the generation counter.
GENERATION = "generation"
# FTS5's bm25() parameters (fts5_aux.c), which the PostgreSQL catalog computes alike.
BM25_K1 = 1.2
BM25_B = 0.75


@dataclass(frozen=True)
class DocumentRecord:
    """What the catalog knows about one indexed document."""

    doc_id: str
    path: str
    source: str
    title: str
    format: str
    content_hash: str
    size: int
    chunks: int
    ingested_at: float
    collection: str = DEFAULT_COLLECTION


@dataclass(frozen=True)
class DocumentText:
    """An indexed document's record with its extracted text, headings and page starts."""

    record: DocumentRecord
    text: str
    headings: tuple[Heading, ...]
    page_starts: tuple[int, ...]


@dataclass(frozen=True)
class ChunkRow:
    """A chunk as stored, with its document's locating structure."""

    chunk_id: str
    doc_id: str
    source: str
    title: str
    start: int
    end: int
    text: str
    headings: tuple[Heading, ...]
    page_starts: tuple[int, ...]
    sentence_spans: tuple[tuple[int, int], ...]
    sentence_vectors: np.ndarray
    # Each sentence embedded on its own after its title and section (None: stored before them).
    context_vectors: np.ndarray | None = None


@dataclass(frozen=True)
class ChunkWrite:
    """A chunk to store: its span, its vector id and its sentence vectors."""

    chunk: Chunk
    vector_id: str
    sentence_spans: Sequence[tuple[int, int]]
    sentence_vectors: np.ndarray
    context_vectors: np.ndarray


Structure = tuple[str, tuple[Heading, ...], tuple[int, ...]]


class Catalog(Protocol):
    """What the index keeps beside its vectors, and the journal that keeps the two in step.

    A document's text, chunks and lexical terms change in one transaction, which also bumps
    the generation; the journal (`pending`, `garbage`) records vector writes that no committed
    state matches yet, so an interrupted ingest can be repaired.
    """

    def exists(self) -> bool:
        """Whether the catalog is there (a file; a reachable database, its schema made)."""
        ...

    def close(self) -> None:
        """Close this thread's connection."""
        ...

    # -- metadata -------------------------------------------------------------------------
    def generation(self) -> int:
        """A number that grows with every committed change to the indexed documents."""
        value = self.get_meta(GENERATION)
        return int(value) if value is not None else 0

    def get_meta(self, key: str) -> str | None:
        """A stored metadata value."""
        ...

    def set_meta(self, key: str, value: str) -> None:
        """Store a metadata value."""
        ...

    def delete_meta(self, key: str) -> None:
        """Forget a metadata value."""
        ...

    # -- documents ------------------------------------------------------------------------
    def documents(self) -> dict[str, DocumentRecord]:
        """Every indexed document by absolute path."""
        ...

    def document(self, doc_id: str) -> DocumentRecord | None:
        """One indexed document's record by its id."""
        ...

    def document_structure(self, doc_id: str) -> Structure:
        """A document's extracted text, headings and page starts (KeyError: no such document)."""
        ...

    def vector_ids(self, doc_id: str) -> list[str]:
        """Vector ids of a document's chunks."""
        ...

    def chunk_count(self, collections: Sequence[str] | None = None) -> int:
        """Number of chunks in the index, or in some collections."""
        ...

    def collections(self) -> dict[str, tuple[int, int]]:
        """Every collection with documents: name -> (documents, chunks)."""
        ...

    def collection_names(self) -> list[str]:
        """The names of every collection with documents, sorted (from the index on them:
        cheap enough for every question, unlike the counts)."""
        ...

    def doc_ids(self, collections: Sequence[str]) -> list[str]:
        """The documents of some collections."""
        ...

    def set_collection(self, doc_id: str, collection: str) -> None:
        """Move a document to another collection (its vectors' metadata is the caller's)."""
        ...

    # -- the write journal ----------------------------------------------------------------
    def begin_document(self, doc_id: str, vector_ids: Sequence[str]) -> None:
        """Record vectors about to be written for a document that is not committed yet."""
        ...

    def commit_document(
        self,
        doc_id: str,
        path: str,
        document: Document,
        writes: Sequence[ChunkWrite],
        collection: str = DEFAULT_COLLECTION,
    ) -> None:
        """Make a document version visible, atomically replacing any earlier version."""
        ...

    def rename_document(
        self,
        doc_id: str,
        new_doc_id: str,
        path: str,
        source: str,
        collection: str,
        vector_ids: dict[str, str],
    ) -> None:
        """Move a document to another path, keeping its text, chunks and BM25 rows.

        `vector_ids` maps each chunk's vector id to the id its copied vector has under the new
        document (journalled with `begin_document`); the old ids are queued as garbage. A
        document already at the new path is replaced.
        """
        ...

    def remove_document(self, doc_id: str) -> None:
        """Remove a document; its vectors are queued for deletion."""
        ...

    def pending(self) -> dict[str, list[str]]:
        """Vector writes of documents that were never committed."""
        ...

    def clear_pending(self, doc_id: str) -> None:
        """Forget a pending write (after its vectors were deleted)."""
        ...

    def garbage(self) -> list[str]:
        """Vector ids that no committed chunk uses any more."""
        ...

    def clear_garbage(self, vector_ids: Iterable[str]) -> None:
        """Forget garbage whose vectors were deleted."""
        ...

    def reset(self) -> None:
        """Delete every document and journal entry."""
        ...

    def optimize(self) -> None:
        """After a batch of writes (an ingest run, a copy): bring the read paths up to date."""
        ...

    def needs_optimize(self) -> bool:
        """Whether `optimize` has work left although nothing was written (an index from an
        older release: an ingest run that changes nothing still brings it up to date)."""
        return False

    def writer_lock(self, timeout: float) -> AbstractContextManager[None]:
        """Held by the one process that writes (an ingest, a sync, a watcher's run) for as long
        as it writes; IndexBusyError when another held it for `timeout` seconds."""
        ...

    def writer_busy(self) -> bool:
        """Whether a writer, in this process or another, holds the lock right now."""
        ...

    # -- reading --------------------------------------------------------------------------
    def chunks(
        self, vector_ids: Sequence[str], collections: Sequence[str] | None = None
    ) -> dict[str, ChunkRow]:
        """Committed chunks by vector id; ids without a committed chunk are left out, and with
        `collections` those whose document is in none of them (checked in the same read, so a
        document moved out while a question runs is not returned to it)."""
        ...

    def lexical_search(
        self,
        query_terms: Sequence[str],
        limit: int,
        collections: Sequence[str] | None = None,
        every_term: bool = False,
    ) -> list[tuple[str, float]]:
        """FTS5's BM25 ranking of chunks containing any of the terms (with `every_term`, only
        of those containing every one), best first (ties: the earlier stored chunk first), as
        (vector id, score).

        With `collections`, only their chunks are ranked and cut to `limit` (the filter runs
        before the cut; the term statistics stay those of the whole index).
        """
        ...

    def term_counts(
        self, query_terms: Sequence[str], collections: Sequence[str] | None = None
    ) -> dict[str, int]:
        """How many chunks hold each term (0 for a term the corpus never uses).

        With `collections`, counted over their chunks only: what other collections hold
        leaves no trace in what a restricted question sees.
        """
        ...

    def chunk_ids_of(self, collections: Sequence[str]) -> frozenset[str]:
        """The ids of some collections' chunks (their vectors' ids)."""
        ...

    def sentence_count(self) -> int:
        """How many sentences the committed chunks hold (each has a vector)."""
        ...

    def sentence_rows(self) -> Iterator[tuple[str, bytes]]:
        """Every committed chunk's id with its sentences' vectors (float16 rows): embedded in
        context, or pooled from the chunk in an index built before those."""
        ...

    def idf(self, query_terms: Sequence[str]) -> dict[str, float]:
        """BM25-style inverse document frequency of each term over chunks (unseen terms: max)."""
        return idf_from_counts(self.term_counts(query_terms), self.chunk_count())


def idf_from_counts(counts: dict[str, int], total: int) -> dict[str, float]:
    """BM25-style inverse document frequency from chunk counts."""
    return {
        term: math.log(1 + (total - count + 0.5) / (count + 0.5)) for term, count in counts.items()
    }


def lexical_text(document: Document, chunk: Chunk) -> str:
    """The terms a chunk is found by: its document's title, its section and its text."""
    heading_context = " ".join([document.title, document.section_at(chunk.start) or ""])
    return " ".join(terms(heading_context + "\n" + chunk.text))


def stored_document(record: DocumentRecord, structure: Structure) -> Document:
    """A document as the catalog holds it: its record with its text and structure."""
    text, headings, page_starts = structure
    return Document(
        source=record.source,
        title=record.title,
        text=text,
        content_hash=record.content_hash,
        format=record.format,
        size=record.size,
        headings=headings,
        page_starts=page_starts,
    )


# What a copy of a catalog carries over besides documents: the ingest fingerprint (so the
# target is not rebuilt) and whether the vectors carry their collection.
COPIED_META = ("fingerprint", VECTOR_COLLECTIONS)


def copy_catalog(
    source: Catalog, target: Catalog, progress: Callable[[int, int], None] | None = None
) -> int:
    """Copy every document of `source` into an empty `target` (e.g. the SQLite file into
    PostgreSQL) through the interface alone, vector ids unchanged, so the vector store serves
    both. Documents go in the order they were committed and chunks in text order, so equal
    BM25 scores rank alike. Returns the number of chunks copied; `progress(done, total)`
    after each document."""
    if target.documents():
        raise UsageError("the target catalog already holds documents: copy into an empty one")
    records = sorted(source.documents().values(), key=lambda r: (r.ingested_at, r.doc_id))
    copied = 0
    for done, record in enumerate(records, start=1):
        structure = source.document_structure(record.doc_id)
        ids = source.vector_ids(record.doc_id)
        rows = sorted(source.chunks(ids).values(), key=lambda row: (row.start, row.end))
        if any(row.context_vectors is None for row in rows):
            raise UsageError(
                f"{record.source} was indexed before sentences had context vectors: run "
                "`assistant ingest` on the source index first"
            )
        document = stored_document(record, structure)
        writes = [
            ChunkWrite(
                Chunk(record.doc_id, ordinal, row.start, row.end, row.text),
                row.chunk_id,
                row.sentence_spans,
                row.sentence_vectors,
                row.context_vectors,  # type: ignore[arg-type]  # checked above
            )
            for ordinal, row in enumerate(rows)
        ]
        target.commit_document(record.doc_id, record.path, document, writes, record.collection)
        copied += len(writes)
        if progress is not None:
            progress(done, len(records))
    for key in COPIED_META:
        value = source.get_meta(key)
        if value is not None:
            target.set_meta(key, value)
    target.optimize()
    return copied


def open_catalog(settings: Settings) -> Catalog:
    """The catalog the settings name: PostgreSQL at `catalog_url`, else the index's SQLite file.

    Cheap: nothing connects until the first call."""
    if settings.catalog_url is not None:
        try:
            from assistant.catalog_pg import PostgresCatalog
        except ImportError as exc:  # psycopg is the `postgres` extra
            raise UsageError(
                f"catalog_url needs psycopg ({exc}): pip install 'assistant[postgres]'"
            ) from exc
        return PostgresCatalog(
            settings.catalog_url.get_secret_value(), settings.catalog_statement_timeout
        )
    from assistant.catalog_sqlite import SqliteCatalog

    return SqliteCatalog(settings.index_dir / "catalog.sqlite3")
