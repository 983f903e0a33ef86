"""Example questions come from the indexed documents, not from the code."""

from __future__ import annotations

from pathlib import Path

import pytest

from assistant import Assistant
from assistant.ui.examples import example_questions, question_for
from tests.conftest import make_settings


def test_examples_come_from_the_seed_headings(seed_assistant: Assistant) -> None:
    catalog = seed_assistant.catalog
    record = seed_assistant.documents()[0]
    _, headings, _ = catalog.document_structure(record.doc_id)
    examples = example_questions(seed_assistant, 4)
    assert len(examples) == 4
    topics = [h.title for h in headings if h.title != record.title]
    for example in examples:
        assert any(topic.lower() in example.lower() for topic in topics), example
    assert example_questions(seed_assistant, 2) == examples[:2]
    assert example_questions(seed_assistant, 0) == []


def test_examples_take_turns_across_documents(tmp_path: Path) -> None:
    for name, topic in (("a.md", "Parking"), ("b.md", "Holidays")):
        (tmp_path / name).write_text(
            f"# {topic} handbook\n\n## {topic} rules today\n\nText about {topic}.\n\n"
            f"## {topic} exceptions list\n\nMore text.\n"
        )
    assistant = Assistant(make_settings(tmp_path / "index"))
    assistant.ingest([tmp_path / "a.md", tmp_path / "b.md"])
    examples = example_questions(assistant, 2)
    assert sorted(e.split()[3] for e in examples) == ["Holidays", "Parking"]
    assert example_questions(Assistant(make_settings(tmp_path / "none")), 3) == []


@pytest.mark.parametrize(
    ("topic", "kind", "question"),
    [
        ("How do I reset my password?", "heading", "How do I reset my password?"),
        ("The Dual Strategy:", "heading", "Tell me about the Dual Strategy"),
        ("Stablecoin Shutdown", "heading", "Tell me about Stablecoin Shutdown"),
        ("os.path.join(path, *paths)", "term", "What does os.path.join do?"),
        ("12.3", "heading", None),
    ],
)
def test_question_for(topic: str, kind: str, question: str | None) -> None:
    assert question_for(topic, kind) == question
