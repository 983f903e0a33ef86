"""Sentence-level dense search (`assistant/sentence_search.py`): a chunk found by its best
sentence, within the allowed collections, read again after every change of the index, and
off beyond its size limit. Real index, real embedding model."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from assistant.core import Assistant
from assistant.sentence_search import SentenceSearch
from tests.conftest import make_settings

TOPICS = {
    "kitchen.md": (
        "# Kitchen rules\n\n"
        + " ".join(
            f"Shelf {n} of the kitchen holds plates and cups for team {n}." for n in range(14)
        )
        + " The coffee machine is descaled every second Thursday by the facilities team.\n"
    ),
    "parking.md": (
        "# Parking\n\n"
        + " ".join(
            f"Bay {n} of the garage is reserved for visitors of floor {n}." for n in range(14)
        )
        + "\n"
    ),
    "printing.md": (
        "# Printers\n\n"
        + " ".join(f"Printer {n} on floor {n} prints double-sided by default." for n in range(14))
        + "\n"
    ),
}
QUESTION = "How often does the coffee machine get descaled?"


def write(root: Path, files: dict[str, str]) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    for name, text in files.items():
        (root / name).write_text(text, "utf-8")
    return root


def search(assistant: Assistant, question: str, allowed: frozenset[str] | None = None) -> list[str]:
    """The chunk texts the sentence search ranks for a question, best first."""
    sentences = assistant.retriever.sentences
    assert isinstance(sentences, SentenceSearch)
    hits = sentences.search(assistant.embedder.embed_query(question), 10, allowed)
    rows = assistant.catalog.chunks([chunk_id for chunk_id, _ in hits])
    return [rows[chunk_id].text for chunk_id, _ in hits]


def test_a_chunk_is_found_by_its_best_sentence(tmp_path: Path) -> None:
    assistant = Assistant(make_settings(tmp_path / "index"))
    assistant.ingest([write(tmp_path / "docs", TOPICS)])
    assert assistant.catalog.chunk_count() > len(TOPICS)  # several chunks a document
    found = search(assistant, QUESTION)
    assert "descaled every second Thursday" in found[0]
    assert len(found) == assistant.catalog.chunk_count()  # every chunk ranked, none twice
    retrieval = assistant.retrieve(QUESTION, 5)
    assert "descaled every second Thursday" in retrieval.passages[0].text
    assert "sentences" in retrieval.timings_ms


def test_a_restricted_search_ranks_only_the_allowed_chunks(tmp_path: Path) -> None:
    docs = write(tmp_path / "docs", TOPICS)
    assistant = Assistant(make_settings(tmp_path / "index"))
    assistant.ingest([docs / "kitchen.md"], collection="facilities")
    assistant.ingest([docs / "parking.md", docs / "printing.md"])
    allowed = assistant.catalog.chunk_ids_of(["default"])
    found = search(assistant, QUESTION, allowed)
    assert found
    assert len(found) == len(allowed)
    assert not any("coffee" in text or "Kitchen" in text for text in found)
    assert search(assistant, QUESTION, frozenset()) == []
    # Grants asked with in turn (each grant's mask is kept): each sees only its own chunks.
    facilities = assistant.catalog.chunk_ids_of(["facilities"])
    assert "descaled every second Thursday" in search(assistant, QUESTION, facilities)[0]
    assert len(search(assistant, QUESTION, allowed)) == len(allowed)
    assert len(search(assistant, QUESTION, facilities)) == len(facilities)
    # A document moved between collections: the next search sees the new membership.
    assistant.ingest([docs / "kitchen.md"], collection="default")
    moved = assistant.catalog.chunk_ids_of(["default"])
    assert "descaled every second Thursday" in search(assistant, QUESTION, moved)[0]
    assert search(assistant, QUESTION, assistant.catalog.chunk_ids_of(["facilities"])) == []
    assistant.ingest([docs / "kitchen.md"], collection="facilities")
    restricted = assistant.retrieve(QUESTION, 5, collections=["default"])
    assert all("kitchen" not in p.source for p in restricted.passages)
    assert assistant.ask(QUESTION, collections=["default"]).refused


def test_what_is_ingested_later_is_searched(tmp_path: Path) -> None:
    docs = tmp_path / "docs"
    assistant = Assistant(make_settings(tmp_path / "index"))
    assistant.ingest([write(docs, {k: v for k, v in TOPICS.items() if k != "kitchen.md"})])
    assert not any("coffee" in text for text in search(assistant, QUESTION))
    write(docs, {"kitchen.md": TOPICS["kitchen.md"]})
    sentences = assistant.retriever.sentences
    assert isinstance(sentences, SentenceSearch)
    assistant.ingest([docs])
    # The writing process read the new sentences right after its write, before any question.
    assert sentences.generation == assistant.catalog.generation()
    assert "descaled every second Thursday" in search(assistant, QUESTION)[0]
    kitchen = next(r for r in assistant.documents() if r.source.endswith("kitchen.md"))
    assert assistant.delete_document(kitchen.doc_id) is not None
    assert sentences.generation == assistant.catalog.generation()
    assert not any("coffee" in text for text in search(assistant, QUESTION))
    # Another process (here: a second Assistant on the same index) reads them on its first
    # question after the change; one that only ingests never holds them.
    other = Assistant(make_settings(tmp_path / "index"))
    other_sentences = other.retriever.sentences
    assert isinstance(other_sentences, SentenceSearch)
    other.ingest([write(tmp_path / "more", {"parking.md": TOPICS["parking.md"]})])
    assert other_sentences.generation is None
    assert not any("coffee" in text for text in search(other, QUESTION))
    assert other_sentences.generation == other.catalog.generation()


@pytest.mark.parametrize("limit", [0, 5])
def test_an_index_over_the_limit_is_searched_without_it(tmp_path: Path, limit: int) -> None:
    assistant = Assistant(make_settings(tmp_path / "index", sentence_search_limit=limit))
    assistant.ingest([write(tmp_path / "docs", TOPICS)])
    assert search(assistant, QUESTION) == []
    answer = assistant.ask(QUESTION)  # chunk vectors and BM25 still find it
    assert not answer.refused
    assert "second Thursday" in answer.text


def test_vectors_that_cannot_be_read_turn_it_off_until_the_index_changes(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """A damaged vector row (a blob of the wrong length) turns sentence search off, with the
    error logged once, instead of failing every question; the next change loads it again."""
    docs = write(tmp_path / "docs", {k: v for k, v in TOPICS.items() if k != "kitchen.md"})
    assistant = Assistant(make_settings(tmp_path / "index"))
    assistant.ingest([docs])
    with sqlite3.connect(tmp_path / "index" / "catalog.sqlite3") as db:
        good = db.execute("SELECT context_vectors FROM chunks WHERE id = 1").fetchone()[0]
        db.execute("UPDATE chunks SET context_vectors = x'0102' WHERE id = 1")
    assert search(assistant, QUESTION) == []
    assert search(assistant, QUESTION) == []
    assert caplog.text.count("loading failed") == 1
    with sqlite3.connect(tmp_path / "index" / "catalog.sqlite3") as db:
        db.execute("UPDATE chunks SET context_vectors = ? WHERE id = 1", (good,))
    write(docs, {"kitchen.md": TOPICS["kitchen.md"]})
    assistant.ingest([docs])  # a change: loaded again, and the new document is found
    assert "descaled every second Thursday" in search(assistant, QUESTION)[0]
