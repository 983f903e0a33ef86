"""A misspelt word of a question is searched for as the documents spell it."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import pytest

from assistant.core import Assistant
from assistant.respell import respelled
from assistant.text import term

Counts = Callable[[Sequence[str]], dict[str, int]]


def counter(held: dict[str, int]) -> tuple[list[list[str]], Counts]:
    """Counts of some words' terms, and the term lists asked for."""
    asked: list[list[str]] = []
    by_term = {term(word): n for word, n in held.items()}

    def counts(terms: Sequence[str]) -> dict[str, int]:
        asked.append(list(terms))
        return {t: by_term.get(t, 0) for t in terms}

    return asked, counts


def test_the_spelling_the_most_passages_hold_is_chosen() -> None:
    # "brokrages" is one letter off "brokerages" (a letter left out) and from no other word.
    _, counts = counter({"brokerages": 3})
    assert respelled("Which brokrages halted?", counts) == "Which brokerages halted?"
    # Capitalised as typed; every place the word is typed.
    assert respelled("Brokrages? Which brokrages?", counts) == "Brokerages? Which brokerages?"
    # Of two spellings one letter off ("cable", two swapped; "camel", one changed), the one
    # the most passages hold; a tie changes nothing.
    _, counts = counter({"cable": 5, "camel": 2})
    assert respelled("the cabel broke", counts) == "the cable broke"
    _, tied = counter({"cable": 5, "camel": 5})
    assert respelled("the cabel broke", tied) == "the cabel broke"


def test_words_that_are_no_slip_stay_as_typed() -> None:
    asked, counts = counter({"brokerages": 3, "linters": 1, "system": 4, "budget": 2})
    for question in (
        "Which BROKRAGES halted?",  # capitals: an acronym, or a name
        "Which BrokRages halted?",  # mixed case: a name
        "Is 'brokrages' in the log?",  # quoted: written exactly
        'Is "brokrages" in the log?',
        "Is `brokrages` in the log?",
        "Set --brokrages or /srv/brokrages or brokrages_max",  # code
        "Which vrokerages halted?",  # the first letter differs
        "Does the linter run?",  # an English word, however rare ("linters" is held)
        # Its last letter is never left out, changed or added to ("system"), and "systemed" is
        # no English word.
        "Read the systemd journal",
    ):
        assert respelled(question, counts) == question, question
    # A letter left out elsewhere is a slip, and a dotted name's parts are words.
    assert respelled("our budgt", counts) == "our budget"
    assert respelled("Is broker.brokrages set?", counts) == "Is broker.brokerages set?"
    # A word of four letters has only its middle two swapped ("yuan"): an acronym typed in
    # lower case is not one letter added ("hsts" is not "hosts"); one of three is never
    # looked up.
    asked, counts = counter({"yuan": 3, "hosts": 5, "tax": 2})
    assert respelled("the digital yaun", counts) == "the digital yuan"
    assert respelled("the hsts header", counts) == "the hsts header"
    asked.clear()
    assert respelled("the txa", counts) == "the txa"
    assert asked == []


def test_two_swapped_letters_find_any_word_and_a_stop_word_needs_no_count() -> None:
    # A swap finds a word that is no English word ("tokenization"); a letter left out,
    # changed or added only an English one.
    _, counts = counter({"tokenization": 4})
    assert respelled("halt asset toeknization", counts) == "halt asset tokenization"
    assert respelled("halt asset tokenizaton", counts) == "halt asset tokenizaton"
    # A stop word is in no index, and in every passage: "whtaever" is "whatever".
    _, counts = counter({})
    assert respelled("back to whtaever branch", counts) == "back to whatever branch"


def test_only_a_word_no_english_word_is_looked_up() -> None:
    asked, counts = counter({"brokerages": 3})
    assert respelled("Which companies were told to stop?", counts) == (
        "Which companies were told to stop?"
    )
    assert asked == []  # no count at all for an ordinary question


def test_the_passages_the_asker_may_read_decide() -> None:
    # The whole index holds "brokerages"; the asker's passages do not: nothing changes.
    _, anywhere = counter({"brokerages": 3})
    asked, mine = counter({})
    assert respelled("Which brokrages halted?", mine, anywhere) == "Which brokrages halted?"
    # The whole index only narrowed what the asker's passages were asked about.
    assert [term("brokerages")] in asked
    assert all(len(terms) <= 1 for terms in asked)
    _, both = counter({"brokerages": 1})
    assert respelled("Which brokrages halted?", both, anywhere) == "Which brokerages halted?"


def test_a_misspelt_question_is_answered_as_the_one_spelt_right(
    seed_assistant: Assistant,
) -> None:
    for typed, spelt in (
        (
            "Which brokrages were told to halt tokenization projects?",
            "Which brokerages were told to halt tokenization projects?",
        ),
        (
            "what did the csrc tell local brokrages to do",
            "what did the csrc tell local brokerages to do",
        ),
        (
            "Which regulator directed local brokerages to halt RWA toeknization projects?",
            "Which regulator directed local brokerages to halt RWA tokenization projects?",
        ),
    ):
        hurried, careful = (seed_assistant.ask(question) for question in (typed, spelt))
        assert hurried.question == typed
        assert hurried.standalone_question == spelt  # the chat's "Searched for" line
        assert careful.standalone_question is None
        quoted = [[c.quote for c in answer.citations] for answer in (hurried, careful)]
        assert quoted[0] == quoted[1]
        assert (hurried.text, hurried.refused) == (careful.text, careful.refused)
        assert hurried.confidence == pytest.approx(careful.confidence, abs=1e-6)


def test_the_documents_own_words_and_names_stay_as_typed(seed_assistant: Assistant) -> None:
    for question in (
        "What did the CSRC tell local brokerages to do?",  # spelt right
        "How does Solana compare to the digital yuan?",  # a name the documents lack
        # A letter left out of a word no English word is ("stablecoin"): a limit, as typed.
        "What is a stablecon?",
    ):
        assert seed_assistant.prepare_question(question).standalone == question
