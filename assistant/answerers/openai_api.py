"""`openai`: any OpenAI-compatible chat endpoint (llama.cpp server, Ollama, vLLM, OpenAI).

Through llama-index's `OpenAILike` adapter, which speaks both the chat and completion APIs and
sets the openai client's timeout and retries; the API key is read from settings only when the
client is built and never appears in a log or a notice.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from assistant.answerers.generative import GenerativeAnswerer

if TYPE_CHECKING:
    from llama_index.core.llms import LLM

# Local servers ignore the key, but the openai client insists on one.
PLACEHOLDER_KEY = "no-key"


class OpenAIAnswerer(GenerativeAnswerer):
    """Answers with a model served over the OpenAI API."""

    name = "openai"

    def create_llm(self) -> LLM:
        """An OpenAILike client of `llm_base_url` (no request is made until a question)."""
        from llama_index.llms.openai_like import OpenAILike

        settings = self.settings
        key = settings.llm_api_key.get_secret_value() if settings.llm_api_key else PLACEHOLDER_KEY
        # Typed as LLM here: whether mypy sees OpenAILike's own type depends on which other
        # llama-index packages are installed (without the [bench] extra it is Any).
        llm: LLM = OpenAILike(
            model=settings.llm_model,
            api_base=settings.llm_base_url,
            api_key=key,
            is_chat_model=True,
            context_window=settings.llm_context_window,
            max_tokens=settings.llm_max_tokens,
            temperature=settings.llm_temperature,
            timeout=settings.llm_timeout,
            max_retries=settings.llm_retries,
        )
        return llm

    def describe_failure(self, error: Exception) -> str:
        """Connection refused, timed out or an HTTP status: never the server's text or the key."""
        import openai

        where = self.settings.llm_base_url
        if isinstance(error, openai.APITimeoutError):
            return f"{where} did not answer within {self.settings.llm_timeout:g} s"
        if isinstance(error, openai.APIConnectionError):
            return f"cannot connect to {where}"
        if isinstance(error, openai.APIStatusError):
            return f"{where} answered HTTP {error.status_code}"
        return type(error).__name__
