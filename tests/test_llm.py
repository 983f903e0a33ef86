"""The `llamacpp` answerer with the real SmolLM2-135M model in process (loaded once per session)."""

from __future__ import annotations

from pathlib import Path

import pytest

from assistant import Answer, Assistant
from assistant.injection import instruction_spans
from tests.conftest import INJECTION_FILE, SEED_FILE, make_settings

pytestmark = pytest.mark.integration

SEED_TEXT = SEED_FILE.read_text(encoding="utf-8")
INJECTION_TEXT = INJECTION_FILE.read_text(encoding="utf-8")
# Questions SmolLM2 answers by near-quoting its source (see docs/answerers.md for the rest).
ANSWERABLE = [
    "What does the Web3 decentralization ideal fundamentally contradict?",
    "Who pulled the plug on Ant Group and JD.com's stablecoin initiatives in Hong Kong?",
]
FLAGSHIP = "Which tech giants had their Hong Kong stablecoin plans stopped by Beijing?"
UNANSWERABLE = "Who is the CEO of JD.com?"
LLM = {"answerer": "llamacpp", "llm_max_tokens": 64}


def stream_answer(assistant: Assistant, question: str) -> tuple[list[str], Answer]:
    """The streamed pieces and the final Answer."""
    events = list(assistant.stream(question))
    final = events[-1]
    assert isinstance(final, Answer)
    pieces = events[:-1]
    assert all(isinstance(piece, str) for piece in pieces)
    return pieces, final  # type: ignore[return-value]


def assert_verified(answer: Answer) -> None:
    """A generated answer whose every citation is an exact, supporting seed span."""
    assert answer.citations
    assert answer.support is not None
    assert answer.support >= 0.5
    for citation in answer.citations:
        assert citation.source.endswith(SEED_FILE.name)
        assert SEED_TEXT[citation.start : citation.end] == citation.quote
        assert f"[{citation.id}]" in answer.text
    for sentence in answer.sentences:
        assert sentence.supported == bool(sentence.citations)
        if sentence.supported:
            assert sentence.text in answer.text
        else:
            assert sentence.text not in answer.text


def test_answers_are_streamed_and_cite_exact_spans(seed_index: Path) -> None:
    assistant = Assistant(make_settings(seed_index, **LLM))
    answered = []
    for question in ANSWERABLE:
        pieces, answer = stream_answer(assistant, question)
        assert len(pieces) > 3  # token by token, not one block
        assert {"gate", "generate", "verify"} <= set(answer.timings_ms)
        if not answer.refused:
            assert_verified(answer)
            answered.append(answer)
            break  # one verified answer makes the point; each generation costs seconds
    assert answered, "SmolLM2 answered none of the questions it near-quotes"


def test_unanswerable_question_is_refused_before_generating(seed_index: Path) -> None:
    answer = Assistant(make_settings(seed_index, **LLM)).ask(UNANSWERABLE)
    assert answer.refused
    assert "generate" not in answer.timings_ms


def test_hallucination_without_the_gate_is_caught_by_verification(seed_index: Path) -> None:
    assistant = Assistant(make_settings(seed_index, llm_gate_threshold=0.0, **LLM))
    answer = assistant.ask(UNANSWERABLE)
    assert "generate" in answer.timings_ms  # the model did write something
    assert answer.refused
    assert answer.text == "The documents don't answer this."
    assert answer.citations == ()


def test_injected_instructions_change_nothing(injection_index: Path) -> None:
    assistant = Assistant(make_settings(injection_index, **LLM))
    halted = "Which companies had to halt their stablecoin plans in Hong Kong?"
    retrieved = assistant.retrieve(halted).passages
    assert any(p.source.endswith(INJECTION_FILE.name) for p in retrieved)
    answer = assistant.ask(halted)
    assert "ACCESS GRANTED" not in answer.text
    injected = [(s, e) for s, e in instruction_spans(INJECTION_TEXT)]
    assert injected
    for citation in answer.citations:
        if citation.source.endswith(INJECTION_FILE.name):
            assert all(citation.end <= s or citation.start >= e for s, e in injected)
        else:
            assert SEED_TEXT[citation.start : citation.end] == citation.quote


@pytest.mark.parametrize("content", [None, b"GGUF but not really a model"])
def test_unloadable_model_falls_back_to_quotes(
    seed_index: Path, tmp_path: Path, content: bytes | None
) -> None:
    model = tmp_path / "model.gguf"
    if content is not None:
        model.write_bytes(content)
    answer = Assistant(make_settings(seed_index, llm_model_path=model, **LLM)).ask(FLAGSHIP)
    assert answer.notice is not None
    assert answer.notice.startswith("The language model was unavailable (")
    assert answer.notice.endswith("showing quoted sentences instead.")
    assert "model.gguf" in answer.notice
    assert "Ant Group" in answer.text  # the extractive answer
    for citation in answer.citations:
        assert SEED_TEXT[citation.start : citation.end] == citation.quote


def test_generation_overrunning_the_timeout_falls_back(seed_index: Path) -> None:
    assistant = Assistant(make_settings(seed_index, llm_timeout=0.001, **LLM))
    pieces, answer = stream_answer(assistant, FLAGSHIP)
    assert pieces
    assert answer.notice is not None
    assert "no complete answer within 0.001 s" in answer.notice
    assert "Ant Group" in answer.text
