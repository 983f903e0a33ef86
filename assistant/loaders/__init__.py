"""Load a file into one extracted text plus the structure needed to locate spans in it.

One module per format; each exposes `extract(data: bytes) -> Extracted` (`extract(data, ocr)`
for the formats OCR may read). Adding a format is one file plus one line in `EXTRACTORS`.
"""

from __future__ import annotations

import hashlib
import importlib
import os
from collections.abc import Callable
from pathlib import Path

from assistant.errors import LoadError
from assistant.loaders.base import Extracted
from assistant.loaders.ocr import NeedsOcrError, Ocr
from assistant.types import Attachment, Document

# Part of the ingest fingerprint: bump it when an extractor's output changes, so existing
# indexes re-extract their documents once.
EXTRACTION_VERSION = "27"

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".tif", ".tiff", ".bmp", ".gif", ".webp")
# Suffix -> "module:function" of its extractor in this package, imported on first use (a
# command that reads no file of a format never pays for its parser's import).
EXTRACTORS: dict[str, str] = {
    ".txt": "plain:extract_text",
    ".text": "plain:extract_text",
    ".md": "markdown:extract_markdown",
    ".markdown": "markdown:extract_markdown",
    ".html": "html:extract",
    ".htm": "html:extract",
    ".pdf": "pdf:extract",
    ".docx": "docx:extract",
    ".pptx": "pptx:extract",
    ".xlsx": "xlsx:extract",
    ".csv": "csv:extract",
    ".tsv": "csv:extract",
    ".eml": "eml:extract",
    ".msg": "msg:extract",
    ".odt": "odt:extract",
    ".ods": "opendocument:extract_spreadsheet",
    ".odp": "opendocument:extract_presentation",
    ".rtf": "rtf:extract",
    ".epub": "epub:extract",
    **{suffix: "image:extract" for suffix in IMAGE_SUFFIXES},
}
# Formats whose files hold files (Attachment), each indexed as its own document: suffix ->
# "module:function" returning them without extracting the rest.
CONTAINERS: dict[str, str] = {".eml": "eml:attachments", ".msg": "msg:attachments"}
# Formats whose extractor takes the OCR to use (None: recognition off) as a second argument.
OCR_SUFFIXES = frozenset({".pdf", *IMAGE_SUFFIXES})

SUPPORTED_SUFFIXES = frozenset(EXTRACTORS)


def is_supported(path: Path) -> bool:
    """Whether a file has a format the assistant can read."""
    return path.suffix.lower() in SUPPORTED_SUFFIXES


def content_hash(data: bytes) -> str:
    """The hash that identifies a document version."""
    return hashlib.sha256(data).hexdigest()


def read_file(path: Path, max_bytes: int) -> bytes:
    """The bytes of a file, refusing files over the size limit; for the path of an attachment
    (`<container>/<name>`, see `container_of`), the attachment's bytes read from its container."""
    container = None if path.exists() else container_of(path)
    if container is not None:
        return _attachment_bytes(container, path.relative_to(container).parts, max_bytes)
    try:
        size = path.stat().st_size
        if size > max_bytes:
            raise LoadError(f"file too large ({size / 1e6:.1f} MB, limit {max_bytes / 1e6:.1f} MB)")
        return path.read_bytes()
    except OSError as exc:
        raise LoadError(f"cannot read file: {exc.strerror or exc}") from exc


def load_document(path: Path, source: str, max_bytes: int, ocr: Ocr | None = None) -> Document:
    """Read and extract one file; raise LoadError with a one-line reason when it is unusable."""
    data = read_file(path, max_bytes)
    return document_from_bytes(data, path.suffix.lower(), source, path.stem, ocr)


def document_from_bytes(
    data: bytes, suffix: str, source: str, fallback_title: str, ocr: Ocr | None = None
) -> Document:
    """Extract a document from raw bytes of the given format (scans and images read by `ocr`)."""
    if not data.strip():
        raise LoadError("empty file")
    extractor = extractor_for(suffix)
    if extractor is None:
        raise LoadError(f"unsupported file type {suffix or '(none)'!r}")
    try:
        extracted = extractor(data, ocr) if suffix in OCR_SUFFIXES else extractor(data)
    except LoadError:
        raise
    except Exception as exc:  # parsers raise many kinds of errors on corrupt input
        raise LoadError(f"cannot parse {suffix[1:]} file: {type(exc).__name__}: {exc}") from exc
    if not extracted.text.strip():
        if ocr is None and suffix in OCR_SUFFIXES:
            raise NeedsOcrError("no text layer; it needs OCR, which is switched off (setting ocr)")
        raise LoadError("no extractable text")
    return Document(
        source=source,
        title=(extracted.title or fallback_title).strip()[:300],
        text=extracted.text,
        content_hash=content_hash(data),
        format=suffix.lstrip("."),
        size=len(data),
        headings=extracted.headings,
        page_starts=extracted.page_starts,
        attachments=extracted.attachments,
    )


def container_of(path: Path) -> Path | None:
    """The file an attachment's path (`mail.eml/report.pdf`) lies in: its nearest ancestor that
    is a file. None for any other path (a file, a folder, a path under no file)."""
    for parent in path.parents:
        if parent.is_file():
            return parent
        if parent.is_dir():
            return None
    return None


def is_present(path: Path) -> bool:
    """Whether a file is at `path`, or, for an attachment's path, its container still is."""
    return os.path.exists(path) or container_of(path) is not None


def attachments_in(data: bytes, suffix: str) -> tuple[Attachment, ...]:
    """The attachments a file of this format holds (an e-mail's), without reading the rest of
    it; () for a format that holds none."""
    target = CONTAINERS.get(suffix)
    if target is None:
        return ()
    module, _, function = target.partition(":")
    read: Callable[[bytes], tuple[Attachment, ...]] = getattr(
        importlib.import_module(f"assistant.loaders.{module}"), function
    )
    try:
        return read(data)
    except LoadError:
        raise
    except Exception as exc:  # as in document_from_bytes
        raise LoadError(f"cannot parse {suffix[1:]} file: {type(exc).__name__}: {exc}") from exc


def _attachment_bytes(container: Path, names: tuple[str, ...], max_bytes: int) -> bytes:
    """The bytes of the attachment named by `names` (one name per level of nesting: a message
    attached to a message) inside the file `container`."""
    data = read_file(container, max_bytes)
    suffix = container.suffix.lower()
    for name in names:
        data = next((a.data for a in attachments_in(data, suffix) if a.name == name), b"")
        if not data:
            raise LoadError(f"no attachment {name!r} in {container.name}")
        suffix = Path(name).suffix.lower()
    return data


def extractor_for(suffix: str) -> Callable[..., Extracted] | None:
    """The extractor of a suffix (its module imported now), or None for an unsupported one."""
    target = EXTRACTORS.get(suffix)
    if target is None:
        return None
    module, _, function = target.partition(":")
    extractor: Callable[..., Extracted] = getattr(
        importlib.import_module(f"assistant.loaders.{module}"), function
    )
    return extractor
