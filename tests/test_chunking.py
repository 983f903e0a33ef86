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
