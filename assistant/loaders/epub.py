"""EPUB (ebooklib): the book's chapters in reading (spine) order, each read as an HTML page
(`html.py`: headings, tables as rows), the book's title from its metadata.
"""

from __future__ import annotations

import io
import warnings
import zipfile

import ebooklib
from ebooklib import epub

from assistant.errors import LoadError
from assistant.loaders import html
from assistant.loaders.base import Extracted
from assistant.types import Heading

_CHAPTER_BREAK = "\n\n"


def extract(data: bytes) -> Extracted:
    """Extract the text of every chapter of an e-book, in reading order."""
    if not zipfile.is_zipfile(io.BytesIO(data)):
        raise LoadError("not a valid .epub file (not a ZIP package)")
    with zipfile.ZipFile(io.BytesIO(data)) as package:
        if "META-INF/container.xml" not in package.namelist():
            raise LoadError("not a valid .epub file (a ZIP package, but not an e-book)")
    with warnings.catch_warnings():  # ebooklib warns about its own future defaults
        warnings.simplefilter("ignore")
        book = epub.read_epub(io.BytesIO(data), {"ignore_ncx": True})
    parts: list[str] = []
    headings: list[Heading] = []
    position = 0
    for idref, _linear in book.spine:
        item = book.get_item_with_id(idref)
        if item is None or item.get_type() != ebooklib.ITEM_DOCUMENT:
            continue
        if "nav" in (getattr(item, "properties", None) or []):
            continue  # the table of contents repeats the chapters' headings
        chapter = html.extract(item.get_content())
        if not chapter.text.strip():
            continue
        headings += [h.shifted(position) for h in chapter.headings]
        parts.append(chapter.text)
        position += len(chapter.text) + len(_CHAPTER_BREAK)
    titles = book.get_metadata("DC", "title")
    title = str(titles[0][0]).strip() if titles and titles[0][0] else None
    return Extracted(text=_CHAPTER_BREAK.join(parts), title=title, headings=tuple(headings))
