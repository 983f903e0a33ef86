"""PDF: page texts from PDFium (keeps inter-word spaces on justified lines), with page offsets
and the headings of the document's outline (bookmarks), found on the pages they point to.

A page without a usable text layer (a scan) is rendered and read by OCR (`ocr.py`) when OCR is
on; pages that have text keep it, so a PDF mixing text and scanned pages loses neither."""

from __future__ import annotations

import re

import pypdfium2 as pdfium

from assistant.errors import LoadError
from assistant.loaders.base import Extracted
from assistant.loaders.ocr import RENDER_DPI, Ocr, has_text_layer
from assistant.loaders.pdf_tables import TableFinder, with_rows
from assistant.loaders.reflow import full_width, unwrap_printed
from assistant.types import Heading

_PAGE_BREAK = "\n\n"
MAX_OUTLINE_DEPTH = 8
# A heading line may put a section number before the outline's title ("5.7.2 ", "A.1 ").
MAX_NUMBER_CHARS = 12
# What PDF writers put in the Title field when nobody set one: the file's name says more.
_PLACEHOLDER_TITLES = frozenset({"", "untitled", "untitled document", "document"})
_CONTROLS = re.compile(r"[\x00-\x08\x0b-\x1f\x7f\ufffe\uffff]")


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
    finally:
        document.close()
    # Printed lines end at the margin: a paragraph's lines are joined (one space for one break),
    # but never into a heading the outline names.
    width = full_width([line for page_text in pages for line in page_text.split("\n")])
    found = [
        _heading_lines(page_text, outline.get(index, [])) for index, page_text in enumerate(pages)
    ]
    pages = [
        _keep_rows(_keep_breaks(unwrap_printed(page_text, width), lines), page_text, table_rows)
        for page_text, lines, table_rows in zip(pages, found, rows, strict=True)
    ]
    starts = []
    position = 0
    for page_text in pages:
        starts.append(position)
        position += len(page_text) + len(_PAGE_BREAK)
    headings = tuple(
        Heading(start + offset, line)
        for start, lines in zip(starts, found, strict=True)
        for offset, line, _ in lines
    )
    return Extracted(
        text=_PAGE_BREAK.join(pages), title=title, headings=headings, page_starts=tuple(starts)
    )


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


def _keep_breaks(text: str, headings: list[tuple[int, str, bool]]) -> str:
    """A line break before each heading, restored where unwrapping took it, and after a run-in
    heading (one character for one, so offsets stay true)."""
    characters = list(text)
    for offset, title, run_in in headings:
        if offset > 0 and characters[offset - 1] == " ":
            characters[offset - 1] = "\n"
        if run_in:
            characters[offset + len(title)] = "\n"
    return "".join(characters)


def _keep_rows(text: str, printed: str, rows: frozenset[str]) -> str:
    """A table's rows stay lines of their own: the line breaks around each row line of the
    printed page text, restored where unwrapping made them spaces (one character for one)."""
    if not rows:
        return text
    characters = list(text)
    offset = 0
    for line in printed.split("\n"):
        end = offset + len(line)
        if line in rows:
            if offset > 0:
                characters[offset - 1] = "\n"
            if end < len(characters):
                characters[end] = "\n"
        offset = end + 1
    return "".join(characters)


def _clean(text: str) -> str:
    # PDFium ends lines with CRLF and marks soft hyphens with \x02; neither is content.
    text = text.replace("\r\n", "\n").replace("\r", "\n").replace("\x02", "")
    return _CONTROLS.sub("", text).strip("\n")
