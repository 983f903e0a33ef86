"""The Documents tab: what is indexed (searched, sorted, previewed, deleted), uploading new files
and re-indexing, with progress."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from html import escape
from pathlib import Path
from typing import Any

import gradio as gr

from assistant.account_types import User
from assistant.audit import new_request_id
from assistant.core import Assistant
from assistant.errors import AssistantError, IndexBusyError
from assistant.settings import Settings
from assistant.types import FailedFile, IngestReport
from assistant.ui import ASSETS
from assistant.ui.auth import WebLogins, username_of
from assistant.ui.doctable import DEFAULT_SORT, SORTS, delete_question, render_table
from assistant.ui.events import PageEvent
from assistant.ui.names import SourceNames
from assistant.ui.uploads import allowed_suffixes, ingest_progress, ingest_uploads, reindex_targets

_PROGRESS = gr.Progress()  # Gradio swaps in a per-call tracker for a Progress default


def summary(assistant: Assistant, user: User | None = None) -> str:
    """A one-line count of what is indexed (of what `user` may read)."""
    records = assistant.documents(user)
    chunks = sum(record.chunks for record in records)
    noun = "document" if len(records) == 1 else "documents"
    line = f"{len(records)} {noun}, {chunks} passages indexed"
    synced = assistant.sync_status()  # `assistant sync` / `assistant watch`, when they run
    if synced is not None:
        when = datetime.fromtimestamp(synced.last_sync_at).strftime("%Y-%m-%d %H:%M")
        line += f"; last sync {when}"
        if synced.error is not None:
            line += f" did not complete ({escape(synced.error)})"
        if synced.failed:
            names = ", ".join(escape(item.source) for item in synced.failed[:3])
            more = f" and {len(synced.failed) - 3} more" if len(synced.failed) > 3 else ""
            line += f"; not indexed: {names}{more}"
    return line


def report_html(
    report: IngestReport | None, names: SourceNames, rejected: Sequence[FailedFile] = ()
) -> str:
    """What an upload or re-index did, problems first and each with its reason (files named
    by `names`)."""
    problems = [*rejected, *(report.failed if report else ())]
    parts = []
    if problems:
        items = "".join(
            f"<li><b>{escape(names(item.source))}</b>: {escape(item.error)}</li>"
            for item in problems
        )
        noun = "file was" if len(problems) == 1 else "files were"
        parts.append(
            f'<div class="qa-status qa-status-error" role="alert">{len(problems)} {noun} '
            f"not indexed:<ul>{items}</ul></div>"
        )
    changed = report is not None and (report.added or report.updated or report.deleted)
    if report is not None and (changed or not problems):
        # Only problems and no change: the counts ("Added 0, updated 0, ...") would read as a
        # success beside them.
        parts.append(
            '<div class="qa-status qa-status-ok" role="status">'
            f"Added {report.added}, updated {report.updated}, unchanged {report.unchanged}, "
            f"removed {report.deleted}; {report.chunks} passages in the index "
            f"({report.seconds:.1f} s)"
            + (
                f"; {report.chunks_reused} unchanged passages of updated files kept"
                if report.chunks_reused
                else ""
            )
            + ".</div>"
        )
    return "".join(parts)


def error_html(exc: AssistantError) -> str:
    """A failed operation, e.g. another ingest holding the index (said without the index's
    place on the server)."""
    message = str(exc)
    if isinstance(exc, IndexBusyError):
        message = "Another ingest is updating the index; try again when it ends."
    return f'<div class="qa-status qa-status-error" role="alert">{escape(message)}</div>'


@dataclass
class DocumentsTab:
    """The tab's components that others update, and the events that change the index.

    `refresh(username)` gives the `outputs` (table, count, status) for that user and
    `controls(username)` the `control_outputs` (upload and re-index shown or hidden, the notes).
    `table` fires `preview_document` with the `doc` id of a Preview button clicked.
    """

    outputs: list[Any]
    refresh: Callable[..., tuple[Any, ...]]
    control_outputs: list[Any]
    controls: Callable[[str | None], tuple[Any, ...]]
    table: gr.HTML
    changes: list[Any] = field(default_factory=list)


def build_documents_tab(assistant: Assistant, logins: WebLogins) -> DocumentsTab:
    """Lay out the tab inside the current Blocks context and wire its events.

    Everyone sees the documents they may read, filled in when the page loads (nothing about
    the documents is in the page's static config), and may search, sort and preview them.
    Uploading, re-indexing and deleting change what everyone reads: they are for whoever
    reads everything (`WebLogins.may_change_index`); members see the list only, and the
    handlers refuse them too. A read-only server (neither upload nor re-index) deletes nothing.
    """
    settings = assistant.settings
    names = SourceNames(settings)
    deletable = settings.ui_allow_upload or settings.ui_allow_reindex

    def refresh(username: str | None, query: str = "", sort: str = DEFAULT_SORT) -> tuple[Any, ...]:
        user = logins.reader(username)
        may_delete = deletable and logins.may_change_index(username)
        html = render_table(assistant, user, query or "", sort, may_delete)
        return html, summary(assistant, user), ""

    open_to_all = not logins.required  # the build-time state, until the page loads
    with gr.Row(equal_height=True, elem_classes=["qa-doc-bar"]):
        count = gr.Markdown("", elem_id="qa-doc-count")
        upload = reindex = None
        if settings.ui_allow_upload:
            upload = gr.UploadButton(
                "Upload documents",
                file_count="multiple",
                file_types=allowed_suffixes(),
                variant="primary",
                size="md",
                scale=0,
                min_width=200,
                elem_id="qa-upload",
                visible=open_to_all,
            )
        if settings.ui_allow_reindex:
            reindex = gr.Button(
                "Re-index",
                size="md",
                scale=0,
                min_width=110,
                elem_id="qa-reindex",
                visible=open_to_all,
            )
        reload = gr.Button("Refresh", size="md", scale=0, min_width=100, elem_id="qa-refresh")
    notes = gr.Markdown(
        _notes(settings, upload is not None, reindex is not None), elem_id="qa-doc-notes"
    )
    status = gr.HTML(elem_id="qa-ingest-status")
    with gr.Row(equal_height=True, elem_classes=["qa-doc-bar"]):
        search = gr.Textbox(
            label="Search documents",
            placeholder="Title, file or type",
            max_lines=1,
            scale=3,
            min_width=200,
            elem_id="qa-doc-search",
        )
        sort = gr.Dropdown(
            list(SORTS),
            value=DEFAULT_SORT,
            label="Sort by",
            scale=1,
            min_width=160,
            elem_id="qa-doc-sort",
        )
    with gr.Column(visible=False, elem_id="qa-doc-confirm") as confirm_row:
        confirm_text = gr.HTML("")
        with gr.Row():
            confirm = gr.Button(
                "Delete", variant="stop", size="sm", min_width=80, elem_id="qa-doc-delete"
            )
            cancel = gr.Button("Cancel", size="sm", min_width=80, elem_id="qa-doc-cancel")
    pending = gr.State(None)  # the document id whose deletion awaits confirmation
    table = gr.HTML(
        "",
        js_on_load=(ASSETS / "documents.js").read_text(encoding="utf-8"),
        elem_id="qa-documents",
    )
    buttons = [button for button in (upload, reindex) if button is not None]
    shown = [search, sort]  # what the table is searched for and sorted by, for every refresh

    def controls(username: str | None) -> tuple[Any, ...]:
        allowed = logins.may_change_index(username)
        note = _notes(settings, upload is not None, reindex is not None)
        if buttons and not allowed:
            note = "Only administrators upload, re-index and delete documents."
        return (*(gr.update(visible=allowed) for _ in buttons), note)

    def on_upload(
        files: list[str] | None,
        query: str,
        order: str,
        request: gr.Request,
        progress: gr.Progress = _PROGRESS,
    ) -> tuple[Any, ...]:
        username = username_of(request)
        try:
            if not logins.may_change_index(username):
                return (*refresh(username, query, order)[:2], error_html(_NOT_ALLOWED))
            report, rejected = ingest_uploads(
                assistant, files or [], ingest_progress(progress, names), by=username
            )
            return (*refresh(username, query, order)[:2], report_html(report, names, rejected))
        except AssistantError as exc:
            return (*refresh(username, query, order)[:2], error_html(exc))
        finally:
            # Gradio's temporary copies (in its upload folder, which its file route serves):
            # a kept document lives on in the uploads folder, a refused one should not linger.
            for name in files or []:
                Path(name).unlink(missing_ok=True)

    def on_reindex(
        query: str, order: str, request: gr.Request, progress: gr.Progress = _PROGRESS
    ) -> tuple[Any, ...]:
        username = username_of(request)
        try:
            if not logins.may_change_index(username):
                return (*refresh(username, query, order)[:2], error_html(_NOT_ALLOWED))
            report = assistant.ingest(
                reindex_targets(settings),
                on_progress=ingest_progress(progress, names),
                by=username,
                action="reindex",
                request_id=new_request_id(),
            )
            return (*refresh(username, query, order)[:2], report_html(report, names))
        except AssistantError as exc:
            return (*refresh(username, query, order)[:2], error_html(exc))

    def on_refresh(query: str, order: str, request: gr.Request) -> tuple[Any, ...]:
        return refresh(username_of(request), query, order)

    def on_search(query: str, order: str, request: gr.Request) -> str:
        return str(refresh(username_of(request), query, order)[0])

    def on_ask_delete(evt: PageEvent, request: gr.Request) -> tuple[Any, ...]:
        username = username_of(request)
        hidden = gr.Column(visible=False)
        if not logins.may_change_index(username):
            return None, hidden, "", error_html(_NOT_ALLOWED)
        doc_id = evt.text("doc")
        user = logins.reader(username)
        record = next((r for r in assistant.documents(user) if r.doc_id == doc_id), None)
        if record is None:
            return None, hidden, "", error_html(_GONE)
        return doc_id, gr.Column(visible=True), delete_question(record, settings), ""

    def on_delete(
        doc_id: str | None, query: str, order: str, request: gr.Request
    ) -> tuple[Any, ...]:
        username = username_of(request)
        done: tuple[Any, ...] = (None, gr.Column(visible=False))
        try:
            if not logins.may_change_index(username):
                raise _NOT_ALLOWED
            removed = (
                assistant.delete_document(
                    doc_id, logins.reader(username), request_id=new_request_id()
                )
                if doc_id
                else None
            )
        except AssistantError as exc:  # nothing was deleted: the list stays as it was
            return (*refresh(username, query, order)[:2], error_html(exc), *done)
        if removed is None:
            return (*refresh(username, query, order)[:2], error_html(_GONE), *done)
        note = (
            '<div class="qa-status qa-status-ok" role="status">Deleted '
            f"“{escape(removed.title)}” ({escape(names(removed.source))}).</div>"
        )
        return (*refresh(username, query, order)[:2], note, *done)

    tab = DocumentsTab([table, count, status], refresh, [*buttons, notes], controls, table)
    private: dict[str, Any] = {"api_visibility": "private"}
    # One progress indicator, in the status area (not one over each output): the previous
    # upload's report or error gives way to it, and the new report replaces it.
    working: dict[str, Any] = {**private, "show_progress_on": status}
    if upload is not None:
        tab.changes.append(upload.upload(on_upload, [upload, *shown], tab.outputs, **working))
    if reindex is not None:
        tab.changes.append(reindex.click(on_reindex, shown, tab.outputs, **working))
    tab.changes.append(reload.click(on_refresh, shown, tab.outputs, **private))
    search.change(on_search, shown, table, trigger_mode="always_last", **private)
    sort.change(on_search, shown, table, **private)

    def on_sort_heading(evt: PageEvent, order: str) -> str:
        """A column heading clicked: its sort becomes the "Sort by" choice (whose change
        redraws the table); an unknown name keeps the current one."""
        chosen = evt.text("sort")
        return chosen if chosen in SORTS else order

    table.sort_documents(on_sort_heading, [sort], sort, **private)
    if deletable:  # else not even registered: no API call reaches it
        table.delete_document(
            on_ask_delete, None, [pending, confirm_row, confirm_text, status], **private
        ).then(None, js=_FOCUS_CANCEL)
        tab.changes.append(
            confirm.click(
                on_delete, [pending, *shown], [*tab.outputs, pending, confirm_row], **private
            )
        )
    cancel.click(lambda: (None, gr.Column(visible=False)), None, [pending, confirm_row], **private)
    return tab


# The confirmation shows above the table: bring it into view, ready to be answered.
_FOCUS_CANCEL = """() => { const row = document.querySelector('#qa-doc-confirm');
  if (row) { row.scrollIntoView({block: 'nearest'});
    document.querySelector('#qa-doc-cancel')?.focus(); } }"""
_GONE = AssistantError("that document is no longer in the index")
_NOT_ALLOWED = AssistantError("only administrators upload, re-index and delete documents")


def _notes(settings: Settings, upload: bool, reindex: bool) -> str:
    notes = []
    if upload:
        notes.append(
            f"Upload {', '.join(allowed_suffixes())} files of up to {settings.max_upload_mb:g} MB "
            "each; they are saved on the server and indexed at once."
        )
    if reindex:
        notes.append("Re-index brings the index in line with the source folders and uploads.")
    if not upload and not reindex:
        notes.append("This server is read-only: uploading and re-indexing are switched off.")
    return " ".join(notes)
