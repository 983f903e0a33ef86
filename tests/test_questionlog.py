"""The question log on both of its databases (a SQLite file beside the index, the PostgreSQL
catalog database in server mode): what a row keeps, periods, retention, a log turned off, a
file made by an earlier release, and a log that cannot be written."""

from __future__ import annotations

import dataclasses
import itertools
import json
import logging
import sqlite3
from collections.abc import Callable
from pathlib import Path

import pytest

from assistant.catalog_pg import PostgresCatalog
from assistant.questionlog import LoggedQuestion, QuestionLog, new_entry
from assistant.sqlstore import PostgresStore
from tests.pg_server import Postgres
from tests.test_conversations import Clock

Opener = Callable[..., QuestionLog]
_databases = itertools.count()
DAY = 86400.0


@pytest.fixture(params=["sqlite", "postgres"])
def place(request: pytest.FixtureRequest, tmp_path: Path) -> Opener:
    """Opens a question log on one database, each call as another process would: a SQLite
    file, or a PostgreSQL catalog database (server mode)."""
    if request.param == "sqlite":
        path = tmp_path / "questions.sqlite3"
        return lambda days=30, **options: QuestionLog(path, days, **options)
    url = request.getfixturevalue("postgres").create_database(f"questions_{next(_databases)}")
    return lambda days=30, **options: QuestionLog(
        PostgresStore(PostgresCatalog(url)), days, **options
    )


def asked(question: str, at: float, **changes: object) -> LoggedQuestion:
    """A logged question asked at `at` (seconds since the epoch)."""
    entry = new_entry(question, None, user=None, groups=(), collections=None, refused=False,
                      confidence=0.5, total_ms=10.0, answer_chars=3, sources=())  # fmt: skip
    return dataclasses.replace(entry, asked_at=at, **changes)  # type: ignore[arg-type]


def test_a_row_keeps_every_field_and_periods_are_half_open(place: Opener) -> None:
    log = place()
    full = new_entry("Who approves leave?", "Who approves annual leave?", user="bob",
                     groups=("ops", "people"), collections=["hr"], refused=True,
                     confidence=0.125, total_ms=41.5, answer_chars=0,
                     sources=["a.md", "a.md", "b.md"])  # fmt: skip
    log.record(full)
    assert full.sources == ("a.md", "b.md")
    [kept] = place().entries()  # another process reads it
    assert kept == full
    early, late = asked("early", full.asked_at - 60), asked("late", full.asked_at + 60)
    log.record(late)
    log.record(early)
    assert [e.question for e in log.entries()] == ["early", full.question, "late"]  # by time
    assert [e.question for e in log.entries(since=full.asked_at)] == [full.question, "late"]
    assert [e.question for e in log.entries(until=full.asked_at)] == ["early"]
    assert log.entries(since=full.asked_at, until=full.asked_at) == []


def test_retention_on_first_use_and_daily(place: Opener) -> None:
    clock = Clock()
    kept_a_year = place(days=365, clock=clock)
    kept_a_year.record(asked("old", clock.now - 31 * DAY))
    kept_a_year.record(asked("recent", clock.now - 29 * DAY))
    log = place(clock=clock)  # a restart with a 30-day setting
    assert [e.question for e in log.entries()] == ["recent"]  # swept on first use
    assert [e.question for e in place(days=0).entries()] == ["recent"]  # gone, not hidden
    clock.now += DAY - 1  # within the day: not swept again
    assert [e.question for e in log.entries()] == ["recent"]
    clock.now += 2  # a day later, and the recent one is past 30 days: swept again
    assert log.entries() == []


def test_no_log_when_retention_is_zero(place: Opener) -> None:
    off = place(days=0)
    assert not off.enabled
    off.record(asked("not kept", 1_800_000_000.0))
    assert place().entries() == []


def test_a_file_of_an_earlier_release_opens_and_keeps_its_rows(tmp_path: Path) -> None:
    path = tmp_path / "questions.sqlite3"
    with sqlite3.connect(path) as db:  # the table as releases before server mode made it
        db.executescript(
            "CREATE TABLE questions (id TEXT PRIMARY KEY, asked_at REAL NOT NULL, user TEXT, "
            "groups TEXT NOT NULL, collections TEXT, question TEXT NOT NULL, standalone TEXT, "
            "refused INTEGER NOT NULL, confidence REAL NOT NULL, total_ms REAL NOT NULL, "
            "answer_chars INTEGER NOT NULL, sources TEXT NOT NULL);"
            "CREATE INDEX questions_by_time ON questions(asked_at);"
        )
        db.execute(
            "INSERT INTO questions VALUES (?,?,?,?,?,?,?,?,?,?,?,?)",
            ("q1", 4e9, "alice", '["people"]', None, "When?", None, 0, 0.9, 12.0, 30,
             json.dumps(["hr/leave.md"])),
        )  # fmt: skip
    log = QuestionLog(path, 30)
    [old] = log.entries()
    assert (old.id, old.user, old.groups, old.sources) == ("q1", "alice", ("people",),
                                                           ("hr/leave.md",))  # fmt: skip
    log.record(asked("new", 4e9 + 1))
    assert [e.question for e in log.entries()] == ["When?", "new"]


def test_a_lost_database_costs_no_answer_and_is_said_once(
    postgres: Postgres, caplog: pytest.LogCaptureFixture
) -> None:
    log = QuestionLog(PostgresStore(PostgresCatalog(postgres.create_database("lost"))), 30)
    log.record(asked("before", 1_800_000_000.0))
    postgres.stop()
    try:
        log.record(asked("during", 1_800_000_001.0))  # no exception: the answer goes out
        log.record(asked("during again", 1_800_000_002.0))
    finally:
        postgres.start()
    log.record(asked("after", 1_800_000_003.0))  # the next call connects again
    assert [e.question for e in log.entries()] == ["before", "after"]
    warnings = [r for r in caplog.records if "question log" in r.getMessage()]
    assert len(warnings) == 1
    assert warnings[0].levelno == logging.WARNING
    assert "is unavailable" in warnings[0].getMessage()
