"""The evaluation corpora: the seed article and 53 pages of Debian's python3.11-doc."""

from __future__ import annotations

from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
GOLDEN = REPO / "tests" / "golden"
SEEDS = REPO / "seeds"
PYDOCS_ROOT = Path("/usr/share/doc/python3.11/html")


def pydocs_files() -> list[Path]:
    """The pages listed in tests/golden/pydocs_corpus.txt (relative to PYDOCS_ROOT)."""
    listing = (GOLDEN / "pydocs_corpus.txt").read_text("utf-8").splitlines()
    return [PYDOCS_ROOT / line.strip() for line in listing if line.strip() and line[0] != "#"]


CORPORA: dict[str, tuple[list[Path], Path]] = {
    "seed": ([SEEDS], GOLDEN / "seed_qa.jsonl"),
    "pydocs": (pydocs_files(), GOLDEN / "pydocs_qa.jsonl"),
}
