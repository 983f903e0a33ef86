"""The Documents tab's table: a reader's documents, searched and sorted, drawn as an HTML table
that a phone shows as one card a document, each with Preview and (for admins) Delete, and the
question a Delete asks first.

Every value is HTML-escaped; a row names its document by catalog id only (the browser sends
the id back, never a path) and its file by `SourceNames`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from html import escape
from pathlib import Path

from assistant.account_types import User
from assistant.catalog import DocumentRecord
from assistant.core import Assistant
from assistant.loaders import CONTAINERS, container_of
from assistant.settings import Settings
from assistant.ui.names import SourceNames

MAX_ROWS = 500  # drawn at once; a search finds the others


@dataclass(frozen=True)
class DocumentRow:
    """One document as the table shows it (its file named for people, not the server)."""

    doc_id: str
    title: str
    file: str
    format: str
    chunks: int
    size: int
    ingested_at: float


_SortKey = Callable[[DocumentRow], tuple[object, ...]]
# Label -> (key, descending). Ties go by title, then file, so the order never flickers.
SORTS: dict[str, tuple[_SortKey, bool]] = {
    "Newest first": (lambda r: (r.ingested_at,), True),
    "Oldest first": (lambda r: (r.ingested_at,), False),
    "Title (A-Z)": (lambda r: (r.title.casefold(), r.file.casefold()), False),
    "File (A-Z)": (lambda r: (r.file.casefold(),), False),
    "Largest first": (lambda r: (r.size,), True),
    "Most passages": (lambda r: (r.chunks,), True),
}
DEFAULT_SORT = "Newest first"


def document_rows(assistant: Assistant, user: User | None = None) -> list[DocumentRow]:
    """The documents `user` may read, newest first."""
    names = SourceNames(assistant.settings)
    return select_rows([_row(record, names) for record in assistant.documents(user)])


def select_rows(
    rows: list[DocumentRow], query: str = "", sort: str = DEFAULT_SORT
) -> list[DocumentRow]:
    """The rows whose title, file or type hold every word of `query` (any case), in the order
    `sort` names (an unknown name: newest first)."""
    words = query.casefold().split()
    if words:
        rows = [row for row in rows if _matches(row, words)]
    key, descending = SORTS.get(sort, SORTS[DEFAULT_SORT])
    rows = sorted(rows, key=lambda r: (r.title.casefold(), r.file.casefold()))
    return sorted(rows, key=key, reverse=descending)  # stable: ties keep the title order


def render_table(
    assistant: Assistant, user: User | None, query: str, sort: str, may_delete: bool
) -> str:
    """The table of what `user` may read, searched and sorted (see `table_html`)."""
    rows = document_rows(assistant, user)
    return table_html(select_rows(rows, query, sort), len(rows), query, may_delete, sort)


def table_html(
    rows: list[DocumentRow],
    total: int,
    query: str = "",
    may_delete: bool = False,
    sort: str = DEFAULT_SORT,
) -> str:
    """The table of `rows` (of `total` documents the reader may see), with a Preview button
    on each and a Delete button when `may_delete`. A sortable column's heading is a button
    that sorts by it (`data-sort`: the name in `SORTS`), and says which one the rows are in
    (`aria-sort`)."""
    if total == 0:
        return '<p class="qa-doc-empty">No documents are indexed yet.</p>'
    shown = " ".join(query.split())
    if not rows:
        return f'<p class="qa-doc-empty" role="status">No document matches “{escape(shown)}”.</p>'
    lines = []
    if shown:
        verb = "matches" if len(rows) == 1 else "match"
        lines.append(
            f'<p class="qa-doc-matches" role="status">{len(rows)} of {total} documents {verb} '
            f"“{escape(shown)}”.</p>"
        )
    if len(rows) > MAX_ROWS:
        lines.append(
            f'<p class="qa-doc-matches">Showing the first {MAX_ROWS:,} of {len(rows):,}; '
            "search to find the others.</p>"
        )
    head = "".join(_heading(label, sort) for label in _LABELS)
    body = "".join(_row_html(row, may_delete) for row in rows[:MAX_ROWS])
    lines.append(
        '<div class="qa-doc-scroll" role="region" aria-label="Indexed documents" tabindex="0">'
        f'<table class="qa-doc-table"><thead><tr>{head}'
        '<th scope="col"><span class="qa-sr">Actions</span></th></tr></thead>'
        f"<tbody>{body}</tbody></table></div>"
    )
    return "".join(lines)


def delete_question(record: DocumentRecord, settings: Settings) -> str:
    """The confirmation asked before a document is deleted: what goes, and what stays."""
    name = escape(SourceNames(settings)(record.source))
    container = container_of(Path(record.path))
    if container is not None:
        after = (
            f"It is an attachment of {escape(container.name)}: the next re-index or sync "
            "indexes it again while the message holds it."
        )
    elif settings.is_upload(record.path):
        after = "The uploaded file is deleted too."
    else:
        after = (
            "Its file stays in the document folder: the next re-index or sync indexes it again "
            "unless the file is removed there."
        )
    if Path(record.path).suffix.lower() in CONTAINERS:
        after = "Its attachments, if it has any, are deleted with it. " + after
    return (
        f"<p><b>Delete “{escape(record.title)}” ({name})?</b> It leaves the index and no "
        f"answer cites it again. {after}</p>"
    )


def size_text(size: int) -> str:
    """A file size for people: kB below a megabyte, else MB."""
    if size >= 1_000_000:
        return f"{size / 1e6:.1f} MB"
    return f"{max(size, 1) / 1e3:.1f} kB"


_LABELS = ("Title", "File", "Type", "Passages", "Size", "Last indexed")
# A column's sorts: the first when the heading is clicked, the second when clicked again.
_COLUMN_SORTS: dict[str, tuple[str, ...]] = {
    "Title": ("Title (A-Z)",),
    "File": ("File (A-Z)",),
    "Passages": ("Most passages",),
    "Size": ("Largest first",),
    "Last indexed": ("Newest first", "Oldest first"),
}


def _heading(label: str, sort: str) -> str:
    """A column heading: a button that sorts by the column, when it can be sorted."""
    sorts = _COLUMN_SORTS.get(label)
    if not sorts:
        return f'<th scope="col">{label}</th>'
    active = sort in sorts
    state = "none"
    if active:
        state = "descending" if SORTS[sort][1] else "ascending"
    following = sorts[(sorts.index(sort) + 1) % len(sorts)] if active else sorts[0]
    return (
        f'<th scope="col" aria-sort="{state}"><button type="button" class="qa-doc-sort" '
        f'data-sort="{escape(following)}" title="Sort: {escape(following)}">{label}</button></th>'
    )


def _row(record: DocumentRecord, names: SourceNames) -> DocumentRow:
    return DocumentRow(
        doc_id=record.doc_id,
        title=record.title,
        file=names(record.source),
        format=record.format,
        chunks=record.chunks,
        size=record.size,
        ingested_at=record.ingested_at,
    )


def _matches(row: DocumentRow, words: list[str]) -> bool:
    text = f"{row.title} {row.file} {row.format}".casefold()
    return all(word in text for word in words)


def _row_html(row: DocumentRow, may_delete: bool) -> str:
    when = datetime.fromtimestamp(row.ingested_at).strftime("%Y-%m-%d %H:%M")
    values = (row.title, row.file, row.format, f"{row.chunks:,}", size_text(row.size), when)
    cells = "".join(
        f'<td data-label="{label}" class="qa-doc-{label.split()[0].lower()}">{escape(value)}</td>'
        for label, value in zip(_LABELS, values, strict=True)
    )
    title = escape(row.title, quote=True)
    actions = [
        f'<button type="button" class="qa-doc-action" data-action="preview" '
        f'data-doc="{escape(row.doc_id)}" aria-label="Preview {title}">Preview</button>'
    ]
    if may_delete:
        actions.append(
            f'<button type="button" class="qa-doc-action qa-doc-remove" data-action="delete" '
            f'data-doc="{escape(row.doc_id)}" aria-label="Delete {title}">Delete</button>'
        )
    return f'<tr>{cells}<td class="qa-doc-actions">{"".join(actions)}</td></tr>'
