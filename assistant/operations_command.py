"""The operations commands: `catalog-copy` (into PostgreSQL, for server mode), `audit` (the
audit log) and `quality` (what staff asked and reported): their options and output."""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Callable
from typing import TYPE_CHECKING

from assistant.audit import EVENTS, AuditFile, AuditLog, AuditTable, check_event, parse_since
from assistant.command_options import add_index_option, path_argument, require_index_folder
from assistant.errors import IndexMissingError, UsageError
from assistant.settings import Settings
from assistant.text import one_line

if TYPE_CHECKING:
    from assistant.quality import QualityReport

# A question, answer or comment of the quality report stays on one line of this length.
QUOTE_CHARS = 160


def add_operations_parsers(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """The operations subcommands and their options."""
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
    add_index_option(catalog_copy)

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
    add_index_option(audit)

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
        type=path_argument,
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
    add_index_option(quality)


def catalog_copy_command(settings: Settings, args: argparse.Namespace) -> int:
    """`assistant catalog-copy`: the index's catalog and records into an empty PostgreSQL."""
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
    from assistant.conversation_schema import copy_conversations, sqlite_conversations
    from assistant.feedbackstore import FeedbackFile, FeedbackTable
    from assistant.questionlog import copy_questions, sqlite_questions
    from assistant.sqlstore import PostgresStore, holds_rows

    if not isinstance(target, PostgresCatalog):  # an empty --to reads as no URL at all
        raise UsageError("--to needs the PostgreSQL URL to copy into (postgresql://...)")
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
    return 0


def audit_command(settings: Settings, args: argparse.Namespace) -> int:
    """`assistant audit`: the audit log's records, filtered, as text or JSON lines."""
    since = None if args.since is None else parse_since(args.since)
    event = None if args.event is None else check_event(args.event)
    require_index_folder(settings)
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
    return 0


def quality_command(settings: Settings, args: argparse.Namespace) -> int:
    """`assistant quality`: the quality report, or a reported answer promoted to a golden set."""
    from assistant.core import Assistant
    from assistant.quality import parse_when

    require_index_folder(settings)
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
        return 0
    since = parse_when(args.since) if args.since else time.time() - 30 * 86400
    until = parse_when(args.until) if args.until else None
    report = assistant.quality(since, until, group=args.group, collection=args.collection)
    if args.json:
        print(json.dumps(report.to_json(), ensure_ascii=False))
        return 0
    print(quality_text(report))
    return 0


def quality_text(report: QualityReport) -> str:
    """The quality report as the terminal shows it."""

    def short(text: str) -> str:
        return one_line(text, QUOTE_CHARS)

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
        lines += [f"  {e.total_ms:7.0f} ms  {short(e.question)}" for e in report.slowest]
    lines.append(f"Reported answers ({len(report.reported)}):")
    for item in report.reported:
        what = "should have been answered" if item.should_have_answered else "thumbs down"
        lines.append(f"  {item.feedback_id}  {item.reported_at[:10]}  {item.user or '-'}: {what}")
        lines.append(f"    question: {short(item.standalone_question or item.question)}")
        lines.append(f"    answer:   {short(item.answer)}")
        if item.comment:
            lines.append(f"    comment:  {short(item.comment)}")
        for citation in item.citations:
            page = f" p. {citation['page']}" if citation.get("page") else ""
            lines.append(f"    [{citation.get('id')}] {citation.get('source')}{page}")
    lines += [f"note: {note}" for note in report.notes]
    return "\n".join(lines)


OPERATIONS_COMMANDS: dict[str, Callable[[Settings, argparse.Namespace], int]] = {
    "catalog-copy": catalog_copy_command,
    "audit": audit_command,
    "quality": quality_command,
}
