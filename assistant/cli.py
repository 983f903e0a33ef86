"""The `assistant` command: ingest documents, ask questions, serve the web chat, evaluate."""

from __future__ import annotations

import argparse
import getpass
import json
import os
import re
import sys
import textwrap
import time
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from pydantic import ValidationError
from pydantic_settings import SettingsError

from assistant.answerers import answerer_names
from assistant.audit import (
    EVENTS,
    AuditError,
    AuditFile,
    AuditLog,
    AuditTable,
    check_event,
    parse_since,
)
from assistant.citations import RELATED_HEADING
from assistant.collections import CollectionError
from assistant.errors import (
    AccountError,
    AssistantError,
    BadQuestionError,
    IndexMissingError,
    QualityError,
    UnknownAnswererError,
    UsageError,
)
from assistant.evaluation.config import EvalInputError
from assistant.evaluation.metrics import METRICS
from assistant.settings import Settings
from assistant.sync_command import add_sync_parsers, log_to_stderr, sync_command, watch_command
from assistant.text import PREVIEW_CHARS, one_line
from assistant.types import Answer, IngestProgress, IngestReport

if TYPE_CHECKING:
    from assistant.quality import QualityReport

EXIT_OK = 0
EXIT_FAILURE = 1
EXIT_USAGE = 2
MIN_API_KEY_CHARS = 20


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
    )
    ingest.add_argument(
        "paths",
        nargs="*",
        type=Path,
        metavar="PATH",
        help="files or folders (default: the document folders: settings.sources, i.e. seeds/, "
        "then collection_folders)",
    )
    ingest.add_argument(
        "--index", type=Path, metavar="DIR", help="index directory (default: index/)"
    )
    ingest.add_argument("--rebuild", action="store_true", help="drop the index and build it anew")
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
    ask.add_argument("--index", type=Path, metavar="DIR", help="index directory (default: index/)")
    ask.add_argument("--k", type=int, metavar="N", help="passages to retrieve (default: 5)")
    ask.add_argument(
        "--answerer",
        metavar="NAME",
        help=f"answerer backend: {', '.join(answerer_names())} (default: extractive)",
    )
    ask.add_argument(
        "--model", type=Path, metavar="GGUF", help="model file for the llamacpp answerer"
    )
    ask.add_argument(
        "--collection",
        action="append",
        metavar="NAME",
        dest="collections",
        help="answer only from this collection (repeat for several; default: all)",
    )
    ask.add_argument("--json", action="store_true", help="print the answer as one JSON object")

    collections = commands.add_parser(
        "collections",
        help="list collections; grant or revoke reading them",
        description="List the collections of the index with their documents, passages and "
        "grants, or grant (revoke) reading one to a group or a user (docs/teams.md). Files go "
        "into a collection with `assistant ingest PATH --collection NAME` or the "
        "collection_folders setting. Grants apply from the next question on.",
    )
    collections.add_argument(
        "action", nargs="?", default="list", choices=("list", "grant", "revoke")
    )
    collections.add_argument("name", nargs="?", metavar="NAME", help="the collection")
    who = collections.add_mutually_exclusive_group()
    who.add_argument("--group", metavar="G", help="grant to (revoke from) this group")
    who.add_argument("--user", metavar="U", help="grant to (revoke from) this user")
    collections.add_argument(
        "--index", type=Path, metavar="DIR", help="index directory (default: index/)"
    )
    collections.add_argument("--json", action="store_true", help="print one JSON array")

    catalog_copy = commands.add_parser(
        "catalog-copy",
        help="copy the index's catalog into PostgreSQL (server mode)",
        description="Copy every document, passage and sentence vector of the index's SQLite "
        "catalog, its users, groups, grants and personal API keys, the web chat's "
        "conversations and feedback, the question log and the audit log, into an empty "
        "PostgreSQL database, so that replicas can share it "
        "(docs/deployment.md). Vector ids stay the same, so the Chroma vectors serve both: "
        "nothing is embedded again. Then set ASSISTANT_CATALOG_URL to the same URL.",
    )
    catalog_copy.add_argument(
        "--to",
        required=True,
        metavar="URL",
        help="postgresql://user:password@host:port/database (an empty database)",
    )
    catalog_copy.add_argument(
        "--index", type=Path, metavar="DIR", help="index directory (default: index/)"
    )

    users = commands.add_parser(
        "users",
        help="manage users and their groups",
        description="Users sign in to the web chat and own personal API keys; an admin reads "
        "every collection, a member the collections granted to their groups or to them "
        "(docs/teams.md). The password is asked twice on a terminal, or read as one line from "
        "standard input with --password-stdin. These are the catalog's own users: directory "
        "(LDAP) users sign in without being added, as members of their directory groups (admins "
        "when in ldap_admin_groups).",
    )
    users.add_argument("action", choices=("add", "list", "remove", "set-groups", "set-role"))
    users.add_argument("name", nargs="?", metavar="NAME", help="the user")
    users.add_argument(
        "--group", action="append", default=[], metavar="G", help="a group (repeat for several)"
    )
    role = users.add_mutually_exclusive_group()
    role.add_argument("--admin", action="store_true", help="make the user an admin")
    role.add_argument("--member", action="store_true", help="make the user a member (set-role)")
    users.add_argument(
        "--password-stdin", action="store_true", help="read the password from standard input"
    )
    users.add_argument(
        "--index", type=Path, metavar="DIR", help="index directory (default: index/)"
    )
    users.add_argument("--json", action="store_true", help="list as one JSON array")

    api_keys = commands.add_parser(
        "api-keys",
        help="personal API keys of users",
        description="Create a key for a catalog user (printed once; requests with it read what the "
        "user may read), list keys (ids and owners, never the keys) or revoke one by id. "
        "Keys of the api_keys setting stay service keys that read everything.",
    )
    api_keys.add_argument("action", choices=("create", "list", "revoke"))
    api_keys.add_argument("key_id", nargs="?", metavar="ID", help="the key to revoke")
    api_keys.add_argument("--user", metavar="NAME", help="the key's owner (create)")
    api_keys.add_argument(
        "--index", type=Path, metavar="DIR", help="index directory (default: index/)"
    )

    audit = commands.add_parser(
        "audit",
        help="read the audit log: sign-ins, questions, documents shown, changes",
        description="Print the audit log's records (the rotated files too; with catalog_url "
        "the catalog database's, every replica's), oldest first, one "
        "a line: time, event, user (- for none), request id and the event's details. Never "
        "a password, key or document text is recorded (docs/teams.md, docs/security.md).",
        epilog="Events: " + ", ".join(sorted(EVENTS)) + ".",
    )
    audit.add_argument("--user", metavar="U", help="only the records of this user")
    audit.add_argument(
        "--since",
        metavar="T",
        help="only records at or after T, an ISO 8601 date or date-time (UTC unless it has an "
        "offset), e.g. 2026-11-29 or 2026-11-29T14:00",
    )
    audit.add_argument("--event", metavar="E", help="only records of this event (see below)")
    audit.add_argument("--json", action="store_true", help="print each record as a JSON line")
    audit.add_argument(
        "--index", type=Path, metavar="DIR", help="index directory (default: index/)"
    )

    quality = commands.add_parser(
        "quality",
        help="what staff asked and reported; a reported answer to a golden question",
        description="From the question log and the web chat's feedback: questions per day, "
        "refusals, thumbs, the slowest answers and every thumbs-down answer "
        "(docs/evaluation.md). `promote FEEDBACK_ID --golden FILE --expect TERM` appends the "
        "reported question to a golden file with what a right answer holds, ready for "
        "`assistant eval`.",
    )
    quality.add_argument("action", nargs="?", default="report", choices=("report", "promote"))
    quality.add_argument(
        "feedback_id", nargs="?", metavar="FEEDBACK_ID", help="promote: a reported answer's id"
    )
    quality.add_argument(
        "--since",
        metavar="DATE",
        help="report from this day (YYYY-MM-DD, UTC; default: 30 days ago)",
    )
    quality.add_argument("--until", metavar="DATE", help="report up to this day (exclusive)")
    quality.add_argument("--group", metavar="G", help="report: only questions of this group")
    quality.add_argument(
        "--collection", metavar="NAME", help="report: only answers citing this collection"
    )
    quality.add_argument("--json", action="store_true", help="report: print one JSON object")
    quality.add_argument(
        "--golden",
        type=Path,
        metavar="FILE",
        help="promote: the golden file to add to (.jsonl or .yaml; created when missing)",
    )
    quality.add_argument(
        "--expect",
        action="append",
        default=[],
        metavar="TERM",
        help="promote: a key term every right answer holds (repeat for alternatives)",
    )
    quality.add_argument(
        "--source",
        action="append",
        default=[],
        metavar="DOC",
        help="promote: the indexed document that holds the answer (repeat)",
    )
    quality.add_argument("--answer", metavar="TEXT", help="promote: the right answer in words")
    quality.add_argument(
        "--unanswerable",
        action="store_true",
        help="promote: the documents do not hold the answer, so a refusal is right",
    )
    quality.add_argument(
        "--id", metavar="ID", help="promote: the new question's id (default: reported-NNN)"
    )
    quality.add_argument(
        "--index", type=Path, metavar="DIR", help="index directory (default: index/)"
    )

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
    serve.add_argument(
        "--index", type=Path, metavar="DIR", help="index directory (default: index/)"
    )
    only = serve.add_mutually_exclusive_group()
    only.add_argument("--api-only", action="store_true", help="serve the API without the chat")
    only.add_argument("--ui-only", action="store_true", help="serve the chat without the API")
    serve.add_argument(
        "--allow-unauthenticated-remote",
        action="store_true",
        help="serve the chat without logins or the API without keys on a non-loopback address "
        "(anyone there can read the documents); prints a warning",
    )

    hash_password = commands.add_parser(
        "hash-password",
        help="make a password hash for a web chat login",
        description="Print a scrypt hash of a password for the auth_users setting or an "
        "auth_file line (see docs/ui.md). The password is read from the terminal without "
        "echo (asked twice), or as one line from standard input when piped.",
    )
    hash_password.add_argument(
        "--username", metavar="NAME", help="print a `NAME:hash` line ready for auth_file"
    )

    hash_api_key = commands.add_parser(
        "hash-api-key",
        help="make an API key and its hash for the api_keys setting",
        description="Print a new random API key (give it to the client; it is shown only "
        "once) and its SHA-256 hash, sha256$<hex> (put that in the api_keys setting under a "
        "name of your choice; see docs/api.md). With --stdin, hash a key read as one line from "
        "standard input instead and print only the hash: the way to re-hash a key whose "
        "setting still holds a deprecated scrypt$ hash.",
    )
    hash_api_key.add_argument(
        "--stdin", action="store_true", help="hash a key from standard input (20+ characters)"
    )
    _add_eval_parser(commands)
    return parser


def _add_eval_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    evaluate = commands.add_parser(
        "eval",
        help="measure answer quality on golden questions",
        description="Ask every golden question and score retrieval (hit@k, recall@k, MRR, "
        "nDCG@10), answers (exact match, token F1, key terms), citations (ALCE precision and "
        "recall, faithfulness), refusals and latency. Writes result.json, report.html and SVG "
        "charts to the report directory; exits 1 when a threshold is not met. Defaults come "
        "from [tool.assistant.eval] in the nearest pyproject.toml. To draft golden questions "
        "from the index: assistant eval generate --help.",
        epilog="Metrics for --min/--max: "
        + ", ".join(METRICS)
        + ", latency_<stage>_p50_ms, latency_<stage>_p95_ms (stage: retrieve, answer, total, ...).",
    )
    evaluate.add_argument(
        "golden",
        nargs="*",
        type=Path,
        metavar="GOLDEN",
        help="golden files (.jsonl, .yaml); default: golden in [tool.assistant.eval]",
    )
    evaluate.add_argument("--index", type=Path, metavar="DIR", help="index directory")
    evaluate.add_argument("--answerer", metavar="NAME", help="answerer backend")
    evaluate.add_argument("--k", type=int, metavar="N", help="passages per question (hit@k, ...)")
    evaluate.add_argument(
        "--collection",
        action="append",
        metavar="NAME",
        dest="collections",
        help="ask every question of this collection only (repeat for several; default: all)",
    )
    evaluate.add_argument(
        "--user",
        metavar="NAME",
        help="ask as this user: only the collections granted to them (docs/teams.md)",
    )
    evaluate.add_argument(
        "--report", type=Path, metavar="DIR", help="output directory (default: eval-report/)"
    )
    evaluate.add_argument(
        "--compare",
        type=Path,
        metavar="BASELINE.json",
        help="an earlier result.json to diff against (metrics, questions, index and settings)",
    )
    evaluate.add_argument(
        "--fail-on-regression",
        action="store_true",
        help="exit 1 when a question that passed in the baseline fails, or a quality metric "
        "got worse by more than --tolerance (needs --compare)",
    )
    evaluate.add_argument(
        "--tolerance",
        type=float,
        metavar="X",
        help="how much a quality metric may drop before --fail-on-regression fails (default 0)",
    )
    evaluate.add_argument(
        "--min", action="append", default=[], metavar="METRIC=VALUE", help="fail below VALUE"
    )
    evaluate.add_argument(
        "--max", action="append", default=[], metavar="METRIC=VALUE", help="fail above VALUE"
    )
    for metric in ("accuracy", "citation_precision", "refusal_accuracy"):
        evaluate.add_argument(
            f"--min-{metric.replace('_', '-')}",
            type=float,
            metavar="X",
            help=f"same as --min {metric}=X",
        )
    evaluate.add_argument(
        "--calibrate", action="store_true", help="also print refusal thresholds fitted on this set"
    )
    evaluate.add_argument(
        "--include-drafts", action="store_true", help="also ask unreviewed draft questions"
    )
    evaluate.add_argument(
        "--pyproject", type=Path, metavar="FILE", help="read [tool.assistant.eval] from FILE"
    )


def build_generate_parser() -> argparse.ArgumentParser:
    """The parser of `assistant eval generate`."""
    parser = argparse.ArgumentParser(
        prog="assistant eval generate",
        description="Draft golden questions from the indexed documents without an LLM (defined "
        "terms, definitions, sentences opening with a name, numbers), each with its source "
        "quote and key terms, marked `draft: true` for a person to review.",
    )
    parser.add_argument("--index", type=Path, metavar="DIR", help="index directory")
    parser.add_argument(
        "--out", type=Path, metavar="FILE", help=".jsonl or .yaml file (default: print JSONL)"
    )
    parser.add_argument("-n", type=int, default=20, metavar="N", help="drafts (default: 20)")
    parser.add_argument(
        "--answerer",
        metavar="NAME",
        help="also ask each draft with this answerer and keep its cited answer as a candidate",
    )
    parser.add_argument("--append", action="store_true", help="add to an existing --out file")
    parser.add_argument("--seed", type=int, default=0, help="vary which sentences are drafted")
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
        if args.command == "ingest":
            return _ingest(settings, args)
        if args.command == "ask":
            return _ask(settings, args)
        if args.command == "sync":
            return sync_command(settings, args)
        if args.command == "watch":
            return watch_command(settings, args)
        if args.command == "collections":
            return _collections(settings, args)
        if args.command == "catalog-copy":
            return _catalog_copy(settings, args)
        if args.command == "users":
            return _users(settings, args)
        if args.command == "api-keys":
            return _api_keys(settings, args)
        if args.command == "quality":
            return _quality(settings, args)
        if args.command == "audit":
            return _audit(settings, args)
        if args.command == "hash-password":
            return _hash_password(args)
        if args.command == "hash-api-key":
            return _hash_api_key(args)
        if args.command == "eval":
            return _eval(settings, args)
        if args.command == "eval-generate":
            return _generate(settings, args)
        return _serve(settings, args)
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
    except AssistantError as exc:
        return _fail(str(exc), EXIT_FAILURE)
    except KeyboardInterrupt:
        return _fail("interrupted", 130)


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
    return EXIT_OK


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


def _catalog_copy(settings: Settings, args: argparse.Namespace) -> int:
    from assistant.catalog import copy_catalog, open_catalog
    from assistant.catalog_sqlite import SqliteCatalog

    source_file = settings.index_dir / "catalog.sqlite3"
    if not source_file.exists():
        raise IndexMissingError(f"no catalog in {settings.index_dir}: run `assistant ingest` first")
    source = SqliteCatalog(source_file)
    # No statement timeout: copying a big catalog may rightly take long.
    target = open_catalog(settings.with_overrides(catalog_url=args.to, catalog_statement_timeout=0))
    where = getattr(target, "where", "the target")
    from assistant.accountstore import copy_accounts, sqlite_accounts
    from assistant.catalog_pg import PostgresCatalog
    from assistant.conversations import copy_conversations, sqlite_conversations
    from assistant.feedbackstore import FeedbackFile, FeedbackTable
    from assistant.questionlog import copy_questions, sqlite_questions
    from assistant.sqlstore import PostgresStore, holds_rows

    assert isinstance(target, PostgresCatalog)  # open_catalog refused any other URL
    shared = PostgresStore(target)
    for table in ("users", "conversations", "questions", "feedback"):
        if holds_rows(shared, table):  # checked first: nothing is copied into a database in use
            raise UsageError(f"{where} already holds {table}; copy into an empty database")

    def progress(done: int, total: int) -> None:
        if done == total or done % 100 == 0:
            print(f"{done}/{total} documents", file=sys.stderr)

    chunks = copy_catalog(source, target, progress)
    users = copy_accounts(sqlite_accounts(source_file), shared)
    talks = copy_conversations(sqlite_conversations(settings.conversations_path), shared)
    asked = copy_questions(sqlite_questions(settings.questions_path), shared)
    # The audit file's records join the table (beside any a replica wrote there already).
    audited = AuditTable(shared).append_all(AuditFile.from_settings(settings).read())
    thumbs = FeedbackTable(shared).append_all(FeedbackFile(settings.feedback_path).records())
    print(
        f"copied {len(source.documents())} documents, {chunks} passages, {users} users, "
        f"{talks} conversations, {asked} logged questions, {audited} audit records and "
        f"{thumbs} feedback records into {where}"
    )
    return EXIT_OK


def _collections(settings: Settings, args: argparse.Namespace) -> int:
    from assistant.accounts import Accounts

    accounts = Accounts.from_settings(settings)
    if args.action in ("grant", "revoke"):
        if not args.name or not (args.group or args.user):
            raise UsageError(
                f"usage: assistant collections {args.action} NAME --group G | --user U"
            )
        change = accounts.grant if args.action == "grant" else accounts.revoke
        change(args.name, group=args.group, user=args.user)
        whom = f"group {args.group}" if args.group else f"user {args.user}"
        verb = "may now read" if args.action == "grant" else "may no longer read"
        print(f"{whom} {verb} collection {args.name}")
        return EXIT_OK
    from assistant.core import Assistant

    found = Assistant(settings).collections()
    grants: dict[str, list[str]] = {}
    for grant in accounts.grants():
        grants.setdefault(grant.collection, []).append(f"{grant.kind} {grant.principal}")
    if args.json:
        rows = [
            {"name": c.name, "documents": c.documents, "passages": c.chunks,
             "grants": grants.get(c.name, [])}
            for c in found
        ]  # fmt: skip
        print(json.dumps(rows, ensure_ascii=False))
    elif not found:
        print(f"no documents indexed in {settings.index_dir}")
    else:
        width = max(len(c.name) for c in found)
        for c in found:
            readers = ", ".join(grants.get(c.name, [])) or "admins only"
            print(f"{c.name:<{width}}  {c.documents} documents, {c.chunks} passages; {readers}")
    return EXIT_OK


def _quality(settings: Settings, args: argparse.Namespace) -> int:
    from assistant.core import Assistant
    from assistant.quality import parse_when

    assistant = Assistant(settings)
    if args.action == "promote":
        if not args.feedback_id or args.golden is None:
            raise UsageError(
                "usage: assistant quality promote FEEDBACK_ID --golden FILE "
                "(--expect TERM ... | --source DOC ... | --unanswerable)"
            )
        item = assistant.promote_feedback(
            args.feedback_id,
            args.golden,
            key_terms=args.expect,
            sources=args.source,
            answer=args.answer,
            unanswerable=args.unanswerable,
            question_id=args.id,
        )
        print(f"added {item.id} to {args.golden}: {item.question}")
        return EXIT_OK
    since = parse_when(args.since) if args.since else time.time() - 30 * 86400
    until = parse_when(args.until) if args.until else None
    report = assistant.quality(since, until, group=args.group, collection=args.collection)
    if args.json:
        print(json.dumps(report.to_json(), ensure_ascii=False))
        return EXIT_OK
    print(quality_text(report))
    return EXIT_OK


def quality_text(report: QualityReport) -> str:
    """The quality report as the terminal shows it."""
    data = report.to_json()
    period = f"{(data['since'] or 'the start')[:10]} to {(data['until'] or 'now')[:10]}"
    lines = [f"Questions from {period}: {report.questions}"]
    if report.questions:
        lines[0] += f", refused {report.refused} ({report.refusal_rate or 0:.1%})"
        lines.append("Per day: " + ", ".join(f"{d} {n}" for d, n in report.per_day))
    votes = report.thumbs_up + report.thumbs_down
    lines.append(
        f"Thumbs: {report.thumbs_up} up, {report.thumbs_down} down"
        + (f" ({report.thumbs_down_rate or 0:.0%} down)" if votes else "")
    )
    if report.slowest:
        lines.append("Slowest answers:")
        lines += [f"  {e.total_ms:7.0f} ms  {_one_line(e.question)}" for e in report.slowest]
    lines.append(f"Reported answers ({len(report.reported)}):")
    for item in report.reported:
        what = "should have been answered" if item.should_have_answered else "thumbs down"
        lines.append(f"  {item.feedback_id}  {item.reported_at[:10]}  {item.user or '-'}: {what}")
        lines.append(f"    question: {_one_line(item.standalone_question or item.question)}")
        lines.append(f"    answer:   {_one_line(item.answer)}")
        if item.comment:
            lines.append(f"    comment:  {_one_line(item.comment)}")
        for citation in item.citations:
            page = f" p. {citation['page']}" if citation.get("page") else ""
            lines.append(f"    [{citation.get('id')}] {citation.get('source')}{page}")
    lines += [f"note: {note}" for note in report.notes]
    return "\n".join(lines)


def _one_line(text: str, limit: int = 160) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


def _read_new_password(from_stdin: bool) -> str:
    if from_stdin or not sys.stdin.isatty():
        return sys.stdin.readline().rstrip("\r\n")
    password = getpass.getpass("Password: ")
    if getpass.getpass("Repeat it: ") != password:
        raise UsageError("the passwords differ")
    return password


def _users(settings: Settings, args: argparse.Namespace) -> int:
    from assistant.accounts import Accounts

    accounts = Accounts.from_settings(settings)
    if args.action == "list":
        found = accounts.users()
        if args.json:
            rows = [{"name": u.name, "role": u.role, "groups": list(u.groups)} for u in found]
            print(json.dumps(rows, ensure_ascii=False))
        for user in [] if args.json else found:
            print(f"{user.name}  {user.role}  groups: {', '.join(user.groups) or '-'}")
        return EXIT_OK
    if not args.name:
        raise UsageError(f"usage: assistant users {args.action} NAME")
    if args.action == "add":
        user = accounts.add_user(
            args.name, _read_new_password(args.password_stdin), args.group, args.admin
        )
        print(f"added {user.role} {user.name} (groups: {', '.join(user.groups) or '-'})")
    elif args.action == "remove":
        accounts.remove_user(args.name)
        print(f"removed {args.name} with their API keys and personal grants")
    elif args.action == "set-role":
        if args.admin == args.member:
            raise UsageError("usage: assistant users set-role NAME --admin | --member")
        user = accounts.set_role(args.name, admin=args.admin)
        print(f"{user.name} is now {'an' if user.admin else 'a'} {user.role}")
    else:
        user = accounts.set_groups(args.name, args.group)
        print(f"{user.name} is now in: {', '.join(user.groups) or 'no group'}")
    return EXIT_OK


def _api_keys(settings: Settings, args: argparse.Namespace) -> int:
    from assistant.accounts import Accounts

    accounts = Accounts.from_settings(settings)
    if args.action == "create":
        if not args.user:
            raise UsageError("usage: assistant api-keys create --user NAME")
        key_id, key = accounts.create_api_key(args.user)
        print(f"id:  {key_id}")
        print(f"key: {key}")
        print("the key is shown only this once: give it to its user now", file=sys.stderr)
    elif args.action == "list":
        for info in accounts.api_keys():
            print(f"{info.key_id}  {info.user}")
    else:
        if not args.key_id:
            raise UsageError("usage: assistant api-keys revoke ID")
        accounts.revoke_api_key(args.key_id)
        print(f"revoked {args.key_id}")
    return EXIT_OK


def _audit(settings: Settings, args: argparse.Namespace) -> int:
    since = None if args.since is None else parse_since(args.since)
    event = None if args.event is None else check_event(args.event)
    log = AuditLog.from_settings(settings)
    for record in log.records(user=args.user, since=since, event=event):
        if args.json:
            print(json.dumps(record.to_json(), ensure_ascii=False, sort_keys=True))
            continue
        details = " ".join(
            f"{key}={json.dumps(value, ensure_ascii=False)}"
            for key, value in sorted(record.details.items())
        )
        who = record.user or "-"
        print(f"{record.time}  {record.event}  {who}  {record.request_id or '-'}  {details}")
    return EXIT_OK


def _eval(settings: Settings, args: argparse.Namespace) -> int:
    from assistant.evaluation.command import EvalOptions, eval_command
    from assistant.evaluation.config import make_threshold, parse_threshold

    thresholds = [parse_threshold(text, "min") for text in args.min]
    thresholds += [parse_threshold(text, "max") for text in args.max]
    for metric in ("accuracy", "citation_precision", "refusal_accuracy"):
        value = getattr(args, f"min_{metric}")
        if value is not None:
            thresholds.append(make_threshold(metric, "min", value))
    options = EvalOptions(
        golden=tuple(args.golden),
        index=args.index,
        answerer=args.answerer,
        k=args.k,
        collections=None if args.collections is None else tuple(args.collections),
        user=args.user,
        report=args.report,
        compare=args.compare,
        fail_on_regression=args.fail_on_regression,
        tolerance=args.tolerance,
        thresholds=tuple(thresholds),
        calibrate=args.calibrate,
        include_drafts=args.include_drafts,
        pyproject=args.pyproject,
    )
    return eval_command(settings, options)


def _generate(settings: Settings, args: argparse.Namespace) -> int:
    from assistant.evaluation.command import generate_command

    if args.n < 1:
        raise BadQuestionError("-n must be at least 1")
    return generate_command(settings, args.out, args.n, args.answerer, args.append, args.seed)


def _serve(settings: Settings, args: argparse.Namespace) -> int:
    from assistant.api.server import UnsafeBindError, serve

    try:
        serve(settings, api=not args.ui_only, ui=not args.api_only)
    except UnsafeBindError as exc:
        raise UsageError(str(exc)) from exc
    return EXIT_OK


def _hash_password(args: argparse.Namespace) -> int:
    from assistant.security import hash_password

    if sys.stdin.isatty():
        password = getpass.getpass("Password: ")
        if getpass.getpass("Repeat it: ") != password:
            return _fail("the passwords differ", EXIT_USAGE)
    else:
        password = sys.stdin.readline().rstrip("\r\n")
    if not password:
        return _fail("the password is empty", EXIT_USAGE)
    encoded = hash_password(password)
    print(f"{args.username}:{encoded}" if args.username else encoded)
    return EXIT_OK


def _hash_api_key(args: argparse.Namespace) -> int:
    from assistant.security import hash_api_key, new_api_key

    if not args.stdin:
        key = new_api_key()
        print(f"key:  {key}")
        print(f"hash: {hash_api_key(key)}")
        return EXIT_OK
    key = sys.stdin.readline().strip()
    if len(key) < MIN_API_KEY_CHARS:
        return _fail(
            f"an API key needs at least {MIN_API_KEY_CHARS} characters; "
            "leave out --stdin to make a random one",
            EXIT_USAGE,
        )
    print(hash_api_key(key))
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
            lines.append(f"  [{citation.id}] {citation.source} ({', '.join(where)})")
            quote = " ".join(citation.quote.split())
            lines.append(textwrap.indent(textwrap.fill(f"“{quote}”", width=94), "      "))
    if answer.related:
        lines += ["", f"{RELATED_HEADING} (not quoted above):"]
        for passage in answer.related:
            lines.append(f"  - {passage.location()}, chars {passage.start}-{passage.end}")
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
    lines += [f"  skipped {item.source}: {item.error}" for item in report.failed]
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


if __name__ == "__main__":
    sys.exit(main())
