"""Where an evidence window ends: on whole lines, on whole statements (the brackets its code
lines open are closed again) and on whole fenced code blocks (`assistant.evidence`)."""

from __future__ import annotations

import re

from assistant.evidence_lines import code_by_shape, fenced_blocks
from assistant.types import Passage

# How far a window may grow past its sentence, in characters (in lines:
# `evidence.MAX_FOLLOWING_LINES`).
MAX_WINDOW_CHARS = 520


# A quoted string in a code line, whose brackets do not count ("fgrep '[rewrite:'").
QUOTED = re.compile(r"'[^'\n]*'|\"[^\"\n]*\"")
OPENS, CLOSES = "([{", ")]}"


def closed_end(
    passage: Passage,
    lines: tuple[tuple[int, int], ...],
    window_start: int,
    window_end: int,
    end: int,
) -> int:
    """Where a window that grew over code or items ends on whole statements: the brackets its
    lines open are closed again. A window cut open ("draw(graph(f,0,1),Pen(i)," at the size
    limit, "for(int i=0; i < 10; ++i) {" taken with its lead-in) runs on to the line that
    closes them, within the size limit, or else ends at the last line (not before the
    sentence's own `end`) at which they were closed; unchanged when it cannot be either."""
    depth, closed = 0, None
    for span in lines:
        if span[1] <= window_start:
            continue
        if span[0] >= window_end and (depth <= 0 or span[1] - window_start > MAX_WINDOW_CHARS):
            break
        # Whole lines: a sentence the splitter ended inside a code line ('zone "."' of
        # 'zone "." {') closes what the rest of its line opens.
        text = QUOTED.sub("", passage.sentence_text(max(span[0], window_start), span[1]))
        depth += sum(text.count(c) for c in OPENS) - sum(text.count(c) for c in CLOSES)
        if depth <= 0:
            depth = 0
            if span[0] >= window_end:
                return span[1]  # ran on to the line that closes what the window opened
            if span[1] >= end:
                closed = min(span[1], window_end)
    if depth <= 0 or closed is None:
        return window_end
    return closed


def whole_blocks(
    passage: Passage, lines: tuple[tuple[int, int], ...], start: int, end: int, s: int, e: int
) -> tuple[int, int]:
    """The window [start, end) holding each fenced code block wholly or not at all (a quote
    that opens a block without closing it, or closes one it did not open, would run the rest
    of an answer into a block): on to the closing fence when that is near, else cut before
    the block (or after it) where the sentence [s, e) allows, else the sentence alone."""
    for first, last in fenced_blocks(passage):
        opening = lines[first] if first is not None else None
        closing = lines[last] if last is not None else None
        has_opening = opening is not None and start <= opening[0] < end
        has_closing = closing is not None and start <= closing[0] < end
        if has_opening == has_closing:
            continue  # the whole block, or none of its fences (outside it, or code inside it)
        if opening is not None and has_opening:  # opens it, does not close it
            if closing is not None and closing[1] - start <= MAX_WINDOW_CHARS:
                end = closing[1]
            elif e <= opening[0]:
                end = max(e, max((b for _, b in lines if b <= opening[0]), default=e))
            else:
                return s, e
        elif closing is not None:  # closes it, does not open it
            if s >= closing[1]:
                start = min(s, min(a for a, _ in lines if a >= closing[1]))
            elif e <= closing[0]:
                end = max(e, max((b for _, b in lines if b <= closing[0]), default=e))
            else:
                return s, e
    return start, end


def to_line_end(passage: Passage, lines: tuple[tuple[int, int], ...], end: int) -> int:
    """`end`, or the end of its line when that is a line of code: a sentence the splitter
    ended inside code ("5     relay_domains = ." of "... = . . . the.backed-up.domain.tld")
    is quoted with its whole line."""
    for span in lines:
        if span[0] < end < span[1]:
            return span[1] if code_by_shape(passage, span) else end
    return end


def cut_at_line(passage: Passage, start: int, limit: int) -> int:
    """The end of the last whole line before `limit` (at least one line)."""
    text = passage.sentence_text(start, min(limit, passage.end))
    newline = text.rfind("\n")
    if newline <= 0:
        return min(limit, passage.end)
    return start + len(text[:newline].rstrip())
