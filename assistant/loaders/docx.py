"""DOCX: paragraphs and table rows in document order, with Heading/Title styles as headings."""

from __future__ import annotations

import io
import zipfile

import docx
from docx.table import Table
from docx.text.paragraph import Paragraph

from assistant.errors import LoadError
from assistant.loaders.base import Extracted
from assistant.types import Heading


def extract(data: bytes) -> Extracted:
    """Extract the text of a Word document, one paragraph or table row per line."""
    if not zipfile.is_zipfile(io.BytesIO(data)):
        raise LoadError("not a valid .docx file (not a ZIP package)")
    document = docx.Document(io.BytesIO(data))
    lines: list[str] = []
    headings: list[Heading] = []
    title = (document.core_properties.title or "").strip() or None
    position = 0
    for block in document.iter_inner_content():
        for line, is_heading in _block_lines(block):
            if not line:
                continue
            if is_heading:
                headings.append(Heading(position, line))
            lines.append(line)
            position += len(line) + 1
    if title is None and headings:
        title = headings[0].title
    return Extracted(text="\n".join(lines), title=title, headings=tuple(headings))


def _block_lines(block: Paragraph | Table) -> list[tuple[str, bool]]:
    if isinstance(block, Paragraph):
        style = (block.style.name if block.style is not None else "") or ""
        heading = style.startswith("Heading") or style == "Title"
        return [(block.text.strip(), heading)]
    rows = []
    for row in block.rows:
        cells: list[str] = []
        for cell in row.cells:
            text = " ".join(cell.text.split())
            if text and (not cells or cells[-1] != text):  # merged cells repeat their text
                cells.append(text)
        rows.append((" \t ".join(cells), False))
    return rows
