"""Options and checks that several `assistant` subcommands share, declared once."""

from __future__ import annotations

import argparse
import math
from pathlib import Path
from typing import TYPE_CHECKING

from assistant.errors import IndexMissingError

if TYPE_CHECKING:
    from assistant.settings import Settings


def path_argument(text: str) -> Path:
    """A path given on the command line; an empty one is refused (exit 2), since it would read
    as the working folder: `ingest "$DOCS"` with DOCS unset must not index the folder it runs
    in, nor `--index ""` write an index into it."""
    if not text.strip():
        raise argparse.ArgumentTypeError("an empty path names no file or folder")
    return Path(text)


def finite_number(text: str) -> float:
    """A number given on the command line; "nan" and "inf" are refused (exit 2): they would
    turn a wait or a tolerance into no check at all."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if not math.isfinite(value):
        raise argparse.ArgumentTypeError(f"must be a finite number, not {text!r}")
    return value


def add_index_option(parser: argparse.ArgumentParser) -> None:
    """`--index DIR`: the index directory (the settings' `index_dir` when not given)."""
    parser.add_argument(
        "--index", type=path_argument, metavar="DIR", help="index directory (default: index/)"
    )


def index_folder_missing(settings: Settings) -> bool:
    """Whether the index's folder does not exist yet (a PostgreSQL catalog keeps accounts,
    audit and log in its database: no folder to miss)."""
    return settings.catalog_url is None and not settings.index_dir.is_dir()


def require_index_folder(settings: Settings) -> None:
    """Refuse a command that reads an index's accounts, audit or log when its folder does not
    exist (a mistyped `--index` read as an empty index, exit 0)."""
    if index_folder_missing(settings):
        raise IndexMissingError(
            f"no index at {settings.index_dir}: check --index (or index_dir), or run "
            "`assistant ingest` first"
        )
