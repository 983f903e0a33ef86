"""Uploads and re-indexing, behind the Documents tab: checking and saving uploaded files,
indexing them, what a re-index reads, and an ingest's progress shown in Gradio's bar."""

from __future__ import annotations

import re
import shutil
import unicodedata
from collections.abc import Sequence
from pathlib import Path

import gradio as gr

from assistant.atomic import atomic_writer
from assistant.audit import new_request_id
from assistant.core import Assistant
from assistant.errors import LoadError
from assistant.ingest_progress import ProgressCallback
from assistant.loaders import SUPPORTED_SUFFIXES, load_document
from assistant.loaders.ocr import NeedsOcrError
from assistant.settings import Settings
from assistant.types import FailedFile, IngestProgress, IngestReport
from assistant.ui.names import SourceNames

_UNSAFE = re.compile(r"[^\w.\- ()+,]+")


def allowed_suffixes() -> list[str]:
    """File name endings an upload may have (those with a loader)."""
    return sorted(SUPPORTED_SUFFIXES)


def safe_filename(name: str) -> str:
    """A plain file name for an upload: no folders, no hidden or odd characters."""
    base = _UNSAFE.sub("_", re.split(r"[\\/]", unicodedata.normalize("NFC", name))[-1])
    stem, dot, suffix = base.rpartition(".")
    if not dot or not suffix.isalnum():
        stem, suffix = base, ""
    stem = stem.strip(" .")[:120] or "upload"
    return f"{stem}.{suffix.lower()}" if suffix else stem


def check_upload(path: Path, settings: Settings) -> None:
    """Raise LoadError with a user-facing reason when an uploaded file cannot be indexed."""
    suffix = path.suffix.lower()
    if suffix not in SUPPORTED_SUFFIXES:
        allowed = ", ".join(allowed_suffixes())
        raise LoadError(f"unsupported file type {suffix or '(none)'!r}; allowed: {allowed}")
    size = path.stat().st_size
    limit = settings.max_upload_mb
    if size > limit * 1_000_000:
        raise LoadError(f"too large ({size / 1e6:.1f} MB; the limit is {limit:g} MB)")
    # Parse it now, so a broken file is refused before it lands in the uploads folder. OCR
    # waits for the ingest (it is slow): a scan whose container opens is accepted here.
    try:
        load_document(path, path.name, max_bytes=int(limit * 1_000_000))
    except NeedsOcrError:
        if not settings.ocr:
            raise


def save_uploads(
    uploaded: Sequence[str | Path], settings: Settings
) -> tuple[list[Path], list[FailedFile]]:
    """Check each upload and move the good ones into the uploads folder (atomically).

    An upload named exactly as an earlier one replaces it (a new version; the earlier file is
    kept beside it as `.NAME.previous` until the index has taken the new one, see
    `ingest_uploads`). One whose name had to be made safe, or that another file of the same
    batch already took, never replaces anything: it gets a free name ("a_b (2).txt")."""
    target_dir = settings.uploads_dir
    saved: list[Path] = []
    rejected: list[FailedFile] = []
    for item in uploaded:
        source = Path(item)
        name = safe_filename(source.name)
        try:
            check_upload(source, settings)
        except (LoadError, OSError) as exc:
            rejected.append(FailedFile(source=name, error=str(exc)))
            continue
        target_dir.mkdir(parents=True, exist_ok=True)
        taken = {path.name for path in saved}
        if name != _as_given(source.name) or name in taken:
            name = _free_name(target_dir, name, taken)
        target = target_dir / name
        if target.exists():
            shutil.copy2(target, _previous(target))
        else:  # a copy left by an ingest that failed outright belongs to no file now
            _previous(target).unlink(missing_ok=True)
        # A temporary file renamed into place: an ingest never reads a half-copied upload.
        with source.open("rb") as handle, atomic_writer(target, mode=0o600) as tmp:
            shutil.copyfileobj(handle, tmp)
        saved.append(target)
    return saved, rejected


def _as_given(name: str) -> str:
    """A file name as `safe_filename` would keep it when it holds nothing unsafe (Unicode
    composed, the suffix in lower case): "Report.PDF" is "Report.pdf" again, "a?b.txt" is not
    "a_b.txt"."""
    stem, dot, suffix = unicodedata.normalize("NFC", name).rpartition(".")
    return f"{stem}.{suffix.lower()}" if dot and stem else unicodedata.normalize("NFC", name)


def _free_name(folder: Path, name: str, taken: set[str]) -> str:
    """`name`, or "stem (2).ext", "stem (3).ext", ...: the first that is neither in `folder`
    nor in `taken`."""
    stem, dot, suffix = name.rpartition(".")
    if not dot:
        stem, suffix = name, ""
    candidate, number = name, 1
    while candidate in taken or (folder / candidate).exists():
        number += 1
        candidate = f"{stem} ({number}){dot}{suffix}"
    return candidate


def _previous(path: Path) -> Path:
    """Where an upload's earlier version waits while its new one is indexed (a hidden file,
    which no ingest reads)."""
    return path.with_name(f".{path.name}.previous")


def ingest_uploads(
    assistant: Assistant,
    uploaded: Sequence[str | Path],
    on_progress: ProgressCallback | None = None,
    by: str | None = None,
) -> tuple[IngestReport | None, list[FailedFile]]:
    """Save and index uploaded files (audited as an upload by the user named `by`); returns the
    ingest report and files refused before it. A new file the index refused (a duplicate) is
    not kept; a new version it refused gives way to the earlier one again, so the file on disk
    stays what the index holds."""
    saved, rejected = save_uploads(uploaded, assistant.settings)
    if not saved:
        return None, rejected
    # An ingest that fails outright (the index busy) leaves the files and any earlier
    # version's copy as they are: what it committed before failing is not known here.
    report = assistant.ingest(
        saved, on_progress=on_progress, by=by, action="upload", request_id=new_request_id()
    )
    failed = {Path(item.source).name for item in report.failed}
    for path in saved:
        _settle(path, kept=path.name not in failed)
    return report, rejected


def _settle(path: Path, kept: bool) -> None:
    """After an upload's ingest: drop the earlier version (`kept`), or put it back (a new
    version refused: the earlier version's copy is there exactly when there was one), or
    remove a new file refused."""
    previous = _previous(path)
    if kept:
        previous.unlink(missing_ok=True)
    elif previous.exists():
        previous.replace(path)
    else:
        path.unlink(missing_ok=True)


def reindex_targets(settings: Settings) -> list[Path]:
    """What a re-index reads: the document folders (as `assistant sync`) and the uploads."""
    targets = list(settings.document_folders)
    if settings.uploads_dir.is_dir():
        targets.append(settings.uploads_dir)
    return targets


def ingest_progress(progress: gr.Progress, names: SourceNames) -> ProgressCallback:
    """An ingest's progress callback that moves Gradio's bar, naming files by `names`."""

    def update(state: IngestProgress) -> None:
        if not state.source:
            label = "Finishing"
        elif state.step == "ocr":
            label = f"Reading page {state.page} of {state.pages} of {names(state.source)} (OCR)"
        elif state.step == "embed":
            share = round(100 * state.embedded / max(state.to_embed, 1))
            label = f"Indexing {names(state.source)} ({share} % of its text)"
            progress((state.embedded, max(state.to_embed, 1)), desc=label, unit="texts")
            return
        else:
            label = f"Indexing {names(state.source)}"
        progress((state.files_done, max(state.files_total, 1)), desc=label, unit="files")

    return update
