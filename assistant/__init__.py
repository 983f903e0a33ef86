"""Offline document question answering with span-exact citations."""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from assistant.collections import CollectionError
    from assistant.conversation_views import conversation_markdown
    from assistant.core import Assistant
    from assistant.errors import (
        AssistantError,
        BadArgumentError,
        BadQuestionError,
        IndexBusyError,
        IndexMissingError,
        IndexUnusableError,
        LoadError,
    )
    from assistant.settings import Settings
    from assistant.types import (
        Answer,
        AnswerSentence,
        Citation,
        Conversation,
        ConversationSummary,
        ConversationTurn,
        IngestReport,
        Message,
        RelatedPassage,
    )

# Names resolve on first use, so importing a light submodule (e.g. the pytest plugin, or the
# CLI's --help) does not load the pipeline and its heavy dependencies.
_EXPORTS = {
    "Answer": "assistant.types",
    "AnswerSentence": "assistant.types",
    "Assistant": "assistant.core",
    "AssistantError": "assistant.errors",
    "BadArgumentError": "assistant.errors",
    "BadQuestionError": "assistant.errors",
    "Citation": "assistant.types",
    "CollectionError": "assistant.collections",
    "Conversation": "assistant.types",
    "ConversationSummary": "assistant.types",
    "ConversationTurn": "assistant.types",
    "IndexBusyError": "assistant.errors",
    "IndexMissingError": "assistant.errors",
    "IndexUnusableError": "assistant.errors",
    "IngestReport": "assistant.types",
    "LoadError": "assistant.errors",
    "Message": "assistant.types",
    "RelatedPassage": "assistant.types",
    "Settings": "assistant.settings",
    "conversation_markdown": "assistant.conversation_views",
}

__all__ = [
    "Answer",
    "AnswerSentence",
    "Assistant",
    "AssistantError",
    "BadArgumentError",
    "BadQuestionError",
    "Citation",
    "CollectionError",
    "Conversation",
    "ConversationSummary",
    "ConversationTurn",
    "IndexBusyError",
    "IndexMissingError",
    "IndexUnusableError",
    "IngestReport",
    "LoadError",
    "Message",
    "RelatedPassage",
    "Settings",
    "conversation_markdown",
]


def __getattr__(name: str) -> Any:
    """Import an exported name on first access."""
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'assistant' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value
