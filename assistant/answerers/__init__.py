"""Answerers turn a question and retrieved passages into an Answer; chosen by name in settings.

Adding a backend is one module plus one line in `BUILT_IN`; code outside the package (a plugin,
or a test double) adds one with `register_answerer`.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import TYPE_CHECKING

from assistant.answerers.base import Answerer, Condenser, Question, StreamingAnswerer
from assistant.errors import UnknownAnswererError

if TYPE_CHECKING:
    from assistant.settings import Settings

AnswererFactory = Callable[["Settings"], Answerer]

# The product's answerers, imported on first use ("module:Class").
BUILT_IN: dict[str, str] = {
    "extractive": "assistant.answerers.extractive:ExtractiveAnswerer",
    "llamacpp": "assistant.answerers.llamacpp:LlamaCppAnswerer",
    "openai": "assistant.answerers.openai_api:OpenAIAnswerer",
}
REGISTRY: dict[str, str | AnswererFactory] = dict(BUILT_IN)


def register_answerer(name: str, target: str | AnswererFactory) -> None:
    """Make an answerer selectable by `name` (the `answerer` setting, `--answerer`, API models).

    `target` is `"module:Class"` (imported on first use) or a callable taking the Settings.
    A name already registered to another target is refused.
    """
    if not name.strip():
        raise ValueError("an answerer needs a name")
    if REGISTRY.get(name, target) != target:
        raise ValueError(f"the answerer name {name!r} is taken")
    REGISTRY[name] = target


def unregister_answerer(name: str) -> None:
    """Remove an answerer added with `register_answerer` (the built-in ones stay)."""
    if name in BUILT_IN:
        raise ValueError(f"{name!r} is a built-in answerer")
    REGISTRY.pop(name, None)


def answerer_names() -> list[str]:
    """The names of the registered answerers, sorted."""
    return sorted(REGISTRY)


def create_answerer(name: str, settings: Settings) -> Answerer:
    """The answerer registered under `name`, constructed cheaply (models load on first use)."""
    try:
        target = REGISTRY[name]
    except KeyError:
        known = ", ".join(answerer_names())
        raise UnknownAnswererError(f"unknown answerer {name!r} (known: {known})") from None
    if isinstance(target, str):
        module_name, class_name = target.split(":")
        target = getattr(importlib.import_module(module_name), class_name)
    answerer: Answerer = target(settings)
    return answerer


__all__ = [
    "BUILT_IN",
    "REGISTRY",
    "Answerer",
    "AnswererFactory",
    "Condenser",
    "Question",
    "StreamingAnswerer",
    "answerer_names",
    "create_answerer",
    "register_answerer",
    "unregister_answerer",
]
