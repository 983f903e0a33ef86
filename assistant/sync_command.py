"""The `assistant sync` and `assistant watch` commands: their options, output and exit codes."""

from __future__ import annotations

import argparse
import json
import logging
import sys
from pathlib import Path

from assistant.command_options import add_index_option, finite_number, path_argument
from assistant.errors import IndexBusyError, UsageError
from assistant.settings import Settings
from assistant.text import for_terminal

EXIT_PARTIAL = 3  # `sync`: done, except the files listed as failed
EXIT_BUSY = 75  # `sync`: another writer held the index lock (sysexits' EX_TEMPFAIL)


def add_sync_parsers(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """The `sync` and `watch` subcommands and their options."""
    folders_help = (
        "document folders (default: the settings' document folders: sources, then "
        "collection_folders)"
    )
    sync = commands.add_parser(
        "sync",
        help="bring the index in line with its document folders (for cron or CI)",
        description="Add new files, re-read changed ones, remove deleted ones and move renamed "
        "ones (same content at a new path: vectors copied, not re-embedded, when the file reads "
        "the same there), under the index lock. A "
        "missing folder is reported and its documents are kept. The outcome is recorded for "
        "/healthz and the Documents tab.",
        epilog=f"Exit codes: 0 in sync; {EXIT_PARTIAL} in sync except the files (or folders) "
        f"listed as failed; {EXIT_BUSY} another ingest held the index lock for "
        "ingest_lock_timeout seconds (try again later); 1 the sync did not complete (e.g. the "
        "vector store is down); 2 bad settings or arguments.",
    )
    sync.add_argument("paths", nargs="*", type=path_argument, metavar="FOLDER", help=folders_help)
    add_index_option(sync)
    sync.add_argument("--json", action="store_true", help="print one JSON report object")
    sync.add_argument("--verbose", action="store_true", help="log each step to stderr")

    watch = commands.add_parser(
        "watch",
        help="keep the index in line with folders as files change (long-running)",
        description="Sync the folders once (catching up on changes made while not watching), "
        "then watch them for file-system events and sync what changed after each quiet spell: "
        "a burst such as an unpacked archive becomes a few syncs. Logs one line per sync to "
        "stderr; a failed sync is retried; a folder that goes away keeps its documents and is "
        "watched again once back. Stops cleanly on SIGINT or SIGTERM (exit 0).",
    )
    watch.add_argument("paths", nargs="*", type=path_argument, metavar="FOLDER", help=folders_help)
    add_index_option(watch)
    watch.add_argument(
        "--quiet",
        type=finite_number,
        default=1.0,
        metavar="SECONDS",
        help="sync once no file has changed for this long (default: 1)",
    )
    watch.add_argument(
        "--max-wait",
        type=finite_number,
        default=10.0,
        metavar="SECONDS",
        help="sync at the latest this long after the first change of a burst (default: 10)",
    )
    watch.add_argument(
        "--retry",
        type=finite_number,
        default=10.0,
        metavar="SECONDS",
        help="wait before retrying a failed sync (default: 10)",
    )
    watch.add_argument("--verbose", action="store_true", help="also log each ingest step")


def sync_command(settings: Settings, args: argparse.Namespace) -> int:
    """`assistant sync`: one sync, its report printed; the exit code."""
    from assistant.core import Assistant

    if args.verbose:
        log_to_stderr()
    try:
        report = Assistant(settings).sync(
            args.paths or None, progress=False if args.verbose else None
        )
    except IndexBusyError as exc:
        print(f"assistant: error: {exc}", file=sys.stderr)
        return EXIT_BUSY
    assert report is not None  # only a sync of changed paths can have nothing to do
    if args.json:
        print(json.dumps(report.to_json_dict(), ensure_ascii=False))
    else:
        print(report.summary())
        for item in report.failed:
            print(f"  failed {for_terminal(f'{item.source}: {item.error}')}")
    return EXIT_PARTIAL if report.failed else 0


def watch_command(settings: Settings, args: argparse.Namespace) -> int:
    """`assistant watch`: sync, then follow the folders until SIGINT or SIGTERM."""
    from assistant.core import Assistant
    from assistant.watch import Watcher

    if args.quiet <= 0 or args.max_wait <= 0 or args.retry <= 0:
        raise UsageError("--quiet, --max-wait and --retry must be positive")
    log_to_stderr("assistant" if args.verbose else "assistant.watch")
    folders = args.paths or settings.document_folders
    missing = [str(folder) for folder in folders if not Path(folder).is_dir()]
    if missing:
        raise UsageError(f"not a folder: {', '.join(missing)}")
    watcher = Watcher(Assistant(settings), folders, args.quiet, args.max_wait, args.retry)
    watcher.stop_on_signals()
    logging.getLogger("assistant.watch").info(
        "watching %s", ", ".join(str(folder) for folder in watcher.folders)
    )
    watcher.run()
    logging.getLogger("assistant.watch").info("stopped")
    return 0


def log_to_stderr(name: str = "assistant") -> None:
    """Log `name`'s INFO lines (and its children's) to stderr with their time."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(_TerminalFormatter("%(asctime)s %(message)s"))
    logger = logging.getLogger(name)
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)


class _TerminalFormatter(logging.Formatter):
    """Log lines without escape sequences or control characters (a file's name may hold
    them)."""

    def format(self, record: logging.LogRecord) -> str:
        return for_terminal(super().format(record))
