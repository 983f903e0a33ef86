"""Evidence windows: the sentence that answers plus what it introduces or belongs to.

A sentence alone often says too little: "You can check this with the following command:"
without the command, a list item without the sentence that says what the list is, an API
description without the signature above it. A window is an exact span of the document text,
`text[start:end]`, grown from one sentence by structure alone (line breaks, a closing colon,
list markers, code lines, headings), never by the words of one corpus.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from functools import lru_cache

from assistant.text import sentence_spans
from assistant.types import Heading, Passage, heading_at, section_starts

# A heading this close before a passage (line breaks and indentation only) is the one it follows.
HEADING_GAP = 8
# How far a window may grow past its sentence.
MAX_FOLLOWING_LINES = 8
MAX_WINDOW_CHARS = 520
# A defined term's entry this short is quoted whole (the signature, what it does, its default).
ENTRY_CHARS = 400

_INTRODUCES = re.compile(
    r"(:|\bfollowing\b[^.!?]{0,40}[.:]?|\bas follows\b[.:]?|\bbelow\b[.:]?)\s*$", re.I
)
LIST_ITEM = re.compile(r"^\s*([-*•◦▪‣–]|\(?\d{1,2}[.)]|\(?[a-z][.)]|[ivx]{1,4}[.)])\s+")
# A sentence that opens in lower case with two words: it goes on from the text before it.
GOES_ON = re.compile(r"^[a-z]+\s+[a-z]+\b")
# A Markdown code fence ("```", "~~~", "```toml") and a list item's marker on its own line.
_FENCE = re.compile(r"^(`{3,}|~{3,})[\w+-]*\s*$")
_BARE_MARKER = re.compile(r"^\s*(\(?\d{1,2}[.)]|[-*•])\s*$")
CODE_LINE = re.compile(r"^(\$ |# |>>> |\.\.\. )|[{};]\s*$|^[\w.-]+\s*=\s*\S|^\w+\(.*\)$")


@dataclass(frozen=True)
class Window:
    """An exact span of a passage's document text around one answering sentence."""

    passage: Passage
    start: int  # absolute offsets into the document text
    end: int
    sentence_start: int  # the sentence the window grew from
    sentence_end: int
    expanded: bool = False  # it holds more than the sentence (items, code, a lead-in, a term)
    dangling: bool = False  # the sentence announces something the passage does not hold

    @property
    def text(self) -> str:
        """The window's text, exactly as in the document."""
        return self.passage.sentence_text(self.start, self.end)

    @property
    def multiline(self) -> bool:
        """Whether the window spans several lines (a list or code keeps its line breaks)."""
        return "\n" in self.text.strip()


def as_passage(window: Window) -> Passage:
    """The window as a passage of its own (for an LLM's numbered sources): same document,
    the window's span, and the sentences (with their vectors) that lie inside it."""
    passage = window.passage
    inside = [
        i
        for i, (s, e) in enumerate(passage.sentence_spans)
        if s >= window.start and e <= window.end
    ]
    vectors = passage.sentence_vectors
    contexts = passage.context_vectors
    return replace(
        passage,
        chunk_id=f"{passage.chunk_id}@{window.start}",
        text=window.text,
        start=window.start,
        end=window.end,
        sentence_spans=tuple(passage.sentence_spans[i] for i in inside),
        sentence_vectors=None if vectors is None else vectors[inside],
        context_vectors=None if contexts is None else contexts[inside],
    )


def window_for(passage: Passage, start: int, end: int) -> Window:
    """The evidence window of the sentence at [start, end) of a passage."""
    lines = _line_spans(passage.text, passage.start)
    index = next((i for i, (s, e) in enumerate(lines) if s <= start < e + 1), None)
    if index is None:
        return Window(passage, start, end, start, end)
    line_start, line_end = lines[index]
    window_start, window_end = start, end
    expanded = dangling = False
    sentence = passage.sentence_text(start, end)

    # Forward: the sentence ends its line and announces what follows.
    if end >= line_end - 1 and _INTRODUCES.search(sentence):
        following = _following_lines(passage, lines, index)
        if following:
            window_end = following[-1][1]
            expanded = True
        else:
            dangling = True

    # Backward: an item or a code line belongs to the sentence that introduced it.
    line_text = passage.sentence_text(line_start, line_end)
    is_term = any(h.offset == line_start and h.kind == "term" for h in passage.headings)
    if (
        start == line_start
        and not is_term
        and (LIST_ITEM.match(line_text) or _is_code_at(passage, (line_start, line_end)))
    ):
        lead = _lead_in(passage, lines, index)
        if lead is not None:
            window_start = lead
            expanded = True
    elif start == line_start and not is_term and GOES_ON.match(sentence):
        # "... for example\n  DirectoryIndex index.html /cgi-bin/index.pl\nwould cause the
        # script to run ...": a sentence that goes on after code began before it.
        began = _sentence_before_code(passage, lines, index)
        if began is not None:
            window_start = began
            expanded = True

    # A description starts at the term it defines (an API signature above it); a short entry
    # (term and description) is one window, whichever of its sentences answers.
    term = _defined_term(passage.headings, passage, window_start)
    if term is not None:
        window_start = term
        expanded = True
    entry = _short_entry(passage, start)
    if entry is not None:
        window_start, window_end = min(window_start, entry[0]), max(window_end, entry[1])
        expanded = True

    if window_end - window_start > MAX_WINDOW_CHARS:
        window_end = max(end, _cut_at_line(passage, window_start, window_start + MAX_WINDOW_CHARS))
    window_start, window_end = _whole_fences(passage, lines, window_start, window_end, start, end)
    return Window(passage, window_start, window_end, start, end, expanded, dangling)


def _whole_fences(
    passage: Passage, lines: tuple[tuple[int, int], ...], start: int, end: int, s: int, e: int
) -> tuple[int, int]:
    """The window [start, end) without a code fence it opens but does not close (a quote that
    opens a block and stops inside it would run the rest of an answer into the block): cut
    before that fence; when the sentence [s, e) lies inside the block, on to its closing fence
    if that is near, else the sentence alone."""
    fences = [span for span in lines if start <= span[0] < end and _is_fence(passage, span)]
    if len(fences) % 2 == 0:
        return start, end
    opening = fences[-1]
    if opening[0] >= e:  # the block starts after the sentence: the window stops before it
        before = [span for span in lines if e <= span[1] <= opening[0]]
        return start, max(e, before[-1][1] if before else e)
    # The sentence is in the block: the window goes on to its closing fence, if near enough.
    closing = next((span for span in lines if span[0] >= end and _is_fence(passage, span)), None)
    if closing is not None and closing[1] - start <= MAX_WINDOW_CHARS:
        return start, closing[1]
    return s, e


def _is_fence(passage: Passage, span: tuple[int, int]) -> bool:
    return bool(_FENCE.match(passage.sentence_text(*span)))


@lru_cache(maxsize=64)
def _line_spans(text: str, offset: int) -> tuple[tuple[int, int], ...]:
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


def is_heading_at(passage: Passage, offset: int) -> bool:
    """Whether a section heading (not a defined term) starts at `offset` of the passage."""
    return offset in section_starts(passage.headings)


def _following_lines(
    passage: Passage, lines: tuple[tuple[int, int], ...], index: int
) -> list[tuple[int, int]]:
    """The lines a lead-in introduces: its items or code lines, or one line of prose, up to the
    next heading or the size limit."""
    taken: list[tuple[int, int]] = []
    size = 0
    following = lines[index + 1 :]
    if following and _FENCE.match(passage.sentence_text(*following[0])):
        return _fenced_block(passage, following)
    for span in following[:MAX_FOLLOWING_LINES]:
        if is_heading_at(passage, span[0]):
            break
        text = passage.sentence_text(*span)
        if taken and _FENCE.match(text):
            break  # a code block of its own
        if taken and LIST_ITEM.match(text) and _indent(passage, span) < _indent(passage, taken[0]):
            break  # "2. ..." after the nested bullets it announced: the enclosing list's item
        is_item = bool(LIST_ITEM.match(text)) or _is_code_at(passage, span) or not _is_prose(text)
        if taken and not is_item:
            break  # prose after the items is the next topic
        if taken and size + len(text) > MAX_WINDOW_CHARS:
            break
        taken.append(span)
        size += len(text)
        if not is_item:
            break  # one line of prose after a colon is what it announced
    while taken and _BARE_MARKER.match(passage.sentence_text(*taken[-1])):
        taken.pop()  # the next item's number, on a line of its own
    return taken


def _indent(passage: Passage, span: tuple[int, int]) -> int:
    """How far a line is indented (its span starts after the indentation)."""
    return len(passage.text[: span[0] - passage.start].rsplit("\n", 1)[-1])


def _fenced_block(passage: Passage, lines: tuple[tuple[int, int], ...]) -> list[tuple[int, int]]:
    """The lines of the fenced code block that opens `lines`, closing fence included (none
    when it does not close within the passage and the size limit)."""
    taken = [lines[0]]
    size = 0
    for span in lines[1:]:
        text = passage.sentence_text(*span)
        if size + len(text) > MAX_WINDOW_CHARS:
            break
        taken.append(span)
        size += len(text)
        if _FENCE.match(text):
            return taken
    return []  # not closed within the passage or the size limit: nothing whole to show


def _lead_in(passage: Passage, lines: tuple[tuple[int, int], ...], index: int) -> int | None:
    """Start of the line that introduces the item or code at `index`, if within reach."""
    for back in range(index - 1, max(-1, index - 1 - MAX_FOLLOWING_LINES), -1):
        span = lines[back]
        text = passage.sentence_text(*span)
        if is_heading_at(passage, span[0]):
            return None
        if _INTRODUCES.search(text):
            if lines[index][1] - span[0] > MAX_WINDOW_CHARS:
                return None
            return _last_sentence_start(text, span[0])
        if not (LIST_ITEM.match(text) or _is_code_at(passage, span)):
            return None
    return None


def _sentence_before_code(
    passage: Passage, lines: tuple[tuple[int, int], ...], index: int
) -> int | None:
    """Start of the last sentence before the code lines right above line `index` (None: no
    code right above, a heading, or too far back)."""
    back = index - 1
    if back >= 0 and _FENCE.match(passage.sentence_text(*lines[back])):
        back -= 1  # a fenced block: its lines up to the opening fence
        while back >= 0 and not _FENCE.match(passage.sentence_text(*lines[back])):
            back -= 1
        back -= 1
    else:
        while (
            back >= 0 and index - back <= MAX_FOLLOWING_LINES and _is_code_at(passage, lines[back])
        ):
            back -= 1
    if back == index - 1 or back < 0 or is_heading_at(passage, lines[back][0]):
        return None
    if lines[index][1] - lines[back][0] > MAX_WINDOW_CHARS:
        return None
    return _last_sentence_start(passage.sentence_text(*lines[back]), lines[back][0])


def _last_sentence_start(line: str, offset: int) -> int:
    """Where the last sentence of a line starts (the lead-in is its last sentence)."""
    spans = sentence_spans(line)
    return offset + spans[-1][0] if spans else offset


def _defined_term(headings: tuple[Heading, ...], passage: Passage, start: int) -> int | None:
    heading = heading_at(headings, start)
    if heading is None or heading.kind != "term" or heading.offset < passage.start:
        return None
    if heading.offset >= start:
        return None
    between = passage.sentence_text(heading.offset + len(heading.title), start)
    return None if between.strip() else heading.offset


def _short_entry(passage: Passage, start: int) -> tuple[int, int] | None:
    """The span of the defined term's entry holding `start`, when it is short and whole here."""
    heading = heading_at(passage.headings, start)
    if heading is None or heading.kind != "term" or heading.offset < passage.start:
        return None
    following = [h.offset for h in passage.headings if h.offset > heading.offset]
    end = min(following, default=passage.end)
    if end > passage.end:
        return None
    text = passage.sentence_text(heading.offset, end).rstrip()
    if len(text) > ENTRY_CHARS:
        return None
    return heading.offset, heading.offset + len(text)


def _is_prose(text: str) -> bool:
    return len(text) > 60 and text[:1].isupper() and text.rstrip()[-1:] in ".!?"


def _is_code_at(passage: Passage, span: tuple[int, int]) -> bool:
    """A code line: indented by two or more spaces, a code fence, or shaped like a command or
    statement."""
    text = passage.sentence_text(*span)
    return _indent(passage, span) >= 2 or bool(_FENCE.match(text) or CODE_LINE.search(text))


def _cut_at_line(passage: Passage, start: int, limit: int) -> int:
    """The end of the last whole line before `limit` (at least one line)."""
    text = passage.sentence_text(start, min(limit, passage.end))
    newline = text.rfind("\n")
    if newline <= 0:
        return min(limit, passage.end)
    return start + len(text[:newline].rstrip())


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
