"""Typed, immutable value objects shared by the pipeline, API, CLI, UI and evaluator."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

Role = Literal["user", "assistant"]


@dataclass(frozen=True)
class Heading:
    """A section heading (or a defined term, e.g. an API signature) at `offset` in the text.

    A heading stands over the text up to the next heading. A defined term stands over its
    description only: `end`, where its definition list ends, when text follows the list (the
    paragraphs after a glossary belong to the section, not to its last term)."""

    offset: int
    title: str
    kind: Literal["heading", "term"] = "heading"
    end: int | None = None

    def shifted(self, by: int) -> Heading:
        """The same heading in a text that holds this one `by` characters further on."""
        end = None if self.end is None else self.end + by
        return Heading(self.offset + by, self.title, self.kind, end)


@dataclass(frozen=True)
class Attachment:
    """A file inside another (an e-mail's attachment): indexed as its own document, at the
    path `<container path>/<name>` (no real file can lie under a file)."""

    name: str
    data: bytes = field(repr=False)


@dataclass(frozen=True)
class Document:
    """One loaded document: its extracted text plus what is needed to locate a span in it."""

    source: str
    title: str
    text: str
    content_hash: str
    format: str
    size: int = 0  # bytes of the source file
    headings: tuple[Heading, ...] = ()
    page_starts: tuple[int, ...] = ()  # where each page (PDF) or slide (PPTX) starts
    attachments: tuple[Attachment, ...] = ()  # files inside it, indexed as their own documents

    def section_at(self, offset: int) -> str | None:
        """The nearest heading at or before `offset`, if any."""
        return section_at(self.headings, offset)

    def page_at(self, offset: int) -> int | None:
        """The 1-based page (PDF) or slide (PPTX) holding `offset`."""
        return page_at(self.page_starts, offset)


def section_at(headings: tuple[Heading, ...], offset: int) -> str | None:
    """The title of the last heading starting at or before `offset`."""
    heading = heading_at(headings, offset)
    return None if heading is None else heading.title


def heading_at(headings: tuple[Heading, ...], offset: int) -> Heading | None:
    """The last heading starting at or before `offset` whose scope holds it (a defined term's
    ends with its list: after it, the heading the list stands under)."""
    current = None
    for heading in headings:
        if heading.offset > offset:
            break
        if heading.end is None or offset < heading.end:
            current = heading
    return current


def section_starts(headings: tuple[Heading, ...]) -> frozenset[int]:
    """Offsets where a section heading starts (defined terms are not headings): a heading
    names a topic and is never an answer, nor embedded as one."""
    return frozenset(h.offset for h in headings if h.kind == "heading")


def page_of(page_starts: tuple[int, ...], start: int, end: int) -> int | None:
    """The 1-based page holding most of span [start, end) (the earlier one on a tie), or None
    without pages: a quote that begins at the foot of one page and runs on over the next is
    cited by the page its words are on, not the one its first line is on."""
    best = page_at(page_starts, start)
    if best is None:
        return None
    most = 0
    for number in range(best, len(page_starts) + 1):
        page_start = max(start, page_starts[number - 1])
        page_end = min(end, page_starts[number]) if number < len(page_starts) else end
        if page_start >= end:
            break
        if page_end - page_start > most:
            best, most = number, page_end - page_start
    return best


def page_at(page_starts: tuple[int, ...], offset: int) -> int | None:
    """The 1-based page number whose text holds `offset`, or None without pages."""
    if not page_starts:
        return None
    page = 1
    for number, start in enumerate(page_starts, start=1):
        if start > offset:
            break
        page = number
    return page


@dataclass(frozen=True)
class Chunk:
    """A span of a document's extracted text: text == document.text[start:end]."""

    doc_id: str
    ordinal: int
    start: int
    end: int
    text: str

    @property
    def chunk_id(self) -> str:
        """Stable id of this chunk within its document version."""
        return f"{self.doc_id}:{self.ordinal}"


@dataclass(frozen=True)
class Passage:
    """A retrieved chunk with where it came from and how it ranked."""

    chunk_id: str
    doc_id: str
    source: str
    title: str
    text: str
    start: int
    end: int
    score: float
    rank: int = 0
    page_starts: tuple[int, ...] = field(default=(), repr=False)
    headings: tuple[Heading, ...] = field(default=(), repr=False)
    # Sentence spans (absolute offsets) and their unit vectors, one row per span.
    sentence_spans: tuple[tuple[int, int], ...] = field(default=(), repr=False)
    sentence_vectors: Any = field(default=None, repr=False, compare=False)
    # The same sentences each embedded on its own after the title and section (or None).
    context_vectors: Any = field(default=None, repr=False, compare=False)
    # The document's fenced code blocks that overlap the passage, as absolute spans from the
    # opening fence's line to the closing fence's (None: not known; read from the passage).
    code_blocks: tuple[tuple[int, int], ...] | None = field(default=None, repr=False)

    def sentence_text(self, start: int, end: int) -> str:
        """Text of a span inside this passage, by absolute document offsets."""
        return self.text[start - self.start : end - self.start]


class Message(BaseModel):
    """One turn of a conversation."""

    model_config = ConfigDict(frozen=True)

    role: Role
    content: str


class DocumentSpan(BaseModel):
    """A span of a document's extracted text and where it lies: what citations and the passages
    listed to read on have in common."""

    model_config = ConfigDict(frozen=True)

    source: str = Field(description="Document path as ingested.")
    start: int = Field(description="Start offset of the span in the document's extracted text.")
    end: int = Field(description="End offset (exclusive).")
    page: int | None = Field(None, description="1-based page (PDF) or slide number (PPTX).")
    section: str | None = Field(None, description="Nearest section heading.")
    title: str | None = Field(None, description="Document title.")
    doc_id: str | None = Field(None, description="Catalog id of the document.")

    def location(self) -> str:
        """Where the span is, as shown under an answer: section, page and file."""
        parts = []
        if self.section and self.section != self.title:
            parts.append(f"§ {self.section}")
        if self.page is not None:
            parts.append(f"p. {self.page}")
        parts.append(self.source)
        return " · ".join(parts)


class Citation(DocumentSpan):
    """A numbered pointer to the exact span that supports part of an answer."""

    id: int = Field(description="The number used as [n] in the answer text.")
    quote: str = Field(description="Exactly the extracted text between start and end.")
    score: float = Field(description="How strongly the span supports the answer, 0..1.")


class RelatedPassage(DocumentSpan):
    """Where to read on when the answer misses what was asked (or refuses): the best evidence
    window (a sentence, with what it introduces) of a retrieved passage, overlapping nothing
    the answer quotes; a whole passage when the answerer ranks no windows. Not a citation: no
    [n] in the text points at it."""

    text: str = Field(description="Exactly the extracted text between start and end.")


class AnswerSentence(BaseModel):
    """One sentence of an answer, the citations it carries, and whether a passage supports it."""

    model_config = ConfigDict(frozen=True)

    text: str
    citations: tuple[int, ...] = ()
    supported: bool = True
    support: float = Field(0.0, description="How strongly the cited spans support it, 0..1.")


class Answer(BaseModel):
    """The assistant's reply: text with [n] markers and its citations, or a refusal."""

    model_config = ConfigDict(frozen=True)

    question: str
    text: str
    citations: tuple[Citation, ...] = ()
    refused: bool = False
    confidence: float = 0.0
    sentences: tuple[AnswerSentence, ...] = Field(
        (), description="The answer split into sentences with their support (empty if refused)."
    )
    support: float | None = Field(
        None, description="Share of the answer's sentences supported by their citations, 0..1."
    )
    standalone_question: str | None = Field(
        None,
        description="The question as searched for, when it is not the one asked: a follow-up "
        "rewritten as a self-contained question, or a misspelt word spelt as the documents "
        "spell it.",
    )
    notice: str | None = Field(None, description="A message for the user, e.g. a fallback.")
    related: tuple[RelatedPassage, ...] = Field(
        (),
        description="Where to read on: the best sentence of each retrieved passage that no "
        "citation quotes, best first (a refusal's: of the closest passages found).",
    )
    timings_ms: dict[str, float] = Field(default_factory=dict)

    def to_json_dict(self) -> dict[str, object]:
        """The documented `--json` shape."""
        return {
            "answer": self.text,
            "refused": self.refused,
            "confidence": round(self.confidence, 4),
            "support": None if self.support is None else round(self.support, 4),
            "unsupported_sentences": [s.text for s in self.sentences if not s.supported],
            "standalone_question": self.standalone_question,
            "notice": self.notice,
            "citations": [citation.model_dump() for citation in self.citations],
            "related": [passage.model_dump() for passage in self.related],
            "timings_ms": {key: round(value, 2) for key, value in self.timings_ms.items()},
        }


class FailedFile(BaseModel):
    """A file that could not be ingested and why."""

    model_config = ConfigDict(frozen=True)

    source: str
    error: str


@dataclass(frozen=True)
class IndexFingerprint:
    """What an index's answers depend on: how it was built and which documents it holds.

    `build` changes with the chunker, the extraction, the term analysis (`text.terms`), the
    embedding model and the chunk settings; `documents` with any document added, changed,
    renamed or removed.
    """

    build: str
    documents: str
    document_count: int
    chunk_count: int

    def to_json(self) -> dict[str, object]:
        """The shape stored in evaluation results."""
        return {
            "build": self.build,
            "documents": self.documents,
            "document_count": self.document_count,
            "chunk_count": self.chunk_count,
        }


IngestStep = Literal["read", "ocr", "embed", "write", "done"]


class IngestProgress(BaseModel):
    """Where a running ingest is: told at each file it reads (`read`), each page OCR reads
    (`ocr`, with `page` of `pages`), each batch of texts the model embeds (`embed`: `embedded`
    of `to_embed`, the passages and sentences of the batch being written that an edited
    document's last version does not already have), each batch written
    (`write`) and at the end (`done`)."""

    model_config = ConfigDict(frozen=True)

    step: IngestStep
    files_done: int
    files_total: int
    source: str = ""  # the file being read ("" once none is)
    chunks_written: int = 0
    page: int | None = None
    pages: int | None = None
    embedded: int = 0
    to_embed: int = 0
    elapsed_s: float = 0.0

    @property
    def eta_s(self) -> float | None:
        """Seconds left at the pace of the files done so far (None before the first is done)."""
        if self.files_done == 0:
            return None
        return self.elapsed_s / self.files_done * (self.files_total - self.files_done)

    def to_json_dict(self) -> dict[str, object]:
        """One line of `assistant ingest --json --progress`."""
        eta = self.eta_s
        return {
            "event": "progress",
            **self.model_dump(),
            "elapsed_s": round(self.elapsed_s, 2),
            "eta_s": None if eta is None else round(eta, 1),
        }


class IngestReport(BaseModel):
    """What an ingest run did."""

    model_config = ConfigDict(frozen=True)

    added: int = 0
    updated: int = 0
    unchanged: int = 0
    deleted: int = 0
    # Files found at a new path with the content of a document whose path is gone: moved in
    # the catalog, their vectors copied, nothing re-embedded.
    renamed: int = 0
    # What changed since the index was built (chunker, model, chunk settings ...), when that
    # made this run rebuild it: answers may differ, so golden sets are worth re-running.
    rebuilt_because: tuple[str, ...] = ()
    failed: tuple[FailedFile, ...] = ()
    chunks: int = 0
    # Chunks of edited documents whose vectors were kept from their last version (the same
    # text under the same title and section): only what changed is embedded again.
    chunks_reused: int = 0
    seconds: float = 0.0

    def to_json_dict(self) -> dict[str, object]:
        """The documented `--json` shape."""
        return {
            "documents": {
                "added": self.added,
                "updated": self.updated,
                "unchanged": self.unchanged,
                "deleted": self.deleted,
                "renamed": self.renamed,
                "failed": [item.model_dump() for item in self.failed],
            },
            "chunks": self.chunks,
            "chunks_reused": self.chunks_reused,
            "rebuilt_because": list(self.rebuilt_because),
            "seconds": round(self.seconds, 3),
        }


class ConversationTurn(BaseModel):
    """One answered question of a stored conversation, with the answer's citations."""

    model_config = ConfigDict(frozen=True)

    question: str
    answer: Answer
    asked_at: float = Field(description="Unix time the answer was stored.")


class ConversationSummary(BaseModel):
    """A stored conversation as listed: its id, title, times and size."""

    model_config = ConfigDict(frozen=True)

    id: str
    title: str
    created_at: float
    updated_at: float
    turns: int = 0


class Conversation(BaseModel):
    """A stored conversation with all its answered questions, oldest first."""

    model_config = ConfigDict(frozen=True)

    id: str
    title: str
    created_at: float
    updated_at: float
    turns: tuple[ConversationTurn, ...] = ()

    def summary(self) -> ConversationSummary:
        """The list entry of this conversation."""
        return ConversationSummary(
            id=self.id,
            title=self.title,
            created_at=self.created_at,
            updated_at=self.updated_at,
            turns=len(self.turns),
        )
