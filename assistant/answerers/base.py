"""The answerer seam: one small protocol every backend implements."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol, runtime_checkable

from assistant.types import Message

if TYPE_CHECKING:
    from assistant.retrieval import Retrieval

from assistant.types import Answer


@dataclass(frozen=True)
class Question:
    """A question as asked, the self-contained form used for retrieval (and for reading the
    question), and the conversation."""

    text: str
    standalone: str
    history: tuple[Message, ...] = ()

    @property
    def is_rewritten(self) -> bool:
        """Whether the question searched for is not the one asked: a follow-up made
        self-contained with the help of the history, or a misspelt word spelt as the documents
        spell it."""
        return self.standalone != self.text


@runtime_checkable
class Answerer(Protocol):
    """Answers a question from retrieved passages, citing them, or refuses."""

    name: str

    def answer(self, question: Question, retrieval: Retrieval) -> Answer:
        """An Answer whose every [n] marker has a citation inside the retrieved passages."""
        ...


@runtime_checkable
class StreamingAnswerer(Answerer, Protocol):
    """An answerer that can also produce its answer incrementally."""

    def stream(self, question: Question, retrieval: Retrieval) -> Iterator[str | Answer]:
        """Text pieces as they are produced, then the final Answer."""
        ...


@runtime_checkable
class Condenser(Protocol):
    """An answerer that rewrites follow-ups itself (e.g. with its LLM)."""

    def condense(self, question: str, history: Sequence[Message]) -> str:
        """A self-contained form of `question` given the conversation so far."""
        ...
