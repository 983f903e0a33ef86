"""What limiting a question to some collections costs: warm latency restricted vs unrestricted.

    python -m benchmarks.bench_restricted [--size 10000] [--collections 10] [--queries 98]
    python -m benchmarks.bench_restricted --tiny --out DIR   # seeds/ x 20 chunks, 2 collections

The Python docs pages are ingested, scaled to about `--size` chunks as in bench_query (noisy
copies), and their documents dealt round-robin into `--collections` collections (vectors
re-tagged as an ingest moving them would). The same golden questions are then asked, in
interleaved rounds so that machine load falls on every variant alike:
- unrestricted (a trusted caller, every collection);
- one collection (`collections=[...]`, a tenth of the index at 10);
- a member granted three collections (`user=`; the grants are read on every question).
The result is the ratio of each restricted p50/p95 to the unrestricted one in the same run
(issue 14's goal: p95 at most 1.5x). Writes benchmarks/results/restricted.json.
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Sequence
from pathlib import Path

from assistant import Assistant
from assistant.account_types import User
from assistant.evaluation.golden import load_golden
from benchmarks.bench_query import build_real, build_scaled, settings_for
from benchmarks.common import (
    PYDOCS_GOLDEN,
    RESULTS,
    SEED_GOLDEN,
    pydocs_files,
    save,
    scratch_dir,
    seed_files,
    stopwatch,
    summary_ms,
)

ROUNDS = 3
GRANTED = 3  # collections the benchmark's member may read


def deal(assistant: Assistant, count: int) -> list[str]:
    """Put the documents round-robin into `count` collections; returns their names."""
    names = [f"c{index:02d}" for index in range(count)]
    records = sorted(assistant.catalog.documents().values(), key=lambda r: r.source)
    for position, record in enumerate(records):
        name = names[position % count]
        assistant.store.set_collection(
            assistant.catalog.vector_ids(record.doc_id), record.doc_id, name
        )
        assistant.catalog.set_collection(record.doc_id, name)
    return names


def measure(
    assistant: Assistant, questions: list[str], names: list[str], member: User
) -> dict[str, dict[str, float]]:
    """Total latency of each variant over interleaved rounds (after a warm-up of each)."""
    variants = {
        "unrestricted": {},
        "one_collection": {"collections": [names[0]]},
        "member_granted": {"user": member},
    }
    for options in variants.values():
        for question in questions[:10]:
            assistant.ask(question, **options)  # type: ignore[arg-type]
    where = {r.source: r.collection for r in assistant.catalog.documents().values()}
    allowed = {
        "unrestricted": set(names),
        "one_collection": {names[0]},
        "member_granted": set(names[:GRANTED]),
    }
    totals: dict[str, list[float]] = {name: [] for name in variants}
    for _ in range(ROUNDS):
        for question in questions:
            for name, options in variants.items():
                answer = assistant.ask(question, **options)  # type: ignore[arg-type]
                totals[name].append(answer.timings_ms["total"])
                cited = {where[c.source] for c in answer.citations}
                if not cited <= allowed[name]:  # a fast wrong answer is not a result
                    raise AssertionError(f"{name}: cited {cited - allowed[name]}")
    return {name: summary_ms(values) for name, values in totals.items()}


def main(argv: Sequence[str] | None = None) -> int:
    """Build, deal into collections, measure, print and save the ratios."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--size", type=int, help="chunks (default 10000; --tiny: 20)")
    parser.add_argument("--collections", type=int, help="collections (default 10; --tiny: 2)")
    parser.add_argument("--queries", type=int, default=98)
    parser.add_argument("--tiny", action="store_true", help="seeds/ in 2 collections")
    parser.add_argument("--out", type=Path, default=RESULTS, help="where restricted.json goes")
    args = parser.parse_args(argv)
    count = args.collections or (2 if args.tiny else 10)
    golden = load_golden(SEED_GOLDEN if args.tiny else PYDOCS_GOLDEN)
    questions = [item.question for item in golden][: args.queries]
    workdir = scratch_dir("bench-restricted-")
    with stopwatch() as elapsed:
        real = build_real(workdir / "real", seed_files() if args.tiny else pydocs_files())
        size = args.size or (20 if args.tiny else 10000)
        if size > real.catalog.chunk_count():
            assistant = build_scaled(real, workdir / "scaled", size)
        else:
            assistant = Assistant(settings_for(workdir / "real"))
        names = deal(assistant, count)
    granted = names[:GRANTED]
    for name in granted:
        assistant.accounts.grant(name, group="bench")
    assistant.accounts.add_user("bench-member", "a benchmark password", groups=["bench"])
    member = User("bench-member", "member", ("bench",))
    print(f"{assistant.catalog.chunk_count()} chunks in {count} collections ({elapsed():.0f} s)")
    totals = measure(assistant, questions, names, member)
    base = totals["unrestricted"]
    ratios = {
        name: {stat: round(values[stat] / base[stat], 2) for stat in ("p50", "p95")}
        for name, values in totals.items()
        if name != "unrestricted"
    }
    result = {
        "chunks": assistant.catalog.chunk_count(),
        "collections": count,
        "granted_to_member": len(granted),
        "questions": len(questions),
        "rounds": ROUNDS,
        "total_ms": totals,
        "ratio_to_unrestricted": ratios,
        "goal_p95_ratio": 1.5,
    }
    print(json.dumps({"total_ms": totals, "ratio": ratios}))
    save("restricted", result, args.out)
    assistant.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
