"""Plain text: the file's own text, with a paragraph's soft line breaks as spaces.

One space replaces one line break (`reflow.py`), so offsets into the file's text hold.
"""

from __future__ import annotations

from assistant.loaders.base import Extracted, decode_text
from assistant.loaders.reflow import is_hard_wrapped, unwrap_printed
from assistant.types import Heading

_TERMINAL = ".!?:;,)]\"'”’"


def extract_text(data: bytes) -> Extracted:
    """A .txt file: its text, the first line as title when it looks like one, heading-like lines."""
    text = decode_text(data)
    lines = _lines(text)
    title = None
    headings = []
    for index, (offset, line) in enumerate(lines):
        if index == 0:
            if looks_like_heading(line, max_words=24):
                title = line.strip()
                headings.append(Heading(offset, title))
            continue
        following = lines[index + 1][1] if index + 1 < len(lines) else ""
        if looks_like_heading(line, max_words=12) and len(following.split()) > len(line.split()):
            headings.append(Heading(offset, line.strip()))
    if is_hard_wrapped(text):
        text = unwrap_printed(text)  # offsets unchanged: one space for one line break
    return Extracted(text=text, title=title, headings=tuple(headings))


def _lines(text: str, keep_blank: bool = False) -> list[tuple[int, str]]:
    result = []
    offset = 0
    for line in text.splitlines(keepends=True):
        stripped = line.rstrip("\r\n")
        if keep_blank or stripped.strip():
            result.append((offset + len(stripped) - len(stripped.lstrip()), stripped.strip()))
        offset += len(line)
    return result


def looks_like_heading(line: str, max_words: int) -> bool:
    """Whether a line reads as a title: few words, a capital first, no closing punctuation."""
    stripped = line.strip()
    n_words = len(stripped.split())
    return (
        0 < n_words <= max_words
        and stripped[0].isupper()
        and stripped[-1] not in _TERMINAL
        and not stripped.startswith(("-", "*", "•"))
    )
