"""MSG (a message saved by Outlook: an OLE2 compound file of MAPI properties), read with
aspose-email-foss (MIT) and turned into the standard library's message: from then on it is
read exactly as a saved e-mail (loaders/eml.py): subject, From/To/Cc/Date, the plain or HTML
body, the names of its attachments, and each readable attachment (an attached Outlook message
too, as a .eml file) handed on to be indexed as its own document.
"""

from __future__ import annotations

from email.message import EmailMessage

from assistant.errors import LoadError
from assistant.loaders import eml
from assistant.loaders.base import Extracted
from assistant.types import Attachment

_CFB_SIGNATURE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # every OLE2 compound file starts so


def extract(data: bytes) -> Extracted:
    """Extract an Outlook message: as `eml.extract` extracts a saved e-mail."""
    return eml.extract_message(_as_email(data))


def attachments(data: bytes) -> tuple[Attachment, ...]:
    """The attachments `extract` hands on, without reading the rest of the message."""
    return eml.message_attachments(_as_email(data))


def _as_email(data: bytes) -> EmailMessage:
    from aspose.email_foss.cfb import CFBReader
    from aspose.email_foss.msg import MapiMessage, MsgDocument, MsgReader

    if not data.startswith(_CFB_SIGNATURE):
        raise LoadError("not an Outlook message (not an OLE2 compound file)")
    try:
        with MsgReader(CFBReader(data)) as reader:
            message = MapiMessage.from_msg_document(MsgDocument.from_reader(reader))
    except Exception as exc:  # the reader raises its own kinds on a damaged file
        raise LoadError(f"not a valid .msg file ({type(exc).__name__}: {exc})") from exc
    email: EmailMessage = message.to_email_message()
    return email
