"""CSV and TSV: one line per record, each cell with its column header, named by its row number.

"Row 7: Region: EMEA | Q3 revenue: 4.2 M" is record 7 counting the header as row 1, the row
a spreadsheet shows when it opens the file, so the quote itself names where it stands.
"""

from __future__ import annotations

import csv
import io
from collections import Counter

from assistant.errors import LoadError
from assistant.loaders.base import Extracted, decode_text
from assistant.loaders.tables import cell_text, row_line

_DELIMITERS = ",;\t|"
# The dialect is guessed from this much of the file.
SNIFF_CHARS = 64_000
# csv's default cap (128 kB) on one field; a longer field is a broken file, not a cell.
csv.field_size_limit(1_000_000)


def extract(data: bytes) -> Extracted:
    """Extract the records of a CSV file (delimiter and encoding sniffed), header carried along."""
    text = decode_text(data)
    records = list(csv.reader(io.StringIO(text, newline=""), _dialect(text)))
    rows = [[cell_text(cell) for cell in record] for record in records]
    header_index = next((i for i, row in enumerate(rows) if any(row)), None)
    if header_index is None:
        raise LoadError("no extractable text")
    header = rows[header_index]
    lines = []
    for number, cells in enumerate(rows[header_index + 1 :], start=header_index + 2):
        line = row_line(header, cells)
        if line:
            lines.append(row_label(number) + line)
    if not lines:  # a header alone is still the file's text
        lines.append(" | ".join(cell for cell in header if cell))
    return Extracted(text="\n".join(lines))


def row_label(number: int) -> str:
    """What a row line starts with, so that a quote of it names its row."""
    return f"Row {number}: "


def _dialect(text: str) -> type[csv.Dialect]:
    """The delimiter that splits the first records into the most consistent number of fields
    (csv.Sniffer also guesses the quote character, and guesses it wrong on cells such as "''").
    """
    sample = text[:SNIFF_CHARS]
    if "\n" in sample[:-1] and len(text) > SNIFF_CHARS:
        sample = sample[: sample.rfind("\n")]  # never judge by a cut-off last record
    best, best_score = ",", (0.0, 0)
    for delimiter in _DELIMITERS:
        try:
            counts = [len(r) for r in csv.reader(io.StringIO(sample), delimiter=delimiter) if r]
        except csv.Error:
            continue
        if not counts:
            continue
        common = Counter(counts).most_common(1)[0][0]
        if common < 2:
            continue
        score = (sum(1 for count in counts if count == common) / len(counts), common)
        if score > best_score:
            best, best_score = delimiter, score
    return _DIALECTS[best]


class _Comma(csv.excel):
    delimiter = ","


class _Semicolon(csv.excel):
    delimiter = ";"


class _Tab(csv.excel):
    delimiter = "\t"


class _Pipe(csv.excel):
    delimiter = "|"


_DIALECTS: dict[str, type[csv.Dialect]] = {",": _Comma, ";": _Semicolon, "\t": _Tab, "|": _Pipe}
