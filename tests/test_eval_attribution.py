"""Citation judging (ALCE precision/recall, faithfulness) with the real verifier."""

from __future__ import annotations

import pytest

from assistant import Answer, AnswerSentence, Assistant, Citation
from assistant.evaluation.attribution import answer_sentences, attribute, holds_evidence
from assistant.evaluation.golden import ExpectedSource
from assistant.verify import SUPPORTED_MIN, Verifier
from tests.conftest import SEED_FILE

SOURCE = f"seeds/{SEED_FILE.name}"
HALT = (
    "Beijing regulators pulled the plug on Ant Group and JD.com's stablecoin initiatives in "
    "Hong Kong"
)
KETTLE = "The kettle in the third-floor kitchen is descaled every Friday."


def cite(number: int, quote: str, source: str = SOURCE) -> Citation:
    return Citation(id=number, source=source, start=0, end=len(quote), quote=quote, score=1.0)


def answer(*sentences: tuple[str, tuple[int, ...]], citations: tuple[Citation, ...]) -> Answer:
    return Answer(
        question="q",
        text=" ".join(text for text, _ in sentences),
        citations=citations,
        sentences=tuple(AnswerSentence(text=t, citations=ids) for t, ids in sentences),
    )


@pytest.fixture(scope="module")
def verifier(seed_assistant: Assistant) -> Verifier:
    return Verifier(seed_assistant.embedder)


def test_a_verbatim_quote_is_a_valid_citation(verifier: Verifier) -> None:
    judged = attribute(
        answer((f"{HALT} [1].", (1,)), citations=(cite(1, HALT),)), (), verifier.support, 0.6
    )
    assert judged.citation_precision == 1.0
    assert judged.citation_recall == 1.0
    assert judged.faithfulness == 1.0
    assert judged.has_valid_citation
    assert judged.invalid_ids() == []


def test_a_quote_that_does_not_support_its_sentence_is_invalid(verifier: Verifier) -> None:
    judged = attribute(
        answer((f"{HALT} [1].", (1,)), citations=(cite(1, KETTLE),)),
        (),
        verifier.support,
        SUPPORTED_MIN,
    )
    assert judged.citation_precision == 0.0
    assert judged.citation_recall == 0.0
    assert judged.faithfulness == 0.0
    assert judged.invalid_ids() == [1]
    assert not judged.has_valid_citation


def test_one_good_and_one_irrelevant_citation_halve_precision(verifier: Verifier) -> None:
    judged = attribute(
        answer((f"{HALT} [1][2].", (1, 2)), citations=(cite(1, HALT), cite(2, KETTLE))),
        (),
        verifier.support,
        SUPPORTED_MIN,
    )
    assert judged.citation_precision == 0.5
    assert judged.citation_recall == 1.0
    assert judged.invalid_ids() == [2]


def test_a_citation_holding_the_expected_evidence_is_valid(verifier: Verifier) -> None:
    expected = (ExpectedSource(source=SEED_FILE.name, quote="pulled the plug on Ant Group"),)
    claim = "Yes, that happened [1]."
    judged = attribute(
        answer((claim, (1,)), citations=(cite(1, HALT),)), expected, verifier.support, 0.6
    )
    assert judged.citations[0].evidence
    assert judged.citation_precision == 1.0
    assert judged.citation_recall == 1.0  # covered by the evidence ...
    assert judged.faithfulness == 0.0  # ... though the sentence itself is not supported
    other_source = (ExpectedSource(source="other.txt", quote="pulled the plug on Ant Group"),)
    assert not holds_evidence(cite(1, HALT), other_source)


def test_the_section_label_before_a_quote_is_not_judged_as_a_claim(verifier: Verifier) -> None:
    # The extractive answer names a quote's section before it when the quote does not:
    # the citation's `section`, not a claim the quote must support.
    label = "The util-linux package uses the <major>.<minor>.<maintenance> version numbering"
    quote = "During the test period changes to the code base are restricted."
    labelled = cite(1, quote).model_copy(update={"section": f"2.1 {label}"})
    judged = attribute(
        answer((f"{label}: {quote} [1]", (1,)), citations=(labelled,)),
        (),
        verifier.support,
        SUPPORTED_MIN,
    )
    assert judged.invalid_ids() == []
    assert judged.sentences[0].text == f"{label}: {quote} [1]"  # reported as the answer said it
    # Words before a colon that no cited section holds are a claim like any other.
    unlabelled = attribute(
        answer((f"{label}: {quote} [1]", (1,)), citations=(cite(1, quote),)),
        (),
        verifier.support,
        SUPPORTED_MIN,
    )
    assert unlabelled.invalid_ids() == [1]


def test_markers_without_a_citation_are_never_valid(verifier: Verifier) -> None:
    judged = attribute(
        answer((f"{HALT} [1][3].", (1, 3)), citations=(cite(1, HALT),)), (), verifier.support, 0.6
    )
    assert judged.invalid_ids() == [3]
    assert judged.citation_precision == 0.5


def test_refusals_have_nothing_to_judge(verifier: Verifier) -> None:
    refusal = Answer(question="q", text="The documents don't answer this.", refused=True)
    judged = attribute(refusal, (), verifier.support, 0.6)
    assert judged.citation_precision is None
    assert judged.faithfulness is None


def test_alce_partial_support_keeps_a_needed_citation() -> None:
    """Logic only: two quotes support the sentence together, neither alone (ALCE rule)."""

    def support(claim: str, text: str) -> float:
        return 1.0 if "Ant" in text and "Kong" in text else 0.0

    both = answer(
        ("Ant Group stopped in Hong Kong [1][2].", (1, 2)),
        citations=(cite(1, "Ant Group stopped."), cite(2, "It was in Hong Kong.")),
    )
    judged = attribute(both, (), support, 0.6)
    assert judged.faithfulness == 1.0
    assert judged.citation_precision == 1.0
    redundant = answer(
        ("Ant Group stopped in Hong Kong [1][2].", (1, 2)),
        citations=(cite(1, "Ant Group stopped in Hong Kong."), cite(2, "Ant Group stopped.")),
    )
    assert attribute(redundant, (), support, 0.6).invalid_ids() == [2]


def test_sentences_come_from_the_text_when_the_answerer_gives_none() -> None:
    plain = Answer(question="q", text="Ant Group halted [1]. JD.com did too [1][2].")
    assert answer_sentences(plain) == [
        ("Ant Group halted [1].", (1,)),
        ("JD.com did too [1][2].", (1, 2)),
    ]
