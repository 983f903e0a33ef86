"""Soft line wraps: line breaks inside a paragraph that only say where a printed line was full.

A PDF's text and a hard-wrapped text file end every printed line with a line break. Read as
they are, every line would be a sentence of its own (line breaks end sentences, so that
headings, list items and code lines stand alone): "values 00-68 refer to the" would be one
answer and "21st century." the next. The loaders turn such a break into a space, one character
for one, so every offset the extractor computed (pages, headings) stays true.

Which breaks are soft is read from the layout, never from the words: the line reaches the
text's usual full width, and the next line continues the paragraph (it does not open a list
item, a prompt or a code line). Markdown is parsed instead (assistant/loaders/markdown.py).
"""

from __future__ import annotations

import re
from itertools import pairwise

import numpy as np

# A line that opens a list item, a prompt or a code/markup line: never the middle of a sentence.
_BLOCK_START = re.compile(
    r"^\s*(?:[-*+•–—▪◦·>$#|]|\d{1,3}[.)]\s|\(?[a-zA-Z0-9]{1,3}\)\s|[{}\[\]<@%;=])"
)
# A table-of-contents entry: dot leaders, then a page number.
_LEADERS = re.compile(r"(?:\.\s?){4,}\s*\S*\d+\s*$")
# A line this long relative to the text's full width was ended by the margin, not the writer.
FULL_LINE = 0.75
# Printed text is taken as hard-wrapped when nearly all its lines fit this width.
WRAP_WIDTH = 110


def unwrap_printed(text: str, width: float | None = None) -> str:
    """Join the lines of printed paragraphs (PDF text, a hard-wrapped text file)."""
    lines = text.split("\n")
    if width is None:
        width = full_width(lines)
    if width <= 0:
        return text
    out = list(text)
    position = 0
    for line, following in pairwise(lines):
        position += len(line)
        body = line.rstrip("\r")
        if soft_break(body, following, width):
            out[position] = " "
            if body != line:  # "\r\n": both characters become spaces
                out[position - 1] = " "
        position += 1
    return "".join(out)


def soft_break(line: str, following: str, width: float) -> bool:
    """Whether the break between a printed line and the next only marks a full line: the line
    reaches the full width and the next one continues its paragraph."""
    return (
        len(line.strip()) >= FULL_LINE * width
        and bool(following.strip())
        and not line.rstrip().endswith(":")
        and not _LEADERS.search(line)
        and not _BLOCK_START.match(following)
        and not _heading_after_sentence(line, following, width)
    )


def _heading_after_sentence(line: str, following: str, width: float) -> bool:
    """A finished sentence, then a short line that ends without punctuation: a heading."""
    after = following.strip()
    return (
        line.rstrip()[-1:] in ".!?"
        and len(after) < FULL_LINE * width
        and (after[:1].isupper() or after[:1].isdigit())
        and after[-1:] not in ".!?,;:"
    )


def full_width(lines: list[str]) -> float:
    """The usual length of a full line: the 90th percentile of the non-blank lines' lengths."""
    lengths = [len(line.strip()) for line in lines if line.strip()]
    if len(lengths) < 3:
        return 0.0
    return float(np.percentile(lengths, 90))


def is_hard_wrapped(text: str) -> bool:
    """Whether a text file was wrapped by hand or by a tool: its lines share a narrow width."""
    lines = [line for line in text.split("\n") if line.strip()]
    if len(lines) < 5:
        return False
    width = full_width(lines)
    longest = max(len(line.rstrip()) for line in lines)
    return width <= WRAP_WIDTH and longest <= WRAP_WIDTH * 1.2
