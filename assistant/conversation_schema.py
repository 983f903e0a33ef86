"""The conversations' tables on either store (`assistant.sqlstore`): their SQLite schema, versioned
and migrated (PostgreSQL's is step 5 of `assistant.pgschema`), and a copy from one store to
another."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable
from pathlib import Path

from assistant.errors import AssistantError
from assistant.sqlite import Transaction
from assistant.sqlstore import SqliteStore, Store, copy_tables

# Step i brings a file from version i to version i + 1. Append steps; never edit one.
MIGRATIONS: tuple[str, ...] = (
    """
    CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
    CREATE TABLE conversations (
        id TEXT PRIMARY KEY,
        owner TEXT NOT NULL,
        title TEXT NOT NULL,
        created_at REAL NOT NULL,
        updated_at REAL NOT NULL,
        deleted_at REAL
    );
    CREATE INDEX conversations_by_owner ON conversations(owner, updated_at);
    CREATE TABLE turns (
        conversation_id TEXT NOT NULL,
        ordinal INTEGER NOT NULL,
        question TEXT NOT NULL,
        answer_text TEXT NOT NULL,
        answer TEXT NOT NULL,
        asked_at REAL NOT NULL,
        PRIMARY KEY (conversation_id, ordinal)
    );
    """,
)
SCHEMA_VERSION = len(MIGRATIONS)


class ConversationStoreError(AssistantError):
    """The conversation file cannot be used (e.g. it was written by a newer release)."""


# The conversations' tables for a copy, each in the order stored (so the newest stays newest).
CONVERSATION_TABLES = (
    ("conversations", "id, owner, title, created_at, updated_at, deleted_at"),
    ("turns", "conversation_id, ordinal, question, answer_text, answer, asked_at"),
    ("meta", "key, value"),  # the chat's secrets: browser ids signed before stay valid
)


def copy_conversations(source: Store, target: Store) -> int:
    """Every conversation (deleted ones within their undo window too) and the chat's secrets
    of `source` into `target`, in one transaction; returns the conversations copied. The
    target must hold none (`holds_rows(target, "conversations")`)."""
    # The target's own secrets (a replica started before the copy made them) are kept.
    return copy_tables(source, target, CONVERSATION_TABLES, keep_existing={"meta"})[0]


def sqlite_conversations(path: Path) -> SqliteStore:
    """The conversations in a SQLite file (made and migrated on first use)."""
    return SqliteStore(path, migrate)


def migrate(db: sqlite3.Connection) -> int:
    """Bring a conversation file to SCHEMA_VERSION in one transaction; returns the old version."""
    with Transaction(db):
        version = int(db.execute("PRAGMA user_version").fetchone()[0])
        if version > SCHEMA_VERSION:
            raise ConversationStoreError(
                f"the conversation file has schema version {version}, newer than this release "
                f"understands ({SCHEMA_VERSION}); upgrade the assistant"
            )
        for step in MIGRATIONS[version:]:
            for statement in _statements(step):
                db.execute(statement)
        if version < SCHEMA_VERSION:
            db.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
    return version


def _statements(script: str) -> Iterable[str]:
    # executescript() would commit the open transaction; run the statements one by one.
    return (part.strip() for part in script.split(";") if part.strip())
