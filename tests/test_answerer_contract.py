"""One contract, every answerer that needs no model download: the same checks on each (and on
the `fake` test double, which stands in for the generative path)."""

from __future__ import annotations

from pathlib import Path

import pytest

from assistant import Answer, Assistant
from assistant.answerers import (
    REGISTRY,
    StreamingAnswerer,
    answerer_names,
    register_answerer,
    unregister_answerer,
)
from tests.conftest import SEED_FILE, make_settings
from tests.fake_answerer import FAKE, FakeAnswerer

SEED_TEXT = SEED_FILE.read_text(encoding="utf-8")
# llamacpp and openai run the same contract with the real model in test_llm*.py.
OFFLINE = ["extractive"]


def test_every_registered_answerer_is_covered() -> None:
    # The product's answerers only: the `fake` double is registered just for the tests that ask.
    assert set(REGISTRY) == {*OFFLINE, "llamacpp", "openai"}


def test_a_registered_answerer_is_chosen_by_name(tmp_path: Path, fake_answerer: str) -> None:
    assert fake_answerer in answerer_names()
    assert isinstance(
        Assistant(make_settings(tmp_path, answerer=fake_answerer)).answerer, FakeAnswerer
    )
    register_answerer(fake_answerer, FakeAnswerer)  # the same again: nothing changes
    with pytest.raises(ValueError, match="'fake' is taken"):
        register_answerer(fake_answerer, "tests.fake_answerer:FakeLLM")
    with pytest.raises(ValueError, match="taken"):
        register_answerer("extractive", FakeAnswerer)
    with pytest.raises(ValueError, match="built-in"):
        unregister_answerer("extractive")


@pytest.fixture(params=[*OFFLINE, FAKE])
def assistant(request: pytest.FixtureRequest, seed_index: Path, fake_answerer: str) -> Assistant:
    return Assistant(make_settings(seed_index, answerer=request.param))


def test_answer_cites_exact_spans_it_marks(assistant: Assistant) -> None:
    answer = assistant.ask("What is the central concern for authorities in Beijing?")
    assert not answer.refused
    assert answer.citations
    assert answer.support is not None
    assert answer.support > 0
    ids = [c.id for c in answer.citations]
    assert ids == list(range(1, len(ids) + 1))
    for citation in answer.citations:
        assert SEED_TEXT[citation.start : citation.end] == citation.quote
        assert f"[{citation.id}]" in answer.text
    assert {n for s in answer.sentences for n in s.citations} == set(ids)


def test_unanswerable_is_refused_without_citations(assistant: Assistant) -> None:
    answer = assistant.ask("What is the capital city of Canada?")
    assert answer.refused
    assert answer.text == "The documents don't answer this."
    assert answer.citations == ()
    assert answer.sentences == ()


def test_stream_ends_with_the_answer(assistant: Assistant) -> None:
    events = list(assistant.stream("What is the central concern for authorities in Beijing?"))
    assert isinstance(events[-1], Answer)
    assert all(isinstance(e, str) for e in events[:-1])
    if isinstance(assistant.answerer, StreamingAnswerer):
        assert len(events) > 2
