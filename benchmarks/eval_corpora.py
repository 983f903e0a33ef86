"""Evaluate on every golden corpus with the tuning / held-out protocol; refresh docs numbers.

    python -m benchmarks.eval_corpora [--work DIR] [--charts DIR] [--fit] [--only NAME ...]
    python -m benchmarks.eval_corpora --corpora seed --work DIR --charts DIR   # a quick check

1. Indexes each corpus into WORK (incremental: a second run only re-reads changed files).
2. `--fit`: fits the extractive answerer's models on all tuning corpora
   (`assistant.evaluation.calibrate`) and writes the shipped model file.
3. Leave-one-corpus-out: each tuning corpus is evaluated with a model fitted on the other
   tuning corpora; each held-out corpus with the shipped model (fitted on all tuning corpora,
   never on it).
4. Prints the table of docs/evaluation.md and copies each corpus's charts next to the docs.

`--only` with held-out corpora alone (and no `--fit`) indexes and reads only those: the shipped
model answers them. `--corpora` runs the whole protocol on those corpora alone; a tuning corpus
with no other tuning corpus selected is then evaluated with the shipped model (fitted on it too:
a check that the steps run, not a number to report). Timings depend on the machine and its
load.
"""

from __future__ import annotations

import argparse
import io
import json
import shutil
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

from assistant.answerers.extractive import MODEL_FILE
from assistant.core import Assistant
from assistant.evaluation.calibrate import Observation, fit, observe
from assistant.evaluation.command import EvalOptions, eval_command
from assistant.evaluation.golden import load_golden
from assistant.evaluation.results import EvalRun, load_run
from assistant.settings import Settings
from benchmarks.corpora import REPO, Corpus, all_corpora

SHIPPED_MODEL = REPO / "assistant" / "answerers" / MODEL_FILE

# The columns of the held-out table: (metric or label, heading).
COLUMNS = (
    ("hit_at_k", "right document in top-5"),
    ("key_term_at_k", "key fact in top-5"),
    ("key_term_hit_rate", "answer holds the key fact"),
    ("key_term_in_reach_rate", "answer or Also found holds it"),
    ("source_citation_rate", "answer cites the right document"),
    ("page_citation_rate", "PDF: cites the right page"),
    ("false_refusal_rate", "answerable refused"),
    ("refusal_recall", "unanswerable refused"),
    ("followup", "follow-ups correct"),
    ("followup_own", "follow-ups correct after its own answer"),
    ("answer_chars_p50", "median answer (chars)"),
    ("accuracy", "accuracy"),
)


def index_corpus(corpus: Corpus, work: Path) -> Settings:
    """Index one corpus (incrementally) and return settings pointing at its index."""
    settings = Settings().with_overrides(index_dir=work / f"{corpus.name}-index")
    started = time.perf_counter()
    report = Assistant(settings).ingest(list(corpus.paths), progress=None)
    if report.failed:
        raise SystemExit(f"{corpus.name}: could not index {[f.source for f in report.failed]}")
    seconds = time.perf_counter() - started
    print(f"{corpus.name}: {report.chunks} chunks ({seconds:.0f} s)", file=sys.stderr)
    return settings


def evaluate(
    corpus: Corpus, settings: Settings, model: Path, work: Path, charts: Path | None
) -> tuple[EvalRun, EvalRun | None]:
    """`assistant eval` of one corpus's golden set with the given model file; then of its
    follow-ups alone with `--own-answers` (None: it has none)."""
    out = work / f"{corpus.name}-report"
    answering = settings.with_overrides(extractive_model=model)
    eval_command(
        answering,
        EvalOptions(golden=(corpus.golden,), report=out, read_pyproject=False, progress=False),
        out=io.StringIO(),  # the summary goes to the table instead
    )
    if charts is not None:
        charts.mkdir(parents=True, exist_ok=True)
        for chart in ("metrics", "latency", "stages"):
            shutil.copy(out / f"{chart}.svg", charts / f"{corpus.name}-{chart}.svg")
    followups = [item for item in load_golden(corpus.golden) if item.kind == "followup"]
    if not followups:
        return load_run(out / "result.json"), None
    golden = work / f"{corpus.name}-followups.jsonl"
    golden.write_text(
        "".join(item.model_dump_json(exclude_defaults=True) + "\n" for item in followups), "utf-8"
    )
    own = work / f"{corpus.name}-own-report"
    eval_command(
        answering,
        EvalOptions(
            golden=(golden,), report=own, read_pyproject=False, progress=False, own_answers=True
        ),
        out=io.StringIO(),
    )
    return load_run(out / "result.json"), load_run(own / "result.json")


# The columns shown with their 95 % interval: a corpus of 40 answerable questions reads a
# rate of 0.60 as anything from about 0.45 to 0.74.
WITH_INTERVAL = ("key_term_hit_rate",)


def cell(run: EvalRun, column: str, own: EvalRun | None = None) -> str:
    """One table cell: a metric (the answer's with its 95 % interval), or the accuracy of
    follow-up questions (after the golden answer, or after the assistant's own in `own`)."""
    if column in ("followup", "followup_own"):
        chosen = run if column == "followup" else own
        row = None if chosen is None else chosen.by_label().get("followup")
        return "-" if row is None else f"{row['accuracy']:.2f} ({row['questions']:.0f})"
    value = run.metrics.get(column)
    if value is None:
        return "-"
    if column == "answer_chars_p50":
        return f"{value:.0f}"
    bounds = run.intervals.get(column) if column in WITH_INTERVAL else None
    return f"{value:.2f}" + (f" ({bounds['low']:.2f}-{bounds['high']:.2f})" if bounds else "")


def table(
    runs: dict[str, EvalRun],
    corpora: dict[str, Corpus],
    own: dict[str, EvalRun | None] | None = None,
) -> str:
    """The Markdown table of docs/evaluation.md: one row per corpus (`own`: each corpus's
    follow-ups asked after the assistant's own answers)."""
    headings = [f"{h} (95 % interval)" if c in WITH_INTERVAL else h for c, h in COLUMNS]
    head = "| corpus | role | questions | " + " | ".join(headings) + " | p95 ms |"
    lines = [head, "|" + "---|" * (len(COLUMNS) + 4)]
    for name, run in runs.items():
        role = corpora[name].role
        p95 = run.latency.get("total", {}).get("p95")
        lines.append(
            f"| {name} | {role} | {run.counts['questions']} | "
            + " | ".join(cell(run, c, (own or {}).get(name)) for c, _ in COLUMNS)
            + f" | {'-' if p95 is None else f'{p95:.0f}'} |"
        )
    return "\n".join(lines)


# The refusal thresholds the curve is read at (the fitted one is added).
CURVE_THRESHOLDS = (0.3, 0.35, 0.4, 0.45, 0.5, 0.55, 0.6)


def refusal_curve(runs: dict[str, EvalRun], corpora: dict[str, Corpus], fitted: float) -> str:
    """Refusal recall against false refusals per corpus, at a range of refusal thresholds.

    A cell is "unanswerable refused / answerable refused" had the answerer refused every
    question whose confidence is below that threshold (the extractive answerer refuses
    exactly those); the fitted threshold's column is marked. Read from the runs' recorded
    confidences: no question is asked again. A tuning corpus's confidences come from its
    leave-one-out model, whose own threshold refused its questions in the table, so the
    fitted column can differ from the table by a question or two.
    """
    thresholds = sorted({*CURVE_THRESHOLDS, round(fitted, 2)})
    head = "| corpus | role | " + " | ".join(
        f"**{t:.2f}** (fitted)" if t == round(fitted, 2) else f"{t:.2f}" for t in thresholds
    )
    lines = [head + " |", "|" + "---|" * (len(thresholds) + 2)]
    for name, run in runs.items():
        unanswerable = [i["confidence"] for i in run.items if i["kind"] == "unanswerable"]
        answerable = [
            i["confidence"] for i in run.items if i["kind"] != "unanswerable" and not i["draft"]
        ]

        def share(values: list[float], t: float) -> str:
            return "-" if not values else f"{sum(v < t for v in values) / len(values):.2f}"

        cells = [f"{share(unanswerable, t)} / {share(answerable, t)}" for t in thresholds]
        lines.append(f"| {name} | {corpora[name].role} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    """Index, optionally fit, evaluate leave-one-corpus-out, print the table."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--work", type=Path, help="where indexes and reports go (default: tmp)")
    parser.add_argument("--charts", type=Path, default=REPO / "docs" / "evaluation")
    parser.add_argument("--fit", action="store_true", help="refit the shipped model first")
    parser.add_argument("--only", nargs="*", help="evaluate only these corpora")
    parser.add_argument("--json", type=Path, help="also write the runs' metrics here")
    parser.add_argument("--corpora", nargs="*", help="the whole protocol on these corpora alone")
    args = parser.parse_args(argv)
    if args.fit and args.corpora:
        parser.error("--fit fits on every tuning corpus: it cannot be combined with --corpora")
    corpora = {n: c for n, c in all_corpora().items() if not args.corpora or n in args.corpora}
    missing = {name: c.missing[:3] for name, c in corpora.items() if not c.available}
    if missing:
        for name, paths in missing.items():
            print(f"{name}: missing {paths}: run `make corpora`", file=sys.stderr)
        return 2
    work = args.work or Path(tempfile.mkdtemp(prefix="assistant-eval-"))
    work.mkdir(parents=True, exist_ok=True)
    tuning = [name for name, c in corpora.items() if c.role == "tuning"]
    shown = [name for name in corpora if not args.only or name in args.only]
    if not args.fit and not any(name in tuning for name in shown):
        # Held-out corpora alone are answered by the shipped model: no tuning index is read.
        corpora = {name: corpora[name] for name in shown}
        tuning = []
    settings = {name: index_corpus(c, work) for name, c in corpora.items()}

    observations: dict[str, list[Observation]] = {}
    for name in tuning:
        assistant = Assistant(settings[name])
        observations[name] = observe(assistant, load_golden(corpora[name].golden), name)
    if args.fit:
        model = fit([o for name in tuning for o in observations[name]])
        SHIPPED_MODEL.write_text(json.dumps(model.to_json(), indent=1) + "\n", "utf-8")
        print(f"fitted on {', '.join(tuning)}: {SHIPPED_MODEL}", file=sys.stderr)

    runs: dict[str, EvalRun] = {}
    own: dict[str, EvalRun | None] = {}
    for name, corpus in corpora.items():
        if args.only and name not in args.only:
            continue
        if corpus.role == "tuning" and len(tuning) > 1:  # leave this corpus out of the fit
            others = [o for other in tuning if other != name for o in observations[other]]
            model_path = work / f"model-without-{name}.json"
            model_path.write_text(json.dumps(fit(others).to_json(), indent=1), "utf-8")
        else:
            model_path = SHIPPED_MODEL
        runs[name], own[name] = evaluate(corpus, settings[name], model_path, work, args.charts)
    print(table(runs, corpora, own))
    fitted = float(json.loads(SHIPPED_MODEL.read_text("utf-8"))["threshold"])
    print("\nRefusal curve (unanswerable refused / answerable refused):\n")
    print(refusal_curve(runs, corpora, fitted))
    if args.json:
        args.json.write_text(
            json.dumps(
                {
                    n: {
                        "metrics": r.metrics,
                        "by_label": r.by_label(),
                        "own_answers_by_label": None if own[n] is None else own[n].by_label(),
                    }
                    for n, r in runs.items()
                },
                indent=1,
            ),
            "utf-8",
        )
    print(f"reports: {work}/*-report/report.html", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
