"""Optical character recognition, offline: Tesseract (Debian's `tesseract-ocr`) via pytesseract.

Used for PDF pages without a usable text layer and for image files. Which languages Tesseract
reads comes from the `ocr_languages` setting ("eng", "eng+deu", ...: the language data must be
installed, e.g. `tesseract-ocr-deu`); `ocr = false` switches recognition off.
"""

from __future__ import annotations

import contextlib
import hashlib
import re
import shutil
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from assistant.atomic import write_text_atomic
from assistant.errors import LoadError
from assistant.text import LETTER

if TYPE_CHECKING:
    from PIL.Image import Image

# Rendering resolution for PDF pages: Tesseract reads body text best at about 300 dpi.
RENDER_DPI = 300
# A page whose text layer holds fewer letters than this is treated as a scan.
MIN_TEXT_LAYER_LETTERS = 20
_LANGUAGES = re.compile(r"[a-z_]{3,}(\+[a-z_]{3,})*", re.IGNORECASE)


class NeedsOcrError(LoadError):
    """The file's text can only be read by OCR, which is switched off."""


@dataclass(frozen=True)
class Ocr:
    """How to recognise text in images: the Tesseract languages ("eng", "eng+deu"), and where
    recognised texts are kept (by a hash of the image and the languages), so that a re-index
    or a rebuild does not run Tesseract again on the same page."""

    languages: str = "eng"
    cache_dir: Path | None = None
    # Told (page, pages) before each page is read, for an ingest's progress (OCR is slow).
    on_page: Callable[[int, int], None] | None = field(default=None, compare=False)

    def __post_init__(self) -> None:
        if not _LANGUAGES.fullmatch(self.languages):
            raise ValueError(f"bad OCR languages {self.languages!r}: use e.g. 'eng' or 'eng+deu'")

    def starting(self, page: int, pages: int) -> None:
        """Say that page `page` (1-based) of `pages` is about to be read."""
        if self.on_page is not None:
            self.on_page(page, pages)

    def read(self, image: Image) -> str:
        """The text Tesseract recognises in an image (lines kept, blank lines between blocks)."""
        gray = image.convert("L")
        cached = None
        if self.cache_dir is not None:
            digest = hashlib.sha256(f"{self.languages}|{gray.size}|".encode())
            digest.update(gray.tobytes())
            cached = self.cache_dir / f"{digest.hexdigest()}.txt"
            with contextlib.suppress(OSError):
                return cached.read_text("utf-8")
        text = self._recognise(gray)
        if cached is not None:
            with contextlib.suppress(OSError):
                write_text_atomic(cached, text)
        return text

    def _recognise(self, gray: Image) -> str:
        import pytesseract

        if shutil.which("tesseract") is None:
            raise LoadError(
                "needs OCR, but Tesseract is not installed (apt-get install tesseract-ocr)"
            )
        try:
            text = str(pytesseract.image_to_string(gray, lang=self.languages))
        except pytesseract.TesseractError as exc:
            message = " ".join(str(exc.message).split())
            raise LoadError(f"OCR failed ({message[:200]})") from exc
        return "\n".join(line.rstrip() for line in text.strip().splitlines())


def has_text_layer(text: str) -> bool:
    """Whether a PDF page's own text is enough to skip recognition."""
    return len(LETTER.findall(text)) >= MIN_TEXT_LAYER_LETTERS
