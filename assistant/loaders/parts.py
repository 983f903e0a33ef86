"""Documents made of named parts: a workbook's sheets and a deck's slides (with speaker notes),
laid out the same way whatever the format (.xlsx and .ods, .pptx and .odp)."""

from __future__ import annotations

from collections.abc import Sequence

from assistant.loaders.base import Extracted
from assistant.types import Heading

PART_BREAK = "\n\n"


def sheet_heading(name: str) -> str:
    """The heading line that names a worksheet."""
    return f"Sheet: {name}"


def slide_heading(number: int, title: str) -> str:
    """The heading line that opens a slide."""
    return f"Slide {number}: {title}" if title else f"Slide {number}"


def notes_heading_for(number: int) -> str:
    """The heading line over a slide's speaker notes."""
    return f"Speaker notes (slide {number})"


def assemble_sheets(sheets: Sequence[tuple[str, Sequence[str]]], title: str | None) -> Extracted:
    """Each non-empty sheet under its heading, in order."""
    parts: list[str] = []
    headings: list[Heading] = []
    position = 0
    for name, lines in sheets:
        if not lines:
            continue
        heading = sheet_heading(name)
        headings.append(Heading(position, heading))
        part = "\n".join([heading, *lines])
        parts.append(part)
        position += len(part) + len(PART_BREAK)
    return Extracted(text=PART_BREAK.join(parts), title=title, headings=tuple(headings))


def assemble_slides(
    slides: Sequence[tuple[str, Sequence[str], Sequence[str]]], title: str | None
) -> Extracted:
    """One page per slide (title, body lines, notes lines): the slide number is the page a
    citation names, its heading opens it, and its notes follow under a heading of their own.
    Without a title of its own, the deck takes its first slide title."""
    parts: list[str] = []
    headings: list[Heading] = []
    starts: list[int] = []
    position = 0
    for number, (slide_title, body, notes) in enumerate(slides, start=1):
        heading = slide_heading(number, slide_title)
        lines = [heading, *body]
        headings.append(Heading(position, heading))
        if notes:
            notes_heading = notes_heading_for(number)
            notes_at = position + sum(len(line) + 1 for line in lines)
            headings.append(Heading(notes_at, notes_heading))
            lines += [notes_heading, *notes]
        part = "\n".join(lines)
        starts.append(position)
        parts.append(part)
        position += len(part) + len(PART_BREAK)
    return Extracted(
        text=PART_BREAK.join(parts),
        title=title or next((t for t, _, _ in slides if t), None),
        headings=tuple(headings),
        page_starts=tuple(starts),
    )
