"""Answerers turn a question and retrieved passages into an Answer; chosen by name in settings.

Adding a backend is one module plus one line in `REGISTRY`.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

from assistant.answerers.base import Answerer, Condenser, Question, StreamingAnswerer

if TYPE_CHECKING:
    from assistant.settings import Settings

REGISTRY: dict[str, str] = {
    "extractive": "assistant.answerers.extractive:ExtractiveAnswerer",
    "llamacpp": "assistant.answerers.llamacpp:LlamaCppAnswerer",
    "openai": "assistant.answerers.openai_api:OpenAIAnswerer",
    "fake": "assistant.answerers.fake:FakeAnswerer",
}


def create_answerer(name: str, settings: Settings) -> Answerer:
    """The answerer registered under `name`, constructed cheaply (models load on first use)."""
    try:
        target = REGISTRY[name]
    except KeyError:
        known = ", ".join(sorted(REGISTRY))
        raise ValueError(f"unknown answerer {name!r} (known: {known})") from None
    module_name, class_name = target.split(":")
    cls = getattr(importlib.import_module(module_name), class_name)
    answerer: Answerer = cls(settings)
    return answerer


__all__ = [
    "REGISTRY",
    "Answerer",
    "Condenser",
    "Question",
    "StreamingAnswerer",
    "create_answerer",
]
