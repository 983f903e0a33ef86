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

from assistant.evidence_lines import (
    block_at,
    code_by_shape,
    fenced_blocks,
    indent_of,
    is_code_at,
    is_heading_at,
)
from assistant.fences import INTRODUCES, line_spans, renders_whole
from assistant.line_shapes import (
    COMMENT_LINE,
    LIST_ITEM,
    PROMPT,
    ends_sentence,
    is_prose,
    reads_as_prose,
)
from assistant.text import STOPWORDS, sentence_spans
from assistant.types import Heading, Passage, heading_at
from assistant.window_ends import (
    CLOSES,
    MAX_WINDOW_CHARS,
    OPENS,
    QUOTED,
    closed_end,
    cut_at_line,
    to_line_end,
    whole_blocks,
)

# How far a window may grow past its sentence (in characters: `window_ends.MAX_WINDOW_CHARS`).
MAX_FOLLOWING_LINES = 8
# A defined term's entry this short is quoted whole (the signature, what it does, its default).
ENTRY_CHARS = 400

# A sentence that opens with a lower-case function word ("would cause ...", "to reset ..."):
# the rest of a sentence that began before it (not "git bisect uses ...", a name).
GOES_ON = re.compile(
    r"^(?:" + "|".join(sorted(w for w in STOPWORDS if w.isalpha())) + r")\s+[a-z]+\b"
)
_BARE_MARKER = re.compile(r"^\s*(\(?\d{1,2}[.)]|[-*•])\s*$")
# One capitalised word on a line of its own ("Note", "Warning:"): the title of the box or part
# that follows, when the lines before it are not such words too (a list of values).
_LONE_TITLE = re.compile(r"^\s*[A-Z][a-z]+:?\s*$")


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

    @property
    def inside_block(self) -> bool:
        """Whether the window lies wholly inside a fenced code block (between its fences): a
        line of a block that its window could not grow to hold whole (too long, or with no
        sentence leading into it; the block's own fence line grows into the whole block).
        Quoted, it could not be shown as code, and it reads as nothing alone (program output,
        one line of a long file)."""
        blocks = self.passage.code_blocks or ()
        return any(a < self.start and self.end < b for a, b in blocks)

    @property
    def cut_open(self) -> bool:
        """Whether the window's code lines leave a bracket open or close one they never opened
        ("draw(graph(f,0,1),Pen(i)," or "ptick=thin));" alone): code cut out of a statement."""
        spans = [
            span
            for span in line_spans(self.passage.text, self.passage.start)
            if span[1] > self.start and span[0] < self.end
        ]
        parts = [
            (span, self.passage.sentence_text(max(span[0], self.start), min(span[1], self.end)))
            for span in spans
        ]
        # Every line counts: a PDF's reflow joins code lines into prose-like ones ("... using
        # the command void labelpath(picture pic=currentpicture, Label L, path g,"). In prose,
        # only a bracket left open by a window that ends unfinished: "a) ... b)" and "[0, 1)"
        # close what they never opened, and "(indicated by maxtile=(0,0)." is the document's.
        code = any(
            code_by_shape(self.passage, span) and part.rstrip()[-1:] not in ".!?"
            for span, part in parts
        )  # a sentence with inline code ("(e.g. `ssl=on`) to a) enable") is prose
        if not code and self.text.rstrip()[-1:] in ".!?:":
            return False
        depth = 0
        for _, part in parts:
            for character in QUOTED.sub("", part) if code else part:
                depth += (character in OPENS) - (character in CLOSES)
                if depth < 0:
                    if code:
                        return True
                    depth = 0
        return depth > 0

    def overlaps(self, other: Window) -> bool:
        """Whether two windows share characters of one document."""
        return (
            self.passage.doc_id == other.passage.doc_id
            and self.start < other.end
            and other.start < self.end
        )


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


# A list item of at most this many characters is quoted whole from its first sentence.
SHORT_ITEM_CHARS = 200
# The label a FAQ puts before its answer ("A: First, verify that ...").
_ANSWER_LABEL = re.compile(r"(?:A|Answer)[ \t]*:[ \t]+(?=\S)")


def window_for(passage: Passage, start: int, end: int) -> Window:
    """The evidence window of the sentence at [start, end) of a passage."""
    lines = line_spans(passage.text, passage.start)
    index = next((i for i, (s, e) in enumerate(lines) if s <= start < e + 1), None)
    if index is None:
        return Window(passage, start, end, start, end)
    line_start, line_end = lines[index]
    window_start, window_end = start, end
    expanded = dangling = False
    sentence = passage.sentence_text(start, end)

    # Forward: the sentence ends its line and announces what follows, or is a comment on the
    # code lines after it.
    line_text = passage.sentence_text(line_start, line_end)
    comment = bool(COMMENT_LINE.match(line_text)) and is_code_at(passage, (line_start, line_end))
    introduces = bool(INTRODUCES.search(sentence))
    if end >= line_end - 1 and (introduces or comment):
        following = _following_lines(passage, lines, index, code_only=comment)
        if following:
            window_end = following[-1][1]
            expanded = True
        elif introduces:
            dangling = True

    # A short list item is one thought: the sentence that opens it quotes it whole ("- Arrive
    # at 9:30. Sophie from HR meets you at reception on the 3rd floor."). Not marked as grown:
    # the ranking's `expanded` is for a lead-in that took what it announces (marked, the
    # carry-over item outranked "Full-time employees receive 28 days of annual leave").
    if (
        start == line_start
        and end < line_end - 1
        and line_end - line_start <= SHORT_ITEM_CHARS
        and LIST_ITEM.match(line_text)
        and not is_code_at(passage, (line_start, line_end))
    ):
        window_end = line_end

    # Backward: an item or a code line belongs to the sentence that introduced it.
    is_term = any(h.offset == line_start and h.kind == "term" for h in passage.headings)
    if (
        start == line_start
        and not is_term
        and (LIST_ITEM.match(line_text) or is_code_at(passage, (line_start, line_end)))
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
        window_end = max(end, cut_at_line(passage, window_start, window_start + MAX_WINDOW_CHARS))
    window_end = to_line_end(passage, lines, window_end)
    window_end = _with_output(passage, lines, window_start, window_end)
    if window_end > end or window_start < start:
        closed = closed_end(passage, lines, window_start, window_end, end)
        if closed == end and window_end > end:
            # Nothing it announces fits closed: what it grew to back, announcing what it lacks.
            window_end, expanded, dangling = end, window_start < start, introduces
        elif closed != window_end:
            window_end, expanded = closed, True
    whole = whole_blocks(passage, lines, window_start, window_end, start, end)
    if not renders_whole(passage.sentence_text(*whole)):
        whole = (start, end)  # inside a block, a line that reads as a fence on its own
    if whole != (window_start, window_end):
        window_start, window_end = whole
        expanded = (window_start, window_end) != (start, end)
        # A lead-in that lost the block it announces announces what the window lacks.
        dangling = dangling or (window_end <= end and introduces)
    # A FAQ's "A: First, verify ...": the answer, unlabelled (not a table's column "A: 5 | B: 6").
    label = _ANSWER_LABEL.match(sentence)
    if (
        label is not None
        and "|" not in sentence
        and window_start == start
        and start + label.end() < window_end
    ):
        window_start = start + label.end()
    return Window(passage, window_start, window_end, start, end, expanded, dangling)


def _following_lines(
    passage: Passage, lines: tuple[tuple[int, int], ...], index: int, code_only: bool = False
) -> list[tuple[int, int]]:
    """The lines a lead-in introduces: its items or code lines, or one line of prose, up to the
    next heading, prose after its code ("Done.") or the size limit (with `code_only`, the
    lines after a comment: more comments, then code up to the next comment, and no line that
    ends a sentence)."""
    taken: list[tuple[int, int]] = []
    size = 0
    code_taken = False  # with `code_only`: a line that is not a comment was taken
    after_code = False  # a code line was taken
    block = block_at(passage, index + 1)
    if block is not None and block[0] == index + 1:
        # A fenced block: whole, when it closes within the passage and the size limit.
        first, last = index + 1, block[1]
        if last is None or lines[last][1] - lines[first][0] > MAX_WINDOW_CHARS:
            return []
        return list(lines[first : last + 1])
    terms = {h.offset for h in passage.headings if h.kind == "term"}
    for offset, span in enumerate(lines[index + 1 : index + 1 + MAX_FOLLOWING_LINES]):
        if is_heading_at(passage, span[0]):
            break
        if taken and span[0] in terms and not any(t[0] in terms for t in taken):
            # The next defined term's entry ("superuser status" after the commands a lead-in
            # announced); a lead-in to a list of terms takes them all ("unix:pathname ...
            # inet:host:port").
            break
        text = passage.sentence_text(*span)
        if taken and block_at(passage, index + 1 + offset) is not None:
            break  # a code block of its own
        outer = indent_of(passage, span) < indent_of(passage, taken[0]) if taken else False
        if outer and LIST_ITEM.match(text):
            break  # "2. ..." after the nested bullets it announced: the enclosing list's item
        if _next_item(passage, lines[index], span):
            break  # "- Extract ...:" and its command: the next item is its sibling
        comment = bool(COMMENT_LINE.match(text))
        if code_only and (code_taken if comment else text.rstrip()[-1:] in ".!?"):
            break  # after a comment: its code, up to the next comment or a sentence
        code_taken = code_taken or not comment
        is_code = is_code_at(passage, span)
        if after_code and not (is_code or LIST_ITEM.match(text)) and reads_as_prose(text):
            break  # "Done.", "Changed in version 3.6:" after the code: the text goes on
        is_item = bool(LIST_ITEM.match(text)) or is_code or not is_prose(text)
        if (taken or code_only) and not is_item:
            break  # prose after the items is the next topic
        after_code = after_code or is_code
        if taken and size + len(text) > MAX_WINDOW_CHARS:
            break
        taken.append(span)
        size += len(text)
        if not is_item:
            break  # one line of prose after a colon is what it announced
    while taken and _BARE_MARKER.match(passage.sentence_text(*taken[-1])):
        taken.pop()  # the next item's number, on a line of its own
    if (
        len(taken) > 1
        and _LONE_TITLE.match(passage.sentence_text(*taken[-1]))
        and not _LONE_TITLE.match(passage.sentence_text(*taken[-2]))
    ):
        taken.pop()  # "Note" after the command: the title of the next box, not its last line
    return taken


def _with_output(passage: Passage, lines: tuple[tuple[int, int], ...], start: int, end: int) -> int:
    """The end of a window [start, end) whose last line is a prompt's command (">>> splitext(
    'bar')", "$ dig @ns example.com."), moved on over what the command printed: the lines
    after it up to the next prompt, prose, a heading or term, the end of its code block (a
    fence, or a line indented less than the prompt), or the size limit."""
    index = next((i for i, span in enumerate(lines) if span[1] == end), None)
    if index is None or not PROMPT.match(passage.sentence_text(*lines[index])):
        return end
    terms = {h.offset for h in passage.headings}
    fences = {i for block in fenced_blocks(passage) for i in block if i is not None}
    indent = indent_of(passage, lines[index])
    first = next((span for span in lines if span[0] <= start <= span[1]), lines[index])
    for number in range(index + 1, min(len(lines), index + 1 + MAX_FOLLOWING_LINES)):
        span = lines[number]
        text = passage.sentence_text(*span)
        if number in fences or indent_of(passage, span) < indent or span[0] in terms:
            break  # the end of the block or the session the prompt is in
        if PROMPT.match(text) or ends_sentence(text) or _next_item(passage, first, span):
            break
        if span[1] - start > MAX_WINDOW_CHARS:
            break
        end = span[1]
    return end


def _next_item(passage: Passage, item: tuple[int, int], span: tuple[int, int]) -> bool:
    """Whether the line at `span` is a list item at the level of the item at `item`, or above
    it: the list goes on past what that item holds ("- Extract ...:", its command, then the
    next "- Extract ..."). False when `item` is no list item."""
    return bool(
        LIST_ITEM.match(passage.sentence_text(*item))
        and LIST_ITEM.match(passage.sentence_text(*span))
        and indent_of(passage, span) <= indent_of(passage, item)
    )


def _lead_in(passage: Passage, lines: tuple[tuple[int, int], ...], index: int) -> int | None:
    """Start of the line that introduces the item or code at `index`, if within reach."""
    for back in range(index - 1, max(-1, index - 1 - MAX_FOLLOWING_LINES), -1):
        span = lines[back]
        text = passage.sentence_text(*span)
        if is_heading_at(passage, span[0]):
            return None
        if INTRODUCES.search(text):
            if lines[index][1] - span[0] > MAX_WINDOW_CHARS:
                return None
            return _last_sentence_start(text, span[0])
        if not (LIST_ITEM.match(text) or is_code_at(passage, span)):
            return None
    return None


def _sentence_before_code(
    passage: Passage, lines: tuple[tuple[int, int], ...], index: int
) -> int | None:
    """Start of the last sentence before the code lines right above line `index` (None: no
    code right above, a heading, or too far back)."""
    back = index - 1
    block = block_at(passage, back) if back >= 0 else None
    if block is not None and block[1] == back:
        if block[0] is None:
            return None  # the block opened before the passage
        back = block[0] - 1  # a fenced block right above: the sentence before its opening
    else:
        while back >= 0 and is_code_at(passage, lines[back]):
            if index - back > MAX_FOLLOWING_LINES:
                return None  # more code than a window holds
            back -= 1
    if back == index - 1 or back < 0 or is_heading_at(passage, lines[back][0]):
        return None
    if block_at(passage, back) is not None:
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
    # the entry ends at the next heading or term, or where its list ends
    stops = [h.offset for h in passage.headings if h.offset > heading.offset]
    if heading.end is not None:
        stops.append(heading.end)
    end = min(stops, default=passage.end)
    if end > passage.end:
        return None
    text = passage.sentence_text(heading.offset, end).rstrip()
    if len(text) > ENTRY_CHARS:
        return None
    return heading.offset, heading.offset + len(text)
