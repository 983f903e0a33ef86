"""`assistant watch`: keep the index in line with folders as their files change.

Built on file-system events (watchfiles: inotify on Linux). Changes are gathered until the
folders have been quiet for `quiet` seconds (at most `max_wait`), then the changed paths are
synced in one go, so an unpacked archive of 500 files becomes a few syncs. Events arriving
during a sync are kept and synced next. The watcher starts with a full sync of its folders,
which compares hashes and so catches up on whatever changed while it was not running (or was
killed). A sync that fails (the index busy, the vector store down) is retried, with the paths
it was given, every `retry` seconds. SIGINT or SIGTERM stops it at the next file boundary.
"""

from __future__ import annotations

import logging
import os
import signal
import threading
import time
from collections.abc import Sequence
from pathlib import Path
from types import FrameType

from assistant.core import Assistant
from assistant.errors import AssistantError, IndexUnusableError
from assistant.loaders import is_supported
from assistant.sync import SyncReport
from assistant.types import IngestProgress

log = logging.getLogger(__name__)


class WatchStopped(BaseException):
    """Raised inside a sync when a stop was asked for; the next start catches up."""


class Watcher:
    """Syncs `folders` after each quiet spell of file-system changes until `stop` is set."""

    def __init__(
        self,
        assistant: Assistant,
        folders: Sequence[Path],
        quiet: float = 1.0,
        max_wait: float = 10.0,
        retry: float = 10.0,
    ) -> None:
        self.assistant = assistant
        self.folders = [Path(os.path.abspath(folder)) for folder in folders]
        self.quiet = quiet
        self.max_wait = max(max_wait, quiet)
        self.retry = retry
        self.stop = threading.Event()
        settings = assistant.settings
        # The index and the data folder may sit inside a watched folder: their writes are ours.
        self._own = [Path(os.path.abspath(p)) for p in (settings.index_dir, settings.data_dir)]

    def wanted(self, change: object, path: str) -> bool:
        """Whether a changed path may matter: no hidden part, not ours, a supported file, a
        folder, or something gone (it may have been a folder)."""
        candidate = Path(path)
        if any(candidate == own or own in candidate.parents for own in self._own):
            return False
        for root in self.folders:
            if candidate == root or root in candidate.parents:
                if any(part.startswith(".") for part in candidate.relative_to(root).parts):
                    return False
                break
        if not os.path.lexists(path):
            return True
        return candidate.is_dir() or is_supported(candidate)

    def run(self) -> None:
        """Watch until `stop` is set: a full sync first, then one sync per burst of changes.

        A folder that disappears (deleted, unmounted) keeps its documents: the watcher waits
        for it to come back, then watches again, starting with a full sync.
        """
        while not self.stop.is_set():
            if all(folder.is_dir() for folder in self.folders):
                self._watch()
            else:
                self.stop.wait(self.retry)

    def _watch(self) -> None:
        """One watch of the folders; returns when stopped or when a folder is gone."""
        from watchfiles import watch

        pending: set[Path] = set()
        full = True  # the first sync covers everything: it catches up after a restart
        retry_at = 0.0
        for changes in watch(
            *self.folders,
            watch_filter=self.wanted,
            debounce=int(self.max_wait * 1000),
            step=int(self.quiet * 1000),
            stop_event=self.stop,
            rust_timeout=1000,
            yield_on_timeout=True,
            raise_interrupt=False,
        ):
            pending.update(Path(path) for _, path in changes)
            gone = [str(folder) for folder in self.folders if not folder.is_dir()]
            if self.stop.is_set() or not (full or pending or gone):
                continue
            if time.monotonic() >= retry_at:
                batch = None if full else sorted(pending)
                synced = self._sync(batch)
                if synced is None:
                    return  # stopped
                if synced:
                    full = False
                    pending.difference_update(batch or ())
                else:
                    retry_at = time.monotonic() + self.retry
            if gone:
                log.info("%s gone: its documents are kept; watching again once it is back",
                         ", ".join(gone))  # fmt: skip
                return

    def _sync(self, batch: list[Path] | None) -> bool | None:
        """Sync `batch` (None: everything); whether it completed (None: a stop cut it short)."""
        try:
            report = self.assistant.sync(
                self.folders, changed=batch, on_progress=self._check_stop, command="watch"
            )
        except WatchStopped:
            log.info("stopped during a sync; the next start catches up")
            return None
        except IndexUnusableError:
            raise  # another program's or a damaged file: waiting will not mend it
        except AssistantError as exc:
            log.info("sync failed: %s; retrying in %g s", exc, self.retry)
            return False
        if report is not None:
            log.info("%s", _line(report, batch))
        return True

    def _check_stop(self, progress: IngestProgress) -> None:
        if self.stop.is_set():
            raise WatchStopped

    def stop_on_signals(self) -> None:
        """Set `stop` on SIGINT and SIGTERM (call from the main thread)."""

        def handle(signum: int, frame: FrameType | None) -> None:
            log.info("%s: stopping", signal.Signals(signum).name)
            self.stop.set()

        signal.signal(signal.SIGINT, handle)
        signal.signal(signal.SIGTERM, handle)


def _line(report: SyncReport, batch: Sequence[Path] | None) -> str:
    what = "full sync" if batch is None else f"sync of {len(batch)} changed paths"
    line = f"{what}: {report.summary()}"
    if report.failed:
        line += "; failed: " + ", ".join(f"{f.source} ({f.error})" for f in report.failed[:5])
        if len(report.failed) > 5:
            line += f" and {len(report.failed) - 5} more"
    return line
