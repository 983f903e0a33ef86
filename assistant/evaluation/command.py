"""`assistant eval` and `assistant eval generate`: run a golden set, write the report, check it."""

from __future__ import annotations

import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TextIO

from assistant.atomic import write_text_atomic
from assistant.command_options import index_folder_missing
from assistant.evaluation.config import (
    EvalConfigError,
    Threshold,
    describe_check,
    find_pyproject,
    load_config,
    merge_thresholds,
)
from assistant.evaluation.golden import GoldenItem
from assistant.evaluation.metrics import METRICS
from assistant.evaluation.results import FOLLOWUPS_AFTER, EvalRun, followups_note
from assistant.settings import Settings

EXIT_OK = 0
EXIT_THRESHOLDS = 1
DEFAULT_REPORT = Path("eval-report")


@dataclass(frozen=True)
class EvalOptions:
    """What the command line asked for (None: take it from pyproject.toml or settings)."""

    golden: tuple[Path, ...] = ()
    index: Path | None = None
    answerer: str | None = None
    k: int | None = None
    collections: tuple[str, ...] | None = None  # None: every collection
    user: str | None = None  # ask as this user (reads only what they may); None: unrestricted
    report: Path | None = None
    compare: Path | None = None
    fail_on_regression: bool = False
    tolerance: float | None = None  # None: from pyproject.toml, else DEFAULT_GATE_TOLERANCE
    thresholds: tuple[Threshold, ...] = ()
    calibrate: bool = False
    include_drafts: bool = False
    own_answers: bool = False  # follow-ups after the assistant's own answer (runner.evaluate)
    pyproject: Path | None = None
    read_pyproject: bool = True  # False: ignore any pyproject.toml (for scripts and tests)
    progress: bool | None = None  # None: when stderr is a terminal


def resolve(options: EvalOptions, settings: Settings) -> tuple[Settings, EvalOptions]:
    """Merge the command line over `[tool.assistant.eval]` over settings."""
    pyproject = options.pyproject or find_pyproject(Path.cwd())
    config = load_config(pyproject if options.read_pyproject else None)
    golden = options.golden or config.golden
    if not golden:
        raise EvalConfigError(
            "give a golden file (assistant eval GOLDEN) or set golden in [tool.assistant.eval]"
        )
    settings = settings.with_overrides(
        index_dir=options.index or config.index,
        answerer=options.answerer or config.answerer,
        top_k=options.k or config.k,
        question_log_days=0,  # golden questions are not what staff asked: not in the log
    )
    if config.documents and not (options.index or config.index) and index_folder_missing(settings):
        raise EvalConfigError(
            f"no index at {settings.index_dir}: `documents` in [tool.assistant.eval] is indexed "
            "by the pytest plugin only; run `assistant ingest DOCS --index DIR` and set `index` "
            "(or pass --index)"
        )
    merged = EvalOptions(
        golden=tuple(golden),
        index=settings.index_dir,
        answerer=settings.answerer,
        k=settings.top_k,
        collections=options.collections,
        user=options.user,
        report=options.report or config.report or DEFAULT_REPORT,
        compare=options.compare or config.compare,
        fail_on_regression=options.fail_on_regression or config.fail_on_regression,
        tolerance=options.tolerance if options.tolerance is not None else config.tolerance,
        thresholds=merge_thresholds(config.thresholds, list(options.thresholds)),
        calibrate=options.calibrate,
        include_drafts=options.include_drafts or config.include_drafts,
        own_answers=options.own_answers or config.own_answers,
        pyproject=config.source,
        progress=options.progress,
    )
    return settings, merged


def check_answerer(settings: Settings) -> None:
    """A clear error for an unknown answerer name, before any work."""
    from assistant.answerers import create_answerer

    try:
        create_answerer(settings.answerer, settings)
    except ValueError as exc:
        raise EvalConfigError(str(exc)) from None


def run_evaluation(
    settings: Settings,
    items: Sequence[GoldenItem],
    meta: dict[str, Any],
    progress: bool | None = None,
    collections: Sequence[str] | None = None,
    user: str | None = None,
    own_answers: bool = False,
) -> EvalRun:
    """Evaluate items with a fresh Assistant (a progress bar on a terminal); follow-ups after
    the assistant's own answers with `own_answers`."""
    from tqdm import tqdm

    from assistant.core import Assistant
    from assistant.evaluation.runner import evaluate

    assistant = Assistant(settings)
    fingerprint = assistant.index_fingerprint()
    member = None if user is None else assistant.accounts.user(user)
    if user is not None and member is None:
        raise EvalConfigError(f"no user {user!r} in {settings.index_dir} (assistant users list)")
    show = sys.stderr.isatty() if progress is None else progress
    started = time.perf_counter()
    with tqdm(total=len(items), desc="eval", unit="q", disable=not show, file=sys.stderr) as bar:
        tally = [0, 0]  # questions judged, correct

        def advance(result: Any) -> None:
            tally[0] += 1
            tally[1] += result.correct
            bar.update(1)
            bar.set_postfix(accuracy=f"{tally[1] / tally[0]:.2f}")

        results = evaluate(
            assistant,
            items,
            on_result=advance,
            k=settings.top_k,
            collections=collections,
            user=member,
            own_answers=own_answers,
        )
    meta = {
        **meta,
        "index": str(settings.index_dir),
        "index_fingerprint": None if fingerprint is None else fingerprint.to_json(),
        "answerer": settings.answerer,
        "k": settings.top_k,
        "collections": None if collections is None else list(collections),
        "user": user,
        "refusal_threshold": settings.refusal_threshold,
        "followups_after": FOLLOWUPS_AFTER[own_answers],
        "created": datetime.now(UTC).isoformat(timespec="seconds"),
        "seconds": round(time.perf_counter() - started, 2),
    }
    return EvalRun.from_results(results, meta)


def eval_command(settings: Settings, options: EvalOptions, out: TextIO = sys.stdout) -> int:
    """Run `assistant eval`; returns 0, or 1 when a threshold or the regression gate fails."""
    from assistant.evaluation.compare import (
        DEFAULT_GATE_TOLERANCE,
        compare,
        format_comparison,
        gate,
    )
    from assistant.evaluation.golden import load_golden_files
    from assistant.evaluation.results import load_run

    given_tolerance = options.tolerance is not None  # on the command line, not pyproject's
    settings, options = resolve(options, settings)
    check_answerer(settings)
    if options.fail_on_regression and options.compare is None:
        raise EvalConfigError("--fail-on-regression needs a baseline: --compare BASELINE.json")
    if options.tolerance is not None and options.tolerance < 0:
        raise EvalConfigError(f"the tolerance must be 0 or more, got {options.tolerance:g}")
    if given_tolerance and not options.fail_on_regression:
        raise EvalConfigError(
            "--tolerance is the regression gate's: use it with --compare BASELINE.json "
            "--fail-on-regression"
        )
    old = load_run(options.compare) if options.compare else None  # fail before the long run
    items = load_golden_files(list(options.golden))
    limit = settings.max_question_chars
    too_long = [item.id for item in items if len(item.question) > limit]
    if too_long:
        raise EvalConfigError(
            f"{counted(len(too_long), 'question')} over the {limit}-character limit "
            f"(max_question_chars): {', '.join(too_long[:5])}"
        )
    drafts = [item for item in items if item.draft]
    if not options.include_drafts:
        items = [item for item in items if not item.draft]
    if not items and not drafts:
        raise EvalConfigError("nothing to evaluate: the golden files hold no questions")
    if not items:
        raise EvalConfigError(
            f"nothing to evaluate: all {len(drafts)} questions are unreviewed drafts "
            "(review them and drop `draft: true`, or pass --include-drafts)"
        )
    report = options.report or DEFAULT_REPORT
    _check_writable(report)  # before the long run, not after it
    meta = {
        "golden": [str(path) for path in options.golden],
        "skipped_drafts": 0 if options.include_drafts else len(drafts),
    }
    if options.collections is not None or options.user is not None:
        from assistant.core import Assistant

        checking = Assistant(settings)
        member = None if options.user is None else checking.accounts.user(options.user)
        if options.user is not None and member is None:
            raise EvalConfigError(f"no user {options.user!r} (assistant users list)")
        checking.check_collections(options.collections, member)  # before the long run
    run = run_evaluation(
        settings,
        items,
        meta,
        options.progress,
        options.collections,
        options.user,
        options.own_answers,
    )
    run = run.with_(checks=[threshold.check(run.metrics) for threshold in options.thresholds])
    if old is not None:
        comparison = compare(run, old, str(options.compare))
        if options.fail_on_regression:
            tolerance = DEFAULT_GATE_TOLERANCE if options.tolerance is None else options.tolerance
            comparison["gate"] = gate(comparison, tolerance)
        run = run.with_(comparison=comparison)
    paths = write_report(run, report)
    print("\n".join(format_summary(run)), file=out)
    if run.comparison:
        print("\n".join(format_comparison(run.comparison)), file=out)
    if options.calibrate:
        from assistant.core import Assistant
        from assistant.evaluation.calibrate import fit_threshold

        if settings.answerer != "extractive":
            print("note: --calibrate fits the extractive answerer's refusal_threshold", file=out)
        print(fit_threshold(Assistant(settings), items).describe(), file=out)
    print(f"report: {paths['html']}  result: {paths['json']}", file=out)
    return EXIT_OK if run.passed else EXIT_THRESHOLDS


# The files of a report, by what they hold.
REPORT_FILES = {
    "json": "result.json",
    "html": "report.html",
    "metrics": "metrics.svg",
    "latency": "latency.svg",
    "stages": "stages.svg",
}


def _check_writable(directory: Path) -> None:
    """The report's folder exists (made now) and takes its files (EvalConfigError otherwise)."""
    if directory.exists() and not directory.is_dir():
        raise EvalConfigError(f"cannot write the report to {directory}: it is a file, not a folder")
    for name in REPORT_FILES.values():
        if (directory / name).is_dir():
            raise EvalConfigError(
                f"cannot write the report to {directory}: {name} there is a folder"
            )
    try:
        directory.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=directory, prefix=".write-check-"):
            pass
    except OSError as exc:
        raise EvalConfigError(
            f"cannot write the report to {directory}: {exc.strerror or exc}"
        ) from None


def write_report(run: EvalRun, directory: Path) -> dict[str, Path]:
    """Write result.json, report.html and the charts as SVG files into `directory`."""
    from assistant.evaluation.charts import latency_histogram, metric_bars, stage_bars
    from assistant.evaluation.html import render_report

    directory.mkdir(parents=True, exist_ok=True)
    paths = {kind: directory / name for kind, name in REPORT_FILES.items()}
    run.write(paths["json"])
    write_text_atomic(paths["html"], render_report(run))
    write_text_atomic(paths["metrics"], metric_bars(run.metrics, run.compared_metrics()))
    write_text_atomic(paths["latency"], latency_histogram(run.total_latencies()))
    write_text_atomic(paths["stages"], stage_bars(run.latency))
    return paths


# The rates whose 95 % interval the summary prints (the result file has every rate's).
HEADLINE_RATES = (
    "accuracy", "key_term_hit_rate", "source_citation_rate", "false_refusal_rate",
    "refusal_recall",
)  # fmt: skip


def counted(number: int, noun: str) -> str:
    """A count and its noun: "1 question", "3 questions"."""
    return f"{number} {noun}{'' if number == 1 else 's'}"


def format_summary(run: EvalRun) -> list[str]:
    """The metrics by group, latency, and the threshold checks, for a terminal."""
    counts = run.counts
    lines = [
        f"{counted(counts['questions'], 'question')} ({counts['unanswerable']} unanswerable): "
        f"{counts['answered']} answered, {counts['refused']} refused, "
        f"{counted(counts['errors'], 'error')}"
    ]
    if run.meta.get("skipped_drafts"):
        drafts = counted(run.meta["skipped_drafts"], "unreviewed draft question")
        lines.append(f"skipped {drafts}")
    note = followups_note(run.meta)
    if note is not None:
        lines.append(note)
    groups: dict[str, list[str]] = {}
    for metric in METRICS.values():
        value = run.metrics.get(metric.name)
        shown = "n/a" if value is None else f"{value:.3f}"
        groups.setdefault(metric.group, []).append(f"{metric.name} {shown}")
    lines += [f"{group:>10}: " + ", ".join(values) for group, values in groups.items()]
    spans = [
        f"{name} {bounds['low']:.2f}-{bounds['high']:.2f} of {bounds['n']:.0f}"
        for name in HEADLINE_RATES
        if (bounds := run.intervals.get(name))
    ]
    if spans:
        lines.append(f"{'95% CI':>10}: " + ", ".join(spans))
    labels = ", ".join(
        f"{label} {row['correct']:.0f}/{row['questions']:.0f}"
        for label, row in run.by_label().items()
    )
    lines.append(f"{'by label':>10}: correct/questions: {labels}")
    latency = ", ".join(
        f"{stage} {row['p50']:.0f}/{row['p95']:.0f}" for stage, row in run.latency.items()
    )
    lines.append(f"{'latency':>10}: p50/p95 ms: {latency}")
    failing = [item for item in run.items if not item["verdict"]["passed"]]
    lines.append(f"{len(failing)} of {len(run.items)} questions fail:")
    lines += [f"  {item['id']}: {'; '.join(item['verdict']['failures'])}" for item in failing[:10]]
    if len(failing) > 10:
        lines.append(f"  ... and {len(failing) - 10} more (see the report)")
    lines += [("  " if check["ok"] else "! ") + describe_check(check) for check in run.checks]
    return lines


def generate_command(
    settings: Settings,
    out_path: Path | None,
    n: int,
    answerer: str | None,
    append: bool,
    seed: int = 0,
    out: TextIO = sys.stdout,
) -> int:
    """Run `assistant eval generate`: draft questions into a golden file (or stdout)."""
    from assistant.core import Assistant
    from assistant.evaluation.generate import draft_items, draft_questions, next_draft_number
    from assistant.evaluation.golden import dumps_golden, load_golden, write_golden

    existing: list[GoldenItem] = []
    if out_path is not None and out_path.exists():
        if not append:
            raise EvalConfigError(f"{out_path} exists: pass --append to add drafts to it")
        existing = load_golden(out_path)
    assistant = Assistant(settings)
    assistant.retrieve("index check", 1)  # a clear error when there is no index
    ask = None
    if answerer is not None:
        check_answerer(settings.with_overrides(answerer=answerer))
        asking = Assistant(settings.with_overrides(answerer=answerer))

        def ask(question: str) -> tuple[str, list[str]] | None:
            reply = asking.ask(question)
            return None if reply.refused else (reply.text, [c.source for c in reply.citations])

    known_quotes = frozenset(s.quote for item in existing for s in item.sources if s.quote)
    start = next_draft_number(item.id for item in existing)
    drafts = draft_items(draft_questions(assistant, n, seed, known_quotes), start, ask)
    if out_path is None:
        out.write(dumps_golden(drafts))
    else:
        write_golden(existing + drafts, out_path)
        print(f"wrote {len(drafts)} draft question(s) to {out_path}; review each and drop "
              "`draft: true` to include it in `assistant eval`", file=sys.stderr)  # fmt: skip
    return EXIT_OK
