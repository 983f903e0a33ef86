"""`assistant eval --own-answers`: a follow-up asked after the assistant's own answer to the
question before it, as in the chat, not after the answer its golden history holds."""

from __future__ import annotations

import json
from pathlib import Path

from assistant.core import Assistant
from assistant.evaluation.compare import comparability
from assistant.evaluation.golden import GoldenItem
from assistant.evaluation.runner import after_own_answer, evaluate_item
from assistant.types import Message
from assistant.verify import Verifier
from tests.conftest import make_settings, run_cli

ASKED = "Which regulator ordered the halt in Hong Kong?"
# A golden answer the assistant does not give: the follow-up's "it" reads differently after it.
GOLDEN_ANSWER = "The Hong Kong Monetary Authority [1]."
FOLLOW_UP = GoldenItem(
    id="firms",
    question="Which firms did it give that directive to?",
    history=(
        Message(role="user", content=ASKED),
        Message(role="assistant", content=GOLDEN_ANSWER),
    ),
    must_contain_any=("brokerages",),
)


def test_a_follow_up_is_asked_after_the_assistants_own_answer(seed_index: Path) -> None:
    assistant = Assistant(make_settings(seed_index))
    own = assistant.ask(ASKED).text
    assert own != GOLDEN_ANSWER
    asked_after = after_own_answer(assistant, FOLLOW_UP)
    assert asked_after.history == (
        Message(role="user", content=ASKED),
        Message(role="assistant", content=own),
    )
    assert asked_after.question == FOLLOW_UP.question
    # What it is searched as follows the answer it comes after.
    support = Verifier(assistant.embedder).support
    golden_run = evaluate_item(assistant, FOLLOW_UP, 5, support)
    own_run = evaluate_item(assistant, FOLLOW_UP, 5, support, own_answers=True)
    assert "Hong Kong Monetary Authority" in (golden_run.answer.standalone_question or "")
    assert own_run.item.history[-1].content == own
    assert own_run.answer.standalone_question == (
        assistant.prepare_question(FOLLOW_UP.question, asked_after.history).standalone
    )
    assert own_run.answer.standalone_question != golden_run.answer.standalone_question
    # A question without an answer before it is asked as it is; so is one whose question
    # before it the assistant would not take (history turns have no length limit).
    alone = GoldenItem(id="alone", question=ASKED, must_contain_any=("CSRC",))
    assert after_own_answer(assistant, alone) is alone
    long_before = FOLLOW_UP.model_copy(
        update={"history": (Message(role="user", content="word " * 2000), FOLLOW_UP.history[1])}
    )
    assert after_own_answer(assistant, long_before) is long_before
    assert evaluate_item(assistant, long_before, 5, support, own_answers=True).error is None


def test_a_baseline_from_before_the_option_compares_as_asked_after_golden_answers() -> None:
    own, golden = {"followups_after": "own answer"}, {"followups_after": "golden answer"}
    assert "what follow-ups were asked after differs: golden answer -> own answer" in (
        comparability(own, {})
    )
    assert not [note for note in comparability(golden, {}) if "follow-ups" in note]


def test_the_command_records_what_follow_ups_came_after(seed_index: Path, tmp_path: Path) -> None:
    golden = tmp_path / "golden.jsonl"
    alone = {"id": "regulator", "question": ASKED, "must_contain_any": ["CSRC"]}
    golden.write_text(
        "\n".join(json.dumps(row) for row in (alone, FOLLOW_UP.model_dump(mode="json"))),
        "utf-8",
    )
    common = ["eval", str(golden), "--index", str(seed_index)]
    golden_run = run_cli(*common, "--report", str(tmp_path / "golden-run"))
    assert golden_run.returncode == 0, golden_run.stderr
    own_run = run_cli(
        *common,
        "--own-answers",
        "--report",
        str(tmp_path / "own-run"),
        "--compare",
        str(tmp_path / "golden-run" / "result.json"),
    )
    assert own_run.returncode == 0, own_run.stderr
    assert "follow-ups asked after the assistant's own answer" in own_run.stdout
    # The baseline asked them after the golden answers: the comparison says so.
    assert "what follow-ups were asked after differs: golden answer -> own answer" in (
        own_run.stdout
    )
    result = json.loads((tmp_path / "own-run" / "result.json").read_text("utf-8"))
    assert result["meta"]["followups_after"] == "own answer"
    by_id = {item["id"]: item for item in result["items"]}
    # The follow-up's history holds the answer the first question got in this very run.
    assert by_id["firms"]["history"][-1]["content"] == by_id["regulator"]["answer"]
    html = (tmp_path / "own-run" / "report.html").read_text("utf-8")
    assert "follow-ups asked after the assistant's own answer to the question before" in html
    baseline = json.loads((tmp_path / "golden-run" / "result.json").read_text("utf-8"))
    assert baseline["meta"]["followups_after"] == "golden answer"
    assert baseline["items"][1]["history"][-1]["content"] == GOLDEN_ANSWER
