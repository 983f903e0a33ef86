"""Prompts for the LLM answerers: loaded from files once, filled with fenced, numbered sources."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from string import Template

from llama_index.core.base.llms.types import ChatMessage, MessageRole

from assistant.citations import without_document_markers
from assistant.errors import AssistantError
from assistant.injection import neutralize
from assistant.types import Message, Passage

PROMPT_FILES = {
    "system": (),
    "answer": ("sources", "question"),
    "condense": ("history", "question"),
}
_FENCE = re.compile(r"<\s*/?\s*source\b", re.IGNORECASE)


class PromptError(AssistantError):
    """A prompt file is missing or lacks a placeholder."""


def default_prompts_dir() -> Path:
    """The repository's prompts/ folder (beside the assistant package)."""
    return Path(__file__).resolve().parents[2] / "prompts"


@dataclass(frozen=True)
class Prompts:
    """The prompt templates of the LLM answerers."""

    system: str
    answer: Template
    condense: Template

    @classmethod
    def load(cls, directory: Path | None = None) -> Prompts:
        """Read system.txt, answer.txt and condense.txt, checking their placeholders."""
        folder = directory or default_prompts_dir()
        texts: dict[str, str] = {}
        for name, placeholders in PROMPT_FILES.items():
            path = folder / f"{name}.txt"
            try:
                text = path.read_text(encoding="utf-8").strip()
            except OSError as exc:
                raise PromptError(f"cannot read prompt file {path}: {exc.strerror}") from None
            missing = [p for p in placeholders if f"${p}" not in text and f"${{{p}}}" not in text]
            if missing:
                names = ", ".join(f"${p}" for p in missing)
                raise PromptError(f"prompt file {path} lacks the placeholder(s) {names}")
            texts[name] = text
        return cls(texts["system"], Template(texts["answer"]), Template(texts["condense"]))

    def answer_messages(self, question: str, passages: Sequence[Passage]) -> list[ChatMessage]:
        """The system and user messages asking `question` of the numbered `passages`."""
        user = self.answer.safe_substitute(sources=format_sources(passages), question=question)
        return [
            ChatMessage(role=MessageRole.SYSTEM, content=self.system),
            ChatMessage(role=MessageRole.USER, content=user),
        ]

    def condense_messages(self, question: str, history: Sequence[Message]) -> list[ChatMessage]:
        """A request to rewrite a follow-up as a self-contained question."""
        lines = [f"{m.role.capitalize()}: {' '.join(m.content.split())}" for m in history]
        user = self.condense.safe_substitute(history="\n".join(lines), question=question)
        return [ChatMessage(role=MessageRole.USER, content=user)]


def format_sources(passages: Sequence[Passage]) -> str:
    """Passages fenced as data and numbered from 1, instruction-like sentences hidden."""
    blocks = []
    for number, passage in enumerate(passages, start=1):
        title = " ".join(passage.title.replace('"', "'").split())
        # A document must not be able to close its fence and speak outside it, nor show the
        # model bracketed numbers ("[7]") that look like the source numbers it cites by.
        text = _FENCE.sub("(source", without_document_markers(neutralize(passage.text)))
        blocks.append(f'<source id="{number}" title="{title}">\n{text.strip()}\n</source>')
    return "\n\n".join(blocks)
