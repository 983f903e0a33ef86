"""The Quality tab: what staff asked and reported, and a reported answer made a golden question.

For signed-in people who read everything (admins and the settings' logins); nobody else sees
the tab or can call its handlers, and a chat without logins has none (`assistant quality` on the
command line serves it). Everything goes through `Assistant.quality`, `Assistant.retrieve` and
`Assistant.promote_feedback`; golden files are written under `<data_dir>/golden/` only, by a
plain file name.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from html import escape
from pathlib import Path
from typing import Any

import gradio as gr

from assistant.core import Assistant
from assistant.errors import AssistantError
from assistant.quality import QualityReport, ReportedAnswer
from assistant.ui.auth import WebLogins, username_of
from assistant.ui.names import SourceNames

PERIODS = {"last 7 days": 7, "last 30 days": 30, "last 90 days": 90, "last year": 365}
PASSAGES_SHOWN = 3
CARDS_SHOWN = 30  # newest first; each card retrieves its question's passages again
_GOLDEN_NAME = re.compile(r"[A-Za-z0-9][\w.-]{0,80}\.(?:jsonl|ya?ml)")


@dataclass
class QualityTab:
    """The tab's components; `on_load` shows and fills it for reviewers when a page loads."""

    tab: gr.Tab
    summary: gr.HTML
    reported: gr.HTML
    choice: gr.Dropdown
    on_load: Callable[[gr.Request], tuple[Any, ...]] | None = None  # wired by build_quality_tab

    @property
    def outputs(self) -> list[Any]:
        return [self.summary, self.reported, self.choice]


def may_review(logins: WebLogins, request: gr.Request | None) -> bool:
    """Whether this request is from someone signed in who reads everything."""
    return logins.administers(username_of(request))


def golden_path(assistant: Assistant, name: str) -> Path:
    """The golden file a form's name stands for, under `<data_dir>/golden/`."""
    name = name.strip()
    if not _GOLDEN_NAME.fullmatch(name) or ".." in name:
        raise AssistantError(
            "a golden file name such as reported.jsonl (letters, digits, '.', '-', '_'; "
            ".jsonl, .yaml or .yml)"
        )
    return assistant.settings.data_dir / "golden" / name


def build_quality_tab(assistant: Assistant, logins: WebLogins) -> QualityTab:
    """The tab, inside the Blocks being built (hidden until `visibility` shows it)."""
    private: dict[str, Any] = {"api_visibility": "private"}
    with gr.Tab("Quality", id="quality", elem_id="qa-quality-tab", visible=False) as tab:
        with gr.Row():
            period = gr.Dropdown(
                list(PERIODS), value="last 30 days", label="Period", elem_id="qa-q-period"
            )
            group = gr.Textbox(label="Group (optional)", elem_id="qa-q-group")
            collection = gr.Textbox(label="Collection (optional)", elem_id="qa-q-collection")
            refresh = gr.Button("Refresh", elem_id="qa-q-refresh")
        summary = gr.HTML(elem_id="qa-q-summary")
        reported = gr.HTML(elem_id="qa-q-reported")
        gr.Markdown("### Make a reported answer a golden question")
        with gr.Row():
            choice = gr.Dropdown([], label="Reported answer", elem_id="qa-q-choice")
            golden = gr.Textbox(
                "reported.jsonl", label="Golden file (under data/golden/)", elem_id="qa-q-file"
            )
        with gr.Row():
            terms = gr.Textbox(
                label="Key terms a right answer holds (comma-separated)", elem_id="qa-q-terms"
            )
            source = gr.Textbox(label="Document that holds it (optional)", elem_id="qa-q-source")
            unanswerable = gr.Checkbox(
                label="The documents do not answer it", elem_id="qa-q-unanswerable"
            )
        add = gr.Button("Add to golden set", variant="primary", elem_id="qa-q-add")
        status = gr.Markdown(elem_id="qa-q-status")
    view = QualityTab(tab, summary, reported, choice)

    def fill(period_name: str, group_name: str, collection_name: str, request: gr.Request):  # type: ignore[no-untyped-def]
        if not may_review(logins, request):
            raise gr.Error("The Quality tab is for admins.")
        since = time.time() - PERIODS.get(period_name, 30) * 86400
        try:
            report = assistant.quality(
                since,
                group=group_name.strip() or None,
                collection=collection_name.strip() or None,
            )
        except AssistantError as exc:
            raise gr.Error(str(exc)) from exc
        return (
            summary_html(report),
            reported_html(assistant, report),
            gr.Dropdown(
                choices=[(_label(item), item.feedback_id) for item in report.reported],
                value=report.reported[0].feedback_id if report.reported else None,
            ),
        )

    inputs = [period, group, collection]
    refresh.click(fill, inputs, view.outputs, **private)
    period.change(fill, inputs, view.outputs, **private)

    def promote(  # type: ignore[no-untyped-def]
        feedback_id: str | None,
        file_name: str,
        key_terms: str,
        document: str,
        none: bool,
        request: gr.Request,
    ):
        if not may_review(logins, request):
            raise gr.Error("The Quality tab is for admins.")
        if not feedback_id:
            return "Choose a reported answer first."
        try:
            path = golden_path(assistant, file_name)
            item = assistant.promote_feedback(
                feedback_id,
                path,
                key_terms=[t for t in key_terms.split(",") if t.strip()],
                sources=[document.strip()] if document.strip() else [],
                unanswerable=none,
            )
        except AssistantError as exc:
            return f"Not added: {escape(str(exc))}"
        return (
            f"Added **{escape(item.id)}** to `{escape(path.name)}`; run "
            f"`assistant eval {escape(str(path))}` to score it."
        )

    add.click(promote, [choice, golden, terms, source, unanswerable], status, **private)

    def on_load(request: gr.Request):  # type: ignore[no-untyped-def]
        if not may_review(logins, request):
            return gr.Tab(visible=False), "", "", gr.Dropdown(choices=[], value=None)
        return gr.Tab(visible=True), *fill("last 30 days", "", "", request)

    view.on_load = on_load
    return view


def summary_html(report: QualityReport) -> str:
    """Counts, questions per day as bars, and the slowest answers."""
    refused = "" if report.refusal_rate is None else f" ({report.refusal_rate:.0%} refused)"
    votes = report.thumbs_up + report.thumbs_down
    down = "" if not votes else f" ({report.thumbs_down_rate or 0:.0%} down)"
    most = max((count for _, count in report.per_day), default=0)
    bars = "".join(
        f'<div class="qa-q-bar"><span class="qa-q-day">{escape(day)}</span>'
        f'<span class="qa-q-fill" style="width:{max(2, round(90 * count / most))}%"></span>'
        f"<span>{count}</span></div>"
        for day, count in report.per_day
    )
    slow = "".join(
        f"<li>{entry.total_ms:.0f} ms: {escape(_short(entry.question))}</li>"
        for entry in report.slowest
    )
    return (
        f'<p class="qa-q-counts"><strong>{report.questions}</strong> '
        f"{'question' if report.questions == 1 else 'questions'}{refused}; "
        f"<strong>{report.thumbs_up}</strong> thumbs up, <strong>{report.thumbs_down}</strong> "
        f"thumbs down{down}.</p>"
        + (f'<div class="qa-q-bars" aria-label="Questions per day">{bars}</div>' if bars else "")
        + (f"<p>Slowest answers:</p><ol>{slow}</ol>" if slow else "")
        + "".join(f"<p>{escape(note)}</p>" for note in report.notes)
    )


def reported_html(assistant: Assistant, report: QualityReport) -> str:
    """Every reported answer with its comment, citations and the passages retrieved now (files
    named as the chat names them, never by their server path)."""
    if not report.reported:
        return "<p>No thumbs-down in this period.</p>"
    names = SourceNames(assistant.settings)
    shown = report.reported[:CARDS_SHOWN]
    more = len(report.reported) - len(shown)
    return "".join(_card(assistant, item, names) for item in shown) + (
        f"<p>{more} older reports not shown: narrow the period, or run "
        "<code>assistant quality --json</code>.</p>"
        if more > 0
        else ""
    )


def _card(assistant: Assistant, item: ReportedAnswer, names: SourceNames) -> str:
    asked = item.standalone_question or item.question
    what = "should have been answered" if item.should_have_answered else "thumbs down"
    cited = "".join(
        f"<li>[{escape(str(c.get('id')))}] {escape(names(str(c.get('source'))))}"
        + (f" p. {escape(str(c['page']))}" if c.get("page") else "")
        + "</li>"
        for c in item.citations
    )
    try:
        passages = assistant.retrieve(asked, PASSAGES_SHOWN).passages
    except AssistantError:
        passages = ()
    retrieved = "".join(
        f"<li>{escape(names(p.source))}: {escape(_short(p.text, 240))}</li>" for p in passages
    )
    return (
        f'<article class="qa-q-card" data-feedback-id="{escape(item.feedback_id)}">'
        f"<p><strong>{escape(what)}</strong>, {escape(item.reported_at[:16])} by "
        f"{escape(item.user or 'someone')} · <code>{escape(item.feedback_id)}</code></p>"
        + (
            "<details><summary>Conversation before it</summary>"
            + "".join(
                f"<p><em>{'Asked' if m.role == 'user' else 'Answered'}:</em> "
                f"{escape(_short(m.content, 300))}</p>"
                for m in item.history
            )
            + "</details>"
            if item.history
            else ""
        )
        + f"<p><em>Question:</em> {escape(asked)}</p>"
        f"<p><em>Answer:</em> {escape(_short(item.answer, 600))}</p>"
        + (f"<p><em>Comment:</em> {escape(item.comment)}</p>" if item.comment else "")
        + (f"<p>Cited:</p><ul>{cited}</ul>" if cited else "")
        + (f"<p>Retrieved now:</p><ul>{retrieved}</ul>" if retrieved else "")
        + "</article>"
    )


def _label(item: ReportedAnswer) -> str:
    return f"{item.reported_at[:10]} {_short(item.standalone_question or item.question, 70)}"


def _short(text: str, limit: int = 160) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"
