"""The accounts' tables on either store (`assistant.sqlstore`): their SQLite schema (PostgreSQL's
is step 4 of `assistant.pgschema`), where they are for some settings, and a copy from one store
to another."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from assistant.sqlstore import SqliteStore, Store, copy_tables, open_store

if TYPE_CHECKING:
    from assistant.catalog import Catalog
    from assistant.settings import Settings

SQLITE_SCHEMA = """
CREATE TABLE IF NOT EXISTS users (
    name TEXT PRIMARY KEY,
    password_hash TEXT NOT NULL,
    role TEXT NOT NULL CHECK (role IN ('admin', 'member')),
    created REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS user_groups (
    user TEXT NOT NULL REFERENCES users(name) ON DELETE CASCADE,
    grp TEXT NOT NULL,
    PRIMARY KEY (user, grp)
);
CREATE TABLE IF NOT EXISTS grants (
    collection TEXT NOT NULL,
    kind TEXT NOT NULL CHECK (kind IN ('group', 'user')),
    principal TEXT NOT NULL,
    PRIMARY KEY (collection, kind, principal)
);
CREATE TABLE IF NOT EXISTS user_api_keys (
    key_id TEXT PRIMARY KEY,
    user TEXT NOT NULL REFERENCES users(name) ON DELETE CASCADE,
    digest BLOB NOT NULL,
    created REAL NOT NULL
);
"""


def sqlite_accounts(path: Path) -> SqliteStore:
    """The accounts in a SQLite catalog file (made with their tables on first use)."""
    return SqliteStore(path, lambda db: db.executescript(SQLITE_SCHEMA), foreign_keys=True)


def account_store(settings: Settings, catalog: Catalog | None = None) -> Store:
    """The accounts of the settings' catalog: its PostgreSQL database, or the index's file."""
    return open_store(
        settings, catalog, lambda: sqlite_accounts(settings.index_dir / "catalog.sqlite3")
    )


# The accounts' tables in the order their references need, with their columns.
ACCOUNT_TABLES = (
    ("users", "name, password_hash, role, created"),
    ("user_groups", '"user", grp'),
    ("grants", "collection, kind, principal"),
    ("user_api_keys", 'key_id, "user", digest, created'),
)


def copy_accounts(source: Store, target: Store) -> int:
    """Every user (with their password hash), group membership, grant and personal key's digest
    of `source` into `target`, in one transaction; returns the users copied. The target must
    hold no users (`holds_rows(target, "users")`)."""
    return copy_tables(source, target, ACCOUNT_TABLES)[0]
