"""Table rows as text that keeps each cell with its column header: "Region: EMEA | Q3: 4.2 M".

A question about one cell must retrieve the row that holds it, and the quote must say what the
number is; a row read as bare cells ("EMEA 4.2 M") says neither. So every table the loaders meet
(HTML, DOCX, slides, spreadsheets, CSV) becomes one line per row, each cell prefixed with its
column's header, the header row itself not repeated as a line of its own.
"""

from __future__ import annotations

from collections.abc import Sequence

CELL_SEPARATOR = " | "
# Header rows: at most this many leading rows are read as (stacked) column headers.
MAX_HEADER_ROWS = 3


def cell_text(text: str) -> str:
    """One cell's text on one line: whitespace (line breaks included) runs become one space."""
    return " ".join(text.split())


def row_line(header: Sequence[str], cells: Sequence[str]) -> str:
    """A row as "Header: cell | Header: cell"; empty cells are left out, a cell without a
    header (or whose header is its own text) stands alone, a cell repeating the one before it
    under the same header (a merged cell spread over the grid) is said once."""
    parts: list[str] = []
    previous: tuple[str, str] | None = None
    for index, cell in enumerate(cells):
        if not cell:
            continue
        name = header[index] if index < len(header) else ""
        if previous == (name, cell):
            continue
        previous = (name, cell)
        parts.append(f"{name}: {cell}" if name and name != cell else cell)
    return CELL_SEPARATOR.join(parts)


def table_lines(rows: Sequence[Sequence[str]], header_rows: int) -> list[str]:
    """The body rows of a table as lines, each cell with its column's header.

    `rows` is the table's grid (merged cells repeated in every grid position they cover);
    the first `header_rows` rows are the header, stacked headers joined per column.
    A body row that only repeats the header (a long table's header on every printed page) is
    not a line.
    """
    header_rows = min(header_rows, MAX_HEADER_ROWS, len(rows))
    header = _column_headers(rows[:header_rows])
    lines = []
    for cells in rows[header_rows:]:
        if header and [c for c in cells if c] == [h for h in header if h]:
            continue
        line = row_line(header, cells)
        if line:
            lines.append(line)
    if not lines and header_rows:  # a table that is all header: its header is its text
        line = CELL_SEPARATOR.join(h for h in header if h)
        return [line] if line else []
    return lines


def _column_headers(rows: Sequence[Sequence[str]]) -> list[str]:
    width = max((len(row) for row in rows), default=0)
    header = []
    for column in range(width):
        words: list[str] = []
        for row in rows:
            cell = row[column] if column < len(row) else ""
            if cell and (not words or words[-1] != cell):
                words.append(cell)
        header.append(" ".join(words))
    return header


# A merged cell spans at most this many columns (as browsers allow), and a table's grid holds
# at most this many cells: beyond it, merged cells are read as single ones. A few hundred bytes
# of "rowspan=1000 colspan=1000" cells once asked for gigabytes.
MAX_COLSPAN = 1000
MAX_GRID_CELLS = 200_000


def spread(rows: Sequence[Sequence[tuple[str, int, int]]]) -> list[list[str]]:
    """The grid of a table given as rows of (text, rowspan, colspan) cells: a merged cell's text
    in every position it covers, so each row carries all its values. A cell spans down at most
    to the table's last row; a table whose merged cells would make more than `MAX_GRID_CELLS`
    positions has its later merged cells read as single cells."""
    grid: list[list[str]] = []
    pending: dict[tuple[int, int], str] = {}  # (row, column) -> text of a cell spanning down
    room = MAX_GRID_CELLS  # positions the merged cells may still fill
    for row_index, cells in enumerate(rows):
        row: list[str] = []
        column = 0
        for text, rowspan, colspan in cells:
            while (row_index, column) in pending:
                row.append(pending.pop((row_index, column)))
                column += 1
            down = max(1, min(rowspan, len(rows) - row_index))
            across = max(1, min(colspan, MAX_COLSPAN))
            if down * across > 1 and down * across > room:
                down = across = 1
            room -= down * across
            for offset in range(across):
                row.append(text)
                for below in range(1, down):
                    pending[(row_index + below, column + offset)] = text
            column += across
        while (row_index, column) in pending:
            row.append(pending.pop((row_index, column)))
            column += 1
        grid.append(row)
    return grid


def header_rows_by_content(rows: Sequence[Sequence[str]]) -> int:
    """1 when an unmarked first row reads as column headers, else 0.

    A two-column table of words only is taken for a list of terms and descriptions ("Owner |
    People team"), not for a header over its rows, unless a row below holds a number or a gap.
    """
    if len(rows) < 2 or not looks_like_header(rows[0]):
        return 0
    if len(rows[0]) >= 3:
        return 1
    return 1 if any(not looks_like_header(row) for row in rows[1:]) else 0


def looks_like_header(cells: Sequence[str]) -> bool:
    """Whether a first row, unmarked, reads as column headers: at least two cells, all filled,
    distinct, and words rather than numbers (a data row almost always holds a number or a gap).
    """
    filled = [c for c in cells if c]
    return (
        len(filled) >= 2
        and len(filled) == len(cells)
        and len(set(filled)) == len(filled)
        and not any(_is_number(c) for c in filled)
    )


def _is_number(text: str) -> bool:
    stripped = text.replace(",", "").replace(" ", "").rstrip("%").lstrip("$€£-+")
    try:
        float(stripped)
    except ValueError:
        return False
    return True
