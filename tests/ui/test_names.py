"""File names shown to people: inside the configured folders, never the server's paths."""

from __future__ import annotations

import os
from pathlib import Path

from assistant import Answer, Citation, RelatedPassage
from assistant.types import IngestProgress
from assistant.ui.names import SourceNames
from assistant.ui.uploads import ingest_progress
from tests.conftest import make_settings


def test_names_are_relative_to_the_configured_folders(tmp_path: Path) -> None:
    docs = tmp_path / "srv" / "policies"
    settings = make_settings(
        tmp_path / "index", data_dir=tmp_path / "srv" / "data", sources=[docs, tmp_path / "x.md"]
    )
    names = SourceNames(settings)
    uploads = settings.uploads_dir
    assert names(str(uploads / "report.pdf")) == "uploads/report.pdf"
    assert names(str(docs / "hr" / "leave.md")) == "policies/hr/leave.md"
    assert names(str(tmp_path / "x.md")) == "x.md"  # a configured file
    assert names(str(tmp_path / "elsewhere" / "secret" / "notes.txt")) == "notes.txt"
    assert names(str(docs / ".." / "data" / "uploads" / "a.txt")) == "uploads/a.txt"
    assert names("seeds/000.txt") == "seeds/000.txt"  # relative to where some ingest ran
    uploaded = Path(os.path.relpath(uploads / "r.pdf"))  # an upload, ingested in this folder
    assert names(str(uploaded)) == "uploads/r.pdf"
    assert names("../../etc/notes.txt") == "notes.txt"
    for shown in (names(str(uploads / "r.pdf")), names(str(docs / "a.md"))):
        assert str(tmp_path) not in shown


def test_an_answer_and_its_citations_are_renamed_not_changed(tmp_path: Path) -> None:
    settings = make_settings(tmp_path / "index", data_dir=tmp_path / "data")
    source = str(settings.uploads_dir / "parking.md")
    cited = Citation(id=1, source=source, start=0, end=4, quote="Park", score=1.0)
    answer = Answer(question="q", text="Park [1].", citations=(cited,))
    shown = SourceNames(settings).answer(answer)
    assert shown.citations[0].source == "uploads/parking.md"
    assert shown.citations[0].location() == "uploads/parking.md"
    assert answer.citations[0].source == source  # the record keeps the full path
    # So are the passages it lists under "Also found", and a refusal's closest passages.
    found = RelatedPassage(source=source, start=10, end=20, text="Park there")
    for given in (answer, Answer(question="q", text="No.", refused=True)):
        listed = given.model_copy(update={"related": (found,)})
        (shown_found,) = SourceNames(settings).answer(listed).related
        assert shown_found.source == "uploads/parking.md"
        assert str(tmp_path) not in shown_found.location()
    assert found.source == source


def test_upload_progress_names_the_file_inside_uploads(tmp_path: Path) -> None:
    settings = make_settings(tmp_path / "index", data_dir=tmp_path / "data")
    said: list[tuple[tuple[int, int], str, str]] = []

    def progress(fraction: tuple[int, int], desc: str, unit: str) -> None:  # Gradio's Progress
        said.append((fraction, desc, unit))

    update = ingest_progress(progress, SourceNames(settings))  # type: ignore[arg-type]
    upload = str(settings.uploads_dir / "parking.txt")
    scan = str(settings.uploads_dir / "scan.pdf")
    update(IngestProgress(step="read", files_done=0, files_total=2, source=upload))
    update(IngestProgress(step="ocr", files_done=1, files_total=2, source=scan, page=3, pages=9))
    update(IngestProgress(step="embed", files_done=1, files_total=2, source=scan, embedded=40,
                          to_embed=160))  # fmt: skip
    update(IngestProgress(step="done", files_done=2, files_total=2))
    assert said == [
        ((0, 2), "Indexing uploads/parking.txt", "files"),
        ((1, 2), "Reading page 3 of 9 of uploads/scan.pdf (OCR)", "files"),
        ((40, 160), "Indexing uploads/scan.pdf (25 % of its text)", "texts"),  # rising in a file
        ((2, 2), "Finishing", "files"),
    ]
