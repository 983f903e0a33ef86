"""A folder full of awkward files: each bad one is skipped with its reason, the rest indexed,
and what was indexed before stays intact (the table in docs/reliability.md)."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from assistant import Assistant
from assistant.errors import LoadError
from assistant.loaders.base import decode_text
from assistant.types import IngestReport
from tests.conftest import SEEDS, make_settings
from tests.formats import epub_bytes, odt_bytes, pptx_bytes, xlsx_bytes
from tests.test_loaders import _docx, _pdf

FRENCH = "Le comité a approuvé la crème brûlée du réfectoire. Où est le café ? Très bien.\n"
JAPANESE = "社員食堂は木曜日にカレーを出します。東京本社の会議室は三階にあります。\n"
RUSSIAN = "Столовая для сотрудников работает по четвергам. Офис находится на третьем этаже.\n"
DEEP = 1500  # folders; Python 3.11's recursive os.walk died at about 1000


@dataclass(frozen=True)
class Messy:
    """The messy corpus, its index and the report of ingesting it."""

    corpus: Path
    assistant: Assistant
    report: IngestReport


def _mkdirs_deep(top: Path, levels: int) -> int:
    """A chain of `levels` nested folders below `top`; returns a descriptor of the last one."""
    descriptor = os.open(top, os.O_RDONLY)
    for _ in range(levels):
        os.mkdir("d", dir_fd=descriptor)
        inner = os.open("d", os.O_RDONLY, dir_fd=descriptor)
        os.close(descriptor)
        descriptor = inner
    return descriptor


def _remove_deep(top: Path) -> None:
    """Remove the chain of folders below `top` one level at a time: pytest's own clean-up of
    old temporary folders (shutil.rmtree) recurses and would fail on it in later sessions."""
    while (top / "d").is_dir():
        inner = top / "d" / "d"
        if inner.is_dir():
            os.rename(inner, top / "d-inner")
        shutil.rmtree(top / "d")
        if not (top / "d-inner").is_dir():
            return
        os.rename(top / "d-inner", top / "d")


def _write_at(descriptor: int, name: str, data: bytes) -> None:
    handle = os.open(name, os.O_WRONLY | os.O_CREAT, 0o644, dir_fd=descriptor)
    os.write(handle, data)
    os.close(handle)
    os.close(descriptor)


@pytest.fixture(scope="module")
def messy(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Messy]:
    """seeds/ indexed, then a folder of awkward files ingested on top (max_file_mb=0.2)."""
    root = tmp_path_factory.mktemp("messy")
    corpus = root / "corpus"
    shutil.copytree(SEEDS, corpus)
    (corpus / "kept.md").write_text("# Kept\n\nThe kept note mentions zebras.\n", "utf-8")
    assistant = Assistant(make_settings(root / "index", max_file_mb=0.2))
    assistant.ingest([corpus])

    files = {
        # decoded
        "enc/latin1.txt": FRENCH.encode("latin-1"),
        "enc/cp1252.md": ("“Quoted” – " + FRENCH).encode("cp1252"),
        "enc/short-latin1.txt": "Café crème.".encode("latin-1"),
        "enc/utf16-bom.txt": FRENCH.encode("utf-16"),
        "enc/utf16-no-bom.txt": FRENCH.encode("utf-16-le"),
        "enc/utf8-bom.md": FRENCH.encode("utf-8-sig"),
        "enc/shift-jis.txt": (JAPANESE * 2).encode("shift_jis"),
        # refused
        "bad/empty.txt": b"",
        "bad/blank.md": b"  \n\t\n",
        "bad/image.md": b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)) * 4,
        "bad/koi8.txt": RUSSIAN.encode("koi8-r"),
        "bad/corrupt.pdf": b"%PDF-1.7\n" + bytes(range(256)) * 8,
        "bad/truncated.pdf": (pdf := _pdf(["Truncated PDF text. " * 40]))[: len(pdf) // 2],
        "bad/encrypted.pdf": _pdf(["Secret salaries."], password="hunter2"),
        "bad/huge.txt": b"Many words here. " * 15_000,  # 255 kB > 0.2 MB
        "bad/truncated.xlsx": (xlsx := xlsx_bytes())[: len(xlsx) // 2],
        "bad/docx-renamed.xlsx": _docx(),
        "bad/truncated.pptx": (deck := pptx_bytes())[: len(deck) // 2],
        "bad/binary.csv": bytes(range(256)) * 4,
        "bad/truncated.odt": (odt := odt_bytes())[: len(odt) // 2],
        "bad/pdf-renamed.rtf": b"%PDF-1.7\n" + bytes(range(256)) * 2,
        "bad/truncated.epub": (book := epub_bytes())[: len(book) // 2],
        "bad/image.eml": b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)) * 4,
        "dup/copy-of-seed.txt": next(SEEDS.iterdir()).read_bytes(),
    }
    for name, data in files.items():
        (corpus / name).parent.mkdir(parents=True, exist_ok=True)
        (corpus / name).write_bytes(data)
    outside = root / "outside"
    outside.mkdir()
    (outside / "secret.txt").write_text("The root password is swordfish.", "utf-8")
    (corpus / "links").mkdir()
    os.symlink(outside / "secret.txt", corpus / "links" / "notes.txt")
    os.symlink(outside, corpus / "links" / "elsewhere")
    os.symlink(corpus / "kept.md", corpus / "links" / "alias.md")  # inside: the same file
    os.symlink(corpus, corpus / "links" / "loop")
    _write_at(_mkdirs_deep(corpus, DEEP), "deep.txt", b"The deepest file mentions walruses.\n")
    (corpus / "kept.md").write_bytes(b"\x00\x01\x02 now a broken file \xff\xfe" * 20)
    try:
        report = assistant.ingest([corpus])
        yield Messy(corpus, assistant, report)
    finally:
        _remove_deep(corpus)


def _reasons(messy: Messy) -> dict[str, str]:
    return {
        Path(item.source).relative_to(messy.corpus).as_posix(): item.error
        for item in messy.report.failed
    }


@pytest.mark.parametrize(
    ("name", "reason"),
    [
        ("bad/empty.txt", "empty file"),
        ("bad/blank.md", "empty file"),
        ("bad/image.md", "binary content"),
        ("bad/koi8.txt", "cannot tell the text encoding"),
        ("bad/corrupt.pdf", "corrupt or unreadable PDF"),
        ("bad/truncated.pdf", "corrupt or unreadable PDF"),
        ("bad/encrypted.pdf", "encrypted PDF (password required)"),
        ("bad/huge.txt", "file too large (0.3 MB, limit 0.2 MB)"),
        ("bad/truncated.xlsx", "not a valid .xlsx file (not a ZIP package)"),
        ("bad/docx-renamed.xlsx", "cannot parse xlsx file: OSError: File contains no valid"),
        ("bad/truncated.pptx", "not a valid .pptx file (not a ZIP package)"),
        ("bad/binary.csv", "binary content"),
        ("bad/truncated.odt", "not a valid .odt file (not a ZIP package)"),
        ("bad/pdf-renamed.rtf", "not a valid .rtf file (no RTF header)"),
        ("bad/truncated.epub", "not a valid .epub file (not a ZIP package)"),
        ("bad/image.eml", "not an e-mail message"),
        ("dup/copy-of-seed.txt", "duplicate of {corpus}/000_4f69a52559980107.txt"),
        ("links/notes.txt", "symbolic link out of {corpus} (not followed)"),
        ("links/elsewhere", "symbolic link out of {corpus} (not followed)"),
        ("kept.md", "the previously indexed version is kept"),
    ],
)
def test_bad_file_is_skipped_with_its_reason(messy: Messy, name: str, reason: str) -> None:
    assert reason.format(corpus=messy.corpus) in _reasons(messy)[name]


def test_nothing_else_failed_and_the_rest_is_indexed(messy: Messy) -> None:
    assistant, report = messy.assistant, messy.report
    assert len(report.failed) == 20, _reasons(messy)
    assert (report.added, report.unchanged, report.deleted) == (8, 1, 0)
    relative = {
        r.source: Path(r.source).relative_to(messy.corpus).as_posix() for r in assistant.documents()
    }
    sources = set(relative.values())
    assert {f"enc/{name}" for name in ("latin1.txt", "shift-jis.txt")} <= sources
    assert not any(source.startswith("links/") for source in sources)
    texts = {
        relative[record.source]: assistant.catalog.document_structure(record.doc_id)[0]
        for record in assistant.documents()
    }
    for name in ("latin1.txt", "utf16-bom.txt", "utf16-no-bom.txt", "utf8-bom.md"):
        assert texts[f"enc/{name}"] == FRENCH, name
    assert texts["enc/cp1252.md"].startswith("“Quoted” – Le comité")
    assert texts["enc/short-latin1.txt"] == "Café crème."
    assert texts["enc/shift-jis.txt"] == JAPANESE * 2
    deep = [source for source in sources if source.endswith("deep.txt")]
    assert len(deep) == 1
    assert deep[0].count("/d") == DEEP


def test_existing_index_is_untouched(messy: Messy) -> None:
    assistant = messy.assistant
    kept = assistant.retrieve("Which animal does the kept note mention?", k=3).passages
    assert "zebras" in kept[0].text  # the broken new version did not replace it
    answer = assistant.ask("Which companies had to halt their stablecoin plans?")
    assert not answer.refused
    assert assistant.store.count() == assistant.catalog.chunk_count()


def test_a_folder_too_deep_for_the_system_is_reported(tmp_path: Path, fresh_index: Path) -> None:
    (tmp_path / "corpus").mkdir()
    (tmp_path / "corpus" / "top.txt").write_text("The top file mentions otters.", "utf-8")
    # 2100 nested "d" folders: paths longer than PATH_MAX (4096) cannot be opened at all.
    _write_at(_mkdirs_deep(tmp_path / "corpus", 2100), "lost.txt", b"Never reached.\n")
    try:
        report = Assistant(make_settings(fresh_index)).ingest([tmp_path / "corpus"])
    finally:
        _remove_deep(tmp_path / "corpus")
    assert report.added == 1
    assert [item.error for item in report.failed] == ["cannot read folder: File name too long"]


@pytest.mark.parametrize(
    "data",
    [
        "Café.".encode("latin-1"),
        FRENCH.encode("cp1252"),
        (JAPANESE * 2).encode("shift_jis"),
        (JAPANESE * 2).encode("euc_jp"),
        RUSSIAN.encode("cp1251"),
        RUSSIAN.encode("koi8-r"),
        "员工食堂每周四供应饺子。北京办公室位于三楼。".encode("gb18030"),
    ],
)
def test_legacy_encodings_decode_exactly_or_are_refused(data: bytes) -> None:
    """Never garbled text in the index: the right decoding, or a LoadError saying why."""
    originals = [
        "Café.",
        FRENCH,
        JAPANESE * 2,
        RUSSIAN,
        "员工食堂每周四供应饺子。北京办公室位于三楼。",
    ]
    if data == RUSSIAN.encode("koi8-r"):  # no detector tells KOI8-R from Shift-JIS here
        with pytest.raises(LoadError, match="save the file as UTF-8"):
            decode_text(data)
    else:
        assert decode_text(data) in originals
