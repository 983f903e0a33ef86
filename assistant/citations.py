"""Citations: build them from passage spans, number them, and place [n] markers in answer text."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence

from assistant.line_shapes import is_code_line
from assistant.types import Citation, Passage, RelatedPassage, page_of, section_at

REFUSAL_TEXT = "The documents don't answer this."
# "[7]", "[1][3]", "[2, 5]" (or the forms verify.py also reads as markers: "[ 7 ]", "[[7]]",
# "【7】") standing alone in quoted text, where a reader or a model would take it for a
# citation; an index such as `items[1]` is attached to a word and stays.
_LOOSE_MARKERS = re.compile(
    r"(?:^|[ \t]+)(?:[\[【]+\s*\d+(?:\s*[,;]\s*\d+)*\s*[\]】]+)+(?=[\s.!?,;:)]|$)", re.MULTILINE
)


def citation_for(number: int, passage: Passage, start: int, end: int, score: float) -> Citation:
    """A citation of document span [start, end) inside a retrieved passage."""
    if not passage.start <= start < end <= passage.end:
        raise ValueError("a citation must lie inside its passage")
    return Citation(
        id=number,
        source=passage.source,
        start=start,
        end=end,
        quote=passage.sentence_text(start, end),
        score=round(float(score), 4),
        page=page_of(passage.page_starts, start, end),
        section=section_at(passage.headings, start),
        title=passage.title,
        doc_id=passage.doc_id,
    )


# How many places an answer lists to read on (k is 5 by default: one for each passage it does
# not quote), and their heading in the chat, in exports and on the terminal.
MAX_RELATED = 4
RELATED_HEADING = "Also found"


def related_spans(
    spans: Iterable[tuple[Passage, int, int]],
    citations: Sequence[Citation],
    limit: int = MAX_RELATED,
) -> tuple[RelatedPassage, ...]:
    """Where to read on, at most `limit`: the first span of each passage (`spans` are in order
    of preference, each inside its passage) that overlaps no citation and nothing listed
    before it. An answerer passes its evidence windows, best first, so the list shows the
    sentence of each other passage that comes closest to answering (a quoted passage may give
    another of its sentences); `related_passages` passes whole passages."""
    taken: list[tuple[str, int, int]] = [
        (citation.doc_id or citation.source, citation.start, citation.end) for citation in citations
    ]
    listed: set[str] = set()
    related: list[RelatedPassage] = []
    for passage, start, end in spans:
        if len(related) >= limit:
            break
        doc = passage.doc_id or passage.source
        if passage.chunk_id in listed or any(
            d == doc and s < end and start < e for d, s, e in taken
        ):
            continue
        taken.append((doc, start, end))
        listed.add(passage.chunk_id)
        related.append(
            RelatedPassage(
                source=passage.source,
                start=start,
                end=end,
                text=passage.sentence_text(start, end),
                page=page_of(passage.page_starts, start, end),
                section=section_at(passage.headings, start),
                title=passage.title,
                doc_id=passage.doc_id,
            )
        )
    return tuple(related)


def related_passages(
    passages: Sequence[Passage], citations: Sequence[Citation], limit: int = MAX_RELATED
) -> tuple[RelatedPassage, ...]:
    """The retrieved passages no citation quotes, in retrieval order, at most `limit`: a
    passage overlapping a cited span, or one listed before it, is left out (for an answerer
    that lists no windows of its own)."""
    return related_spans(((p, p.start, p.end) for p in passages), citations, limit)


# More numbers than this in one bracketed group make a list ("[1, 3, 5, 7]"), not a citation.
MAX_MARKER_NUMBERS = 3


def without_document_markers(text: str) -> str:
    """Quoted document text without stand-alone bracketed numbers that would pose as citations.

    A group that no citation could be stays: one naming 0 (citations count from 1: "the
    interval [0,1]") or more than `MAX_MARKER_NUMBERS` numbers ("data = [1, 3, 5, 7, 9]")."""
    return _LOOSE_MARKERS.sub(_marker_or_content, text).strip()


def _marker_or_content(match: re.Match[str]) -> str:
    numbers = [int(n) for n in re.findall(r"\d+", match.group())]
    return match.group() if 0 in numbers or len(numbers) > MAX_MARKER_NUMBERS else ""


def with_marker(sentence: str, number: int) -> str:
    """The sentence with ` [n]` before its closing punctuation (or at its end)."""
    return with_markers(sentence, [number])


def with_markers(sentence: str, numbers: Sequence[int]) -> str:
    """The sentence with ` [n][m]` before its closing punctuation (or at its end)."""
    stripped = sentence.rstrip()
    if not numbers:
        return stripped
    marks = "".join(f"[{number}]" for number in numbers)
    if is_code_line(stripped[stripped.rfind("\n") + 1 :]):
        # A quote ending in code keeps its last character: "dig @ns example.com." is a command.
        return f"{stripped} {marks}"
    if stripped and stripped[-1] in ".!?":
        return f"{stripped[:-1]} {marks}{stripped[-1]}"
    return f"{stripped} {marks}"
