"""The audit log: one whole JSON line per event, rotation, torn lines, filters, the doors that
record (questions, ingests, user and permission changes, web and directory sign-ins) and
`assistant audit`; what does not depend on the file runs against the PostgreSQL catalog
database's table too (server mode)."""

from __future__ import annotations

import itertools
import json
import os
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import SimpleNamespace

import pytest

from assistant.accounts import Accounts
from assistant.audit import (
    AuditError,
    AuditFile,
    AuditLog,
    AuditRecord,
    check_event,
    parse_since,
)
from assistant.catalog_pg import PostgresCatalog
from assistant.core import Assistant
from assistant.errors import DirectoryUnavailableError
from assistant.proxyauth import TrustedProxy
from assistant.settings import Settings
from assistant.sqlstore import PostgresStore
from assistant.ui.auth import WebLogins, hash_password
from tests.conftest import SEEDS, make_settings, run_cli
from tests.ldap_server import DirectoryPerson, ldap_settings, start_slapd
from tests.pg_server import Postgres
from tests.servers import refused_port

QUESTION = "Which tech giants had their Hong Kong stablecoin plans stopped by Beijing?"
_databases = itertools.count()


@pytest.fixture(params=["file", "postgres"])
def settings(request: pytest.FixtureRequest, tmp_path: Path) -> Settings:
    """An index's settings with the audit log in its file, or in the table of a PostgreSQL
    catalog database (server mode)."""
    if request.param == "file":
        return make_settings(tmp_path / "index")
    url = request.getfixturevalue("postgres").create_database(f"audit_{next(_databases)}")
    return make_settings(tmp_path / "index", catalog_url=url)


def stored(settings: Settings) -> str:
    """Everything the audit log keeps, as stored (to look for what must never be there)."""
    if settings.catalog_url is None:
        return settings.audit_path.read_text("utf-8")
    store = PostgresStore(PostgresCatalog(settings.catalog_url.get_secret_value()))
    return "\n".join(repr(row) for row in store.execute("SELECT * FROM audit"))


def lines(path: Path) -> list[dict[str, object]]:
    """Every line of one log file, parsed (a torn line would fail here)."""
    return [json.loads(line) for line in path.read_text("utf-8").splitlines() if line]


def test_a_record_is_one_json_line_with_the_common_fields(tmp_path: Path) -> None:
    log = AuditLog(AuditFile(tmp_path / "audit.log", max_bytes=1_000_000, keep=3))
    log.record("login", "alice", "req-1", method="password", source="catalog")
    log.record("login_failed", None, "req-2", method="password", name="mallory")
    [first, second] = lines(tmp_path / "audit.log")
    assert first["event"] == "login"
    assert first["user"] == "alice"
    assert first["request_id"] == "req-1"
    assert first["method"] == "password"
    assert datetime.fromisoformat(str(first["time"])).utcoffset() == timedelta(0)
    assert second["user"] is None
    assert second["name"] == "mallory"
    assert [r.event for r in log.records()] == ["login", "login_failed"]


def test_a_record_comes_back_as_it_was_made(settings: Settings) -> None:
    log = AuditLog.from_settings(settings)
    made = log.record("question", "alice", "req-1", refused=False, cited=["d1", "d2"],
                      collections=None, note="ünïcode")  # fmt: skip
    log.record("login_failed", None, method="password", name=None)
    first, second = AuditLog.from_settings(settings).records()  # another process reads it
    assert first == made
    assert dict(first.details) == {
        "refused": False, "cited": ["d1", "d2"], "collections": None, "note": "ünïcode",
    }  # fmt: skip
    assert datetime.fromisoformat(first.time).utcoffset() == timedelta(0)
    assert (second.event, second.user, second.request_id) == ("login_failed", None, None)
    assert second.details == {"method": "password", "name": None}


def test_an_unknown_event_is_refused_and_nothing_is_written(settings: Settings) -> None:
    log = AuditLog.from_settings(settings)
    with pytest.raises(AuditError, match=r"unknown event 'logged_in'.*known: .*login"):
        log.record("logged_in", "alice")
    assert list(log.records()) == []
    assert not settings.audit_path.exists()


def test_rotation_keeps_every_record_up_to_keep_files(tmp_path: Path) -> None:
    file = AuditFile(tmp_path / "audit.log", max_bytes=600, keep=2)
    log = AuditLog(file)
    for number in range(20):
        log.record("grant_added", None, collection="hr", group=f"g{number}")
    files = file.files()
    assert [p.name for p in files] == ["audit.log.2", "audit.log.1", "audit.log"]
    assert all(p.stat().st_size <= 600 for p in files)
    kept = [r.details["group"] for r in log.records()]
    # The oldest went with the dropped file; what is kept is in order and ends with the last.
    assert kept == [f"g{n}" for n in range(20 - len(kept), 20)]
    assert 0 < len(kept) < 20


def test_rotated_files_older_than_the_retention_are_removed_the_live_file_stays(
    tmp_path: Path,
) -> None:
    path = tmp_path / "audit.log"
    filler = AuditLog(AuditFile(path, max_bytes=600, keep=5))  # no retention: fills the files
    for number in range(14):
        filler.record("grant_added", None, collection="hr", group=f"g{number}")
    oldest, *newer, live = AuditFile(path, max_bytes=600, keep=5).files()
    assert newer
    now = time.time()
    days_ago = now - 40 * 86400
    os.utime(oldest, (days_ago, days_ago))  # its newest record was written 40 days ago
    os.utime(live, (days_ago, days_ago))  # the live file is never removed, however old
    clock = [now]
    roomy = AuditFile(path, max_bytes=1_000_000, keep=5)  # appending does not rotate here
    log = AuditLog(roomy, retention_days=30, clock=lambda: clock[0])
    log.record("grant_added", None, collection="hr", group="new")
    assert roomy.files() == [*newer, live]
    assert [r.details["group"] for r in log.records()][-1] == "new"
    # Applied again only a day later.
    os.utime(newer[0], (days_ago, days_ago))
    log.record("grant_added", None, collection="hr", group="later")
    assert newer[0] in roomy.files()
    clock[0] += 86400 + 1
    log.record("grant_added", None, collection="hr", group="next day")
    assert newer[0] not in roomy.files()
    assert live in roomy.files()


def test_table_rows_older_than_the_retention_are_deleted(
    postgres: Postgres, tmp_path: Path
) -> None:
    url = postgres.create_database(f"audit_{next(_databases)}")
    settings = make_settings(tmp_path / "index", catalog_url=url, audit_retention_days=30)
    now = time.time()

    def at(days_ago: float, user: str) -> AuditRecord:
        moment = datetime.fromtimestamp(now - days_ago * 86400, UTC)
        return AuditRecord("login", user, moment.isoformat(timespec="milliseconds"))

    sink = AuditLog.from_settings(settings).sink
    sink.append(at(40, "old"))
    sink.append(at(10, "recent"))
    clock = [now]
    log = AuditLog(sink, retention_days=settings.audit_retention_days, clock=lambda: clock[0])
    log.record("login", "new", method="password")
    assert [r.user for r in log.records()] == ["recent", "new"]
    sink.append(at(35, "late arrival"))
    log.record("login", "same day", method="password")
    assert "late arrival" in [r.user for r in log.records()]  # applied at most daily
    clock[0] += 86400 + 1
    log.record("login", "next day", method="password")
    users = [r.user for r in AuditLog.from_settings(settings).records()]  # any replica
    assert users == ["recent", "new", "same day", "next day"]


def test_a_torn_last_line_is_skipped_and_the_next_record_is_whole(tmp_path: Path) -> None:
    path = tmp_path / "audit.log"
    log = AuditLog(AuditFile(path, max_bytes=1_000_000, keep=3))
    log.record("user_added", None, name="alice", role="member", groups=[])
    with path.open("ab") as handle:  # a crash in the middle of a write
        handle.write(b'{"event": "user_removed", "user": nu')
    assert [r.event for r in log.records()] == ["user_added"]
    log.record("user_removed", None, name="alice")
    assert [r.event for r in log.records()] == ["user_added", "user_removed"]
    raw = path.read_text("utf-8").splitlines()
    assert len(raw) == 3  # the torn line stays on a line of its own
    assert json.loads(raw[-1])["event"] == "user_removed"


def test_filters_by_user_event_and_time(settings: Settings) -> None:
    log = AuditLog.from_settings(settings)
    log.record("login", "alice", method="password")
    log.record("login", "bob", method="password")
    log.record("question", "alice", refused=False, cited=[])
    assert [r.event for r in log.records(user="alice")] == ["login", "question"]
    assert [r.user for r in log.records(event="login")] == ["alice", "bob"]
    future = datetime.now(UTC) + timedelta(days=1)
    assert list(log.records(since=future)) == []
    assert len(list(log.records(since=parse_since("2000-01-01")))) == 3
    [last] = log.records(event="question")
    at_or_after = list(log.records(since=last.moment))  # (maybe others of that millisecond)
    assert at_or_after[-1] == last
    assert all(r.moment == last.moment for r in at_or_after)
    assert list(log.records(since=last.moment + timedelta(milliseconds=1))) == []
    with pytest.raises(AuditError, match="unknown event"):
        list(log.records(event="nope"))


def test_bad_filters_say_what_is_wrong() -> None:
    with pytest.raises(AuditError, match="bad time 'yesterday'"):
        parse_since("yesterday")
    assert parse_since("2026-11-29T14:00").tzinfo is UTC
    assert check_event("question") == "question"


def test_user_and_permission_changes_are_recorded(settings: Settings) -> None:
    accounts = Accounts.from_settings(settings)
    accounts.add_user("alice", "alice-password", ["people"])
    accounts.set_groups("alice", ["people", "hr"])
    accounts.grant("hr", group="people")
    accounts.grant("legal", user="alice")
    accounts.revoke("legal", user="alice")
    key_id, key = accounts.create_api_key("alice")
    accounts.revoke_api_key(key_id)
    accounts.remove_user("alice")
    records = list(AuditLog.from_settings(settings).records())
    assert [(r.event, dict(r.details)) for r in records] == [
        ("user_added", {"name": "alice", "role": "member", "groups": ["people"]}),
        ("groups_changed", {"name": "alice", "groups": ["hr", "people"]}),
        ("grant_added", {"collection": "hr", "kind": "group", "principal": "people"}),
        ("grant_added", {"collection": "legal", "kind": "user", "principal": "alice"}),
        ("grant_revoked", {"collection": "legal", "kind": "user", "principal": "alice"}),
        ("api_key_created", {"key_id": key_id, "owner": "alice"}),
        ("api_key_revoked", {"key_id": key_id}),
        ("user_removed", {"name": "alice"}),
    ]
    text = stored(settings)
    assert "alice-password" not in text
    assert key not in text


def test_a_failed_change_records_nothing(settings: Settings) -> None:
    accounts = Accounts.from_settings(settings)
    with pytest.raises(Exception, match="at least 8"):
        accounts.add_user("alice", "short")
    with pytest.raises(Exception, match="no grant"):
        accounts.revoke("hr", group="people")
    assert list(AuditLog.from_settings(settings).records()) == []


def test_web_sign_ins_are_recorded_without_the_password(settings: Settings) -> None:
    accounts = Accounts.from_settings(settings)
    accounts.add_user("alice", "alice-password-1")
    logins = WebLogins(accounts, {"ops": hash_password("ops-password-2")})
    assert logins.check("alice", "alice-password-1")
    assert not logins.check("alice", "wrong-password-3")
    assert logins.check("ops", "ops-password-2")
    # A password typed into the name field is not a valid name: not recorded.
    assert not logins.check("pa ss/word#4", "x")
    records = [r for r in AuditLog.from_settings(settings).records() if r.event.startswith("login")]
    assert [(r.event, r.user, r.details.get("source"), r.details.get("name")) for r in records] == [
        ("login", "alice", "catalog", None),
        ("login_failed", None, None, "alice"),
        ("login", "ops", "settings", None),
        ("login_failed", None, None, None),
    ]
    assert all(r.request_id for r in records)
    text = stored(settings)
    for secret in ("alice-password-1", "wrong-password-3", "ops-password-2", "pa ss/word#4"):
        assert secret not in text


def test_a_proxy_sign_in_is_recorded_once_not_per_request(settings: Settings) -> None:
    proxy = TrustedProxy.from_settings(
        settings.with_overrides(trusted_user_header="X-User", trusted_proxies=["10.0.0.0/8"])
    )
    logins = WebLogins(Accounts.from_settings(settings), proxy=proxy)
    request = SimpleNamespace(client=SimpleNamespace(host="10.1.2.3"), headers={"X-User": "eve"})
    for _ in range(3):
        assert logins.proxy_login(request) == "eve"
    records = list(AuditLog.from_settings(settings).records(event="login"))
    assert [(r.user, r.details["method"]) for r in records] == [("eve", "proxy")]


def test_questions_and_ingests_are_recorded_by_the_assistant(settings: Settings) -> None:
    assistant = Assistant(settings)
    report = assistant.ingest([SEEDS], by="ops", action="reindex", request_id="req-ingest")
    answer = assistant.ask(QUESTION, request_id="req-ask")
    refused = assistant.ask("What is the boiling point of mercury on Mars?")
    records = list(assistant.audit.records())
    assert [r.event for r in records] == ["reindex", "question", "question"]
    ingest, asked, off_topic = records
    assert (ingest.user, ingest.request_id, ingest.details["added"]) == ("ops", "req-ingest", 1)
    assert report.added == 1
    assert asked.request_id == "req-ask"
    assert asked.details["refused"] is False
    assert asked.details["cited"] == list(
        dict.fromkeys(c.doc_id or c.source for c in answer.citations)
    )
    assert asked.details["cited"]  # the answer cites the seed document
    assert off_topic.details["refused"] is refused.refused is True
    assert off_topic.details["cited"] == []
    text = stored(settings)
    for citation in answer.citations:
        assert citation.quote not in text  # never document text
    assistant.close()


def test_audit_command_reads_and_filters(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    index = settings.index_dir
    if settings.catalog_url is not None:  # the command reads the table of the URL
        monkeypatch.setenv("ASSISTANT_CATALOG_URL", settings.catalog_url.get_secret_value())
    log = AuditLog.from_settings(settings)
    log.record("login", "alice", "req-1", method="password")
    log.record("question", "bob", "req-2", refused=True, cited=[])
    done = run_cli("audit", "--index", str(index), "--user", "alice")
    assert done.returncode == 0, done.stderr
    assert "login  alice  req-1" in done.stdout
    assert "bob" not in done.stdout
    done = run_cli("audit", "--index", str(index), "--event", "question", "--json")
    assert done.returncode == 0, done.stderr
    [record] = [json.loads(line) for line in done.stdout.splitlines()]
    assert record["user"] == "bob"
    assert record["refused"] is True
    done = run_cli("audit", "--index", str(index), "--since", "2999-01-01")
    assert done.returncode == 0
    assert done.stdout == ""


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (("--since", "last tuesday"), "bad time 'last tuesday'"),
        (("--event", "logged_in"), "unknown event 'logged_in'"),
    ],
)
def test_audit_command_refuses_bad_filters(
    tmp_path: Path, arguments: tuple[str, ...], message: str
) -> None:
    settings = make_settings(tmp_path / "index")
    AuditLog.from_settings(settings).record("login", "alice")
    before = settings.audit_path.read_bytes()
    done = run_cli("audit", "--index", str(tmp_path / "index"), *arguments)
    assert done.returncode == 2
    assert message in done.stderr
    assert done.stdout == ""
    assert settings.audit_path.read_bytes() == before  # nothing lost


def test_audit_command_help_lists_the_filters_and_events() -> None:
    done = run_cli("audit", "--help")
    assert done.returncode == 0
    for text in ("--user", "--since", "--event", "--json", "login_failed", "api_key_used"):
        assert text in done.stdout


def test_directory_sign_ins_and_an_outage_are_recorded(tmp_path: Path) -> None:
    directory = start_slapd(tmp_path / "slapd", [DirectoryPerson("carol", "carol-dir-pw-6", ())])
    settings = make_settings(tmp_path / "index", **ldap_settings(directory))
    logins = WebLogins(Accounts.from_settings(settings))
    assert logins.check("carol", "carol-dir-pw-6")
    assert not logins.check("carol", "carol-wrong-pw-7")
    directory.stop()
    with refused_port(directory.port), pytest.raises(DirectoryUnavailableError):
        logins.check("carol", "carol-dir-pw-6")
    records = list(AuditLog.from_settings(settings).records())
    assert [
        (r.event, r.user, r.details.get("source"), r.details.get("reason")) for r in records
    ] == [
        ("login", "carol", "directory", None),
        ("login_failed", None, None, None),
        ("login_failed", None, None, "directory_unavailable"),
    ]
    text = settings.audit_path.read_text("utf-8")
    assert "carol-dir-pw-6" not in text
    assert "carol-wrong-pw-7" not in text


def test_a_lost_database_costs_no_sign_in_and_is_said_once(
    postgres: Postgres, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    url = postgres.create_database("audit_lost")
    log = AuditLog.from_settings(make_settings(tmp_path / "index", catalog_url=url))
    log.record("login", "alice", method="password")
    postgres.stop()
    try:
        log.record("login", "bob", method="password")  # no exception: the sign-in goes on
        log.record("login", "carol", method="password")
    finally:
        postgres.start()
    log.record("login", "dave", method="password")  # the next call connects again
    assert [r.user for r in log.records()] == ["alice", "dave"]
    warnings = [r.getMessage() for r in caplog.records if "audit log" in r.getMessage()]
    assert len(warnings) == 1
    assert "is unavailable" in warnings[0]
    assert not (tmp_path / "index").exists()  # nothing written beside the index instead
