"""`fake`: a deterministic, scriptable LLM for testing the generative logic without a model.

A test double, not a product answerer: tests select it by name through the `fake_answerer`
fixture (tests/conftest.py), which registers it with `register_answerer` for one test, the way a
plugin would; or construct `FakeAnswerer(settings)` and pass it to `Assistant.ask`/`stream`.

Queue replies (text, or an exception to raise) with `FakeLLM.enqueue`; every message list the
answerer sends is recorded in `FakeLLM.calls`. With nothing queued it quotes the first sentence
of source [1], so the `fake` answerer also works end to end (e.g. in contract tests).
"""

from __future__ import annotations

import re
from collections import deque
from collections.abc import Sequence
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
from llama_index.core.bridge.pydantic import PrivateAttr
from llama_index.core.llms.callbacks import llm_chat_callback, llm_completion_callback
from llama_index.core.llms.custom import CustomLLM

from assistant.answerers.generative import GenerativeAnswerer, chat_stream
from assistant.text import sentence_spans

FAKE = "fake"  # the name the `fake_answerer` fixture registers it under
_FIRST_SOURCE = re.compile(r'<source id="1"[^>]*>\n(.*?)\n</source>', re.DOTALL)


class FakeLLM(CustomLLM):
    """Replies from a queue, word by word, and records what it was sent."""

    _replies: deque[str | BaseException] = PrivateAttr(default_factory=deque)
    _calls: list[list[ChatMessage]] = PrivateAttr(default_factory=list)

    @classmethod
    def class_name(cls) -> str:
        """The llama-index class name."""
        return "assistant_fake"

    @property
    def metadata(self) -> LLMMetadata:
        """A chat model with a generous context."""
        return LLMMetadata(context_window=8192, num_output=256, is_chat_model=True)

    def enqueue(self, *replies: str | BaseException) -> None:
        """Queue the next replies; an exception is raised instead of replying."""
        self._replies.extend(replies)

    @property
    def calls(self) -> list[list[ChatMessage]]:
        """Every message list received, oldest first."""
        return self._calls

    @property
    def pending(self) -> int:
        """Replies still queued."""
        return len(self._replies)

    def _reply_to(self, messages: Sequence[ChatMessage]) -> str:
        self._calls.append(list(messages))
        if self._replies:
            reply = self._replies.popleft()
            if isinstance(reply, BaseException):
                raise reply
            return reply
        return quote_first_source(messages)

    @llm_chat_callback()
    def chat(self, messages: Sequence[ChatMessage], **kwargs: Any) -> ChatResponse:
        """The next reply at once."""
        text = self._reply_to(messages)
        return ChatResponse(message=ChatMessage(role=MessageRole.ASSISTANT, content=text))

    @llm_chat_callback()
    def stream_chat(self, messages: Sequence[ChatMessage], **kwargs: Any) -> ChatResponseGen:
        """The next reply, a word at a time."""
        text = self._reply_to(messages)
        return chat_stream(re.findall(r"\S+\s*|\s+", text))

    @llm_completion_callback()
    def complete(self, prompt: str, formatted: bool = False, **kwargs: Any) -> CompletionResponse:
        """The next reply to a raw prompt."""
        return CompletionResponse(text=self._reply_to([ChatMessage(content=prompt)]))

    @llm_completion_callback()
    def stream_complete(
        self, prompt: str, formatted: bool = False, **kwargs: Any
    ) -> CompletionResponseGen:
        """The next reply to a raw prompt, at once."""
        text = self._reply_to([ChatMessage(content=prompt)])

        def generate() -> CompletionResponseGen:
            yield CompletionResponse(text=text, delta=text)

        return generate()


def quote_first_source(messages: Sequence[ChatMessage]) -> str:
    """The first sentence of source 1 with [1], or nothing when the prompt has no sources."""
    match = _FIRST_SOURCE.search(messages[-1].content or "") if messages else None
    if match is None:
        return ""
    text = match.group(1)
    spans = sentence_spans(text)
    if not spans:
        return ""
    start, end = spans[0]
    return f"{text[start:end]} [1]"


class FakeAnswerer(GenerativeAnswerer):
    """The generative answerer over a FakeLLM (see `llm` to script it)."""

    name = FAKE

    def create_llm(self) -> FakeLLM:
        """A fresh FakeLLM with an empty queue."""
        return FakeLLM()
