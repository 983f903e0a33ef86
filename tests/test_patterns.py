"""Patterns that read document text run in time proportional to it, whatever the text.

Each of these once backtracked without end on a line a document can hold: a pattern with two
quantifiers that can take the same characters tries every way of sharing them out. Each input
below kept the pattern as first written busy for minutes to hours (the suite's timeout fails
it); as written now, each is read in milliseconds.
"""

from __future__ import annotations

from assistant.drafting import heading_drafts
from assistant.loaders import document_from_bytes
from assistant.loaders.reflow import soft_break
from assistant.text import CONTENTS_ENTRY
from assistant.types import Heading


def test_dot_leaders_without_a_page_number_are_read_at_once() -> None:
    # A PDF line of 20,000 dots and no page number (a form's fill-in line run long): 2,000
    # dots took 29 s, and the time grew with the cube of the run.
    long_line = soft_break("." * 20_000 + " signature", "Date:", width=80)
    assert long_line == soft_break("." * 200 + " signature", "Date:", width=80)
    # A contents entry still is one ("Locale . . . . 167"), and a run without a number is not.
    assert CONTENTS_ENTRY.search("Locale . . . . 167") is not None
    assert CONTENTS_ENTRY.search(". " * 200_000 + "end") is None
    assert CONTENTS_ENTRY.search("." * 200_000 + "x") is None


def test_a_heading_of_many_digits_is_read_at_once() -> None:
    # "11.7.1. Setup" loses its numbering; a heading of 40 digits (an id, a timestamp) took
    # the numbering pattern longer than any run (24 digits: 0.9 s, doubling every digit).
    numbered = "11.7.1. Setting up the mirror"
    digits = "1" * 40 + "x build log"  # no numbering: the digits run on into a word
    text = f"{numbered}\nSet the mirror first.\n{digits}\nThe log of the build.\n"
    headings = (Heading(0, numbered), Heading(text.index(digits), digits))
    drafts = list(heading_drafts("guide.md", text, headings))
    assert [d.question for d in drafts] == ["How do I set up the mirror?"]


def test_a_long_run_of_spaces_in_markdown_is_read_at_once() -> None:
    # Shortcodes (":warning:") are removed with the spaces before them; 200,000 spaces and no
    # shortcode were tried from every space.
    data = ("Before" + " " * 200_000 + "after :warning: done.\n").encode()
    document = document_from_bytes(data, ".md", "notes.md", "notes")
    assert document.text.split() == ["Before", "after", "done."]


def test_template_tags_that_never_close_are_read_at_once() -> None:
    # Each "{%" is read up to a bounded length for its "%}", and each tag's line and code spans
    # are counted on from the tag before it (a line of tags re-read the whole line before each
    # of them: 20,000 tags took 74 s, and the time grew with the square of the line).
    unclosed = ("Text {%a " * 20_000 + "\n").encode()
    document = document_from_bytes(unclosed, ".md", "notes.md", "notes")
    assert document.text.count("{%a") == 20_000
    tags = ("Post in " + '{% slack "ops" %} ' * 100_000 + "`{% x %}`\n").encode()
    document = document_from_bytes(tags, ".md", "notes.md", "notes")
    assert document.text.split()[:4] == ["Post", "in", "ops", "ops"]
    assert document.text.rstrip().endswith("`{% x %}`")
