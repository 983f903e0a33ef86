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
from dataclasses import dataclass, field
from pathlib import Path

from tqdm import tqdm

from assistant.catalog import VECTOR_COLLECTIONS, Catalog, DocumentRecord
from assistant.chunking import Chunker
from assistant.collections import check_name, collection_for
from assistant.discovery import MISSING, SourceFile, discover, doc_id_for
from assistant.embedding import Embedder
from assistant.errors import LoadError, UsageError
from assistant.ingest_fingerprint import ingest_fingerprint, rebuild_reasons
from assistant.ingest_moves import Move, MoveWriter
from assistant.ingest_progress import IngestTracker, ProgressCallback
from assistant.ingest_write import BatchWriter, Prepared
from assistant.loaders import (
    attachments_in,
    container_of,
    content_hash,
    document_from_bytes,
    is_present,
    read_file,
)
from assistant.settings import Settings
from assistant.types import Attachment, FailedFile, IngestReport
from assistant.vectorstore import VectorStore

log = logging.getLogger(__name__)

_REBUILDING = "rebuilding"  # catalog meta key set while a reset of catalog and store is under way


# A file to take: the file, its bytes when it is an attachment, its container's collection.
_Queued = tuple[SourceFile, bytes | None, str | None]


@dataclass
class _Run:
    """What one ingest run knows, has seen and still has to write."""

    known: dict[str, DocumentRecord]  # the indexed documents by path, as the run started
    failed: list[FailedFile]
    collection: str | None  # the run's collection, if it names one
    counts: dict[str, int] = field(
        default_factory=lambda: dict.fromkeys(
            ("added", "updated", "unchanged", "deleted", "renamed", "chunks_reused"), 0
        )
    )
    batch: list[Prepared] = field(default_factory=list)  # read, not yet written
    moves: list[Move] = field(default_factory=list)  # moved files, not yet renamed
    seen_hashes: dict[str, str] = field(default_factory=dict)  # content hash -> source
    moved_away: set[str] = field(default_factory=set)  # old paths of renamed documents
    present: set[str] = field(default_factory=set)  # paths of this run's files and attachments
    parsed: set[str] = field(default_factory=set)  # paths whose bytes were read in this run

    known_hashes: dict[str, DocumentRecord] = field(init=False)  # the same by content hash

    def __post_init__(self) -> None:
        self.known_hashes = {record.content_hash: record for record in self.known.values()}


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
        self._writer = BatchWriter(catalog, store, embedder)
        self._moves = MoveWriter(catalog, store, self._writer, lambda: self.chunker)

    @property
    def chunker(self) -> Chunker:
        """The chunker, sized in the embedding model's word pieces."""
        if self._chunker is None:
            self._chunker = Chunker(
                self.settings.chunk_size, self.settings.chunk_overlap, self.embedder.tokenize_ids
            )
        return self._chunker

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
        fingerprint = ingest_fingerprint(self.settings, self.embedder)
        before = self.catalog.get_meta("fingerprint")
        stale = before not in (None, fingerprint)
        rebuilt_because = rebuild_reasons(before, fingerprint) if stale else ()
        files, failed, roots = discover(paths, base)
        if rebuild:
            _check_rebuild(files, failed)
        if rebuild or stale or self.catalog.get_meta(_REBUILDING):
            self.reset()
        self.catalog.set_meta("fingerprint", fingerprint)
        self._tag_collections()

        run = _Run(self.catalog.documents(), failed, collection)
        show = sys.stderr.isatty() if progress is None else progress
        bar = tqdm(files, desc="ingest", unit="file", disable=not show, file=sys.stderr)
        tracker = IngestTracker(on_progress, bar, len(files), started)
        for done, first in enumerate(bar):
            tracker.read(done, first.source)
            # The file, then the attachments found in it (and theirs), each its own document.
            queue: list[_Queued] = [(first, None, None)]
            while queue:
                queue += self._take(run, *queue.pop(0), tracker)
        self._writer.write(run.batch, run.counts, tracker)
        self._moves.write(run.moves, run.counts)
        tracker.finish()
        self._remove_missing(run, roots)
        self._collect_garbage()
        counts = run.counts
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

    def _take(
        self,
        run: _Run,
        file: SourceFile,
        given: bytes | None,
        inherited: str | None,
        tracker: IngestTracker,
    ) -> list[_Queued]:
        """Read one file (`given`: an attachment's bytes) and do what it needs: for an unchanged
        one nothing, or a move to its collection now; for a moved one a rename (queued); else
        its chunks join the next batch written. Returns its attachments, to be taken next."""
        run.present.add(str(file.path))
        record = run.known.get(str(file.path))
        wanted = inherited or collection_for(
            file.path,
            self.settings.collection_folders,
            run.collection,
            None if record is None else record.collection,
        )
        max_bytes = int(self.settings.max_file_mb * 1_000_000)
        attachments: list[_Queued] = []
        try:
            data = read_file(file.path, max_bytes) if given is None else given
            digest = content_hash(data)
            if record is not None and record.content_hash == digest:
                run.seen_hashes[digest] = file.source
                if record.collection == wanted:
                    run.counts["unchanged"] += 1
                else:
                    self._move(record.doc_id, wanted)
                    log.info("moved %s to collection %s", file.source, wanted)
                    run.counts["updated"] += 1
                # Its attachments are looked at again, as files are: one that could not be
                # read is tried (and reported) again, the others are unchanged.
                attachments = _attachment_files(
                    file, attachments_in(data, file.path.suffix.lower()), wanted
                )
                run.parsed.add(str(file.path))
                return attachments
            duplicate = run.seen_hashes.get(digest)
            twin = run.known_hashes.get(digest)
            moved = None
            if duplicate is None and twin is not None and twin.path != str(file.path):
                if not is_present(Path(twin.path)):
                    # A moved file is not a duplicate: its old path is gone.
                    moved = None if twin.path in run.moved_away else twin
                elif _holds(Path(twin.path), digest, max_bytes):
                    # (not when the twin itself changed since); by its full path when its name
                    # reads as this file's (both relative to where each run was started)
                    duplicate = twin.path if twin.source == file.source else twin.source
            if duplicate is not None:
                raise LoadError(f"duplicate of {duplicate}")
            document = document_from_bytes(
                data,
                file.path.suffix.lower(),
                file.source,
                file.path.stem,
                tracker.with_pages(self.settings.reader_ocr),
            )
            run.parsed.add(str(file.path))
            attachments = _attachment_files(file, document.attachments, wanted)
            if moved is not None and self._moves.reads_the_same(moved, document):
                run.moved_away.add(moved.path)
                run.seen_hashes[digest] = file.source
                run.moves.append(Move(moved, file, document, wanted))
                if (
                    sum(move.record.chunks for move in run.moves)
                    >= self.settings.ingest_group_chunks
                ):
                    self._moves.write(run.moves, run.counts)
                    run.moves = []
                return attachments
            chunks = self.chunker.chunk(doc_id_for(file.path), document.text)
        except LoadError as exc:
            error = str(exc)
            if record is not None:  # nothing lost: the last good version stays searchable
                error += "; the previously indexed version is kept"
            run.failed.append(FailedFile(source=file.source, error=error))
            log.info("skipped %s: %s", file.source, error)
            return attachments
        run.seen_hashes[digest] = file.source
        log.info("read %s: %d chunks", file.source, len(chunks))
        run.batch.append(Prepared(file, document, chunks, record, wanted))
        if sum(len(item.chunks) for item in run.batch) >= self.settings.ingest_group_chunks:
            self._writer.write(run.batch, run.counts, tracker)
            run.batch = []
        return attachments

    def _remove_missing(self, run: _Run, roots: Sequence[Path]) -> None:
        """Remove the indexed documents under the run's folders whose files are gone (and the
        attachments of a message read again that no longer holds them)."""
        for path, record in run.known.items():
            if path in run.present or path in run.moved_away or not _under_any(Path(path), roots):
                continue
            container = container_of(Path(path))
            if container is None and Path(path).exists():
                continue  # a file still there that this run did not take (e.g. unsupported)
            if container is not None and str(container) not in run.parsed:
                continue  # an attachment of a message not read again (unchanged, or broken)
            self.catalog.remove_document(record.doc_id)
            log.info("removed %s", record.source)
            run.counts["deleted"] += 1

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


def _attachment_files(
    container: SourceFile, attachments: Sequence[Attachment], collection: str
) -> list[_Queued]:
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


def _check_rebuild(files: Sequence[SourceFile], failed: Sequence[FailedFile]) -> None:
    """A rebuild drops the whole index and reads back only what it is given: refuse it, with
    the index untouched, when a path given does not exist or no file is there to read back."""
    missing = [f.source for f in failed if f.error == MISSING]
    if missing:
        raise UsageError(
            f"not rebuilt, the index is unchanged: {', '.join(missing)}: {MISSING} (a rebuild "
            "reads back only the paths given)"
        )
    if not files:
        raise UsageError(
            "not rebuilt, the index is unchanged: no file to index under the paths given (a "
            "rebuild reads back only the paths given)"
        )
