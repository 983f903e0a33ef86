"""HTML for chat messages: answers with clickable [n] citations, refusals, errors, streaming text.

Every piece of answer or document text is HTML-escaped here: documents are untrusted input.
Each message is one `<div>` without blank lines, so the chat's Markdown renderer passes it
through as a raw HTML block instead of reading Markdown syntax inside document text.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Sequence
from html import escape

from assistant.citations import RELATED_HEADING
from assistant.text import PREVIEW_CHARS, one_line
from assistant.types import Answer, AnswerSentence, Citation, RelatedPassage
from assistant.ui.markdown import ChipMaker, Unsupported, render_blocks

REPHRASE_HINT = (
    "Try rephrasing with the words your documents use, name the document or topic, "
    "or ask about something they cover."
)


# Every ASCII punctuation mark: CommonMark (and the chat's renderer) draws one escaped with a
# backslash as the mark itself.
_PUNCTUATION = re.compile(r"([!-/:-@\[-`{-~])")
_ESCAPED_PUNCTUATION = re.compile(r"\\([!-/:-@\[-`{-~])")


def shown_question(question: str) -> str:
    """A person's question as the chat's Markdown renderer draws it letter for letter: every
    punctuation mark escaped, so `*args*` is not italics, `<img>` no picture and `# Setup` no
    heading."""
    return _PUNCTUATION.sub(r"\\\1", question)


def typed_question(shown: str) -> str:
    """The question that `shown_question` made `shown` from."""
    return _ESCAPED_PUNCTUATION.sub(r"\1", shown)


def quote_key(quote: str) -> str:
    """A short fingerprint of a quote, so the viewer can tell if a document changed since."""
    return hashlib.sha1(quote.encode("utf-8")).hexdigest()[:12]


def render_answer(answer: Answer) -> str:
    """The final answer: searched-for line, notice, text with [n] links, sources, actions."""
    if answer.refused:
        return render_refusal(answer)
    citations = {citation.id: citation for citation in answer.citations}
    body = _render_body(answer, citations)
    unsupported = any(not sentence.supported for sentence in answer.sentences)
    parts = [
        '<div class="qa-msg qa-answer">',
        _searched_for(answer.standalone_question),
        _notice(answer.notice),
        f'<div class="qa-text">{body}</div>',
    ]
    if unsupported:
        parts.append(
            '<div class="qa-legend"><span class="qa-flag">unsupported</span> '
            "No cited passage supports the marked sentence; check it before relying on it.</div>"
        )
    parts.append(_sources(answer.citations))
    parts.append(_related(answer.related))
    parts.append(_actions())
    parts.append("</div>")
    return "".join(parts)


def render_refusal(answer: Answer) -> str:
    """A refusal: styled apart from answers, with a hint on how to rephrase."""
    return "".join(
        [
            '<div class="qa-msg qa-refusal" role="note">',
            _searched_for(answer.standalone_question),
            '<div class="qa-refusal-title">Not found in the documents</div>',
            f'<div class="qa-text">{render_blocks(answer.text, _no_links)}</div>',
            f'<div class="qa-hint">{escape(REPHRASE_HINT)}</div>',
            _notice(answer.notice),
            _related(answer.related, refused=True),
            "</div>",
        ]
    )


def render_streaming(text: str, searched_for: str | None = None) -> str:
    """An answer still being written, drawn as the final one will be (blocks, [n] chips not
    yet links), and a caret."""
    if not text.strip():
        status = '<span class="qa-working">Searching the documents…</span>'
    else:
        caret = '<span class="qa-caret" aria-hidden="true"></span>'
        status = render_blocks(text, _pending, closed=False) + caret
    return "".join(
        [
            '<div class="qa-msg qa-answer qa-streaming" aria-busy="true">',
            _searched_for(searched_for),
            f'<div class="qa-text">{status}</div>',
            "</div>",
        ]
    )


def render_stopped() -> str:
    """An answer stopped before it was ready (its text never shown as an answer: unchecked)."""
    return (
        '<div class="qa-msg qa-stopped" role="note">'
        '<div class="qa-text">Stopped before the answer was ready; ask again to get it.</div>'
        "</div>"
    )


def render_error(message: str) -> str:
    """A problem that stopped the answer (e.g. no index yet, a question too long)."""
    return (
        '<div class="qa-msg qa-error" role="alert">'
        f'<div class="qa-refusal-title">Could not answer</div>{_text(message)}</div>'
    )


def _render_body(answer: Answer, citations: dict[int, Citation]) -> str:
    """The answer text as blocks with [n] links, unsupported sentences flagged."""
    located = list(_locate(answer.text, answer.sentences))
    spans = [
        Unsupported(start, start + len(sentence.text))
        for sentence, start in located
        if start >= 0 and not sentence.supported
    ]
    body = render_blocks(answer.text, _links(citations), spans)
    for sentence, start in located:
        if start < 0:  # not found verbatim in the text: show it flagged at the end
            whole = [Unsupported(0, len(sentence.text))] if not sentence.supported else []
            body += render_blocks(sentence.text, _links(citations), whole)
    return body


def _locate(text: str, sentences: Iterable[AnswerSentence]) -> Iterable[tuple[AnswerSentence, int]]:
    cursor = 0
    for sentence in sentences:
        start = text.find(sentence.text, cursor) if sentence.text else -1
        if start >= 0:
            cursor = start + len(sentence.text)
        yield sentence, start


def _links(citations: dict[int, Citation]) -> ChipMaker:
    """Citation links for markers naming known citations (unknown numbers stay text)."""

    def chips(numbers: Sequence[int]) -> str | None:
        if not all(number in citations for number in numbers):
            return None
        return "".join(cite_link(citations[number]) for number in numbers)

    return chips


def _pending(numbers: Sequence[int]) -> str:
    """A marker in text still streaming: the chip's look, not yet a link (not yet checked)."""
    return "".join(f'<span class="qa-cite qa-cite-pending">[{number}]</span>' for number in numbers)


def _no_links(numbers: Sequence[int]) -> None:
    return None


def cite_link(citation: Citation, label: str | None = None) -> str:
    """A clickable `[n]` that opens the cited passage in the side panel.

    The chat's sanitizer drops data attributes, so the reference travels in the fragment:
    `#cite-<doc_id>-<start>-<end>-<n>-<quote key>` (read by assets/viewer.js).
    """
    text = label if label is not None else f"[{citation.id}]"
    return (
        f'<a class="qa-cite" href="{cite_href(citation)}" role="button"'
        f' title="{escape(_where(citation))}">{escape(text)}</a>'
    )


def cite_href(citation: Citation) -> str:
    """The fragment link that names a citation's span."""
    return span_href(citation.doc_id, citation.start, citation.end, citation.id, citation.quote)


def span_href(doc_id: str | None, start: int, end: int, number: int | None, text: str) -> str:
    """The fragment link that opens a document span in the side panel (no number: no [n])."""
    shown = "" if number is None else str(number)
    return f"#cite-{escape(doc_id or '')}-{start}-{end}-{shown}-{quote_key(text)}"


def _related(passages: Sequence[RelatedPassage], *, refused: bool = False) -> str:
    """Where to read on, folded: the best sentence of each retrieved passage the answer does
    not quote, each opening in the side panel as a citation does (under a refusal, those of
    the closest passages its search found)."""
    if not passages:
        return ""
    items = []
    for passage in passages:
        preview = one_line(passage.text, PREVIEW_CHARS)
        href = span_href(passage.doc_id, passage.start, passage.end, None, passage.text)
        # Named by its section (what it is about), under it the document, page and file.
        title = passage.title or passage.source
        label = passage.section if passage.section and passage.section != title else title
        where = [title] if label != title else []
        where += [] if passage.page is None else [f"p. {passage.page}"]
        where.append(passage.source)
        items.append(
            f'<li class="qa-related-item"><a class="qa-cite qa-related-link" href="{href}" '
            f'role="button">{escape(label)}</a> '
            f'<span class="qa-source-where">{escape(" · ".join(where))}</span>'
            f'<span class="qa-source-quote">{escape(preview)}</span></li>'
        )
    summary = "Closest passages found" if refused else RELATED_HEADING
    return (
        f'<details class="qa-sources qa-related"><summary>{escape(summary)} '
        f"({len(items)})</summary><ol>{''.join(items)}</ol></details>"
    )


def _sources(citations: Iterable[Citation]) -> str:
    items = []
    for citation in citations:
        quote = one_line(citation.quote, PREVIEW_CHARS)
        items.append(
            f'<li class="qa-source">{cite_link(citation)} '
            f'<span class="qa-source-title">{escape(citation.title or citation.source)}</span>'
            f'<span class="qa-source-where">{escape(citation.location())}</span>'
            f'<span class="qa-source-quote">“{escape(quote)}”</span></li>'
        )
    if not items:
        return ""
    return (
        '<details class="qa-sources" open><summary>Sources</summary>'
        f"<ol>{''.join(items)}</ol></details>"
    )


def _actions() -> str:
    # An <a>, not a <button>: the chat's sanitizer removes buttons. assets/viewer.js copies
    # the answer text and sources from the message itself.
    return (
        '<div class="qa-actions">'
        '<a class="qa-copy" href="#copy" role="button">Copy answer</a></div>'
    )


# The "searched for" line shows a rewritten follow-up; a long one is cut at a word.
SEARCHED_FOR_CHARS = 160


def _cut(text: str) -> str:
    head = text[:SEARCHED_FOR_CHARS].rsplit(" ", 1)[0].rstrip(" ,;:")
    return head + " …"


def _searched_for(standalone: str | None) -> str:
    if not standalone:
        return ""
    shown = standalone if len(standalone) <= SEARCHED_FOR_CHARS else _cut(standalone)
    return f'<div class="qa-searched">Searched for: <q>{escape(shown)}</q></div>'


def _notice(notice: str | None) -> str:
    if not notice:
        return ""
    return f'<div class="qa-notice" role="status">{escape(notice)}</div>'


def _where(citation: Citation, *, with_source: bool = False) -> str:
    parts = [citation.title or citation.source]
    if citation.section and citation.section != citation.title:
        parts.append(citation.section)
    if citation.page is not None:
        parts.append(f"page {citation.page}")
    if with_source and citation.title:
        parts.append(citation.source)
    return " — ".join(parts)


def _text(text: str) -> str:
    """Escaped text; line breaks kept as <br> (never blank lines, see the module docstring)."""
    return "<br>".join(escape(line) for line in text.replace("\r\n", "\n").split("\n"))
