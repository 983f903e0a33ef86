"""How long each test file takes, read from a run's `--durations=0` lines.

`make test` hands the files to its workers longest first (tests/conftest.py), so that no
worker is left with a long file while the other has finished. The seconds come from
tests/module_seconds.json, written by this module from the log of a full run:

    .venv/bin/pytest -n 2 --dist loadfile --no-loadscope-reorder --durations=0 | tee run.log
    .venv/bin/python -m tests.module_seconds run.log

Only the order depends on them: a file missing from the table (a new one) is taken to last as
long as the median file, and stale numbers cost time, never a test.
"""

from __future__ import annotations

import json
import re
import sys
from collections import defaultdict
from pathlib import Path

TABLE = Path(__file__).with_name("module_seconds.json")

# "12.34s call     tests/test_x.py::test_y[param]" (setup and teardown lines too)
_LINE = re.compile(r"^\s*(\d+(?:\.\d+)?)s\s+(?:setup|call|teardown)\s+(tests/[^:\s]+\.py)::")


def seconds_per_file(log: str) -> dict[str, float]:
    """The seconds of every test file named in `log`'s duration lines, summed."""
    total: dict[str, float] = defaultdict(float)
    for line in log.splitlines():
        match = _LINE.match(line)
        if match:
            total[match.group(2)] += float(match.group(1))
    return {path: round(seconds, 1) for path, seconds in sorted(total.items())}


def load_table(path: Path = TABLE) -> dict[str, float]:
    """The recorded seconds per file (empty when there is no table)."""
    try:
        table = json.loads(path.read_text("utf-8"))
    except (OSError, ValueError):
        return {}
    return {str(key): float(value) for key, value in table.items()}


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print("usage: python -m tests.module_seconds LOG (a run with --durations=0)")
        return 2
    table = seconds_per_file(Path(argv[0]).read_text("utf-8", errors="replace"))
    if not table:
        print(f"{argv[0]}: no duration lines; run pytest with --durations=0")
        return 1
    TABLE.write_text(json.dumps(table, indent=1) + "\n", "utf-8")
    print(f"{TABLE}: {len(table)} files, {sum(table.values()):.0f} s in all")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
