"""The source panel: the cited span in context, the whole document, untrusted input."""

from __future__ import annotations

import re
from html import unescape
from pathlib import Path

import pytest

from assistant import Assistant
from assistant.types import section_at
from assistant.ui.names import SourceNames
from assistant.ui.render import quote_key
from assistant.ui.viewer import SourceRef, context_bounds, render_source
from tests.conftest import make_settings
from tests.test_loaders import _pdf

MARK = re.compile(r'<mark class="qa-quote">(.*?)</mark>', re.DOTALL)


def ref_data(doc: str, start: int, end: int, **more: object) -> dict[str, object]:
    return {"doc": doc, "start": str(start), "end": str(end), **more}


@pytest.fixture(scope="module")
def cited(seed_assistant: Assistant) -> tuple[Assistant, SourceRef, str]:
    answer = seed_assistant.ask(
        "Which tech giants had their Hong Kong stablecoin plans stopped by Beijing?"
    )
    citation = answer.citations[-1]
    assert citation.doc_id
    ref = SourceRef.from_event(
        ref_data(citation.doc_id, citation.start, citation.end, n="2", q=quote_key(citation.quote))
    )
    return seed_assistant, ref, citation.quote


def test_passage_view_highlights_exactly_the_quote(cited: tuple[Assistant, SourceRef, str]) -> None:
    assistant, ref, quote = cited
    html = render_source(assistant.document_text(ref.doc_id), ref, SourceNames(assistant.settings))
    assert [unescape(m) for m in MARK.findall(html)] == [quote]
    # The section the quote sits under is named (which one depends on the answer's choice).
    _, headings, _ = assistant.catalog.document_structure(ref.doc_id)
    section = section_at(headings, ref.start)
    assert section
    assert f"§ {section}" in unescape(html)
    assert "seeds/000_4f69a52559980107.txt" in html
    assert "changed since" not in html
    assert 'href="#whole-' in html  # the way to open the whole document


def test_whole_document_view_shows_all_text(cited: tuple[Assistant, SourceRef, str]) -> None:
    assistant, ref, quote = cited
    whole = SourceRef.from_event(ref_data(ref.doc_id, ref.start, ref.end, view="document"))
    names = SourceNames(assistant.settings)
    html = render_source(assistant.document_text(ref.doc_id), whole, names)
    text, headings, _ = assistant.catalog.document_structure(ref.doc_id)
    plain = unescape(re.sub(r"<[^>]+>", "", html))
    assert text.strip()[-80:] in plain
    assert text[:60] in plain
    assert [unescape(m) for m in MARK.findall(html)] == [quote]
    assert html.count('class="qa-heading"') >= len(headings) - 2
    assert 'href="#cite-' in html  # back to the passage


def test_a_changed_document_is_flagged(cited: tuple[Assistant, SourceRef, str]) -> None:
    assistant, ref, _ = cited
    stale = SourceRef.from_event(ref_data(ref.doc_id, ref.start, ref.end, q="0" * 12))
    names = SourceNames(assistant.settings)
    assert "changed since" in render_source(assistant.document_text(ref.doc_id), stale, names)
    beyond = SourceRef.from_event(ref_data(ref.doc_id, 10**8, 10**8 + 5))
    assert "changed since" in render_source(assistant.document_text(ref.doc_id), beyond, names)
    gone = SourceRef.from_event(ref_data("f" * 20, 0, 5))
    assert assistant.document_text(gone.doc_id) is None
    assert "no longer in the index" in render_source(None, gone, names)


@pytest.mark.parametrize(
    "data",
    [
        {"doc": "../../etc/passwd", "start": "0", "end": "5"},
        {"doc": "/etc/passwd", "start": "0", "end": "5"},
        {"doc": "0123abcd", "start": "-1", "end": "5"},
        {"doc": "0123abcd", "start": "9", "end": "5"},
        {"doc": "0123abcd", "start": "1e3", "end": "5000"},
        {"doc": "0123abcd", "start": True, "end": "5"},
        {"doc": "0123abcd", "start": "0", "end": "9" * 20},
        {},
    ],
)
def test_untrusted_references_are_rejected(data: dict[str, object]) -> None:
    with pytest.raises(ValueError, match=r"^(bad document id|bad span|not a number)$"):
        SourceRef.from_event(data)


def test_document_markup_is_shown_as_text(tmp_path: Path) -> None:
    doc = tmp_path / "hostile.txt"
    doc.write_text(
        "Intro line.\nThe canary code is <script>alert(1)</script> <img src=x onerror=alert(2)> "
        "4711 for the drill.\nOutro line.\n"
    )
    assistant = Assistant(make_settings(tmp_path / "index"))
    assistant.ingest([doc])
    record = assistant.documents()[0]
    text, _, _ = assistant.catalog.document_structure(record.doc_id)
    start = text.index("The canary")
    end = text.index("drill.") + len("drill.")
    html = render_source(
        assistant.document_text(record.doc_id),
        SourceRef(record.doc_id, start, end),
        SourceNames(assistant.settings),
    )
    assert "<script" not in html
    assert "<img" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert [unescape(m) for m in MARK.findall(html)] == [text[start:end]]


def test_context_is_cut_at_paragraphs() -> None:
    text = "A" * 900 + "\nKeep this paragraph. The quote is here. And this.\n" + "B" * 900
    start = text.index("The quote")
    lo, hi = context_bounds(text, start, start + len("The quote is here."), radius=100)
    assert text[lo:hi] == "Keep this paragraph. The quote is here. And this."


def test_a_page_that_begins_in_the_context_is_announced(tmp_path: Path) -> None:
    # The meta line names the quote's page; context drawn from the page before it is set off
    # by where that page ends, not shown as if it were the cited page's text.
    doc = tmp_path / "manual.pdf"
    doc.write_bytes(
        _pdf(["Front matter on the first page.", "The expense limit for hotels is 180 euros."])
    )
    assistant = Assistant(make_settings(tmp_path / "index"))
    assistant.ingest([doc])
    record = assistant.documents()[0]
    document = assistant.document_text(record.doc_id)
    assert document is not None
    assert len(document.page_starts) == 2
    start = document.text.index("The expense")
    ref = SourceRef(record.doc_id, start, document.text.index("euros.") + len("euros."))
    names = SourceNames(assistant.settings)
    for view in (ref, SourceRef(ref.doc_id, ref.start, ref.end, whole=True)):
        html = render_source(document, view, names)
        assert "page 2" in html  # the quote's page, in the meta line
        front, rest = html.split('<span class="qa-page-break">Page 2</span>')
        assert "Front matter" in front
        assert "The expense limit" in rest
        assert "Front matter" not in rest
    assert html.count("qa-page-break") == 1  # no break drawn before the first page
