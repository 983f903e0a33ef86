"""Fenced code blocks through the real pipeline: a Markdown page whose long blocks are cut
across chunks is ingested, and no evidence window of any retrieved passage opens a block it
does not close or closes one it did not open (the answer is rendered as Markdown, so such a
quote would run the rest of the answer into a code block). Real index, real embedding model."""

from __future__ import annotations

import re
from pathlib import Path

from assistant.answerers.window_features import candidate_features
from assistant.core import Assistant
from tests.conftest import make_settings

SETTINGS_LINES = "\n".join(f'option_{n} = "value {n}"' for n in range(60))
PAGE = f"""# Deploy tool

## Configuration

Every deployment reads one configuration file. To create it, use the following settings:

```toml
[tool.deploy]
{SETTINGS_LINES}
```

would then give every option its value. The file is read once at start-up.

## Running

To run a deployment, type the following command:

```
$ deploy run --target production
```

The run stops at the first failing step and prints its log.

## Rolling back

~~~markdown
Write the rollback notes like this:
```text
rolled back to release 41
```
~~~

A rollback keeps the last three releases on every host.
"""
QUESTIONS = (
    "Which settings go into the configuration file of the deploy tool?",
    "What command runs a deployment to production?",
    "How many releases does a rollback keep?",
)


# A closing fence, maybe followed by the answer's citation markers ("``` [1]", which the chat
# shows below the block).
CLOSING = re.compile(r"^(`{3,}|~{3,})(\s*\[\d+\])*\s*$")


def fence_balance(text: str) -> list[str]:
    """The fence lines of a text, opening and closing, paired as Markdown reads them."""
    fences = []
    opened = ""
    for line in text.splitlines():
        stripped = line.strip()
        if not opened and stripped.startswith(("```", "~~~")):
            opened = stripped[:3]
            fences.append(stripped)
        elif opened and stripped.startswith(opened) and CLOSING.match(stripped):
            opened = ""
            fences.append(stripped)
    return fences


def deploy_index(tmp_path: Path) -> tuple[Assistant, tuple[int, int]]:
    """An index of the deploy page, and where its 60-line settings block lies in it."""
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "deploy.md").write_text(PAGE, "utf-8")
    assistant = Assistant(make_settings(tmp_path / "index"))
    assistant.ingest([docs])
    (record,) = assistant.documents()
    document = assistant.catalog.document_structure(record.doc_id)[0]
    block_start = document.index("```toml")
    return assistant, (block_start, document.index("```", block_start + 3) + 3)


def test_no_window_of_a_cut_code_block_leaves_a_block_open(tmp_path: Path) -> None:
    assistant, (block_start, block_end) = deploy_index(tmp_path)
    checked = cut = 0
    for text in QUESTIONS:
        question = assistant.prepare_question(text, [])
        retrieval = assistant.retrieve(question.standalone)
        for passage in retrieval.passages:
            if block_start < passage.start < block_end < passage.end:
                # It starts inside the block and holds its closing fence: it knows the block.
                assert (block_start, block_end) in (passage.code_blocks or ())
                cut += 1
        for window, _ in candidate_features(question, retrieval):
            fences = fence_balance(window.text)
            assert len(fences) % 2 == 0, window.text
            checked += 1
    # Every sentence's window but the rest of one ("would then give every option its
    # value.") that could not grow back over the 60-line block to where it began.
    assert checked > 15
    assert cut  # the long block was cut across chunks, and such a chunk was retrieved
    answer = assistant.ask("What command runs a deployment to production?")
    assert "deploy run --target production" in answer.text
    assert len(fence_balance(answer.text)) % 2 == 0


def test_a_line_inside_a_block_too_long_to_quote_is_never_a_window_of_its_own(
    tmp_path: Path,
) -> None:
    """A block is quoted whole or not at all: one line from inside the 60-line settings block
    (`option_7 = "value 7"`, or a line of a program's output) read alone says nothing, and
    the chat could not show it as code (its fences are outside the quote)."""
    assistant, (block_start, block_end) = deploy_index(tmp_path)
    question = assistant.prepare_question("What is option_7 set to in the deploy settings?", [])
    retrieval = assistant.retrieve(question.standalone)
    assert any(p.start < block_end and p.end > block_start for p in retrieval.passages)
    windows = [window for window, _ in candidate_features(question, retrieval)]
    assert windows
    inside = [w.text for w in windows if block_start < w.start and w.end < block_end]
    assert not inside


VHOST_LINES = "\n".join(f"    Header set X-Site-{n} on" for n in range(12))
VHOST_PAGE = f"""<html><head><title>Virtual hosts</title></head><body><main>
<h1>Virtual hosts</h1>
<p>The public site answers on port 80 with this configuration:</p>
<pre>&lt;VirtualHost *:80&gt;
    ServerName www.example.com
    ServerTokens Prod
{VHOST_LINES}
&lt;/VirtualHost&gt;</pre>
<p>The internal hosts keep the full version in their Server header.</p>
</main></body></html>"""


def test_a_markup_tag_alone_on_its_line_is_never_a_window(tmp_path: Path) -> None:
    """The closing tag of a configuration block too long for its lead-in to reach
    ("</VirtualHost>", an HTML page's <pre>, no fences) is a sentence of its own; quoted
    alone it says nothing, so it is no candidate window (it led an answer once)."""
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "vhosts.html").write_text(VHOST_PAGE, "utf-8")
    assistant = Assistant(make_settings(tmp_path / "index"))
    assistant.ingest([docs])
    question = assistant.prepare_question(
        "How do we make the Server header of the public site say only Apache?", []
    )
    retrieval = assistant.retrieve(question.standalone)
    texts = [p.sentence_text(s, e) for p in retrieval.passages for s, e in p.sentence_spans]
    assert "</VirtualHost>" in [text.strip() for text in texts]  # a sentence of its own
    windows = [window.text.strip() for window, _ in candidate_features(question, retrieval)]
    assert windows
    assert "</VirtualHost>" not in windows
