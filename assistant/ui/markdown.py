"""Answer text as safe HTML blocks: paragraphs, headings, lists and code, with [n] chips.

A small Markdown subset, read line by line from the answer text: `#` headings, `-`/`*`/`1.`
list items, fenced or indented code, `inline code` and **bold**. Quoted document text is not
Markdown, so its structure is read from its lines too (evidence windows keep the document's
line breaks, assistant/evidence.py): a short unpunctuated line followed by text is a heading,
list markers make a list, command and statement lines make code. Every character of the text is
HTML-escaped: no markup in a document or an answer reaches the page as markup. The output holds
no newline (a blank line would end the chat's raw HTML block; see render.py).
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from html import escape

from assistant.fences import INLINE_CODE, closes_fence, opening_fence
from assistant.line_shapes import LIST_ITEM, is_code_line

# `[3]`, `[1, 2]`; `items[1]` is no citation.
MARKERS = re.compile(r"(?<!\w)\[(\d+(?:\s*,\s*\d+)*)\]")
_ATX = re.compile(r"^\s{0,3}(#{1,6})\s+(.*?)\s*#*\s*$")
_ORDERED = re.compile(r"^\s*\(?(\d{1,2}|[a-z]|[ivx]{1,4})[.)]\s")
_TRAILING_MARKERS = re.compile(r"(?:\s*\[\d+(?:\s*,\s*\d+)*\])+[.!?]?\s*$")
_BOLD = re.compile(r"\*\*(\S(?:[^*\n]*?\S)?)\*\*")
_HEADING_CHARS = 90
_HEADING_WORDS = 12

# A chip for the citation numbers a marker names, or None to leave the marker as text.
ChipMaker = Callable[[Sequence[int]], str | None]


@dataclass(frozen=True)
class Line:
    """One line of the text: its absolute span, without the line break."""

    start: int
    end: int


@dataclass(frozen=True)
class Unsupported:
    """A span of the text no cited passage supports (drawn underlined, tagged at its end)."""

    start: int
    end: int


def render_blocks(
    text: str, chips: ChipMaker, unsupported: Sequence[Unsupported] = (), *, closed: bool = True
) -> str:
    """The text as HTML blocks; `closed` False for text still streaming (an open code fence
    stays code)."""
    return _Renderer(text, chips, tuple(unsupported)).render(closed)


def plain_heading(line: str) -> bool:
    """Whether a line of quoted text reads as a heading when text follows it."""
    stripped = line.strip()
    if not stripped or len(stripped) > _HEADING_CHARS or len(stripped.split()) > _HEADING_WORDS:
        return False
    if stripped[-1] in ".!?:;,)" or "|" in stripped or ": " in stripped:
        return False  # a sentence, a lead-in, a table row
    if LIST_ITEM.match(stripped) or is_code(line):
        return False
    return stripped[0].isupper() or stripped[0].isdigit()


def is_code(line: str) -> bool:
    """A command or statement line, or one indented as code (an answer's trailing markers
    aside)."""
    return is_code_line(_TRAILING_MARKERS.sub("", line))


class _Renderer:
    def __init__(self, text: str, chips: ChipMaker, unsupported: tuple[Unsupported, ...]) -> None:
        self.text = text
        self.chips = chips
        self.unsupported = unsupported
        self.flagged: set[Unsupported] = set()

    def render(self, closed: bool) -> str:
        lines, i = self._lines(), 0
        out: list[str] = []
        while i < len(lines):
            line = self._line(lines[i])
            if not line.strip():
                i += 1
            elif opening_fence(line):
                i = self._fenced(lines, i, out, closed)
            elif _ATX.match(line):
                out.append(self._heading(lines[i]))
                i += 1
            elif LIST_ITEM.match(line):
                i = self._list(lines, i, out)
            elif is_code(line):
                i = self._code(lines, i, out)
            else:
                i = self._paragraph(lines, i, out)
        # Anything a flag was not placed for (text the sentences no longer match) is tagged last.
        if any(span not in self.flagged for span in self.unsupported):
            out.append(f"<p>{self._flag()}</p>")
        return "".join(out)

    # Lines and their kinds

    def _lines(self) -> list[Line]:
        lines, offset = [], 0
        for raw in self.text.split("\n"):
            end = offset + len(raw.rstrip("\r"))
            lines.append(Line(offset, end))
            offset += len(raw) + 1
        return lines

    def _line(self, line: Line) -> str:
        return self.text[line.start : line.end]

    def _fenced(self, lines: list[Line], i: int, out: list[str], closed: bool) -> int:
        fence = opening_fence(self._line(lines[i]))
        assert fence is not None
        body: list[Line] = []
        j = i + 1
        # The fence rule of the evidence windows (CommonMark), so that a quote drawn here is
        # cut as `fences.renders_whole` judged it; "``` [1]": an answer's marker may follow.
        while j < len(lines) and not closes_fence(self._without_markers(lines[j]), fence):
            body.append(lines[j])
            j += 1
        if j == len(lines) and closed and not body:
            return self._paragraph(lines, i, out)  # a lone fence is text
        out.append(self._pre(body))
        if j < len(lines):  # "``` [1]": markers after the closing fence go below the block
            closing = lines[j]
            text = self._line(closing).lstrip()
            run = len(text) - len(text.lstrip(fence[0]))  # the closing fence, maybe longer
            after = closing.end - len(text) + run
            if _TRAILING_MARKERS.fullmatch(self.text[after : closing.end]):
                out.append(f'<p class="qa-code-cite">{self._inline(after, closing.end)}</p>')
        return j + 1

    def _without_markers(self, line: Line) -> str:
        """A line without the [n] markers an answer puts after a quote's last line."""
        return _TRAILING_MARKERS.sub("", self._line(line))

    def _heading(self, line: Line) -> str:
        match = _ATX.match(self._line(line))
        assert match is not None
        start = line.start + match.start(2)
        return f'<h4 class="qa-h">{self._inline(start, start + len(match.group(2)))}</h4>'

    def _list(self, lines: list[Line], i: int, out: list[str]) -> int:
        ordered = bool(_ORDERED.match(self._line(lines[i])))
        tag = "ol" if ordered else "ul"
        items = []
        while (
            i < len(lines)
            and LIST_ITEM.match(self._line(lines[i]))
            and bool(_ORDERED.match(self._line(lines[i]))) == ordered
        ):
            marker = LIST_ITEM.match(self._line(lines[i]))
            assert marker is not None
            items.append(f"<li>{self._inline(lines[i].start + marker.end(), lines[i].end)}</li>")
            i += 1
        out.append(f'<{tag} class="qa-list">{"".join(items)}</{tag}>')
        return i

    def _code(self, lines: list[Line], i: int, out: list[str]) -> int:
        body = []
        while i < len(lines) and self._line(lines[i]).strip() and is_code(self._line(lines[i])):
            body.append(lines[i])
            i += 1
        out.append(self._pre(body))
        return i

    def _paragraph(self, lines: list[Line], i: int, out: list[str]) -> int:
        parts: list[str] = []
        while i < len(lines):
            line = self._line(lines[i])
            if not line.strip() or (parts and self._starts_block(line)):
                break
            following = self._line(lines[i + 1]) if i + 1 < len(lines) else ""
            if not parts and following.strip() and plain_heading(line):
                out.append(f'<h4 class="qa-h">{self._inline(lines[i].start, lines[i].end)}</h4>')
                return i + 1
            parts.append(self._inline(lines[i].start, lines[i].end))
            i += 1
        out.append(f"<p>{'<br>'.join(parts)}</p>")
        return i

    def _starts_block(self, line: str) -> bool:
        return bool(opening_fence(line) or _ATX.match(line) or LIST_ITEM.match(line)) or is_code(
            line
        )

    def _pre(self, body: list[Line]) -> str:
        """Code lines verbatim; [n] markers ending the last line go below the block."""
        if not body:
            return ""
        last = body[-1]
        trailing = _TRAILING_MARKERS.search(self._line(last))
        cut = last.start + trailing.start() if trailing else last.end
        texts = [self._line(line) for line in body[:-1]] + [self.text[last.start : cut]]
        # Indented code loses its common indent, as in Markdown.
        indent = min((len(t) - len(t.lstrip()) for t in texts if t.strip()), default=0)
        rows = [escape(t[indent:]) for t in texts]
        # <br>, not newlines: a blank code line would end the raw HTML block.
        code = f'<pre class="qa-code"><code>{"<br>".join(rows)}</code></pre>'
        if trailing:
            code += f'<p class="qa-code-cite">{self._inline(cut, last.end)}</p>'
        return code

    # Inline text: escaped, [n] chips, `code`, **bold**, unsupported spans

    def _inline(self, start: int, end: int) -> str:
        out: list[str] = []
        cursor = start
        for match in MARKERS.finditer(self.text, start, end):
            chip = self.chips([int(part) for part in match.group(1).split(",")])
            if chip is None:
                continue
            out.append(self._plain(cursor, match.start()))
            out.append(chip)
            out.append(self._flags(match.start(), match.end()))
            cursor = match.end()
        out.append(self._plain(cursor, end))
        return "".join(out)

    def _plain(self, start: int, end: int) -> str:
        cuts = {start, end}
        for span in self.unsupported:
            cuts |= {point for point in (span.start, span.end) if start < point < end}
        points = sorted(cuts)
        out = []
        for lo, hi in itertools.pairwise(points):
            piece = _markup(escape(self.text[lo:hi]))
            if any(span.start <= lo and hi <= span.end for span in self.unsupported):
                piece = (
                    '<span class="qa-unsupported" title="No cited passage supports this '
                    f'sentence">{piece}</span>'
                )
            out.append(piece)
            out.append(self._flags(lo, hi))
        return "".join(out)

    def _flags(self, lo: int, hi: int) -> str:
        """The tag of each unsupported span ending in (lo, hi]."""
        ending = [s for s in self.unsupported if s not in self.flagged and lo < s.end <= hi]
        self.flagged.update(ending)
        return "".join(" " + self._flag() for _ in ending)

    @staticmethod
    def _flag() -> str:
        return '<span class="qa-flag">unsupported</span>'


def _markup(escaped: str) -> str:
    """`code` and **bold** in already escaped text."""
    escaped = INLINE_CODE.sub(r"<code>\1</code>", escaped)
    return _BOLD.sub(r"<strong>\1</strong>", escaped)
