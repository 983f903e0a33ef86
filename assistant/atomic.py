"""Atomic file writes: readers see the old file or the new one, never a torn or partial one;
appended JSON lines are whole or absent."""

from __future__ import annotations

import fcntl
import json
import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, BinaryIO


@contextmanager
def atomic_writer(path: Path, mode: int = 0o644) -> Iterator[BinaryIO]:
    """A binary handle on a temporary file that replaces `path` only if the block succeeds.

    The temporary file lives in the target's folder (so the rename stays on one file system)
    and is flushed to disk before the rename; on an error it is removed and `path` is untouched.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    descriptor, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(descriptor, "wb") as handle:
            yield handle
            handle.flush()
            os.fchmod(handle.fileno(), mode)
            os.fsync(handle.fileno())
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def write_text_atomic(path: Path, text: str) -> None:
    """Replace `path` with UTF-8 `text` atomically."""
    with atomic_writer(path) as handle:
        handle.write(text.encode("utf-8"))


def append_jsonl(path: Path, record: dict[str, Any]) -> None:
    """Append one record as one line; concurrent writers never interleave or tear lines."""
    line = (json.dumps(record, ensure_ascii=False, sort_keys=True) + "\n").encode("utf-8")
    path.parent.mkdir(parents=True, exist_ok=True)
    descriptor = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
    try:
        # O_APPEND places each write at the end; the lock keeps a large line whole even if
        # the kernel splits the write, and keeps other processes from writing mid-line.
        fcntl.flock(descriptor, fcntl.LOCK_EX)
        view = memoryview(line)
        while view:
            written = os.write(descriptor, view)
            view = view[written:]
        os.fsync(descriptor)
    finally:
        os.close(descriptor)  # closing releases the lock
