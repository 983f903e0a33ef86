"""The Documents tab's logic: checking, saving and indexing uploads, re-index targets."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from assistant import Assistant
from assistant.errors import IndexBusyError
from assistant.types import IngestProgress, IngestReport
from assistant.ui.doctable import (
    DocumentRow,
    delete_question,
    document_rows,
    select_rows,
    table_html,
)
from assistant.ui.documents import error_html, report_html, summary
from assistant.ui.names import SourceNames
from assistant.ui.uploads import (
    allowed_suffixes,
    ingest_uploads,
    reindex_targets,
    safe_filename,
    save_uploads,
)
from assistant.ui.viewer import render_document
from tests.conftest import copy_index, make_settings, ruled_sections


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("notes.md", "notes.md"),
        ("../../etc/passwd.txt", "passwd.txt"),
        ("C:\\Users\\me\\Report FINAL.PDF", "Report FINAL.pdf"),
        (".hidden.txt", "hidden.txt"),
        ("a<b>|c?.txt", "a_b_c_.txt"),
        ("....txt", "upload.txt"),
        ("x" * 300 + ".md", "x" * 120 + ".md"),
    ],
)
def test_safe_filename(given: str, expected: str) -> None:
    assert safe_filename(given) == expected


def test_allowed_suffixes_are_the_loaders() -> None:
    assert {".md", ".txt", ".pdf", ".docx", ".html"} <= set(allowed_suffixes())
    assert {".pptx", ".xlsx", ".csv", ".tsv", ".eml"} <= set(allowed_suffixes())
    assert ".exe" not in allowed_suffixes()


@pytest.fixture
def incoming(tmp_path: Path) -> Path:
    folder = tmp_path / "incoming"
    folder.mkdir()
    (folder / "policy.md").write_text("# Leave policy\n\nStaff get 28 days of annual leave.\n")
    (folder / "tool.exe").write_bytes(b"MZ\x00\x01")
    (folder / "empty.txt").write_text("")
    (folder / "broken.pdf").write_bytes(b"%PDF-1.7 this is not really a pdf")
    (folder / "big.txt").write_text("word " * 300_000)  # 1.5 MB
    return folder


def test_bad_uploads_are_refused_with_reasons(tmp_path: Path, incoming: Path) -> None:
    settings = make_settings(tmp_path / "index", data_dir=tmp_path / "data", max_upload_mb=1)
    files = sorted(incoming.iterdir())
    saved, rejected = save_uploads(files, settings)
    assert [path.name for path in saved] == ["policy.md"]
    assert saved[0].parent == settings.uploads_dir
    assert saved[0].read_text() == (incoming / "policy.md").read_text()
    reasons = {item.source: item.error for item in rejected}
    assert "unsupported file type '.exe'" in reasons["tool.exe"]
    assert ".md" in reasons["tool.exe"]  # says what is allowed
    assert reasons["empty.txt"] == "empty file"
    assert "corrupt or unreadable PDF" in reasons["broken.pdf"]
    assert "too large (1.5 MB; the limit is 1 MB)" in reasons["big.txt"]
    assert sorted(p.name for p in settings.uploads_dir.iterdir()) == ["policy.md"]
    html = report_html(None, SourceNames(settings), rejected)
    assert "4 files were not indexed" in html
    assert "tool.exe" in html
    # A run that changed nothing beside its problems says only those, not "Added 0, ...".
    unchanged = IngestReport(unchanged=3, failed=(rejected[0],), chunks=7)
    alone = report_html(unchanged, SourceNames(settings))
    assert "1 file was not indexed" in alone
    assert "Added 0" not in alone
    added = report_html(IngestReport(added=1, failed=(rejected[0],)), SourceNames(settings))
    assert "Added 1, updated 0" in added
    assert "Added 0, updated 0, unchanged 3" in report_html(
        IngestReport(unchanged=3), SourceNames(settings)
    )  # nothing to say but that nothing changed


def test_upload_is_indexed_and_listed(tmp_path: Path, incoming: Path, seed_index: Path) -> None:
    index = tmp_path / "index"
    copy_index(seed_index, index)
    assistant = Assistant(make_settings(index, data_dir=tmp_path / "data"))
    progress: list[IngestProgress] = []
    report, rejected = ingest_uploads(assistant, [incoming / "policy.md"], progress.append)
    assert not rejected
    assert report is not None
    assert report.added == 1
    assert not report.failed
    assert (progress[-1].step, progress[-1].files_done, progress[-1].files_total) == ("done", 1, 1)
    assert progress[0].source.endswith("policy.md")
    titles = [row.title for row in document_rows(assistant)]
    assert titles[0] == "Leave policy"  # newest first
    assert summary(assistant).startswith("2 documents")
    answer = assistant.ask("How many days of annual leave do staff get?")
    assert not answer.refused
    assert answer.citations[0].source.endswith("uploads/policy.md")

    # The same content under a new name is a duplicate: refused, and not left behind.
    twin = tmp_path / "twin.md"
    shutil.copy(incoming / "policy.md", twin)
    report, _ = ingest_uploads(assistant, [twin])
    assert report is not None
    assert [f.error for f in report.failed] == ["duplicate of " + saved_source(assistant)]
    assert not (assistant.settings.uploads_dir / "twin.md").exists()
    assert (assistant.settings.uploads_dir / "policy.md").exists()

    # An upload with an earlier upload's name is a new version of that document.
    newer = tmp_path / "v2" / "policy.md"
    newer.parent.mkdir()
    newer.write_text("# Leave policy\n\nStaff get 30 days of annual leave from 2027.\n")
    report, _ = ingest_uploads(assistant, [newer])
    assert report is not None
    assert (report.added, report.updated) == (0, 1)
    assert "30 days" in assistant.ask("How many days of annual leave do staff get?").text

    # A long document edited in one place keeps the vectors of what did not change, and the
    # status says so.
    sections = ruled_sections()
    newer.write_text("# Leave policy\n\n" + "\n\n".join(sections) + "\n")
    ingest_uploads(assistant, [newer])
    sections[4] = sections[4].replace("Clause 3 of rule 4", "Clause 3 of rule 4 (revised)")
    newer.write_text("# Leave policy\n\n" + "\n\n".join(sections) + "\n")
    report, _ = ingest_uploads(assistant, [newer])
    assert report is not None
    assert report.updated == 1
    policy = next(r for r in assistant.documents() if r.title == "Leave policy")
    assert 0 < report.chunks_reused < policy.chunks
    html = report_html(report, SourceNames(assistant.settings))
    assert f"{report.chunks_reused} unchanged passages of updated files kept" in html

    targets = reindex_targets(assistant.settings)
    assert targets == [*assistant.settings.sources, assistant.settings.uploads_dir]


def test_uploads_whose_names_meet_keep_every_file(
    tmp_path: Path, incoming: Path, seed_index: Path
) -> None:
    """Two names made the same by `safe_filename`, in one batch or one after the other, are
    two documents; a new version the index refuses (a duplicate) leaves the earlier file."""
    index = tmp_path / "index"
    copy_index(seed_index, index)
    assistant = Assistant(make_settings(index, data_dir=tmp_path / "data"))
    uploads = assistant.settings.uploads_dir
    sent = tmp_path / "sent"
    for folder, text in (
        ("1", "Alpha: the lab opens at seven."),
        ("2", "Beta: it closes at nine."),
    ):
        (sent / folder).mkdir(parents=True)
        (sent / folder / ("a?b.txt" if folder == "1" else "a*b.txt")).write_text(text)
    report, _ = ingest_uploads(assistant, [sent / "1" / "a?b.txt", sent / "2" / "a*b.txt"])
    assert report is not None
    assert report.added == 2
    assert {p.name: p.read_text() for p in uploads.iterdir()} == {
        "a_b.txt": "Alpha: the lab opens at seven.",
        "a_b (2).txt": "Beta: it closes at nine.",
    }
    (sent / "3").mkdir()
    (sent / "3" / "a:b.txt").write_text("Gamma: the lab is shut on Sundays.")
    report, _ = ingest_uploads(assistant, [sent / "3" / "a:b.txt"])
    assert report is not None
    assert (report.added, report.updated) == (1, 0)
    assert (uploads / "a_b (3).txt").read_text() == "Gamma: the lab is shut on Sundays."

    # Exactly an earlier upload's name, with another upload's text: the index keeps the
    # earlier version (a duplicate), and so does the folder.
    (sent / "4").mkdir()
    (sent / "4" / "a_b.txt").write_text("Beta: it closes at nine.")
    report, _ = ingest_uploads(assistant, [sent / "4" / "a_b.txt"])
    assert report is not None
    assert [f.error.split(" of ")[0] for f in report.failed] == ["duplicate"]
    assert (uploads / "a_b.txt").read_text() == "Alpha: the lab opens at seven."
    assert sorted(p.name for p in uploads.iterdir()) == ["a_b (2).txt", "a_b (3).txt", "a_b.txt"]


def saved_source(assistant: Assistant) -> str:
    return next(r.source for r in assistant.documents() if r.title == "Leave policy")


def row(title: str, file: str, size: int, chunks: int, when: float) -> DocumentRow:
    return DocumentRow("ab" * 10, title, file, file.rpartition(".")[2], chunks, size, when)


ROWS = [
    row("Leave policy", "handbook/hr/leave.md", 2_000, 3, 30.0),
    row("Printing", "handbook/it/printing.pdf", 900_000, 40, 10.0),
    row("leave FAQ", "uploads/faq.txt", 50, 1, 20.0),
]


def test_rows_are_searched_by_every_word_and_sorted() -> None:
    def titles(query: str = "", sort: str = "Newest first") -> list[str]:
        return [r.title for r in select_rows(ROWS, query, sort)]

    assert titles() == ["Leave policy", "leave FAQ", "Printing"]
    assert titles("LEAVE") == ["Leave policy", "leave FAQ"]  # title, any case
    assert titles("leave handbook") == ["Leave policy"]  # every word; the file counts
    assert titles("pdf") == ["Printing"]  # the type
    assert titles("nothing here") == []
    assert titles(sort="Oldest first") == ["Printing", "leave FAQ", "Leave policy"]
    assert titles(sort="Title (A-Z)") == ["leave FAQ", "Leave policy", "Printing"]
    assert titles(sort="File (A-Z)") == ["Leave policy", "Printing", "leave FAQ"]
    assert titles(sort="Largest first") == ["Printing", "Leave policy", "leave FAQ"]
    assert titles(sort="Most passages") == ["Printing", "Leave policy", "leave FAQ"]
    assert titles(sort="<bogus>") == titles()  # a made-up order is the default one


def test_the_table_escapes_names_and_offers_delete_to_admins_only() -> None:
    markup = [row("<img src=x onerror=alert(1)>", "uploads/a&b.txt", 10, 1, 1.0)]
    html = table_html(markup, 3, may_delete=False)
    assert "<img" not in html
    assert "&lt;img src=x onerror=alert(1)&gt;" in html
    assert "uploads/a&amp;b.txt" in html
    assert 'data-action="preview"' in html
    assert 'data-action="delete"' not in html
    assert 'data-action="delete"' in table_html(markup, 3, may_delete=True)
    assert "1 of 3 documents matches “x y”" in table_html(markup, 3, " x   y ")
    nothing = table_html([], 3, "<b>")
    assert "No document matches “&lt;b&gt;”" in nothing
    assert "No documents are indexed yet" in table_html([], 0)


def test_deleting_an_upload_removes_its_file_and_its_answers(
    tmp_path: Path, incoming: Path, seed_index: Path
) -> None:
    index = tmp_path / "index"
    copy_index(seed_index, index)
    settings = make_settings(index, data_dir=tmp_path / "data", sources=[str(tmp_path / "none")])
    assistant = Assistant(settings)
    ingest_uploads(assistant, [incoming / "policy.md"])
    records = {r.title: r for r in assistant.documents()}
    upload = records.pop("Leave policy")
    seed = next(iter(records.values()))
    assert "The uploaded file is deleted too" in delete_question(upload, settings)
    folder_question = delete_question(seed, settings)
    assert "stays in the document folder" in folder_question
    assert str(tmp_path) not in folder_question + delete_question(upload, settings)

    preview = render_document(assistant.document_text(upload.doc_id), SourceNames(settings))
    assert "Staff get 28 days of annual leave." in preview
    assert "uploads/policy.md (md)" in preview
    assert "<mark" not in preview  # a preview highlights nothing

    assert assistant.delete_document(upload.doc_id) == upload
    assert not (settings.uploads_dir / "policy.md").exists()
    assert "28 days" not in assistant.ask("How many days of annual leave do staff get?").text
    assistant.ingest(reindex_targets(settings))  # a re-index does not bring it back
    assert "Leave policy" not in {r.title for r in assistant.documents()}
    gone = render_document(assistant.document_text(upload.doc_id), SourceNames(settings))
    assert "no longer in the index" in gone


def test_an_uploaded_message_lists_its_attachment_and_takes_it_along(
    tmp_path: Path, seed_index: Path
) -> None:
    from tests.formats import PARKING_ROWS, csv_bytes, eml_bytes

    index = tmp_path / "index"
    copy_index(seed_index, index)
    settings = make_settings(index, data_dir=tmp_path / "data", sources=[str(tmp_path / "none")])
    assistant = Assistant(settings)
    mail = tmp_path / "move.eml"
    mail.write_bytes(eml_bytes(attachments=[("parking.csv", csv_bytes(PARKING_ROWS))]))
    report, rejected = ingest_uploads(assistant, [mail])
    assert report is not None
    assert (report.added, report.failed, rejected) == (2, (), [])
    files = {row.file: row for row in document_rows(assistant)}
    assert {"uploads/move.eml", "uploads/move.eml/parking.csv"} <= set(files)
    records = {Path(r.path).name: r for r in assistant.documents()}
    message, attachment = records["move.eml"], records["parking.csv"]
    assert attachment.collection == message.collection
    asked = delete_question(attachment, settings)
    assert "It is an attachment of move.eml" in asked
    assert "The uploaded file is deleted too" not in asked
    asked = delete_question(message, settings)
    assert "Its attachments, if it has any, are deleted with it." in asked
    assert "The uploaded file is deleted too." in asked

    assert assistant.delete_document(message.doc_id) == message
    assert not (settings.uploads_dir / "move.eml").exists()
    assert {"move.eml", "parking.csv"}.isdisjoint(Path(r.path).name for r in assistant.documents())


def test_a_busy_index_is_said_without_its_place_on_the_server(tmp_path: Path) -> None:
    html = error_html(IndexBusyError(f"another ingest is writing to {tmp_path}; try again"))
    assert "Another ingest is updating the index" in html
    assert str(tmp_path) not in html


def test_sortable_headings_say_the_order_and_offer_the_next_one() -> None:
    markup = [row("Printing", "printing.md", 10, 1, 1.0)]
    heading = re.compile(r'aria-sort="(\w+)"><button [^>]*data-sort="([^"]+)"[^>]*>([^<]+)<')

    def headings(sort: str) -> list[tuple[str, str, str]]:
        return heading.findall(table_html(markup, 1, sort=sort))

    assert headings("Oldest first") == [
        ("none", "Title (A-Z)", "Title"),
        ("none", "File (A-Z)", "File"),
        ("none", "Most passages", "Passages"),
        ("none", "Largest first", "Size"),
        ("ascending", "Newest first", "Last indexed"),  # clicked again: turned round
    ]
    assert headings("Newest first")[-1] == ("descending", "Oldest first", "Last indexed")
    assert headings("Title (A-Z)")[0] == ("ascending", "Title (A-Z)", "Title")
    assert '<th scope="col">Type</th>' in table_html(markup, 1)  # not sortable
