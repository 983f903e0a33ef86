"""API model names: every registered answerer, plus `default` for the server's own choice."""

from __future__ import annotations

import threading
from collections import OrderedDict

from assistant.answerers import Answerer, answerer_names, create_answerer
from assistant.api.errors import ApiError
from assistant.core import Assistant
from assistant.errors import AssistantError

DEFAULT_ALIAS = "default"
# Generation limits the LLM answerers accept (the bounds of the llm_max_tokens setting).
MIN_TOKENS, MAX_TOKENS = 8, 4096
_CACHED_VARIANTS = 16


class ModelConfigError(AssistantError):
    """A setting names an answerer that is not registered."""


class Models:
    """Resolves a request's `model` to an answerer, sharing instances between requests.

    The configured answerer is the Assistant's own (shared with the web chat); other answerers
    and LLM answerers with a request's own `max_tokens`/`temperature` are built on first use
    and kept (a bounded number). Constructing one is cheap: models load once per process.
    """

    def __init__(self, assistant: Assistant) -> None:
        self.assistant = assistant
        settings = assistant.settings
        self.default = settings.api_default_model or settings.answerer
        known_names = answerer_names()
        for setting, name in (("answerer", settings.answerer), ("api_default_model", self.default)):
            if name not in known_names:
                known = ", ".join(known_names)
                raise ModelConfigError(f"{setting}: unknown answerer {name!r} (known: {known})")
        self._answerers: OrderedDict[tuple[str, int | None, float | None], Answerer] = OrderedDict()
        self._lock = threading.Lock()

    def names(self) -> dict[str, str]:
        """Every accepted model name and the answerer it stands for."""
        return {DEFAULT_ALIAS: self.default, **{name: name for name in answerer_names()}}

    def resolve(self, model: str | None) -> str:
        """The answerer a model name stands for; 404 for an unknown name."""
        if model is None or model == DEFAULT_ALIAS:
            return self.default
        if model not in answerer_names():
            known = ", ".join(self.names())
            raise ApiError(
                404,
                f"the model {model!r} does not exist (known: {known})",
                code="model_not_found",
                param="model",
            )
        return model

    def answerer(
        self, model: str | None, max_tokens: int | None = None, temperature: float | None = None
    ) -> Answerer:
        """The answerer for a request; generation options matter only to LLM answerers."""
        from assistant.answerers.generative import GenerativeAnswerer

        name = self.resolve(model)
        base = self._get(name, None, None)
        if not isinstance(base, GenerativeAnswerer) or (max_tokens is None and temperature is None):
            return base
        if max_tokens is not None:
            max_tokens = min(max(max_tokens, MIN_TOKENS), MAX_TOKENS)
        return self._get(name, max_tokens, temperature)

    def _get(self, name: str, max_tokens: int | None, temperature: float | None) -> Answerer:
        settings = self.assistant.settings
        if name == settings.answerer and max_tokens is None and temperature is None:
            return self.assistant.answerer
        key = (name, max_tokens, temperature)
        with self._lock:
            if key in self._answerers:
                self._answerers.move_to_end(key)
                return self._answerers[key]
            variant = settings.with_overrides(
                answerer=name, llm_max_tokens=max_tokens, llm_temperature=temperature
            )
            answerer = create_answerer(name, variant)
            self._answerers[key] = answerer
            while len(self._answerers) > _CACHED_VARIANTS:
                self._answerers.popitem(last=False)
            return answerer
