"""Compare answerers on the golden sets: accuracy, refusals, citation support, latency.

    .venv/bin/python -m benchmarks.answerers                    # extractive and llamacpp, seed set
    .venv/bin/python -m benchmarks.answerers --set pydocs --answerer llamacpp --gate 0
    .venv/bin/python -m benchmarks.answerers --json results.json

Builds a temporary index of the set's corpus (seeds/, or the Debian python3.11-doc pages listed
in tests/golden/pydocs_corpus.txt), asks every question through `assistant.evaluation.runner.
evaluate` and prints one table row per configuration. Numbers go to docs/answerers.md.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from assistant import Assistant, Settings
from assistant.evaluation.golden import load_golden
from assistant.evaluation.runner import ItemResult, evaluate

REPO = Path(__file__).resolve().parents[1]
GOLDEN = REPO / "tests" / "golden"
PYDOCS_ROOT = Path("/usr/share/doc/python3.11/html")


def corpus(name: str) -> list[Path]:
    """The files a golden set is asked of."""
    if name == "seed":
        return [REPO / "seeds"]
    listing = (GOLDEN / "pydocs_corpus.txt").read_text(encoding="utf-8").splitlines()
    files = [PYDOCS_ROOT / line.strip() for line in listing if line.strip() and line[0] != "#"]
    missing = [str(f) for f in files if not f.is_file()]
    if missing:
        sys.exit(f"missing {len(missing)} pydocs pages (apt-get install python3.11-doc)")
    return files


def summarize(results: list[ItemResult], seconds: float) -> dict[str, Any]:
    """The headline numbers of one run."""
    answerable = [r for r in results if r.item.answerable]
    unanswerable = [r for r in results if not r.item.answerable]
    answered = [r for r in results if not r.answer.refused]
    supports = [r.answer.support for r in answered if r.answer.support is not None]
    latencies = [r.answer.timings_ms.get("total", 0.0) for r in results]
    generated = [r for r in results if "generate" in r.answer.timings_ms]
    return {
        "questions": len(results),
        "accuracy": _share(r.correct for r in results),
        "refusal_accuracy": _share(r.answer.refused for r in unanswerable),
        "answered_correctly": _share(r.correct for r in answerable),
        "wrongly_refused": _share(r.answer.refused for r in answerable),
        "answered": len(answered),
        "mean_support": round(statistics.fmean(supports), 3) if supports else None,
        "cited_expected_source": _share(r.cited_expected_source for r in answered),
        "generated": len(generated),
        "fallbacks": sum("unavailable" in (r.answer.notice or "") for r in results),
        "latency_p50_ms": round(statistics.median(latencies), 1) if latencies else None,
        "latency_p90_ms": round(statistics.quantiles(latencies, n=10)[-1], 1)
        if len(latencies) > 1
        else None,
        "seconds": round(seconds, 1),
    }


def _share(flags: Any) -> float | None:
    values = list(flags)
    return round(sum(values) / len(values), 3) if values else None


def main(argv: list[str] | None = None) -> int:
    """Run the comparison and print a table (and optionally write every answer as JSON)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--set", choices=["seed", "pydocs"], default="seed")
    parser.add_argument("--answerer", action="append", help="repeatable; default: both")
    parser.add_argument("--gate", type=float, help="llm_gate_threshold for LLM answerers")
    parser.add_argument("--limit", type=int, help="only the first N questions")
    parser.add_argument("--json", type=Path, help="write summaries and every answer here")
    args = parser.parse_args(argv)
    items = load_golden(GOLDEN / f"{args.set}_qa.jsonl")[: args.limit]
    report: dict[str, Any] = {"set": args.set, "runs": []}
    with tempfile.TemporaryDirectory(prefix="bench-index-") as index_dir:
        base = Settings(index_dir=Path(index_dir))
        Assistant(base).ingest(corpus(args.set))
        for name in args.answerer or ["extractive", "llamacpp"]:
            settings = base.with_overrides(answerer=name, llm_gate_threshold=args.gate)
            assistant = Assistant(settings)
            assistant.ask(items[0].question)  # warm up: load models outside the timings
            started = time.perf_counter()
            results = evaluate(assistant, items, on_result=_progress)
            summary = summarize(results, time.perf_counter() - started)
            gated = args.gate is not None and name != "extractive"
            label = f"{name} gate={args.gate}" if gated else name
            print(f"\n{label}: {json.dumps(summary)}", flush=True)
            report["runs"].append(
                {
                    "answerer": label,
                    "summary": summary,
                    "answers": [
                        {"id": r.item.id, "correct": r.correct, **r.answer.to_json_dict()}
                        for r in results
                    ],
                }
            )
    if args.json:
        args.json.write_text(json.dumps(report, indent=1, ensure_ascii=False), encoding="utf-8")
    return 0


def _progress(result: ItemResult) -> None:
    print("." if result.correct else "x", end="", flush=True, file=sys.stderr)


if __name__ == "__main__":
    sys.exit(main())
