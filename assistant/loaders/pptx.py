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
from assistant.loaders.parts import assemble_slides
from assistant.loaders.tables import cell_text, table_lines

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

    core_title: str | None = (presentation.core_properties.title or "").strip() or None
    return assemble_slides(slides, core_title)


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
