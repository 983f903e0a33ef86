"""This process's writes to the index (an ingest, a document removed), audited, and its vector
reader kept in step with them and with the writes of other processes.

The collaborator behind `Assistant.ingest` and `Assistant.delete_document`; `Assistant.sync` and
`Assistant.retrieve` call `follow_other_writers` before they read. The ingest itself (and every
loader) is imported by the first write, not by a question.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from assistant.account_types import User
from assistant.audit import AuditLog, check_event
from assistant.catalog import Catalog, DocumentRecord
from assistant.embedding import Embedder
from assistant.errors import AccountError, UsageError
from assistant.retrieval import HybridRetriever
from assistant.settings import Settings
from assistant.types import IngestReport

if TYPE_CHECKING:
    from assistant.ingest import Ingestor
    from assistant.ingest_progress import ProgressCallback
    from assistant.vectorstore import VectorStore


class IndexWriter:
    """Writes to the index, counted as this process's own, and the vector reader reopened
    once another process has changed the index."""

    def __init__(
        self,
        settings: Settings,
        catalog: Catalog,
        store: VectorStore,
        embedder: Embedder,
        retriever: HybridRetriever,
        audit: AuditLog,
    ) -> None:
        self.settings = settings
        self.catalog = catalog
        self.store = store
        self.embedder = embedder
        self.retriever = retriever
        self.audit = audit
        self._lock = threading.Lock()
        self._ingesting = 0  # ingests running in this process
        self._vectors_seen: int | None = None  # catalog generation the vector reader has

    def ingest(
        self,
        paths: Sequence[str | Path] | str | Path | None,
        *,
        rebuild: bool,
        progress: bool | None,
        on_progress: ProgressCallback | None,
        collection: str | None,
        by: str | None,
        action: Literal["ingest", "upload", "reindex"] | None,
        request_id: str | None,
    ) -> IngestReport:
        """Bring the index in line with files or folders, audited (`Assistant.ingest`)."""
        if action is not None:
            check_event(action)  # before anything is written, not after
        if isinstance(paths, (str, Path)):
            paths = [paths]  # one file or folder (a string is not a list of one-letter paths)
        if paths and any(not str(p).strip() for p in paths):
            raise UsageError("an empty path names no file or folder: give a file or a folder")
        if rebuild and paths is not None and not paths:
            raise UsageError("a rebuild of no paths would empty the index: name what to read")
        # An empty list reads nothing (a caller's filter that kept no file); None, the folders.
        targets = [Path(p) for p in paths] if paths is not None else self.settings.document_folders
        with self._writing() as ingestor:
            report = ingestor.run(
                targets,
                rebuild=rebuild,
                progress=progress,
                on_progress=on_progress,
                collection=collection,
            )
        if action is None:
            return report
        self.audit.record(
            action,
            by,
            request_id,
            targets=[p.name if action == "upload" else str(p) for p in targets],
            collection=collection,
            added=report.added,
            updated=report.updated,
            deleted=report.deleted,
            renamed=report.renamed,
            failed=len(report.failed),
        )
        return report

    def delete(
        self, doc_id: str, *, user: User | None, request_id: str | None
    ) -> DocumentRecord | None:
        """Take a document out of the index, audited (`Assistant.delete_document`)."""
        if user is not None and not user.admin:
            raise AccountError("only administrators delete documents")
        if not self.catalog.exists():
            return None
        with self._writing() as ingestor:
            removed = ingestor.remove(doc_id)
        if removed is not None:
            self.audit.record(
                "delete", None if user is None else user.name, request_id, doc_id=doc_id
            )
        return removed

    @contextmanager
    def _writing(self) -> Iterator[Ingestor]:
        """An ingestor for one write to the index, counted as this process's own write."""
        from assistant.ingest import Ingestor

        ingestor = Ingestor(self.settings, self.catalog, self.store, self.embedder)
        with self._lock:
            self._ingesting += 1
        try:
            yield ingestor
        finally:
            # Our own writes are already visible to our vector reader.
            generation = self.catalog.generation() if self.catalog.exists() else None
            with self._lock:
                self._ingesting -= 1
                self._vectors_seen = generation
        # A write that went through: the sentence search reads the new sentences now, not on
        # the next question (sentence_search.py).
        if self.retriever.sentences is not None:
            self.retriever.sentences.refresh()

    def follow_other_writers(self) -> None:
        """Reopen the embedded vector store once another process has changed the index."""
        if self.settings.chroma_mode == "http":
            return  # every process talks to the same server
        generation = self.catalog.generation()
        with self._lock:
            if self._ingesting or generation == self._vectors_seen:
                return
        if self.catalog.writer_busy():
            return  # reload once when that ingest ends, not on each of its commits
        with self._lock:
            stale = self._vectors_seen is not None or self.store.is_open
            self._vectors_seen = generation
        if stale:
            self.store.refresh()
