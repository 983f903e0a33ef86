"""The Assistant: the Python API that ties the pipeline stages together."""

from __future__ import annotations

import hashlib
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from assistant.accounts import Accounts, User, visible
from assistant.answerers import (
    Answerer,
    Condenser,
    Question,
    StreamingAnswerer,
    create_answerer,
)
from assistant.audit import AuditLog
from assistant.catalog import DocumentRecord, DocumentText, open_catalog
from assistant.citations import related_passages
from assistant.collections import CollectionInfo, restrict
from assistant.condense import condense
from assistant.conversation_views import mentions_all, withhold_unreadable
from assistant.conversations import conversation_store
from assistant.embedding import Embedder
from assistant.errors import AccountError, BadQuestionError, IndexMissingError
from assistant.feedbackstore import feedback_store
from assistant.questionlog import new_entry, question_log
from assistant.retrieval import HybridRetriever, Retrieval
from assistant.sentence_search import SentenceSearch
from assistant.settings import Settings
from assistant.sync import SyncReport, SyncStatus, read_status
from assistant.text import clean_lines, clean_text, text_pieces
from assistant.types import (
    Answer,
    Conversation,
    ConversationSummary,
    IndexFingerprint,
    IngestReport,
    Message,
)

if TYPE_CHECKING:  # ingest (and every loader) is imported by the first ingest, not by a question
    from assistant.evaluation.golden import GoldenItem
    from assistant.ingest import Ingestor
    from assistant.ingest_progress import ProgressCallback
    from assistant.pageimage import PageImages
    from assistant.quality import QualityReport
    from assistant.suggestions import KeptSuggestions

HistoryLike = Sequence[Message | dict[str, str] | tuple[str, str]]


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
        self._answerer: Answerer | None = None
        self._lock = threading.Lock()
        self._ingesting = 0  # ingests running in this process
        self._vectors_seen: int | None = None  # catalog generation the vector reader has
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
        paths: Sequence[str | Path] | None = None,
        rebuild: bool = False,
        progress: bool | None = False,
        on_progress: ProgressCallback | None = None,
        collection: str | None = None,
        *,
        by: str | None = None,
        action: Literal["ingest", "upload", "reindex"] | None = "ingest",
        request_id: str | None = None,
    ) -> IngestReport:
        """Bring the index in line with files or folders (default: settings.document_folders).

        `progress` shows a terminal bar (None: when stderr is a terminal); `on_progress` is
        called with (files done, files in all, current file). `collection` puts every file
        of this run into that collection (default: the settings' `collection_folders`, else
        where each file already is, else `default`). The run is recorded in the audit log as
        `action` by the user named `by` (None: a trusted caller); `action` None records nothing,
        for a caller that records its own event (a sync records one `sync` event).
        """
        targets = [Path(p) for p in paths] if paths else self.settings.document_folders
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
            self._follow_other_writers()
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
        started = time.perf_counter()
        chosen = answerer or self.answerer
        prepared = self.prepare_question(question, history, answerer=chosen)
        retrieval = self.retrieve(prepared.standalone, k, collections=collections, user=user)
        clock = time.perf_counter()
        answer = chosen.answer(prepared, retrieval)
        return self._finish(
            answer, prepared, retrieval, clock, started, collections, user, request_id
        )

    def _finish(
        self,
        answer: Answer,
        prepared: Question,
        retrieval: Retrieval,
        answer_started: float,
        started: float,
        collections: Sequence[str] | None,
        user: User | None,
        request_id: str | None,
    ) -> Answer:
        timings = dict(retrieval.timings_ms)
        timings.update(answer.timings_ms)
        timings["answer"] = (time.perf_counter() - answer_started) * 1000
        timings["total"] = (time.perf_counter() - started) * 1000
        answer = answer.model_copy(
            update={
                "question": prepared.text,
                "standalone_question": prepared.standalone if prepared.is_followup else None,
                # The answerer's own list (its best windows), else retrieval's passages.
                "related": answer.related or related_passages(retrieval.passages, answer.citations),
                "timings_ms": timings,
            }
        )
        entry = new_entry(
            answer.question,
            answer.standalone_question,
            user=None if user is None else user.name,
            groups=() if user is None else user.groups,
            collections=collections,
            refused=answer.refused,
            confidence=answer.confidence,
            total_ms=timings["total"],
            answer_chars=len(answer.text),
            sources=[citation.source for citation in answer.citations],
        )
        self.questions.record(entry)
        self.audit.record(
            "question",
            entry.user,
            request_id,
            question_id=entry.id if self.questions.enabled else None,
            collections=None if collections is None else list(collections),
            refused=answer.refused,
            cited=list(dict.fromkeys(c.doc_id or c.source for c in answer.citations)),
        )
        return answer

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
        `collections`, `user` and `request_id` as for `ask`.
        """
        started = time.perf_counter()
        answerer = answerer or self.answerer
        prepared = self.prepare_question(question, history, answerer=answerer)
        retrieval = self.retrieve(prepared.standalone, k, collections=collections, user=user)
        clock = time.perf_counter()
        final: Answer | None = None
        if isinstance(answerer, StreamingAnswerer):
            for event in answerer.stream(prepared, retrieval):
                if isinstance(event, Answer):
                    final = event
                else:
                    yield event
        else:
            final = answerer.answer(prepared, retrieval)
            yield from text_pieces(final.text)
        if final is None:
            raise RuntimeError(f"answerer {answerer.name!r} ended its stream without an answer")
        yield self._finish(
            final, prepared, retrieval, clock, started, collections, user, request_id
        )

    def prepare_question(
        self,
        question: str,
        history: HistoryLike | None = None,
        answerer: Answerer | None = None,
    ) -> Question:
        """Validate and clean the question, and make it standalone using the history.

        An LLM `answerer` (default: the configured one) rewrites follow-ups itself.
        """
        if not isinstance(question, str):
            raise BadQuestionError("the question must be text")
        limit = self.settings.max_question_chars
        if len(question) > limit:
            raise BadQuestionError(
                f"the question is too long ({len(question)} characters; the limit is {limit})"
            )
        cleaned = clean_text(question)
        if not cleaned:
            raise BadQuestionError("the question is empty")
        messages = tuple(_clean_message(_message(item)) for item in history or ())
        condenser = (answerer or self.answerer) if messages else None
        if isinstance(condenser, Condenser):  # an LLM rewrites follow-ups
            return Question(cleaned, condenser.condense(cleaned, messages), messages)
        return Question(cleaned, condense(cleaned, messages), messages)

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
        self.require_index()
        allowed = self.check_collections(collections, user)
        self._follow_other_writers()
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
        members, `collection` the answers citing its documents. For admins: it shows
        questions and answers of every user.
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

    def _follow_other_writers(self) -> None:
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


def _clean_message(message: Message) -> Message:
    # An answer keeps its line breaks, so that its code block and list are read as such
    # (condense); a question is one line, as the question asked now is.
    clean = clean_lines if message.role == "assistant" else clean_text
    return message.model_copy(update={"content": clean(message.content)})


def _message(item: Message | dict[str, str] | tuple[str, str]) -> Message:
    if isinstance(item, Message):
        return item
    if isinstance(item, tuple):
        role, content = item
        return Message.model_validate({"role": role, "content": content})
    return Message.model_validate(item)
