"""The citation verifier on hand-made claims against a real seed passage."""

from __future__ import annotations

import pytest

from assistant import Assistant
from assistant.types import Passage
from assistant.verify import Verifier, strip_markers


@pytest.fixture(scope="module")
def ft_passage(seed_assistant: Assistant) -> Passage:
    passages = seed_assistant.retrieve("first reported by Financial Times", k=10).passages
    return next(p for p in passages if "Financial Times" in p.text)


@pytest.mark.parametrize(
    ("claim", "supported", "method"),
    [
        ("This move, first reported by Financial Times, is part of a larger, two-pronged "
         "strategy [1].", True, "exact"),
        ("This move was first reported by Financial Times.", True, "semantic"),
        ("China restricts private digital currencies so they cannot compete with the "
         "state-backed digital yuan.", True, "semantic"),
        ("The move was first reported by Bloomberg.", False, "semantic"),
        ("The CEO of JD.com is Richard Liu.", False, "semantic"),
    ],
)  # fmt: skip
def test_alignment(
    seed_assistant: Assistant, ft_passage: Passage, claim: str, supported: bool, method: str
) -> None:
    alignment = Verifier(seed_assistant.embedder).align(claim, ft_passage)
    assert alignment.supported is supported, alignment
    assert alignment.method == method
    assert ft_passage.start <= alignment.start < alignment.end <= ft_passage.end


def test_wrong_numbers_are_not_supported(seed_assistant: Assistant) -> None:
    verifier = Verifier(seed_assistant.embedder)
    span = "The e-CNY is already under testing procedures of hundreds of millions of users."
    assert verifier.support("The e-CNY is tested by hundreds of millions of users.", span) > 0.6
    assert verifier.support("The e-CNY is tested by 300 million users.", span) <= 0.3
    assert verifier.support("anything", "") == 0.0


def test_strip_markers() -> None:
    assert strip_markers("Ant Group [1] and JD.com [2].") == "Ant Group and JD.com."
