"""The picture of a scanned page, for the source panel beside the text OCR read from it: a PDF
page without a text layer, or a frame of an image file.

Rendered from the indexed file's bytes, which the caller has checked are still the version
that was indexed (a page of another version would not be what the citation quotes); small, as
the panel is a few hundred pixels wide. A page with a text layer has no picture: its text is
the page's own."""

from __future__ import annotations

import io
from pathlib import Path
from typing import TYPE_CHECKING

from assistant.errors import LoadError
from assistant.loaders import IMAGE_SUFFIXES, content_hash, read_file
from assistant.loaders.ocr import has_text_layer

PAGE_IMAGE_DPI = 110
MAX_EDGE = 1600  # pixels: a larger scan is shrunk to fit
SCANNED_SUFFIXES = frozenset({".pdf", *IMAGE_SUFFIXES})
PAGE_IMAGES_KEPT = 16  # rendered scanned pages kept in memory, by content hash and page

if TYPE_CHECKING:
    from PIL.Image import Image

    from assistant.catalog import DocumentRecord


class PageImages:
    """The scanned pages of indexed files, rendered on demand and the last few kept."""

    def __init__(self, max_file_bytes: int) -> None:
        self._max_file_bytes = max_file_bytes
        self._kept: dict[tuple[str, int], bytes | None] = {}

    def render(self, record: DocumentRecord, page: int) -> bytes | None:
        """A PNG of page `page` of the document's file when that page is a scan and the file
        is still the version that was indexed; None otherwise (a page with text, a changed or
        missing file, a format without scans)."""
        path = Path(record.path)
        if path.suffix.lower() not in SCANNED_SUFFIXES:
            return None
        key = (record.content_hash, page)
        if key in self._kept:
            return self._kept[key]
        try:
            data = read_file(path, self._max_file_bytes)
        except LoadError:
            return None
        if content_hash(data) != record.content_hash:
            return None  # changed since it was indexed: not the page the citation quotes
        image = scanned_page_png(data, path.suffix.lower(), page)
        if len(self._kept) >= PAGE_IMAGES_KEPT:
            self._kept.clear()
        self._kept[key] = image
        return image


def scanned_page_png(data: bytes, suffix: str, page: int) -> bytes | None:
    """PNG of page `page` (1-based) of a file when that page is a scan, else None (a page with
    a text layer, a page the file does not have, a format without pages, an unreadable file)."""
    if page < 1:
        return None
    if suffix == ".pdf":
        image = _pdf_scan(data, page)
    elif suffix in IMAGE_SUFFIXES:
        image = _image_frame(data, page)
    else:
        return None
    if image is None:
        return None
    image.thumbnail((MAX_EDGE, MAX_EDGE))
    buffer = io.BytesIO()
    image.save(buffer, "PNG", optimize=True)
    return buffer.getvalue()


def _pdf_scan(data: bytes, page: int) -> Image | None:
    import pypdfium2 as pdfium

    try:
        document = pdfium.PdfDocument(data)
    except pdfium.PdfiumError:
        return None
    try:
        if page > len(document):
            return None
        sheet = document[page - 1]
        textpage = sheet.get_textpage()
        try:
            if has_text_layer(textpage.get_text_range()):
                return None
            picture: Image = sheet.render(scale=PAGE_IMAGE_DPI / 72).to_pil()
            return picture.convert("L")
        finally:
            textpage.close()
            sheet.close()
    finally:
        document.close()


def _image_frame(data: bytes, page: int) -> Image | None:
    from PIL import Image as Pillow
    from PIL import UnidentifiedImageError

    try:
        image = Pillow.open(io.BytesIO(data))
        image.seek(page - 1)
        return image.convert("RGB")
    except (EOFError, UnidentifiedImageError, OSError, Pillow.DecompressionBombError):
        return None
