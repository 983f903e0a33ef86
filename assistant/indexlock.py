"""The embedded index's writer lock file: one ingest at a time, and readers can ask whether one
is running. The SQLite catalog holds it (`SqliteCatalog.writer_lock`); the PostgreSQL catalog
takes an advisory lock in the database instead."""

from __future__ import annotations

from pathlib import Path

from filelock import FileLock, Timeout

LOCK_FILE = "ingest.lock"


def writer_lock(index_dir: Path) -> FileLock:
    """The lock an ingest holds while it writes to `index_dir`."""
    return FileLock(str(index_dir / LOCK_FILE))


def ingest_running(index_dir: Path) -> bool:
    """Whether an ingest, in this process or another, holds the index's lock right now."""
    path = index_dir / LOCK_FILE
    if not path.exists():
        return False
    probe = FileLock(str(path))
    try:
        probe.acquire(timeout=0)
    except Timeout:
        return True
    probe.release()
    return False
