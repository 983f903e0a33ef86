"""DOCX: paragraphs and table rows in document order, with Heading/Title styles as headings.

A table row is one line, each cell with its column header ("Region: EMEA | Q3: 4.2 M"): the
header is the rows marked "repeat as header row", else a first row that reads as one.
"""

from __future__ import annotations

import io
import zipfile

import docx
from docx.oxml.ns import qn
from docx.table import Table, _Cell, _Row
from docx.text.paragraph import Paragraph

from assistant.errors import LoadError
from assistant.loaders.base import Extracted
from assistant.loaders.tables import (
    MAX_COLSPAN,
    MAX_GRID_CELLS,
    cell_text,
    header_rows_by_content,
    table_lines,
)
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
    grid: list[list[str]] = []
    repeats: list[list[bool]] = []  # a horizontally merged cell, again in a later grid column
    marked_header = 0
    room = MAX_GRID_CELLS  # grid positions the merged cells may still fill
    for row in block.rows:
        texts: list[str] = []
        again: list[bool] = []
        for tc in row._tr.tc_lst:
            span = max(1, min(tc.grid_span, MAX_COLSPAN))
            if span > room:
                span = 1
            room -= span
            if tc.vMerge == "continue":
                # The rest of a vertically merged cell: the text of the one above it.
                above = grid[-1] if grid else []
                text = above[len(texts)] if len(texts) < len(above) else ""
            else:
                text = cell_text(_Cell(tc, block).text)
            texts.extend([text] * span)
            again.extend([False] + [True] * (span - 1))
        grid.append(texts)
        repeats.append(again)
        if _repeats_as_header(row) and marked_header == len(grid) - 1:
            marked_header += 1
    header_rows = marked_header or header_rows_by_content(grid)
    # A merged header names every column it spans; a merged body cell is said once.
    body = [
        [("" if again else text) for text, again in zip(cells, flags, strict=True)]
        for cells, flags in zip(grid[header_rows:], repeats[header_rows:], strict=True)
    ]
    return [(line, False) for line in table_lines(grid[:header_rows] + body, header_rows)]


def _repeats_as_header(row: _Row) -> bool:
    """Whether Word marks the row to repeat at the top of each page (its header row)."""
    properties = row._tr.trPr
    return properties is not None and bool(properties.findall(qn("w:tblHeader")))
