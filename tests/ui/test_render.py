"""Chat message HTML: escaping, citation links, unsupported sentences, refusals."""

from __future__ import annotations

import re
from html import escape
from html.parser import HTMLParser

import pytest

from assistant import Answer, AnswerSentence, Assistant, Citation, RelatedPassage
from assistant.ui.render import (
    REPHRASE_HINT,
    cite_href,
    quote_key,
    render_answer,
    render_error,
    render_streaming,
    shown_question,
    span_href,
    typed_question,
)

HOSTILE = '<script>alert("x")</script><img src=x onerror=alert(1)> **bold** $$x$$'


class Tags(HTMLParser):
    """Collects the tags and attributes of an HTML fragment."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))


def tags(html: str) -> list[tuple[str, dict[str, str | None]]]:
    parser = Tags()
    parser.feed(html)
    return parser.tags


def citation(number: int, quote: str, **changes: object) -> Citation:
    data: dict[str, object] = {
        "id": number,
        "source": "docs/a.txt",
        "start": 10 * number,
        "end": 10 * number + len(quote),
        "quote": quote,
        "score": 0.9,
        "title": "A",
        "doc_id": "0123456789abcdef0123",
    }
    data.update(changes)
    return Citation.model_validate(data)


def test_real_answer_links_every_marker_to_its_citation(seed_assistant: Assistant) -> None:
    answer = seed_assistant.ask(
        "Which tech giants had their Hong Kong stablecoin plans stopped by Beijing?"
    )
    html = render_answer(answer)
    hrefs = [attrs["href"] for tag, attrs in tags(html) if attrs.get("class") == "qa-cite"]
    markers = re.findall(r"\[(\d+)\]", answer.text)
    assert markers, answer.text
    by_id = {c.id: c for c in answer.citations}
    # Each marker in the text and each source in the list links to exactly its citation.
    expected = [cite_href(by_id[int(n)]) for n in markers] + [
        cite_href(c) for c in answer.citations
    ]
    assert hrefs == expected
    first = answer.citations[0]
    assert cite_href(first) == (
        f"#cite-{first.doc_id}-{first.start}-{first.end}-{first.id}-{quote_key(first.quote)}"
    )


def test_passages_found_but_not_quoted_are_listed_under_the_sources(
    seed_assistant: Assistant,
) -> None:
    answer = seed_assistant.ask("What drives demand for Bitcoin and other hard-money assets?")
    assert not answer.refused
    assert answer.related
    html = render_answer(answer)
    sources, related = html.index('class="qa-sources"'), html.index("qa-sources qa-related")
    assert sources < related  # the citations first, then what else was found
    assert "<summary>Also found" in html
    links = [attrs for tag, attrs in tags(html) if attrs.get("class") == "qa-cite qa-related-link"]
    assert [link["href"] for link in links] == [
        f"#cite-{p.doc_id}-{p.start}-{p.end}--{quote_key(p.text)}" for p in answer.related
    ]
    for passage in answer.related:  # named by its section, else by its document
        assert f">{passage.section or passage.title}</a>" in html


def test_document_text_is_escaped_everywhere() -> None:
    answer = Answer(
        question=HOSTILE,
        text=f"{HOSTILE} [1].",
        citations=(citation(1, HOSTILE, title=HOSTILE, section=HOSTILE, source=HOSTILE),),
        sentences=(AnswerSentence(text=f"{HOSTILE} [1].", citations=(1,)),),
        standalone_question=HOSTILE,
        notice=HOSTILE,
        confidence=0.9,
        related=(
            RelatedPassage(
                source=HOSTILE, start=0, end=len(HOSTILE), text=HOSTILE, title=HOSTILE,
                section=HOSTILE, doc_id="0123456789abcdef0123",
            ),
        ),
    )  # fmt: skip
    assert 'class="qa-notice"' in render_answer(answer)
    assert "qa-related" in render_answer(answer)
    for html in (render_answer(answer), render_streaming(HOSTILE), render_error(HOSTILE)):
        found = {tag for tag, _ in tags(html)}
        assert not found & {"script", "img"}
        assert not any(name.startswith("on") for _, attrs in tags(html) for name in attrs)
        assert "&lt;script&gt;" in html


def test_messages_have_no_blank_lines() -> None:
    """A blank line would end the raw HTML block and let Markdown parse document text."""
    text = "First line.\n\nSecond paragraph [1].\r\n\r\nThird."
    answer = Answer(
        question="q",
        text=text,
        citations=(citation(1, "Second paragraph"),),
        confidence=0.9,
    )
    for html in (render_answer(answer), render_streaming(text)):
        assert "\n" not in html
        assert "<p>First line.</p><p>Second paragraph" in html


def test_unsupported_sentences_are_marked() -> None:
    answer = Answer(
        question="q",
        text="Supported claim [1]. Invented claim.",
        citations=(citation(1, "Supported claim"),),
        sentences=(
            AnswerSentence(text="Supported claim [1].", citations=(1,), support=0.9),
            AnswerSentence(text="Invented claim.", supported=False, support=0.1),
        ),
        confidence=0.8,
    )
    html = render_answer(answer)
    flagged = re.findall(r'<span class="qa-unsupported"[^>]*>(.*?)</span>', html)
    assert flagged == ["Invented claim."]
    assert html.count('class="qa-unsupported"') == 1
    assert html.count('<span class="qa-flag">unsupported</span>') == 2  # the sentence, the legend
    assert "qa-legend" in html


def test_sentence_missing_from_text_is_still_shown_flagged() -> None:
    answer = Answer(
        question="q",
        text="Claim [1].",
        citations=(citation(1, "Claim"),),
        sentences=(AnswerSentence(text="Removed sentence.", supported=False),),
        confidence=0.8,
    )
    html = render_answer(answer)
    assert "Removed sentence." in html
    assert "qa-unsupported" in html


def test_unknown_marker_numbers_stay_text() -> None:
    answer = Answer(
        question="q",
        text="A [1] and [7] and [1, 2].",
        citations=(citation(1, "A"), citation(2, "B")),
    )
    html = render_answer(answer)
    assert "[7]" in html
    assert html.count('class="qa-cite"') == 3 + 2  # [1] and [1, 2] in the text, two sources


def test_refusal_looks_like_a_refusal(seed_assistant: Assistant) -> None:
    answer = seed_assistant.ask("What is the boiling point of mercury on Mars?")
    assert answer.refused
    html = render_answer(answer)
    assert 'class="qa-msg qa-refusal"' in html
    assert 'class="qa-cite"' not in html  # no [n]: a refusal cites nothing
    assert REPHRASE_HINT in html
    # What the search found comes folded under it, each passage opening in the panel.
    assert answer.related
    assert '<details class="qa-sources qa-related"><summary>Closest passages found' in html
    hrefs = [attrs["href"] for tag, attrs in tags(html) if tag == "a"]
    assert hrefs == [span_href(p.doc_id, p.start, p.end, None, p.text) for p in answer.related]


def test_follow_up_shows_what_was_searched(seed_assistant: Assistant) -> None:
    history = [{"role": "user", "content": "Which companies had to halt stablecoin plans?"}]
    answer = seed_assistant.ask("And who reported it first?", history=history)
    assert answer.standalone_question
    html = render_answer(answer)
    assert 'class="qa-searched"' in html
    assert answer.standalone_question in html
    assert "context:" not in html


def test_a_long_rewritten_question_is_cut_at_a_word() -> None:
    long = "How do I raise the limit " + "of the connection pool " * 12 + "on a replica?"
    answer = Answer(question="And on a replica?", text="x [1].", standalone_question=long)
    html = render_answer(answer)
    shown = html.split("<q>")[1].split("</q>")[0]
    assert shown.endswith(" …")
    assert len(shown) <= 162
    assert long.startswith(shown[:-2])


def blocks(html: str) -> list[str]:
    """The block tags of a message's text, in order."""
    body = html.split('<div class="qa-text">', 1)[1].split("</div>", 1)[0]
    return [tag for tag, _ in tags(body) if tag in {"h4", "p", "ul", "ol", "li", "pre"}]


STRUCTURED = (
    "Installing the client\n"
    "Run the installer from the shared drive [1].\n\n"
    "Check the index with the following command:\n"
    "$ assistant ingest --rebuild [2]\n\n"
    "Before you start:\n"
    "- close the old client\n"
    "- save your work [3]."
)


def structured_answer() -> Answer:
    return Answer(
        question="q",
        text=STRUCTURED,
        citations=(citation(1, "a"), citation(2, "b"), citation(3, "c")),
        confidence=0.9,
    )


@pytest.mark.parametrize(
    ("text", "code"),
    [
        (
            "To install it, run:\n\n```console\n$ sudo apt install client\n``` [1]",
            "$ sudo apt install client",
        ),
        # A "````" block holding a "```" example is one block, closed by the longer fence:
        # the rule the evidence windows are cut by (CommonMark; before, any line starting with
        # three backticks closed it).
        (
            "Nest fences like this:\n\n````markdown\n```toml\nkey = 1\n```\n```` [1]",
            "```toml\nkey = 1\n```",
        ),
    ],
)
def test_a_fenced_block_keeps_the_marker_after_its_closing_fence(text: str, code: str) -> None:
    answer = Answer(question="q", text=text, citations=(citation(1, "a"),), confidence=0.9)
    html = render_answer(answer)
    assert blocks(html) == ["p", "pre", "p"]
    assert f'<pre class="qa-code"><code>{escape(code)}</code></pre>' in html.replace("<br>", "\n")
    assert re.search(r'</pre><p class="qa-code-cite"> <a class="qa-cite"[^>]*>\[1\]</a>', html)


@pytest.mark.parametrize("text", ["```\nprint(1)\n```python\n```", "~~~\n```\nx = 1\n~~~"])
def test_a_fence_line_that_cannot_close_the_block_is_code(text: str) -> None:
    # "```python" does not end a "```" block; a "~~~" block holds "```" lines.
    assert blocks(render_answer(Answer(question="q", text=text, confidence=0.9))) == ["pre"]


def test_headings_lists_and_code_are_blocks() -> None:
    html = render_answer(structured_answer())
    assert blocks(html) == ["h4", "p", "p", "pre", "p", "p", "ul", "li", "li"]
    # The heading does not run into the sentence after it.
    assert '<h4 class="qa-h">Installing the client</h4><p>Run the installer' in html
    # The command is code, verbatim; its citation chip goes below the block.
    assert '<pre class="qa-code"><code>$ assistant ingest --rebuild</code></pre>' in html
    assert re.search(r'</pre><p class="qa-code-cite"> <a class="qa-cite"[^>]*>\[2\]</a>', html)
    assert "<li>close the old client</li><li>save your work <a" in html


def test_streamed_text_is_drawn_like_the_final_answer() -> None:
    final = render_answer(structured_answer())
    streamed = render_streaming(STRUCTURED)
    assert blocks(streamed) == blocks(final)
    # Markers are chips while streaming too, links only once the answer is checked.
    assert streamed.count('class="qa-cite qa-cite-pending"') == 3
    assert "href" not in streamed


def test_markdown_syntax_and_markup_in_every_block_stay_text() -> None:
    text = (
        f"# {HOSTILE}\n{HOSTILE}\n\n- {HOSTILE}\n1. {HOSTILE}\n\n```\n{HOSTILE}\n\n```\n"
        f"`<b>code</b>` and **<i>bold</i>** [1]."
    )
    answer = Answer(question="q", text=text, citations=(citation(1, "a"),), confidence=0.9)
    for html in (render_answer(answer), render_streaming(text)):
        assert "\n" not in html
        found = {tag for tag, _ in tags(html)}
        assert not found & {"script", "img", "b", "i"}
        assert not any(name.startswith("on") for _, attrs in tags(html) for name in attrs)
        assert {"h4", "ul", "ol", "pre", "code", "strong"} <= found
        assert "<code>&lt;b&gt;code&lt;/b&gt;</code>" in html
        assert "<strong>&lt;i&gt;bold&lt;/i&gt;</strong>" in html


def test_prose_lines_and_table_rows_are_not_headings() -> None:
    text = (
        "Name: Alice | Room: 12\nName: Bob | Room: 14\n\n"
        "The permits are issued on the second floor.\nVisitors register at reception [1]."
    )
    html = render_answer(Answer(question="q", text=text, citations=(citation(1, "a"),)))
    assert "<h4" not in html


def test_a_numbered_listing_is_one_code_block_with_its_alignment() -> None:
    """A listing whose lines carry their numbers ("1 /etc/postfix/main.cf:", "2     myorigin
    = ...") is code, kept aligned, not prose run together; the sentence after it is prose."""
    text = (
        "1 /etc/postfix/main.cf:\n"
        "2     myorigin = $mydomain\n"
        "3     relay_domains =\n"
        "4     # Optional: forward all non-local mail to mailhost\n"
        "Line 2: Send mail as the domain [1]."
    )
    answer = Answer(question="q", text=text, citations=(citation(1, text),), confidence=0.9)
    html = render_answer(answer)
    assert blocks(html) == ["pre", "p"]
    assert (
        '<pre class="qa-code"><code>1 /etc/postfix/main.cf:<br>2     myorigin = $mydomain<br>'
        "3     relay_domains =<br>4     # Optional: forward all non-local mail to mailhost"
        "</code></pre><p>Line 2: Send mail as the domain"
    ) in html
    # A numbered contents list, a price list and a sentence after a number stay prose.
    contents = "The guide has these parts [1]:\n1  Introduction\n2  Installation\n3  API Reference"
    prose = Answer(question="q", text=contents, citations=(citation(1, contents),), confidence=0.9)
    assert "pre" not in blocks(render_answer(prose))
    prices = "1 $ per unit is charged, and 100  percent of users saw the error [1]."
    priced = Answer(question="q", text=prices, citations=(citation(1, prices),), confidence=0.9)
    assert "pre" not in blocks(render_answer(priced))


@pytest.mark.parametrize(
    "question",
    [
        HOSTILE,
        "What does *args do in def f(*args, **kw)?",
        "Where is C:\\Users\\me\\*.txt, and \\\\server\\share?",
        "# Setup\n1. first\n- item | cell |\n---",
        "Why does `x_y_z` fail? \\*not escaped*",
        "plain words",
    ],
)
def test_a_question_is_drawn_as_typed_and_read_back(question: str) -> None:
    shown = shown_question(question)
    assert typed_question(shown) == question
    # Every punctuation mark is escaped (the renderer draws it as itself), and nothing else is.
    assert re.sub(r"\\[!-/:-@\[-`{-~]", "", shown) == re.sub(r"[!-/:-@\[-`{-~]", "", question)
