"""OCR with Debian's Tesseract: scanned PDFs, mixed PDFs and images become searchable text."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from PIL import Image, ImageDraw, ImageFont
from pydantic import ValidationError

from assistant.core import Assistant
from assistant.errors import LoadError
from assistant.loaders import document_from_bytes
from assistant.loaders.ocr import NeedsOcrError, Ocr
from tests.conftest import make_settings

TRAVEL = [
    "Travel Policy",
    "",
    "Employees may book economy class for flights",
    "under six hours. Hotel costs are refunded up to",
    "140 euros per night in major cities.",
]
CLAIMS = ["Expense Claims", "", "Claims must be filed within thirty days of travel."]


def scanned_page(lines: list[str]) -> Image.Image:
    """A page as a scanner would deliver it: an image of text, no text layer."""
    page = Image.new("RGB", (1700, 2200), "white")
    draw = ImageDraw.Draw(page)
    font = ImageFont.load_default(size=36)
    for row, line in enumerate(lines):
        draw.text((150, 150 + 60 * row), line, fill="black", font=font)
    return page


def scanned_pdf(*pages: list[str]) -> bytes:
    images = [scanned_page(lines) for lines in pages]
    buffer = io.BytesIO()
    images[0].save(buffer, "PDF", resolution=200, save_all=True, append_images=images[1:])
    return buffer.getvalue()


def mixed_pdf() -> bytes:
    """Page 1 has a text layer, page 2 is only the image of a scanned page."""
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.utils import ImageReader
    from reportlab.pdfgen import canvas

    buffer = io.BytesIO()
    pdf = canvas.Canvas(buffer, pagesize=A4)
    pdf.drawString(72, 770, "Reference QX-7731/b: the fire exits are checked every Monday.")
    pdf.showPage()
    width, height = A4
    pdf.drawImage(ImageReader(scanned_page(CLAIMS)), 0, 0, width, height)
    pdf.showPage()
    pdf.save()
    return buffer.getvalue()


def test_a_scanned_pdf_is_read_page_by_page() -> None:
    document = document_from_bytes(scanned_pdf(TRAVEL, CLAIMS), ".pdf", "scan.pdf", "scan", Ocr())
    assert "Hotel costs are refunded up to 140 euros per night" in document.text
    assert "Claims must be filed within thirty days" in document.text
    assert len(document.page_starts) == 2
    second = document.text[document.page_starts[1] :]
    assert second.startswith("Expense Claims")
    assert "Hotel" not in second


def test_a_mixed_pdf_keeps_its_text_layer_and_reads_only_the_scan() -> None:
    document = document_from_bytes(mixed_pdf(), ".pdf", "mixed.pdf", "mixed", Ocr())
    first = document.text[: document.page_starts[1]]
    # The exact characters of the text layer (OCR would not promise "QX-7731/b").
    assert "Reference QX-7731/b: the fire exits are checked every Monday." in first
    assert "thirty days of travel" in document.text[document.page_starts[1] :]


def test_images_and_multi_page_tiffs_are_read() -> None:
    buffer = io.BytesIO()
    scanned_page(TRAVEL).save(buffer, "PNG")
    png = document_from_bytes(buffer.getvalue(), ".png", "travel.png", "travel", Ocr())
    assert "economy class" in png.text
    buffer = io.BytesIO()
    frames = [scanned_page(TRAVEL), scanned_page(CLAIMS)]
    frames[0].save(buffer, "TIFF", save_all=True, append_images=frames[1:])
    tiff = document_from_bytes(buffer.getvalue(), ".tiff", "both.tiff", "both", Ocr())
    assert len(tiff.page_starts) == 2
    assert tiff.text[tiff.page_starts[1] :].startswith("Expense Claims")


def test_without_ocr_a_scan_is_refused_with_its_reason() -> None:
    with pytest.raises(NeedsOcrError, match="needs OCR, which is switched off"):
        document_from_bytes(scanned_pdf(TRAVEL), ".pdf", "scan.pdf", "scan", None)
    buffer = io.BytesIO()
    scanned_page(TRAVEL).save(buffer, "PNG")
    with pytest.raises(NeedsOcrError, match="needs OCR, which is switched off"):
        document_from_bytes(buffer.getvalue(), ".png", "travel.png", "travel", None)
    with pytest.raises(LoadError, match="corrupt or unreadable image"):
        document_from_bytes(b"\x89PNG not really", ".png", "bad.png", "bad", Ocr())


def test_recognised_text_is_cached_by_page(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    ocr = Ocr("eng", tmp_path / "cache")
    page = scanned_page(CLAIMS)
    first = ocr.read(page)
    assert len(list((tmp_path / "cache").iterdir())) == 1
    monkeypatch.setenv("PATH", str(tmp_path))  # no tesseract on PATH any more
    assert ocr.read(page) == first
    with pytest.raises(LoadError, match="Tesseract is not installed"):
        ocr.read(scanned_page(TRAVEL))


def test_languages_are_checked() -> None:
    with pytest.raises(ValueError, match="bad OCR languages"):
        Ocr("eng; rm -rf /")
    with pytest.raises(ValidationError):
        make_settings(Path("index"), ocr_languages="eng+")
    with pytest.raises(LoadError, match="OCR failed"):
        Ocr("zzz").read(scanned_page(CLAIMS))  # no such language data installed


def test_scans_are_answered_with_their_page(tmp_path: Path) -> None:
    folder = tmp_path / "docs"
    folder.mkdir()
    (folder / "policy-scan.pdf").write_bytes(scanned_pdf(TRAVEL, CLAIMS))
    assistant = Assistant(make_settings(tmp_path / "index"))
    report = assistant.ingest([folder])
    assert (report.added, report.failed) == (1, ())
    answer = assistant.ask("Within how many days must expense claims be filed?")
    assert not answer.refused
    assert "thirty days" in answer.text
    citation = answer.citations[0]
    assert citation.page == 2
    assert citation.doc_id is not None
    text, _, _ = assistant.catalog.document_structure(citation.doc_id)
    assert text[citation.start : citation.end] == citation.quote
    off = Assistant(make_settings(tmp_path / "index-off", ocr=False)).ingest([folder])
    assert off.added == 0
    assert "needs OCR, which is switched off" in off.failed[0].error


def test_an_uploaded_scan_is_accepted_without_running_ocr_twice(tmp_path: Path) -> None:
    from assistant.ui.uploads import check_upload

    scan = tmp_path / "scan.pdf"
    scan.write_bytes(scanned_pdf(CLAIMS))
    check_upload(scan, make_settings(tmp_path / "index"))  # OCR waits for the ingest
    assert not (tmp_path / "index" / "ocr-cache").exists()
    with pytest.raises(NeedsOcrError, match="switched off"):
        check_upload(scan, make_settings(tmp_path / "index", ocr=False))


def png_size(data: bytes | None) -> tuple[int, int]:
    """The pixel size of a PNG (it must be one)."""
    assert data is not None
    assert data.startswith(b"\x89PNG")
    size: tuple[int, int] = Image.open(io.BytesIO(data)).size
    return size


def test_only_scanned_pages_have_a_picture() -> None:
    from assistant.pageimage import PAGE_IMAGE_DPI, scanned_page_png

    mixed = mixed_pdf()
    assert scanned_page_png(mixed, ".pdf", 1) is None  # its text layer is the page's own text
    width, height = png_size(scanned_page_png(mixed, ".pdf", 2))
    expected = (595.27 * PAGE_IMAGE_DPI / 72, 841.89 * PAGE_IMAGE_DPI / 72)  # A4 in points
    assert abs(width - expected[0]) <= 1
    assert abs(height - expected[1]) <= 1
    for page in (0, 3):
        assert scanned_page_png(mixed, ".pdf", page) is None
    buffer = io.BytesIO()
    frames = [scanned_page(TRAVEL), scanned_page(CLAIMS)]
    frames[0].save(buffer, "TIFF", save_all=True, append_images=frames[1:])
    assert png_size(scanned_page_png(buffer.getvalue(), ".tiff", 2)) == (
        1236,
        1600,
    )  # 1700x2200 shrunk
    assert scanned_page_png(buffer.getvalue(), ".tiff", 3) is None
    assert scanned_page_png(b"%PDF-1.4 broken", ".pdf", 1) is None
    assert scanned_page_png(mixed, ".docx", 1) is None


def test_the_page_picture_is_of_the_indexed_file_and_for_its_readers_only(tmp_path: Path) -> None:
    from assistant.account_types import User

    folder = tmp_path / "docs"
    folder.mkdir()
    scan = folder / "policy-scan.pdf"
    scan.write_bytes(scanned_pdf(TRAVEL, CLAIMS))
    (folder / "mixed.pdf").write_bytes(mixed_pdf())
    assistant = Assistant(make_settings(tmp_path / "index"))
    assistant.ingest([folder])
    ids = {Path(r.source).name: r.doc_id for r in assistant.documents()}
    assert png_size(assistant.page_image(ids["policy-scan.pdf"], 2))[0] > 0
    assert assistant.page_image(ids["mixed.pdf"], 1) is None  # a text page
    assert png_size(assistant.page_image(ids["mixed.pdf"], 2))[0] > 0
    assistant.accounts.add_user("alice", "alice-password", ["staff"])  # no grant: reads nothing
    alice = User("alice", "member", ("staff",))
    assert assistant.page_image(ids["policy-scan.pdf"], 1, alice) is None
    assistant.accounts.grant("default", group="staff")
    assert assistant.page_image(ids["policy-scan.pdf"], 1, alice) is not None
    assert assistant.page_image("no-such-document", 1) is None
    # Changed on disk since it was indexed: its pages are no longer the ones cited.
    scan.write_bytes(scanned_pdf(CLAIMS, TRAVEL))
    # (drawn before the change, from the indexed bytes: still the cited page)
    assert assistant.page_image(ids["policy-scan.pdf"], 2) is not None
    fresh = Assistant(make_settings(tmp_path / "index"))
    assert fresh.page_image(ids["policy-scan.pdf"], 2) is None
    scan.unlink()
    assert fresh.page_image(ids["policy-scan.pdf"], 1) is None


def test_an_ingest_tells_each_page_ocr_reads(tmp_path: Path) -> None:
    from assistant.types import IngestProgress

    folder = tmp_path / "docs"
    folder.mkdir()
    (folder / "a-scan.pdf").write_bytes(scanned_pdf(TRAVEL, CLAIMS))
    (folder / "b-note.md").write_text("# Note\n\nThe canteen opens at noon.\n", "utf-8")
    events: list[IngestProgress] = []
    report = Assistant(make_settings(tmp_path / "index")).ingest(
        [folder], on_progress=events.append
    )
    embeds = [e for e in events if e.step == "embed"]
    told = [(e.step, Path(e.source).name, e.page, e.pages, e.files_done) for e in events]
    told = [step for step in told if step[0] != "embed"]
    assert told == [
        ("read", "a-scan.pdf", None, None, 0),
        ("ocr", "a-scan.pdf", 1, 2, 0),
        ("ocr", "a-scan.pdf", 2, 2, 0),
        ("read", "b-note.md", None, None, 1),
        ("write", "b-note.md", None, None, 1),
        ("done", "", None, None, 2),
    ]
    assert events[-2].chunks_written == report.chunks
    # The batch's passages and sentences, embedded batch by batch, before it is written.
    assert embeds
    assert [e.embedded for e in embeds] == sorted(e.embedded for e in embeds)
    assert embeds[-1].embedded == embeds[-1].to_embed > report.chunks
    assert events.index(embeds[0]) > [e.step for e in events].index("ocr")
    assert all(e.files_total == 2 for e in events)
    assert events[0].eta_s is None
    assert events[3].eta_s is not None
