"""What an extractor returns, and helpers several extractors share."""

from __future__ import annotations

import contextlib
import re
import unicodedata
from dataclasses import dataclass

import charset_normalizer

from assistant.errors import LoadError
from assistant.types import Attachment, Heading

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

# Characters real text rarely holds but wrong decodings produce: C1 controls, half-width
# katakana, Arabic presentation forms, CJK extension planes.
_MOJIBAKE = re.compile("[\x80-\x9f\uff61-\uff9f\ufb50-\ufdff\ufe70-\ufeff\U00020000-\U0003ffff]")

# C0 controls other than tab, newline, carriage return and form feed.
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0e-\x1f\x7f]")


@dataclass(frozen=True)
class Extracted:
    """Text extracted from one file, with its title and structure."""

    text: str
    title: str | None = None
    headings: tuple[Heading, ...] = ()
    page_starts: tuple[int, ...] = ()
    attachments: tuple[Attachment, ...] = ()  # files inside this one (an e-mail's attachments)


def decode_text(data: bytes) -> str:
    """Decode bytes of a text file: a BOM's encoding, UTF-16 by its NUL pattern, UTF-8, else a
    legacy encoding charset-normalizer detects and that decodes to plausible text.

    Raises LoadError for binary data or bytes no encoding explains (rather than index mojibake).
    """
    for bom, encoding in _BOMS:
        if data.startswith(bom):
            try:
                return _reject_binary(data.decode(encoding))
            except UnicodeDecodeError as exc:
                raise LoadError(f"invalid {encoding} text: {exc.reason}") from exc
    utf16 = _utf16_without_bom(data)
    if utf16 is not None:
        return _reject_binary(utf16)
    if b"\x00" in data:
        raise LoadError("binary content (NUL bytes), not a text file")
    try:
        return _reject_binary(data.decode("utf-8"))
    except UnicodeDecodeError:
        pass
    matches = list(charset_normalizer.from_bytes(data))
    if not matches or matches[0].chaos > 0.2:
        raise LoadError("cannot decode text: not UTF-8 and no other encoding fits")
    near = [m for m in matches if m.chaos <= matches[0].chaos + 0.05]
    candidates = [str(m) for m in near]
    if any(m.encoding in _SINGLE_BYTE_LATIN for m in near):
        # Short texts cannot tell these apart; Windows-1252 is by far the most common.
        with contextlib.suppress(UnicodeDecodeError):
            candidates.insert(0, data.decode("cp1252"))
    for text in candidates:
        if _plausible(text):
            return _reject_binary(text)
    raise LoadError(
        "cannot tell the text encoding (not UTF-8; a guess gave garbled text): "
        "save the file as UTF-8"
    )


def _utf16_without_bom(data: bytes) -> str | None:
    """UTF-16 text without a BOM, told by NUL bytes on one side of every ASCII character."""
    half = len(data) // 2
    if half < 4 or len(data) % 2:
        return None
    even, odd = data[0::2].count(0), data[1::2].count(0)
    if odd > 0.3 * half and even == 0:
        encoding = "utf-16-le"
    elif even > 0.3 * half and odd == 0:
        encoding = "utf-16-be"
    else:
        return None
    try:
        return data.decode(encoding)
    except UnicodeDecodeError:
        return None


def _plausible(text: str) -> bool:
    """Whether decoded text looks like writing rather than a wrong guess at its encoding."""
    unusual = [c for c in text if ord(c) > 0x7F]
    odd = sum(1 for c in unusual if _MOJIBAKE.match(c) or unicodedata.category(c) in ("Co", "Cn"))
    return odd <= len(unusual) // 20


def _reject_binary(text: str) -> str:
    controls = len(_CONTROL.findall(text))
    if controls and controls > max(8, len(text) // 100):
        raise LoadError("binary content (control characters), not a text file")
    return text


def collapse_spaces(text: str) -> str:
    """Runs of whitespace become one space (for text from markup, where layout is not content)."""
    return re.sub(r"\s+", " ", text)


def list_item_prefix(depth: int, numbering: tuple[int, str] | None) -> str:
    """What a list item's text is written after, by every loader that reads lists: two spaces
    per level of nesting, then a bullet ("- ") or the item's number in its list's type ("3. ",
    "c. ", "C. ", "iii. ", "III. "), as a browser shows it."""
    return "  " * depth + _item_marker(numbering) + " "


def _item_marker(numbering: tuple[int, str] | None) -> str:
    if numbering is None:
        return "-"
    number, kind = numbering
    if kind in ("a", "A") and 1 <= number <= 26:
        letter = chr(ord("a") + number - 1)
        return (letter if kind == "a" else letter.upper()) + "."
    if kind in ("i", "I") and 1 <= number <= 39:
        tens, ones = divmod(number, 10)
        roman = "x" * tens + ("", "i", "ii", "iii", "iv", "v", "vi", "vii", "viii", "ix")[ones]
        return (roman if kind == "i" else roman.upper()) + "."
    return f"{number}."
