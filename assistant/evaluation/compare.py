"""Compare a run with an earlier result: regressions and improvements per metric and question."""

from __future__ import annotations

from typing import Any

from assistant.evaluation.metrics import METRICS, higher_is_better
from assistant.evaluation.results import EvalRun

QUALITY_TOLERANCE = 0.001  # result files round to 4 decimals
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
        "metrics": metric_rows,
        "questions": question_rows,
        "summary": {
            name: changes.count(name)
            for name in ("regression", "improvement", "broke", "fixed", "new", "removed")
        },
    }


def format_comparison(comparison: dict[str, Any]) -> list[str]:
    """Terminal lines: changed metrics, then questions that broke or were fixed."""
    lines = [f"compared with {comparison['against']}:"]
    changed = [
        row for row in comparison["metrics"] if row["change"] in ("regression", "improvement")
    ]
    for row in changed:
        arrow = "▼" if row["change"] == "regression" else "▲"
        lines.append(
            f"  {arrow} {row['metric']}: {row['old']:.3f} -> {row['new']:.3f} ({row['change']})"
        )
    for row in comparison["questions"]:
        if row["change"] in ("broke", "fixed"):
            lines.append(f"  {row['change']}: {row['id']} {row['question']}")
    if len(lines) == 1:
        lines.append("  no metric or question changed")
    return lines
