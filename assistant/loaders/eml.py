"""EML (a saved e-mail, RFC 5322/MIME): subject as title and heading, the From/To/Cc/Date lines,
the body (plain text preferred, else the HTML body's visible text), then each attachment: its
text under a heading naming it ("Attachment: budget.xlsx") when it is a format the assistant
reads, else its name in the list of attachments.

An attachment's text is part of the message's document, so a citation of it names the message
and the attachment's heading (the ingest makes one document per file).
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
from assistant.types import Heading

_PART_BREAK = "\n\n"
_ADDRESS_HEADERS = ("From", "To", "Cc", "Date")
# The headers every mail client writes; bytes with none of them are not a message.
_MESSAGE_HEADERS = {"from", "to", "subject", "date", "message-id", "received", "mime-version"}


def extract(data: bytes) -> Extracted:
    """Extract a saved e-mail: headers, body and readable attachments."""
    message = BytesParser(policy=policy.default).parsebytes(data)
    if not isinstance(message, EmailMessage) or not _MESSAGE_HEADERS & {
        key.lower() for key in message
    }:
        raise LoadError("not an e-mail message (no From, To, Subject or Date header)")
    return _message(message)


def _message(message: EmailMessage) -> Extracted:
    subject = " ".join(str(message.get("Subject", "")).split())
    parts: list[tuple[str, tuple[Heading, ...]]] = []
    head = [subject] if subject else []
    head += [f"{name}: {value}" for name in _ADDRESS_HEADERS if (value := _header(message, name))]
    head_headings = (Heading(0, subject),) if subject else ()
    parts.append(("\n".join(head), head_headings))
    body = _body(message)
    if body.text.strip():
        parts.append((body.text, body.headings))
    listed: list[str] = []
    for attachment in message.iter_attachments():
        name = _attachment_name(attachment)
        inner = _attachment_text(attachment, name)
        if inner is None:
            listed.append(name)
            continue
        heading = attachment_heading(name)
        parts.append(
            (
                heading + "\n" + inner.text,
                (Heading(0, heading), *_shifted(inner.headings, len(heading) + 1)),
            )
        )
    if listed:
        parts.append(("Attachments not read: " + ", ".join(listed), ()))
    text, headings = _joined(parts)
    return Extracted(text=text, title=subject or None, headings=headings)


def attachment_heading(name: str) -> str:
    """The heading line over an attachment's text."""
    return f"Attachment: {name}"


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
    if name:
        return PurePath(name.replace("\\", "/")).name or "unnamed"
    if part.get_content_type() == "message/rfc822":
        return "forwarded message.eml"
    return f"unnamed ({part.get_content_type()})"


def _attachment_text(part: EmailMessage, name: str) -> Extracted | None:
    """An attachment's extracted text, or None when it is not a format read here (or broken)."""
    from assistant.loaders import extractor_for  # the registry names this module

    if part.get_content_type() == "message/rfc822":
        inner = part.get_payload()
        inner = inner[0] if isinstance(inner, list) and inner else inner
        return _message(inner) if isinstance(inner, EmailMessage) else None
    extractor = extractor_for(PurePath(name).suffix.lower())
    payload = part.get_payload(decode=True)
    if extractor is None or not isinstance(payload, bytes) or not payload.strip():
        return None
    try:
        extracted = extractor(payload)
    except Exception:  # a broken attachment is listed, not a reason to refuse the message
        return None
    return extracted if extracted.text.strip() else None


def _shifted(headings: tuple[Heading, ...], by: int) -> tuple[Heading, ...]:
    return tuple(Heading(h.offset + by, h.title, h.kind) for h in headings)


def _joined(parts: list[tuple[str, tuple[Heading, ...]]]) -> tuple[str, tuple[Heading, ...]]:
    texts: list[str] = []
    headings: list[Heading] = []
    position = 0
    for text, part_headings in parts:
        if not text.strip():
            continue
        texts.append(text)
        headings += _shifted(part_headings, position)
        position += len(text) + len(_PART_BREAK)
    return _PART_BREAK.join(texts), tuple(headings)
