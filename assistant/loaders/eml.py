"""EML (a saved e-mail, RFC 5322/MIME): subject as title and heading, the From/To/Cc/Date lines,
the body (plain text preferred, else the HTML body's visible text), then the names of its
attachments ("Attachments: budget.xlsx, photo.jpg").

Each attachment in a format the assistant reads (a forwarded message too, as a .eml file) is
returned as an `Attachment`: the ingest indexes it as its own document at the path
`<message path>/<name>` (so a citation of an attached PDF names its page), in the message's
collection, removed and replaced with the message.
"""

from __future__ import annotations

from email import policy
from email.message import EmailMessage, Message
from email.parser import BytesParser
from pathlib import PurePath

from assistant.errors import LoadError
from assistant.loaders import html
from assistant.loaders.base import Extracted
from assistant.loaders.reflow import is_hard_wrapped, unwrap_printed
from assistant.types import Attachment, Heading

_PART_BREAK = "\n\n"
# The longest attachment name kept: it becomes the last part of a path (`mail.eml/NAME`).
_NAME_CHARS = 120
_ADDRESS_HEADERS = ("From", "To", "Cc", "Date")
# The headers every mail client writes; bytes with none of them are not a message.
_MESSAGE_HEADERS = {"from", "to", "subject", "date", "message-id", "received", "mime-version"}


def extract(data: bytes) -> Extracted:
    """Extract a saved e-mail: headers, body, the names of its attachments, and the readable
    ones' bytes."""
    return extract_message(_parse(data))


def attachments(data: bytes) -> tuple[Attachment, ...]:
    """The attachments `extract` hands on, without reading the rest of the message."""
    return message_attachments(_parse(data))


def message_attachments(message: EmailMessage) -> tuple[Attachment, ...]:
    """The readable attachments of a parsed message (also one read from another format)."""
    return _attachments(message)[1]


def _parse(data: bytes) -> EmailMessage:
    message = BytesParser(policy=policy.default).parsebytes(data)
    if not isinstance(message, EmailMessage) or not _MESSAGE_HEADERS & {
        key.lower() for key in message
    }:
        raise LoadError("not an e-mail message (no From, To, Subject or Date header)")
    return message


def extract_message(message: EmailMessage) -> Extracted:
    """Extract a parsed message (also one read from another format, loaders/msg.py)."""
    subject = " ".join(str(message.get("Subject", "")).split())
    parts: list[tuple[str, tuple[Heading, ...]]] = []
    head = [subject] if subject else []
    head += [f"{name}: {value}" for name in _ADDRESS_HEADERS if (value := _header(message, name))]
    head_headings = (Heading(0, subject),) if subject else ()
    parts.append(("\n".join(head), head_headings))
    body = _body(message)
    if body.text.strip():
        parts.append((body.text, body.headings))
    names, readable = _attachments(message)
    if names:
        parts.append(("Attachments: " + ", ".join(names), ()))
    text, headings = _joined(parts)
    return Extracted(text=text, title=subject or None, headings=headings, attachments=readable)


def _attachments(message: EmailMessage) -> tuple[list[str], tuple[Attachment, ...]]:
    """The names of all attachments, and those in a format the assistant reads."""
    names: list[str] = []
    readable: list[Attachment] = []
    for part in message.iter_attachments():
        name = _unique(_attachment_name(part), names)
        names.append(name)
        data = _attachment_data(part, name)
        if data is not None:
            readable.append(Attachment(name, data))
    return names, tuple(readable)


def _header(message: EmailMessage, name: str) -> str:
    try:
        value = message.get(name)
    except (ValueError, IndexError):  # a malformed header the policy cannot parse
        value = message.get_all(name, failobj=[""])[0] if name in message else ""
    return " ".join(str(value or "").split())


def _body(message: EmailMessage) -> Extracted:
    part = message.get_body(preferencelist=("plain", "html"))
    if part is None:
        return Extracted(text="")
    content = _content_text(part)
    if part.get_content_subtype() == "html":
        return html.extract(content.encode("utf-8"))
    text = content.replace("\r\n", "\n").replace("\r", "\n").strip("\n")
    if is_hard_wrapped(text):
        text = unwrap_printed(text)  # mail is wrapped at 72-78 columns; one space per break
    return Extracted(text=text)


def _content_text(part: Message) -> str:
    try:
        content = part.get_content()  # type: ignore[attr-defined]
    except (LookupError, ValueError):  # an unknown charset: the bytes as Latin-1, never a crash
        payload = part.get_payload(decode=True)
        content = payload.decode("latin-1") if isinstance(payload, bytes) else str(payload)
    return content if isinstance(content, str) else ""


def _attachment_name(part: EmailMessage) -> str:
    name = part.get_filename()
    forwarded = part.get_content_type() == "message/rfc822"
    if name:
        name = PurePath(name.replace("\\", "/")).name  # never a folder: the name of a path
        name = " ".join(name.split())  # no line breaks or control characters in a path
        if name in ("", ".", ".."):
            name = "unnamed"
        if len(name) > _NAME_CHARS:  # a path the file system accepts, keeping the suffix
            suffix = PurePath(name).suffix[:16]
            name = name[: _NAME_CHARS - len(suffix)].rstrip() + suffix
        # A forwarded message is handed on as a saved e-mail, whatever it was called (an
        # Outlook message's is "Subject.msg"): its name says the format it is read as.
        return str(PurePath(name).with_suffix(".eml")) if forwarded else name
    if forwarded:
        return "forwarded message.eml"
    return f"unnamed ({part.get_content_type()})"


def _unique(name: str, taken: list[str]) -> str:
    """`name`, or "name (2).ext" when the message has an attachment of that name already."""
    if name not in taken:
        return name
    stem, suffix = PurePath(name).stem, PurePath(name).suffix
    number = 2
    while f"{stem} ({number}){suffix}" in taken:
        number += 1
    return f"{stem} ({number}){suffix}"


def _attachment_data(part: EmailMessage, name: str) -> bytes | None:
    """An attachment's bytes when it is a format the assistant reads (a forwarded message as
    a .eml file), else None: it is only listed. Whether it can be read is found out when it is
    ingested, as for any file."""
    from assistant.loaders import extractor_for  # the registry names this module

    if part.get_content_type() == "message/rfc822":
        inner = part.get_payload()
        inner = inner[0] if isinstance(inner, list) and inner else inner
        if isinstance(inner, Message):
            return bytes(inner)
        # (some writers encode the forwarded message in base64: its decoded bytes, below)
    elif extractor_for(PurePath(name).suffix.lower()) is None:
        return None
    payload = part.get_payload(decode=True)
    return payload if isinstance(payload, bytes) and payload.strip() else None


def _joined(parts: list[tuple[str, tuple[Heading, ...]]]) -> tuple[str, tuple[Heading, ...]]:
    texts: list[str] = []
    headings: list[Heading] = []
    position = 0
    for text, part_headings in parts:
        if not text.strip():
            continue
        texts.append(text)
        headings += [h.shifted(position) for h in part_headings]
        position += len(text) + len(_PART_BREAK)
    return _PART_BREAK.join(texts), tuple(headings)
