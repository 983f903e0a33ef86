"""PDF: page texts from PDFium (keeps inter-word spaces on justified lines), with page offsets."""

from __future__ import annotations

import re

import pypdfium2 as pdfium

from assistant.errors import LoadError
from assistant.loaders.base import Extracted
from assistant.loaders.reflow import full_width, unwrap_printed

_PAGE_BREAK = "\n\n"
_CONTROLS = re.compile(r"[\x00-\x08\x0b-\x1f\x7f\ufffe\uffff]")


def extract(data: bytes) -> Extracted:
    """Extract the text of every page; page_starts gives where each page begins."""
    try:
        document = pdfium.PdfDocument(data)
    except pdfium.PdfiumError as exc:
        message = str(exc)
        if "password" in message.lower():
            raise LoadError("encrypted PDF (password required)") from exc
        raise LoadError(f"corrupt or unreadable PDF ({message})") from exc
    try:
        pages: list[str] = []
        for index in range(len(document)):
            page = document[index]
            textpage = page.get_textpage()
            try:
                pages.append(_clean(textpage.get_text_range()))
            finally:
                textpage.close()
                page.close()
        title = (document.get_metadata_dict().get("Title") or "").strip() or None
    finally:
        document.close()
    # Printed lines end at the margin: a paragraph's lines are joined (one space for one break).
    width = full_width([line for page_text in pages for line in page_text.split("\n")])
    pages = [unwrap_printed(page_text, width) for page_text in pages]
    starts = []
    position = 0
    for page_text in pages:
        starts.append(position)
        position += len(page_text) + len(_PAGE_BREAK)
    return Extracted(text=_PAGE_BREAK.join(pages), title=title, page_starts=tuple(starts))


def _clean(text: str) -> str:
    # PDFium ends lines with CRLF and marks soft hyphens with \x02; neither is content.
    text = text.replace("\r\n", "\n").replace("\r", "\n").replace("\x02", "")
    return _CONTROLS.sub("", text).strip("\n")
