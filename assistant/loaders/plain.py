"""Plain text: the file's own text, with a paragraph's soft line breaks as spaces.

One space replaces one line break (`reflow.py`), so offsets into the file's text hold.
"""

from __future__ import annotations

import math
import re

from assistant.line_shapes import looks_like_code
from assistant.loaders.base import Extracted, decode_text
from assistant.loaders.reflow import full_width, is_hard_wrapped, unwrap_printed
from assistant.text import sentence_spans
from assistant.types import Heading

_TERMINAL = ".!?:;,)]\"'”’"


# A line that underlines the one above it as a heading ("=====", "-----", "~~~~").
_UNDERLINE = re.compile(r"^([=\-~^*#+])\1{2,}$")
# A field and its value ("What:   pg(1) command", "URL: https://..."): no heading.
_FIELD = re.compile(r"^\w+:\s+\S")
# In a hard-wrapped file, a line this full (of the usual full line) that the next line continues
# is a paragraph's line, however it begins.
_FULL_LINE = 0.8


def extract_text(data: bytes) -> Extracted:
    """A .txt file: its text, the first line as title when it looks like one, heading-like lines
    (an underlined line, or a short one the text after it does not continue)."""
    text = decode_text(data)
    wrapped = is_hard_wrapped(text)
    width = full_width(text.split("\n")) if wrapped else 0.0
    lines = _lines(text, keep_blank=True)
    title = None
    headings = []
    first = True
    for index, (offset, line) in enumerate(lines):
        if not line:
            continue
        following = lines[index + 1][1] if index + 1 < len(lines) else ""  # "" when blank
        underlined = _UNDERLINE.match(following) is not None
        below = next((lines[j][1] for j in range(index + 1, len(lines)) if lines[j][1]), "")
        if (underlined and _may_head(line)) or _stands_alone(line, following, below, first, width):
            if first:
                title = line
            headings.append(Heading(offset, line))
        first = False
    # Offsets unchanged: one space for one line break. A sentence the next line carries on is
    # joined in any file ("... and must" + "register their plate at reception."), whatever the
    # width of its line; a file that is not hard-wrapped has no full line (an infinite width).
    text = unwrap_printed(text, width if wrapped else math.inf, run_on=True)
    return Extracted(text=text, title=title, headings=tuple(headings))


def _may_head(line: str) -> bool:
    """Whether a line may be a heading at all: not a table's row (tabs), code, or a rule."""
    return "\t" not in line and not looks_like_code(line) and not _UNDERLINE.match(line)


def _stands_alone(line: str, following: str, below: str, first: bool, width: float) -> bool:
    """Whether a line reads as a heading of the text after it: few words, a capital first, no
    closing punctuation, one sentence, not a field nor code, and the next line (`following`,
    "" when blank) does not continue it (as a paragraph's next line does: in lower case, or
    after a line as full as the usual); below the first line, the next line with text (`below`)
    has more words."""
    if not looks_like_heading(line, max_words=24 if first else 12) or not _may_head(line):
        return False
    if _FIELD.match(line) or len(sentence_spans(line)) > 1:
        return False
    if following and (following[0].islower() or (width and len(line) >= _FULL_LINE * width)):
        return False
    return first or len(below.split()) > len(line.split())


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
