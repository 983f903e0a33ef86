"""What a line of a passage is: a line of a fenced code block (or its fence), a section
heading, a line of code, and how far it is indented. Asked by the evidence windows
(`assistant.evidence`) and the features that weigh them."""

from __future__ import annotations

from assistant.fences import block_lines, line_spans
from assistant.line_shapes import CODE_LINE, looks_like_code
from assistant.types import Passage, section_starts


def fenced_blocks(passage: Passage) -> tuple[tuple[int | None, int | None], ...]:
    """The fenced code blocks of a passage as indexes (in `fences.line_spans`) of each block's
    opening and closing fence lines (None: outside the passage, before or after it)."""
    return block_lines(passage.text, passage.start, passage.code_blocks)


def block_at(passage: Passage, index: int) -> tuple[int | None, int | None] | None:
    """The fenced block whose lines (fences included) hold line `index`, if any."""
    for first, last in fenced_blocks(passage):
        if (first is None or first <= index) and (last is None or index <= last):
            return first, last
    return None


def is_fence_line(passage: Passage, start: int) -> bool:
    """Whether the line at `start` is a code fence (a block's opening or closing line)."""
    lines = line_spans(passage.text, passage.start)
    return any(
        index is not None and lines[index][0] == start
        for block in fenced_blocks(passage)
        for index in block
    )


def is_heading_at(passage: Passage, offset: int) -> bool:
    """Whether a section heading (not a defined term) starts at `offset` of the passage."""
    return offset in section_starts(passage.headings)


def indent_of(passage: Passage, span: tuple[int, int]) -> int:
    """How far a line is indented (its span starts after the indentation)."""
    return len(passage.text[: span[0] - passage.start].rsplit("\n", 1)[-1])


def is_code_at(passage: Passage, span: tuple[int, int]) -> bool:
    """A code line: indented by two or more spaces, a line of a fenced block (its fences
    too), or shaped like a command or statement."""
    text = passage.sentence_text(*span)
    return indent_of(passage, span) >= 2 or bool(CODE_LINE.search(text)) or in_block(passage, span)


def code_by_shape(passage: Passage, span: tuple[int, int]) -> bool:
    """A code line by what it holds, not by its indentation (indented prose is common: RFCs,
    plain-text manuals): shaped like a command or statement, dense with symbols, or a line of
    a fenced block."""
    text = passage.sentence_text(*span)
    return bool(CODE_LINE.search(text)) or looks_like_code(text) or in_block(passage, span)


def in_block(passage: Passage, span: tuple[int, int]) -> bool:
    """Whether the line `span` is a line of a fenced code block (its fences too)."""
    lines = line_spans(passage.text, passage.start)
    return span in lines and block_at(passage, lines.index(span)) is not None
