"""Keeping the index in line with its document folders: `assistant sync`, `assistant watch`.

A sync is an incremental ingest of whole folders (or, for the watcher, of the paths that
changed) under the one index lock: new files are added, changed ones re-read, deleted ones
removed, renamed ones moved without re-embedding (ingest.py). A folder that is missing (an
unmounted share) is reported and its documents are kept rather than removed. What the last
sync did, and which files fail, is stored in the catalog, where `/healthz`, the Documents tab
and every replica sharing the catalog read it (`Assistant.sync_status`).
"""

from __future__ import annotations

import contextlib
import os
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel, ConfigDict, ValidationError

from assistant.catalog import Catalog
from assistant.types import FailedFile, IngestProgress, IngestReport

if TYPE_CHECKING:
    from assistant.core import Assistant

_STATUS_KEY = "sync_status"


class SyncFailure(BaseModel):
    """A file or folder the last syncs could not index, and why."""

    model_config = ConfigDict(frozen=True)

    source: str
    error: str
    path: str  # absolute: a later sync of that path clears or renews the failure


class SyncReport(BaseModel):
    """What one sync did."""

    model_config = ConfigDict(frozen=True)

    folders: tuple[str, ...]
    added: int = 0
    changed: int = 0
    removed: int = 0
    renamed: int = 0
    unchanged: int = 0
    failed: tuple[FailedFile, ...] = ()
    chunks: int = 0
    chunks_reused: int = 0  # passages of changed files that kept their vectors
    seconds: float = 0.0
    finished_at: float = 0.0

    @classmethod
    def from_ingest(
        cls, report: IngestReport, folders: Sequence[Path], failed: Sequence[FailedFile]
    ) -> SyncReport:
        """The sync view of an ingest run (with its failures filtered by the caller)."""
        return cls(
            folders=tuple(str(folder) for folder in folders),
            added=report.added,
            changed=report.updated,
            removed=report.deleted,
            renamed=report.renamed,
            unchanged=report.unchanged,
            failed=tuple(failed),
            chunks=report.chunks,
            chunks_reused=report.chunks_reused,
            seconds=report.seconds,
            finished_at=time.time(),
        )

    def summary(self) -> str:
        """One line for a terminal or a log."""
        return (
            f"added {self.added}, changed {self.changed}, removed {self.removed}, "
            f"renamed {self.renamed}, unchanged {self.unchanged}, failed {len(self.failed)}; "
            f"{self.chunks} chunks in the index ({self.seconds:.1f} s)"
        )

    def to_json_dict(self) -> dict[str, object]:
        """The documented `assistant sync --json` shape."""
        return {
            "folders": list(self.folders),
            "added": self.added,
            "changed": self.changed,
            "removed": self.removed,
            "renamed": self.renamed,
            "unchanged": self.unchanged,
            "failed": [item.model_dump() for item in self.failed],
            "chunks": self.chunks,
            "chunks_reused": self.chunks_reused,
            "seconds": round(self.seconds, 3),
        }


class SyncStatus(BaseModel):
    """The last sync and the files that fail, as stored in the catalog."""

    model_config = ConfigDict(frozen=True)

    last_sync_at: float = 0.0  # when the last sync ended (done or not)
    last_success_at: float | None = None  # when a sync last completed
    error: str | None = None  # why the last sync did not complete (None: it did)
    failed: tuple[SyncFailure, ...] = ()  # files that failed in their last sync
    last: SyncReport | None = None  # the last completed sync

    @property
    def state(self) -> Literal["ok", "partial", "failed"]:
        """ok: the last sync completed and nothing fails; partial: some files fail; failed:
        the last sync did not complete."""
        if self.error is not None:
            return "failed"
        return "partial" if self.failed else "ok"


def read_status(catalog: Catalog) -> SyncStatus | None:
    """The stored sync status (None: never synced, or no index)."""
    if not catalog.exists():
        return None
    stored = catalog.get_meta(_STATUS_KEY)
    if stored is None:
        return None
    try:
        return SyncStatus.model_validate_json(stored)
    except ValidationError:  # written by another release: start afresh
        return None


def _write_status(catalog: Catalog, status: SyncStatus) -> None:
    catalog.set_meta(_STATUS_KEY, status.model_dump_json())


def _absolute(source: str) -> str:
    # Ingest shows a path relative to the working directory when it is inside it.
    return os.path.abspath(source)


def _covers(target: str, path: str) -> bool:
    return path == target or path.startswith(target.rstrip(os.sep) + os.sep)


def run_sync(
    assistant: Assistant,
    folders: Sequence[Path],
    changed: Sequence[Path] | None = None,
    progress: bool | None = False,
    on_progress: Callable[[IngestProgress], None] | None = None,
    command: Literal["sync", "watch"] = "sync",
) -> SyncReport | None:
    """Bring the index in line with `folders`, or only with the `changed` paths inside them.

    Returns None when nothing is to be done (changed paths that are gone and were never
    indexed, and no folder missing). Any error is recorded in the sync status and raised again.
    A completed sync is also one `sync` event in the audit log (the system's: no user), with
    the `command` that ran it; its ingest records none of its own. A sync stopped by an error
    is one too, with the `error` instead of counts.
    """
    roots = [Path(os.path.abspath(folder)) for folder in folders]
    missing = [root for root in roots if not root.is_dir()]
    failed = [
        FailedFile(
            source=str(root),
            error=f"{'not a folder' if root.exists() else 'folder not found'}; its indexed "
            "documents are kept",
        )
        for root in missing
    ]
    present = [root for root in roots if root not in missing]
    # What every `sync` audit event of this run says, done or stopped by an error.
    scope: dict[str, Any] = {
        "command": command,
        "folders": [str(root) for root in roots],
        "changed_paths": None if changed is None else len(changed),
    }
    if changed is None:
        targets = present
    else:
        # Nothing under a missing folder is read (or removed): it may be unmounted.
        inside = [path for path in changed if not any(_covers(str(m), str(path)) for m in missing)]
        targets = _wanted_changes(assistant.catalog, inside, present)
        if not targets and not missing:
            return None
    try:
        if targets:
            report = assistant.ingest(
                targets, progress=progress, on_progress=on_progress, action=None
            )
        else:  # every folder is missing: nothing to read, and nothing may be removed
            report = IngestReport(chunks=assistant.catalog.chunk_count())
    except Exception as exc:  # (not a stop request: the next sync simply carries on)
        message = _record_error(assistant.catalog, exc)
        with contextlib.suppress(Exception):  # the error is raised whatever the log does
            assistant.audit.record("sync", None, **scope, error=message)
        raise
    gone = {str(target) for target in targets if not target.exists()}
    # A changed path that vanished before the sync read it is a deletion, not a failure.
    failed += [item for item in report.failed if _absolute(item.source) not in gone]
    result = SyncReport.from_ingest(report, roots, failed)
    _record(assistant.catalog, result, [str(target) for target in targets], roots)
    assistant.audit.record(
        "sync",
        None,
        **scope,
        added=result.added,
        updated=result.changed,
        deleted=result.removed,
        renamed=result.renamed,
        failed=len(result.failed),
    )
    return result


def _wanted_changes(catalog: Catalog, changed: Sequence[Path], roots: Sequence[Path]) -> list[Path]:
    """The changed paths worth an ingest: those that exist, and gone ones that held documents.

    A path that leads out of its folder through a symbolic link is replaced by that folder:
    reading the whole folder reports the link and does not follow it (discovery.discover).
    """
    paths = sorted({Path(os.path.abspath(path)) for path in changed})
    existing: list[Path] = []
    for path in paths:
        if not path.exists():
            continue
        root = next((r for r in roots if r == path or r in path.parents), None)
        if root is not None and not path.resolve().is_relative_to(root.resolve()):
            path = root
        if path not in existing:
            existing.append(path)
    gone = [str(path) for path in paths if not path.exists()]
    if gone:
        indexed = list(catalog.documents()) if catalog.exists() else []
        gone = [target for target in gone if any(_covers(target, path) for path in indexed)]
    return existing + [Path(target) for target in gone]


def _record(
    catalog: Catalog, report: SyncReport, covered: Sequence[str], roots: Sequence[Path]
) -> None:
    """Store the report; earlier failures stay unless this sync read their paths again, the
    file is gone, or it was a folder of this sync (checked on every sync)."""
    from assistant.loaders import is_present  # (a question never needs the loaders)

    before = read_status(catalog) or SyncStatus()
    folders = {str(root) for root in roots}
    kept = [
        failure
        for failure in before.failed
        if is_present(Path(failure.path))
        and failure.path not in folders
        and not any(_covers(target, failure.path) for target in covered)
    ]
    new = [
        SyncFailure(source=f.source, error=f.error, path=_absolute(f.source)) for f in report.failed
    ]
    _write_status(
        catalog,
        SyncStatus(
            last_sync_at=report.finished_at,
            last_success_at=report.finished_at,
            failed=tuple(kept + new),
            last=report,
        ),
    )


def _record_error(catalog: Catalog, exc: Exception) -> str:
    """Keep the error that stopped a sync in its status; returns the message kept."""
    before = read_status(catalog) or SyncStatus()
    message = str(exc) or type(exc).__name__
    # The catalog itself may be what failed: the error is raised anyway.
    with contextlib.suppress(Exception):
        _write_status(
            catalog, before.model_copy(update={"last_sync_at": time.time(), "error": message})
        )
    return message
