"""Chunks keep exact offsets, cover the text, and fit the embedding model."""

from __future__ import annotations

from assistant.chunking import Chunker
from assistant.embedding import Embedder
from tests.conftest import SEED_FILE


def test_chunks_map_back_exactly_and_cover_the_document() -> None:
    embedder = Embedder()
    text = SEED_FILE.read_text(encoding="utf-8")
    chunks = Chunker(120, 20, embedder.tokenize_ids).chunk("doc", text)
    assert len(chunks) > 3
    for chunk in chunks:
        assert chunk.text == text[chunk.start : chunk.end]
    covered = set()
    for chunk in chunks:
        covered.update(range(chunk.start, chunk.end))
    uncovered = [i for i in range(len(text)) if i not in covered and not text[i].isspace()]
    assert uncovered == []
    assert [c.ordinal for c in chunks] == list(range(len(chunks)))


def test_chunks_fit_the_model_window() -> None:
    embedder = Embedder()
    text = SEED_FILE.read_text(encoding="utf-8") * 3
    chunks = Chunker(200, 40, embedder.tokenize_ids).chunk("doc", text)
    limit = 256 - 2  # [CLS] and [SEP]
    assert max(len(embedder.tokenize_ids(chunk.text)) for chunk in chunks) <= 200 < limit


def test_repeated_text_gets_distinct_offsets() -> None:
    embedder = Embedder()
    paragraph = "The same sentence repeats here. " * 40
    text = paragraph + "\n\n" + paragraph
    chunks = Chunker(64, 8, embedder.tokenize_ids).chunk("doc", text)
    starts = [chunk.start for chunk in chunks]
    assert starts == sorted(starts)
    assert len(set(starts)) == len(starts)
    for chunk in chunks:
        assert chunk.text == text[chunk.start : chunk.end]


def test_repeated_text_is_covered_everywhere_and_cited_where_it_is() -> None:
    embedder = Embedder()
    text = "Alpha beta. " * 400 + "End."
    chunks = Chunker(64, 12, embedder.tokenize_ids).chunk("doc", text)
    covered = bytearray(len(text))
    for chunk in chunks:
        assert chunk.text == text[chunk.start : chunk.end]
        covered[chunk.start : chunk.end] = b"\x01" * (chunk.end - chunk.start)
    assert all(covered[i] for i, c in enumerate(text) if not c.isspace())
    paragraph = "A paragraph that repeats word for word in this document."
    twice = f"Intro.\n\n{paragraph}\n\nMiddle part of the text.\n\n{paragraph}\n\nOutro."
    second = twice.rindex(paragraph)
    pieces = Chunker(16, 0, embedder.tokenize_ids).chunk("doc", twice)
    assert any(c.start <= second < c.end for c in pieces)
    assert [c.start for c in pieces] == sorted({c.start for c in pieces})


def test_a_lead_in_a_list_and_a_heading_stay_with_what_they_introduce() -> None:
    embedder = Embedder()
    filler = "This sentence only fills the chunk so that a cut has to happen somewhere. " * 3
    text = (
        f"{filler}\n\nInstalling\nRun the following commands:\n- apt-get update\n"
        f"- apt-get install postgresql\n\n{filler}"
    )
    chunks = Chunker(60, 0, embedder.tokenize_ids).chunk("doc", text)
    holder = [c for c in chunks if "Run the following commands:" in c.text]
    assert len(holder) == 1
    assert "- apt-get install postgresql" in holder[0].text
    assert holder[0].text.startswith("Installing")
    for chunk in chunks:
        assert not chunk.text.rstrip().endswith("Installing")


def test_odd_texts_are_covered() -> None:
    embedder = Embedder()
    for text in ["x" * 3000, "word " * 500, "line one\r\nline two\r\n\r\nline three", "🙂" * 600]:
        chunks = Chunker(64, 12, embedder.tokenize_ids).chunk("doc", text)
        covered = bytearray(len(text))
        for chunk in chunks:
            assert chunk.text == text[chunk.start : chunk.end]
            assert len(embedder.tokenize_ids(chunk.text)) <= 64
            covered[chunk.start : chunk.end] = b"\x01" * (chunk.end - chunk.start)
        assert all(covered[i] for i, c in enumerate(text) if not c.isspace())


def test_a_lead_in_stays_with_its_code_block_when_the_glued_run_is_too_big() -> None:
    # A lead-in, its fenced block, a one-line label and its items are glued into one run
    # (a closing fence looks like a heading); too big for one chunk, the run is cut where a
    # paragraph starts, not between the lead-in and the block it introduces.
    embedder = Embedder()
    lead = (
        "If the vendored library sits in a folder next to the repository and must end up "
        "in the wheel, map it with the following table:"
    )
    block = '```toml\n[tool.build.include]\n"../vendor" = "pkg"\n"~/lib.h" = "pkg/lib.h"\n```'
    items = "\n".join(f"- Item number {n} of the notes that follow the example." for n in range(6))
    filler = "An earlier paragraph about something else fills part of the chunk first. " * 2
    text = f"{filler}\n\nForced inclusion\n\n{lead}\n\n{block}\n\nNote\n\n{items}\n"
    size = 90
    assert len(embedder.tokenize_ids(text)) > size
    chunks = Chunker(size, 0, embedder.tokenize_ids).chunk("doc", text)
    holder = [c for c in chunks if lead in c.text]
    assert len(holder) == 1
    assert '"~/lib.h" = "pkg/lib.h"\n```' in holder[0].text
    noted = [c for c in chunks if "Note\n" in c.text]
    assert noted
    assert all("- Item number 0" in c.text for c in noted)
    covered = bytearray(len(text))
    for chunk in chunks:
        assert chunk.text == text[chunk.start : chunk.end]
        assert len(embedder.tokenize_ids(chunk.text)) <= size
        covered[chunk.start : chunk.end] = b"\x01" * (chunk.end - chunk.start)
    assert all(covered[i] for i, c in enumerate(text) if not c.isspace())
