"""Start-up: a cold `assistant ask`, a no-op `assistant ingest` and `assistant --help`.

    python -m benchmarks.bench_startup [--rounds 7] [--before DIR [--before-name C]] [--out DIR]

An index of seeds/ is built first in a temporary folder (not timed). Then each round runs the
three commands once, each as a fresh process (`python -m assistant.cli ...`: imports, model and
store opening included; the operating system's file cache is warm), one after the other, so
that load from other jobs on a shared machine falls on all three alike. Reported: the median
wall-clock time of each command over the rounds (and the spread), and the median CPU time
(user + system) of its process, which moves less with the machine's load. `--before DIR` also
measures the `assistant` package of another checkout (e.g. `git archive` of an older commit),
its runs interleaved with this checkout's in the same rounds, for a fair before/after. Writes
benchmarks/results/startup.json (or DIR/startup.json with --out).
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from benchmarks.common import REPO, RESULTS, save, scratch_dir

QUESTION = "Which companies had to halt their stablecoin plans in Hong Kong?"
TARGETS_S = {"ask": 1.5, "noop_ingest": 0.6}  # issue 16, on 2 cores


def commands(index_dir: Path) -> dict[str, list[str]]:
    """The timed commands, by name."""
    cli = [sys.executable, "-m", "assistant.cli"]
    return {
        "ask": [*cli, "ask", QUESTION, "--index", str(index_dir)],
        "noop_ingest": [*cli, "ingest", str(REPO / "seeds"), "--index", str(index_dir)],
        "help": [*cli, "--help"],
    }


def environment(checkout: Path, root: Path) -> dict[str, str]:
    """No ASSISTANT_* setting or assistant.toml of the caller; `checkout`'s package first."""
    env = {key: value for key, value in os.environ.items() if not key.startswith("ASSISTANT_")}
    env.update(
        {
            "PYTHONPATH": str(checkout),
            "ASSISTANT_CONFIG": "",  # no settings file
            "ASSISTANT_DATA_DIR": str(root / "data"),
            "HF_HUB_OFFLINE": "1",
            "TRANSFORMERS_OFFLINE": "1",
        }
    )
    return env


def timed(command: list[str], env: dict[str, str], cwd: Path) -> tuple[float, float]:
    """Wall-clock and CPU seconds (user + system) of one run of `command`, which must succeed."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    result = subprocess.run(command, env=env, cwd=cwd, capture_output=True, text=True)
    elapsed = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if result.returncode != 0:
        raise RuntimeError(f"{' '.join(command[2:4])} failed: {result.stderr[-2000:]}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return elapsed, cpu


def measure(checkouts: dict[str, Path], rounds: int) -> dict[str, dict[str, Any]]:
    """Build a seed index per checkout (not timed), then time the commands in rounds."""
    plans = {}
    for label, checkout in checkouts.items():
        root = scratch_dir(f"bench-startup-{label}-")
        env = environment(checkout, root)
        todo = commands(root / "index")
        timed(todo["noop_ingest"], env, root)  # the first ingest builds the index
        plans[label] = (env, root, todo)
    seconds: dict[str, dict[str, list[tuple[float, float]]]] = {
        label: {name: [] for name in todo} for label, (_, _, todo) in plans.items()
    }
    for _ in range(rounds):
        for label, (env, root, todo) in plans.items():
            for name, command in todo.items():
                seconds[label][name].append(timed(command, env, root))
    return {
        label: {
            name: {
                "median_s": round(statistics.median(wall for wall, _ in runs), 3),
                "min_s": round(min(wall for wall, _ in runs), 3),
                "max_s": round(max(wall for wall, _ in runs), 3),
                "median_cpu_s": round(statistics.median(cpu for _, cpu in runs), 3),
            }
            for name, runs in timings.items()
        }
        for label, timings in seconds.items()
    }


def main(argv: Sequence[str] | None = None) -> int:
    """Measure, print and save."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=7, help="runs of each command (default 7)")
    parser.add_argument(
        "--before", type=Path, help="another checkout to measure in the same rounds (before)"
    )
    parser.add_argument("--before-name", help="what --before is, for the report (a commit)")
    parser.add_argument("--out", type=Path, default=RESULTS, help="where startup.json goes")
    args = parser.parse_args(argv)
    checkouts = {"after": REPO} if args.before is None else {"before": args.before, "after": REPO}
    result = measure({label: path.resolve() for label, path in checkouts.items()}, args.rounds)
    data = {"rounds": args.rounds, "targets_s": TARGETS_S, "commands": result["after"]}
    if "before" in result:
        data["before"] = result["before"]
        data["before_name"] = args.before_name or args.before.name
    path = save("startup", data, args.out)
    for label, timings in result.items():
        medians = ", ".join(f"{name} {item['median_s']:.2f} s" for name, item in timings.items())
        print(f"{label}: {medians} (medians of {args.rounds})")
    print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
