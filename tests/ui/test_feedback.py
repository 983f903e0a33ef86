"""Feedback records: what is stored, and that concurrent writers never tear a line."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from assistant import Assistant
from assistant.feedbackstore import FeedbackFile, feedback_record
from assistant.ui.feedback import comment_prompt


def test_record_holds_question_answer_citations_and_settings(seed_assistant: Assistant) -> None:
    answer = seed_assistant.ask(
        "Which tech giants had their Hong Kong stablecoin plans stopped by Beijing?"
    )
    record = feedback_record(answer, "up", seed_assistant.settings, comment="  spot on ", user="al")
    assert record["rating"] == "up"
    assert record["comment"] == "spot on"
    assert record["user"] == "al"
    assert record["question"] == answer.question
    assert record["answer"] == answer.text
    assert record["refused"] is False
    assert record["answerer"] == "extractive"
    assert [c["quote"] for c in record["citations"]] == [c.quote for c in answer.citations]
    assert record["settings"]["top_k"] == seed_assistant.settings.top_k
    assert record["settings"]["index_dir"] == str(seed_assistant.settings.index_dir)
    assert record["timestamp"].endswith("+00:00")
    again = feedback_record(answer, None, seed_assistant.settings, feedback_id=record["id"])
    assert again["id"] == record["id"]
    assert again["rating"] is None
    assert again["comment"] is None


def test_append_creates_a_private_file(tmp_path: Path) -> None:
    path = tmp_path / "data" / "feedback.jsonl"
    FeedbackFile(path).append({"n": 1, "text": "line\nbreak"})
    FeedbackFile(path).append({"n": 2})
    assert FeedbackFile(path).records() == [{"n": 1, "text": "line\nbreak"}, {"n": 2}]
    assert path.stat().st_mode & 0o777 == 0o600


def test_concurrent_writers_never_interleave(tmp_path: Path) -> None:
    path = tmp_path / "feedback.jsonl"

    def write(worker: int) -> None:
        for n in range(40):
            # far above PIPE_BUF, so an unlocked write could be split and interleaved
            FeedbackFile(path).append({"worker": worker, "n": n, "pad": "x" * 200_000})

    with ThreadPoolExecutor(max_workers=6) as pool:
        list(pool.map(write, range(6)))
    records = FeedbackFile(path).records()  # json.loads of every line: a torn line would fail here
    assert len(records) == 240
    assert {(r["worker"], r["n"]) for r in records} == {(w, n) for w in range(6) for n in range(40)}
    assert all(len(r["pad"]) == 200_000 for r in records)


def test_a_thumbs_down_on_a_refusal_says_it_should_have_been_answered(
    seed_assistant: Assistant,
) -> None:
    refusal = seed_assistant.ask("What is the boiling point of mercury on Mars?")
    assert refusal.refused
    settings = seed_assistant.settings
    assert feedback_record(refusal, "down", settings)["should_have_been_answered"] is True
    assert feedback_record(refusal, "up", settings)["should_have_been_answered"] is False
    assert feedback_record(refusal, None, settings)["should_have_been_answered"] is None
    assert comment_prompt(refusal, "down")[0] == "Recorded: this should have been answered."
    answer = seed_assistant.ask("What is the name of China's state-backed digital currency?")
    assert feedback_record(answer, "down", settings)["should_have_been_answered"] is None
    assert comment_prompt(answer, "down")[0] == "Recorded as not helpful."
