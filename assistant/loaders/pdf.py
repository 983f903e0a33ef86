"""PDF: page texts from PDFium (keeps inter-word spaces on justified lines), with page offsets
and the headings of the document's outline (bookmarks), found on the pages they point to.

A page without a usable text layer (a scan) is rendered and read by OCR (`ocr.py`) when OCR is
on; pages that have text keep it, so a PDF mixing text and scanned pages loses neither."""

from __future__ import annotations

import re
from bisect import bisect_right
from collections import Counter
from itertools import accumulate, pairwise

import pypdfium2 as pdfium

from assistant.errors import LoadError
from assistant.loaders.base import Extracted
from assistant.loaders.ocr import RENDER_DPI, Ocr, has_text_layer
from assistant.loaders.pdf_tables import TableFinder, with_rows
from assistant.loaders.reflow import FULL_LINE, full_width, soft_break, unwrap_printed
from assistant.types import Heading

_PAGE_BREAK = "\n\n"
MAX_OUTLINE_DEPTH = 8
# A heading line may put a section number before the outline's title ("5.7.2 ", "A.1 ").
MAX_NUMBER_CHARS = 12
# What PDF writers put in the Title field when nobody set one: the file's name says more.
_PLACEHOLDER_TITLES = frozenset({"", "untitled", "untitled document", "document"})
_CONTROLS = re.compile(r"[\x00-\x08\x0b-\x1f\x7f\ufffe\uffff]")
# A running head or foot ("gnuplot 5.4 51", "Chapter 2: Installing R 6", a bare "12") is the
# first or last line of a page that opens or ends with the printed page number: the page's
# index plus an offset the whole document shares (front matter aside), seen on at least this
# many pages. Left in, it is glued to the sentence the page goes on with.
MIN_RUNNING_PAGES = 3
# Where a running head or foot carries the page number: the first or last line, its start or end.
FIRST_LEAD, FIRST_TAIL, LAST_LEAD, LAST_TAIL = range(4)
# A place counts when it holds the page number on two pages or more, and on at least this share
# of the pages of the place that holds it most (gnuplot alternates between the two ends of its
# first line).
MIN_SLOT_SHARE = 0.25
# The number may stand between dashes ("- 12 -") or after "Page" ("Page 12 of 40").
_EDGE_NUMBERS = (
    re.compile(r"^\s*(?:[-–—]\s*|[Pp]age\s+)?(\d{1,4})(?=\s|$)"),
    re.compile(r"(?:^|\s)(\d{1,4})(?:\s*[-–—])?\s*$"),
)


def extract(data: bytes, ocr: Ocr | None = None) -> Extracted:
    """Extract the text of every page; page_starts gives where each page begins.

    With `ocr`, pages without a usable text layer are recognised from their rendered image.
    """
    try:
        document = pdfium.PdfDocument(data)
    except pdfium.PdfiumError as exc:
        message = str(exc)
        if "password" in message.lower():
            raise LoadError("encrypted PDF (password required)") from exc
        raise LoadError(f"corrupt or unreadable PDF ({message})") from exc
    try:
        pages: list[str] = []
        rows: list[frozenset[str]] = []  # each page's table rows: lines never joined
        with TableFinder(data) as finder:
            for index in range(len(document)):
                page = document[index]
                textpage = page.get_textpage()
                try:
                    text = _clean(textpage.get_text_range())
                    page_rows: tuple[str, ...] = ()
                    if not has_text_layer(text):
                        if ocr is not None:
                            ocr.starting(index + 1, len(document))
                            image = page.render(scale=RENDER_DPI / 72).to_pil()
                            text = _clean(ocr.read(image)) or text
                    elif tables := finder.tables(index, page):
                        raw, page_rows = with_rows(textpage, tables)
                        text = _clean(raw)
                    pages.append(text)
                    rows.append(frozenset(page_rows))
                finally:
                    textpage.close()
                    page.close()
        title = (document.get_metadata_dict().get("Title") or "").strip()
        title = None if title.lower() in _PLACEHOLDER_TITLES else title
        outline = _outline(document, len(pages))
        pages = _without_running_lines(pages, outline)
    finally:
        document.close()
    # Printed lines end at the margin: a paragraph's lines are joined (one space for one break),
    # and so are the lines of a sentence an indented column's shorter lines cut, but never into
    # or out of a heading the outline names.
    width = full_width([line for page_text in pages for line in page_text.split("\n")])
    found = [
        _heading_lines(page_text, outline.get(index, [])) for index, page_text in enumerate(pages)
    ]
    # A sentence the page break cut goes on across it, as across any full line.
    breaks = [
        _PAGE_BREAK
        if (found[index] and found[index][0][0] == 0)
        or after.split("\n", 1)[0] in rows[index]
        or before.rsplit("\n", 1)[-1] in rows[index - 1]
        else _page_break(before, after, width)
        for index, (before, after) in enumerate(pairwise(pages), start=1)
    ]
    pages = [
        _break_after_run_in(
            unwrap_printed(
                page_text, width, run_on=True, kept=_kept_breaks(page_text, lines, table_rows)
            ),
            lines,
        )
        for page_text, lines, table_rows in zip(pages, found, rows, strict=True)
    ]
    joined = [page + gap for page, gap in zip(pages, [*breaks, ""], strict=True)]
    starts = [0, *accumulate(len(part) for part in joined[:-1])]
    text = "".join(joined)
    headings = tuple(
        Heading(start + offset, line)
        for start, lines in zip(starts, found, strict=True)
        for offset, line, _ in lines
    )
    return Extracted(text=text, title=title, headings=headings, page_starts=tuple(starts))


# A call or an assignment: a short line holding one that does not end a sentence is code
# ("plot sin(x)", "x = f(y);"; "the function print()." is the end of a sentence).
_CODE = re.compile(r"\w\(|\s=\s")


def _page_break(before: str, after: str, width: float) -> str:
    """What stands between two pages: a blank line, or one space where the last printed line
    of one is full and unfinished and the next page goes on with it in lower case, in a full
    line or to a stop (the caller keeps the blank line next to an outline heading or a table
    row). One space, as between the joined lines of a page: a quote across the break reads as
    one sentence."""
    last, first = before.rsplit("\n", 1)[-1], after.split("\n", 1)[0].strip()
    if (
        width > 0
        and last.rstrip()[-1:] not in (".", "!", "?", "")
        and first[:1].islower()
        # not a short line left unfinished: a head, a label or code
        and (
            len(first) >= FULL_LINE * width
            or first[-1:] in ".!?"
            or (first[-1:] in ":;,)" and not _CODE.search(first))
        )
        and soft_break(last, first, width)
    ):
        return " "
    return _PAGE_BREAK


def _without_running_lines(pages: list[str], outline: dict[int, list[str]]) -> list[str]:
    """Each page without its running head and foot (see MIN_RUNNING_PAGES).

    Where the number sits is learnt from the document: at the end of the first line (texinfo),
    a bare last line, or either end of the first line on alternate pages; only those places are
    read, so a footnote or a numbered step at the other edge stays. A heading the outline
    names stays too ("1 Introduction" may open page 1), unless it is named again further down
    the page (a reference manual's head repeats the topic: "1846 SSasympOrig")."""
    # Learnt only from lines that are a bare number or whose words recur at the edge of another
    # page ("gnuplot 5.4"): "2 Method" opening page 2 of a short paper teaches nothing.
    edges = [_edge_numbers(text) for text in pages]
    seen = Counter(rest for page in edges for rest in {rest for _, _, rest in page})
    found: Counter[tuple[int, int]] = Counter()  # pages per (page number - index, slot)
    offsets: Counter[int] = Counter()  # pages per (page number - index)
    for index, page in enumerate(edges):
        places = {(n - index, slot) for slot, n, rest in page if not rest or seen[rest] > 1}
        found.update(places)
        offsets.update({offset for offset, _ in places})
    if not offsets:
        return pages
    offset, total = offsets.most_common(1)[0]
    if total < MIN_RUNNING_PAGES:
        return pages
    best = max(count for (o, _), count in found.items() if o == offset)
    slots = {
        slot
        for (o, slot), count in found.items()
        if o == offset and count >= max(2, best * MIN_SLOT_SHARE)
    }
    if not slots:
        return pages
    kept = []
    for index, (text, page) in enumerate(zip(pages, edges, strict=True)):
        lines = text.split("\n")
        numbers = {slot: number for slot, number, _ in page}
        titles = outline.get(index, [])
        for at, edge in ((0, (FIRST_LEAD, FIRST_TAIL)), (-1, (LAST_LEAD, LAST_TAIL))):
            if not lines or all(slot not in slots or numbers.get(slot) != index + offset
                                for slot in edge):  # fmt: skip
                continue
            line, rest = lines[at], lines[1:] if at == 0 else lines[:-1]
            named = [t for t in titles if _heading_lines(line, [t])]
            if all(_heading_lines("\n".join(rest), [t]) for t in named):
                lines = rest
        kept.append("\n".join(lines).strip("\n"))
    return kept


def _edge_numbers(text: str) -> list[tuple[int, int, str]]:
    """(slot, number, the rest of the line with its digits masked) for each number opening or
    ending the first or last line of a page."""
    if not text:
        return []
    lines = text.split("\n")
    lead, tail = _EDGE_NUMBERS
    result = []
    for line, slots in ((lines[0], (FIRST_LEAD, FIRST_TAIL)), (lines[-1], (LAST_LEAD, LAST_TAIL))):
        for slot, pattern in zip(slots, (lead, tail), strict=True):
            if match := pattern.search(line):
                rest = line[: match.start(1)] + line[match.end(1) :]
                masked = " ".join(re.sub(r"\d+", "#", rest).strip(" -–—").split())
                result.append((slot, int(match.group(1)), masked))
    return result


def _outline(document: pdfium.PdfDocument, page_count: int) -> dict[int, list[str]]:
    """Outline titles by the (0-based) page they point to; a broken outline is no outline."""
    titles: dict[int, list[str]] = {}
    try:
        for item in document.get_toc(max_depth=MAX_OUTLINE_DEPTH):
            destination = item.get_dest()
            index = destination.get_index() if destination is not None else None
            title = " ".join((item.get_title() or "").split())
            if title and index is not None and 0 <= index < page_count:
                titles.setdefault(index, []).append(title)
    except (pdfium.PdfiumError, ValueError):
        return {}
    return titles


def _heading_lines(page_text: str, titles: list[str]) -> list[tuple[int, str, bool]]:
    """(offset, heading, run_in) of each outline title on its page, the first match winning.

    A heading line is the title, maybe after a section number ("5.7.2 Linear equations"). A
    run-in heading opens a line and the paragraph goes on after it on the same line ("Using
    examples This creates a plot..."): only the title is the heading, and the text after it
    is a sentence of its own. Outlines written by some tools join a title's words with
    underscores ("Using_examples"); the page has spaces.
    """
    found: dict[int, tuple[str, bool]] = {}
    for title in titles:
        wanted = " ".join(title.replace("_", " ").split()).casefold()
        offset = 0
        for line in page_text.split("\n"):
            text = " ".join(line.split())
            lead = len(line) - len(line.lstrip())
            if (
                text.casefold().endswith(wanted)
                and len(text) - len(wanted) <= MAX_NUMBER_CHARS
                and not re.search(r"[^\W\d_]", text[: len(text) - len(wanted)])
            ):
                found.setdefault(offset + lead, (text, False))
                break
            opening = line[lead : lead + len(wanted)]
            rest = line[lead + len(wanted) :]
            if opening.casefold() == wanted and rest[:1] == " " and rest[1:2].isupper():
                found.setdefault(offset + lead, (opening, True))
                break
            offset += len(line) + 1
    return sorted((offset, text, run_in) for offset, (text, run_in) in found.items())


def _kept_breaks(
    printed: str, headings: list[tuple[int, str, bool]], rows: frozenset[str]
) -> set[int]:
    """The lines of a printed page (numbered from 0) whose line break unwrapping keeps: the
    breaks before and after each heading line (after a run-in heading's line the paragraph goes
    on) and around each table row."""
    lines = printed.split("\n")
    starts = list(accumulate((len(line) + 1 for line in lines[:-1]), initial=0))
    kept: set[int] = set()
    for offset, _title, run_in in headings:
        number = bisect_right(starts, offset) - 1
        kept.update({number - 1} if run_in else {number - 1, number})
    for number, line in enumerate(lines):
        if line in rows:
            kept.update({number - 1, number})
    return kept


def _break_after_run_in(text: str, headings: list[tuple[int, str, bool]]) -> str:
    """A line break after each run-in heading's title, where a space was (one character for
    one, so offsets stay true): the paragraph that goes on after it is a sentence of its own."""
    characters = list(text)
    for offset, title, run_in in headings:
        if run_in:  # found followed by " " and more on its line (`_heading_lines`)
            characters[offset + len(title)] = "\n"
    return "".join(characters)


def _clean(text: str) -> str:
    # PDFium ends lines with CRLF and marks soft hyphens with \x02; neither is content.
    text = text.replace("\r\n", "\n").replace("\r", "\n").replace("\x02", "")
    return _CONTROLS.sub("", text).strip("\n")
