"""A running assistant sees what a separate `assistant ingest` process adds or removes."""

from __future__ import annotations

from pathlib import Path

from assistant import Assistant
from tests.conftest import make_settings, run_cli

NEW_DOCUMENT = """# Office greenhouse

The rooftop greenhouse grows tomatoes, basil and chillies for the staff canteen.
Volunteers water the plants every Tuesday and Friday morning before nine.
"""
QUESTION = "When are the plants on the roof watered?"


def _dense_sources(assistant: Assistant, question: str) -> set[str]:
    """The documents of the vector search's hits alone (no BM25)."""
    hits = assistant.store.query(assistant.embedder.embed_query(question), 20)
    rows = assistant.catalog.chunks([chunk_id for chunk_id, _ in hits])
    return {Path(row.source).name for row in rows.values()}


def test_a_running_reader_follows_another_process_ingest(corpus: Path, tmp_path: Path) -> None:
    index = tmp_path / "index"
    reader = Assistant(make_settings(index))
    assert reader.ingest([corpus]).added == 1
    assert "greenhouse.md" not in _dense_sources(reader, QUESTION)  # the store is open now

    (corpus / "greenhouse.md").write_text(NEW_DOCUMENT, encoding="utf-8")
    added = run_cli("ingest", str(corpus), "--index", str(index))
    assert added.returncode == 0, added.stderr

    answer = reader.ask(QUESTION)  # no restart: the reader notices the other writer
    assert "greenhouse.md" in _dense_sources(reader, QUESTION)
    assert not answer.refused
    assert answer.citations[0].source.endswith("greenhouse.md")
    assert "Tuesday and Friday" in answer.text

    (corpus / "greenhouse.md").unlink()
    removed = run_cli("ingest", str(corpus), "--index", str(index))
    assert removed.returncode == 0, removed.stderr
    after = reader.ask(QUESTION)
    assert "greenhouse.md" not in _dense_sources(reader, QUESTION)
    assert all(not c.source.endswith("greenhouse.md") for c in after.citations)


def test_own_ingest_does_not_reopen_the_store(corpus: Path, tmp_path: Path) -> None:
    assistant = Assistant(make_settings(tmp_path / "index"))
    assistant.ingest([corpus])
    assistant.ask(QUESTION)
    (corpus / "greenhouse.md").write_text(NEW_DOCUMENT, encoding="utf-8")
    assistant.ingest([corpus])
    # The ingest reopened the store once, to save its graph (VectorStore.settle); the
    # question after it must not reopen it again as if another process had written.
    collection = assistant.store.collection
    answer = assistant.ask(QUESTION)
    assert assistant.store.collection is collection
    assert answer.citations[0].source.endswith("greenhouse.md")
