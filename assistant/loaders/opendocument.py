"""ODS and ODP (OpenDocument spreadsheets and presentations, odfpy), laid out like .xlsx and
.pptx: each sheet under its heading ("Sheet: Rates") with its rows carrying their header cells;
one page per slide (a citation's page is the slide number), its title as its heading, its text
frames in order, and its speaker notes under a heading of their own.
"""

from __future__ import annotations

from typing import Any

from assistant.loaders.base import Extracted
from assistant.loaders.odt import meta_title, open_document, table_rows, walk
from assistant.loaders.parts import assemble_sheets, assemble_slides

_TABLE = "urn:oasis:names:tc:opendocument:xmlns:table:1.0"
_DRAW = "urn:oasis:names:tc:opendocument:xmlns:drawing:1.0"
_PRESENTATION = "urn:oasis:names:tc:opendocument:xmlns:presentation:1.0"


def extract_spreadsheet(data: bytes) -> Extracted:
    """Every sheet of an OpenDocument spreadsheet, in tab order."""
    document = open_document(
        data, "application/vnd.oasis.opendocument.spreadsheet", ".ods", "an OpenDocument "
        "spreadsheet"
    )  # fmt: skip
    sheets = [
        (str(sheet.getAttrNS(_TABLE, "name") or f"Sheet {index}"), table_rows(sheet))
        for index, sheet in enumerate(_children(document.spreadsheet, (_TABLE, "table")), 1)
    ]
    return assemble_sheets(sheets, meta_title(document))


def extract_presentation(data: bytes) -> Extracted:
    """Every slide of an OpenDocument presentation with its speaker notes."""
    document = open_document(
        data, "application/vnd.oasis.opendocument.presentation", ".odp", "an OpenDocument "
        "presentation"
    )  # fmt: skip
    slides: list[tuple[str, list[str], list[str]]] = []
    for page in _children(document.presentation, (_DRAW, "page")):
        title, body, notes = "", [], []
        for child in page.childNodes:
            name = getattr(child, "qname", None)
            if name == (_PRESENTATION, "notes"):
                notes = _lines(child)
                continue
            lines = _lines(child)
            if not title and _is_title(child) and lines:
                title, lines = lines[0], lines[1:]
            body += lines
        slides.append((title, body, notes))
    return assemble_slides(slides, meta_title(document))


def _children(element: Any, qname: tuple[str, str]) -> list[Any]:
    return [child for child in element.childNodes if getattr(child, "qname", None) == qname]


def _lines(element: Any) -> list[str]:
    found: list[tuple[str, bool]] = []
    walk(element, found)
    return [line for line, _ in found]


def _is_title(frame: Any) -> bool:
    """A frame in the slide's title placeholder."""
    kind = frame.getAttrNS(_PRESENTATION, "class") if hasattr(frame, "getAttrNS") else None
    return kind == "title"
