"""What ingest embeds for each chunk besides its text: the title and section before it, its
sentences' spans (pooled into sentence vectors) and each sentence in its context."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from assistant.text import sentence_spans
from assistant.types import Chunk, Document, section_starts

_PREFIX_CHARS = 120


@dataclass(frozen=True)
class ChunkInputs:
    """What ingest embeds for one chunk besides its text."""

    prefix: str  # title and section, embedded before the text (`context_prefix`)
    spans: list[tuple[int, int]]  # its sentences, relative to the chunk: pooled vectors
    contexts: list[str | None]  # each sentence in its context (`sentence_context`); None: none


def embedding_inputs(document: Document, chunks: Sequence[Chunk]) -> list[ChunkInputs]:
    """The inputs of a document's chunks. A heading gets no vector in context: it names a topic
    and is never an answer (the extractive answerer skips it), so it is not embedded twice."""
    headings = section_starts(document.headings)
    result = []
    for chunk in chunks:
        absolute = sentence_spans(document.text, chunk.start, chunk.end)
        result.append(
            ChunkInputs(
                prefix=context_prefix(document, chunk),
                spans=[(s - chunk.start, e - chunk.start) for s, e in absolute],
                contexts=[
                    None if s in headings else sentence_context(document, s, e) for s, e in absolute
                ],
            )
        )
    return result


def sentence_context(document: Document, start: int, end: int) -> str:
    """A sentence as embedded on its own: after its document's title and its section's.

    This and `context_prefix` define what is embedded, and an edited document's unchanged
    inputs keep their stored vectors by comparing these strings (`BatchWriter._last_versions`):
    a change to either must bump `SCHEMA_VERSION` (assistant/catalog.py, "the index format" of
    the ingest fingerprint), so that existing indexes are re-embedded.

    "The default is 64 megabytes." says what it answers only under "maintenance_work_mem"
    in "Resource Consumption"; the chunk's pooled sentence vectors miss that (measured
    leave-one-corpus-out on the tuning corpora, docs/evaluation-history.md).
    """
    return in_context(document.title, document.section_at(start), document.text[start:end])


def in_context(title: str, section: str | None, sentence: str) -> str:
    """A sentence after its title and section, as `sentence_context` embeds it."""
    return ". ".join(part for part in (title, section, sentence) if part)


def context_prefix(document: Document, chunk: Chunk) -> str:
    """Title and section, embedded before the chunk text so retrieval knows the context."""
    parts = [document.title]
    section = document.section_at(chunk.start)
    if section and section != document.title:
        parts.append(section)
    prefix = " — ".join(part for part in parts if part)[:_PREFIX_CHARS]
    if not prefix or chunk.text.lstrip().startswith(prefix):
        return ""
    return prefix + "\n"
