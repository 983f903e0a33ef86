"""Ingestion: find files, skip unchanged ones, load -> chunk -> embed -> store, remove deleted ones.

Crash safety: vectors of a new document version are journalled (`pending`) before they are
written, the catalog switches versions in one transaction, and replaced vectors are queued as
garbage. The next run deletes whatever a killed run left half-done, so the index always equals a
clean build of the files it has committed.
"""

from __future__ import annotations

import logging
import os
import sys
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt
from tqdm import tqdm

from assistant.catalog import (
    SCHEMA_VERSION,
    VECTOR_COLLECTIONS,
    Catalog,
    ChunkWrite,
    DocumentRecord,
    stored_document,
)
from assistant.chunking import CHUNKER_VERSION, Chunker
from assistant.collections import check_name, collection_for
from assistant.discovery import SourceFile, discover, doc_id_for
from assistant.embed_inputs import context_prefix, embedding_inputs, sentence_context
from assistant.embedding import EmbeddedChunk, Embedder
from assistant.errors import LoadError
from assistant.ingest_progress import IngestTracker, ProgressCallback
from assistant.loaders import (
    EXTRACTION_VERSION,
    attachments_in,
    container_of,
    content_hash,
    document_from_bytes,
    is_present,
    read_file,
)
from assistant.settings import Settings
from assistant.types import (
    Attachment,
    Chunk,
    Document,
    FailedFile,
    IngestReport,
    section_starts,
)
from assistant.vectorstore import VectorStore

log = logging.getLogger(__name__)

_REBUILDING = "rebuilding"  # catalog meta key set while a reset of catalog and store is under way


@dataclass(frozen=True)
class _Move:
    """A document found at a new path, reading the same there: moved without embedding."""

    record: DocumentRecord
    file: SourceFile
    document: Document
    collection: str


@dataclass
class _Prepared:
    file: SourceFile
    document: Document
    chunks: list[Chunk]
    replaces: DocumentRecord | None  # the indexed version this one replaces
    collection: str


# The parts of the ingest fingerprint, in order, as a person would name what changed.
_FINGERPRINT_PARTS = (
    "the index format",
    "the chunker",
    "the text extraction",
    "the embedding model",
    "chunk_size",
    "chunk_overlap",
)


def rebuild_reasons(before: str | None, after: str) -> tuple[str, ...]:
    """What changed between two ingest fingerprints, e.g. ("chunk_size 256 -> 200",)."""
    if before is None:
        return ()
    old, new = before.split("|"), after.split("|")
    if len(old) != len(new):
        return ("the index format",)
    reasons = []
    for name, a, b in zip(_FINGERPRINT_PARTS, old, new, strict=False):
        if a != b:
            reasons.append(f"{name} {a} -> {b}" if name.startswith("chunk_") else name)
    return tuple(reasons)


class Ingestor:
    """Brings the index in line with a set of files."""

    def __init__(
        self, settings: Settings, catalog: Catalog, store: VectorStore, embedder: Embedder
    ) -> None:
        self.settings = settings
        self.catalog = catalog
        self.store = store
        self.embedder = embedder
        self._chunker: Chunker | None = None

    @property
    def chunker(self) -> Chunker:
        """The chunker, sized in the embedding model's word pieces."""
        if self._chunker is None:
            self._chunker = Chunker(
                self.settings.chunk_size, self.settings.chunk_overlap, self.embedder.tokenize_ids
            )
        return self._chunker

    def fingerprint(self) -> str:
        """What the stored vectors and chunks depend on; a change forces a rebuild."""
        settings = self.settings
        return "|".join(
            [
                SCHEMA_VERSION,
                CHUNKER_VERSION,
                f"x{EXTRACTION_VERSION}",
                f"{self.embedder.model_path.parent.name}/{self.embedder.model_path.name}"
                + self.embedder.vector_kind,
                str(settings.chunk_size),
                str(settings.chunk_overlap),
            ]
        )

    def run(
        self,
        paths: Sequence[Path],
        rebuild: bool = False,
        progress: bool | None = None,
        base: Path | None = None,
        on_progress: ProgressCallback | None = None,
        collection: str | None = None,
    ) -> IngestReport:
        """Ingest `paths` (files or folders); see the module docstring for the guarantees.

        Each file goes to `collection` when given, else to the collection its folder is mapped
        to in `settings.collection_folders`, else it stays where it is (new files: `default`);
        a file already indexed in another collection moves (its vectors are re-tagged, not
        re-embedded).
        """
        if collection is not None:
            check_name(collection)
        started = time.perf_counter()
        self.settings.index_dir.mkdir(parents=True, exist_ok=True)
        with self._writing():
            return self._run(
                paths, rebuild, progress, base or Path.cwd(), started, on_progress, collection
            )

    def remove(self, doc_id: str) -> DocumentRecord | None:
        """Take one document out of the index (its vectors too, and its attachments), under
        the writer lock; an upload (a file in `uploads_dir`) loses its saved file, so a
        re-index does not bring it back. Returns the removed record (None: no such document)."""
        with self._writing():
            record = self.catalog.document(doc_id)
            if record is None:
                return None
            self.recover()
            for attachment in _attachments_of(self.catalog.documents(), record.path):
                self.catalog.remove_document(attachment.doc_id)
            self.catalog.remove_document(doc_id)
            self._collect_garbage()
            if self.settings.is_upload(record.path):
                Path(record.path).unlink(missing_ok=True)
            return record

    @contextmanager
    def _writing(self) -> Iterator[None]:
        """Hold the catalog's writer lock (IndexBusyError after `ingest_lock_timeout`)."""
        with self.catalog.writer_lock(self.settings.ingest_lock_timeout):
            yield

    def _run(
        self,
        paths: Sequence[Path],
        rebuild: bool,
        progress: bool | None,
        base: Path,
        started: float,
        on_progress: ProgressCallback | None,
        collection: str | None,
    ) -> IngestReport:
        self.recover()
        fingerprint = self.fingerprint()
        before = self.catalog.get_meta("fingerprint")
        stale = before not in (None, fingerprint)
        rebuilt_because = rebuild_reasons(before, fingerprint) if stale else ()
        if rebuild or stale or self.catalog.get_meta(_REBUILDING):
            self.reset()
        self.catalog.set_meta("fingerprint", fingerprint)
        self._tag_collections()

        files, failed, roots = discover(paths, base)
        known = self.catalog.documents()
        known_hashes = {record.content_hash: record for record in known.values()}
        counts = dict.fromkeys(
            ("added", "updated", "unchanged", "deleted", "renamed", "chunks_reused"), 0
        )
        max_bytes = int(self.settings.max_file_mb * 1_000_000)
        show = sys.stderr.isatty() if progress is None else progress
        ocr = self.settings.reader_ocr
        batch: list[_Prepared] = []
        seen_hashes: dict[str, str] = {}
        moved_away: set[str] = set()  # old paths of renamed documents: not deleted below
        moves: list[_Move] = []
        present: set[str] = set()  # the paths of this run's files and of their attachments
        bar = tqdm(files, desc="ingest", unit="file", disable=not show, file=sys.stderr)
        tracker = IngestTracker(on_progress, bar, len(files), started)
        parsed: set[str] = set()  # paths whose bytes were read into a document in this run
        for done, first in enumerate(bar):
            tracker.read(done, first.source)
            # The file, then the attachments found in it (and theirs), each its own document.
            queue: list[tuple[SourceFile, bytes | None, str | None]] = [(first, None, None)]
            while queue:
                file, given, inherited = queue.pop(0)
                present.add(str(file.path))
                record = known.get(str(file.path))
                wanted = inherited or collection_for(
                    file.path,
                    self.settings.collection_folders,
                    collection,
                    None if record is None else record.collection,
                )
                try:
                    data = read_file(file.path, max_bytes) if given is None else given
                    digest = content_hash(data)
                    if record is not None and record.content_hash == digest:
                        seen_hashes[digest] = file.source
                        if record.collection == wanted:
                            counts["unchanged"] += 1
                        else:
                            self._move(record.doc_id, wanted)
                            log.info("moved %s to collection %s", file.source, wanted)
                            counts["updated"] += 1
                        # Its attachments are looked at again, as files are: one that could
                        # not be read is tried (and reported) again, the others are unchanged.
                        queue += _attachment_files(
                            file, attachments_in(data, file.path.suffix.lower()), wanted
                        )
                        parsed.add(str(file.path))
                        continue
                    duplicate = seen_hashes.get(digest)
                    twin = known_hashes.get(digest)
                    moved = None
                    if duplicate is None and twin is not None and twin.path != str(file.path):
                        if not is_present(Path(twin.path)):
                            # A moved file is not a duplicate: its old path is gone.
                            moved = None if twin.path in moved_away else twin
                        elif _holds(Path(twin.path), digest, max_bytes):
                            duplicate = twin.source  # (not when the twin itself changed since)
                    if duplicate is not None:
                        raise LoadError(f"duplicate of {duplicate}")
                    document = document_from_bytes(
                        data,
                        file.path.suffix.lower(),
                        file.source,
                        file.path.stem,
                        tracker.with_pages(ocr),
                    )
                    parsed.add(str(file.path))
                    queue += _attachment_files(file, document.attachments, wanted)
                    if moved is not None and self._reads_the_same(moved, document):
                        moved_away.add(moved.path)
                        seen_hashes[digest] = file.source
                        moves.append(_Move(moved, file, document, wanted))
                        if (
                            sum(move.record.chunks for move in moves)
                            >= self.settings.ingest_group_chunks
                        ):
                            self._move_all(moves, counts)
                            moves = []
                        continue
                    chunks = self.chunker.chunk(doc_id_for(file.path), document.text)
                except LoadError as exc:
                    error = str(exc)
                    if record is not None:  # nothing lost: the last good version stays searchable
                        error += "; the previously indexed version is kept"
                    failed.append(FailedFile(source=file.source, error=error))
                    log.info("skipped %s: %s", file.source, error)
                    continue
                seen_hashes[digest] = file.source
                log.info("read %s: %d chunks", file.source, len(chunks))
                batch.append(_Prepared(file, document, chunks, record, wanted))
                if sum(len(item.chunks) for item in batch) >= self.settings.ingest_group_chunks:
                    self._write(batch, counts, tracker)
                    batch = []
        self._write(batch, counts, tracker)
        self._move_all(moves, counts)
        tracker.finish()

        for path, record in known.items():
            if path in present or path in moved_away or not _under_any(Path(path), roots):
                continue
            container = container_of(Path(path))
            if container is None and Path(path).exists():
                continue  # a file still there that this run did not take (e.g. unsupported)
            if container is not None and str(container) not in parsed:
                continue  # an attachment of a message not read again (unchanged, or broken)
            self.catalog.remove_document(record.doc_id)
            log.info("removed %s", record.source)
            counts["deleted"] += 1
        self._collect_garbage()
        if any(counts[kind] for kind in ("added", "updated", "deleted", "renamed")):
            self.catalog.optimize()
            self.store.settle()
        elif self.catalog.needs_optimize():
            self.catalog.optimize()
        return IngestReport(
            **counts,
            rebuilt_because=rebuilt_because,
            failed=tuple(failed),
            chunks=self.catalog.chunk_count(),
            seconds=time.perf_counter() - started,
        )

    def _reads_the_same(self, record: DocumentRecord, document: Document) -> bool:
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

    def _move_all(self, moves: list[_Move], counts: dict[str, int]) -> None:
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
            # Vector ids start with their document's id (see _write); copies get the new one.
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
                chunks = self.chunker.chunk(doc_id_for(move.file.path), move.document.text)
                self._write(
                    [_Prepared(move.file, move.document, chunks, None, move.collection)], counts
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

    def _move(self, doc_id: str, collection: str) -> None:
        # Vectors first: a crash in between leaves the catalog saying the old collection, and
        # the next ingest moves the document again (re-tagging is idempotent).
        self.store.set_collection(self.catalog.vector_ids(doc_id), doc_id, collection)
        self.catalog.set_collection(doc_id, collection)

    def _tag_collections(self) -> None:
        """Once per index: tag vectors stored before collections existed with `default`."""
        if self.catalog.get_meta(VECTOR_COLLECTIONS):
            return
        for record in self.catalog.documents().values():
            ids = self.catalog.vector_ids(record.doc_id)
            self.store.set_collection(ids, record.doc_id, record.collection)
        self.catalog.set_meta(VECTOR_COLLECTIONS, "1")

    def _write(
        self, batch: list[_Prepared], counts: dict[str, int], tracker: IngestTracker | None = None
    ) -> None:
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

    def recover(self) -> None:
        """Undo the vector writes of an interrupted run and drop vectors nothing uses."""
        pending = self.catalog.pending()
        if pending:
            log.info("recovering: undoing the vector writes of %d documents", len(pending))
        for doc_id, vector_ids in pending.items():
            self.store.delete(vector_ids)
            self.catalog.clear_pending(doc_id)
        self._collect_garbage()

    def reset(self) -> None:
        """Empty the catalog and the store; a run killed half-way redoes it on the next run."""
        log.info("resetting the index")
        # Marked first: a store left full behind an emptied catalog would keep orphan vectors.
        self.catalog.set_meta(_REBUILDING, "1")
        self.store.reset()
        self.catalog.reset()
        self.catalog.delete_meta(_REBUILDING)

    def _collect_garbage(self) -> None:
        garbage = self.catalog.garbage()
        if garbage:
            log.info("deleting %d replaced vectors", len(garbage))
            self.store.delete(garbage)
            self.catalog.clear_garbage(garbage)


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


def _attachment_files(
    container: SourceFile, attachments: Sequence[Attachment], collection: str
) -> list[tuple[SourceFile, bytes | None, str | None]]:
    """A container's attachments as files to ingest, with their bytes and its collection."""
    return [
        (
            SourceFile(container.path / part.name, f"{container.source}/{part.name}"),
            part.data,
            collection,
        )
        for part in attachments
    ]


def _attachments_of(known: dict[str, DocumentRecord], path: str) -> list[DocumentRecord]:
    """The indexed attachments of the document at `path`, and theirs: the documents whose
    paths lie under it (no real file can)."""
    inside = path + os.sep
    return [record for other, record in known.items() if other.startswith(inside)]


def _holds(path: Path, digest: str, max_bytes: int) -> bool:
    """Whether the file at `path` still has the content hashed as `digest`."""
    try:
        return content_hash(read_file(path, max_bytes)) == digest
    except LoadError:
        return False


def _under_any(path: Path, roots: Sequence[Path]) -> bool:
    return any(path == root or root in path.parents for root in roots)
