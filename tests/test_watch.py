"""`assistant watch` as a real subprocess on a real folder: the index follows file changes.

Every wait is for a condition of the index, with a generous deadline; nothing asserts how long
anything took.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import tarfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from assistant import Assistant
from assistant.audit import AuditLog
from assistant.catalog_sqlite import SqliteCatalog
from assistant.loaders import content_hash
from tests.conftest import REPO, SEED_FILE, make_settings

DEADLINE = 600.0  # seconds: the machine may be busy with other suites


class Watch:
    """A running `assistant watch FOLDER` and its log."""

    def __init__(self, folder: Path, index: Path, log: Path, **env: str) -> None:
        self.log = log
        self.catalog = SqliteCatalog(index / "catalog.sqlite3")
        with log.open("a", encoding="utf-8") as sink:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "assistant.cli", "watch", str(folder), "--index",
                 str(index), "--quiet", "0.5", "--max-wait", "5", "--retry", "1"],
                stdout=sink,
                stderr=subprocess.STDOUT,
                env={**os.environ, "PYTHONPATH": str(REPO), **env},
                cwd=folder.parent,
            )  # fmt: skip

    def documents(self) -> dict[str, str]:
        """Indexed file names (relative to the folder's parent) -> content hash."""
        if not self.catalog.exists():
            return {}
        return {r.source: r.content_hash for r in self.catalog.documents().values()}

    def wait_for(self, condition: Callable[[dict[str, str]], bool], what: str) -> None:
        """Poll the catalog until `condition` holds (fail after DEADLINE or if the watcher died)."""
        self.wait_until(lambda: condition(self.documents()), what)

    def wait_until(self, condition: Callable[[], bool], what: str) -> None:
        """Poll until `condition()` holds (fail after DEADLINE or if the watcher died)."""
        deadline = time.monotonic() + DEADLINE
        while time.monotonic() < deadline:
            if condition():
                return
            if self.process.poll() is not None:
                pytest.fail(f"the watcher exited ({self.process.returncode}) before {what}:\n"
                            + self.log.read_text("utf-8"))  # fmt: skip
            time.sleep(0.2)
        pytest.fail(f"the index did not reach: {what}\n" + self.log.read_text("utf-8"))

    def syncs(self) -> int:
        """Sync lines logged so far."""
        return sum(
            "sync" in line and "added" in line for line in self.log.read_text("utf-8").splitlines()
        )

    def __enter__(self) -> Watch:
        return self

    def __exit__(self, *exc: object) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait()

    def stop(self, sig: signal.Signals = signal.SIGTERM) -> int:
        """Send `sig` and wait for the process to end; its exit code."""
        self.process.send_signal(sig)
        return self.process.wait(timeout=DEADLINE)


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / SEED_FILE.name).write_bytes(SEED_FILE.read_bytes())
    return docs


@pytest.fixture
def watching(folder: Path, tmp_path: Path) -> Iterator[Watch]:
    with Watch(folder, tmp_path / "index", tmp_path / "watch.log") as watch:
        yield watch


def has(name: str, text: str | None = None) -> Callable[[dict[str, str]], bool]:
    digest = None if text is None else content_hash(text.encode())
    return lambda docs: (
        f"docs/{name}" in docs and (digest is None or docs[f"docs/{name}"] == digest)
    )


def consistent(index: Path) -> bool:
    assistant = Assistant(make_settings(index))
    chunk_ids = {row[0] for row in assistant.catalog.db.execute("SELECT chunk_id FROM chunks")}
    return assistant.store.all_ids() == chunk_ids


def note(i: int) -> str:
    return f"Parcel {i} of the spring inventory is stored on shelf {i * 7 % 97} of aisle {i}.\n"


def test_the_index_follows_creates_edits_renames_deletes_and_a_burst(
    watching: Watch, folder: Path, tmp_path: Path
) -> None:
    watching.wait_for(has(SEED_FILE.name), "the first sync of the folder")

    notes = folder / "notes.txt"
    notes.write_text("The staff canteen serves pierogi every Thursday.\n", "utf-8")
    watching.wait_for(has("notes.txt", notes.read_text("utf-8")), "a new file indexed")

    notes.write_text("The staff canteen serves borscht every Thursday.\n", "utf-8")
    watching.wait_for(has("notes.txt", notes.read_text("utf-8")), "an edited file re-read")

    # Moved to another folder: it reads the same there (without a title line, its title is
    # its file name), so its vectors are copied, not embedded again.
    (folder / "archive").mkdir()
    notes.rename(folder / "archive" / "notes.txt")
    watching.wait_for(
        lambda docs: has("archive/notes.txt")(docs) and "docs/notes.txt" not in docs,
        "a move followed",
    )
    watching.wait_until(
        lambda: "renamed 1," in watching.log.read_text("utf-8"), "the move logged as a rename"
    )
    (folder / "archive" / "notes.txt").rename(folder / "archive" / "menu.txt")
    watching.wait_for(
        lambda docs: has("archive/menu.txt")(docs) and "docs/archive/notes.txt" not in docs,
        "a rename followed",
    )
    (folder / "archive" / "menu.txt").unlink()
    watching.wait_for(lambda docs: "docs/archive/menu.txt" not in docs, "a deleted file removed")

    # An unpacked archive: 500 new files in a new folder within moments.
    staging = tmp_path / "staging"
    (staging / "inventory").mkdir(parents=True)
    for i in range(500):
        (staging / "inventory" / f"parcel-{i:03}.txt").write_text(note(i), "utf-8")
    archive = tmp_path / "inventory.tar"
    with tarfile.open(archive, "w") as tar:
        tar.add(staging / "inventory", arcname="inventory")
    before = watching.syncs()
    with tarfile.open(archive) as tar:
        tar.extractall(folder, filter="data")
    watching.wait_for(
        lambda docs: sum(name.startswith("docs/inventory/") for name in docs) == 500,
        "all 500 files of the archive indexed",
    )
    assert watching.syncs() - before < 50, watching.log.read_text("utf-8")

    assert watching.stop(signal.SIGTERM) == 0
    log = watching.log.read_text("utf-8")
    assert "SIGTERM: stopping" in log
    assert log.rstrip().endswith("stopped"), log
    print(log)  # shown with -s: one line per sync
    assert consistent(tmp_path / "index")
    answer = Assistant(make_settings(tmp_path / "index")).ask("Where is parcel 123 stored?")
    assert f"shelf {123 * 7 % 97} of aisle 123" in answer.text


def test_a_killed_or_stopped_watcher_catches_up_on_restart(folder: Path, tmp_path: Path) -> None:
    def started() -> Watch:
        # Small commit groups, so that a kill can land between two commits of one sync.
        env = {"ASSISTANT_INGEST_GROUP_CHUNKS": "8"}
        return Watch(folder, tmp_path / "index", tmp_path / "watch.log", **env)

    def expected() -> dict[str, str]:
        return {f"docs/{p.name}": content_hash(p.read_bytes()) for p in folder.iterdir()}

    with started() as first:
        first.wait_for(has(SEED_FILE.name), "the first sync of the folder")
        for i in range(60):
            (folder / f"parcel-{i:02}.txt").write_text(note(i), "utf-8")
        # Killed while it syncs (or just after): the next start must repair and catch up.
        first.wait_for(lambda docs: any("parcel" in name for name in docs), "a sync under way")
        first.stop(signal.SIGKILL)

    (folder / "parcel-00.txt").write_text("Parcel zero went back to the supplier.\n", "utf-8")
    (folder / "parcel-01.txt").unlink()
    (folder / "parcel-02.txt").rename(folder / "moved-02.txt")
    (folder / "late.txt").write_text("The late delivery arrives on Friday at noon.\n", "utf-8")
    with started() as second:
        second.wait_for(lambda docs: docs == expected(), "the index equals the folder")
        for i in range(60, 120):
            (folder / f"parcel-{i:03}.txt").write_text(note(i), "utf-8")
        # Stopped while it syncs (or just after): it ends at a file boundary, cleanly.
        second.wait_for(lambda docs: "docs/parcel-060.txt" in docs, "a second sync under way")
        assert second.stop(signal.SIGTERM) == 0
    assert consistent(tmp_path / "index")

    with started() as third:
        third.wait_for(lambda docs: docs == expected(), "the index equals the folder again")
        assert third.stop(signal.SIGINT) == 0
    print(third.log.read_text("utf-8"))  # shown with -s: one line per sync
    assert consistent(tmp_path / "index")


def test_a_folder_that_goes_away_keeps_its_documents_until_it_is_back(
    watching: Watch, folder: Path, tmp_path: Path
) -> None:
    watching.wait_for(has(SEED_FILE.name), "the first sync of the folder")
    away = folder.rename(tmp_path / "unmounted")
    watching.wait_until(lambda: "gone: its documents are kept" in watching.log.read_text(), "gone")
    status = Assistant(make_settings(tmp_path / "index")).sync_status()
    assert status is not None
    assert status.state == "partial"
    assert [failure.error for failure in status.failed] == [
        "folder not found; its indexed documents are kept"
    ]
    assert list(watching.documents()) == [f"docs/{SEED_FILE.name}"]

    (away / "late.txt").write_text("The late delivery arrives on Friday at noon.\n", "utf-8")
    away.rename(folder)  # back: watched again, from a full sync
    watching.wait_for(has("late.txt"), "the folder watched again")
    assert SEED_FILE.name in " ".join(watching.documents())
    (folder / "later.txt").write_text("The later delivery arrives on Monday.\n", "utf-8")
    watching.wait_for(has("later.txt"), "a change seen after the return")
    assert watching.stop() == 0


def test_each_watcher_sync_is_one_audit_event(
    watching: Watch, folder: Path, tmp_path: Path
) -> None:
    watching.wait_for(has(SEED_FILE.name), "the first sync of the folder")
    (folder / SEED_FILE.name).unlink()
    watching.wait_for(lambda docs: not docs, "the deleted file removed")
    assert watching.stop(signal.SIGTERM) == 0

    log = AuditLog.from_settings(make_settings(tmp_path / "index"))
    events = list(log.records(event="sync"))
    assert len(events) == watching.syncs() >= 2  # one per sync line the watcher logged
    assert {(r.user, r.details["command"]) for r in events} == {(None, "watch")}
    first, batches = events[0].details, [r.details for r in events[1:]]
    assert (first["changed_paths"], first["folders"]) == (None, [str(folder)])  # the full sync
    assert (first["added"], first["deleted"]) == (1, 0)
    assert all(batch["changed_paths"] for batch in batches)
    assert sum(batch["deleted"] for batch in batches) == 1
    assert list(log.records(event="ingest")) == []
