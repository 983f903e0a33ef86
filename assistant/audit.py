"""The audit log: who did what, when, append-only: one JSON line per event in a file (the
embedded default), or with `catalog_url` one row per event in the table `audit` of the
PostgreSQL catalog database (step 7 of `assistant.pgschema`), so `assistant audit` on any
replica reads every replica's events.

Every record is one `AuditRecord`: `event` (one of `EVENTS`), `user` (None: a trusted caller such
as the command line or a service key, or nobody yet, as in a failed login), `time` (UTC, ISO
8601), `request_id` (one per HTTP request or chat turn, when there is one) and the event's own
`details`. Never a password, key, token or document text: a question's record names the cited
documents, an API key's use its name or key id.

Both places are an `AuditSink` behind the one `AuditLog`, which makes the records and filters
them as they are read. In the file (`AuditFile`), lines are appended whole under a lock
(`atomic.append_jsonl`), so concurrent writers and processes never interleave, and a crash
leaves a line whole or absent; a reader skips a torn last line. When a line would take the file
past `audit_max_bytes`, the file is rotated first (`audit.log` -> `audit.log.1` -> ... ->
`audit.log.<audit_keep>`, the oldest dropped), under the same lock as the append. The table
(`AuditTable`) is not rotated; its `details` column is the details as JSON text.

`audit_retention_days` (0: forever) bounds both by age: on a log's first record and then at
most daily, the table's rows older than that are deleted, and the file's rotated files whose
newest record is older (their last write) are removed; the live file is never removed.
"""

from __future__ import annotations

import json
import logging
import os
import time
import uuid
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from filelock import FileLock

from assistant.atomic import append_jsonl
from assistant.errors import AssistantError, CatalogUnavailableError
from assistant.sqlstore import Store, postgres_store
from assistant.text import printable

if TYPE_CHECKING:
    from assistant.catalog import Catalog
    from assistant.settings import Settings

# Every event the log records, and what its details hold.
EVENTS: Mapping[str, str] = {
    "question": "a question answered: collections asked for, refused, cited document ids",
    "document_shown": "a document or cited passage opened: its document id",
    "ingest": "`assistant ingest` or Assistant.ingest: targets, counts (deleted: removed ones)",
    "upload": "files uploaded in the web chat and indexed: their names, counts",
    "reindex": "the web chat's re-index of the document folders: counts",
    "sync": "`assistant sync` or one batch of `assistant watch`: folders, counts (or error)",
    "delete": "a document taken out of the index (Documents tab, HTTP API): its document id",
    "login": "a sign-in that succeeded: method (password, directory, basic, proxy)",
    "login_failed": "a sign-in that failed: method, the name tried",
    "api_key_used": "an API request with a key: the service key's name or personal key's id",
    "user_added": "a catalog user created: role, groups",
    "user_removed": "a catalog user deleted",
    "groups_changed": "a user's groups replaced: the new groups",
    "role_changed": "a user made an admin or a member: the new role",
    "grant_added": "a collection granted to a group or user",
    "grant_revoked": "a grant taken back",
    "api_key_created": "a personal API key made: its id and owner",
    "api_key_revoked": "a personal API key deleted: its id",
}
_log = logging.getLogger(__name__)


class AuditError(AssistantError, ValueError):
    """A bad filter for reading the audit log (an unknown event, an unparsable time)."""


@dataclass(frozen=True)
class AuditRecord:
    """One line of the audit log."""

    event: str
    user: str | None
    time: str  # UTC, ISO 8601 with offset
    request_id: str | None = None
    details: Mapping[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        """The record as its JSON line holds it (details beside the common fields)."""
        return {
            **self.details,
            "event": self.event,
            "user": self.user,
            "time": self.time,
            "request_id": self.request_id,
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> AuditRecord:
        """A record from a parsed line."""
        common = {"event", "user", "time", "request_id"}
        return cls(
            event=str(data["event"]),
            user=None if data.get("user") is None else str(data["user"]),
            time=str(data["time"]),
            request_id=None if data.get("request_id") is None else str(data["request_id"]),
            details={k: v for k, v in data.items() if k not in common},
        )

    @property
    def moment(self) -> datetime:
        """`time` as an aware datetime."""
        return datetime.fromisoformat(self.time)


def new_request_id() -> str:
    """A fresh id for one HTTP request or chat turn."""
    return uuid.uuid4().hex


def parse_since(text: str) -> datetime:
    """A `--since` time: an ISO 8601 date or date-time (UTC unless it says otherwise)."""
    try:
        moment = datetime.fromisoformat(text.strip())
    except ValueError:
        raise AuditError(
            f"bad time {text!r}: use an ISO 8601 date or date-time, e.g. 2026-11-29 or "
            "2026-11-29T14:00"
        ) from None
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def check_event(name: str) -> str:
    """A known event name, else AuditError listing the known ones."""
    if name not in EVENTS:
        raise AuditError(f"unknown event {name!r} (known: {', '.join(sorted(EVENTS))})")
    return name


class AuditSink(Protocol):
    """Where the audit log's records are kept."""

    @property
    def where(self) -> str:
        """The place, for a warning (never a password)."""
        ...

    def append(self, entry: AuditRecord) -> None:
        """Keep one record (OSError or CatalogUnavailableError when it cannot)."""
        ...

    def read(self, since: datetime | None = None) -> Iterator[AuditRecord]:
        """The records kept, oldest first; those before `since` may be left out."""
        ...

    def prune(self, before: datetime) -> None:
        """Forget records older than `before` (OSError or CatalogUnavailableError when it
        cannot)."""
        ...


SWEEP_SECONDS = 86400.0  # the retention is applied on the first record, then at most this often


class AuditLog:
    """The audit log: append a record, read them back filtered, in a file or a table."""

    def __init__(
        self,
        sink: AuditSink,
        retention_days: float = 0,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.sink = sink
        self.retention_days = retention_days
        self._clock = clock
        self._swept_at: float | None = None
        self._warned = False

    @classmethod
    def from_settings(cls, settings: Settings, catalog: Catalog | None = None) -> AuditLog:
        """The table of the PostgreSQL catalog database with `catalog_url` (through `catalog`'s
        connections when it is that database's), else the file at `audit_path`, rotated as
        `audit_max_bytes` and `audit_keep` say."""
        days = settings.audit_retention_days
        if settings.catalog_url is not None:
            return cls(AuditTable(postgres_store(settings, catalog)), days)
        return cls(AuditFile.from_settings(settings), days)

    def record(
        self, event: str, user: str | None, request_id: str | None = None, **details: Any
    ) -> AuditRecord:
        """Append one event now. A log that cannot be written (read-only folder, full disk,
        the catalog database down) never costs the person their answer or sign-in: the failure
        is logged once."""
        entry = AuditRecord(
            check_event(event),
            user,
            datetime.now(UTC).isoformat(timespec="milliseconds"),
            request_id,
            {key: _storable(value) for key, value in details.items()},
        )
        try:
            self.sink.append(entry)
            self._sweep()
        except (OSError, CatalogUnavailableError) as exc:
            if not self._warned:
                self._warned = True
                _log.warning("audit log %s not written: %s", self.sink.where, exc)
        return entry

    def _sweep(self) -> None:
        """Apply the retention now if it is due (first record, then daily)."""
        now = self._clock()
        if self.retention_days <= 0:
            return
        if self._swept_at is not None and now - self._swept_at < SWEEP_SECONDS:
            return
        self._swept_at = now
        self.sink.prune(datetime.fromtimestamp(now - self.retention_days * 86400, UTC))

    def records(
        self,
        *,
        user: str | None = None,
        since: datetime | None = None,
        event: str | None = None,
    ) -> Iterator[AuditRecord]:
        """The records, oldest first, of `user`, at or after `since`, of kind `event`."""
        if event is not None:
            check_event(event)
        for entry in self.sink.read(since):
            if user is not None and entry.user != user:
                continue
            if event is not None and entry.event != event:
                continue
            if since is not None and entry.moment < since:
                continue
            yield entry


class AuditFile:
    """The audit log's file and its rotated predecessors: append, rotate, read."""

    def __init__(self, path: Path, max_bytes: int, keep: int) -> None:
        self.path = path
        self.max_bytes = max_bytes
        self.keep = keep

    @classmethod
    def from_settings(cls, settings: Settings) -> AuditFile:
        """The file at `audit_path`, rotated as `audit_max_bytes` and `audit_keep` say."""
        return cls(settings.audit_path, settings.audit_max_bytes, settings.audit_keep)

    @property
    def where(self) -> str:
        """The file's path."""
        return str(self.path)

    def append(self, entry: AuditRecord) -> None:
        """One whole line at the end, rotating first when it would not fit."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with FileLock(f"{self.path}.lock"):
            self._rotate_for(entry)
            self._end_torn_line()
            append_jsonl(self.path, entry.to_json())

    def _rotate_for(self, entry: AuditRecord) -> None:
        size = len(json.dumps(entry.to_json(), ensure_ascii=False).encode("utf-8")) + 1
        try:
            current = self.path.stat().st_size
        except FileNotFoundError:
            return
        if current == 0 or current + size <= self.max_bytes:
            return
        for number in range(self.keep - 1, 0, -1):
            older = self._numbered(number)
            if older.exists():
                os.replace(older, self._numbered(number + 1))
        os.replace(self.path, self._numbered(1))

    def _end_torn_line(self) -> None:
        # A crash mid-write left a line without its newline: end it, so the next record
        # starts a line of its own (the torn one is skipped by readers).
        try:
            with self.path.open("rb") as handle:
                handle.seek(-1, os.SEEK_END)
                torn = handle.read(1) != b"\n"
        except (FileNotFoundError, OSError):
            return  # missing or empty
        if torn:
            with self.path.open("ab") as handle:
                handle.write(b"\n")

    def _numbered(self, number: int) -> Path:
        return self.path.with_name(f"{self.path.name}.{number}")

    def files(self) -> list[Path]:
        """The log's files that exist, oldest first."""
        candidates = [self._numbered(n) for n in range(self.keep, 0, -1)] + [self.path]
        return [path for path in candidates if path.exists()]

    def read(self, since: datetime | None = None) -> Iterator[AuditRecord]:
        """Every record of every file, oldest first (`since` is left to the reader)."""
        for path in self.files():
            yield from _read(path)

    def prune(self, before: datetime) -> None:
        """Remove the rotated files last written before `before` (all their records are
        older); the live file stays, under the lock rotation takes."""
        with FileLock(f"{self.path}.lock"):
            for path in self.files()[:-1] if self.path.exists() else self.files():
                try:
                    if path.stat().st_mtime < before.timestamp():
                        path.unlink()
                except FileNotFoundError:
                    continue


class AuditTable:
    """The audit log as the table `audit` of the catalog database: every replica appends to
    it and reads all of it."""

    where = "table of the catalog database"

    def __init__(self, store: Store) -> None:
        self.store = store

    def append(self, entry: AuditRecord) -> None:
        """One row."""
        self.store.execute(
            'INSERT INTO audit (event, "user", time, request_id, details) VALUES (?, ?, ?, ?, ?)',
            _row(entry),
        )

    def append_all(self, entries: Iterable[AuditRecord]) -> int:
        """Rows for `entries` in one transaction (a copy of a file); returns how many."""
        rows = [_row(entry) for entry in entries]
        with self.store.transaction() as statements:
            statements.executemany(
                'INSERT INTO audit (event, "user", time, request_id, details) '
                "VALUES (?, ?, ?, ?, ?)",
                rows,
            )
        return len(rows)

    def prune(self, before: datetime) -> None:
        """Delete the rows older than `before` (through the index on time)."""
        self.store.execute("DELETE FROM audit WHERE time < ?", (before,))

    def read(self, since: datetime | None = None) -> Iterator[AuditRecord]:
        """The rows at or after `since` (through the index on time), oldest first."""
        where, params = ("WHERE time >= ? ", (since,)) if since is not None else ("", ())
        rows = self.store.execute(
            f'SELECT event, "user", time, request_id, details FROM audit {where}ORDER BY time, id',
            params,
        )
        for event, user, moment, request_id, details in rows:
            yield AuditRecord(
                event,
                user,
                moment.astimezone(UTC).isoformat(timespec="milliseconds"),
                request_id,
                json.loads(details),
            )


def _row(entry: AuditRecord) -> tuple[object, ...]:
    details = json.dumps(dict(entry.details), ensure_ascii=False)
    return (entry.event, entry.user, entry.moment, entry.request_id, details)


def _read(path: Path) -> Iterator[AuditRecord]:
    try:
        data = path.read_bytes()
    except FileNotFoundError:  # rotated away since it was listed
        return
    for line in data.split(b"\n"):
        if not line.strip():
            continue
        try:
            yield AuditRecord.from_json(json.loads(line))
        except (ValueError, KeyError, TypeError):
            # A line cut short by a crash mid-write (only ever the last one): skipped.
            continue


def _storable(value: Any) -> Any:
    """A detail as a JSON line can hold it: text (in lists and mappings too) with a byte of a
    file name that was not UTF-8 as U+FFFD."""
    if isinstance(value, str):
        return printable(value)
    if isinstance(value, list | tuple):
        return [_storable(item) for item in value]
    if isinstance(value, dict):
        return {str(key): _storable(item) for key, item in value.items()}
    return value
