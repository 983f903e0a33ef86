"""XLSX: each worksheet a heading ("Sheet: Revenue"), each row a line named by its row number,
its cells carrying their column headers (the sheet's first non-empty row).

Values are the ones Excel last calculated and saved (formulas are not evaluated here).
"""

from __future__ import annotations

import datetime as dt
import io
import zipfile
from collections.abc import Iterable
from typing import Any

import openpyxl

from assistant.errors import LoadError
from assistant.loaders.base import Extracted
from assistant.loaders.csv import row_label
from assistant.loaders.parts import assemble_sheets
from assistant.loaders.tables import cell_text, row_line


def extract(data: bytes) -> Extracted:
    """Extract every worksheet of a workbook, in tab order."""
    if not zipfile.is_zipfile(io.BytesIO(data)):
        raise LoadError("not a valid .xlsx file (not a ZIP package)")
    workbook = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    try:
        title = (workbook.properties.title or "").strip() or None
        sheets = [
            (sheet.title, _sheet_lines(_rows(sheet)))
            for sheet in workbook.worksheets
            if hasattr(sheet, "iter_rows")  # chart sheets hold no cells
        ]
    finally:
        workbook.close()
    return assemble_sheets(sheets, title)


# Columns of a row past this one are not read: a workbook of a few kilobytes can claim its
# last cell at XFD1048576, and each row was then read 16,384 cells wide.
MAX_COLUMNS = 1024


def _rows(sheet: Any) -> Iterable[tuple[object, ...]]:
    """A sheet's rows as saved: each as wide as its last cell (at most `MAX_COLUMNS`), a missing
    row as an empty one. Not padded to the extent the sheet claims (its `dimension`, which a
    file may set to a million rows by 16,384 columns)."""
    sheet.reset_dimensions()
    for row in sheet.iter_rows():
        yield tuple(row[:MAX_COLUMNS])


def _sheet_lines(rows: Iterable[tuple[object, ...]]) -> list[str]:
    header: list[str] | None = None
    lines = []
    for row in rows:
        cells = [_value_text(cell) for cell in row]
        if not any(cells):
            continue
        number = next(getattr(cell, "row", None) for cell in row if hasattr(cell, "row"))
        if header is None:
            header = cells
            continue
        line = row_line(header, cells)
        if line:
            lines.append(row_label(int(number or 0)) + line)
    if header is not None and not lines:  # a sheet that is one row: that row is its text
        lines.append(" | ".join(cell for cell in header if cell))
    return lines


def _value_text(cell: object) -> str:
    value = getattr(cell, "value", None)
    if value is None:
        return ""
    number_format = str(getattr(cell, "number_format", "") or "")
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, int | float):
        if "%" in number_format:
            return f"{_number(value * 100)}%"
        return _number(value)
    if isinstance(value, dt.datetime):
        if value.time() == dt.time(0):
            return value.date().isoformat()
        return value.isoformat(sep=" ", timespec="minutes")
    if isinstance(value, dt.date | dt.time):
        return value.isoformat()
    return cell_text(str(value))


def _number(value: float) -> str:
    """A number as a person would type it: 4.2, 1200, 0.125 (no float noise, no ".0")."""
    rounded = round(float(value), 10)
    if rounded == int(rounded) and abs(rounded) < 1e15:
        return str(int(rounded))
    return f"{rounded:.10g}"
