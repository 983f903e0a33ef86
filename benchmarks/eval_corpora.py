"""Evaluate the assistant on both corpora and refresh the numbers and charts of docs/evaluation.md.

    python -m benchmarks.eval_corpora [--work DIR] [--charts docs/evaluation] [--answerer NAME]

Indexes each corpus into WORK (incremental: a second run only re-reads changed files), runs
`assistant eval` on its golden set, copies the charts (SVG) next to the docs and prints a
Markdown table of every metric. Timings depend on the machine and its load.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

from assistant.core import Assistant
from assistant.evaluation.command import EvalOptions, eval_command
from assistant.evaluation.metrics import METRICS
from assistant.evaluation.results import EvalRun, load_run
from assistant.settings import Settings
from benchmarks.corpora import CORPORA, PYDOCS_ROOT, REPO


def evaluate_corpus(name: str, work: Path, charts: Path, answerer: str | None) -> EvalRun:
    """Index one corpus, evaluate its golden set and copy its charts."""
    paths, golden = CORPORA[name]
    settings = Settings().with_overrides(index_dir=work / f"{name}-index", answerer=answerer)
    started = time.perf_counter()
    report = Assistant(settings).ingest(paths, progress=None)
    if report.failed:
        raise SystemExit(f"{name}: could not index {[f.source for f in report.failed]}")
    print(f"{name}: {report.chunks} chunks, indexed in {time.perf_counter() - started:.0f} s")
    out = work / f"{name}-report"
    eval_command(settings, EvalOptions(golden=(golden,), report=out, read_pyproject=False))
    charts.mkdir(parents=True, exist_ok=True)
    for chart in ("metrics", "latency", "stages"):
        shutil.copy(out / f"{chart}.svg", charts / f"{name}-{chart}.svg")
    return load_run(out / "result.json")


def markdown_table(runs: dict[str, EvalRun]) -> str:
    """Every metric of every run, one column per corpus."""
    names = list(runs)
    lines = ["| metric | " + " | ".join(names) + " |", "|---|" + "---|" * len(names)]
    for metric in METRICS.values():
        values = [runs[name].metrics.get(metric.name) for name in names]
        shown = ["n/a" if v is None else f"{v:.3f}" for v in values]
        lines.append(f"| {metric.label} | " + " | ".join(shown) + " |")
    for stage in ("retrieve", "answer", "total"):
        shown = [
            f"{runs[n].latency[stage]['p50']:.0f} / {runs[n].latency[stage]['p95']:.0f}"
            if stage in runs[n].latency
            else "n/a"
            for n in names
        ]
        lines.append(f"| {stage} p50 / p95 (ms) | " + " | ".join(shown) + " |")
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    """Run both corpora and print the table."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--work", type=Path, help="where indexes and reports go (default: tmp)")
    parser.add_argument("--charts", type=Path, default=REPO / "docs" / "evaluation")
    parser.add_argument("--answerer", help="answerer backend (default: settings)")
    args = parser.parse_args(argv)
    if not PYDOCS_ROOT.is_dir():
        print(f"{PYDOCS_ROOT} is missing: run `make system-deps`", file=sys.stderr)
        return 2
    work = args.work or Path(tempfile.mkdtemp(prefix="assistant-eval-"))
    runs = {name: evaluate_corpus(name, work, args.charts, args.answerer) for name in CORPORA}
    print(markdown_table(runs))
    print(f"reports: {work}/*-report/report.html")
    return 0


if __name__ == "__main__":
    sys.exit(main())
