"""Aggregate item verdicts into named metrics, and the JSON result file that records a run."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, NamedTuple

from assistant.atomic import write_text_atomic
from assistant.evaluation import metrics as m
from assistant.evaluation.attribution import Attribution
from assistant.evaluation.config import EvalInputError
from assistant.evaluation.metrics import latency_metric
from assistant.evaluation.runner import ItemResult
from assistant.text import contains_key_term

SCHEMA = "assistant-eval/1"
# What a run's follow-ups were asked after (its meta's "followups_after", `--own-answers`).
FOLLOWUPS_AFTER = {False: "golden answer", True: "own answer"}


def followups_note(meta: dict[str, Any]) -> str | None:
    """The report's line for a run whose follow-ups came after the assistant's own answers."""
    if meta.get("followups_after") != FOLLOWUPS_AFTER[True]:
        return None
    return "follow-ups asked after the assistant's own answer to the question before"


# Stages reported first, in pipeline order; any other timing key follows alphabetically.
STAGE_ORDER = (
    "retrieve", "embed", "dense", "lexical", "fuse", "answer", "gate", "generate", "verify"
)  # fmt: skip
RETRIEVE_PARTS = ("embed", "dense", "lexical", "fuse")


def stage_timings(timings: dict[str, float]) -> dict[str, float]:
    """An answer's timings plus a derived `retrieve` stage (the sum of its parts)."""
    stages = dict(timings)
    parts = [timings[key] for key in RETRIEVE_PARTS if key in timings]
    if parts:
        stages["retrieve"] = sum(parts)
    return stages


class _Subsets(NamedTuple):
    """The questions the metrics are over: without an error, answerable, answered (not
    refused), the attributions of the answered ones, and the refused ones."""

    ok: list[ItemResult]
    answerable: list[ItemResult]
    answered: list[ItemResult]
    judged: list[Attribution]
    refused: list[ItemResult]


def _subsets(results: Sequence[ItemResult]) -> _Subsets:
    ok = [r for r in results if r.error is None]
    answered = [r for r in ok if not r.answer.refused]
    return _Subsets(
        ok,
        [r for r in ok if r.item.answerable],
        answered,
        [r.attribution for r in answered if r.attribution is not None],
        [r for r in ok if r.answer.refused],
    )


def rate_flags(results: Sequence[ItemResult]) -> dict[str, list[bool]]:
    """The yes/no verdicts each rate metric counts, over the questions it applies to (over the
    answers' sentences for faithfulness): the one place that says what a rate is over, read by
    its value and its interval."""
    ok, answerable, answered, judged, refused = _subsets(results)
    return {
        "accuracy": [r.correct for r in results],  # an error counts as wrong
        "pass_rate": [r.passed for r in results],
        "key_term_hit_rate": [r.key_term_hit for r in answerable],
        "key_term_in_reach_rate": [r.key_term_in_reach for r in answerable],
        "valid_citation_rate": [a.has_valid_citation for a in judged],
        "source_citation_rate": [
            r.cited_expected_source for r in answered if r.item.answerable and r.item.sources
        ],
        "page_citation_rate": [
            r.cited_expected_page
            for r in answered
            if r.item.answerable and r.cited_expected_page is not None
        ],
        "faithfulness": [s.supported for a in judged for s in a.sentences],
        "refusal_precision": [not r.item.answerable for r in refused],
        "refusal_recall": [r.answer.refused for r in ok if not r.item.answerable],
        "refusal_accuracy": [r.answer.refused == (not r.item.answerable) for r in ok],
        "false_refusal_rate": [r.answer.refused for r in answerable],
    }


def summarize(results: Sequence[ItemResult]) -> tuple[dict[str, float | None], dict[str, int]]:
    """Every metric (None where it does not apply) and the counts it rests on."""
    ok, answerable, answered, judged, refused = _subsets(results)
    retrieval = [r.retrieval for r in answerable if r.retrieval is not None]
    with_answers = [r for r in answerable if r.item.key_terms]
    evidence = [v.evidence_at_k for v in retrieval if v.evidence_at_k is not None]
    measured: dict[str, float | None] = {
        **{name: m.rate(flags) for name, flags in rate_flags(results).items()},
        "exact_match": m.mean([r.exact_match for r in with_answers]),
        "f1": m.mean([r.f1 for r in with_answers]),
        "answer_chars_p50": m.percentile([float(len(r.answer.text)) for r in answered], 50),
        "hit_at_k": m.mean([v.hit_at_k for v in retrieval]),
        "recall_at_k": m.mean([v.recall_at_k for v in retrieval]),
        "mrr": m.mean([v.reciprocal_rank for v in retrieval]),
        "ndcg_at_10": m.mean([v.ndcg_at_10 for v in retrieval]),
        "evidence_at_k": m.mean(evidence),
        "key_term_at_k": m.mean(
            [v.key_term_at_k for v in retrieval if v.key_term_at_k is not None]
        ),
        # ALCE: an answer with no citation at all scores 0 precision.
        "citation_precision": m.mean([a.citation_precision or 0.0 for a in judged]),
        "citation_recall": m.mean([a.citation_recall or 0.0 for a in judged]),
    }
    values = {name: measured[name] for name in m.METRICS}  # in the order they are listed
    counts = {
        "questions": len(results),
        "answerable": sum(r.item.answerable for r in results),
        "unanswerable": sum(not r.item.answerable for r in results),
        "answered": len(answered),
        "refused": len(refused),
        "errors": len(results) - len(ok),
        "with_sources": len(retrieval),
        "sentences": sum(len(a.sentences) for a in judged),
        "citations": sum(len(a.citations) for a in judged),
    }
    return values, counts


# Rates over sentences, not questions: the sentences of one answer are not independent
# draws, so an interval over them would look surer than it is.
_NOT_OVER_QUESTIONS = frozenset({"faithfulness"})


def rate_intervals(results: Sequence[ItemResult]) -> dict[str, dict[str, float]]:
    """Each rate of questions with its 95 % interval (Wilson) and the number of questions it is
    over: on a golden set of 40 questions one question is 2.5 points, and a rate of 0.60 could
    as well be 0.45 or 0.74 (`metrics.rate_interval`)."""
    table = {}
    for name, flags in rate_flags(results).items():
        bounds = None if name in _NOT_OVER_QUESTIONS else m.rate_interval(flags)
        if bounds is not None:
            table[name] = {"low": bounds[0], "high": bounds[1], "n": float(len(flags))}
    return table


def latency(results: Sequence[ItemResult]) -> dict[str, dict[str, float]]:
    """p50, p95, mean and max per stage over the answers that have that stage."""
    samples: dict[str, list[float]] = {}
    for result in results:
        if result.error is None:
            for stage, value in stage_timings(result.answer.timings_ms).items():
                samples.setdefault(stage, []).append(value)
    ordered = [s for s in STAGE_ORDER if s in samples]
    ordered += sorted(s for s in samples if s not in STAGE_ORDER and s != "total")
    ordered += ["total"] if "total" in samples else []
    table = {}
    for stage in ordered:
        values = samples[stage]
        table[stage] = {
            "p50": round(m.percentile(values, 50) or 0.0, 3),
            "p95": round(m.percentile(values, 95) or 0.0, 3),
            "mean": round(m.mean(values) or 0.0, 3),
            "max": round(max(values), 3),
            "n": float(len(values)),
        }
    return table


@dataclass(frozen=True)
class EvalRun:
    """One evaluation: what ran, the metrics, latency per stage, and a record per question."""

    meta: dict[str, Any]
    metrics: dict[str, float | None]
    counts: dict[str, int]
    latency: dict[str, dict[str, float]]
    items: list[dict[str, Any]]
    checks: list[dict[str, Any]] = field(default_factory=list)
    comparison: dict[str, Any] | None = None
    # Each rate metric's 95 % interval and question count (`rate_intervals`); a result file
    # written before intervals has none.
    intervals: dict[str, dict[str, float]] = field(default_factory=dict)

    @classmethod
    def from_results(cls, results: Sequence[ItemResult], meta: dict[str, Any]) -> EvalRun:
        """Aggregate judged results into a run."""
        values, counts = summarize(results)
        table = latency(results)
        for stage, row in table.items():
            values[latency_metric(stage, 50)] = row["p50"]
            values[latency_metric(stage, 95)] = row["p95"]
        items = [item_record(r) for r in results]
        return cls(meta, values, counts, table, items, intervals=rate_intervals(results))

    def by_label(self) -> dict[str, dict[str, float]]:
        """Per question label (`kind`): how many questions, how many correct, the accuracy."""
        table: dict[str, dict[str, float]] = {}
        for item in self.items:
            row = table.setdefault(item["kind"], {"questions": 0, "correct": 0})
            row["questions"] += 1
            row["correct"] += bool(item["verdict"]["correct"])
        for row in table.values():
            row["accuracy"] = row["correct"] / row["questions"]
        return dict(sorted(table.items()))

    def total_latencies(self) -> list[float]:
        """Total milliseconds of every answered (not errored) question."""
        return [item["timings_ms"]["total"] for item in self.items if "total" in item["timings_ms"]]

    def compared_metrics(self) -> dict[str, float | None] | None:
        """The compared run's metric values, if this run was compared."""
        if not self.comparison:
            return None
        return {row["metric"]: row["old"] for row in self.comparison["metrics"]}

    @property
    def passed(self) -> bool:
        """Whether every threshold check passed and the regression gate, if asked for, too."""
        gate = (self.comparison or {}).get("gate")
        return all(check["ok"] for check in self.checks) and not (gate and gate["failed"])

    def with_(self, **changes: Any) -> EvalRun:
        """A copy with some fields replaced."""
        return replace(self, **changes)

    def to_json(self) -> dict[str, Any]:
        """The documented result-file shape."""
        return {
            "schema": SCHEMA,
            "meta": self.meta,
            "metrics": {k: None if v is None else round(v, 4) for k, v in self.metrics.items()},
            "intervals": {
                name: {key: round(value, 4) for key, value in bounds.items()}
                for name, bounds in self.intervals.items()
            },
            "counts": self.counts,
            "latency_ms": self.latency,
            "checks": self.checks,
            "comparison": self.comparison,
            "items": self.items,
        }

    def write(self, path: Path) -> None:
        """Write the result file (UTF-8 JSON)."""
        write_text_atomic(path, json.dumps(self.to_json(), ensure_ascii=False, indent=1))


class ResultFileError(EvalInputError):
    """A result file to compare with cannot be read."""


def load_run(path: Path) -> EvalRun:
    """Read a result file written by `EvalRun.write`."""
    try:
        data = json.loads(path.read_text("utf-8"))
    except json.JSONDecodeError as exc:
        raise ResultFileError(
            f"{path} is not an `assistant eval` result file (result.json): not one JSON "
            f"document ({exc.msg} at line {exc.lineno})"
        ) from exc
    except (OSError, UnicodeDecodeError) as exc:
        raise ResultFileError(f"cannot read result file {path}: {exc}") from exc
    if not isinstance(data, dict) or data.get("schema") != SCHEMA:
        raise ResultFileError(f"{path} is not an `assistant eval` result file ({SCHEMA})")
    return EvalRun(
        meta=data.get("meta", {}),
        metrics=data.get("metrics", {}),
        counts=data.get("counts", {}),
        latency=data.get("latency_ms", {}),
        items=data.get("items", []),
        checks=data.get("checks", []),
        comparison=data.get("comparison"),
        intervals=data.get("intervals", {}),
    )


def item_record(result: ItemResult) -> dict[str, Any]:
    """One question's record in the result file: expected, given, and the verdicts."""
    item, answer, attribution = result.item, result.answer, result.attribution
    valid: dict[int, bool] = {}
    evidence: dict[int, bool] = {}
    for verdict in attribution.citations if attribution else ():
        valid[verdict.citation_id] = valid.get(verdict.citation_id, True) and verdict.valid
        evidence[verdict.citation_id] = evidence.get(verdict.citation_id, False) or verdict.evidence
    retrieval = result.retrieval
    return {
        "id": item.id,
        "question": item.question,
        "kind": item.kind,
        "draft": item.draft,
        "history": [message.model_dump() for message in item.history],
        "expected": {
            "answers": list(item.answers),
            "must_contain_any": list(item.must_contain_any),
            "sources": [source.model_dump() for source in item.sources],
        },
        "answer": answer.text,
        "refused": answer.refused,
        "confidence": round(answer.confidence, 4),
        "standalone_question": answer.standalone_question,
        "citations": [
            {
                **citation.model_dump(exclude={"doc_id", "title"}),
                "valid": valid.get(citation.id),
                "evidence": evidence.get(citation.id, False),
            }
            for citation in answer.citations
        ],
        # The sentences listed under "Also found", where each is, and whether each holds a
        # key term: a miss there is the window choice's, not retrieval's.
        "related": [
            {
                **passage.model_dump(include={"source", "start", "end", "page", "section", "text"}),
                "holds_key_term": contains_key_term(passage.text, item.key_terms),
            }
            for passage in answer.related
        ],
        "sentences": [
            {
                "text": s.text,
                "citations": list(s.citation_ids),
                "support": round(s.support, 3),
                "supported": s.supported,
                "covered": s.covered,
            }
            for s in (attribution.sentences if attribution else ())
        ],
        "timings_ms": {k: round(v, 2) for k, v in stage_timings(answer.timings_ms).items()},
        "verdict": {
            "correct": result.correct,
            "passed": result.passed,
            "failures": result.failures,
            "key_term_hit": result.key_term_hit,
            "key_term_in_reach": result.key_term_in_reach,
            "cited_expected_source": result.cited_expected_source,
            "exact_match": result.exact_match,
            "f1": round(result.f1, 4),
            "citation_precision": attribution.citation_precision if attribution else None,
            "citation_recall": attribution.citation_recall if attribution else None,
            "retrieval": None
            if retrieval is None
            else {
                "ranked_sources": list(retrieval.ranked_sources),
                "hit_at_k": retrieval.hit_at_k,
                "recall_at_k": retrieval.recall_at_k,
                "reciprocal_rank": round(retrieval.reciprocal_rank, 4),
                "ndcg_at_10": round(retrieval.ndcg_at_10, 4),
                "evidence_at_k": retrieval.evidence_at_k,
                "key_term_at_k": retrieval.key_term_at_k,
            },
        },
        "error": result.error,
    }
