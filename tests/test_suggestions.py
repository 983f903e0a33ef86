"""Suggested questions: drafted from the documents, asked before they are offered, per reader."""

from __future__ import annotations

from pathlib import Path

import pytest

from assistant import Assistant
from assistant.drafting import heading_drafts
from assistant.suggestions import reads_well
from assistant.types import Heading
from tests.conftest import make_settings

PRINTER = """# Office printer guide

## Setting up the printer

To set up the Kyocera TASKalfa, plug it into the wall socket and wait for the green light.
Then add the printer on your laptop with the address printer.office.example and the driver
from IT.

## Printer models

We have two Kyocera TASKalfa machines on the second floor.

## Clearing a paper jam

To clear a jam, open the side door marked B, pull the jammed sheet out gently with both hands
and close the door again; the printer resumes the job by itself.
"""

PARKING = """# Parking rules

## Booking a parking space

Book a parking space in the Parkly app by 9 pm on the day before you need it; staff who book
late go to the waiting list.
"""


def _ask_each(assistant: Assistant, questions: list[str]) -> list[str]:
    """The source every suggestion is answered from (none may be refused)."""
    sources = []
    for question in questions:
        answer = assistant.ask(question)
        assert not answer.refused, question
        sources.append(answer.citations[0].source)
    return sources


def test_seed_suggestions_are_questions_the_documents_answer(seed_assistant: Assistant) -> None:
    questions = seed_assistant.suggested_questions(4)
    assert questions, "the seed article yields at least one suggestion"
    for question in questions:
        assert question.endswith("?"), question
        assert reads_well(question), question
        assert not question.startswith("Tell me about"), question
    (seed,) = [record.source for record in seed_assistant.documents()]
    assert set(_ask_each(seed_assistant, questions)) == {seed}
    assert seed_assistant.suggested_questions(4) == questions  # kept until the index changes
    assert seed_assistant.suggested_questions(1) == questions[:1]
    assert seed_assistant.suggested_questions(0) == []


def test_task_headings_become_questions_and_topics_do_not(tmp_path: Path) -> None:
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "printer.md").write_text(PRINTER)
    assistant = Assistant(make_settings(tmp_path / "index", question_log_days=0))
    assistant.ingest([docs])
    questions = assistant.suggested_questions(4)
    assert "How do I set up the printer?" in questions
    assert "How do I clear a paper jam?" in questions
    assert not any("models" in question.lower() for question in questions)
    assert set(_ask_each(assistant, questions)) == {str(docs / "printer.md")}


def test_suggestions_follow_ingests_and_readers(tmp_path: Path) -> None:
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "printer.md").write_text(PRINTER)
    (docs / "parking.md").write_text(PARKING)
    assistant = Assistant(make_settings(tmp_path / "index", question_log_days=0))
    assistant.ingest([docs / "printer.md"])
    assert not any("parking" in q for q in assistant.suggested_questions(6))
    assistant.ingest([docs / "parking.md"], collection="facilities")
    everyone = assistant.suggested_questions(6)
    assert "How do I book a parking space?" in everyone  # refreshed after the ingest
    accounts = assistant.accounts
    reader = accounts.add_user("rita", "rita-password", ["office"])
    accounts.grant("default", group="office")
    mine = assistant.suggested_questions(6, reader)
    assert mine
    assert not any("parking" in q.lower() for q in mine)
    accounts.grant("facilities", user="rita")
    assert "How do I book a parking space?" in assistant.suggested_questions(6, reader)


def test_an_index_without_documents_suggests_nothing(tmp_path: Path) -> None:
    assert Assistant(make_settings(tmp_path / "none")).suggested_questions(4) == []


@pytest.mark.parametrize(
    ("title", "question"),
    [
        ("Setting up the printer", "How do I set up the printer?"),
        ("11.7.2. Configuring a Replica", "How do I configure a replica?"),
        ("Running with several workers", "How do I run with several workers?"),
        ("Installing from source", "How do I install from source?"),
        ("How to reset a password", "How do I reset a password?"),
        ("How to reset your password", "How do I reset my password?"),
        ("Changing your own settings", "How do I change my own settings?"),
        ("How do I renew my badge?", "How do I renew my badge?"),
        ("Streaming Replication", None),  # a gerund naming a thing
        ("Starting values", None),
        ("String encoding", None),
        ("Installing", None),  # a task without an object
        ("12.3", None),
        ("Printer models", None),
    ],
)
def test_task_questions_from_headings(title: str, question: str | None) -> None:
    body = (
        "set up configure a replica run install reset renew start change string encoding. "
        "Some text under the heading that explains it."
    )
    text = f"{title}\n{body}"
    drafts = list(heading_drafts("guide.md", text, (Heading(0, title),)))
    assert [d.question for d in drafts] == ([question] if question else [])
    assert all(d.span == (0, len(text)) for d in drafts)


@pytest.mark.parametrize(
    ("question", "ok"),
    [
        ("How do I make a base backup?", True),
        ("What does this option control?", False),  # points at text the reader cannot see
        ("What is described in Section 4.2?", False),
        ("What is Avs avs?", False),
        ("What does the <fontsize> option do?", False),
        ("What " + "very " * 14 + "long question is this?", False),
    ],
)
def test_reads_well(question: str, ok: bool) -> None:
    assert reads_well(question) is ok


def test_a_document_without_headings_drafts_no_task_question() -> None:
    # (It raised "zip() argument 2 is longer than argument 1", shown on every page load.)
    assert list(heading_drafts("notes.txt", "Drill notes.\nThe code is 4711.\n", ())) == []
