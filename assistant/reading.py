"""A retrieved passage read in its document: from the heading right above it, and on past
its chunk's end over what its last line leads into (the command after "the following:", the
directive after its comment), knowing the document's fenced code blocks. The passage stays
`text[start:end]` of its document; only its span moves.
"""

from __future__ import annotations

import re
from dataclasses import replace

from assistant.fences import INTRODUCES, document_code_blocks
from assistant.line_shapes import (
    COMMENT_LINE,
    LIST_ITEM,
    PROMPT,
    is_code_line,
    is_prose,
    looks_like_code,
    reads_as_prose,
)
from assistant.types import Passage, heading_at
from assistant.window_ends import MAX_WINDOW_CHARS

# A heading this close before a passage (line breaks and indentation only) is the one it follows.
HEADING_GAP = 8


def in_document(passage: Passage, text: str) -> Passage:
    """The passage read in its document (`text`): from the heading right above it
    (`from_heading`), on over what its last line leads into (`run_on`), knowing the
    document's code blocks around it."""
    passage = run_on(from_heading(passage, text), text)
    return replace(passage, code_blocks=document_code_blocks(passage, text))


# The line after an offset at a line's end ("\n" or "\r\n" first), without its line break.
_NEXT_LINE = re.compile(r"\r?\n([^\r\n]*)")


def run_on(passage: Passage, text: str) -> Passage:
    """The passage run on past its end over the lines that finish what its last line leads
    into, when its chunk ended there (after "... use the following command:", a prompt's
    command, a comment in code, a code line or a list item): the code lines, output or items
    that follow, up to the next prose, heading or blank line, within `MAX_WINDOW_CHARS`. Only
    windows grow into them; no sentence of the passage starts there (the next chunk holds
    those). `text` is the document's; the passage stays `text[start:end]`."""
    if not _NEXT_LINE.match(text, passage.end):
        return passage  # the document ends, or the chunk ended inside a line
    last = text[text.rfind("\n", 0, passage.end) + 1 : passage.end]
    if not (
        INTRODUCES.search(last)
        or PROMPT.match(last)
        or COMMENT_LINE.match(last)
        or is_code_line(last)
        or LIST_ITEM.match(last)
    ):
        return passage
    headings = {h.offset for h in passage.headings}
    end = passage.end
    while (following := _NEXT_LINE.match(text, end)) is not None:
        line, line_start, line_end = following.group(1), following.start(1), following.end(1)
        stripped = line.strip()
        if not stripped or line_start + len(line) - len(line.lstrip()) in headings:
            break
        indented = line.startswith(("  ", "\t"))
        if not indented and not LIST_ITEM.match(line) and reads_as_prose(stripped):
            break  # the text goes on ("A circular arc ... path arc(pair c, real r);" too)
        structured = is_code_line(line) or LIST_ITEM.match(line) or looks_like_code(stripped)
        if not structured and is_prose(stripped):
            break  # the next chunk's
        if line_end - passage.end > MAX_WINDOW_CHARS:
            break
        end = line_end
    if end == passage.end:
        return passage
    return replace(passage, text=text[passage.start : end], end=end)


def from_heading(passage: Passage, text: str) -> Passage:
    """The passage from the heading or defined term its text follows, when its chunk started
    right after one (chunks overlap by whole sentences, so a chunk may open with a term's
    description or a section's first paragraph): a description keeps the term it defines
    ("math.isqrt(n)" above "Return the integer square root ..."), a paragraph its section.
    `text` is the document's; the passage stays `text[start:end]`."""
    heading = heading_at(passage.headings, passage.start - 1)
    if heading is None:
        return passage
    title_end = heading.offset + len(heading.title)
    if title_end > passage.start or passage.start - title_end > HEADING_GAP:
        return passage
    if text[heading.offset : title_end] != heading.title or text[title_end : passage.start].strip():
        return passage  # a title not written out verbatim, or text between: not right above
    return replace(passage, text=text[heading.offset : passage.end], start=heading.offset)
