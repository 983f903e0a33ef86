"""Accuracy and refusal thresholds on the seed golden set (measured: docs/evaluation.md)."""

from __future__ import annotations

from assistant import Assistant
from assistant.evaluation import evaluate, load_golden
from tests.conftest import GOLDEN

# Measured 0.70 / 0.67 / 0.79 with the calibrated defaults; a drop below these fails.
MIN_ACCURACY = 0.66
MIN_ANSWERED_CORRECTLY = 0.60
MIN_REFUSAL_RECALL = 0.70
MAX_FALSE_REFUSALS = 0.40


def test_golden_set_is_well_formed() -> None:
    items = load_golden(GOLDEN / "seed_qa.jsonl")
    assert len(items) >= 25
    assert sum(not item.answerable for item in items) >= 5
    seed_text = (GOLDEN.parents[1] / "seeds" / "000_4f69a52559980107.txt").read_text("utf-8")
    for item in items:
        for source in item.sources:
            assert source.quote is None or source.quote in seed_text, item.id


def test_seed_golden_set_meets_thresholds(seed_assistant: Assistant) -> None:
    items = load_golden(GOLDEN / "seed_qa.jsonl")
    results = evaluate(seed_assistant, items)
    answerable = [r for r in results if r.item.answerable]
    unanswerable = [r for r in results if not r.item.answerable]
    accuracy = sum(r.correct for r in results) / len(results)
    answered = sum(r.correct for r in answerable) / len(answerable)
    refusal_recall = sum(r.answer.refused for r in unanswerable) / len(unanswerable)
    false_refusals = sum(r.answer.refused for r in answerable) / len(answerable)
    failures = [
        f"{r.item.id}: {r.item.question} -> {r.answer.text[:80]}" for r in results if not r.correct
    ]
    summary = (
        f"accuracy={accuracy:.2f} answered={answered:.2f} refusal_recall={refusal_recall:.2f} "
        f"false_refusals={false_refusals:.2f}\n" + "\n".join(failures)
    )
    assert accuracy >= MIN_ACCURACY, summary
    assert answered >= MIN_ANSWERED_CORRECTLY, summary
    assert refusal_recall >= MIN_REFUSAL_RECALL, summary
    assert false_refusals <= MAX_FALSE_REFUSALS, summary
    for result in answerable:
        if not result.answer.refused:
            assert result.cited_expected_source, result.item.id
