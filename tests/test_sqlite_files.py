"""The SQLite files beside the index are marked as this assistant's (`PRAGMA application_id`):
a new file and one an earlier release wrote are marked; another program's file of the same
name, or one that is not a database, is refused at every door and left byte for byte."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from assistant import Assistant
from assistant.accountstore import SQLITE_SCHEMA
from assistant.api.server import build_server
from assistant.errors import AssistantError, IndexBusyError, IndexUnusableError
from assistant.sqlite import APPLICATION_ID, unusable
from assistant.sqlite import _IndexConnection as IndexConnection
from assistant.sqlite import _mark as mark
from assistant.sqlstore import SqliteStore
from tests.conftest import copy_index, make_settings
from tests.servers import serving


def application_id(path: Path) -> int:
    with sqlite3.connect(path) as db:
        found: int = db.execute("PRAGMA application_id").fetchone()[0]
    db.close()
    return found


def accounts(path: Path) -> SqliteStore:
    return SqliteStore(path, lambda db: db.executescript(SQLITE_SCHEMA), foreign_keys=True)


def test_a_new_file_is_marked_as_ours(tmp_path: Path) -> None:
    path = tmp_path / "index" / "catalog.sqlite3"
    store = accounts(path)
    assert store.execute("SELECT COUNT(*) FROM users").fetchone()[0] == 0
    store.close()
    assert application_id(path) == APPLICATION_ID


def test_a_file_an_earlier_release_wrote_is_marked_and_its_rows_kept(tmp_path: Path) -> None:
    path = tmp_path / "catalog.sqlite3"
    with sqlite3.connect(path) as db:  # as releases before the mark wrote it
        db.executescript(SQLITE_SCHEMA)
        db.execute("INSERT INTO users VALUES ('ann', 'x', 'admin', 0)")
    db.close()
    assert application_id(path) == 0
    store = accounts(path)
    assert store.execute("SELECT name FROM users").fetchall() == [("ann",)]
    store.close()
    assert application_id(path) == APPLICATION_ID


def written(path: Path, *statements: str) -> None:
    """A SQLite file at `path` that another program wrote with `statements`."""
    with sqlite3.connect(path) as db:
        for statement in statements:
            db.execute(statement)
    db.close()


def another_programs_file(path: Path) -> None:
    written(
        path,
        "CREATE TABLE invoices (number INTEGER PRIMARY KEY, total REAL)",
        "INSERT INTO invoices VALUES (1, 9.5)",
    )


def another_marked_file(path: Path) -> None:
    """Our table names, another program's mark."""
    written(path, "PRAGMA application_id = 1", "CREATE TABLE documents (doc_id TEXT PRIMARY KEY)")


def our_table_names_other_columns(path: Path) -> None:
    """A table named as one of ours, with columns none of our releases gave it."""
    written(
        path,
        "CREATE TABLE documents (id INTEGER PRIMARY KEY, body TEXT)",
        "INSERT INTO documents VALUES (1, 'minutes of the board')",
    )


def not_a_database(path: Path) -> None:
    path.write_bytes(b"these bytes are not an SQLite database. " * 100)


def with_its_journal_unwritten(path: Path) -> None:
    """Another program's WAL database whose last writes are still in its -wal file (it did
    not close): a connection that closed last would copy them into the main file."""
    script = (
        "import os, sqlite3, sys\n"
        "db = sqlite3.connect(sys.argv[1], isolation_level=None)\n"
        "db.execute('PRAGMA journal_mode=WAL')\n"
        "db.execute('PRAGMA wal_autocheckpoint=0')\n"
        "db.execute('CREATE TABLE invoices (number INTEGER PRIMARY KEY, total REAL)')\n"
        "db.execute('INSERT INTO invoices VALUES (1, 9.5)')\n"
        "os._exit(0)\n"
    )
    subprocess.run([sys.executable, "-c", script, str(path)], check=True, timeout=60)
    assert (path.parent / f"{path.name}-wal").stat().st_size > 0


FOREIGN = [
    pytest.param(another_programs_file, "another program's SQLite database", id="unmarked"),
    pytest.param(another_marked_file, "another program's SQLite database", id="other-mark"),
    pytest.param(our_table_names_other_columns, "another program's SQLite database", id="columns"),
    pytest.param(not_a_database, "file is not a database", id="not-sqlite"),
    pytest.param(with_its_journal_unwritten, "another program's SQLite database", id="wal"),
]


def files(folder: Path) -> dict[str, bytes]:
    """The database and its journal (not the -shm file: SQLite's shared-memory index of the
    journal, which any reader may rebuild)."""
    return {p.name: p.read_bytes() for p in folder.iterdir() if not p.name.endswith("-shm")}


@pytest.mark.parametrize(("write", "reason"), FOREIGN)
def test_a_foreign_file_is_refused_and_left_as_it_was(
    tmp_path: Path, write: object, reason: str
) -> None:
    path = tmp_path / "catalog.sqlite3"
    assert callable(write)
    write(path)
    before = files(tmp_path)
    store = accounts(path)
    with pytest.raises(IndexUnusableError) as raised:
        store.execute("SELECT COUNT(*) FROM users")
    assert str(raised.value) == f"the index's catalog.sqlite3 cannot be used: {reason}"
    assert files(tmp_path) == before  # the file and its journal, byte for byte


def test_a_file_that_cannot_be_written_is_read_without_the_mark(tmp_path: Path) -> None:
    path = tmp_path / "catalog.sqlite3"
    with sqlite3.connect(path) as db:  # an earlier release's file, on a read-only index
        db.executescript(SQLITE_SCHEMA)
    db.close()
    # The kind of connection `connect` makes, whose statements report a file that cannot be
    # written as unusable: the mark's own write is let fail.
    read_only = sqlite3.connect(f"{path.as_uri()}?mode=ro", uri=True, factory=IndexConnection)
    mark(read_only)  # SQLite refuses the write; the file is read all the same
    assert read_only.execute("SELECT COUNT(*) FROM users").fetchone()[0] == 0
    read_only.close()
    assert application_id(path) == 0


def test_a_file_held_by_another_writer_is_busy_not_unusable(tmp_path: Path) -> None:
    path = tmp_path / "catalog.sqlite3"
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("BEGIN EXCLUSIVE")
    waiting = sqlite3.connect(path, timeout=0)
    with pytest.raises(sqlite3.OperationalError) as locked:
        waiting.execute("PRAGMA application_id = 1")
    error = unusable(path, locked.value)
    assert isinstance(error, IndexBusyError)
    assert str(error).startswith("the index's catalog.sqlite3 is held by another process")
    assert isinstance(unusable(path, sqlite3.DatabaseError("file is not a database")),
                      IndexUnusableError)  # fmt: skip
    waiting.close()
    holder.execute("ROLLBACK")
    holder.close()


def test_the_python_and_http_doors_say_so_without_the_path(tmp_path: Path) -> None:
    index = tmp_path / "index"
    index.mkdir()
    another_programs_file(index / "catalog.sqlite3")
    before = (index / "catalog.sqlite3").read_bytes()
    assistant = Assistant(make_settings(index))
    with pytest.raises(AssistantError, match=r"catalog\.sqlite3 cannot be used: another program"):
        assistant.ask("Who halted their stablecoin plans?")
    with serving(build_server(assistant, ui=False)) as url:
        for response in (
            httpx.post(f"{url}/v1/ask", json={"question": "Who halted?"}, timeout=60),
            httpx.get(f"{url}/v1/documents", timeout=60),
        ):
            assert response.status_code == 503
            error = response.json()["error"]
            assert error["code"] == "index_unusable"
            assert error["message"] == (
                "the index's catalog.sqlite3 cannot be used: another program's SQLite database"
            )
            assert str(tmp_path) not in response.text
    assert (index / "catalog.sqlite3").read_bytes() == before


def damaged(path: Path, table: str) -> None:
    """Overwrite the first page of `table` in the SQLite file at `path` with bytes that are no
    b-tree page, as a failing disk might; the file's header and schema are left whole, so it
    opens and fails only when the table is read."""
    with sqlite3.connect(path) as db:
        db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        size = db.execute("PRAGMA page_size").fetchone()[0]
        (root,) = db.execute("SELECT rootpage FROM sqlite_master WHERE name = ?", (table,))
    db.close()
    with path.open("r+b") as file:
        file.seek((root[0] - 1) * size)
        file.write(b"\xde\xad\xbe\xef" * (size // 4))


def test_a_file_damaged_after_it_was_opened_is_unusable_at_every_door(
    seed_index: Path, tmp_path: Path
) -> None:
    index = tmp_path / "index"
    copy_index(seed_index, index)
    damaged(index / "catalog.sqlite3", "chunks")
    assistant = Assistant(make_settings(index))
    reason = "the index's catalog.sqlite3 cannot be used: database disk image is malformed"
    with pytest.raises(IndexUnusableError) as raised:
        assistant.ask("Who halted their stablecoin plans?")
    assert str(raised.value) == reason
    with serving(build_server(assistant, ui=False)) as url:
        response = httpx.post(f"{url}/v1/ask", json={"question": "Who halted?"}, timeout=60)
    assert response.status_code == 503
    assert response.json()["error"]["code"] == "index_unusable"
    assert response.json()["error"]["message"] == reason
    assert str(tmp_path) not in response.text


def test_a_write_another_process_holds_off_is_busy(tmp_path: Path) -> None:
    path = tmp_path / "catalog.sqlite3"
    store = accounts(path)
    store.execute("SELECT COUNT(*) FROM users")
    store.db.execute("PRAGMA busy_timeout = 0")  # not the 30 s a real writer waits
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    held = r"^the index's catalog\.sqlite3 is held by another process"
    with pytest.raises(IndexBusyError, match=held), store.transaction() as statements:
        statements.execute("INSERT INTO users VALUES ('ann', 'x', 'admin', 0)")
    holder.execute("ROLLBACK")
    holder.close()
    store.close()
