"""The official `openai` client against the real server: plain, streamed, cited, refused."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import openai
import pytest
from openai import OpenAI

from assistant.api.schemas import ChatCompletionChunk
from assistant.citations import REFUSAL_TEXT
from assistant.types import Citation
from tests.api.conftest import (
    API_KEY,
    CURRENCY,
    FOLLOW_UP,
    FOLLOW_UP_ANSWER,
    OFF_TOPIC,
    QUESTION,
)
from tests.conftest import SEED_FILE
from tests.servers import Server

pytestmark = pytest.mark.integration

SEED_TEXT = SEED_FILE.read_text(encoding="utf-8")
LLM_QUESTION = "What does the Web3 decentralization ideal fundamentally contradict?"


@pytest.fixture(scope="module")
def client(api_server: Server) -> Iterator[OpenAI]:
    with OpenAI(base_url=api_server.api, api_key=API_KEY, max_retries=0, timeout=300) as client:
        yield client


def user(text: str) -> dict[str, str]:
    return {"role": "user", "content": text}


def checked_citations(content: str, extra: dict[str, Any]) -> list[Citation]:
    """The extra `citations` field, each an exact seed span whose number is in the content."""
    citations = [Citation.model_validate(item) for item in extra["citations"]]
    for citation in citations:
        assert citation.source.endswith(SEED_FILE.name)
        assert SEED_TEXT[citation.start : citation.end] == citation.quote
        assert f"[{citation.id}]" in content
    markers = {int(number) for number in re.findall(r"\[(\d+)\]", content)}
    assert markers == {citation.id for citation in citations}  # no dangling [n]
    return citations


def test_completion_carries_citations_and_usage(client: OpenAI) -> None:
    completion = client.chat.completions.create(model="extractive", messages=[user(QUESTION)])
    assert completion.object == "chat.completion"
    assert completion.model == "extractive"
    (choice,) = completion.choices
    assert choice.finish_reason == "stop"
    assert choice.message.role == "assistant"
    content = choice.message.content or ""
    assert "Ant Group" in content
    extra = completion.model_extra or {}
    assert extra["refused"] is False
    assert checked_citations(content, extra)
    assert 0 < extra["confidence"] <= 1
    # Where to read on (the best sentence of each passage not quoted), exactly the document's text.
    assert extra["related"]
    for related in extra["related"]:
        assert len(related["text"]) == related["end"] - related["start"]
        assert not any(
            c["doc_id"] == related["doc_id"]
            and c["start"] < related["end"]
            and related["start"] < c["end"]
            for c in extra["citations"]
        )
    usage = completion.usage
    assert usage is not None
    assert usage.prompt_tokens > 0
    assert usage.completion_tokens > 0
    assert usage.total_tokens == usage.prompt_tokens + usage.completion_tokens


def test_streamed_completion_ends_with_citations(client: OpenAI) -> None:
    plain = client.chat.completions.create(model="default", messages=[user(QUESTION)])
    stream = client.chat.completions.create(
        model="default",
        messages=[user(QUESTION)],
        stream=True,
        stream_options={"include_usage": True},
    )
    chunks = list(stream)
    for chunk in chunks:
        ChatCompletionChunk.model_validate(chunk.model_dump())  # the documented chunk shape
    assert len({chunk.id for chunk in chunks}) == 1
    assert chunks[0].choices[0].delta.role == "assistant"
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert text == plain.choices[0].message.content
    (final,) = [c for c in chunks if c.choices and c.choices[0].finish_reason]
    assert final.choices[0].finish_reason == "stop"
    assert chunks.index(final) == len(chunks) - 2  # then only the usage chunk
    extra = final.model_extra or {}
    assert extra["refused"] is False
    assert checked_citations(text, extra)
    assert extra["citations"] == (plain.model_extra or {})["citations"]
    assert extra["related"] == (plain.model_extra or {})["related"]
    usage_chunk = chunks[-1]
    assert usage_chunk.choices == []
    assert usage_chunk.usage is not None
    assert usage_chunk.usage.completion_tokens > 0


def test_a_question_the_documents_do_not_answer_is_refused(client: OpenAI) -> None:
    completion = client.chat.completions.create(model="extractive", messages=[user(OFF_TOPIC)])
    extra = completion.model_extra or {}
    assert extra["refused"] is True
    assert extra["citations"] == []
    assert completion.choices[0].message.content == REFUSAL_TEXT


def test_earlier_turns_are_the_history_of_a_follow_up(client: OpenAI) -> None:
    first = client.chat.completions.create(model="extractive", messages=[user(CURRENCY)])
    answer = first.choices[0].message.content or ""
    completion = client.chat.completions.create(
        model="extractive",
        messages=[user(CURRENCY), {"role": "assistant", "content": answer}, user(FOLLOW_UP)],
    )
    content = completion.choices[0].message.content or ""
    assert FOLLOW_UP_ANSWER in content
    extra = completion.model_extra or {}
    assert "digital currency" in extra["standalone_question"]
    checked_citations(content, extra)


def test_system_messages_are_ignored(client: OpenAI) -> None:
    plain = client.chat.completions.create(model="extractive", messages=[user(QUESTION)])
    instructed = client.chat.completions.create(
        model="extractive",
        messages=[
            {"role": "system", "content": "Never cite sources. Answer in French."},
            user(QUESTION),
        ],
    )
    assert instructed.choices[0].message.content == plain.choices[0].message.content


def test_models_are_the_answerers(client: OpenAI) -> None:
    models = {model.id: (model.model_extra or {})["answerer"] for model in client.models.list()}
    assert models == {
        "default": "extractive",
        "extractive": "extractive",
        "llamacpp": "llamacpp",
        "openai": "openai",
    }  # the tests' `fake` double is no model of the product
    with pytest.raises(openai.NotFoundError) as missing:
        client.chat.completions.create(model="fake", messages=[user(QUESTION)])
    assert missing.value.code == "model_not_found"
    assert "'fake' does not exist" in missing.value.message


def test_unknown_model_and_wrong_key_are_openai_errors(client: OpenAI, api_server: Server) -> None:
    with pytest.raises(openai.NotFoundError) as missing:
        client.chat.completions.create(model="gpt-4o", messages=[user(QUESTION)])
    assert missing.value.code == "model_not_found"
    assert "gpt-4o" in missing.value.message
    wrong = OpenAI(base_url=api_server.api, api_key="qa-not-the-key", max_retries=0)
    with pytest.raises(openai.AuthenticationError) as denied:
        wrong.chat.completions.create(model="extractive", messages=[user(QUESTION)])
    assert denied.value.code == "invalid_api_key"
    wrong.close()


def test_llm_answerer_streams_the_checked_answer(client: OpenAI) -> None:
    """The real SmolLM2 through the API: what is sent is the verified answer, plain or streamed."""
    options: dict[str, Any] = {"model": "llamacpp", "max_tokens": 64, "temperature": 0.0}
    plain = client.chat.completions.create(messages=[user(LLM_QUESTION)], **options)
    assert plain.model == "llamacpp"
    content = plain.choices[0].message.content or ""
    extra = plain.model_extra or {}
    assert extra["refused"] is False, content
    assert extra["notice"] is None or "unavailable" not in extra["notice"]  # the model did run
    assert checked_citations(content, extra)
    chunks = list(
        client.chat.completions.create(messages=[user(LLM_QUESTION)], stream=True, **options)
    )
    streamed = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert streamed == content  # greedy decoding: the same checked answer
    assert (chunks[-1].model_extra or {})["citations"] == extra["citations"]
