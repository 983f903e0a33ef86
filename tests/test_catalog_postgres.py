"""The PostgreSQL catalog at the edges: chosen by `catalog_url`, clear errors that never show the
password, a server restart survived by the same objects, and the whole assistant answering from
it as it answers from the embedded catalog."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import psycopg
import pytest
from fastapi.testclient import TestClient
from pydantic import ValidationError

from assistant import Assistant
from assistant.account_types import User
from assistant.accounts import Accounts
from assistant.api.app import create_app
from assistant.catalog import open_catalog
from assistant.catalog_pg import PostgresCatalog
from assistant.catalog_sqlite import SqliteCatalog
from assistant.errors import CatalogUnavailableError, IndexBusyError, UsageError
from assistant.feedbackstore import feedback_record
from assistant.pgschema import _MIGRATION_LOCK
from assistant.types import Answer
from tests.conftest import SEEDS, make_settings
from tests.pg_server import PASSWORD, Postgres, as_unprivileged, remove_postgres, start_postgres
from tests.servers import refused_port, wait_for
from tests.test_catalog_contract import ALPHA, BETA, commit

QUESTION = "Which tech giants had their Hong Kong stablecoin plans stopped by Beijing?"
PARKING = "Visitors park in bay C, next to the loading dock."


def test_catalog_url_chooses_the_catalog(tmp_path: Path) -> None:
    assert isinstance(open_catalog(make_settings(tmp_path)), SqliteCatalog)
    assert isinstance(open_catalog(make_settings(tmp_path, catalog_url="")), SqliteCatalog)
    url = f"postgresql://assistant:{PASSWORD}@db.example:6543/catalog"
    settings = make_settings(tmp_path, catalog_url=url)
    assert PASSWORD not in repr(settings)
    assert PASSWORD not in settings.model_dump_json()
    catalog = open_catalog(settings)  # cheap: nothing connects yet
    assert isinstance(catalog, PostgresCatalog)
    assert repr(catalog) == "PostgresCatalog(postgresql://db.example:6543/catalog)"


@pytest.mark.parametrize(
    "url",
    [
        f"mysql://assistant:{PASSWORD}@127.0.0.1/catalog",
        f"postgresql://assistant:{PASSWORD}@127.0.0.1:99999999/catalog",
        f"postgresql://assistant:{PASSWORD}@127.0.0.1/catalog?no_such_option={PASSWORD}",
    ],
)
def test_a_malformed_url_is_refused_without_its_password(url: str) -> None:
    with pytest.raises(UsageError, match="catalog_url") as raised:
        PostgresCatalog(url)
    assert PASSWORD not in str(raised.value)


def test_an_unreachable_server_is_a_clear_error_without_the_password(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    with refused_port() as port:
        url = f"postgresql://assistant:{PASSWORD}@127.0.0.1:{port}/catalog"
        assistant = Assistant(make_settings(tmp_path / "index", catalog_url=url))
        with pytest.raises(CatalogUnavailableError) as raised:
            assistant.documents()
        message = str(raised.value)
        assert message.startswith(f"the catalog database postgresql://127.0.0.1:{port}/catalog ")
        assert "is unavailable" in message
        with TestClient(create_app(assistant)) as http:
            response = http.get("/healthz")
    assert response.status_code == 503
    assert response.headers["Retry-After"] == "5"
    assert response.json()["error"]["code"] == "catalog_unavailable"
    for text in (message, response.text, caplog.text):
        assert PASSWORD not in text


def test_postgres_runs_unprivileged_only_as_root() -> None:
    command = ["/usr/lib/postgresql/15/bin/initdb", "--pgdata", "/tmp/x"]
    assert as_unprivileged(command, euid=1000) == command
    as_root = as_unprivileged(command, euid=0)
    assert as_root[0] == "setpriv"
    assert as_root[-3:] == command
    assert "--reuid=65534" in as_root  # nobody


def test_a_restart_gives_clear_errors_and_the_same_objects_recover(tmp_path: Path) -> None:
    server = start_postgres()
    try:
        url = server.create_database("restart")
        assistant = Assistant(make_settings(tmp_path / "index", catalog_url=url))
        (tmp_path / "docs").mkdir()
        (tmp_path / "docs" / "parking.md").write_text(f"# Parking\n\n{PARKING}\n", "utf-8")
        assert assistant.ingest([tmp_path / "docs"]).added == 1
        catalog = assistant.catalog
        generation = catalog.generation()

        # Restarted between two calls: the connection the server dropped is replaced unseen.
        server.stop()
        server.start()
        assert catalog.generation() == generation

        server.stop()
        with TestClient(create_app(assistant)) as http:
            body = {"messages": [{"role": "user", "content": "Where do visitors park?"}]}
            # Held, bound but not listening, during the outage: connections are refused and
            # no other process can take the port PostgreSQL comes back on.
            with refused_port(server.port):
                with pytest.raises(CatalogUnavailableError, match="is unavailable"):
                    catalog.generation()
                down = http.post("/v1/chat/completions", json=body)
                assert down.status_code == 503
                assert down.json()["error"]["code"] == "catalog_unavailable"
                assert PASSWORD not in down.text

            server.start()  # same port, same data; no object is made again
            assert catalog.generation() == generation
            up = http.post("/v1/chat/completions", json=body)
            assert up.status_code == 200
            assert "bay C" in up.json()["choices"][0]["message"]["content"]
    finally:
        remove_postgres(server)


def test_the_assistant_answers_from_postgres_as_from_sqlite(
    tmp_path: Path, postgres: Postgres
) -> None:
    _answers_alike(tmp_path, postgres)


def _answers_alike(tmp_path: Path, postgres: Postgres) -> None:
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "parking.md").write_text(f"# Parking\n\n{PARKING}\n", "utf-8")
    for seed in SEEDS.iterdir():
        (docs / seed.name).write_bytes(seed.read_bytes())
    url = postgres.create_database("end_to_end")
    server = Assistant(make_settings(tmp_path / "pg-index", catalog_url=url))
    embedded = Assistant(make_settings(tmp_path / "index"))
    for assistant in (server, embedded):
        report = assistant.ingest([docs])
        assert report.added == 2
        assert not report.failed
    assert not (tmp_path / "pg-index" / "catalog.sqlite3").exists()
    # A second replica, made from the same settings, reads the same catalog.
    replica = Assistant(make_settings(tmp_path / "pg-index", catalog_url=url))
    assert [r.source for r in replica.documents()] == [r.source for r in embedded.documents()]
    assert replica.catalog.chunk_count() == embedded.catalog.chunk_count()
    for question in (QUESTION, "Where do visitors park?"):
        expected = embedded.ask(question)
        got = server.ask(question)
        assert expected.citations
        assert got.text == expected.text
        assert [(c.source, c.start, c.end, c.quote) for c in got.citations] == [
            (c.source, c.start, c.end, c.quote) for c in expected.citations
        ]
    assert "Ant Group" in server.ask(QUESTION).text
    # Writers on any host take turns through the database: an ingest job on another machine
    # (its own, empty index folder) waits for the lock a running ingest holds, then says who.
    holder = PostgresCatalog(url)
    other_host = Assistant(
        make_settings(tmp_path / "other-host", catalog_url=url, ingest_lock_timeout=0)
    )
    with holder.writer_lock(timeout=0):
        assert server.catalog.writer_busy()
        with pytest.raises(IndexBusyError) as raised:
            other_host.ingest([docs])
    assert str(raised.value) == (
        f"another ingest is writing to the catalog {holder.where}; try again when it ends"
    )
    assert PASSWORD not in str(raised.value)
    assert not server.catalog.writer_busy()
    assert other_host.ingest([docs]).unchanged == 2  # the lock released: it runs, finds it done
    holder.close()
    other_host.close()


def where(url: str) -> str:
    """A URL as messages show it: without user and password."""
    return repr(PostgresCatalog(url)).removeprefix("PostgresCatalog(").removesuffix(")")


def _catalog_state(url: str, index: Path) -> dict[str, object]:
    """What a PostgreSQL-catalog index holds, checked consistent with its vectors: every
    document's record and chunk spans by path, and its chunk ids."""
    assistant = Assistant(make_settings(index, catalog_url=url))
    try:
        catalog = assistant.catalog
        assert catalog.pending() == {}, "the write journal was not emptied"
        assert catalog.garbage() == [], "replaced vectors were not collected"
        records = catalog.documents()
        ids = {path: sorted(catalog.vector_ids(r.doc_id)) for path, r in records.items()}
        every = [i for chunk_ids in ids.values() for i in chunk_ids]
        assert set(every) == assistant.store.all_ids(), "orphan or missing vectors"
        assert len(every) == catalog.chunk_count() == assistant.store.count()
        rows = catalog.chunks(every)
        spans = {
            path: sorted((rows[i].start, rows[i].end, rows[i].text) for i in ids[path])
            for path in records
        }
        return {
            "documents": {p: (r.content_hash, r.chunks, r.title) for p, r in records.items()},
            "chunks": {p: [i.split(":", 1)[1] for i in chunk_ids] for p, chunk_ids in ids.items()},
            "spans": spans,
        }
    finally:
        assistant.close()


def test_a_killed_ingest_leaves_postgres_and_the_vectors_consistent(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, postgres: Postgres
) -> None:
    from tests.test_crash_safety import _complete, _kill_at, build_corpus

    corpus = build_corpus(tmp_path / "corpus")
    clean_url = postgres.create_database("clean")
    monkeypatch.setenv("ASSISTANT_CATALOG_URL", clean_url)
    _complete(tmp_path / "clean", corpus)
    expected = _catalog_state(clean_url, tmp_path / "clean")

    url = postgres.create_database("killed")
    monkeypatch.setenv("ASSISTANT_CATALOG_URL", url)
    index = tmp_path / "killed"
    # SIGKILL once vectors of the first group are written but not committed, then once the
    # first group is committed; the third run completes.
    for trigger in ("writing", "committed"):
        killed, _, _ = _kill_at(index, corpus, None, trigger, ())
        assert killed, f"the ingest finished before {trigger!r}"
    _complete(index, corpus)
    assert _catalog_state(url, index) == expected


def test_catalog_copy_moves_an_index_into_postgres_without_embedding_again(
    seed_index: Path, tmp_path: Path, postgres: Postgres
) -> None:
    from tests.conftest import copy_index, run_cli

    index = tmp_path / "index"
    copy_index(seed_index, index)
    accounts = Accounts(index / "catalog.sqlite3")
    accounts.add_user("alice", "alice's password", ["people"])
    accounts.grant("default", group="people")
    _, key = accounts.create_api_key("alice")
    talk = Assistant(make_settings(index)).conversations
    saved = talk.save_turn("user:alice", None, 0, PARKING, Answer(question=PARKING, text="C."))
    secret = talk.secret("browser-id")
    question = "Which companies had to halt their stablecoin plans?"
    embedded = Assistant(make_settings(index)).ask(question)  # logged in questions.sqlite3
    # Ours come last (the seed index holds what other tests of the session asked of it).
    logged = Assistant(make_settings(index)).questions.entries()
    audited = list(Assistant(make_settings(index)).audit.records())
    embedded_settings = make_settings(index)
    thumbs = Assistant(embedded_settings).feedback  # <data_dir>/feedback.jsonl
    vote = feedback_record(embedded, "up", embedded_settings, user="alice")
    thumbs.append(vote)
    thumbs.append(feedback_record(embedded, "down", embedded_settings, user="alice",
                                  feedback_id=vote["id"], comment="Name them all."))  # fmt: skip
    given = thumbs.records()
    assert len(given) == 2
    assert logged[-1].question == question
    assert audited[-1].details["question_id"] == logged[-1].id
    url = postgres.create_database("copied")
    done = run_cli("catalog-copy", "--index", str(index), "--to", url)
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("copied 1 documents, ")
    assert done.stdout.rstrip().endswith(
        f" passages, 1 users, 1 conversations, {len(logged)} logged questions, "
        f"{len(audited)} audit records and 2 feedback records into {where(url)}"
    )
    assert PASSWORD not in done.stdout + done.stderr
    # The accounts came along: same password, groups, grants and key.
    shared = Accounts.from_settings(make_settings(tmp_path / "replica", catalog_url=url))
    alice = shared.verify("alice", "alice's password")
    assert alice == User("alice", "member", ("people",))
    assert shared.readable(alice) == frozenset({"default"})
    assert shared.user_for_key(key) == alice
    # So did alice's conversation, and the secret that signs the chat's browser ids.
    replica = Assistant(make_settings(tmp_path / "replica", catalog_url=url))
    assert replica.conversations.list_conversations("user:alice") == [saved]
    assert replica.conversations.secret("browser-id") == secret
    # And the question log, for `assistant quality` on any replica.
    assert replica.questions.entries() == logged
    # And the audit file's records, for `assistant audit` on any replica.
    assert list(replica.audit.records()) == audited
    # And the chat's feedback, in its order: the changed vote is the current state.
    assert replica.feedback.records() == given
    [reported] = replica.quality().reported
    assert (reported.feedback_id, reported.comment) == (vote["id"], "Name them all.")

    copied = Assistant(make_settings(index, catalog_url=url)).ask(question)
    assert not copied.refused
    assert copied.text == embedded.text
    assert [(c.source, c.start, c.end) for c in copied.citations] == [
        (c.source, c.start, c.end) for c in embedded.citations
    ]

    again = run_cli("catalog-copy", "--index", str(index), "--to", url)
    assert again.returncode == 2
    assert "already holds users" in again.stderr
    shared.remove_user("alice")
    again = run_cli("catalog-copy", "--index", str(index), "--to", url)
    assert again.returncode == 2
    assert "already holds conversations" in again.stderr
    for table in ("turns", "conversations"):  # gone for good (a delete can be undone)
        replica.conversations.store.execute(f"DELETE FROM {table}")
    again = run_cli("catalog-copy", "--index", str(index), "--to", url)
    assert again.returncode == 2
    assert "already holds questions" in again.stderr
    replica.questions.store.execute("DELETE FROM questions")
    again = run_cli("catalog-copy", "--index", str(index), "--to", url)
    assert again.returncode == 2
    assert "already holds feedback" in again.stderr
    replica.questions.store.execute("DELETE FROM feedback")
    again = run_cli("catalog-copy", "--index", str(index), "--to", url)
    assert again.returncode == 2
    assert "already holds documents" in again.stderr
    assert PASSWORD not in again.stderr
    nothing = run_cli("catalog-copy", "--index", str(tmp_path / "none"), "--to", url)
    assert nothing.returncode == 2
    assert "run `assistant ingest` first" in nothing.stderr
    bad = run_cli("catalog-copy", "--index", str(index), "--to", "mysql://u:hunter2@h/db")
    assert bad.returncode == 2
    assert "hunter2" not in bad.stderr


def _waits_for_a_lock(db: psycopg.Connection[Any], query: str) -> bool:
    """Whether another session of the database runs `query...` and waits for a lock."""
    row = db.execute(
        "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
        "AND pid <> pg_backend_pid() AND wait_event_type = 'Lock' AND query LIKE %s",
        (f"{query}%",),
    ).fetchone()
    return bool(row and row[0])


def test_a_statement_past_the_timeout_is_a_503_and_the_next_request_runs(
    postgres: Postgres, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tests.conftest import run_cli

    with pytest.raises(ValidationError, match="catalog_statement_timeout"):
        make_settings(tmp_path, catalog_statement_timeout=-1)
    url = postgres.create_database("stalled")
    settings = make_settings(tmp_path / "index", catalog_url=url, catalog_statement_timeout=0.5)
    assistant = Assistant(settings)
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "parking.md").write_text(f"# Parking\n\n{PARKING}\n", "utf-8")
    assert assistant.ingest([tmp_path / "docs"]).added == 1  # writes: no timeout
    body = {"messages": [{"role": "user", "content": "Where do visitors park?"}]}
    monkeypatch.setenv("ASSISTANT_CATALOG_URL", url)
    monkeypatch.setenv("ASSISTANT_CATALOG_STATEMENT_TIMEOUT", "0.5")
    with TestClient(create_app(assistant)) as http:
        # Another session holds the documents table (a migration by hand, a stuck job): every
        # read of it waits, and is cancelled after the timeout.
        holder = psycopg.connect(url)
        try:
            holder.execute("LOCK TABLE documents IN ACCESS EXCLUSIVE MODE")
            with pytest.raises(CatalogUnavailableError, match="statement timeout") as raised:
                assistant.documents()
            message = str(raised.value)
            assert message.startswith(f"the catalog database {where(url)} is unavailable: ")
            assert message.endswith("(catalog_statement_timeout = 0.5 s)")
            assert PASSWORD not in message
            down = http.post("/v1/chat/completions", json=body)
            assert down.status_code == 503
            assert down.json()["error"]["code"] == "catalog_unavailable"
            assert PASSWORD not in down.text
            listed = run_cli("collections", "--index", str(settings.index_dir))
            assert listed.returncode == 1
            assert "is unavailable: canceling statement due to statement timeout" in listed.stderr
            assert "Traceback" not in listed.stderr
        finally:
            holder.close()  # its transaction ends: the lock is released
        # The same connections answer the next request.
        assert len(assistant.documents()) == 1
        up = http.post("/v1/chat/completions", json=body)
        assert up.status_code == 200
        assert "bay C" in up.json()["choices"][0]["message"]["content"]
    assistant.close()


def test_a_migration_an_ingest_write_and_optimize_are_not_cut_by_the_timeout(
    postgres: Postgres,
) -> None:
    url = postgres.create_database("unbounded")
    with psycopg.connect(url, autocommit=True) as holder:
        # A default of the database as well: the exempt work lifts that one too.
        holder.execute("ALTER DATABASE unbounded SET statement_timeout = 500")
        catalog = PostgresCatalog(url, statement_timeout=0.5)
        # Another replica migrating: this one waits for it, however long it takes.
        holder.execute("SELECT pg_advisory_lock(%s)", (_MIGRATION_LOCK,))
        opened: list[object] = []
        opening = threading.Thread(target=lambda: opened.append(_outcome(catalog.documents)))
        opening.start()
        wait_for(lambda: _waits_for_a_lock(holder, "SELECT pg_advisory_xact_lock"), "a wait")
        # A statement under the timeout that queued after it is cancelled: the migration has
        # waited longer than the timeout by then.
        with pytest.raises(psycopg.errors.QueryCanceled), psycopg.connect(url) as witness:
            witness.execute("SELECT pg_advisory_xact_lock(%s)", (_MIGRATION_LOCK,))
        holder.execute("SELECT pg_advisory_unlock(%s)", (_MIGRATION_LOCK,))
        opening.join()
        assert opened == [{}]  # migrated, not cancelled

        commit(catalog, "alpha", ALPHA)
        # An ingest's commit waits for a lock on the documents (reads go on meanwhile).
        locked = psycopg.connect(url)
        try:
            locked.execute("LOCK TABLE documents IN SHARE MODE")
            committed: list[object] = []
            writer = threading.Thread(
                target=lambda: committed.append(_outcome(lambda: commit(catalog, "beta", BETA)))
            )
            writer.start()
            wait_for(lambda: _waits_for_a_lock(holder, "DELETE FROM documents"), "the commit")
            assert len(catalog.documents()) == 1
            with pytest.raises(psycopg.errors.QueryCanceled), psycopg.connect(url) as witness:
                witness.execute("LOCK TABLE documents IN ROW EXCLUSIVE MODE")  # queued after it
        finally:
            locked.close()
        writer.join()
        assert len(committed) == 1
        assert isinstance(committed[0], list)  # the commit's writes, not an error
        assert len(catalog.documents()) == 2

        # VACUUM waits for a lock on the postings; a read of them under the timeout does not.
        locked = psycopg.connect(url)
        try:
            locked.execute("LOCK TABLE postings IN ACCESS EXCLUSIVE MODE")
            vacuumed: list[object] = []
            vacuum = threading.Thread(target=lambda: vacuumed.append(_outcome(catalog.optimize)))
            vacuum.start()
            wait_for(lambda: _waits_for_a_lock(holder, "VACUUM"), "VACUUM to wait")
            with pytest.raises(CatalogUnavailableError, match="statement timeout"):
                catalog.lexical_search(["pump"], 5)  # queued after VACUUM: it has waited longer
        finally:
            locked.close()
        vacuum.join()
        assert vacuumed == [None]  # done, not cancelled
        assert catalog.term_counts(["pump"]) == {"pump": 2}  # alpha and beta
        assert len(catalog.lexical_search(["pump"], 5)) == 2
        catalog.close()


def _outcome(call: Callable[[], object]) -> object:
    """What `call` returned, or the exception it raised."""
    try:
        return call()
    except Exception as exc:
        return exc
