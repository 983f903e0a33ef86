"""Sentence spans and term analysis."""

from __future__ import annotations

from assistant.text import content_terms, sentence_spans, terms


def test_sentence_spans_keep_abbreviations_and_domains_together() -> None:
    text = (
        "Beijing regulators pulled the plug on Ant Group and JD.com's plans. "
        "The U.S. dollar fell vs. the yen! Is it true?\nA Heading Line\nLast one."
    )
    sentences = [text[s:e] for s, e in sentence_spans(text)]
    assert sentences == [
        "Beijing regulators pulled the plug on Ant Group and JD.com's plans.",
        "The U.S. dollar fell vs. the yen!",
        "Is it true?",
        "A Heading Line",
        "Last one.",
    ]


def test_sentence_spans_are_absolute_offsets_within_a_window() -> None:
    text = "First sentence here. Second sentence there. Third one."
    start = text.index("Second")
    spans = sentence_spans(text, start, len(text))
    assert [text[s:e] for s, e in spans] == ["Second sentence there.", "Third one."]
    assert spans[0][0] == start


def test_terms_drop_stopwords_and_stem() -> None:
    assert terms("Which companies had to halt their stablecoin plans?") == [
        "compani",
        "halt",
        "stablecoin",
        "plan",
    ]
    assert content_terms("plans plan planning") == ["plan"]


def test_an_acronym_and_its_plural_are_one_term() -> None:
    # Snowball keeps the "s" after a vowel or without one ("cpus", "pdfs"): "How many CPUs?"
    # would not find "one worker per CPU".
    assert content_terms("CPUs APIs PDFs IDs") == content_terms("CPU API PDF ID")
    assert content_terms("cpus") == ["cpus"]  # a lower-case word is left to the stemmer
    assert content_terms("Services") == ["servic"]  # a capitalised word is not an acronym
