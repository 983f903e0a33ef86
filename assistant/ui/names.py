"""What a person sees of a document's file: its path inside a configured document folder (or
the uploads folder), never where the server keeps it.

The catalog records a source as ingested: relative to the working folder of the ingest when
inside it, else absolute (an upload: `/srv/assistant/data/uploads/report.pdf`).
Every page of the web chat names files through `SourceNames`: `uploads/report.pdf`,
`policies/hr/leave.md` (the folder's own name, then the path inside it), or the bare file
name when the file lies in no configured folder. The stored records (and feedback) keep the
full path.
"""

from __future__ import annotations

import os
from pathlib import Path

from assistant.settings import Settings
from assistant.types import Answer, Conversation


class SourceNames:
    """Turns a recorded source path into the name shown to people."""

    def __init__(self, settings: Settings) -> None:
        # The uploads folder first: it may lie inside a configured folder.
        folders = [(settings.uploads_dir, "uploads")]
        folders += [(path, path.name or "documents") for path in settings.sources]
        self._folders = [(_absolute(path), label) for path, label in folders]

    def __call__(self, source: str) -> str:
        """The shown name of `source` (a path as the catalog records it)."""
        given = Path(source)
        path = _absolute(given)  # a relative one as if the ingest ran in this folder
        for folder, label in self._folders:
            if path == folder:
                return path.name
            if path.is_relative_to(folder):
                return f"{label}/{path.relative_to(folder).as_posix()}"
        if not given.is_absolute() and ".." not in given.parts:
            # Relative to the folder some ingest ran in: it names no server folder above it.
            return given.as_posix()
        return path.name

    def answer(self, answer: Answer) -> Answer:
        """The answer with the sources of its citations and listed passages as shown names."""
        if not answer.citations and not answer.related:
            return answer
        citations = tuple(
            citation.model_copy(update={"source": self(citation.source)})
            for citation in answer.citations
        )
        related = tuple(
            passage.model_copy(update={"source": self(passage.source)})
            for passage in answer.related
        )
        return answer.model_copy(update={"citations": citations, "related": related})

    def conversation(self, conversation: Conversation) -> Conversation:
        """The conversation with every answer's sources as shown names (for its export)."""
        turns = tuple(
            turn.model_copy(update={"answer": self.answer(turn.answer)})
            for turn in conversation.turns
        )
        return conversation.model_copy(update={"turns": turns})


def _absolute(path: Path) -> Path:
    """An absolute, normalised path (`..` folded) without touching the disk."""
    return Path(os.path.normpath(os.path.abspath(path)))
