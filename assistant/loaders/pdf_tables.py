"""Ruled tables in a PDF's text layer, read as rows that keep each cell with its header.

PDFium gives a table's text in reading order: "Region Q3 revenue Manager EMEA 4.2 M Amara
Okafor ...", so a question about one cell finds neither the row nor what the number is.
pdfplumber finds tables by their ruling lines (cells bounded by drawn lines or rectangles) and
gives their cells; the page's own text (PDFium's) keeps everything outside the tables, and each
table's characters are replaced by its rows, one per line, where the table began
("Region: EMEA | Q3 revenue: 4.2 M | Manager: Amara Okafor"), as for every other format
(`tables.py`).

Only pages that draw enough lines to rule a table are handed to pdfplumber (its parse of a page
costs far more than PDFium's); a table without ruling lines stays text in reading order.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass
from types import TracebackType
from typing import Any

import pypdfium2 as pdfium
import pypdfium2.raw as pdfium_c

from assistant.loaders.tables import cell_text, header_rows_by_content, table_lines

# A ruled table of two rows and two columns draws at least this many path objects (its rules as
# lines, or one rectangle per cell); a page with fewer is not parsed a second time.
MIN_RULE_OBJECTS = 4
MAX_RULE_OBJECTS = 5000
# A table has at least two rows of at least two filled cells; a framed paragraph is a box.
MIN_ROWS = 2
MIN_COLUMNS = 2
# A band between two ruling lines is split into rows only when it packs at least this many.
MIN_PACKED_ROWS = 3
# Words whose tops are this close (points) are on one printed line.
_LINE_SLACK = 2.0
# How far (PDF points) a character's centre may lie outside a table's box and still be its.
_SLACK = 1.0


@dataclass(frozen=True)
class PdfTable:
    """A table found on a page: its box in PDFium's coordinates (points, origin at the page's
    bottom left: left, bottom, right, top) and its body rows as lines."""

    box: tuple[float, float, float, float]
    lines: tuple[str, ...]

    def holds(self, box: tuple[float, float, float, float]) -> bool:
        """Whether a character with this box (left, bottom, right, top) lies in the table."""
        x = (box[0] + box[2]) / 2
        y = (box[1] + box[3]) / 2
        left, bottom, right, top = self.box
        return left - _SLACK <= x <= right + _SLACK and bottom - _SLACK <= y <= top + _SLACK


class TableFinder:
    """Finds the ruled tables of a PDF's pages; the second parse (pdfplumber) is opened on the
    first page that may hold a table, and closed with the finder."""

    def __init__(self, data: bytes) -> None:
        self._data = data
        self._pdf: Any = None
        self._broken = False

    def __enter__(self) -> TableFinder:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        self.close()

    def close(self) -> None:
        if self._pdf is not None:
            self._pdf.close()
            self._pdf = None

    def tables(self, index: int, page: pdfium.PdfPage) -> list[PdfTable]:
        """The ruled tables of page `index` (0-based), top to bottom; none when the page draws
        too few lines to rule one, or when pdfplumber cannot read the file (the page then
        keeps its text in reading order, as before: tables are a refinement, never a loss)."""
        if self._broken or not _may_hold_table(page):
            return []
        try:
            if self._pdf is None:
                import pdfplumber

                self._pdf = pdfplumber.open(io.BytesIO(self._data))
            plumbed = self._pdf.pages[index]
            height = float(plumbed.height)
            found = []
            tables = plumbed.find_tables()
            words = plumbed.extract_words() if tables else []
            for table in tables:
                grid, placed = _grid(table, words)
                if placed < sum(1 for word in words if _inside(word, table.bbox)):
                    continue  # a word in the box but in no cell: keep the page's text as it is
                rows = [row for row in grid if any(row)]
                captions = []
                while len(rows) > MIN_ROWS and sum(1 for cell in rows[0] if cell) == 1:
                    captions.append(next(cell for cell in rows.pop(0) if cell))
                filled = [row for row in rows if sum(1 for cell in row if cell) >= MIN_COLUMNS]
                if len(filled) < MIN_ROWS:
                    continue  # ruled, but not a grid of values: a box, or rows of one cell
                lines = captions + table_lines(rows, header_rows_by_content(rows))
                if not lines:
                    continue
                x0, top, x1, bottom = (float(v) for v in table.bbox)
                found.append(PdfTable((x0, height - bottom, x1, height - top), tuple(lines)))
            plumbed.close()
        except Exception:  # pdfminer raises many kinds; its failure must not lose the page text
            self._broken = True
            self.close()
            return []
        return sorted(found, key=lambda table: -table.box[3])


Box = tuple[float, float, float, float]  # pdfplumber's: x0, top, x1, bottom


def _grid(table: Any, words: list[dict[str, Any]]) -> tuple[list[list[str]], int]:
    """The table's rows of cell texts. A band between two ruling lines is one row, unless it
    packs several: a table ruled only around its columns (as LaTeX draws many) puts every row in
    one band, where each printed line that starts in the first column and goes on in another is
    a row of its own ("1 | bottom | bottom left front"), and a line that does not continues the
    row above (a wrapped cell). Two such lines may be one row whose cells both wrap, so a band
    is split only when it holds at least `MIN_PACKED_ROWS` of them. Also the number of words
    placed in a cell."""
    rows: list[list[str]] = []
    placed = 0
    for row in table.rows:
        cells: list[Box | None] = list(row.cells)
        in_cells = [(column, word) for word in words for column in _cell_of(word, cells)]
        placed += len(in_cells)
        lines = _lines(in_cells)
        starts = [
            number
            for number, line in enumerate(lines)
            if 0 in line and any(column > 0 for column in line)
        ]
        if len(starts) < MIN_PACKED_ROWS or starts[0] != 0:
            starts = [0]
        for first, end in zip(starts, [*starts[1:], len(lines)], strict=True):
            texts: list[list[str]] = [[] for _ in cells]
            for line in lines[first:end]:
                for column, line_words in line.items():
                    texts[column].extend(line_words)
            rows.append([cell_text(" ".join(text)) for text in texts])
    return rows, placed


def _cell_of(word: dict[str, Any], cells: list[Box | None]) -> list[int]:
    """The column of the cell holding the word's centre: [column], or [] (none holds it)."""
    for column, cell in enumerate(cells):
        if cell is not None and _inside(word, cell):
            return [column]
    return []


def _inside(word: dict[str, Any], box: Box) -> bool:
    x = (float(word["x0"]) + float(word["x1"])) / 2
    y = (float(word["top"]) + float(word["bottom"])) / 2
    return box[0] <= x <= box[2] and box[1] <= y <= box[3]


def _lines(placed: list[tuple[int, dict[str, Any]]]) -> list[dict[int, list[str]]]:
    """Words grouped into printed lines (tops within `_LINE_SLACK`), top to bottom; each line
    the words of every column, left to right."""
    grouped: list[list[tuple[float, int, str]]] = []
    top: float | None = None
    for column, word in sorted(placed, key=lambda p: float(p[1]["top"])):
        if top is None or float(word["top"]) - top > _LINE_SLACK:
            grouped.append([])
            top = float(word["top"])
        grouped[-1].append((float(word["x0"]), column, str(word["text"])))
    lines: list[dict[int, list[str]]] = []
    for line in grouped:
        columns: dict[int, list[str]] = {}
        for _, column, text in sorted(line):
            columns.setdefault(column, []).append(text)
        lines.append(columns)
    return lines


def _may_hold_table(page: pdfium.PdfPage) -> bool:
    """Whether the page draws enough lines to rule a table, and not so many that it is a
    drawing (a chart or a map: pdfplumber's parse of such a page takes seconds)."""
    paths = 0
    for _ in page.get_objects(filter=(pdfium_c.FPDF_PAGEOBJ_PATH,)):
        paths += 1
        if paths > MAX_RULE_OBJECTS:
            return False
    return paths >= MIN_RULE_OBJECTS


def with_rows(
    textpage: pdfium.PdfTextPage, tables: Sequence[PdfTable]
) -> tuple[str, tuple[str, ...]]:
    """The page's text (PDFium's, uncleaned) with each table's characters replaced by its rows,
    one per line, where the table's first character was; and the row lines, so that the
    caller keeps them apart when it joins printed lines into paragraphs.

    A page whose text does not map one character to one box is left as it is."""
    text = textpage.get_text_range()
    if not tables or len(text) != textpage.count_chars():
        return text, ()
    out: list[str] = []
    placed: set[int] = set()
    owner: int | None = None
    for position, character in enumerate(text):
        box = textpage.get_charbox(position)
        if box[0] == box[2] and box[1] == box[3] and character in "\r\n":
            pass  # a generated line end: it belongs where the character before it does
        else:
            owner = next((i for i, table in enumerate(tables) if table.holds(box)), None)
        if owner is None:
            out.append(character)
        elif owner not in placed:
            placed.add(owner)
            if out and not "".join(out[-2:]).endswith("\n"):
                out.append("\r\n")
            out.append("\r\n".join(tables[owner].lines) + "\r\n")
    rows = tuple(line for i in sorted(placed) for line in tables[i].lines)
    return "".join(out), rows
