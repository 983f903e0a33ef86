"""Images (.png, .jpg, .tiff ...): the text OCR recognises, one page per frame of a TIFF."""

from __future__ import annotations

import io

from assistant.errors import LoadError
from assistant.loaders.base import Extracted
from assistant.loaders.ocr import NeedsOcrError, Ocr

_PAGE_BREAK = "\n\n"


def extract(data: bytes, ocr: Ocr | None = None) -> Extracted:
    """The recognised text of every frame; page_starts gives where each frame's text begins."""
    from PIL import Image, ImageSequence, UnidentifiedImageError

    if ocr is None:
        raise NeedsOcrError("an image needs OCR, which is switched off (setting ocr)")
    try:
        image = Image.open(io.BytesIO(data))
        frames = [frame.copy() for frame in ImageSequence.Iterator(image)]
    except (UnidentifiedImageError, OSError, Image.DecompressionBombError) as exc:
        raise LoadError(f"corrupt or unreadable image ({type(exc).__name__})") from exc
    pages = []
    for number, frame in enumerate(frames, start=1):
        ocr.starting(number, len(frames))
        pages.append(ocr.read(frame))
    starts, position = [], 0
    for text in pages:
        starts.append(position)
        position += len(text) + len(_PAGE_BREAK)
    return Extracted(text=_PAGE_BREAK.join(pages), page_starts=tuple(starts))
