"""The SQLite files beside the index (catalog, accounts, conversations): how each connection is
opened and how a write transaction is run."""

from __future__ import annotations

import sqlite3
from pathlib import Path


def connect(path: Path, schema: str = "", foreign_keys: bool = False) -> sqlite3.Connection:
    """A connection to a SQLite file beside the index (WAL, autocommit), with `schema` applied."""
    path.parent.mkdir(parents=True, exist_ok=True)
    connection = sqlite3.connect(path, timeout=30, isolation_level=None)
    connection.execute("PRAGMA journal_mode=WAL")
    connection.execute("PRAGMA synchronous=NORMAL")
    if foreign_keys:
        connection.execute("PRAGMA foreign_keys=ON")
    if schema:
        connection.executescript(schema)
    return connection


class Transaction:
    """BEGIN IMMEDIATE ... COMMIT, or ROLLBACK on error."""

    def __init__(self, db: sqlite3.Connection) -> None:
        self.db = db

    def __enter__(self) -> sqlite3.Connection:
        self.db.execute("BEGIN IMMEDIATE")
        return self.db

    def __exit__(self, exc_type: object, exc: object, traceback: object) -> None:
        self.db.execute("ROLLBACK" if exc_type else "COMMIT")
