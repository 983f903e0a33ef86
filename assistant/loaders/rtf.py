"""RTF (striprtf): the document's text, one paragraph per line, table rows with their header cells,
short title-like lines before longer ones as headings (as for .txt: RTF's styles do not say
reliably which paragraph is a heading).
"""

from __future__ import annotations

import re

from striprtf.striprtf import rtf_to_text as _rtf_to_text

from assistant.errors import LoadError
from assistant.loaders import plain
from assistant.loaders.base import Extracted
from assistant.loaders.tables import cell_text, header_rows_by_content, table_lines
from assistant.types import Heading

_CODEPAGE = re.compile(rb"\\ansicpg(\d+)")
_TITLE = re.compile(r"\{\\title\s*((?:[^{}\\]|\\.)*)\}")
# striprtf ends every table cell with "|", so a table row is a line ending in one.
_TABLE_ROW = re.compile(r"^.*\|\s*$")


def extract(data: bytes) -> Extracted:
    """Extract the text of an RTF document."""
    if not data.lstrip().startswith(b"{\\rtf"):
        raise LoadError("not a valid .rtf file (no RTF header)")
    codepage = _CODEPAGE.search(data[:2000])
    encoding = f"cp{int(codepage.group(1))}" if codepage else "cp1252"
    try:
        "".encode(encoding)
    except LookupError:
        encoding = "cp1252"
    source = data.decode("latin-1")  # RTF is 7-bit; \'xx escapes carry the code page's bytes
    text = rtf_to_text(source, encoding)
    lines, table_rows = _with_table_rows(text)
    headings = []
    position = 0
    for index, line in enumerate(lines):
        following = lines[index + 1] if index + 1 < len(lines) else ""
        if (
            index not in table_rows
            and plain.looks_like_heading(line, max_words=12)
            and len(following.split()) > len(line.split())
        ):
            headings.append(Heading(position, line))
        position += len(line) + 1
    title_match = _TITLE.search(source)
    title = cell_text(rtf_to_text(title_match.group(1), encoding)) if title_match else None
    first = headings[0].title if headings and headings[0].offset == 0 else None
    return Extracted(text="\n".join(lines), title=title or first, headings=tuple(headings))


def rtf_to_text(rtf: str, encoding: str) -> str:
    """striprtf's plain text (a typed wrapper: striprtf has no annotations)."""
    return str(_rtf_to_text(rtf, encoding=encoding, errors="replace"))  # type: ignore[no-untyped-call]


def _with_table_rows(text: str) -> tuple[list[str], set[int]]:
    """The text's non-blank lines, each run of table rows ("a|b|") as header-carrying row lines;
    and the indexes of those row lines."""
    lines: list[str] = []
    rows: set[int] = set()
    table: list[list[str]] = []
    for raw in [*text.replace("\r\n", "\n").split("\n"), ""]:
        line = cell_text(raw)
        if _TABLE_ROW.match(line):
            table.append([cell_text(cell) for cell in line.rstrip("| ").split("|")])
            continue
        if table:
            for row in table_lines(table, header_rows_by_content(table)):
                rows.add(len(lines))
                lines.append(row)
            table = []
        if line:
            lines.append(line)
    return lines, rows
