"""What the web server does with stored conversations besides showing them: Markdown exports
for download, and the daily retention sweep."""

from __future__ import annotations

import logging
import re
import shutil
import tempfile
import threading
import time
import weakref
from pathlib import Path

from assistant.conversation_views import conversation_markdown
from assistant.conversations import SWEEP_SECONDS, ConversationStore
from assistant.types import Conversation

log = logging.getLogger(__name__)
_SLUG = re.compile(r"[^a-z0-9]+")


def export_file(conversation: Conversation, folder: Path) -> Path:
    """Write the conversation's Markdown to a file named after its title, under `folder`
    (name its files with `SourceNames.conversation` first)."""
    slug = _SLUG.sub("-", conversation.title.lower()).strip("-")[:60] or "conversation"
    target = folder / conversation.id / f"{slug}.md"
    text = conversation_markdown(conversation)
    if target.exists() and target.read_text(encoding="utf-8") == text:
        return target  # unchanged (e.g. the sidebar was only searched)
    target.parent.mkdir(parents=True, exist_ok=True)
    for old in target.parent.glob("*.md"):
        old.unlink()
    target.write_text(text, encoding="utf-8")
    return target


class ExportFolder:
    """Where a server's conversation exports are written for download: a private temporary
    folder, one subfolder per conversation. A deleted conversation's export goes with it; the
    folder itself with `remove` (the server's shutdown calls it: `mount_ui`), else when its
    owner is gone or the interpreter exits normally."""

    def __init__(self, owner: object) -> None:
        self.path = Path(tempfile.mkdtemp(prefix="assistant-exports-"))
        self._cleanup = weakref.finalize(owner, shutil.rmtree, self.path, True)

    def write(self, conversation: Conversation) -> Path:
        """The conversation's Markdown file, written (or kept if unchanged)."""
        self.path.mkdir(mode=0o700, exist_ok=True)  # private again if removed and reused
        return export_file(conversation, self.path)

    def remove(self) -> None:
        """Remove the folder and every export in it now."""
        self._cleanup()

    def forget(self, conversation_id: str) -> None:
        """Remove a conversation's export."""
        shutil.rmtree(self.path / conversation_id, ignore_errors=True)


def apply_retention_daily(store: ConversationStore) -> threading.Thread:
    """Apply the retention now, then once a day in a daemon thread, so conversations past it
    leave the file even while nobody uses the chat (the store also sweeps when used)."""

    def sweep() -> None:
        while True:
            try:
                store.apply_retention()
            except Exception:  # a locked or broken file must not end the sweeps
                log.exception("applying the conversation retention failed")
            time.sleep(SWEEP_SECONDS)

    thread = threading.Thread(target=sweep, name="conversation-retention", daemon=True)
    thread.start()
    return thread
