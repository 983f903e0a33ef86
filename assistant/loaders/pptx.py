"""PPTX: one page per slide (a citation's page is the slide number), the slide's number and title
as its heading ("Slide 3: Quarterly results"), its text boxes top to bottom, tables as rows with
their headers, and the speaker notes under a heading of their own ("Speaker notes (slide 3)").
"""

from __future__ import annotations

import io
import zipfile
from collections.abc import Iterable, Iterator
from typing import Any

import pptx
from pptx.enum.shapes import MSO_SHAPE_TYPE, PP_PLACEHOLDER

from assistant.errors import LoadError
from assistant.loaders.base import Extracted
from assistant.loaders.tables import cell_text, table_lines
from assistant.types import Heading

_SLIDE_BREAK = "\n\n"
_TITLES = {PP_PLACEHOLDER.TITLE, PP_PLACEHOLDER.CENTER_TITLE}


def extract(data: bytes) -> Extracted:
    """Extract every slide's text and notes; page_starts gives where each slide begins."""
    if not zipfile.is_zipfile(io.BytesIO(data)):
        raise LoadError("not a valid .pptx file (not a ZIP package)")
    try:
        presentation = pptx.Presentation(io.BytesIO(data))
    except ValueError as exc:  # python-pptx names the package's real type, and a BytesIO repr
        raise LoadError("not a valid .pptx file (a ZIP package, but not a slide deck)") from exc
    slides: list[tuple[str, list[str], list[str]]] = []
    for slide in presentation.slides:
        title_shape = _title_shape(slide.shapes)
        slide_title = cell_text(title_shape.text_frame.text) if title_shape is not None else ""
        body = [line for shape in _reading_order(slide.shapes) for line in _shape_lines(shape)]
        notes: list[str] = []
        if slide.has_notes_slide:
            frame = slide.notes_slide.notes_text_frame
            if frame is not None:
                notes = _paragraph_lines(frame.paragraphs)
        slides.append((slide_title, body, notes))

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
        position += len(part) + len(_SLIDE_BREAK)
    core_title: str | None = (presentation.core_properties.title or "").strip() or None
    title = core_title or next((t for t, _, _ in slides if t), None)
    return Extracted(
        text=_SLIDE_BREAK.join(parts),
        title=title,
        headings=tuple(headings),
        page_starts=tuple(starts),
    )


def slide_heading(number: int, title: str) -> str:
    """The heading line that opens a slide."""
    return f"Slide {number}: {title}" if title else f"Slide {number}"


def notes_heading_for(number: int) -> str:
    """The heading line over a slide's speaker notes."""
    return f"Speaker notes (slide {number})"


def _title_shape(shapes: Any) -> Any:
    for shape in shapes:
        if shape.is_placeholder and shape.placeholder_format.type in _TITLES:
            return shape if shape.has_text_frame and shape.text_frame.text.strip() else None
    return None


def _reading_order(shapes: Iterable[Any]) -> list[Any]:
    """Shapes top to bottom, then left to right (their order in the file is drawing order)."""
    return sorted(shapes, key=lambda shape: (shape.top or 0, shape.left or 0))


def _shape_lines(shape: Any) -> Iterator[str]:
    if shape.is_placeholder and shape.placeholder_format.type in _TITLES:
        return  # the slide's heading says it already
    if shape.shape_type == MSO_SHAPE_TYPE.GROUP:
        for inner in _reading_order(shape.shapes):
            yield from _shape_lines(inner)
    elif getattr(shape, "has_table", False) and shape.has_table:
        table = shape.table
        rows = [[cell_text(cell.text) for cell in row.cells] for row in table.rows]
        yield from table_lines(rows, header_rows=1 if table.first_row else 0)
    elif shape.has_text_frame:
        yield from _paragraph_lines(shape.text_frame.paragraphs)


def _paragraph_lines(paragraphs: Iterable[Any]) -> list[str]:
    # A paragraph's soft line breaks (vertical tabs in python-pptx's text) are layout.
    return [text for paragraph in paragraphs if (text := cell_text(paragraph.text))]
