"""Turn a follow-up question into a self-contained one using the conversation (no LLM needed).

A follow-up that leans on earlier turns (pronouns such as "it" or "they", a leading "and", or
too few words of its own) is completed with the previous standalone user question, so that
retrieval sees the topic the user is still talking about.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from assistant.text import content_terms
from assistant.types import Message

_ANAPHORA = re.compile(
    r"\b(it|its|they|them|their|theirs|this|that|these|those|he|him|his|she|her|hers|"
    r"there|then|such|the same|the other|one|ones)\b",
    re.IGNORECASE,
)
_CONTINUATION = re.compile(r"^\s*(and|but|also|so|what about|how about|or|then)\b", re.IGNORECASE)


def needs_context(question: str) -> bool:
    """Whether the question probably refers back to earlier turns."""
    return (
        bool(_CONTINUATION.search(question))
        or bool(_ANAPHORA.search(question))
        or len(content_terms(question)) < 2
    )


def condense(question: str, history: Sequence[Message]) -> str:
    """A standalone form of `question`: itself, or itself plus the topic of the conversation.

    The topic is the latest user question that stood on its own.
    """
    if not needs_context(question):
        return question
    topic = None
    for message in history:
        text = message.content.strip()
        if message.role == "user" and text and (topic is None or not needs_context(text)):
            topic = text
    if topic is None:
        return question
    return f"{question.strip()} (context: {topic})"
