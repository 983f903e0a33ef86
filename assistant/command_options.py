"""Options that several `assistant` subcommands share, declared once."""

from __future__ import annotations

import argparse
from pathlib import Path


def add_index_option(parser: argparse.ArgumentParser) -> None:
    """`--index DIR`: the index directory (the settings' `index_dir` when not given)."""
    parser.add_argument(
        "--index", type=Path, metavar="DIR", help="index directory (default: index/)"
    )
