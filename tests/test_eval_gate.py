"""The regression gate and the comparability notes, on hand-made runs (no index needed)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from assistant.evaluation.compare import comparability, compare, format_comparison, gate
from assistant.evaluation.config import EvalConfigError, load_config
from assistant.evaluation.results import EvalRun

FINGERPRINT = {"build": "b1", "documents": "d1", "document_count": 3, "chunk_count": 40}


def run(passed: dict[str, bool], accuracy: float, **meta: Any) -> EvalRun:
    items = [
        {"id": key, "question": f"question {key}?", "answer": "a", "verdict": {"passed": ok,
         "failures": [] if ok else ["no key term"]}}
        for key, ok in passed.items()
    ]  # fmt: skip
    metrics: dict[str, float | None] = {
        "accuracy": accuracy,
        "false_refusal_rate": 0.10,
        "latency_total_p95_ms": 20.0,
    }
    base = {"index_fingerprint": FINGERPRINT, "answerer": "extractive", "k": 5}
    return EvalRun({**base, **meta}, metrics, {}, {}, items)


def test_a_question_that_broke_fails_the_gate_even_when_the_metrics_hold() -> None:
    old = run({"q1": True, "q2": False}, 0.5)
    new = run({"q1": False, "q2": True}, 0.5)
    verdict = gate(compare(new, old, "base.json"))
    assert verdict["failed"]
    assert verdict["reasons"] == ["q1 passed in the baseline and fails now: question q1?"]


def test_metric_drops_fail_beyond_the_tolerance_only() -> None:
    old = run({"q1": True}, 0.80)
    new = run({"q1": True}, 0.78)
    comparison = compare(new, old)
    assert gate(comparison, tolerance=0.0)["failed"]
    assert gate(comparison, tolerance=0.0)["reasons"] == [
        "accuracy got worse: 0.800 -> 0.780 (tolerance 0)"
    ]
    assert not gate(comparison, tolerance=0.02)["failed"]
    for bad in (-0.1, float("nan"), float("inf")):
        with pytest.raises(ValueError, match="finite non-negative"):
            gate(comparison, tolerance=bad)


def test_lower_is_better_metrics_fail_when_they_rise_and_latency_never_gates() -> None:
    old = run({"q1": True}, 0.8)
    new = run({"q1": True}, 0.8)
    new.metrics["false_refusal_rate"] = 0.2
    new.metrics["latency_total_p95_ms"] = 400.0
    reasons = gate(compare(new, old))["reasons"]
    assert reasons == ["false_refusal_rate got worse: 0.100 -> 0.200 (tolerance 0)"]


def test_an_answer_length_may_grow_by_the_tolerance_as_a_share_of_its_baseline() -> None:
    old = run({"q1": True}, 0.8)
    new = run({"q1": True}, 0.8)
    old.metrics["answer_chars_p50"], new.metrics["answer_chars_p50"] = 300.0, 303.0
    comparison = compare(new, old)
    assert not gate(comparison, tolerance=0.02)["failed"]  # 1 % longer, 2 % allowed
    assert gate(comparison, tolerance=0.005)["reasons"] == [
        "answer_chars_p50 got worse: 300.000 -> 303.000 (tolerance 0.5 % of the baseline)"
    ]


def test_questions_added_to_the_set_are_listed_and_judged_one_by_one() -> None:
    old = run({"q1": True, "q2": True}, 1.0)
    new = run({"q1": True, "q2": True, "q3": False}, 0.667)  # a new question that fails
    comparison = compare(new, old, "base.json")
    comparison["gate"] = gate(comparison)
    assert not comparison["gate"]["failed"]  # accuracy fell only by the new question
    lines = format_comparison(comparison)
    assert "  new: q3 question q3?" in lines
    assert lines[-2] == (
        "  note: the golden set changed (1 new, 0 removed): the metrics are over other "
        "questions and do not gate; the questions in both runs are judged one by one"
    )
    broken = run({"q1": False, "q3": False}, 0.0)
    verdict = gate(compare(broken, old))
    assert verdict["reasons"] == ["q1 passed in the baseline and fails now: question q1?"]
    assert "  removed: q2 question q2?" in format_comparison(compare(broken, old))


def test_runs_on_other_indexes_or_settings_say_so() -> None:
    old = run({"q1": True}, 0.8)
    rebuilt = {**FINGERPRINT, "build": "b2", "documents": "d2", "document_count": 4}
    new = run({"q1": True}, 0.8, index_fingerprint=rebuilt, k=1)
    notes = comparability(new.meta, old.meta)
    assert notes[0].startswith("the index was built differently")
    assert notes[1] == "the index holds other documents: 3 -> 4 documents, 40 -> 40 passages"
    assert notes[2] == "k differs: 5 -> 1"
    assert comparability(old.meta, {"k": 5})[0].startswith("the baseline records no index")
    assert comparability(old.meta, old.meta) == []


def test_the_terminal_report_lists_new_failures_first() -> None:
    old = run({"q1": True, "q2": False, "q3": True}, 0.9)
    new = run({"q1": True, "q2": True, "q3": False}, 0.5)
    comparison = compare(new, old, "base.json")
    comparison["gate"] = gate(comparison)
    lines = format_comparison(comparison)
    assert lines[:3] == [
        "compared with base.json:",
        "  broke: q3 question q3?",
        "  ▼ accuracy: 0.900 -> 0.500 (regression)",
    ]
    assert "  fixed: q2 question q2?" in lines
    assert lines[-3:] == [
        "REGRESSION (2):",
        "! q3 passed in the baseline and fails now: question q3?",
        "! accuracy got worse: 0.900 -> 0.500 (tolerance 0)",
    ]


def test_a_teams_pyproject_can_switch_the_gate_on(tmp_path: Path) -> None:
    pyproject = tmp_path / "pyproject.toml"
    pyproject.write_text(
        '[tool.assistant.eval]\ngolden = ["g.jsonl"]\ncompare = "base/result.json"\n'
        "fail_on_regression = true\ntolerance = 0.02\n",
        "utf-8",
    )
    config = load_config(pyproject)
    assert config.compare == (tmp_path / "base" / "result.json").resolve()
    assert config.fail_on_regression
    assert config.tolerance == 0.02
    for bad in ("-0.1", '"a lot"', "true", "nan", "inf"):  # nan and inf would pass anything
        pyproject.write_text(f"[tool.assistant.eval]\ntolerance = {bad}\n", "utf-8")
        with pytest.raises(EvalConfigError, match="tolerance must be a finite number of 0 or"):
            load_config(pyproject)


def test_questions_that_changed_are_weighed_against_chance() -> None:
    # Ten of 30 questions fixed and one broken: unlikely to be chance; three and one: likely.
    keys = [f"q{i}" for i in range(30)]
    old = run(dict.fromkeys(keys, False) | {"q29": True}, 0.1)
    many = run({key: i < 10 for i, key in enumerate(keys)}, 0.3)
    few = run({key: i < 3 for i, key in enumerate(keys)}, 0.1)
    row = compare(many, old)["paired"]["passed"]
    assert (row["questions"], row["better"], row["worse"]) == (30.0, 10.0, 1.0)
    assert row["p_value"] == pytest.approx(0.01171875)  # 2 * 12 / 2**11
    assert compare(few, old)["paired"]["passed"]["p_value"] == pytest.approx(0.625)
    lines = format_comparison(compare(many, old, "base.json"))
    assert (
        "  paired passed: 10 better, 1 worse of 30 questions (p = 0.01, unlikely to be chance)"
        in lines
    )
    assert (
        "  paired passed: 3 better, 1 worse of 30 questions (p = 0.62, could be chance)"
        in format_comparison(compare(few, old))
    )
    # The same verdicts: nothing to weigh. A question only one run has is not a pair; one
    # that errored counts as a no, as in the accuracy and the questions that broke.
    same = compare(old, old)["paired"]["passed"]
    assert same == {"questions": 30.0, "better": 0.0, "worse": 0.0, "p_value": 1.0}
    assert "  paired passed: unchanged on all 30 questions" in format_comparison(compare(old, old))
    errored = run({"q29": True, "extra": True}, 0.5)
    errored.items[0]["error"] = "the question is too long"
    row = compare(errored, old)["paired"]["passed"]
    assert (row["questions"], row["better"], row["worse"]) == (1.0, 0.0, 1.0)
    elsewhere = run({"other": True}, 0.5)
    assert "  paired passed: no question is in both runs" in format_comparison(
        compare(elsewhere, old)
    )
