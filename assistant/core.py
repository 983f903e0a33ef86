"""The Assistant: the Python API that ties the pipeline stages together."""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from assistant import answering
from assistant.account_types import User
from assistant.accounts import Accounts, visible
from assistant.answerers import Answerer, Question, create_answerer
from assistant.answering import HistoryLike
from assistant.audit import AuditLog
from assistant.catalog import DocumentRecord, DocumentText, open_catalog
from assistant.collections import CollectionInfo, restrict
from assistant.conversation_views import mentions_all, withhold_unreadable
from assistant.conversations import conversation_store
from assistant.embedding import Embedder
from assistant.errors import BadQuestionError, IndexMissingError
from assistant.feedbackstore import feedback_store
from assistant.index_writes import IndexWriter
from assistant.questionlog import question_log
from assistant.retrieval import HybridRetriever, Retrieval
from assistant.sentence_search import SentenceSearch
from assistant.settings import Settings
from assistant.sync import SyncReport, SyncStatus, read_status
from assistant.types import (
    Answer,
    Conversation,
    ConversationSummary,
    IndexFingerprint,
    IngestReport,
)

if TYPE_CHECKING:  # ingest (and every loader) is imported by the first ingest, not by a question
    from assistant.evaluation.golden import GoldenItem
    from assistant.ingest_progress import ProgressCallback
    from assistant.pageimage import PageImages
    from assistant.quality import QualityReport
    from assistant.suggestions import KeptSuggestions


class Assistant:
    """Ask questions of a document index; ingest documents into it.

    Construction is cheap: the embedding model, Chroma and the catalog open on first use.
    `conversations` is the store of the web chat's conversations (assistant.conversations).
    """

    def __init__(self, settings: Settings | None = None, **overrides: object) -> None:
        base = settings if settings is not None else Settings()
        self.settings = base.with_overrides(**overrides) if overrides else base
        self.catalog = open_catalog(self.settings)
        self.accounts = Accounts.from_settings(self.settings, self.catalog)
        self.audit = AuditLog.from_settings(self.settings, self.catalog)
        self.embedder = Embedder.from_settings(self.settings)
        from assistant.vectorstore import VectorStore

        self.store = VectorStore(self.settings)
        self.retriever = HybridRetriever(
            self.catalog,
            self.store,
            self.embedder,
            candidates=self.settings.candidates,
            rrf_k=self.settings.rrf_k,
            rerank_depth=self.settings.rerank_depth,
            sentences=SentenceSearch(
                self.catalog, self.embedder, self.settings.sentence_search_limit
            ),
        )
        self.conversations = conversation_store(self.settings, self.catalog)
        self.questions = question_log(self.settings, self.catalog)
        self.feedback = feedback_store(self.settings, self.catalog)
        self._writer = IndexWriter(
            self.settings, self.catalog, self.store, self.embedder, self.retriever, self.audit
        )
        self._answerer: Answerer | None = None
        self._lock = threading.Lock()
        self._suggestions: KeptSuggestions | None = None  # made by the first empty chat
        self._page_images: PageImages | None = None  # made by the first scanned page shown

    @property
    def answerer(self) -> Answerer:
        """The configured answerer backend."""
        with self._lock:
            if self._answerer is None:
                self._answerer = create_answerer(self.settings.answerer, self.settings)
            return self._answerer

    # -- ingestion ------------------------------------------------------------------------
    def ingest(
        self,
        paths: Sequence[str | Path] | str | Path | None = None,
        rebuild: bool = False,
        progress: bool | None = False,
        on_progress: ProgressCallback | None = None,
        collection: str | None = None,
        *,
        by: str | None = None,
        action: Literal["ingest", "upload", "reindex"] | None = "ingest",
        request_id: str | None = None,
    ) -> IngestReport:
        """Bring the index in line with files or folders (one path, or a list of them; None:
        settings.document_folders; an empty list reads nothing). A `rebuild` drops the index
        and reads back only the paths given, so it is refused (UsageError, the index untouched)
        when one of them is missing, or when none is given.

        `progress` shows a terminal bar (None: when stderr is a terminal); `on_progress` is
        called with (files done, files in all, current file). `collection` puts every file
        of this run into that collection (default: the settings' `collection_folders`, else
        where each file already is, else `default`). The run is recorded in the audit log as
        `action` by the user named `by` (None: a trusted caller); `action` None records nothing,
        for a caller that records its own event (a sync records one `sync` event).
        """
        return self._writer.ingest(
            paths,
            rebuild=rebuild,
            progress=progress,
            on_progress=on_progress,
            collection=collection,
            by=by,
            action=action,
            request_id=request_id,
        )

    def delete_document(
        self, doc_id: str, user: User | None = None, request_id: str | None = None
    ) -> DocumentRecord | None:
        """Take a document out of the index, so that no answer cites it again; an upload (a
        file in `uploads_dir`) loses its saved file too, so a re-index does not bring it back.

        Only admins delete (`user` None: a trusted caller); a member gets AccountError.
        Returns the removed document's record, None when there is no such document. A file
        in a document folder stays there: the next sync or re-index indexes it again. A
        message's attachments (documents of their own) go with it; an attachment deleted
        alone comes back with the next sync or re-index, like a file of a folder.
        """
        return self._writer.delete(doc_id, user=user, request_id=request_id)

    def sync(
        self,
        folders: Sequence[str | Path] | None = None,
        *,
        changed: Sequence[str | Path] | None = None,
        progress: bool | None = False,
        on_progress: ProgressCallback | None = None,
        command: Literal["sync", "watch"] = "sync",
    ) -> SyncReport | None:
        """Bring the index in line with document folders (default: settings.document_folders)
        and record the outcome for `sync_status`.

        With `changed` (what the watcher saw change inside `folders`), only those paths are
        read; None is returned when none of them needs work. A missing folder is reported as a
        failure and its documents are kept. Errors are recorded, then raised. A sync that
        completes is recorded in the audit log as one `sync` event of the system (user None),
        naming `command`, the one that ran it.
        """
        from assistant.sync import run_sync

        roots = [Path(p) for p in folders] if folders else self.settings.document_folders
        paths = None if changed is None else [Path(p) for p in changed]
        if self.catalog.exists():
            # A long-running watcher must see vectors another writer stored (a rename copies
            # them) before it writes.
            self._writer.follow_other_writers()
        return run_sync(
            self, roots, paths, progress=progress, on_progress=on_progress, command=command
        )

    def sync_status(self) -> SyncStatus | None:
        """The last sync (`assistant sync` or `assistant watch`) and the files that fail (None:
        never synced)."""
        return read_status(self.catalog)

    def documents(self, user: User | None = None) -> list[DocumentRecord]:
        """The indexed documents (those `user` may read)."""
        if not self.catalog.exists():
            return []
        readable = None if user is None else self.accounts.readable(user)
        return [
            record
            for record in self.catalog.documents().values()
            if readable is None or record.collection in readable
        ]

    def document_text(self, doc_id: str, user: User | None = None) -> DocumentText | None:
        """An indexed document's text by catalog id, if `user` may read it (None: the id is
        unknown or the document forbidden to the user, alike)."""
        found = self._readable_record(doc_id, user)
        if found is None:
            return None
        try:
            text, headings, page_starts = self.catalog.document_structure(doc_id)
        except KeyError:  # removed since it was listed
            return None
        return DocumentText(found, text, headings, page_starts)

    def _readable_record(self, doc_id: str, user: User | None) -> DocumentRecord | None:
        """An indexed document's record, if `user` may read it (None: unknown or forbidden)."""
        if not self.catalog.exists():
            return None
        found = self.catalog.document(doc_id)
        readable = None if user is None else self.accounts.readable(user)
        if found is None or (readable is not None and found.collection not in readable):
            return None
        return found

    def page_image(self, doc_id: str, page: int, user: User | None = None) -> bytes | None:
        """A PNG of a scanned page (a PDF page without a text layer, a frame of an image) of a
        document `user` may read, rendered from its file while the file is still the version
        that was indexed; None otherwise (a page with text, a changed or missing file, an id
        unknown or forbidden, alike)."""
        record = self._readable_record(doc_id, user)
        if record is None:
            return None
        from assistant.pageimage import PageImages

        with self._lock:
            if self._page_images is None:
                self._page_images = PageImages(int(self.settings.max_file_mb * 1_000_000))
            images = self._page_images
        return images.render(record, page)

    def conversation(
        self, owner: str, conversation_id: str, user: User | None = None
    ) -> Conversation | None:
        """A stored conversation of `owner` as `user` may read it now: an answer citing a
        document outside what the user may read (their grants changed, or it left the index)
        is withheld (None: no such conversation of that owner)."""
        found = self.conversations.get(owner, conversation_id)
        if found is None or user is None:
            return found
        return withhold_unreadable(found, {record.doc_id for record in self.documents(user)})

    def find_conversations(
        self, owner: str, query: str = "", user: User | None = None
    ) -> list[ConversationSummary]:
        """The owner's conversations, newest first, whose title, questions or answers hold
        every word of `query`: for `user`, only in what `conversation` shows them (a withheld
        answer is not searched)."""
        found = self.conversations.list_conversations(owner, query)
        if user is None or not query.split():
            return found
        readable = {record.doc_id for record in self.documents(user)}
        kept = []
        for summary in found:
            conversation = self.conversations.get(owner, summary.id)
            if conversation and mentions_all(withhold_unreadable(conversation, readable), query):
                kept.append(summary)
        return kept

    def suggested_questions(self, limit: int = 4, user: User | None = None) -> list[str]:
        """Up to `limit` short questions for an empty chat, drafted from the documents `user`
        may read and answered from them before they are offered (assistant.suggestions); none
        when no candidate is answered well. Kept until the index or the readable set changes."""
        if limit <= 0 or not self.catalog.exists():
            return []
        from assistant.suggestions import KeptSuggestions

        with self._lock:
            if self._suggestions is None:
                self._suggestions = KeptSuggestions()
            kept = self._suggestions
        return kept.for_reader(self, limit, user)

    def index_fingerprint(self) -> IndexFingerprint | None:
        """How the index was built and a digest of the documents it holds (None: no index)."""
        if not self.catalog.exists():
            return None
        records = sorted(self.catalog.documents().values(), key=lambda r: r.source)
        digest = hashlib.sha256()
        for record in records:
            digest.update(f"{record.source}\0{record.content_hash}\n".encode())
        return IndexFingerprint(
            build=self.catalog.get_meta("fingerprint") or "",
            documents=digest.hexdigest()[:16],
            document_count=len(records),
            chunk_count=self.catalog.chunk_count(),
        )

    # -- asking ---------------------------------------------------------------------------
    def ask(
        self,
        question: str,
        history: HistoryLike | None = None,
        *,
        k: int | None = None,
        answerer: Answerer | None = None,
        collections: Sequence[str] | None = None,
        user: User | None = None,
        request_id: str | None = None,
    ) -> Answer:
        """Answer a question from the indexed documents, with citations, or refuse.

        `k` overrides the passages retrieved and `answerer` the configured backend, for this
        question only; `collections` limits the documents it may be answered from (None: all);
        `user` limits them to what that user may read (None: a trusted caller, no limit);
        `request_id` ties the question's audit record to the request or chat turn.
        """
        return answering.ask(
            self,
            question,
            history,
            k=k,
            answerer=answerer,
            collections=collections,
            user=user,
            request_id=request_id,
        )

    def stream(
        self,
        question: str,
        history: HistoryLike | None = None,
        *,
        k: int | None = None,
        answerer: Answerer | None = None,
        collections: Sequence[str] | None = None,
        user: User | None = None,
        request_id: str | None = None,
    ) -> Iterator[str | Answer]:
        """Answer incrementally: text pieces as they are produced, then the final Answer.

        The final Answer is authoritative (citations checked); its text may differ from the
        concatenated pieces when unsupported sentences were removed. `k`, `answerer`,
        `collections`, `user` and `request_id` as for `ask`. Bad input raises here, not at
        the first piece.
        """
        return answering.stream(
            self,
            question,
            history,
            k=k,
            answerer=answerer,
            collections=collections,
            user=user,
            request_id=request_id,
        )

    def prepare_question(
        self,
        question: str,
        history: HistoryLike | None = None,
        answerer: Answerer | None = None,
        *,
        collections: Sequence[str] | None = None,
        user: User | None = None,
    ) -> Question:
        """Validate and clean the question, and make it standalone using the history.

        A word no document uses and no English word is, one letter off a word the documents
        do use, is searched for as they spell it ("brokrages": "brokerages"); of the
        documents in `collections` that `user` may read, as for `ask`. An LLM `answerer`
        (default: the configured one) rewrites follow-ups itself.
        """
        return answering.prepare_question(
            self, question, history, answerer=answerer, collections=collections, user=user
        )

    def retrieve(
        self,
        query: str,
        k: int | None = None,
        *,
        collections: Sequence[str] | None = None,
        user: User | None = None,
    ) -> Retrieval:
        """The top passages for a (standalone) query, from all or only the given collections,
        and only from those `user` may read.

        Raises CollectionError for a malformed or unknown collection name (a collection the
        user may not read is unknown to them).
        """
        answering.check_arguments(k, user)
        if not isinstance(query, str) or not query.strip():
            raise BadQuestionError("the query is empty: give the words to search for")
        self.require_index()
        allowed = self.check_collections(collections, user)
        self._writer.follow_other_writers()
        return self.retriever.retrieve(query, k or self.settings.top_k, allowed)

    def check_collections(
        self, collections: Sequence[str] | None, user: User | None = None
    ) -> tuple[str, ...] | None:
        """The collections a question may search (None: all); CollectionError if one is
        malformed or unknown to the user (a forbidden collection reads as an unknown one)."""
        readable = None if user is None else self.accounts.readable(user)
        if readable is None and collections is None:
            return None  # everything: nothing to check (the common question)
        existing = self.catalog.collection_names() if self.catalog.exists() else []
        if readable is None:
            return restrict(collections, existing)
        mine = visible(readable, existing)
        return tuple(mine) if collections is None else restrict(collections, mine)

    def collections(self, user: User | None = None) -> list[CollectionInfo]:
        """The index's collections (those `user` may read) with document and passage counts."""
        if not self.catalog.exists():
            return []
        readable = None if user is None else self.accounts.readable(user)
        return [
            CollectionInfo(name, documents, chunks)
            for name, (documents, chunks) in self.catalog.collections().items()
            if readable is None or name in readable
        ]

    # -- quality ----------------------------------------------------------------------------
    def quality(
        self,
        since: float | None = None,
        until: float | None = None,
        *,
        group: str | None = None,
        collection: str | None = None,
    ) -> QualityReport:
        """What staff asked in [since, until) (seconds since the epoch; None: open) and what
        they reported: questions per day, refusals, thumbs, the slowest answers, and every
        thumbs-down answer (assistant.quality). `group` keeps the questions of that group's
        members, `collection` the answers citing its documents (QualityError when `until` is
        not after `since`). For admins: it shows questions and answers of every user.
        """
        from assistant.quality import report_of

        return report_of(self, since, until, group=group, collection=collection)

    def promote_feedback(
        self,
        feedback_id: str,
        golden: Path,
        *,
        key_terms: Sequence[str] = (),
        sources: Sequence[str] = (),
        answer: str | None = None,
        unanswerable: bool = False,
        question_id: str | None = None,
    ) -> GoldenItem:
        """Turn a reported answer into a golden question appended to `golden` (created when
        missing): the question that was searched, what a right answer holds (key terms, the
        indexed documents that hold it, or unanswerable) and where it came from."""
        from assistant.quality import promote

        return promote(
            self,
            feedback_id,
            golden,
            key_terms=key_terms,
            sources=sources,
            answer=answer,
            unanswerable=unanswerable,
            question_id=question_id,
        )

    def require_index(self) -> None:
        """Raise IndexMissingError unless an index with passages exists."""
        if not self.catalog.exists() or self.catalog.chunk_count() == 0:
            raise IndexMissingError(
                f"no index at {self.settings.index_dir}: run `assistant ingest` first"
            )

    def close(self) -> None:
        """Release this thread's catalog, conversation and question log connections."""
        self.catalog.close()
        self.conversations.close()
        self.questions.close()

    def __enter__(self) -> Assistant:
        return self

    def __exit__(self, *exc: object) -> None:
        """`with Assistant(...) as assistant:` closes its connections at the end."""
        self.close()
