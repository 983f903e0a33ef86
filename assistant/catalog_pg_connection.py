"""The PostgreSQL catalog's connections: one per thread, opened on first use (the first one
migrates the schema), each statement bounded by the statement timeout; a server lost or a
statement cancelled raised as CatalogUnavailableError (no password shown); transactions; and the
writer lock, so writers on any host take turns. `PostgresCatalog` (assistant.catalog_pg) is built
on it.
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any, TypeVar

import psycopg

from assistant.errors import CatalogUnavailableError, IndexBusyError
from assistant.pgschema import migrate, parse_url

T = TypeVar("T")
_WRITER_LOCK = 0x77726974657273  # "writers"
_LOCK_POLL = 0.25  # seconds between tries for the writer lock


class PostgresConnections:
    """This thread's connection to the catalog database, the error a lost server or a cancelled
    statement raises, and the writer lock."""

    def __init__(self, url: str, statement_timeout: float = 0.0) -> None:
        self._conninfo, self.where, self._password = parse_url(url)
        self.statement_timeout = statement_timeout
        self._local = threading.local()
        self._lock = threading.Lock()
        self._migrated = False

    # -- connections ----------------------------------------------------------------------
    def _connect(self, statement_timeout: float | None = None) -> psycopg.Connection[Any]:
        """A new connection, the schema migrated, each statement bounded by `statement_timeout`
        (None: the catalog's)."""
        connection = psycopg.connect(self._conninfo, autocommit=True)
        try:
            # Every statement here is short: compiling one (JIT) costs more than running it.
            connection.execute("SET jit = off")
            with self._lock:
                migrated = self._migrated
            if not migrated:
                migrate(connection)
                with self._lock:
                    self._migrated = True
            seconds = self.statement_timeout if statement_timeout is None else statement_timeout
            # Set even when 0, so a default of the server or role does not apply either.
            connection.execute(f"SET statement_timeout = {_milliseconds(seconds)}")
        except BaseException:
            connection.close()
            raise
        return connection

    def _run(self, work: Callable[[psycopg.Connection[Any]], T]) -> T:
        """`work` on this thread's connection; a connection the server dropped since its last
        use (a restart) is replaced once, and an unreachable server raises
        CatalogUnavailableError."""
        for attempt in range(2):
            connection: psycopg.Connection[Any] | None = getattr(self._local, "connection", None)
            fresh = connection is None
            try:
                if connection is None:
                    connection = self._local.connection = self._connect()
                return work(connection)
            except psycopg.errors.QueryCanceled as exc:
                raise self._cancelled(exc) from None
            except psycopg.OperationalError as exc:
                if connection is not None and not connection.closed:
                    raise  # the statement's own failure (a deadlock, a cancel): no outage
                self.close()
                # A used connection fails once after a restart; work on a fresh one is final.
                # Every write here can be redone (a replaced version, a set value, a bump).
                if fresh or attempt:
                    raise self._unavailable(exc) from None
        raise AssertionError("unreachable")

    def _safe(self, exc: Exception) -> str:
        message = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
        return message.replace(self._password, "***") if self._password else message

    def _unavailable(self, exc: Exception) -> CatalogUnavailableError:
        """The error for a server that cannot be reached (where it is, why; no password)."""
        return CatalogUnavailableError(
            f"the catalog database {self.where} is unavailable: {self._safe(exc)}"
        )

    def _cancelled(self, exc: Exception) -> CatalogUnavailableError:
        """The error for a statement the server cancelled: past the statement timeout (a lock
        wait, an overloaded server), or by an administrator. The connection stays usable."""
        limit = self.statement_timeout
        hint = f" (catalog_statement_timeout = {limit:g} s)" if limit > 0 else ""
        return CatalogUnavailableError(
            f"the catalog database {self.where} is unavailable: {self._safe(exc)}{hint}"
        )

    def exists(self) -> bool:
        """Whether the database answers (its schema is made on the first connection)."""
        return self._run(lambda db: True)

    def close(self) -> None:
        """Close this thread's connection."""
        connection = getattr(self._local, "connection", None)
        self._local.connection = None
        if connection is not None:
            connection.close()

    def run(self, work: Callable[[psycopg.Connection[Any]], T]) -> T:
        """`work` on this thread's connection, as every catalog call runs (the accounts kept in
        this database use it too)."""
        return self._run(work)

    @contextmanager
    def transaction(self) -> Iterator[psycopg.Connection[Any]]:
        """This thread's connection in a transaction for the `with` block (committed at its end,
        rolled back on an error); CatalogUnavailableError when the server is lost meanwhile."""
        db = self._run(lambda db: db)
        try:
            with db.transaction():
                yield db
        except psycopg.errors.QueryCanceled as exc:
            raise self._cancelled(exc) from None
        except psycopg.OperationalError as exc:
            if not db.closed:
                raise
            self.close()  # the next call connects again
            raise self._unavailable(exc) from None

    def _rows(self, query: str, params: Sequence[Any] | dict[str, Any] = ()) -> list[Any]:
        return self._run(lambda db: db.execute(query, params).fetchall())

    # -- the writer lock ------------------------------------------------------------------
    @contextmanager
    def writer_lock(self, timeout: float) -> Iterator[None]:
        """A session-level advisory lock on a connection of its own, so writers on any host
        take turns; released when the block ends (at once: others see it free when this
        returns), and by the server when the connection is lost."""
        try:
            connection = psycopg.connect(self._conninfo, autocommit=True)
        except psycopg.OperationalError as exc:
            raise self._unavailable(exc) from None
        held = False
        try:
            deadline = time.monotonic() + timeout
            while not connection.execute(
                "SELECT pg_try_advisory_lock(%s)", (_WRITER_LOCK,)
            ).fetchone()[0]:  # type: ignore[index]
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise IndexBusyError(
                        f"another ingest is writing to the catalog {self.where}; "
                        "try again when it ends"
                    )
                time.sleep(min(_LOCK_POLL, remaining))
            held = True
            yield
        finally:
            # Closing alone releases it only once the server has ended the session, a moment
            # later; a lost connection needs nothing.
            if held and not connection.closed:
                with contextlib.suppress(psycopg.Error):
                    connection.execute("SELECT pg_advisory_unlock(%s)", (_WRITER_LOCK,))
            connection.close()

    def writer_busy(self) -> bool:
        """Whether a session holds the writer lock (read from pg_locks: asking takes nothing)."""
        rows = self._rows(
            "SELECT EXISTS (SELECT 1 FROM pg_locks WHERE locktype = 'advisory' AND granted "
            "AND database = (SELECT oid FROM pg_database WHERE datname = current_database()) "
            "AND classid::bigint = %s AND objid::bigint = %s AND objsubid = 1)",
            (_WRITER_LOCK >> 32, _WRITER_LOCK & 0xFFFFFFFF),
        )
        return bool(rows[0][0])


def _milliseconds(seconds: float) -> int:
    """A timeout in seconds as PostgreSQL's milliseconds (0: none; never rounded to none)."""
    return max(1, round(seconds * 1000)) if seconds > 0 else 0
