"""Which printed lines of a PDF corpus the loader runs on into the next (`reflow.runs_on`).

    python -m benchmarks.pdf_joins [CORPUS ...] [--show N]

CORPUS names a PDF golden corpus (`benchmarks/corpora.py`; default: every available one,
pending ones too). For each, the number of line breaks the loader turns into a space because
one sentence runs on over a short line (the joins of full lines, `reflow.soft_break`, are not
counted). `--show N` prints about N of the joins, evenly spaced, as "end of the line ⏎ start of
the next" so that a rule can be read against what it does; only for tuning and pending
corpora: a held-out corpus's text is never printed, only its count.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path
from unittest import mock

from assistant.loaders import pdf, reflow
from benchmarks.corpora import ROLES, corpus

SHOWN_CHARS = 60


def joins(paths: Sequence[Path]) -> list[tuple[str, str]]:
    """Every (line, next line) of these PDFs that the loader runs on, in reading order."""
    found: list[tuple[str, str]] = []

    def watched(line: str, following: str) -> bool:
        joined = runs_on(line, following)
        if joined:
            found.append((line, following))
        return joined

    runs_on = reflow.runs_on
    with mock.patch.object(reflow, "runs_on", watched):
        for path in paths:
            pdf.extract(path.read_bytes())
    return found


def main(argv: Sequence[str] | None = None) -> int:
    """Print each PDF corpus's run-on joins (and some of them, for a corpus not held out)."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("corpora", nargs="*", help="PDF corpora (default: every available one)")
    parser.add_argument("--show", type=int, default=0, metavar="N", help="print about N joins")
    args = parser.parse_args(argv)
    chosen = args.corpora or [
        name
        for name in ROLES
        if (c := corpus(name)).available and all(p.suffix == ".pdf" for p in c.paths)
    ]
    for name in chosen:
        if not corpus(name).available:
            raise SystemExit(f"{name} is not on this machine (make corpora)")
        found = joins(corpus(name).paths)
        print(f"{name} ({ROLES[name]}): {len(found)} joins", flush=True)
        if args.show and ROLES[name] != "held-out":
            for line, following in found[:: max(1, len(found) // args.show)]:
                print(f"  | {line.strip()[-SHOWN_CHARS:]} ⏎ {following.strip()[:SHOWN_CHARS]}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
