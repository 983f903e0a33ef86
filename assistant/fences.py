"""Fenced code blocks (CommonMark): where they open and close, in a passage or a document.

Parsed from line breaks and fences alone, and cached: every sentence and line of a passage asks
the same questions of it, and every passage of a document the same of the document.
"""

from __future__ import annotations

import re
from functools import lru_cache

from assistant.types import Passage

# Markdown code fences (CommonMark): an opening one with any info string ("```toml",
# "``` bash", "~~~markdown"), a closing one of the same character, at least as long, bare.
_OPENING_FENCE = re.compile(r"^(`{3,})[^`]*$|^(~{3,}).*$")
_CLOSING_FENCE = re.compile(r"^(`{3,}|~{3,})\s*$")
# An inline code span on one line ("`force-include`"), its text in group 1.
INLINE_CODE = re.compile(r"`([^`\n]+)`")
# A line shaped like a command or a statement: after a shell, Python or continuation prompt, an
# assignment ("x = 1"), a bare call ("plot(x)"). The answer's windows (`line_shapes.CODE_LINE`) and
# the PDF loader's run-on rule (`loaders/reflow`) each add the endings they read as code.
STATEMENT_SHAPES = r"^(?:\$ |# |>>> |\.\.\. )|^[\w.-]+\s*=\s*\S|^\w+\(.*\)$"
# A sentence or line that introduces what follows it (a command, a list, a table): it ends on a
# colon, "the following ..." (not "following the behaviour of ...", where it is a preposition
# before an article), "as follows" or "below". The answer's windows take what it
# introduces along (`evidence`); the PDF loader never runs it on into the next line
# (`loaders/reflow`).
INTRODUCES = re.compile(
    r"(:|\bfollowing\b(?!\s+(?:the|an?)\b)[^.!?]{0,40}[.:]?"
    r"|\bas follows\b[.:]?|\bbelow\b[.:]?)\s*$",
    re.I,
)


@lru_cache(maxsize=64)
def _fenced_spans(text: str, offset: int) -> tuple[tuple[int, int], ...]:
    """The fenced code blocks of a text placed at `offset`, as absolute spans from the opening
    fence's line start to the closing fence's line end (the text's end: never closed)."""
    spans, opened = _parse_fences(text, offset)
    if opened is not None:
        spans.append((opened, offset + len(text)))
    return tuple(spans)


def _parse_fences(text: str, offset: int) -> tuple[list[tuple[int, int]], int | None]:
    """The closed fenced blocks of a text (absolute spans) and where one left open starts."""
    if "```" not in text and "~~~" not in text:
        return [], None
    spans: list[tuple[int, int]] = []
    opened: tuple[int, str] | None = None
    for a, b in line_spans(text, offset):
        line = text[a - offset : b - offset]
        if opened is None:
            fence = opening_fence(line)
            if fence is not None:
                opened = (a, fence)
        elif closes_fence(line, opened[1]):
            spans.append((opened[0], b))
            opened = None
    return spans, None if opened is None else opened[0]


def opening_fence(line: str) -> str | None:
    """The fence a line opens a code block with ("```", "~~~~"), or None: up to three spaces
    of indent (more inside a list item or a tab), then three or more backticks with an info
    string but no backtick, or tildes with anything after (CommonMark)."""
    match = _OPENING_FENCE.match(line.strip())
    return None if match is None else match.group(1) or match.group(2)


def closes_fence(line: str, fence: str) -> bool:
    """Whether a line closes the block `fence` opened: the same character, at least as many,
    nothing else on the line (a "```" line inside a "~~~" block, or "```python" inside a
    "```" block, is code)."""
    match = _CLOSING_FENCE.match(line.strip())
    return match is not None and match.group(1)[0] == fence[0] and len(match.group(1)) >= len(fence)


def renders_whole(text: str) -> bool:
    """Whether a quote, rendered as Markdown on its own, leaves no code block open (a window
    inside a "~~~" block may hold a "```" line that is text there and a fence here)."""
    return _parse_fences(text, 0)[1] is None


def document_code_blocks(passage: Passage, text: str) -> tuple[tuple[int, int], ...]:
    """The fenced code blocks of the passage's document (its whole `text`) that overlap the
    passage: a passage that starts inside a block cannot tell its closing fence from an
    opening one by itself, and one that lies wholly inside a block holds no fence at all. A
    block never closed runs to the document's end (CommonMark), but only a passage holding a
    fence is told of it: one stray fence (an extraction's as often as a writer's) does not
    make the rest of the document code."""
    closed, opened = _document_fences(text)
    holds_fence = "```" in passage.text or "~~~" in passage.text
    blocks = (*closed, (opened, len(text))) if opened is not None and holds_fence else closed
    return tuple((a, b) for a, b in blocks if a < passage.end and b > passage.start)


@lru_cache(maxsize=16)
def _document_fences(text: str) -> tuple[tuple[tuple[int, int], ...], int | None]:
    """A document's closed fenced blocks and where one left open starts, parsed once for all
    of its passages."""
    closed, opened = _parse_fences(text, 0)
    return tuple(closed), opened


@lru_cache(maxsize=64)
def block_lines(
    text: str, offset: int, spans: tuple[tuple[int, int], ...] | None
) -> tuple[tuple[int | None, int | None], ...]:
    """The fenced blocks of a passage's text (at `offset`; `spans`: the document's blocks, when
    known) as indexes in `line_spans` of each opening and closing fence line (None: outside)."""
    lines = line_spans(text, offset)
    if spans is None:
        spans = _fenced_spans(text, offset)
    starts = {a: i for i, (a, _) in enumerate(lines)}
    ends = {b: i for i, (_, b) in enumerate(lines)}
    return tuple((starts.get(a), ends.get(b)) for a, b in spans)


@lru_cache(maxsize=64)
def line_spans(text: str, offset: int) -> tuple[tuple[int, int], ...]:
    """Absolute (start, end) of every non-blank line of a passage's text, trimmed.

    Cached: every sentence of a passage asks for the same lines.
    """
    spans = []
    for raw in text.split("\n"):
        stripped = raw.strip()
        if stripped:
            lead = len(raw) - len(raw.lstrip())
            spans.append((offset + lead, offset + lead + len(stripped)))
        offset += len(raw) + 1
    return tuple(spans)
