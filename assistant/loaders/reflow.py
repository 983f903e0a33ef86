"""Soft line wraps: line breaks inside a paragraph that only say where a printed line was full.

A PDF's text and a hard-wrapped text file end every printed line with a line break. Read as
they are, every line would be a sentence of its own (line breaks end sentences, so that
headings, list items and code lines stand alone): "values 00-68 refer to the" would be one
answer and "21st century." the next. The loaders turn such a break into a space, one character
for one, so every offset the extractor computed (pages, headings) stays true.

Which breaks are soft is read from the layout, never from what the words mean: the line
reaches the text's usual full width, and the next line continues the paragraph (it does not
open a list item, a prompt or a code line). In a PDF, a line is joined to the next one too
(whatever its width; an indented column's lines are short) where the shapes of the two lines
say one sentence runs on over the break (`runs_on`: punctuation, case, symbols, the first
words): the chunks, the sentence vectors and the quoted evidence then see the sentence whole.
Markdown is parsed instead (assistant/loaders/markdown.py).
"""

from __future__ import annotations

import re
from collections.abc import Collection
from itertools import pairwise

import numpy as np

from assistant.fences import INTRODUCES, STATEMENT_SHAPES
from assistant.text import DOT_LEADERS, STOPWORDS

# A line that opens a list item, a prompt or a code/markup line: never the middle of a sentence.
_BLOCK_START = re.compile(
    r"^\s*(?:[-*+•–—▪◦·>$#|]|\d{1,3}[.)]\s|\(?[a-zA-Z0-9]{1,3}\)\s|[{}\[\]<@%;=])"
)
# A table-of-contents entry: dot leaders, then a page number.
_LEADERS = re.compile(DOT_LEADERS + r"\s*\S*\d+\s*$")
# A line this long relative to the text's full width was ended by the margin, not the writer.
FULL_LINE = 0.75
# Printed text is taken as hard-wrapped when nearly all its lines fit this width.
WRAP_WIDTH = 110
# A line (often short of the full width: an indented column's, one before a long word) that stops
# inside a sentence (on a word, a comma or an open bracket; not on a page number), and a next
# line that carries the sentence on (lower case, an option such as "-nosafe" or "--no-gui", a
# quoted value) and reads as prose (it ends or pauses a sentence: a stop, a comma, a colon):
# the sentence runs on over the break. A line of a few words is a syntax line or a label
# ("show style line"); a line shaped like code, a prompt or a comment is no sentence; two lines
# that open with the same word or both with an option are parallel entries (table rows, a
# series of commands, a list of options).
_STOPS_MID_SENTENCE = re.compile(r"[^\W\d_]$|[,(]$")
_OPTION_START = r"-{1,2}[a-z]"
_CARRIES_ON = re.compile(r"^(?:[a-z]|" + _OPTION_START + r"|[\"“'‘`][^\s\"“'‘`])")
_OPTION = re.compile("^" + _OPTION_START)
_PROSE_PAUSE = re.compile(r"[.!?][\"'’”)\]]*(?:\s|$)|[,;:](?:\s|$)")
# Code reads as symbols: brackets, operators, sigils. Prose has a few of them at most (and
# parentheses, which it uses as much as code does).
_SYMBOLS = re.compile(r"[\[\]{}=$*<>\\|;^~+]")
MAX_PROSE_SYMBOLS = 0.05
_QUOTED = re.compile(r"\"[^\"]*\"|“[^”]*”|‘[^’]*’|`[^`]*`")
# A line that opens with a name holding a digit, a bracket or an underscore ("cos(x) ...",
# "cp852 - ...") is an entry of a table or a list, not the middle of a sentence.
_NAME_TERM = re.compile(r"^[^\s\"“'‘`]*[\d(\[{_=]")
# Code: a statement, a line ending in a brace or "\\" or ");", a comment, an assignment, a
# declaration ("pair point(path p"), two options in a row ("groff -p -mpic ..."), a line of a
# few words closed by a bare ";" ("access graph as graph2d;").
_CODE_SHAPED = re.compile(
    STATEMENT_SHAPES + r"|[{}\\]$|\)\s*;$|\s#\s|\w=\S|^\w+ \w+\("
    r"|(?:^|\s)-{1,2}\w\S*\s+-{1,2}\w|^(?:\S+\s+){0,3}\S+;$"
)
# A line that opens with a short label (an alias in brackets may follow it) and a colon ("big:
# greatest significance first", "swap (swab): ...") or is one ("foreground color:") is an
# entry of its own; not after a line that stops on a function word ("... values of the" +
# "following options:"), nor a label that opens with one ("as follows:", "in the form:").
_LABEL = re.compile(r"^[\w -]{1,24}(?:\s\([\w -]{1,24}\))?:(?:\s|$)")
RUN_ON_MIN_WORDS = 5
# "following" and at least two words after it on the line: the lead-in's noun and more ("the
# following plot commands"); with one word or none its noun may be on the next line.
WHOLE_LEAD_IN_WORDS = 3


def unwrap_printed(
    text: str,
    width: float | None = None,
    *,
    run_on: bool = False,
    kept: Collection[int] = (),
) -> str:
    """Join the lines of printed paragraphs (PDF text, a hard-wrapped text file); with
    `run_on`, also a short line whose sentence the next one carries on (`runs_on`). The break
    after each line numbered in `kept` (from 0) stays, whatever the lines (a heading's, a
    table row's)."""
    lines = text.split("\n")
    if width is None:
        width = full_width(lines)
    if width <= 0:
        return text
    out = list(text)
    position = 0
    for number, (line, following) in enumerate(pairwise(lines)):
        position += len(line)
        body = line.rstrip("\r")
        if number not in kept and (
            soft_break(body, following, width) or (run_on and runs_on(body, following))
        ):
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


def runs_on(line: str, following: str) -> bool:
    """Whether a printed line (whatever its width) stops inside a sentence that the next
    line carries on as prose; neither is a list item, a prompt or code (indented, or shaped
    like a command, an assignment or a statement), and they are not parallel entries."""
    text, after = line.strip(), following.strip()
    return (
        len(text.split()) >= RUN_ON_MIN_WORDS
        and bool(_STOPS_MID_SENTENCE.search(text))
        and bool(_CARRIES_ON.match(after))
        and bool(_PROSE_PAUSE.search(after))
        and not _introduces(text)
        and not _parallel(text, after)
        and not _labelled(text, after)
        and not _NAME_TERM.match(after)
        and all(_symbols(part) <= MAX_PROSE_SYMBOLS for part in (text, after))
        and (not _BLOCK_START.match(following) or bool(_OPTION.match(following)))
        and not any(_indent(part) >= 2 or _CODE_SHAPED.search(part.strip())
                    for part in (line, following))
    )  # fmt: skip


def _introduces(text: str) -> bool:
    """A printed line that ends on a whole lead-in (`fences.INTRODUCES`): "then the following
    plot commands are all equivalent", "as follows". Not a lead-in the next line may go on with:
    "act on the following single" + "character ...", "in the order following" + "the one
    given", "falls below" + "zero" (a printed line, unlike a sentence, stops anywhere)."""
    lead = INTRODUCES.search(text)
    return lead is not None and (
        lead.group(1).lower().startswith("as follows")
        or len(lead.group(1).split()) >= WHOLE_LEAD_IN_WORDS
    )


def _labelled(text: str, after: str) -> bool:
    """The next line opens a labelled entry (`_LABEL`), unless the line stops on a function
    word or the label opens with one: then the sentence goes on."""
    return (
        _LABEL.match(after) is not None
        and text.split()[-1].lower() not in STOPWORDS
        and after.split()[0].lower() not in STOPWORDS
    )


def _parallel(text: str, after: str) -> bool:
    """Two lines that open with the same word (in the same case: "The ..." and "the ..." are
    a sentence and its run-on), or both with an option: entries of a list (both lines have a
    word: `runs_on` checks that first)."""
    first, second = text.split()[0], after.split()[0]
    return first == second or (first[:1] == second[:1] == "-")


def _symbols(text: str) -> float:
    """The share of a line's characters that are brackets, operators or sigils (not
    parentheses), outside quoted values (a quoted format or pattern is a value the sentence
    names)."""
    unquoted = _QUOTED.sub("", text)
    return len(_SYMBOLS.findall(unquoted)) / max(1, len(text.replace(" ", "")))


def _indent(line: str) -> int:
    return len(line) - len(line.lstrip(" "))


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
