"""Offline document question answering with span-exact citations."""

from assistant.core import Assistant
from assistant.errors import AssistantError, BadQuestionError, IndexMissingError, LoadError
from assistant.settings import Settings
from assistant.types import Answer, AnswerSentence, Citation, IngestReport, Message

__all__ = [
    "Answer",
    "AnswerSentence",
    "Assistant",
    "AssistantError",
    "BadQuestionError",
    "Citation",
    "IndexMissingError",
    "IngestReport",
    "LoadError",
    "Message",
    "Settings",
]
