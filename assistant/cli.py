"""The `assistant` command: ingest documents, ask questions, serve the web chat, evaluate."""

from __future__ import annotations

import argparse
import json
import os
import re
import sqlite3
import sys
import textwrap
from collections.abc import Callable, Sequence
from pathlib import Path

from pydantic import ValidationError
from pydantic_settings import SettingsError

from assistant.access_command import ACCESS_COMMANDS, add_access_parsers
from assistant.answerers import answerer_names
from assistant.audit import AuditError
from assistant.citations import RELATED_HEADING
from assistant.collections import CollectionError
from assistant.command_options import add_index_option, path_argument
from assistant.errors import (
    AccountError,
    AssistantError,
    BadQuestionError,
    IndexMissingError,
    IndexUnusableError,
    QualityError,
    UnknownAnswererError,
    UsageError,
)
from assistant.evaluation.arguments import (
    add_eval_parser,
    build_generate_parser,
    eval_from_args,
    generate_from_args,
)
from assistant.evaluation.config import EvalInputError
from assistant.operations_command import OPERATIONS_COMMANDS, add_operations_parsers
from assistant.settings import Settings
from assistant.sync_command import (
    EXIT_PARTIAL,
    add_sync_parsers,
    log_to_stderr,
    sync_command,
    watch_command,
)
from assistant.text import PREVIEW_CHARS, for_terminal, one_line
from assistant.types import Answer, IngestProgress, IngestReport

EXIT_OK = 0
EXIT_FAILURE = 1
EXIT_USAGE = 2


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of every subcommand."""
    parser = argparse.ArgumentParser(
        prog="assistant",
        description="Answer questions from your documents, offline, with exact citations.",
        epilog="Settings also come from ASSISTANT_* environment variables and assistant.toml.",
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    ingest = commands.add_parser(
        "ingest",
        help="index documents (incremental)",
        description="Index .txt, .md, .html, .pdf, .docx, .pptx, .xlsx, .csv/.tsv, .eml, .msg, "
        ".odt, .ods, .odp, .rtf and .epub files (docs/formats.md), and scans and images (.png, "
        ".jpg, .tiff ...) through Tesseract OCR. Unchanged files are skipped, changed ones "
        "replaced (only their changed passages embedded again), deleted ones removed, renamed "
        "ones moved (not re-embedded when they read the same); bad files are reported and "
        "skipped.",
        epilog=f"Exit codes: 0 done; {EXIT_PARTIAL} done except the files (or paths) listed as "
        "failed; 1 the ingest did not complete (another ingest held the index lock, the vector "
        "store is down); 2 bad settings or arguments.",
    )
    ingest.add_argument(
        "paths",
        nargs="*",
        type=path_argument,
        metavar="PATH",
        help="files or folders (default: the document folders: settings.sources, i.e. seeds/, "
        "then collection_folders)",
    )
    add_index_option(ingest)
    ingest.add_argument(
        "--rebuild",
        action="store_true",
        help="drop the index and build it anew from the paths given (refused, the index "
        "unchanged, when one of them is missing)",
    )
    ingest.add_argument(
        "--collection",
        metavar="NAME",
        help="put these files into collection NAME (default: collection_folders, else where "
        "each file already is, else `default`)",
    )
    ingest.add_argument("--json", action="store_true", help="print one JSON report object")
    ingest.add_argument(
        "--progress",
        action="store_true",
        help="print one JSON line to stderr at each file read, OCR page, batch the model "
        "embeds, batch written and at the end (files done and in all, chunks written, elapsed "
        "and estimated seconds left), instead of the bar a terminal gets",
    )
    ingest.add_argument(
        "--verbose",
        action="store_true",
        help="log each step (file read, embedding, write, commit, removal) to stderr",
    )

    add_sync_parsers(commands)

    ask = commands.add_parser(
        "ask",
        help="answer one question",
        description="Answer a question from the index with numbered citations, or refuse when "
        "the documents don't answer it. With an LLM answerer (llamacpp, openai) the answer is "
        "printed as it is written, then checked: every sentence is aligned to the exact source "
        "span it rests on, unsupported sentences are left out, and the checked answer follows "
        "when it differs. If the model fails, the quoted (extractive) answer is shown with a note.",
    )
    ask.add_argument("question", help="the question (quote it), or - to read it from stdin")
    add_index_option(ask)
    ask.add_argument("--k", type=int, metavar="N", help="passages to retrieve (default: 5)")
    ask.add_argument(
        "--answerer",
        metavar="NAME",
        help=f"answerer backend: {', '.join(answerer_names())} (default: extractive)",
    )
    ask.add_argument(
        "--model", type=path_argument, metavar="GGUF", help="model file for the llamacpp answerer"
    )
    ask.add_argument(
        "--collection",
        action="append",
        metavar="NAME",
        dest="collections",
        help="answer only from this collection (repeat for several; default: all)",
    )
    ask.add_argument("--json", action="store_true", help="print the answer as one JSON object")

    serve = commands.add_parser(
        "serve",
        help="serve the web chat and the HTTP API",
        description="Serve the web chat at / (answers with clickable citations, a source panel, "
        "feedback and a Documents tab; docs/ui.md) and the HTTP API under /v1 (OpenAI-compatible "
        "chat completions with citations, ask, documents, models) with /healthz (docs/api.md). "
        "Beyond 127.0.0.1 every part served needs its guard: the chat logins (auth_users or "
        "auth_file), the API keys (api_keys). Without them the server refuses to start there "
        "unless --allow-unauthenticated-remote is given, and then prints a loud warning.",
    )
    serve.add_argument("--host", help="interface to bind (default: 127.0.0.1)")
    serve.add_argument(
        "--port", type=int, help="port (default: 7860; 0: any free port, the URL is printed)"
    )
    add_index_option(serve)
    only = serve.add_mutually_exclusive_group()
    only.add_argument("--api-only", action="store_true", help="serve the API without the chat")
    only.add_argument("--ui-only", action="store_true", help="serve the chat without the API")
    serve.add_argument(
        "--allow-unauthenticated-remote",
        action="store_true",
        help="serve the chat without logins or the API without keys on a non-loopback address "
        "(anyone there can read the documents); prints a warning",
    )

    add_eval_parser(commands)
    add_access_parsers(commands)
    add_operations_parsers(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the console script; returns the exit code."""
    arguments = list(sys.argv[1:] if argv is None else argv)
    if arguments[:2] == ["eval", "generate"]:
        args = build_generate_parser().parse_args(arguments[2:])
        args.command = "eval-generate"
    else:
        args = build_parser().parse_args(arguments)
    try:
        settings = Settings().with_overrides(
            index_dir=getattr(args, "index", None),
            top_k=getattr(args, "k", None),
            answerer=getattr(args, "answerer", None),
            llm_model_path=getattr(args, "model", None),
            host=getattr(args, "host", None),
            port=getattr(args, "port", None),
            allow_unauthenticated_remote=getattr(args, "allow_unauthenticated_remote", None)
            or None,
        )
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(part) for part in first["loc"])
        return _fail(f"invalid setting {where}: {first['msg']}", EXIT_USAGE)
    except SettingsError as exc:
        return _fail(f"invalid settings: {exc}", EXIT_USAGE)
    try:
        return COMMANDS[args.command](settings, args)
    except (
        BadQuestionError,
        IndexMissingError,
        EvalInputError,
        UnknownAnswererError,
        CollectionError,
        AccountError,
        QualityError,
        AuditError,
        UsageError,
    ) as exc:
        return _fail(str(exc), EXIT_USAGE)
    except IndexUnusableError as exc:
        return _unusable_index(settings, f"{exc.reason} ({exc.file})")
    except AssistantError as exc:
        return _fail(str(exc), EXIT_FAILURE)
    except sqlite3.DatabaseError as exc:
        # One of the index's SQLite files failed after it was opened.
        return _unusable_index(settings, str(exc))
    except KeyboardInterrupt:
        return _fail("interrupted", 130)


def _unusable_index(settings: Settings, reason: str) -> int:
    """A damaged, foreign or read-only catalog.sqlite3 (or another of the index's SQLite files),
    said in one line; the file is left as it is."""
    return _fail(
        f"the index at {settings.index_dir} cannot be used: {reason}; restore the file from a "
        "backup, fix its permissions, or move the index away and ingest again",
        EXIT_FAILURE,
    )


def _ingest(settings: Settings, args: argparse.Namespace) -> int:
    from assistant.core import Assistant

    if args.verbose:
        log_to_stderr()
    assistant = Assistant(settings)

    def progress_line(state: IngestProgress) -> None:
        print(json.dumps(state.to_json_dict(), ensure_ascii=False), file=sys.stderr, flush=True)

    report = assistant.ingest(
        args.paths or None,
        rebuild=args.rebuild,
        progress=False if args.verbose or args.progress else None,
        on_progress=progress_line if args.progress else None,
        collection=args.collection,
    )
    if args.json:
        print(json.dumps(report.to_json_dict(), ensure_ascii=False))
    else:
        print(_format_report(report))
    return EXIT_PARTIAL if report.failed else EXIT_OK


def _ask(settings: Settings, args: argparse.Namespace) -> int:
    from assistant.core import Assistant

    assistant = Assistant(settings)
    text = sys.stdin.read() if args.question == "-" else args.question
    question = assistant.prepare_question(text)  # fail fast, before loading models
    if args.json:
        answer = assistant.ask(question.text, collections=args.collections)
        print(json.dumps(answer.to_json_dict(), ensure_ascii=False))
        return EXIT_OK
    streamed: list[str] = []
    final: Answer | None = None
    for event in assistant.stream(question.text, collections=args.collections):
        if isinstance(event, Answer):
            final = event
        else:
            streamed.append(event)
            print(event, end="", flush=True)
    print()
    rest = "" if final is None else format_answer(final, streamed="".join(streamed))
    if rest.strip():
        print(rest)
    return EXIT_OK


def _serve(settings: Settings, args: argparse.Namespace) -> int:
    from assistant.api.server import UnsafeBindError, serve

    try:
        serve(settings, api=not args.ui_only, ui=not args.api_only)
    except UnsafeBindError as exc:
        raise UsageError(str(exc)) from exc
    return EXIT_OK


def format_answer(answer: Answer, streamed: str | None = None) -> str:
    """The answer and a numbered source list, for a terminal.

    With `streamed` (the text already printed as it was generated) the answer is repeated only
    when checking changed it.
    """
    lines: list[str] = []
    if streamed is None:
        lines.append(textwrap.fill(answer.text, width=100))
    elif _comparable(streamed) != _comparable(answer.text):
        lines += ["", "Checked answer:", textwrap.fill(answer.text, width=100)]
    unsupported = [s.text for s in answer.sentences if not s.supported]
    if unsupported:
        lines += ["", "Not supported by the documents (left out):"]
        lines += [textwrap.fill(f"- {s}", width=100, subsequent_indent="  ") for s in unsupported]
    if answer.notice:
        lines += ["", f"Note: {answer.notice}"]
    if answer.citations:
        lines += ["", "Sources:"]
        for citation in answer.citations:
            where = [f"chars {citation.start}-{citation.end}"]
            if citation.page is not None:
                where.insert(0, f"page {citation.page}")
            if citation.section:
                where.insert(0, f"section “{citation.section}”")
            lines.append(f"  [{citation.id}] {for_terminal(citation.source)} ({', '.join(where)})")
            quote = " ".join(citation.quote.split())
            lines.append(textwrap.indent(textwrap.fill(f"“{quote}”", width=94), "      "))
    if answer.related:
        lines += ["", f"{RELATED_HEADING} (not quoted above):"]
        for passage in answer.related:
            location = for_terminal(passage.location())
            lines.append(f"  - {location}, chars {passage.start}-{passage.end}")
            preview = one_line(passage.text, PREVIEW_CHARS)
            lines.append(textwrap.indent(textwrap.fill(f"“{preview}”", width=94), "      "))
    return "\n".join(lines)


def _comparable(text: str) -> str:
    """Text without spacing and end punctuation: "stop. [1]" and "stop [1]." say the same."""
    return re.sub(r"[\s.!?]+", "", text)


def _format_report(report: IngestReport) -> str:
    lines = [
        f"added {report.added}, updated {report.updated}, unchanged {report.unchanged}, "
        f"deleted {report.deleted}, renamed {report.renamed}, failed {len(report.failed)}; "
        f"{report.chunks} chunks in the index ({report.seconds:.1f} s)"
    ]
    if report.chunks_reused:
        lines.append(
            f"  kept the vectors of {report.chunks_reused} unchanged chunks of edited documents"
        )
    lines += [f"  skipped {for_terminal(f'{item.source}: {item.error}')}" for item in report.failed]
    if report.rebuilt_because:
        lines.append(
            f"rebuilt the index ({'; '.join(report.rebuilt_because)} changed): answers may "
            f"differ, so re-run your golden sets: {_golden_hint()}"
        )
    return "\n".join(lines)


def _golden_hint() -> str:
    """The golden files a team configured for `assistant eval`, or how to configure them."""
    from assistant.evaluation.config import EvalConfigError, find_pyproject, load_config

    try:
        config = load_config(find_pyproject(Path.cwd()))
    except EvalConfigError:
        config = None
    if config is None or not config.golden:
        return "assistant eval GOLDEN --compare BASELINE.json"
    names = " ".join(os.path.relpath(path) for path in config.golden)
    return f"assistant eval {names}"


def _fail(message: str, code: int) -> int:
    print(f"assistant: error: {message}", file=sys.stderr)
    return code


# Every subcommand's handler, by the name `main` parsed (`eval generate` as "eval-generate").
COMMANDS: dict[str, Callable[[Settings, argparse.Namespace], int]] = {
    "ingest": _ingest,
    "sync": sync_command,
    "watch": watch_command,
    "ask": _ask,
    "serve": _serve,
    "eval": eval_from_args,
    "eval-generate": generate_from_args,
    **ACCESS_COMMANDS,
    **OPERATIONS_COMMANDS,
}


if __name__ == "__main__":
    sys.exit(main())
