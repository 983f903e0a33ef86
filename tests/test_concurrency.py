"""Several processes at once: two ingests of one index, questions during an ingest, and many
writers of feedback and result files."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from collections.abc import Callable
from pathlib import Path

import pytest

from assistant import Assistant
from assistant.atomic import write_text_atomic
from assistant.feedbackstore import FeedbackFile
from tests.conftest import REPO, SEEDS, copy_head, copy_index, make_settings
from tests.servers import wait_for

pytestmark = pytest.mark.slow

QUESTION = "Which companies had to halt their stablecoin plans?"


def _ingest(index: Path, *paths: Path, lock_timeout: float | None = None) -> subprocess.Popen[str]:
    env = dict(os.environ)
    if lock_timeout is not None:
        env["ASSISTANT_INGEST_LOCK_TIMEOUT"] = str(lock_timeout)
    command = [sys.executable, "-m", "assistant.cli", "ingest", *map(str, paths)]
    return subprocess.Popen(
        [*command, "--index", str(index), "--verbose", "--json"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


class _Thread(threading.Thread):
    """A thread running `work`, whose `wait` returns 0 on success like a process."""

    def __init__(self, work: Callable[[], object]) -> None:
        super().__init__(target=self._run, args=(work,))
        self.failure: BaseException | None = None
        self.start()

    def _run(self, work: Callable[[], object]) -> None:
        try:
            work()
        except BaseException as exc:
            self.failure = exc

    def wait(self, timeout: float) -> int:
        self.join(timeout)
        if self.failure is not None:
            raise self.failure
        return 0


def _docs_corpus(target: Path) -> Path:
    """The first ~12 KB of three of the project's docs (~30 KB): enough work for an ingest to
    hold the lock while another process starts, not so much that the suite waits on it; cut
    to a fixed size, since the docs keep growing (the whole three had reached 94 KB)."""
    target.mkdir()
    for name in ("evaluation.md", "answerers.md", "benchmarks.md"):
        copy_head(REPO / "docs" / name, target / name, 12_000)
    return target


def _wait_for_log(process: subprocess.Popen[str], word: str) -> list[str]:
    """Read the verbose log until a line with `word` appears (the ingest holds the lock)."""
    assert process.stderr is not None
    lines = []
    for line in process.stderr:
        lines.append(line)
        if word in line:
            return lines
    raise AssertionError(f"the ingest ended before logging {word!r}: {''.join(lines)}")


def test_second_ingest_fails_clearly_or_waits(tmp_path: Path) -> None:
    """A second ingest either fails at once with a one-line message or waits for the first."""
    index = tmp_path / "index"
    corpus = _docs_corpus(tmp_path / "docs")
    first = _ingest(index, SEEDS, corpus)
    _wait_for_log(first, "read ")  # the lock is taken before anything is read
    impatient = _ingest(index, SEEDS, lock_timeout=0)
    out, err = impatient.communicate(timeout=300)
    patient = _ingest(index, SEEDS, corpus, lock_timeout=600)
    assert first.wait(timeout=600) == 0
    assert first.stdout is not None
    first_report = json.loads(first.stdout.read())
    patient_out, patient_err = patient.communicate(timeout=600)

    assert impatient.returncode == 1
    assert out == ""
    assert "Traceback" not in err
    assert err.strip().splitlines()[-1] == (
        f"assistant: error: another ingest is writing to {index}; try again when it ends"
    )
    assert patient.returncode == 0, patient_err
    waited = json.loads(patient_out)
    added = first_report["documents"]["added"]
    assert added == 4  # the seed and three docs
    assert waited["documents"] == {
        "added": 0,
        "updated": 0,
        "unchanged": added,
        "deleted": 0,
        "renamed": 0,
        "failed": [],
    }
    assistant = Assistant(make_settings(index))
    chunk_ids = {row[0] for row in assistant.catalog.db.execute("SELECT chunk_id FROM chunks")}
    assert assistant.store.all_ids() == chunk_ids


@pytest.mark.parametrize("writer_kind", ["process", "thread"])
def test_questions_are_answered_during_an_ingest(
    seed_index: Path, tmp_path: Path, writer_kind: str
) -> None:
    """Readers keep getting cited answers while another process (the CLI) or a thread of the
    same Assistant (the web UI's upload and re-index) ingests."""
    index = tmp_path / "index"
    copy_index(seed_index, index)
    assistant = Assistant(make_settings(index))
    baseline = assistant.ask(QUESTION)
    assert not baseline.refused
    corpus = _docs_corpus(tmp_path / "docs")
    writer: subprocess.Popen[str] | _Thread
    if writer_kind == "process":
        writer = _ingest(index, SEEDS, corpus)
        _wait_for_log(writer, "read ")
    else:
        writer = _Thread(lambda: assistant.ingest([SEEDS, corpus]))
    answers = []
    errors: list[BaseException] = []
    stop = threading.Event()

    def ask_repeatedly() -> None:
        while not stop.is_set():
            try:
                answers.append(assistant.ask(QUESTION))
            except BaseException as exc:  # every failure is a test failure
                errors.append(exc)
                return

    readers = [threading.Thread(target=ask_repeatedly) for _ in range(2)]
    for reader in readers:
        reader.start()
    try:
        assert writer.wait(timeout=600) == 0
        finished = len(answers)  # then a few more questions against the finished index
        wait_for(lambda: len(answers) >= finished + 2 or bool(errors), "two more answers")
    finally:
        stop.set()
        for reader in readers:
            reader.join(timeout=120)
    assert errors == []
    for answer in answers:
        assert not answer.refused
        assert answer.citations
        for citation in answer.citations:
            text, _, _ = assistant.catalog.document_structure(citation.doc_id or "")
            assert text[citation.start : citation.end] == citation.quote
    # The reader finds what the writer committed without reopening anything (through BM25 at
    # least: another process's embedded Chroma keeps its vector index; docs/reliability.md).
    passages = assistant.retrieve("How is the evaluation report generated?", k=10).passages
    assert any(p.source.endswith("evaluation.md") for p in passages)


_WRITER = """
import sys
from collections.abc import Callable
from pathlib import Path
from assistant.feedbackstore import FeedbackFile
path, worker = Path(sys.argv[1]), int(sys.argv[2])
for n in range(30):
    FeedbackFile(path).append({"worker": worker, "n": n, "pad": "é" * 150_000 + str(worker)})
"""


def test_feedback_from_many_processes_is_never_torn_or_lost(tmp_path: Path) -> None:
    path = tmp_path / "data" / "feedback.jsonl"
    workers = [
        subprocess.Popen([sys.executable, "-c", _WRITER, str(path), str(worker)])
        for worker in range(5)
    ]
    assert [worker.wait(timeout=300) for worker in workers] == [0] * 5
    records = FeedbackFile(path).records()  # json.loads of every line: a torn line fails here
    assert sorted((r["worker"], r["n"]) for r in records) == [
        (w, n) for w in range(5) for n in range(30)
    ]
    assert all(r["pad"] == "é" * 150_000 + str(r["worker"]) for r in records)


_REPLACER = """
import json, sys
from collections.abc import Callable
from pathlib import Path
from assistant.atomic import write_text_atomic
path, worker = Path(sys.argv[1]), int(sys.argv[2])
for n in range(40):
    write_text_atomic(path, json.dumps({"worker": worker, "n": n, "pad": "x" * 400_000}))
"""


def test_replaced_files_are_always_whole(tmp_path: Path) -> None:
    """Readers of a file other processes keep rewriting see one whole version each time."""
    path = tmp_path / "report" / "result.json"
    write_text_atomic(path, json.dumps({"worker": -1, "n": 0, "pad": ""}))
    writers = [
        subprocess.Popen([sys.executable, "-c", _REPLACER, str(path), str(worker)])
        for worker in range(3)
    ]
    seen = set()
    while any(writer.poll() is None for writer in writers):
        record = json.loads(path.read_text("utf-8"))  # a partial file would not parse
        seen.add((record["worker"], record["n"]))
    assert [writer.returncode for writer in writers] == [0] * 3
    assert len(seen) > 1
    assert [p.name for p in path.parent.iterdir()] == ["result.json"]  # no temporary left


def test_failed_write_leaves_the_old_file(tmp_path: Path) -> None:
    from assistant.atomic import atomic_writer

    path = tmp_path / "result.json"
    write_text_atomic(path, "old")

    def fail_half_way() -> None:
        with atomic_writer(path) as handle:
            handle.write(b"half of the new")
            raise RuntimeError("disk full")

    with pytest.raises(RuntimeError):
        fail_half_way()
    assert path.read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["result.json"]
