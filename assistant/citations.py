"""Citations: build them from passage spans, number them, and place [n] markers in answer text."""

from __future__ import annotations

import re
from collections.abc import Sequence

from assistant.types import Citation, Passage, page_at, section_at

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
        page=page_at(passage.page_starts, start),
        section=section_at(passage.headings, start),
        title=passage.title,
        doc_id=passage.doc_id,
    )


def without_document_markers(text: str) -> str:
    """Quoted document text without stand-alone bracketed numbers that would pose as citations."""
    return _LOOSE_MARKERS.sub("", text).strip()


def with_marker(sentence: str, number: int) -> str:
    """The sentence with ` [n]` before its closing punctuation (or at its end)."""
    return with_markers(sentence, [number])


def with_markers(sentence: str, numbers: Sequence[int]) -> str:
    """The sentence with ` [n][m]` before its closing punctuation (or at its end)."""
    stripped = sentence.rstrip()
    if not numbers:
        return stripped
    marks = "".join(f"[{number}]" for number in numbers)
    if stripped and stripped[-1] in ".!?":
        return f"{stripped[:-1]} {marks}{stripped[-1]}"
    return f"{stripped} {marks}"
