"""What replicas share through the PostgreSQL catalog database besides the documents: the
accounts (the same behaviour as in the index's file), the chat's conversations and feedback, the
question log and the audit log; an outage is a clear error and the next call recovers."""

from __future__ import annotations

import itertools
from pathlib import Path

import pytest

from assistant import Assistant
from assistant.account_types import User
from assistant.accounts import Accounts
from assistant.catalog_pg import PostgresCatalog
from assistant.errors import AccountError, CatalogUnavailableError
from assistant.feedbackstore import feedback_record
from assistant.sqlstore import PostgresStore
from assistant.types import Answer
from tests.conftest import SEEDS, make_settings
from tests.pg_server import PASSWORD, USER, Postgres
from tests.test_accounts import keeps_users_groups_grants_and_keys

_databases = itertools.count()


@pytest.fixture
def url(postgres: Postgres) -> str:
    return postgres.create_database(f"accounts_{next(_databases)}")


def test_postgres_keeps_users_groups_grants_and_keys(url: str) -> None:
    keeps_users_groups_grants_and_keys(Accounts(PostgresStore(PostgresCatalog(url))))


def test_every_replica_shares_the_accounts(url: str, tmp_path: Path) -> None:
    # Two replicas on other hosts: their own (empty) index folders, one database.
    first = Assistant(make_settings(tmp_path / "first", catalog_url=url))
    second = Assistant(make_settings(tmp_path / "second", catalog_url=url))
    assert not first.accounts.any_users()
    # A user named as the database role: an unquoted `user` column would read as the SQL
    # keyword (the current role) and give this user every user's groups.
    first.accounts.add_user(USER, "role-named password", ["ops"])
    first.accounts.add_user("bob", "bob's password", ["people", "legal"])
    first.accounts.grant("hr", group="people")
    first.accounts.grant("handbook", user=USER)
    assert second.accounts.any_users()
    assert second.accounts.verify("bob", "bob's password") == User(
        "bob", "member", ("legal", "people")
    )
    role_named = second.accounts.user(USER)
    assert role_named == User(USER, "member", ("ops",))
    assert second.accounts.readable(role_named) == frozenset({"handbook"})
    key_id, key = second.accounts.create_api_key("bob")
    assert first.accounts.user_for_key(key) == first.accounts.user("bob")
    assert [(k.key_id, k.user) for k in first.accounts.api_keys()] == [(key_id, "bob")]
    second.accounts.set_role("bob", admin=True)
    assert first.accounts.readable(first.accounts.user("bob") or role_named) is None  # admin
    with pytest.raises(AccountError, match="exists already"):
        second.accounts.add_user("bob", "another password")
    first.accounts.remove_user("bob")
    assert second.accounts.user_for_key(key) is None
    assert second.accounts.verify("bob", "bob's password") is None
    assert [u.name for u in second.accounts.users()] == [USER]
    # Nothing of the accounts on either replica's disk.
    assert not (tmp_path / "first" / "catalog.sqlite3").exists()
    assert not (tmp_path / "second" / "catalog.sqlite3").exists()
    first.close()
    second.close()


def test_a_lost_server_is_a_clear_error_and_the_next_call_recovers(
    postgres: Postgres, url: str
) -> None:
    accounts = Accounts(PostgresStore(PostgresCatalog(url)))
    accounts.add_user("alice", "alice's password", ["people"])
    postgres.stop()
    try:
        with pytest.raises(CatalogUnavailableError, match="is unavailable") as raised:
            accounts.verify("alice", "alice's password")
        assert PASSWORD not in str(raised.value)
        with pytest.raises(CatalogUnavailableError, match="is unavailable"):
            accounts.set_groups("alice", ["ops"])  # in a transaction
    finally:
        postgres.start()
    assert accounts.set_groups("alice", ["ops"]).groups == ("ops",)
    assert accounts.verify("alice", "alice's password") == User("alice", "member", ("ops",))


def test_every_replica_shares_the_conversations(url: str, tmp_path: Path) -> None:
    first = Assistant(make_settings(tmp_path / "first", catalog_url=url))
    second = Assistant(make_settings(tmp_path / "second", catalog_url=url))
    question = "Where do visitors park?"
    answer = Answer(question=question, text="In bay C, next to the loading dock.")
    saved = first.conversations.save_turn("user:alice", None, 0, question, answer)
    # The same person's next request reaches the other replica: the conversation is there.
    assert second.conversations.list_conversations("user:alice") == [saved]
    found = second.conversations.get("user:alice", saved.id)
    assert found is not None
    assert [turn.answer for turn in found.turns] == [answer]
    assert second.conversations.list_conversations("user:bob") == []  # per owner, as before
    assert second.conversations.delete("user:alice", saved.id)
    assert first.conversations.list_conversations("user:alice") == []
    assert first.conversations.restore("user:alice", saved.id) == saved
    # The chat's secret (it signs browser ids) is one for all replicas.
    assert first.conversations.secret("browser-ids") == second.conversations.secret("browser-ids")
    assert not (tmp_path / "first" / "conversations.sqlite3").exists()
    assert not (tmp_path / "second" / "conversations.sqlite3").exists()
    first.close()
    second.close()


def test_every_replica_shares_the_question_log_feedback_and_the_audit_log(
    url: str, tmp_path: Path
) -> None:
    # Two replicas on one host: the same index folder (its embedded Chroma), one database;
    # each its own data folder.
    index = tmp_path / "index"
    first = Assistant(make_settings(index, catalog_url=url, data_dir=tmp_path / "first"))
    second = Assistant(make_settings(index, catalog_url=url, data_dir=tmp_path / "second"))
    first.ingest([SEEDS], by="ops", action="reindex", request_id="req-ingest")
    stopped = "Which tech giants had their Hong Kong stablecoin plans stopped by Beijing?"
    reported = "Who first reported the move?"
    answer = first.ask(stopped, request_id="req-first")
    assert answer.citations
    second.accounts.add_user("bob", "bob's password", ["people"], request_id="req-add")
    second.ask(reported, request_id="req-second")
    # Bob's thumbs on the first replica's answer: up, then (his next request reaching the
    # first replica) down with a comment.
    vote = feedback_record(answer, "up", second.settings, user="bob")
    second.feedback.append(vote)
    first.feedback.append(
        feedback_record(answer, "down", first.settings, user="bob", feedback_id=vote["id"],
                        comment="It was more than two.")
    )  # fmt: skip
    # `assistant quality` on either replica: both questions, whichever replica answered, and
    # the thumbs given on either.
    for replica in (first, second):
        assert [e.question for e in replica.questions.entries()] == [stopped, reported]
        report = replica.quality()
        assert report.questions == 2
        assert (report.thumbs_up, report.thumbs_down) == (0, 1)
        [down] = report.reported
        assert (down.feedback_id, down.user, down.question) == (vote["id"], "bob", stopped)
        assert down.comment == "It was more than two."
        # `assistant audit` on either replica: every replica's events, in order.
        assert [(r.event, r.user, r.request_id) for r in replica.audit.records()] == [
            ("reindex", "ops", "req-ingest"),
            ("question", None, "req-first"),
            ("user_added", None, "req-add"),
            ("question", None, "req-second"),
        ]
    [logged, _] = second.questions.entries()
    [_, asked, _, _] = second.audit.records()
    assert asked.details["question_id"] == logged.id  # the two logs point at each other
    # Neither log on the replicas' disk.
    assert not (index / "questions.sqlite3").exists()
    assert not (index / "audit.log").exists()
    assert not first.settings.feedback_path.exists()
    assert not second.settings.feedback_path.exists()
    first.close()
    second.close()
