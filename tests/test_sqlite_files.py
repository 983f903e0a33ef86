"""The SQLite files beside the index are marked as this assistant's (`PRAGMA application_id`):
a new file and one an earlier release wrote are marked; another program's file of the same
name, or one that is not a database, is refused at every door and left byte for byte."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import httpx
import pytest

from assistant import Assistant
from assistant.accountstore import SQLITE_SCHEMA
from assistant.api.server import build_server
from assistant.errors import AssistantError, IndexUnusableError
from assistant.sqlite import APPLICATION_ID
from assistant.sqlstore import SqliteStore
from tests.conftest import make_settings
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


def another_programs_file(path: Path) -> None:
    with sqlite3.connect(path) as db:
        db.execute("CREATE TABLE invoices (number INTEGER PRIMARY KEY, total REAL)")
        db.execute("INSERT INTO invoices VALUES (1, 9.5)")
    db.close()


def another_marked_file(path: Path) -> None:
    """Our table names, another program's mark."""
    with sqlite3.connect(path) as db:
        db.execute("PRAGMA application_id = 1")
        db.execute("CREATE TABLE documents (doc_id TEXT PRIMARY KEY)")
    db.close()


def not_a_database(path: Path) -> None:
    path.write_bytes(b"these bytes are not an SQLite database. " * 100)


FOREIGN = [
    pytest.param(another_programs_file, "another program's SQLite database", id="unmarked"),
    pytest.param(another_marked_file, "another program's SQLite database", id="other-mark"),
    pytest.param(not_a_database, "file is not a database", id="not-sqlite"),
]


@pytest.mark.parametrize(("write", "reason"), FOREIGN)
def test_a_foreign_file_is_refused_and_left_as_it_was(
    tmp_path: Path, write: object, reason: str
) -> None:
    path = tmp_path / "catalog.sqlite3"
    assert callable(write)
    write(path)
    before = path.read_bytes()
    store = accounts(path)
    with pytest.raises(IndexUnusableError) as raised:
        store.execute("SELECT COUNT(*) FROM users")
    assert str(raised.value) == f"the index's catalog.sqlite3 cannot be used: {reason}"
    assert path.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["catalog.sqlite3"]  # no journal left either


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
