"""The quality loop: the question log, the quality report, and a reported answer turned into a
golden question that `assistant eval` then runs (real index, real model, real files)."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from assistant.account_types import User
from assistant.collections import CollectionError
from assistant.core import Assistant
from assistant.errors import QualityError
from assistant.evaluation.golden import load_golden
from assistant.feedbackstore import feedback_record
from assistant.types import Message
from tests.conftest import make_settings, run_cli
from tests.test_collections import write_docs

SALARY = "How much does a senior engineer earn per year?"
HANDOVER = "When is the on-call handover?"
ABSENT = "What is the dress code for the Lisbon office party?"


@pytest.fixture
def team(tmp_path: Path) -> Assistant:
    """hr/ and legal/ in their own collections, eng/ in `default`; its own data dir."""
    docs = write_docs(tmp_path / "docs")
    assistant = Assistant(make_settings(tmp_path / "index", data_dir=tmp_path / "data"))
    assert assistant.ingest([docs / "hr"], collection="hr").added == 2
    assert assistant.ingest([docs / "legal"], collection="legal").added == 1
    assert assistant.ingest([docs / "eng"]).added == 2
    return assistant


def vote(assistant: Assistant, question: str, rating: str | None, **extra: object) -> str:
    """Ask as the web chat does and record feedback on the answer; returns its id."""
    answer = assistant.ask(question)
    record = feedback_record(answer, rating, assistant.settings, **extra)  # type: ignore[arg-type]
    assistant.feedback.append(record)
    return str(record["id"])


def test_every_answered_question_is_logged_with_who_asked_and_what_came_back(
    team: Assistant,
) -> None:
    alice = User("alice", "member", ("engineering",))
    team.accounts.add_user("alice", "a long password 1", groups=["engineering"])
    team.accounts.grant("default", group="engineering")
    team.collections()  # reading the index does not log anything
    answer = team.ask(SALARY)
    streamed = list(team.stream(HANDOVER, user=alice))
    refused = team.ask(ABSENT, collections=["hr"])
    entries = team.questions.entries()
    assert [e.question for e in entries] == [SALARY, HANDOVER, ABSENT]
    first, second, third = entries
    assert (first.user, first.groups, first.collections) == (None, (), None)
    assert first.sources == tuple(dict.fromkeys(c.source for c in answer.citations))
    assert first.sources
    assert first.sources[0].endswith("salaries.md")
    assert not first.refused
    assert first.answer_chars == len(answer.text)
    assert (second.user, second.groups) == ("alice", ("engineering",))
    assert streamed[-1].citations
    assert second.sources[0].endswith("oncall.md")
    assert third.refused
    assert refused.refused
    assert third.collections == ("hr",)
    assert third.sources == ()
    assert all(e.total_ms > 0 for e in entries)


def test_no_log_when_retention_is_zero(tmp_path: Path) -> None:
    # Retention and both databases: tests/test_questionlog.py.
    off = Assistant(make_settings(tmp_path / "off", question_log_days=0))
    off.ingest([write_docs(tmp_path / "docs") / "eng"])
    off.ask(HANDOVER)
    assert not off.settings.questions_path.exists()
    assert off.questions.entries() == []


def test_evaluation_questions_stay_out_of_the_log(team: Assistant, tmp_path: Path) -> None:
    golden = tmp_path / "golden.jsonl"
    golden.write_text(
        json.dumps({"id": "q1", "question": SALARY, "must_contain_any": ["120,000"]}) + "\n"
    )
    result = run_cli(
        "eval", str(golden), "--index", str(team.settings.index_dir), "--report",
        str(tmp_path / "report"),
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert Assistant(team.settings).questions.entries() == []


def test_the_report_counts_questions_refusals_and_thumbs_and_lists_what_was_reported(
    team: Assistant,
) -> None:
    team.accounts.add_user("alice", "a long password 1", groups=["engineering"])
    team.accounts.add_user("bob", "a long password 2", groups=["sales"])
    up = vote(team, HANDOVER, "up", user="alice")
    changed = vote(team, SALARY, "up", user="bob")
    # Bob changes his mind and adds a comment later: the latest state counts, comment kept.
    team.feedback.append(
        feedback_record(team.ask(SALARY), "down", team.settings, user="bob",
                        feedback_id=changed, comment="The bonus month is missing."),
    )  # fmt: skip
    refusal = vote(team, ABSENT, "down", user="alice")
    report = team.quality()
    assert report.questions == 4
    assert report.refused == 1
    assert report.refusal_rate == 0.25
    assert report.per_day == ((time.strftime("%Y-%m-%d", time.gmtime()), 4),)
    assert (report.thumbs_up, report.thumbs_down) == (1, 2)
    assert {r.feedback_id for r in report.reported} == {changed, refusal}
    by_id = {r.feedback_id: r for r in report.reported}
    assert by_id[refusal].should_have_answered
    assert by_id[refusal].answer
    assert not by_id[changed].should_have_answered
    assert by_id[changed].comment == "The bonus month is missing."
    assert by_id[changed].citations[0]["source"].endswith("salaries.md")
    assert up not in by_id
    assert len(report.slowest) == 4
    assert report.slowest[0].total_ms >= report.slowest[-1].total_ms

    sales = team.quality(group="sales")
    assert sales.thumbs_down == 1
    assert sales.reported[0].feedback_id == changed
    hr = team.quality(collection="hr")
    assert hr.questions == 2
    assert {r.feedback_id for r in hr.reported} == {changed}
    assert team.quality(since=time.time() + 3600).questions == 0
    with pytest.raises(QualityError, match="the period ends before it starts"):
        team.quality(since=time.time(), until=time.time() - 86400)
    with pytest.raises(CollectionError, match="nowhere"):
        team.quality(collection="nowhere")


def test_a_reported_answer_becomes_a_golden_question_that_eval_runs(
    team: Assistant, tmp_path: Path
) -> None:
    reported = vote(team, SALARY, "down", user="bob", comment="say the number")
    refusal = vote(team, ABSENT, "down", user="bob")
    golden = tmp_path / "reported.jsonl"
    item = team.promote_feedback(
        reported, golden, key_terms=["120,000 Euros"], sources=["salaries.md"]
    )
    assert (item.id, item.question, item.must_contain_any) == (
        "reported-001", SALARY, ("120,000 euros",),
    )  # fmt: skip
    assert item.origin is not None
    assert reported in item.origin
    assert "bob" in item.origin
    assert item.note == "say the number"
    second = team.promote_feedback(refusal, golden, unanswerable=True)
    assert second.id == "reported-002"
    assert not second.answerable
    assert [i.id for i in load_golden(golden)] == ["reported-001", "reported-002"]

    result = run_cli(
        "eval", str(golden), "--index", str(team.settings.index_dir), "--report",
        str(tmp_path / "report"),
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    verdicts = json.loads((tmp_path / "report" / "result.json").read_text())["items"]
    assert [v["id"] for v in verdicts] == ["reported-001", "reported-002"]
    assert all(v["verdict"]["correct"] for v in verdicts)

    with pytest.raises(QualityError, match="no feedback"):
        team.promote_feedback("no-such-id", golden, key_terms=["x"])
    with pytest.raises(QualityError, match="not an indexed document"):
        team.promote_feedback(reported, golden, sources=["missing.md"])
    with pytest.raises(QualityError, match="say what a right answer holds"):
        team.promote_feedback(reported, golden)
    with pytest.raises(QualityError, match="unanswerable question has no key terms"):
        team.promote_feedback(reported, golden, key_terms=["x"], unanswerable=True)
    with pytest.raises(QualityError, match="already has"):
        team.promote_feedback(reported, golden, key_terms=["x"], question_id="reported-001")
    assert len(load_golden(golden)) == 2  # a refused promotion changes nothing


def test_a_reported_follow_up_keeps_the_conversation_before_it(
    team: Assistant, tmp_path: Path
) -> None:
    history = [Message(role="user", content=SALARY)]
    history.append(Message(role="assistant", content=team.ask(SALARY).text))
    follow_up = "And when are bonuses paid?"
    answer = team.ask(follow_up, history)
    record = feedback_record(answer, "down", team.settings, user="bob", history=history)
    team.feedback.append(record)
    [reported] = team.quality().reported
    assert reported.history == tuple(history)
    assert reported.standalone_question  # what was searched
    golden = tmp_path / "reported.yaml"
    item = team.promote_feedback(record["id"], golden, key_terms=["march"])
    assert item.question == follow_up
    assert item.history == tuple(history)
    assert load_golden(golden)[0].history == tuple(history)


def test_the_quality_command_reports_and_promotes(team: Assistant, tmp_path: Path) -> None:
    reported = vote(team, HANDOVER, "down", user="alice", comment="which day?")
    index = str(team.settings.index_dir)
    shown = run_cli("quality", "--index", index, "--json", cwd=tmp_path)
    assert shown.returncode == 0, shown.stderr
    data = json.loads(shown.stdout)
    assert data["questions"] == 1
    assert data["thumbs_down"] == 1
    assert data["reported"][0]["feedback_id"] == reported
    text = run_cli("quality", "--index", index, cwd=tmp_path)
    assert "Reported answers (1):" in text.stdout
    assert "which day?" in text.stdout
    golden = tmp_path / "reported.yaml"
    added = run_cli(
        "quality", "promote", reported, "--golden", str(golden), "--expect", "monday",
        "--index", index, cwd=tmp_path,
    )  # fmt: skip
    assert added.returncode == 0, added.stderr
    assert [i.must_contain_any for i in load_golden(golden)] == [("monday",)]
    usage = run_cli("quality", "promote", "--index", index)
    assert usage.returncode == 2
    assert "usage: assistant quality promote" in usage.stderr
    bad = run_cli("quality", "--since", "yesterday", "--index", index)
    assert bad.returncode == 2
    assert "not a date" in bad.stderr
    backwards = run_cli(
        "quality", "--since", "2026-03-01", "--until", "2026-02-01", "--index", index
    )
    assert backwards.returncode == 2
    assert backwards.stderr.strip().splitlines() == [
        "assistant: error: the period ends before it starts: until (2026-02-01) must come "
        "after since (2026-03-01)"
    ]
    assert team.feedback.records()  # nothing was consumed


def test_a_log_that_cannot_be_written_never_costs_the_answer(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    assistant = Assistant(make_settings(tmp_path / "index"))
    assistant.ingest([write_docs(tmp_path / "docs") / "eng"])
    assistant.settings.questions_path.mkdir()  # a directory where the file should be
    answer = assistant.ask(HANDOVER)
    again = assistant.ask(HANDOVER)
    assert "Monday" in answer.text
    assert again.text == answer.text
    warnings = [r for r in caplog.records if "question log" in r.getMessage()]
    assert len(warnings) == 1  # said once, not on every question
