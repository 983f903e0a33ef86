"""Chunks built on offsets: sentence spans packed into windows of the embedding model's size.

The text is cut into units by the one sentence splitter the answerers use too
(`assistant.text.sentence_spans`: a line break always ends a sentence); any visible text a
sentence span misses becomes a unit of its own, and a unit longer than the model's window is cut
at word boundaries (a word longer than the window, at characters). Units that belong together are
glued: a heading-like line to what follows it, a line ending with a colon to the list items or
code lines it introduces, an item to the next item. Glued runs are packed whole into chunks of at
most `size` word pieces where they fit, preferring to cut at paragraph breaks; a run too big for
one chunk is cut at its own paragraph breaks, never right after a lead-in or a one-line label.
Consecutive chunks share about `overlap` word pieces of whole sentences. Every chunk is
`text[start:end]` by construction (no searching for text), and every visible character lies in
some chunk.
"""

from __future__ import annotations

import itertools
import re
import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from assistant.text import sentence_spans
from assistant.types import Chunk

Tokenize = Callable[[str], Sequence[int]]

# Part of the ingest fingerprint: a new version re-chunks existing indexes once.
CHUNKER_VERSION = "spans-4"
# When a chunk is this full, a paragraph break is where it ends.
PARAGRAPH_CUT_FILL = 0.7
_ITEM = re.compile(r"^\s*([-*•◦▪‣–]|\(?\d{1,2}[.)]|\(?[a-z][.)])\s+")
_WORD = re.compile(r"\S+")


@dataclass(frozen=True)
class _Unit:
    start: int
    end: int
    tokens: int
    glue_next: bool = False  # this unit belongs with the next one
    paragraph_start: bool = False  # a blank line comes before it
    lead_in: bool = False  # it ends its line with a colon: it introduces what follows


class Chunker:
    """Splits documents into chunks of at most `size` tokens (of the embedding model)."""

    def __init__(self, size: int, overlap: int, tokenize: Tokenize) -> None:
        if size < 8:
            raise ValueError("chunk size must be at least 8 word pieces")
        self.size = size
        self.overlap = max(0, min(overlap, size // 2))
        self._tokenize = tokenize

    def chunk(self, doc_id: str, text: str) -> list[Chunk]:
        """Chunks covering every visible character, each with text == text[start:end]."""
        units = self._units(text)
        chunks: list[Chunk] = []
        for start, end in self._pack(units):
            chunks.append(Chunk(doc_id, len(chunks), start, end, text[start:end]))
        return chunks

    # -- units ----------------------------------------------------------------------------
    def _count(self, piece: str) -> int:
        return len(self._tokenize(piece))

    def _units(self, text: str) -> list[_Unit]:
        spans = _covering_spans(text)
        units: list[_Unit] = []
        for index, (start, end) in enumerate(spans):
            piece = text[start:end]
            tokens = self._count(piece)
            paragraph = (
                "\n\n" in text[spans[index - 1][1] : start].replace("\r", "") if index else True
            )
            if tokens > self.size:
                for s, e, t in self._split_long(text, start, end):
                    units.append(_Unit(s, e, t, paragraph_start=paragraph and s == start))
                continue
            nxt = spans[index + 1] if index + 1 < len(spans) else None
            line = _line_of(text, (start, end))
            # A lead-in and what it introduces stay together.
            lead_in = _is_lead_in(line)
            glue = nxt is not None and (lead_in or _belongs_with_next(line, _line_of(text, nxt)))
            units.append(_Unit(start, end, tokens, glue, paragraph, lead_in))
        return units

    def _split_long(self, text: str, start: int, end: int) -> list[tuple[int, int, int]]:
        """A unit longer than the window, cut at words (or characters) into fitting pieces."""
        pieces: list[tuple[int, int, int]] = []
        words = [(m.start() + start, m.end() + start) for m in _WORD.finditer(text[start:end])]
        current_start, current_end, current_tokens = -1, -1, 0
        for ws, we in words:
            tokens = self._count(text[ws:we])
            if tokens > self.size:  # one "word" longer than the window: cut by characters
                if current_start >= 0:
                    pieces.append((current_start, current_end, current_tokens))
                    current_start, current_tokens = -1, 0
                pieces.extend(self._split_chars(text, ws, we))
                continue
            if current_start >= 0 and current_tokens + tokens > self.size:
                pieces.append((current_start, current_end, current_tokens))
                current_start, current_tokens = -1, 0
            if current_start < 0:
                current_start = ws
            current_end, current_tokens = we, current_tokens + tokens
        if current_start >= 0:
            pieces.append((current_start, current_end, current_tokens))
        return pieces

    def _split_chars(self, text: str, start: int, end: int) -> list[tuple[int, int, int]]:
        pieces = []
        position = start
        while position < end:
            length = min(end - position, self.size * 2)
            while length > 1 and self._count(text[position : position + length]) > self.size:
                length = max(1, length * 3 // 4)
            stop = position + length
            # Never split a surrogate-free code point sequence mid-combining mark: extend over
            # combining characters so a grapheme stays whole where it can.
            while stop < end and _is_combining(text[stop]) and stop - position < self.size * 4:
                stop += 1
            pieces.append((position, stop, self._count(text[position:stop])))
            position = stop
        return pieces

    # -- packing --------------------------------------------------------------------------
    def _pack(self, units: list[_Unit]) -> list[tuple[int, int]]:
        blocks = _glued_blocks(units)
        windows: list[list[_Unit]] = []
        current: list[_Unit] = []
        tokens = 0
        for block in blocks:
            block_tokens = sum(u.tokens for u in block)
            parts = self._split_block(block) if block_tokens > self.size else [block]
            for part in parts:
                part_tokens = sum(u.tokens for u in part)
                full = tokens >= PARAGRAPH_CUT_FILL * self.size and part[0].paragraph_start
                if current and (tokens + part_tokens > self.size or full):
                    windows.append(current)
                    current = self._overlap_tail(current, part_tokens)
                    tokens = sum(u.tokens for u in current)
                current.extend(part)
                tokens += part_tokens
        if current:
            windows.append(current)
        return [(window[0].start, window[-1].end) for window in windows]

    def _split_block(self, block: list[_Unit]) -> list[list[_Unit]]:
        """A glued run too big for one chunk, cut where a paragraph starts. Never right after
        a lead-in ("... with the following configuration:" stays with its code block) or a
        paragraph of one line ("Note" with its items). A piece still too big goes unit by
        unit, a lead-in still with the unit it introduces."""
        pieces = [[block[0]]]
        for previous, unit in itertools.pairwise(block):
            if unit.paragraph_start and not previous.lead_in and not previous.paragraph_start:
                pieces.append([unit])
            else:
                pieces[-1].append(unit)
        parts: list[list[_Unit]] = []
        for piece in pieces:
            if sum(u.tokens for u in piece) <= self.size:
                parts.append(piece)
                continue
            for unit in piece:
                joins = parts and len(parts[-1]) == 1 and parts[-1][0].lead_in
                if joins and parts[-1][0].tokens + unit.tokens <= self.size:
                    parts[-1].append(unit)
                else:
                    parts.append([unit])
        return parts

    def _overlap_tail(self, window: list[_Unit], incoming: int) -> list[_Unit]:
        """The last whole sentences of a window (about `overlap` pieces) to repeat next."""
        tail: list[_Unit] = []
        tokens = 0
        for unit in reversed(window[1:]):  # never the first unit: chunks must move forward
            if tokens + unit.tokens > self.overlap or tokens + unit.tokens + incoming > self.size:
                break
            tail.insert(0, unit)
            tokens += unit.tokens
        return tail


def _covering_spans(text: str) -> list[tuple[int, int]]:
    """Sentence spans, plus any visible text between them as spans of its own."""
    spans: list[tuple[int, int]] = []
    cursor = 0
    for start, end in sentence_spans(text):
        if start > cursor:
            spans.extend(_visible_runs(text, cursor, start))
        spans.append((start, end))
        cursor = end
    spans.extend(_visible_runs(text, cursor, len(text)))
    return spans


def _visible_runs(text: str, start: int, end: int) -> list[tuple[int, int]]:
    """Maximal runs of text[start:end] that are not all whitespace, trimmed."""
    piece = text[start:end]
    if not piece.strip():
        return []
    left = len(piece) - len(piece.lstrip())
    right = len(piece.rstrip())
    return [(start + left, start + right)]


def _line_of(text: str, span: tuple[int, int]) -> tuple[str, bool, bool]:
    """The span's text, whether it starts its line and whether it ends it."""
    start, end = span
    before = text[text.rfind("\n", 0, start) + 1 : start]
    after_end = text.find("\n", end)
    after = text[end : len(text) if after_end < 0 else after_end]
    return text[start:end], not before.strip(), not after.strip()


def _is_lead_in(line: tuple[str, bool, bool]) -> bool:
    """Whether a unit (its `_line_of`) ends its line with a colon ("... as follows:")."""
    piece, _, ends_line = line
    return ends_line and piece.rstrip().endswith(":")


def _belongs_with_next(line: tuple[str, bool, bool], following: tuple[str, bool, bool]) -> bool:
    """Whether a unit that is not a lead-in should stay in the chunk of the unit after it (both
    given by `_line_of`)."""
    piece, starts_line, ends_line = line
    nxt, next_starts_line, _ = following
    stripped = piece.rstrip()
    heading_like = (
        starts_line and ends_line and len(stripped) <= 80 and stripped[-1:] not in ".!?;,:"
    )
    if heading_like and next_starts_line:
        return True  # a heading never ends a chunk
    is_item = bool(_ITEM.match(piece)) and starts_line
    return is_item and next_starts_line and bool(_ITEM.match(nxt))


def _glued_blocks(units: list[_Unit]) -> list[list[_Unit]]:
    blocks: list[list[_Unit]] = []
    current: list[_Unit] = []
    for unit in units:
        current.append(unit)
        if not unit.glue_next:
            blocks.append(current)
            current = []
    if current:
        blocks.append(current)
    return blocks


def _is_combining(character: str) -> bool:
    return unicodedata.combining(character) > 0 or character in "\u200d\ufe0f"
