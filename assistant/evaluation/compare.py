"""Compare a run with an earlier result: regressions and improvements per metric and question.

`gate` turns a comparison into a pass/fail verdict for a team's CI (`assistant eval --compare
BASELINE.json --fail-on-regression`): a quality metric that got worse by more than the tolerance,
or a question that passed in the baseline and fails now, fails the run. Latency is reported but
never gates: timings depend on the machine and its load.

`paired` weighs the questions that changed against chance: on a golden set of 50, three fixed
and one broken is what chance alone gives as often as not (McNemar's exact test, p = 0.625),
while ten fixed and one broken is not (p = 0.012). The gate does not read it: a team decides
whether a broken question may pass; the comparison says how sure the difference is.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from assistant.evaluation.metrics import (
    METRICS,
    SIGNIFICANCE,
    higher_is_better,
    is_rate,
    sign_test,
)
from assistant.evaluation.results import EvalRun

QUALITY_TOLERANCE = 0.001  # result files round to 4 decimals
DEFAULT_GATE_TOLERANCE = 0.0  # the gate's default: any drop of a quality metric fails
LATENCY_RATIO = 1.2  # timings are noisy: flag only a >20 % and >5 ms change
LATENCY_FLOOR_MS = 5.0


def metric_change(name: str, old: float | None, new: float | None) -> str:
    """'regression', 'improvement', 'same' or 'n/a' for one metric."""
    if old is None or new is None:
        return "n/a"
    better = new - old if higher_is_better(name) else old - new
    if name in METRICS:
        if abs(better) <= QUALITY_TOLERANCE:
            return "same"
        return "improvement" if better > 0 else "regression"
    slower, faster = max(old, new), min(old, new)
    if slower - faster < LATENCY_FLOOR_MS or slower < faster * LATENCY_RATIO:
        return "same"
    return "improvement" if better > 0 else "regression"


def compare(new: EvalRun, old: EvalRun, old_label: str = "") -> dict[str, Any]:
    """Per-metric deltas and per-question status changes of `new` against `old`."""
    metric_rows = []
    for name in [*new.metrics, *(n for n in old.metrics if n not in new.metrics)]:
        before, after = old.metrics.get(name), new.metrics.get(name)
        metric_rows.append(
            {
                "metric": name,
                "old": before,
                "new": after,
                "delta": None if before is None or after is None else round(after - before, 4),
                "change": metric_change(name, before, after),
            }
        )
    old_items = {item["id"]: item for item in old.items}
    new_items = {item["id"]: item for item in new.items}
    question_rows = []
    for item_id, item in new_items.items():
        earlier = old_items.get(item_id)
        now = item["verdict"]["passed"]
        if earlier is None:
            change = "new"
        elif earlier["verdict"]["passed"] == now:
            continue
        else:
            change = "fixed" if now else "broke"
        question_rows.append(
            {
                "id": item_id,
                "question": item["question"],
                "change": change,
                "old_answer": None if earlier is None else earlier["answer"],
                "new_answer": item["answer"],
                "failures": item["verdict"]["failures"],
            }
        )
    for item_id, earlier in old_items.items():
        if item_id not in new_items:
            question_rows.append(
                {
                    "id": item_id,
                    "question": earlier["question"],
                    "change": "removed",
                    "old_answer": earlier["answer"],
                    "new_answer": None,
                    "failures": [],
                }
            )
    order = {"broke": 0, "fixed": 1, "new": 2, "removed": 3}
    question_rows.sort(key=lambda row: (order[row["change"]], row["id"]))
    changes = [row["change"] for row in metric_rows] + [row["change"] for row in question_rows]
    return {
        "against": old_label,
        "old_meta": old.meta,
        "notes": comparability(new.meta, old.meta),
        "metrics": metric_rows,
        "questions": question_rows,
        "paired": paired(new, old),
        "summary": {
            name: changes.count(name)
            for name in ("regression", "improvement", "broke", "fixed", "new", "removed")
        },
    }


# The per-question verdicts weighed against chance, question by question in both runs.
PAIRED_VERDICTS = ("correct", "key_term_hit", "passed")


def paired(new: EvalRun, old: EvalRun) -> dict[str, dict[str, float]]:
    """For each verdict: how many of the questions in both runs went from no to yes
    (`better`) and from yes to no (`worse`), and McNemar's exact p-value of that split
    (`metrics.sign_test`): below SIGNIFICANCE, unlikely to be chance. A question that errored
    counts as no, as it does in the accuracy and in the questions that broke."""
    before = {item["id"]: item for item in old.items}
    after = [item for item in new.items if item["id"] in before]
    return {
        verdict: paired_change(
            [_verdict(before[item["id"]], verdict) for item in after],
            [_verdict(item, verdict) for item in after],
        )
        for verdict in PAIRED_VERDICTS
    }


def paired_change(was: Sequence[bool], now: Sequence[bool]) -> dict[str, float]:
    """One yes/no outcome of the same questions in two runs: how many questions, how many went
    from no to yes (`better`) and from yes to no (`worse`), and McNemar's exact p-value."""
    better = sum(not a and b for a, b in zip(was, now, strict=True))
    worse = sum(a and not b for a, b in zip(was, now, strict=True))
    return {
        "questions": float(len(now)),
        "better": float(better),
        "worse": float(worse),
        "p_value": sign_test(better, worse),
    }


def _verdict(item: dict[str, Any], verdict: str) -> bool:
    """A question's yes/no verdict in a result file (no when it errored)."""
    return not item.get("error") and bool(item["verdict"].get(verdict))


def describe_paired(verdict: str, row: dict[str, float]) -> str:
    """One verdict's paired change in words: "correct: 5 better, 1 worse of 48 questions
    (p = 0.22, could be chance)"."""
    if not row["questions"]:
        return f"{verdict}: no question is in both runs"
    questions = f"{row['questions']:.0f} question" + ("" if row["questions"] == 1 else "s")
    if not row["better"] and not row["worse"]:
        return f"{verdict}: unchanged on all {questions}"
    p_value = row["p_value"]
    shown = f"p = {p_value:.2f}" if p_value >= 0.01 else "p < 0.01"
    chance = "could be chance" if p_value >= SIGNIFICANCE else "unlikely to be chance"
    return (
        f"{verdict}: {row['better']:.0f} better, {row['worse']:.0f} worse of {questions} "
        f"({shown}, {chance})"
    )


# What an answer depends on besides the golden questions, as recorded in a run's meta.
_SETTINGS = (
    ("answerer", "answerer"),
    ("k", "k"),
    ("refusal_threshold", "refusal threshold"),
    ("collections", "collections"),
    ("user", "user"),
    ("followups_after", "what follow-ups were asked after"),
)


# What a run recorded nothing for meant, before it was recorded: follow-ups came after the
# golden answers.
_BEFORE_RECORDED = {"followups_after": "golden answer"}


def comparability(new: dict[str, Any], old: dict[str, Any]) -> list[str]:
    """Why two runs may differ for reasons other than the code: another index or settings."""
    notes = []
    before, after = old.get("index_fingerprint"), new.get("index_fingerprint")
    if not before or not after:
        notes.append("the baseline records no index fingerprint: it may come from another index")
    else:
        if before.get("build") != after.get("build"):
            notes.append(
                "the index was built differently (chunker, extraction, embedding model or chunk "
                f"settings): {before.get('build')} -> {after.get('build')}"
            )
        if before.get("documents") != after.get("documents"):
            notes.append(
                "the index holds other documents: "
                f"{before.get('document_count')} -> {after.get('document_count')} documents, "
                f"{before.get('chunk_count')} -> {after.get('chunk_count')} passages"
            )
    for key, label in _SETTINGS:
        before_value = old.get(key, _BEFORE_RECORDED.get(key))
        after_value = new.get(key, _BEFORE_RECORDED.get(key))
        if (key in old or key in _BEFORE_RECORDED) and before_value != after_value:
            notes.append(f"{label} differs: {before_value} -> {after_value}")
    return notes


def gate(comparison: dict[str, Any], tolerance: float = DEFAULT_GATE_TOLERANCE) -> dict[str, Any]:
    """The regression gate's verdict: what got worse by more than `tolerance` (a rate by that
    much, a length by that share of its baseline), and what broke. When the golden set changed
    (questions new or removed), the metrics are over other questions and do not gate: the
    questions both runs share are judged one by one, and `notes` says so."""
    if not 0 <= tolerance < math.inf:  # nan or inf would pass every regression
        raise ValueError("the tolerance is a finite non-negative number")
    reasons = [
        f"{row['id']} passed in the baseline and fails now: {row['question']}"
        for row in comparison["questions"]
        if row["change"] == "broke"
    ]
    added, removed = (
        sum(row["change"] == change for row in comparison["questions"])
        for change in ("new", "removed")
    )
    notes = []
    if added or removed:
        notes.append(
            f"the golden set changed ({added} new, {removed} removed): the metrics are over "
            "other questions and do not gate; the questions in both runs are judged one by one"
        )
    for row in [] if notes else comparison["metrics"]:
        name, before, after = row["metric"], row["old"], row["new"]
        if name not in METRICS or before is None or after is None:
            continue
        worse = before - after if higher_is_better(name) else after - before
        allowed = tolerance if is_rate(name) else tolerance * abs(before)
        if round(worse, 4) > allowed:  # result files keep 4 decimals
            shown = f"{tolerance:g}" if is_rate(name) else f"{tolerance * 100:g} % of the baseline"
            reasons.append(f"{name} got worse: {before:.3f} -> {after:.3f} (tolerance {shown})")
    return {"tolerance": tolerance, "failed": bool(reasons), "reasons": reasons, "notes": notes}


def format_comparison(comparison: dict[str, Any]) -> list[str]:
    """Terminal lines: new failures first, then changed metrics, fixed questions and notes."""
    lines = [f"compared with {comparison['against']}:"]
    rows = comparison["questions"]
    lines += [f"  broke: {r['id']} {r['question']}" for r in rows if r["change"] == "broke"]
    changed = [
        row for row in comparison["metrics"] if row["change"] in ("regression", "improvement")
    ]
    for row in sorted(changed, key=lambda r: r["change"] != "regression"):
        arrow = "▼" if row["change"] == "regression" else "▲"
        lines.append(
            f"  {arrow} {row['metric']}: {row['old']:.3f} -> {row['new']:.3f} ({row['change']})"
        )
    lines += [f"  fixed: {r['id']} {r['question']}" for r in rows if r["change"] == "fixed"]
    lines += [f"  new: {r['id']} {r['question']}" for r in rows if r["change"] == "new"]
    lines += [f"  removed: {r['id']} {r['question']}" for r in rows if r["change"] == "removed"]
    if len(lines) == 1:
        lines.append("  no metric or question changed")
    lines += [
        f"  paired {describe_paired(verdict, row)}"
        for verdict, row in comparison.get("paired", {}).items()
    ]
    lines += [f"  note: {note}" for note in comparison.get("notes", [])]
    verdict = comparison.get("gate")
    if verdict is not None:
        lines += [f"  note: {note}" for note in verdict.get("notes", [])]
        if verdict["failed"]:
            lines.append(f"REGRESSION ({len(verdict['reasons'])}):")
            lines += [f"! {reason}" for reason in verdict["reasons"]]
        else:
            lines.append(f"no regression against the baseline (tolerance {verdict['tolerance']:g})")
    return lines
