"""Options and checks that several `assistant` subcommands share, declared once."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING

from assistant.errors import IndexMissingError

if TYPE_CHECKING:
    from assistant.settings import Settings


def add_index_option(parser: argparse.ArgumentParser) -> None:
    """`--index DIR`: the index directory (the settings' `index_dir` when not given)."""
    parser.add_argument(
        "--index", type=Path, metavar="DIR", help="index directory (default: index/)"
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
