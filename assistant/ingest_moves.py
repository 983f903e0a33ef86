"""Moved files: a file found at a new path that reads the same as an indexed document whose old
path is gone keeps that document's vectors and records, re-pointed to the new path instead of
embedded anew.

Part of ingestion (`assistant.ingest`), which finds the candidates as it reads the files; the
crash safety it describes holds here too: the copied vectors are journalled (`begin_document`)
before the store is written, and each rename is one catalog commit.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from assistant.catalog import Catalog, DocumentRecord
from assistant.chunking import Chunker
from assistant.discovery import SourceFile, doc_id_for
from assistant.ingest_write import BatchWriter, Prepared
from assistant.types import Document
from assistant.vectorstore import VectorStore

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Move:
    """A document found at a new path, reading the same there: moved without embedding."""

    record: DocumentRecord
    file: SourceFile
    document: Document
    collection: str


class MoveWriter:
    """Tells a moved document from a changed one and moves documents to their new paths."""

    def __init__(
        self,
        catalog: Catalog,
        store: VectorStore,
        writer: BatchWriter,
        chunker: Callable[[], Chunker],  # the ingest's chunker, made on first use
    ) -> None:
        self.catalog = catalog
        self.store = store
        self.writer = writer
        self.chunker = chunker

    def reads_the_same(self, record: DocumentRecord, document: Document) -> bool:
        """Whether a document read at its new path equals what the catalog holds (else, e.g.
        a title taken from the file name or another format, it is embedded anew)."""
        text, headings, page_starts = self.catalog.document_structure(record.doc_id)
        stored = (record.title, record.format, text, headings, page_starts)
        found = (
            document.title,
            document.format,
            document.text,
            document.headings,
            document.page_starts,
        )
        return found == stored

    def write(self, moves: list[Move], counts: dict[str, int]) -> None:
        """Move documents to their new paths: their stored vectors are copied to the new
        paths' ids (journalled as pending first), then each move is one catalog commit."""
        if not moves:
            return
        old_ids = {move.file.path: self.catalog.vector_ids(move.record.doc_id) for move in moves}
        vectors = self.store.vectors([i for ids in old_ids.values() for i in ids])
        renamed: dict[Path, dict[str, str]] = {}  # new path -> {old vector id: new vector id}
        ids: list[str] = []
        doc_ids: list[str] = []
        collections: list[str] = []
        for move in moves:
            if not all(old in vectors for old in old_ids[move.file.path]):
                continue  # vectors missing from the store (never expected): embedded below
            doc_id = doc_id_for(move.file.path)
            # Vector ids start with their document's id (BatchWriter.write); copies get the new one.
            prefix = len(move.record.doc_id)
            mapping = {old: doc_id + old[prefix:] for old in old_ids[move.file.path]}
            self.catalog.begin_document(doc_id, list(mapping.values()))
            renamed[move.file.path] = mapping
            ids += mapping.values()
            doc_ids += [doc_id] * len(mapping)
            collections += [move.collection] * len(mapping)
        log.info("copying %d vectors of %d moved documents", len(ids), len(renamed))
        if ids:
            copied = [vectors[old] for mapping in renamed.values() for old in mapping]
            self.store.add(ids, np.stack(copied), doc_ids, collections)
        for move in moves:
            copied_ids = renamed.get(move.file.path)
            if copied_ids is None:
                chunks = self.chunker().chunk(doc_id_for(move.file.path), move.document.text)
                self.writer.write(
                    [Prepared(move.file, move.document, chunks, None, move.collection)], counts
                )
                self.catalog.remove_document(move.record.doc_id)
                continue
            self.catalog.rename_document(
                move.record.doc_id,
                doc_id_for(move.file.path),
                str(move.file.path),
                move.file.source,
                move.collection,
                copied_ids,
            )
            log.info("renamed %s to %s", move.record.source, move.file.source)
            counts["renamed"] += 1
