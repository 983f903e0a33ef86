"""The side panel: a cited passage in its context, or the whole document, quote highlighted.

Text comes only from the catalog's extracted text of an indexed document, looked up by its id;
nothing here reads a path the browser names. All of it is HTML-escaped.
"""

from __future__ import annotations

import base64
import re
from collections.abc import Mapping
from dataclasses import dataclass
from html import escape
from typing import Any

from assistant.catalog import DocumentText
from assistant.types import Heading, page_of, section_at
from assistant.ui.names import SourceNames
from assistant.ui.render import quote_key

CONTEXT_CHARS = 700  # shown on each side of the quote, cut back to a paragraph or sentence
WHOLE_DOCUMENT_CHARS = 200_000  # larger documents show this much around the quote
DOC_ID = re.compile(r"[0-9a-f]{6,64}")
_QUOTE_KEY = re.compile(r"[0-9a-f]{12}")


@dataclass(frozen=True)
class SourceRef:
    """What a clicked citation names: a span of an indexed document."""

    doc_id: str
    start: int
    end: int
    number: int | None = None
    quote_key: str | None = None
    whole: bool = False

    @classmethod
    def from_event(cls, data: Mapping[str, Any]) -> SourceRef:
        """Validate the data a browser sent (untrusted) into a reference."""
        doc_id = str(data.get("doc", ""))
        if not DOC_ID.fullmatch(doc_id):
            raise ValueError("bad document id")
        start, end = _integer(data.get("start")), _integer(data.get("end"))
        if not 0 <= start <= end:
            raise ValueError("bad span")
        number = data.get("n")
        key = str(data.get("q") or "")
        return cls(
            doc_id=doc_id,
            start=start,
            end=end,
            number=_integer(number) if number not in (None, "") else None,
            quote_key=key if _QUOTE_KEY.fullmatch(key) else None,
            whole=data.get("view") == "document",
        )


def _integer(value: Any) -> int:
    if isinstance(value, bool):
        raise ValueError("not a number")
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.isdigit() and len(value) < 12:
        return int(value)
    raise ValueError("not a number")


def render_empty() -> str:
    """The panel before any citation was clicked."""
    return (
        '<div class="qa-viewer qa-viewer-empty">Click a numbered citation such as '
        '<span class="qa-cite-sample">[1]</span> in an answer to read the passage here.</div>'
    )


def render_problem(message: str) -> str:
    """The panel when a citation cannot be shown."""
    return f'<div class="qa-viewer"><div class="qa-viewer-warning">{escape(message)}</div></div>'


def render_source(
    document: DocumentText | None,
    ref: SourceRef,
    names: SourceNames,
    scan: bytes | None = None,
) -> str:
    """The cited passage in context (or the whole document) with the quote marked, its file
    named by `names`, and under it `scan`, the PNG of its page when that page is a scan.

    `document` is what `Assistant.document_text` gave for the reader: None when the document
    left the index or is not theirs to read, which look the same."""
    if document is None:
        return render_problem("This document is no longer in the index.")
    record, text = document.record, document.text
    headings, page_starts = document.headings, document.page_starts
    if ref.end > len(text):
        return render_problem("This document changed since the answer; re-ask the question.")
    warning = ""
    if ref.quote_key and quote_key(text[ref.start : ref.end]) != ref.quote_key:
        warning = (
            '<div class="qa-viewer-warning">This document changed since the answer was written;'
            " the highlighted text may differ from the quote.</div>"
        )
    if ref.whole:
        lo, hi = _window(len(text), ref.start, ref.end, WHOLE_DOCUMENT_CHARS)
    else:
        lo, hi = context_bounds(text, ref.start, ref.end)
    shown_headings = headings if ref.whole else ()
    body = _highlighted(text, lo, hi, (ref.start, ref.end), shown_headings, page_starts)
    section = section_at(headings, ref.start)
    page = page_of(page_starts, ref.start, ref.end)
    meta = [f"§ {section}"] if section and section != record.title else []
    if page is not None:
        meta.append(f"page {page}")
    meta.append(f"{names(record.source)} ({record.format})")
    label = f"[{ref.number}] " if ref.number is not None else ""
    view = "document" if ref.whole else "passage"
    clipped = _clipped(lo, hi, len(text)) if ref.whole else ""
    body = f"{'' if lo == 0 else '… '}{body}{'' if hi == len(text) else ' …'}"
    actions = _toggle(ref)
    if scan is not None and page is not None:
        actions = _scanned_page(scan, page, names(record.source)) + actions
    return _panel(view, label + record.title, meta, warning + clipped, body, actions)


def _scanned_page(png: bytes, page: int, name: str) -> str:
    """The scanned page the passage's text was recognised from, as a picture."""
    source = "data:image/png;base64," + base64.b64encode(png).decode("ascii")
    return (
        '<figure class="qa-scan">'
        f"<figcaption>Page {page} as scanned: the text above was read from it by OCR, so "
        "compare before you quote it.</figcaption>"
        f'<img src="{source}" alt="{escape(f"Page {page} of {name}, as scanned", quote=True)}">'
        "</figure>"
    )


def render_document(document: DocumentText | None, names: SourceNames) -> str:
    """A whole document from its start (the Documents tab's Preview), headings emphasised and
    nothing highlighted; None (gone, or not the reader's) reads as gone."""
    if document is None:
        return render_problem("This document is no longer in the index.")
    record, text = document.record, document.text
    hi = min(len(text), WHOLE_DOCUMENT_CHARS)
    body = _highlighted(text, 0, hi, None, document.headings, document.page_starts)
    passages = f"{record.chunks:,} passage{'' if record.chunks == 1 else 's'}"
    meta = [f"{names(record.source)} ({record.format})", passages]
    body += "" if hi == len(text) else " …"
    return _panel("preview", record.title, meta, _clipped(0, hi, len(text)), body, "")


def _panel(view: str, title: str, meta: list[str], notes: str, body: str, actions: str) -> str:
    """The panel's frame: a sticky title and meta line, notes, the (escaped) text, actions."""
    return "".join(
        [
            f'<div class="qa-viewer" data-view="{view}">',
            '<div class="qa-viewer-head">',
            f'<div class="qa-viewer-title">{escape(title)}</div>',
            f'<div class="qa-viewer-meta">{escape(" · ".join(meta))}</div>',
            "</div>",
            notes,
            f'<div class="qa-passage">{body}</div>',
            actions,
            "</div>",
        ]
    )


def _clipped(lo: int, hi: int, length: int) -> str:
    if lo == 0 and hi == length:
        return ""
    return f'<div class="qa-viewer-note">Showing characters {lo:,}–{hi:,} of {length:,}.</div>'


def context_bounds(text: str, start: int, end: int, radius: int = CONTEXT_CHARS) -> tuple[int, int]:
    """A window around [start, end) cut back to paragraph (else sentence) boundaries."""
    lo, hi = max(0, start - radius), min(len(text), end + radius)
    if lo > 0:
        cut = _first_boundary(text, lo, start)
        lo = cut if cut is not None else lo
    if hi < len(text):
        cut = _last_boundary(text, end, hi)
        hi = cut if cut is not None else hi
    return lo, hi


def _first_boundary(text: str, lo: int, limit: int) -> int | None:
    for pattern in ("\n", ". "):
        found = text.find(pattern, lo, limit)
        if found >= 0:
            return found + len(pattern)
    return None


def _last_boundary(text: str, limit: int, hi: int) -> int | None:
    for pattern in ("\n", ". "):
        found = text.rfind(pattern, limit, hi)
        if found >= 0:
            return found + (1 if pattern == ". " else 0)
    return None


def _window(length: int, start: int, end: int, size: int) -> tuple[int, int]:
    if length <= size:
        return 0, length
    lo = max(0, min(start - size // 2, length - size))
    return lo, min(length, max(lo + size, end))


def _highlighted(
    text: str,
    lo: int,
    hi: int,
    quote: tuple[int, int] | None,
    headings: tuple[Heading, ...],
    page_starts: tuple[int, ...] = (),
) -> str:
    """Escaped text[lo:hi] with the quote (start, end) in <mark>, headings emphasised and, in a
    paged document, each page that begins inside the window announced where it begins (so the
    text before it is not read as the cited page's)."""
    spans = []
    if quote is not None:
        spans.append((*quote, '<mark class="qa-quote">', "</mark>"))
    start, end = quote or (hi, hi)
    for heading in headings:
        h_end = heading.offset + len(heading.title)
        inside = lo <= heading.offset and h_end <= hi
        apart = h_end <= start or heading.offset >= end
        if inside and apart and text[heading.offset : h_end] == heading.title:
            spans.append((heading.offset, h_end, '<strong class="qa-heading">', "</strong>"))
    for number, offset in enumerate(page_starts[1:], start=2):
        # Not inside the quote or a heading (a page mark before it is empty: never inside).
        if lo < offset < hi and not any(s < offset < e for s, e, _, _ in spans):
            spans.append((offset, offset, f'<span class="qa-page-break">Page {number}</span>', ""))
    out, cursor = [], lo
    for s, e, open_tag, close_tag in sorted(spans):
        out += [escape(text[cursor:s]), open_tag, escape(text[s:e]), close_tag]
        cursor = e
    out.append(escape(text[cursor:hi]))
    return "".join(out)


def _toggle(ref: SourceRef) -> str:
    view, label = ("cite", "Show passage only") if ref.whole else ("whole", "Open whole document")
    href = f"#{view}-{ref.doc_id}-{ref.start}-{ref.end}-{ref.number or ''}-{ref.quote_key or ''}"
    return (
        f'<div class="qa-viewer-actions"><a class="qa-open" href="{escape(href)}" role="button">'
        f"{label}</a></div>"
    )
