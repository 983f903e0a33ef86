"""Shared helpers for the benchmarks: the real corpus, timing, results files."""

from __future__ import annotations

import atexit
import json
import os
import resource
import shutil
import statistics
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
RESULTS = REPO / "benchmarks" / "results"
PYDOCS_ROOT = Path("/usr/share/doc/python3.11/html")
PYDOCS_LIST = REPO / "tests" / "golden" / "pydocs_corpus.txt"
PYDOCS_GOLDEN = REPO / "tests" / "golden" / "pydocs_qa.jsonl"
SEED_GOLDEN = REPO / "tests" / "golden" / "seed_qa.jsonl"

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")
os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")


def scratch_dir(prefix: str) -> Path:
    """A new temporary folder for a benchmark's indexes, removed when the process exits (a
    million-chunk run leaves 22 GB otherwise, and every test run of the tiny benchmarks a few
    folders more)."""
    path = Path(tempfile.mkdtemp(prefix=prefix))
    atexit.register(shutil.rmtree, path, True)
    return path


def pydocs_files() -> list[Path]:
    """The real corpus: 53 pages of the Python 3.11 docs (Debian package python3.11-doc)."""
    if not PYDOCS_ROOT.is_dir():
        raise SystemExit(
            f"{PYDOCS_ROOT} is missing: `make bench` installs it (apt-get install python3.11-doc)"
        )
    lines = PYDOCS_LIST.read_text(encoding="utf-8").splitlines()
    return [
        PYDOCS_ROOT / line.strip() for line in lines if line.strip() and not line.startswith("#")
    ]


def seed_files() -> list[Path]:
    """The tiny corpus of `--tiny` runs (seeds/): a benchmark end to end in seconds."""
    return sorted(path for path in (REPO / "seeds").iterdir() if path.is_file())


@contextmanager
def stopwatch() -> Iterator[Callable[[], float]]:
    """Yields a function returning the seconds elapsed since entering."""
    start = time.perf_counter()
    yield lambda: time.perf_counter() - start


def cpu_seconds() -> float:
    """CPU time used by this process (all threads) so far: user + system."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


@contextmanager
def cpu_stopwatch() -> Iterator[Callable[[], tuple[float, float]]]:
    """Yields a function returning (wall seconds, CPU seconds) since entering.

    On a shared machine CPU seconds move far less with other load than wall time does.
    """
    wall = time.perf_counter()
    cpu = cpu_seconds()
    yield lambda: (time.perf_counter() - wall, cpu_seconds() - cpu)


def percentile(values: list[float], q: float) -> float:
    """The q-th percentile (0..100) by linear interpolation."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    position = (len(ordered) - 1) * q / 100
    low = int(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def summary_ms(values: list[float]) -> dict[str, float]:
    """p50, p95 and mean of millisecond timings."""
    return {
        "p50": round(percentile(values, 50), 2),
        "p95": round(percentile(values, 95), 2),
        "mean": round(statistics.fmean(values), 2) if values else float("nan"),
    }


def peak_rss_mb() -> float:
    """Peak resident memory of this process so far, in MB."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def current_rss_mb(pid: int | None = None) -> float:
    """Resident memory now, in MB (of this process or `pid`)."""
    status = Path(f"/proc/{pid or os.getpid()}/status").read_text()
    for line in status.splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def machine() -> dict[str, Any]:
    """What the numbers were measured on."""
    load = os.getloadavg()
    return {"cpus": os.cpu_count(), "load_average_1m": round(load[0], 2)}


def save(name: str, data: dict[str, Any], results: Path = RESULTS) -> Path:
    """Write a benchmark's results as JSON under benchmarks/results/ (or `results`)."""
    results.mkdir(parents=True, exist_ok=True)
    path = results / f"{name}.json"
    data = {"benchmark": name, "machine": machine(), **data}
    path.write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")
    return path
