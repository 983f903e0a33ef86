"""ODT (OpenDocument text, odfpy): paragraphs, list items and table rows in document order, one
per line, with the document's headings; table rows keep their header cells.
"""

from __future__ import annotations

import io
import zipfile
from typing import Any

from odf import teletype
from odf.opendocument import load

from assistant.errors import LoadError
from assistant.loaders.base import Extracted
from assistant.loaders.tables import cell_text, header_rows_by_content, spread, table_lines
from assistant.types import Heading

_TEXT = "urn:oasis:names:tc:opendocument:xmlns:text:1.0"
_TABLE = "urn:oasis:names:tc:opendocument:xmlns:table:1.0"
_DC = "http://purl.org/dc/elements/1.1/"
_MIMETYPE = "application/vnd.oasis.opendocument.text"
# Generated lists that repeat the document's own headings or entries.
_SKIP = {(_TEXT, "table-of-content"), (_TEXT, "alphabetical-index"),
         (_TEXT, "illustration-index"), (_TEXT, "tracked-changes")}  # fmt: skip
# A row or cell "repeated" this many times is formatting of empty space, not content.
MAX_REPEAT = 100
# A table's repetitions add at most this many cells in all: a few kilobytes of cells repeated
# 100 times in rows repeated 100 times once took minutes and made megabytes of text.
MAX_REPEATED_CELLS = 10_000


def extract(data: bytes) -> Extracted:
    """Extract the text of an OpenDocument text file."""
    document = open_document(data, _MIMETYPE, ".odt", "an OpenDocument text")
    lines: list[tuple[str, bool]] = []
    walk(document.text, lines)
    text_lines: list[str] = []
    headings: list[Heading] = []
    position = 0
    for line, is_heading in lines:
        if is_heading:
            headings.append(Heading(position, line))
        text_lines.append(line)
        position += len(line) + 1
    title = meta_title(document) or (headings[0].title if headings else None)
    return Extracted(text="\n".join(text_lines), title=title, headings=tuple(headings))


def open_document(data: bytes, mimetype: str, suffix: str, kind: str) -> Any:
    """The OpenDocument package of one kind (its `mimetype` entry), or a LoadError."""
    if not zipfile.is_zipfile(io.BytesIO(data)):
        raise LoadError(f"not a valid {suffix} file (not a ZIP package)")
    with zipfile.ZipFile(io.BytesIO(data)) as package:
        names = set(package.namelist())
        found = package.read("mimetype").decode("ascii", "replace") if "mimetype" in names else ""
    if found.strip() != mimetype:
        raise LoadError(f"not a valid {suffix} file (a ZIP package, but not {kind})")
    return load(io.BytesIO(data))


def walk(element: Any, lines: list[tuple[str, bool]]) -> None:
    """The paragraphs (and headings: True) and table rows under an element, in order."""
    for child in element.childNodes:
        name = getattr(child, "qname", None)
        if name is None or name in _SKIP:
            continue
        if name in ((_TEXT, "p"), (_TEXT, "h")):
            line = cell_text(teletype.extractText(child))
            if line:
                lines.append((line, name == (_TEXT, "h")))
        elif name == (_TABLE, "table"):
            lines.extend((line, False) for line in table_rows(child))
        else:  # lists, list items, sections, frames: their paragraphs in order
            walk(child, lines)


def table_rows(table: Any) -> list[str]:
    """A table's rows as lines that carry their header cells."""
    rows: list[list[tuple[str, int, int]]] = []
    header_rows = 0
    room = MAX_REPEATED_CELLS  # cells the table's repetitions may still add
    for row, in_header in _rows(table, in_header=False):
        cells: list[tuple[str, int, int]] = []
        for cell in row.childNodes:
            if getattr(cell, "qname", None) not in (
                (_TABLE, "table-cell"),
                (_TABLE, "covered-table-cell"),
            ):
                continue
            if cell.qname == (_TABLE, "covered-table-cell"):
                continue  # the position a merged cell covers: spread() fills it
            text = cell_text(teletype.extractText(cell))
            repeat = min(_int(cell.getAttrNS(_TABLE, "number-columns-repeated")), MAX_REPEAT)
            if text:  # repeated empty cells add nothing (trailing ones are dropped below)
                repeat = min(repeat, 1 + max(room, 0))
                room -= repeat - 1
            rowspan = _int(cell.getAttrNS(_TABLE, "number-rows-spanned"))
            colspan = _int(cell.getAttrNS(_TABLE, "number-columns-spanned"))
            cells.extend([(text, rowspan, colspan)] * repeat)
        while cells and not cells[-1][0]:
            cells.pop()  # trailing empty columns
        repeat = min(_int(row.getAttrNS(_TABLE, "number-rows-repeated")), MAX_REPEAT)
        if not any(text for text, _, _ in cells):
            repeat = 1
        repeat = min(repeat, 1 + max(room, 0) // max(len(cells), 1))
        room -= (repeat - 1) * len(cells)
        for _ in range(repeat):
            if in_header and header_rows == len(rows):
                header_rows += 1
            rows.append(cells)
    grid = spread(rows)
    return table_lines(grid, header_rows or header_rows_by_content(grid))


def _rows(element: Any, in_header: bool) -> list[tuple[Any, bool]]:
    """The table's rows in order, each with whether it is in <table:table-header-rows>."""
    found = []
    for child in element.childNodes:
        name = getattr(child, "qname", None)
        if name == (_TABLE, "table-row"):
            found.append((child, in_header))
        elif name in ((_TABLE, "table-header-rows"), (_TABLE, "table-rows"),
                      (_TABLE, "table-row-group")):  # fmt: skip
            found += _rows(child, in_header or name == (_TABLE, "table-header-rows"))
    return found


def _int(value: object) -> int:
    try:
        return max(1, int(str(value)))
    except (TypeError, ValueError):
        return 1


def meta_title(document: Any) -> str | None:
    """The document's title from its metadata, if any."""
    for node in document.meta.childNodes:
        if getattr(node, "qname", None) == (_DC, "title"):
            return cell_text(teletype.extractText(node)) or None
    return None
