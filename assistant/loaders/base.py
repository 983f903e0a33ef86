"""What an extractor returns, and helpers several extractors share."""

from __future__ import annotations

import re
from dataclasses import dataclass

import charset_normalizer

from assistant.errors import LoadError
from assistant.types import Heading

_BOMS = (
    (b"\xef\xbb\xbf", "utf-8-sig"),
    (b"\xff\xfe\x00\x00", "utf-32"),
    (b"\x00\x00\xfe\xff", "utf-32"),
    (b"\xff\xfe", "utf-16"),
    (b"\xfe\xff", "utf-16"),
)

_SINGLE_BYTE_LATIN = {
    "cp1250", "cp1252", "cp1254", "cp1257", "latin_1", "iso8859_2", "iso8859_9", "iso8859_15",
    "iso8859_13", "iso8859_16", "mac_latin2", "mac_roman", "cp850", "cp437",
}  # fmt: skip

# C0 controls other than tab, newline, carriage return and form feed.
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0e-\x1f\x7f]")


@dataclass(frozen=True)
class Extracted:
    """Text extracted from one file, with its title and structure."""

    text: str
    title: str | None = None
    headings: tuple[Heading, ...] = ()
    page_starts: tuple[int, ...] = ()


def decode_text(data: bytes) -> str:
    """Decode bytes of a text file: UTF-8 (or a BOM's encoding), else the best detected one.

    Raises LoadError for binary data or bytes no encoding explains.
    """
    for bom, encoding in _BOMS:
        if data.startswith(bom):
            try:
                return _reject_binary(data.decode(encoding))
            except UnicodeDecodeError as exc:
                raise LoadError(f"invalid {encoding} text: {exc.reason}") from exc
    if b"\x00" in data:
        raise LoadError("binary content (NUL bytes), not a text file")
    try:
        return _reject_binary(data.decode("utf-8"))
    except UnicodeDecodeError:
        pass
    best = charset_normalizer.from_bytes(data).best()
    if best is None or best.chaos > 0.2:
        raise LoadError("cannot decode text: not UTF-8 and no other encoding fits")
    if best.encoding in _SINGLE_BYTE_LATIN:
        # Short texts cannot tell these apart; Windows-1252 is by far the most common.
        try:
            return _reject_binary(data.decode("cp1252"))
        except UnicodeDecodeError:
            pass
    return _reject_binary(str(best))


def _reject_binary(text: str) -> str:
    controls = len(_CONTROL.findall(text))
    if controls and controls > max(8, len(text) // 100):
        raise LoadError("binary content (control characters), not a text file")
    return text


def collapse_spaces(text: str) -> str:
    """Runs of whitespace become one space (for text from markup, where layout is not content)."""
    return re.sub(r"\s+", " ", text)
