"""`assistant sync`: document folders kept in line, with the real embedding model and Chroma."""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import pytest
from fastapi.testclient import TestClient
from filelock import FileLock

from assistant import Assistant
from assistant.api.app import create_app
from assistant.cli import EXIT_OK, main
from assistant.discovery import doc_id_for
from assistant.errors import IndexBusyError
from assistant.indexlock import writer_lock
from assistant.sync_command import EXIT_BUSY, EXIT_PARTIAL
from tests.conftest import SEED_FILE, make_settings, ruled_sections, run_cli

CANTEEN = "What does the staff canteen serve on Thursdays?"


def consistent(assistant: Assistant) -> bool:
    """Whether the store holds exactly the vectors of the catalog's chunks."""
    chunk_ids = {row[0] for row in assistant.catalog.db.execute("SELECT chunk_id FROM chunks")}
    return assistant.store.all_ids() == chunk_ids


def test_sync_follows_adds_changes_renames_and_deletes(corpus: Path, fresh_index: Path) -> None:
    assistant = Assistant(make_settings(fresh_index, sources=[corpus]))
    first = assistant.sync()
    assert first is not None
    assert (first.added, first.failed, first.folders) == (1, (), (str(corpus),))

    notes = corpus / "notes.md"
    notes.write_text("# Canteen\n\nThe staff canteen serves pierogi every Thursday.\n", "utf-8")
    added = assistant.sync()
    assert added is not None
    assert (added.added, added.unchanged) == (1, 1)
    answer = assistant.ask(CANTEEN)
    assert "pierogi" in answer.text
    assert answer.citations[0].source.endswith("notes.md")

    notes.write_text("# Canteen\n\nThe staff canteen serves borscht every Thursday.\n", "utf-8")
    changed = assistant.sync()
    assert changed is not None
    assert (changed.changed, changed.added) == (1, 0)
    assert changed.chunks_reused == 0  # its one passage changed: nothing to keep
    answer = assistant.ask(CANTEEN)
    assert "borscht" in answer.text
    assert "pierogi" not in answer.text

    old_id = doc_id_for(notes)
    old_ids = assistant.catalog.vector_ids(old_id)
    old_vectors = assistant.store.vectors(old_ids)
    notes.rename(corpus / "menu.md")
    renamed = assistant.sync()
    assert renamed is not None
    assert (renamed.renamed, renamed.added, renamed.removed, renamed.changed) == (1, 0, 0, 0)
    new_id = doc_id_for(corpus / "menu.md")
    new_ids = assistant.catalog.vector_ids(new_id)
    assert assistant.catalog.vector_ids(old_id) == []
    # Not re-embedded: the same vectors under the new document's ids, the old ids gone.
    assert sorted(i.split(":", 1)[1] for i in new_ids) == sorted(
        i.split(":", 1)[1] for i in old_ids
    )
    new_vectors = assistant.store.vectors(new_ids)
    for old in old_ids:
        new = new_id + old[len(old_id) :]
        assert np.array_equal(new_vectors[new], old_vectors[old])
    assert consistent(assistant)
    answer = assistant.ask(CANTEEN)
    assert "borscht" in answer.text
    assert answer.citations[0].source.endswith("menu.md")

    (corpus / "menu.md").unlink()
    removed = assistant.sync()
    assert removed is not None
    assert (removed.removed, removed.unchanged) == (1, 1)
    assert "borscht" not in assistant.ask(CANTEEN).text
    assert consistent(assistant)
    status = assistant.sync_status()
    assert status is not None
    assert status.state == "ok"
    assert status.last_success_at == status.last_sync_at == removed.finished_at


def test_a_rename_cut_off_before_its_commit_is_undone_then_redone(
    corpus: Path, fresh_index: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assistant = Assistant(make_settings(fresh_index, sources=[corpus]))
    assistant.sync()
    (corpus / "moved").mkdir()
    (corpus / SEED_FILE.name).rename(corpus / "moved" / SEED_FILE.name)

    def crash(*args: object) -> None:  # the process dies after the vector copy is stored
        raise SystemExit("killed")

    monkeypatch.setattr(assistant.catalog, "rename_document", crash)
    with pytest.raises(SystemExit):
        assistant.sync()
    assert assistant.catalog.pending()  # the copied vectors are journalled
    monkeypatch.undo()

    report = Assistant(make_settings(fresh_index, sources=[corpus])).sync()
    assert report is not None
    assert (report.renamed, report.added, report.removed) == (1, 0, 0)
    assert assistant.catalog.pending() == {}
    assert consistent(assistant)
    (record,) = assistant.documents()
    assert record.source.endswith(f"moved/{SEED_FILE.name}")


def test_a_rename_that_reads_differently_is_embedded_anew(corpus: Path, fresh_index: Path) -> None:
    # A .txt becoming .md is extracted as markdown: the stored text may not be reused.
    assistant = Assistant(make_settings(fresh_index, sources=[corpus]))
    (corpus / "notes.txt").write_text("# Canteen\n\nPierogi on Thursdays.\n", "utf-8")
    assistant.sync()
    (corpus / "notes.txt").rename(corpus / "notes.md")
    report = assistant.sync()
    assert report is not None
    assert (report.renamed, report.added, report.removed) == (0, 1, 1)
    assert consistent(assistant)


def test_files_that_swap_contents_are_both_reindexed(corpus: Path, fresh_index: Path) -> None:
    # Each holds what the catalog knows of the other: that is no duplicate.
    assistant = Assistant(make_settings(fresh_index, sources=[corpus]))
    first, second = corpus / "a.txt", corpus / "b.txt"
    first.write_text("Alpha team meets on Mondays in room four.\n", "utf-8")
    second.write_text("Beta team meets on Fridays in the library.\n", "utf-8")
    assistant.sync()
    text_a, text_b = first.read_text("utf-8"), second.read_text("utf-8")
    first.write_text(text_b, "utf-8")
    second.write_text(text_a, "utf-8")
    report = assistant.sync()
    assert report is not None
    assert (report.changed, report.failed) == (2, ())


def test_a_file_given_as_a_folder_is_said_to_be_one(corpus: Path, fresh_index: Path) -> None:
    assistant = Assistant(make_settings(fresh_index))
    single = next(corpus.iterdir())
    report = assistant.sync([corpus, single])
    assert report is not None
    assert [(item.source, item.error) for item in report.failed] == [
        (str(single), "not a folder; its indexed documents are kept")
    ]


def test_a_missing_folder_keeps_its_documents_and_failures_are_recorded(
    corpus: Path, tmp_path: Path, fresh_index: Path
) -> None:
    share = tmp_path / "share"
    share.mkdir()
    (share / "notes.txt").write_text("The staff canteen serves pierogi every Thursday.\n", "utf-8")
    assistant = Assistant(make_settings(fresh_index, sources=[corpus, share]))
    assert assistant.sync() is not None
    share.rename(tmp_path / "unmounted")
    (corpus / "empty.txt").write_bytes(b"")
    report = assistant.sync()
    assert report is not None
    reasons = {Path(item.source).name: item.error for item in report.failed}
    assert reasons == {
        "share": "folder not found; its indexed documents are kept",
        "empty.txt": "empty file",
    }
    assert report.removed == 0
    assert len(assistant.documents()) == 2
    status = assistant.sync_status()
    assert status is not None
    assert status.state == "partial"
    assert len(status.failed) == 2

    (tmp_path / "unmounted").rename(share)
    (corpus / "empty.txt").unlink()
    report = assistant.sync()
    assert report is not None
    assert report.failed == ()
    status = assistant.sync_status()
    assert status is not None
    assert (status.state, status.failed) == ("ok", ())


def test_a_sync_that_cannot_run_is_recorded_and_the_cli_says_busy(
    corpus: Path,
    fresh_index: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("ASSISTANT_SOURCES", str(corpus))
    monkeypatch.setenv("ASSISTANT_INGEST_LOCK_TIMEOUT", "0")
    assert main(["sync", "--index", str(fresh_index), "--json"]) == EXIT_OK
    report = json.loads(capsys.readouterr().out)
    assert report["added"] == 1
    assert report["folders"] == [str(corpus)]
    assert set(report) == {
        "folders", "added", "changed", "removed", "renamed", "unchanged", "failed", "chunks",
        "chunks_reused", "seconds",
    }  # fmt: skip
    assert report["chunks_reused"] == 0  # a first sync has no earlier version to keep
    assistant = Assistant(make_settings(fresh_index))
    succeeded = assistant.sync_status()
    assert succeeded is not None

    lock = writer_lock(fresh_index)
    with lock:
        assert main(["sync", "--index", str(fresh_index)]) == EXIT_BUSY
    assert "another ingest is writing" in capsys.readouterr().err
    status = assistant.sync_status()
    assert status is not None
    assert status.state == "failed"
    assert status.error is not None
    assert "another ingest" in status.error
    assert status.last_success_at == succeeded.last_success_at < status.last_sync_at

    (corpus / "empty.txt").write_bytes(b"")
    assert main(["sync", "--index", str(fresh_index)]) == EXIT_PARTIAL
    out = capsys.readouterr().out
    assert "failed 1" in out
    assert "empty.txt: empty file" in out


def test_healthz_tells_the_last_sync_without_paths(corpus: Path, fresh_index: Path) -> None:
    assistant = Assistant(make_settings(fresh_index, sources=[corpus]))
    client = TestClient(create_app(assistant))
    assistant.ingest([corpus])
    assert client.get("/healthz").json()["sync"] is None
    (corpus / "empty.txt").write_bytes(b"")
    assistant.sync()
    response = client.get("/healthz")
    sync = response.json()["sync"]
    assert (sync["status"], sync["failed_files"]) == ("partial", 1)
    assert sync["last_sync_at"] == sync["last_success_at"]
    assert sync["last_sync_at"].endswith("Z")
    assert str(corpus) not in response.text
    assert "empty.txt" not in response.text


def test_document_folders_are_sources_then_collection_folders(tmp_path: Path) -> None:
    docs = tmp_path / "docs"
    settings = make_settings(
        tmp_path / "index",
        sources=[docs],
        collection_folders={str(docs / "hr"): "hr", str(tmp_path / "eng"): "eng"},
    )
    assert settings.document_folders == [docs, tmp_path / "eng"]


def test_watcher_ignores_hidden_unsupported_and_its_own_files(tmp_path: Path) -> None:
    from assistant.watch import Watcher

    folder = tmp_path / "docs"
    (folder / "sub").mkdir(parents=True)
    (folder / "notes.txt").write_text("x", "utf-8")
    (folder / "notes.txt~").write_text("x", "utf-8")
    index = folder / "index"
    watcher = Watcher(Assistant(make_settings(index)), [folder])
    assert watcher.wanted(None, str(folder / "notes.txt"))
    assert watcher.wanted(None, str(folder / "sub"))
    assert watcher.wanted(None, str(folder / "gone"))  # deleted: it may have been a folder
    assert not watcher.wanted(None, str(folder / "notes.txt~"))
    assert not watcher.wanted(None, str(folder / ".git" / "x.txt"))
    assert not watcher.wanted(None, str(index / "catalog.sqlite3"))
    assert os.path.isabs(str(watcher.folders[0]))


def test_documents_tab_tells_the_last_sync_and_what_fails(corpus: Path, fresh_index: Path) -> None:
    from assistant.ui.documents import summary

    assistant = Assistant(make_settings(fresh_index, sources=[corpus]))
    counts = f"1 document, {assistant.ingest([corpus]).chunks} passages indexed"
    assert summary(assistant) == counts
    (corpus / "empty.txt").write_bytes(b"")
    assistant.sync()
    line = summary(assistant)
    assert line.startswith(f"{counts}; last sync ")
    assert line.endswith(f"; not indexed: {corpus / 'empty.txt'}")


def test_a_sync_whose_every_folder_is_missing_removes_nothing(
    corpus: Path, tmp_path: Path, fresh_index: Path
) -> None:
    assistant = Assistant(make_settings(fresh_index, sources=[corpus]))
    assistant.sync()
    corpus.rename(tmp_path / "unmounted")
    report = assistant.sync()
    assert report is not None
    assert (report.removed, len(report.failed)) == (0, 1)
    # Nor does a sync of what the watcher saw go (an unmount looks like a deletion).
    report = assistant.sync([corpus], changed=[corpus, corpus / SEED_FILE.name])
    assert report is not None
    assert (report.removed, len(report.failed)) == (0, 1)
    assert len(assistant.documents()) == 1


def test_a_changed_link_out_of_the_folder_is_not_followed(
    corpus: Path, tmp_path: Path, fresh_index: Path
) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("The vault code is 4711 and nobody may know it.\n", "utf-8")
    assistant = Assistant(make_settings(fresh_index, sources=[corpus]))
    assistant.sync()
    link = corpus / "notes.txt"
    link.symlink_to(secret)
    report = assistant.sync(changed=[link])  # as the watcher reports it
    assert report is not None
    assert [item.error for item in report.failed] == [
        f"symbolic link out of {corpus} (not followed)"
    ]
    assert [record.source for record in assistant.documents()] == [str(corpus / SEED_FILE.name)]


def test_each_sync_is_one_audit_event_of_the_system(
    corpus: Path, tmp_path: Path, fresh_index: Path
) -> None:
    assistant = Assistant(make_settings(fresh_index, sources=[corpus]))
    assert assistant.sync() is not None
    notes = corpus / "notes.md"
    notes.write_text("# Canteen\n\nThe staff canteen serves pierogi every Thursday.\n", "utf-8")
    (corpus / "empty.txt").write_bytes(b"")
    assert assistant.sync() is not None
    # Batches as the watcher sends them: a rename, then an edit.
    menu = corpus / "menu.md"
    notes.rename(menu)
    assert assistant.sync(changed=[notes, menu], command="watch") is not None
    menu.write_text("# Canteen\n\nThe staff canteen serves borscht every Thursday.\n", "utf-8")
    assert assistant.sync(changed=[menu], command="watch") is not None
    # A batch with nothing to do is no sync, and no event.
    assert assistant.sync(changed=[corpus / "never-indexed.md"], command="watch") is None
    menu.unlink()
    (corpus / "empty.txt").unlink()
    assert assistant.sync() is not None
    unmounted = tmp_path / "share"
    assert assistant.sync([corpus, unmounted]) is not None  # the missing folder fails

    events = list(assistant.audit.records(event="sync"))
    assert {(r.user, r.request_id) for r in events} == {(None, None)}  # the system's
    counts = ("added", "updated", "deleted", "renamed", "failed")
    assert [
        (r.details["command"], r.details["changed_paths"], *(r.details[c] for c in counts))
        for r in events
    ] == [
        ("sync", None, 1, 0, 0, 0, 0),
        ("sync", None, 1, 0, 0, 0, 1),
        ("watch", 2, 0, 0, 0, 1, 0),
        ("watch", 1, 0, 1, 0, 0, 0),
        ("sync", None, 0, 0, 1, 0, 0),
        ("sync", None, 0, 0, 0, 0, 1),
    ]
    assert [r.details["folders"] for r in events][-2:] == [
        [str(corpus)],
        [str(corpus), str(unmounted)],
    ]
    # A sync's ingest records no `ingest` event of its own: one event per sync.
    assert list(assistant.audit.records(event="ingest")) == []

    done = run_cli("audit", "--index", str(fresh_index), "--event", "sync", "--json")
    assert done.returncode == 0, done.stderr
    listed = [json.loads(line) for line in done.stdout.splitlines()]
    assert [(e["event"], e["added"], e["failed"]) for e in listed] == [
        ("sync", r.details["added"], r.details["failed"]) for r in events
    ]


def test_a_sync_stopped_by_an_error_is_an_audit_event_with_the_error(
    corpus: Path, fresh_index: Path
) -> None:
    assistant = Assistant(make_settings(fresh_index, sources=[corpus], ingest_lock_timeout=0.2))
    assert assistant.sync() is not None
    with FileLock(str(fresh_index / "ingest.lock")), pytest.raises(IndexBusyError) as busy:
        assistant.sync()  # another ingest holds the index
    events = list(assistant.audit.records(event="sync"))
    assert len(events) == 2
    failed = events[-1]
    assert failed.user is None
    assert failed.details == {
        "command": "sync",
        "folders": [str(corpus)],
        "changed_paths": None,
        "error": str(busy.value),
    }
    assert "another ingest" in str(busy.value)
    status = assistant.sync_status()
    assert status is not None
    assert status.error == str(busy.value)


def test_a_broken_attachment_stays_a_failure_until_its_message_changes(
    corpus: Path, fresh_index: Path
) -> None:
    from tests.formats import eml_bytes

    mail = corpus / "move.eml"
    mail.write_bytes(eml_bytes(attachments=[("notes.docx", b"PK\x03\x04 broken")]))
    assistant = Assistant(make_settings(fresh_index, sources=[corpus]))

    def failed() -> list[str]:
        status = assistant.sync_status()
        assert status is not None
        return [failure.path for failure in status.failed]

    assert assistant.sync() is not None
    assert failed() == [str(mail / "notes.docx")]
    assert assistant.sync() is not None  # the message unchanged: not read again
    assert failed() == [str(mail / "notes.docx")]
    mail.write_bytes(eml_bytes(attachments=[("notes.txt", b"Pack your desks by Thursday.")]))
    assert assistant.sync() is not None
    assert failed() == []
    assert {Path(r.path).name for r in assistant.documents()} >= {"move.eml", "notes.txt"}


def test_sync_and_ingest_say_how_many_passages_of_an_edited_file_kept_their_vectors(
    corpus: Path,
    fresh_index: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("ASSISTANT_SOURCES", str(corpus))
    rules = ruled_sections()
    page = corpus / "rules.md"
    page.write_text("# House rules\n\n" + "\n\n".join(rules) + "\n", "utf-8")
    assert main(["sync", "--index", str(fresh_index), "--json"]) == EXIT_OK
    capsys.readouterr()
    passages = Assistant(make_settings(fresh_index)).catalog.document(doc_id_for(page))
    assert passages is not None
    assert passages.chunks > 2

    rules[4] = rules[4].replace("Clause 3 of rule 4", "Clause 3 of rule 4 (revised)")
    page.write_text("# House rules\n\n" + "\n\n".join(rules) + "\n", "utf-8")
    assert main(["sync", "--index", str(fresh_index), "--json"]) == EXIT_OK
    synced = json.loads(capsys.readouterr().out)
    assert synced["changed"] == 1
    assert 0 < synced["chunks_reused"] < passages.chunks  # the revised rule's passage is new

    rules[1] = rules[1].replace("Clause 5 of rule 1", "Clause 5 of rule 1 (revised)")
    page.write_text("# House rules\n\n" + "\n\n".join(rules) + "\n", "utf-8")
    assert main(["ingest", str(corpus), "--index", str(fresh_index)]) == EXIT_OK
    printed = capsys.readouterr().out
    assert "updated 1" in printed
    assert "unchanged chunks of edited documents" in printed
