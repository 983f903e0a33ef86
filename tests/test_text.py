"""Sentence spans and term analysis."""

from __future__ import annotations

import itertools

from assistant.text import (
    content_terms,
    cut_inside_code,
    for_terminal,
    printable,
    sentence_spans,
    terms,
    with_apostrophes,
)


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


def test_a_list_items_number_opens_its_first_sentence() -> None:
    text = (
        "Steps:\n1. First, reset the history. Then add the hunks.\n  12. Commit them.\n"
        "iii. Check again.\n7.\nSee step 1. Then go on."
    )
    assert [text[s:e] for s, e in sentence_spans(text)] == [
        "Steps:",
        "1. First, reset the history.",
        "Then add the hunks.",
        "12. Commit them.",
        "iii. Check again.",
        "7.",  # a number on a line of its own stays alone
        "See step 1.",
        "Then go on.",
    ]


def test_sentence_spans_are_absolute_offsets_within_a_window() -> None:
    text = "First sentence here. Second sentence there. Third one."
    start = text.index("Second")
    spans = sentence_spans(text, start, len(text))
    assert [text[s:e] for s, e in spans] == ["Second sentence there.", "Third one."]
    assert spans[0][0] == start


def test_a_cut_after_a_question_or_exclamation_mark_inside_code_is_told_apart() -> None:
    def cuts(text: str) -> list[bool]:
        spans = sentence_spans(text)
        return [cut_inside_code(text, a[1], b[0]) for a, b in itertools.pairwise(spans)]

    # A symbol after the mark: a shell test, a ternary, a table cell after a quoted greeting.
    assert cuts("The command looks like this: test ! -f /archive/%f && cp %p x") == [True]
    assert cuts("plot DATA using 1 : (valid(2) ? $2 : prior) smooth unique. Next.") == [
        True,
        False,
    ]
    assert cuts('Say "Hello, world!" | greeting') == [True]
    # A mark standing alone, then a lower-case word: the sentence is about the mark.
    assert cuts("In a wild-card string, ? matches any single character.") == [True]
    # After a word, the mark ends its sentence, whatever the next one opens with (people type
    # questions so); so it does before a capital, a quote or a bracket, and at a line's end.
    assert cuts("Is that possible? do we need a restart? Yes.") == [False, False]
    assert cuts("Done! Now go. Really?! (Maybe.)") == [False, False, False]
    assert cuts("Why?\n-f is the flag.") == [False]


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


def test_a_latin_word_reads_the_same_with_or_without_its_diacritics() -> None:
    assert content_terms("Zürich café naïve résumés") == content_terms("Zurich cafe naive resumes")
    assert content_terms("ﬁle") == content_terms("file")  # a PDF's ligature
    assert content_terms("Straße") == ["straße"]  # no Latin letter to fold it to
    assert content_terms("Москва") == ["москва"]  # another script stays as written


def test_a_line_longer_than_punkt_reads_at_once_is_cut_at_a_space() -> None:
    """NLTK's Punkt gives up after 5 s of matching on one text: a 900 kB line of "a. a. a. ..."
    raised TimeoutError, which stopped a whole ingest run. A line is read 10,000 characters at a
    time at most, cut at a space, and every word is still in a span."""
    line = " ".join(f"w{n}" for n in range(6000))  # no sentence end in 34,000 characters
    text = f"First line.\n{line}\nLast line."
    spans = sentence_spans(text)
    first, *_, last = (text[s:e] for s, e in spans)
    assert (first, last) == ("First line.", "Last line.")
    middle = spans[1:-1]
    assert len(middle) == 4
    assert all(e - s <= 10_000 for s, e in middle)
    assert " ".join(text[s:e] for s, e in middle) == line  # cut at spaces, nothing lost


def test_names_are_made_printable_and_safe_for_a_terminal() -> None:
    # A byte of a file name that is not UTF-8 (kept as a lone surrogate) is one U+FFFD; a lone
    # surrogate from elsewhere too; text that is fine stays as it is.
    assert printable(b"minutes\xff.txt".decode("utf-8", "surrogateescape")) == "minutes\ufffd.txt"
    assert printable("a\ud800b") == "a\ufffdb"
    assert printable("Café ✓") == "Café ✓"
    # Escape sequences and controls go, line breaks and tabs stay.
    assert for_terminal("\x1b[2J\x1b[31mred.txt\x07\r") == "red.txt"
    assert for_terminal("\x1b]0;owned\x07a\tb\nc") == "a\tb\nc"


def test_contractions_typed_without_an_apostrophe_are_spelt_with_one() -> None:
    assert with_apostrophes("Im stuck: whats wrong, and why doesnt it start?") == (
        "I'm stuck: what's wrong, and why doesn't it start?"
    )
    assert with_apostrophes("Whats new? Dont ask; cant, wont") == (
        "What's new? Don't ask; can't, won't"
    )
    # Words that are English as they stand, a word in capitals, code and a file stay as typed.
    assert with_apostrophes("its well, were ill, lets go") == "its well, were ill, lets go"
    assert with_apostrophes("IM is down and DONT is set") == "IM is down and DONT is set"
    assert with_apostrophes("open dont.txt, pass --dont or whats_new") == (
        "open dont.txt, pass --dont or whats_new"
    )
