"""The extractive answerer's logic on fixed passages: composition and refusal features.

No model is involved: windows come from `evidence.window_for` over hand-written passages,
and scores are given, so each test pins one rule.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from assistant import Assistant
from assistant.answerers.base import Question
from assistant.answerers.extractive import (
    ModelFileError,
    assess,
    compose,
    load_model,
    shipped_model,
)
from assistant.answerers.quoting import quotes
from assistant.answerers.window_features import (
    _WHERE,
    Candidate,
    _coverage,
    candidate_features,
    confidence_features,
    points_elsewhere,
)
from assistant.catalog import ChunkRow
from assistant.citations import with_marker
from assistant.evidence import Window, window_for
from assistant.interpret import analyse
from assistant.retrieval import Retrieval
from assistant.text import content_terms, sentence_spans
from assistant.types import Heading, Passage

DIMENSION = 4


def test_a_quote_names_its_section_s_thing_once() -> None:
    """Two windows of one defined term: the first quote is labelled with the term, the second
    not again; a quote naming the term needs no label."""
    text = (
        "shared_buffers (integer)\nSets the amount of memory for shared buffers. It is set "
        "at server start. The default is typically 128 megabytes.\nwork_mem (integer)\nSets "
        "the memory of a sort. The work_mem setting is per operation."
    )
    terms = (
        Heading(0, "shared_buffers (integer)", "term"),
        Heading(text.index("work_mem (integer)"), "work_mem (integer)", "term"),
    )
    passage = replace(passage_of(text), headings=terms)

    def sentence(quoted: str, score: float) -> Candidate:  # the sentence alone, not grown
        start = text.index(quoted)
        window = Window(passage, start, start + len(quoted), start, start + len(quoted))
        return Candidate(window, {}, score)

    chosen = [
        sentence("It is set at server start.", 0.6),
        sentence("The default is typically 128 megabytes.", 0.5),
        sentence("The work_mem setting is per operation.", 0.4),
    ]
    assert quotes(chosen) == [
        "shared_buffers (integer): It is set at server start.",
        "The default is typically 128 megabytes.",
        "The work_mem setting is per operation.",  # its name is its section's
    ]


def test_a_label_stands_on_its_own_line_before_a_quote_that_opens_on_code() -> None:
    text = (
        "SMTP-Only Milter applications\nSet the action:\n/etc/postfix/main.cf:\n"
        "    milter_default_action = accept\nmilter_protocol = 6\n"
        "4 /etc/postfix/main.cf:\n5     relay_domains = example.com\n"
    )
    passage = replace(
        passage_of(text), headings=(Heading(0, "SMTP-Only Milter applications", "term"),)
    )

    def quoted(part: str) -> Candidate:
        start = text.index(part)
        return Candidate(Window(passage, start, start + len(part), start, start + len(part)), {})

    listing = "/etc/postfix/main.cf:\n    milter_default_action = accept"
    assert quotes([quoted(listing)]) == [f"SMTP-Only Milter applications:\n{listing}"]
    assert quotes([quoted("milter_protocol = 6")]) == [
        "SMTP-Only Milter applications:\nmilter_protocol = 6"
    ]
    assert quotes([quoted("Set the action:")]) == ["SMTP-Only Milter applications: Set the action:"]
    numbered = "4 /etc/postfix/main.cf:\n5     relay_domains = example.com"  # a numbered listing
    assert quotes([quoted(numbered)]) == [f"SMTP-Only Milter applications:\n{numbered}"]


@pytest.mark.parametrize(
    ("text", "elsewhere"),
    [
        ("Web site and issue trackers: http://sourceforge.net/projects/gnuplot", True),
        ("https://asymptote.sourceforge.io/asyRefCard.pdf", True),
        ("See also git-tag(1).", True),
        ("See skip (p. 112), columnhead (p. 40). Please see the section below.", True),
        ("In the next section, we discuss various ways to use the Require directive.", True),
        ("The next section describes how to check whether validation fails.", True),
        ("For additional information on tuning these settings, see Section 30.5.", True),
        ("For more details, please refer to the reference manual.", True),
        # a pointer followed by the fact itself
        ("For more information on caching, see Section 5, which sets the TTL to 300 s.", False),
        # a fact, then a pointer; a pointer that names what to read about; a link in a sentence
        ("Otherwise skip it explicitly. See skip (p. 112).", False),
        ("For more information, review the details of the BREACH family of attacks.", False),
        ("The reference card is at https://example.org/card.pdf for printing.", False),
        ("Seed the generator first.", False),
    ],
)
def test_a_window_that_only_says_where_to_look_is_no_answer(text: str, elsewhere: bool) -> None:
    assert points_elsewhere(text) is elsewhere


def test_a_bare_link_answers_an_ask_for_a_place() -> None:
    assert points_elsewhere("https://example.org/card.pdf", wants_a_place=True) is False
    # "Is it documented anywhere?" does not ask for a place; "Where ...?" does
    assert _WHERE.search("Is it documented anywhere?") is None
    assert _WHERE.search("Where can I download the reference card?") is not None


def test_a_marker_after_code_leaves_the_code_as_it_is() -> None:
    """The marker goes before a sentence's closing stop, but after a command's last
    character: "example.com." is the name the command asks for."""
    assert with_marker("Ask the server:\n$ dig @192.168.1.13 example.com.", 1) == (
        "Ask the server:\n$ dig @192.168.1.13 example.com. [1]"
    )
    assert with_marker("The default is five seconds.", 2) == "The default is five seconds [2]."


def test_a_label_contained_in_an_earlier_one_is_still_given_and_a_field_names_nothing() -> None:
    text = (
        "maintenance_work_mem (integer)\nSets it. It is 64 MB by default.\n"
        "work_mem (integer)\nSets it. The default is four megabytes.\n"
        "Parameters:\nSets it. The timeout is in seconds."
    )
    headings = tuple(
        Heading(text.index(f"\n{title}") + 1 if offset else 0, title, "term")
        for offset, title in enumerate(
            ("maintenance_work_mem (integer)", "work_mem (integer)", "Parameters:")
        )
    )
    passage = replace(passage_of(text), headings=headings)

    def sentence(quoted: str) -> Candidate:
        start = text.index(quoted)
        return Candidate(
            Window(passage, start, start + len(quoted), start, start + len(quoted)), {}
        )

    chosen = [sentence("It is 64 MB by default."), sentence("The default is four megabytes.")]
    assert quotes(chosen) == [
        "maintenance_work_mem (integer): It is 64 MB by default.",
        "work_mem (integer): The default is four megabytes.",
    ]
    assert quotes([sentence("The timeout is in seconds.")]) == ["The timeout is in seconds."]


def passage_of(text: str, chunk: str = "d:0") -> Passage:
    spans = tuple(sentence_spans(text))
    return Passage(
        chunk_id=chunk,
        doc_id="d",
        source="manual.txt",
        title="Manual",
        text=text,
        start=0,
        end=len(text),
        score=1.0,
        sentence_spans=spans,
        sentence_vectors=np.zeros((len(spans), DIMENSION), dtype=np.float16),
    )


def candidate(passage: Passage, sentence: str, score: float, **features: float) -> Candidate:
    start = passage.text.index(sentence)
    return Candidate(window_for(passage, start, start + len(sentence)), dict(features), score)


def test_a_lead_without_the_default_asked_for_is_joined_by_the_window_stating_it() -> None:
    passage = passage_of(
        "max_workers sets how many worker processes may run at once. "
        "Raising it needs more memory. "
        "The default is three."
    )
    lead = candidate(passage, "max_workers sets how many worker processes may run at once.", 0.9,
                     asks_default=1.0)  # fmt: skip
    other = candidate(passage, "Raising it needs more memory.", 0.85, asks_default=1.0)
    default = candidate(passage, "The default is three.", 0.6, asks_default=1.0, default_ok=1.0)
    chosen = compose([lead, other, default], gain=1.01)
    assert [c.text for c in chosen] == [lead.text, default.text]


def test_a_window_saying_the_lead_again_from_another_place_is_not_added() -> None:
    """The options table's row repeats the entry the lead quotes: two new words ("Statement",
    "Description") do not make it a second fact; the other setting's sentence is one."""
    entry = passage_of(
        "tcp-clients sets the maximum number of simultaneous client TCP connections accepted "
        "by the server. The default is 150."
    )
    table = passage_of(
        "Statement: tcp-clients | Description: the maximum number of simultaneous client TCP "
        "connections accepted by the server. The limit on recursive clients is separate.",
        chunk="e:0",
    )
    table = replace(table, doc_id="e", source="tables.txt")
    lead = candidate(entry, entry.text[: entry.text.index(" The default")], 0.4)
    row = candidate(table, table.text[: table.text.index(" The limit")], 0.39)
    other = candidate(table, "The limit on recursive clients is separate.", 0.38)
    chosen = compose([lead, row, other], gain=0.01)
    assert [c.text for c in chosen] == [lead.text, other.text]


def test_a_window_inside_the_best_one_scored_nearly_as_well_leads_without_the_rest() -> None:
    """The table row asked about inside the table and its lead-in: the row alone answers."""
    text = (
        "Hotels are paid up to these amounts per night:\n\n"
        "City: Munich | Maximum per night: 170 EUR\n"
        "City: London, Paris | Maximum per night: 210 EUR\n\n"
        "Book through the travel portal."
    )
    passage = passage_of(text)
    table = text[: text.index("\n\nBook")]
    whole = Candidate(Window(passage, 0, len(table), 0, 46, expanded=True), {}, 0.71)
    row = candidate(passage, "City: London, Paris | Maximum per night: 210 EUR", 0.70)
    other = candidate(passage, "Book through the travel portal.", 0.2)
    assert compose([whole, row, other], gain=0.5) == [row]
    # The lead-in with its first row only is the table cut short, not a part chosen from it.
    first = Candidate(Window(passage, 0, text.index("\nCity: London"), 0, 46), {}, 0.705)
    assert compose([whole, first, other], gain=0.5) == [whole]
    # Scored well below the best, the row is no answer of its own: the table leads.
    lower = replace(row, score=0.6)
    assert compose([whole, lower, other], gain=0.5) == [whole]
    # In code, a window inside the best is an example cut short: the example leads.
    code = passage_of(
        "For example:\n\n    grep commit | cut -d' ' -f3 |\n    xargs git log --oneline\n"
    )
    example = Candidate(Window(code, 0, len(code.text.rstrip()), 0, 12, expanded=True), {}, 0.55)
    piece = candidate(code, "grep commit | cut -d' ' -f3 |", 0.54)
    assert compose([example, piece], gain=0.5) == [example]


def test_a_window_holding_a_chosen_one_with_more_around_it_takes_its_place() -> None:
    """The reader module's short call is the first lines of the longer example on another
    page: quoting both says the call twice. The fuller window takes the short one's place,
    where it stood (it holds every word the short one had)."""

    def whole(text: str, doc: str) -> Candidate:  # the one sentence of a document of its own
        passage = replace(passage_of(text, chunk=f"{doc}:0"), doc_id=doc, source=f"{doc}.txt")
        return candidate(passage, text, 0.35)

    short = passage_of("Call open(name, newline='') first.")
    lead = candidate(short, short.text, 0.4)
    rows = "csv.reader(handle) walks the rows and reports the line number of a malformed row."
    fuller = whole(f"A complete reader: call open(name, newline='') first, then {rows}", "e")
    assert compose([lead, fuller], gain=0.01) == [fuller]
    # A window that lacks one of the lead's words is another fact, added after it.
    partial = whole(f"A complete reader: {rows}", "o")
    assert compose([lead, partial], gain=0.01) == [lead, partial]
    # The place it took counts as spent: two windows follow a lead at most, so one more joins.
    more = [whole("Rows may span lines inside quotes.", "t"), whole("Dialects name it.", "f")]
    assert compose([lead, fuller, *more], gain=0.0001) == [fuller, more[0]]


def test_the_default_stated_under_the_leads_own_setting_beats_a_better_scored_one_elsewhere() -> (
    None
):
    text = (
        "wal_keep_size\nIf wal_keep_size is zero (the default), no extra segments are kept.\n"
        "max_wal_size\nMaximum size to let the WAL grow between checkpoints. "
        "It is a soft limit that heavy load can exceed. "
        "The default is 1 GB."
    )
    sections = [
        Heading(0, "wal_keep_size"),
        Heading(text.index("max_wal_size"), "max_wal_size"),
    ]
    passage = replace(passage_of(text), headings=tuple(sections))
    lead_text = "Maximum size to let the WAL grow between checkpoints."
    lead = candidate(passage, lead_text, 0.8, asks_default=1.0)
    other_text = "If wal_keep_size is zero (the default), no extra segments are kept."
    elsewhere = candidate(passage, other_text, 0.7, asks_default=1.0, default_ok=1.0)
    own = candidate(passage, "The default is 1 GB.", 0.6, asks_default=1.0, default_ok=1.0)
    assert "1 GB" not in lead.text
    assert "wal_keep_size" not in lead.text
    assert compose([lead, elsewhere, own], gain=1.01) == [lead, own]
    # Without a default under the lead's setting, the best one elsewhere still supplies it,
    # after the lead: it is of another section (one section's windows read in its order).
    assert compose([lead, elsewhere], gain=1.01) == [lead, elsewhere]


def test_no_default_window_is_added_when_the_question_does_not_ask_for_one() -> None:
    passage = passage_of("Workers run in parallel. The default is three.")
    lead = candidate(passage, "Workers run in parallel.", 0.9)
    default = candidate(passage, "The default is three.", 0.6)
    assert compose([lead, default], gain=1.01) == [lead]


def test_a_confident_lead_stands_alone_and_an_uncertain_one_is_joined_by_the_next_best() -> None:
    own = passage_of("Workers run in parallel on every core of the machine.")
    other = replace(
        passage_of("The pool size follows the number of processors found.", chunk="e:0"),
        doc_id="e",
    )
    second = candidate(other, "The pool size follows the number of processors found.", 0.6)
    # The lead misses with chance 0.05, the second holds the answer with 0.6: 0.03 < 0.05.
    confident = candidate(own, "Workers run in parallel on every core of the machine.", 0.95)
    assert compose([confident, second], gain=0.05) == [confident]
    # 0.5 * 0.6 = 0.3: worth its length.
    uncertain = candidate(own, "Workers run in parallel on every core of the machine.", 0.5)
    assert compose([uncertain, second], gain=0.05) == [uncertain, second]


def test_prose_of_another_document_far_from_the_question_ends_the_answer() -> None:
    """In a handful of documents every passage is retrieved, scored close together: the
    meals allowance sharing "day" with a question about leave days is not added to its
    answer, nor anything after it, nor a window holding none of the question's terms. Nearer
    in meaning, code, from the lead's document, or scored near the lead, it still is."""
    leave = passage_of("Full-time employees receive 25 days of paid annual leave per year.")
    expenses = replace(
        passage_of("Meals are reimbursed up to 60 EUR per day.", chunk="e:0"), doc_id="e"
    )
    code = replace(passage_of("leave.days = 25", chunk="c:0"), doc_id="c")
    lead = candidate(leave, leave.text, 0.6, semantic=0.53)
    meals = candidate(expenses, expenses.text, 0.35, semantic=0.30)
    after = candidate(code, code.text, 0.3, semantic=0.5)
    assert compose([lead, meals, after], gain=0.06) == [lead]
    nearer = candidate(expenses, expenses.text, 0.35, semantic=0.40)
    assert compose([lead, nearer], gain=0.06) == [lead, nearer]
    as_code = candidate(expenses, expenses.text, 0.35, semantic=0.30, code=1.0)
    assert compose([lead, as_code], gain=0.06) == [lead, as_code]
    later = passage_of("Travel is booked through the travel portal, which emails the tickets. "
                       + expenses.text, chunk="d:1")  # fmt: skip
    own_document = candidate(later, expenses.text, 0.35, semantic=0.30)
    assert compose([lead, own_document], gain=0.06) == [lead, own_document]
    # As near in meaning, but holding none of the question's terms ("how long" read as a
    # duration: the probation period after the password's length).
    no_term = candidate(expenses, expenses.text, 0.35, semantic=0.53, lexical_focus=0.0)
    assert compose([lead, no_term], gain=0.06) == [lead]
    # Scored near the lead, the ranking may know better than the meaning alone.
    close_behind = candidate(expenses, expenses.text, 0.4, semantic=0.30)
    assert compose([lead, close_behind], gain=0.06) == [lead, close_behind]


def test_the_sentence_next_to_the_lead_joins_it_as_one_quote_and_a_distant_one_does_not() -> None:
    text = (
        "Hatch respects the first .gitignore file it finds in the project. "
        "Set ignore-vcs to true to turn that behaviour off. "
        "Builds are reproducible by default."
    )
    passage = passage_of(text)
    lead = candidate(passage, "Hatch respects the first .gitignore file it finds in the project.",
                     0.5)  # fmt: skip
    following = candidate(passage, "Set ignore-vcs to true to turn that behaviour off.", 0.45)
    distant = candidate(passage, "Builds are reproducible by default.", 0.45)
    [quote] = compose([lead, following], gain=0.05)
    assert quote.text == text[: text.index(" Builds")]  # an exact span of the document
    assert (quote.window.start, quote.window.end) == (lead.window.start, following.window.end)
    assert quote.score == lead.score
    # Led by the later sentence, the quote still reads in document order.
    [quote] = compose([following, lead], gain=0.05)
    assert quote.text == text[: text.index(" Builds")]
    # A sentence of the lead's passage that does not continue it stays out.
    assert compose([lead, distant], gain=0.05) == [lead]


def test_the_next_line_does_not_join_the_lead_a_table_row_stands_alone() -> None:
    text = (
        "Row 2: Region: EMEA | Manager: Amara Okafor\nRow 3: Region: APAC | Manager: Kenji Watanabe"
    )
    passage = passage_of(text)
    row = candidate(passage, "Row 3: Region: APAC | Manager: Kenji Watanabe", 0.5)
    above = candidate(passage, "Row 2: Region: EMEA | Manager: Amara Okafor", 0.45)
    assert compose([row, above], gain=0.05) == [row]


def test_a_model_file_of_the_older_format_is_refused_with_what_to_do(tmp_path: Path) -> None:
    old = shipped_model().to_json()
    old["second_window_ratio"] = old.pop("second_window_gain")
    path = tmp_path / "model.json"
    path.write_text(json.dumps(old), "utf-8")
    with pytest.raises(ModelFileError, match=r"older version.*assistant\.evaluation\.calibrate"):
        load_model(path)


def test_the_rest_of_a_sentence_is_not_added_as_a_window_of_its_own() -> None:
    lead_passage = passage_of("Reset moves the branch tip to another commit.", chunk="d:0")
    other = passage_of(
        "The figure shows the states.\nto reset the HEAD to another commit with different "
        "options depending on the state of the files.\nSoft reset keeps every change staged.",
        chunk="d:1",
    )
    lead = candidate(lead_passage, "Reset moves the branch tip to another commit.", 0.9)
    fragment = candidate(
        other,
        "to reset the HEAD to another commit with different options depending on the state "
        "of the files.",
        0.85,
    )
    whole = candidate(other, "Soft reset keeps every change staged.", 0.8)
    assert [c.text for c in compose([lead, fragment, whole], gain=0.01)] == [lead.text, whole.text]
    # A sentence that opens with a command's name in lower case is a sentence of its own.
    named = replace(
        passage_of("git reset --soft keeps every change staged for the next commit.", "e:0"),
        doc_id="e",
    )
    command = candidate(
        named, "git reset --soft keeps every change staged for the next commit.", 0.85
    )
    assert command in compose([lead, command], gain=0.01)


def test_the_rest_of_a_sentence_is_never_a_window_of_its_own() -> None:
    text = (
        "Pick the mode that keeps what you need\nto reset the HEAD to another commit with "
        "different options depending on the state of the files.\n"
        "Soft reset keeps every change staged.\n"
        "git reset --soft keeps every change staged for the next commit.\n"
        "The reset modes are these:\n"
        "if set to hard, the index and the working tree are reset as well.\n"
        "Scripts read the saved state back.\n"
        "  with open(path) as f:\n"
    )
    windows = windows_of("How do I move my branch back to an earlier commit?", text)
    assert not [w for w in windows if w.startswith("to reset the HEAD")]
    assert "Soft reset keeps every change staged." in windows
    # A sentence that opens with a command's name in lower case is a sentence of its own, and
    # code that opens with a function word is code.
    assert "git reset --soft keeps every change staged for the next commit." in windows
    assert "with open(path) as f:" in windows
    # After a finished line, a sentence opening in lower case is one of its own (an HTML list
    # item has no marker), not the rest of another.
    assert any(w.endswith("if set to hard, the index and the working tree are reset as well.")
               for w in windows)  # fmt: skip


def test_a_table_of_contents_entry_is_never_a_window() -> None:
    """A contents page names where the answer is ("Locale . . . . 167"), not what it is."""
    text = (
        "Load . . . . . . . . . . . . . . . . . . . . . 165\n"
        "Locale . . . . . . . . . . . . . . . . . . . . 167\n"
        "Logscale . . . . . . . . . . . . . . . . . . . 168\n"
        "The locale setting changes the language of month and day names.\n"
    )
    windows = windows_of("Where do I change the language month names are printed in?", text)
    assert windows == ["The locale setting changes the language of month and day names."]
    # A list of settings with dot leaders states values: they can be quoted.
    settings = (
        "Maximum connections . . . . . . . . . . . . 100\n"
        "Idle timeout in seconds . . . . . . . . . . 30\n"
        "Late payment fee . . . . . . . . . . . . . . 25\n"
    )
    windows = windows_of("How many connections does the server take at most?", settings)
    assert {"Maximum connections .", "100"} <= set(windows)  # cut apart by the sentence splitter


def test_a_window_goes_on_where_the_sentence_splitter_cut_inside_code() -> None:
    # Punkt ends a sentence at every "?" and "!": the command and the pattern stay whole.
    text = (
        "The archive command might look like this: test ! -f /archive/%f && cp %p /archive/%f\n"
        "In a wild-card string, ? matches any single character. "
        "Does it match a dot? No, a dot is literal."
    )
    windows = windows_of("What does the archive command look like with a wild-card?", text)
    assert windows == [
        "The archive command might look like this: test ! -f /archive/%f && cp %p /archive/%f",
        "In a wild-card string, ? matches any single character.",
        "Does it match a dot?",
        "No, a dot is literal.",
    ]


def windows_of(question: str, text: str) -> list[str]:
    """The candidate windows of one passage holding `text`, in passage order."""
    retrieval = retrieval_for(question, passage_of(text), {})
    return [w.text for w, _ in candidate_features(Question(question, question), retrieval)]


def retrieval_for(question: str, passage: Passage, counts: dict[str, int]) -> Retrieval:
    terms = content_terms(question)
    return Retrieval(
        query=question,
        query_vector=np.zeros(DIMENSION, dtype=np.float32),
        passages=(passage,),
        timings_ms={},
        idf={t: 1.0 for t in terms},
        term_counts={t: counts.get(t, 5) for t in terms},
        chunk_count=2000,
    )


def refusal_features(question: str, absent: set[str]) -> dict[str, float]:
    passage = passage_of(
        "The datafile separator command sets the character between fields. "
        "Use set datafile separator comma to read comma-separated files."
    )
    counts = {t: 0 for t in absent}
    retrieval = retrieval_for(question, passage, counts)
    asked = Question(question, question)
    ranked = [Candidate(w, f, 0.5) for w, f in candidate_features(asked, retrieval)]
    return confidence_features(asked, retrieval, ranked)


def test_a_scenarios_own_names_do_not_count_as_missing_from_the_documents() -> None:
    features = refusal_features(
        "The Munich office sends files with commas between fields. Which separator setting "
        "reads comma-separated files?",
        absent={"munich"},
    )
    assert features["specific_absent_evidence"] == 0.0
    assert features["focus_absent_corpus"] == 0.0


def test_an_ask_pointing_back_at_its_scenario_is_about_the_scenarios_things() -> None:
    # "it" is the SBOM: what the corpus lacks is measured over the whole question (eight
    # terms, all weighted alike here), though only the ask's own names count as specific.
    question = "Compliance wants an SBOM for every wheel we ship. Which option generates it?"
    features = refusal_features(question, absent={"sbom"})
    assert features["focus_absent_corpus"] == pytest.approx(1 / 8)
    assert features["specific_absent_evidence"] == 0.0
    same_ask_alone = refusal_features("Which option generates an SBOM?", absent={"sbom"})
    assert same_ask_alone["specific_absent_evidence"] == 1.0


def test_a_thing_the_ask_names_and_the_documents_lack_counts_fully_in_a_large_corpus() -> None:
    features = refusal_features("Can it read Parquet files directly?", absent={"parquet"})
    assert features["specific_absent_evidence"] == 1.0
    # One of the ask's four terms (read, parquet, file, direct), all weighted alike here.
    assert features["focus_absent_corpus"] == pytest.approx(0.25)


def test_a_slip_of_a_word_the_evidence_holds_is_not_missing_from_the_documents() -> None:
    # "seperator" is a word the corpus lacks, and plainly the passage's "separator".
    slip = refusal_features("Which seperator setting reads commas?", absent={"seper"})
    assert slip["focus_absent_corpus"] == 0.0
    # Two letters off, or off in its first letter, it is another word the documents lack.
    for question, missing in (
        ("Which sepparrator setting reads commas?", "sepparr"),
        ("Which xeparator setting reads commas?", "xepar"),
    ):
        assert refusal_features(question, absent={missing})["focus_absent_corpus"] > 0, question
    # In lower case, a slip is no name the evidence lacks either; a name is.
    lower = refusal_features("which seperator setting reads commas", absent={"seper"})
    assert lower["specific_absent_evidence"] == 0.0
    name = refusal_features("which separator setting reads selinux", absent={"selinux"})
    assert name["specific_absent_evidence"] == 1.0


def test_absence_from_a_small_corpus_counts_less() -> None:
    question = "Can it read Parquet files directly?"
    passage = passage_of("The reader takes comma-separated files.")
    asked = Question(question, question)
    shares = []
    for chunks in (2000, 9):
        retrieval = retrieval_for(question, passage, {"parquet": 0})
        retrieval = Retrieval(**{**retrieval.__dict__, "chunk_count": chunks})
        ranked = [Candidate(w, f, 0.5) for w, f in candidate_features(asked, retrieval)]
        shares.append(confidence_features(asked, retrieval, ranked)["focus_absent_corpus"])
    assert shares[0] == pytest.approx(0.25)
    assert 0 < shares[1] < shares[0] / 2


def test_a_question_without_a_word_is_refused_before_any_scoring() -> None:
    passage = passage_of("Section 1 lists the defaults. The default is three.")
    for question in ("[1]", "1 2 3?", "?"):
        retrieval = retrieval_for(question, passage, {})
        assessment = assess(Question(question, question), retrieval)
        assert (assessment.candidates, assessment.confidence) == ((), 0.0)


def test_a_stop_ask_marks_the_windows_that_say_no_and_the_ones_that_instruct() -> None:
    text = (
        "When enabled, every file gets the same fixed date. "
        "To disable this, set `reproducible` to `false`. "
        "The archive holds every file of the project."
    )
    passage = passage_of(text)
    question = "Every file in the archive has the same date. How do we switch that behaviour off?"
    features = {
        window.passage.sentence_text(window.sentence_start, window.sentence_end): values
        for window, values in candidate_features(
            Question(question, question), retrieval_for(question, passage, {})
        )
    }
    answer = features["To disable this, set `reproducible` to `false`."]
    description = features["The archive holds every file of the project."]
    assert (answer["stop_ok"], answer["stop_missing"], answer["instructs"]) == (1.0, 0.0, 1.0)
    assert (description["stop_ok"], description["stop_missing"]) == (0.0, 1.0)
    assert description["instructs"] == 0.0
    plain = "Every file in the archive has the same date. Where does the date come from?"
    for _, values in candidate_features(Question(plain, plain), retrieval_for(plain, passage, {})):
        assert values["stop_ok"] == values["stop_missing"] == 0.0


def test_a_signature_giving_the_asked_argument_a_value_states_its_default() -> None:
    """A defined term "shutil.rmtree(path, ignore_errors=False, ...)" says what ignore_errors
    is when omitted. An example's call, typed at a prompt or not, sets a value instead; so
    does a call in a sentence. A keyword that only repeats the ask's generic words ("the
    default value") names no argument."""
    from dataclasses import replace

    signature = "shutil.rmtree(path, ignore_errors=False, onerror=None, value=None)"
    entry = signature + "\nDelete an entire directory tree.\n"
    term = replace(passage_of(entry), headings=(Heading(0, signature, "term"),))
    examples = passage_of(
        "logging.basicConfig(filename='example.log', level=logging.DEBUG)\n\n"
        ">>> pprint.pprint(data, width=60)\n\n"
        "Call it as shutil.rmtree(tree, ignore_errors=True) to keep going.\n\n"
        + signature  # the same line, not a defined term here: an example
        + "\n"
    )

    def default_ok(question: str, passage: Passage) -> list[float]:
        asked = Question(question, question)
        found = candidate_features(asked, retrieval_for(question, passage, {}))
        return [values["default_ok"] for _, values in found]

    assert default_ok("What is the default value of shutil.rmtree's ignore_errors?", term) == [1.0]
    for question in (
        "What is the default value of shutil.rmtree's ignore_errors?",
        "What is the default logging level?",
        "What width does pprint use by default?",
    ):
        found = default_ok(question, examples)
        assert len(found) >= 3, question
        assert set(found) == {0.0}, question
    # "value=None" is an argument named "value": not what "the default value" asks about.
    assert default_ok("What is shutil.rmtree's default value?", term) == [0.0]
    assert default_ok("What does shutil.rmtree's ignore_errors do?", term) == [0.0]


def test_a_name_written_as_code_answers_a_which_question_hyphenated_or_not() -> None:
    """ "Which option ...?" wants a name: "the `force-include` option" gives one (Markdown's
    backticks say it is code); the same words without them read as English ("built-in")."""
    question = "Which option can pull in files from outside the project?"
    assert analyse(question).answer_type == "name"
    found = []
    for text in (
        "The `force-include` option selects files from anywhere on the file system.",
        "The force-include option selects files from anywhere on the file system.",
    ):
        features = candidate_features(
            Question(question, question), retrieval_for(question, passage_of(text), {})
        )
        found.append([values["type_ok"] for _, values in features])
    assert found == [[1.0], [0.0]]


@pytest.mark.parametrize(
    ("text", "timed"),
    [
        ("The office opens at 07:30 and closes at 20:00.", True),
        ("The help desk answers from 8:00 to 18:00.", True),
        ("Deliveries arrive at 14h30.", True),
        ("The screen has a ratio of 16:9.", False),
        ("The proxy listens on port 8080.", False),
    ],
)
def test_a_time_on_the_24_hour_clock_is_a_when_answer(text: str, timed: bool) -> None:
    question = "When does it start?"
    assert analyse(question).answer_type == "date"
    features = candidate_features(
        Question(question, question), retrieval_for(question, passage_of(text), {})
    )
    assert [values["type_ok"] for _, values in features] == [float(timed)]


def test_the_context_features_read_the_sentences_embedded_in_context_or_else_the_pooled_ones() -> (
    None
):
    from dataclasses import replace

    text = "Memory for maintenance work. The default is 64 megabytes. Sorts use other memory."
    pooled = passage_of(text)
    pooled = replace(pooled, sentence_vectors=np.eye(DIMENSION, dtype=np.float16)[[0, 1, 2]])
    # In context the second sentence points where the question does; pooled, the first does.
    in_context = replace(pooled, context_vectors=np.eye(DIMENSION, dtype=np.float16)[[1, 3, 2]])
    question = "How much memory does maintenance get if we never set it?"
    retrieval = retrieval_for(question, in_context, {})

    def by_sentence(passage: Passage, axis: int = 3) -> dict[str, dict[str, float]]:
        query = np.eye(DIMENSION, dtype=np.float32)[axis]
        asked = replace(retrieval, passages=(passage,), query_vector=query)
        return {
            w.passage.sentence_text(w.sentence_start, w.sentence_end): values
            for w, values in candidate_features(Question(question, question), asked)
        }

    features = by_sentence(in_context)
    assert features["The default is 64 megabytes."]["context"] == 1.0
    assert features["The default is 64 megabytes."]["context_rel"] == 0.0
    assert features["Memory for maintenance work."]["context"] == 0.0
    assert features["Memory for maintenance work."]["context_rel"] == -1.0
    assert features["The default is 64 megabytes."]["semantic"] == 0.0  # pooled: elsewhere
    # An index from before context vectors: the features fall back to the pooled vectors.
    fallback = by_sentence(pooled, axis=1)
    assert fallback["The default is 64 megabytes."]["context"] == 1.0
    assert all(f["context"] == f["semantic"] for f in fallback.values())


def test_the_bm25_lookup_keeps_rare_terms_within_its_budget() -> None:
    from assistant.catalog import idf_from_counts
    from assistant.retrieval import LexicalLookup, lexical_lookup, selective_terms

    total = 1_000_000
    counts = {"vacuum": 40, "autovacuum": 900, "table": 12_000, "size": 30_000, "the": 600_000}
    idf = idf_from_counts(counts, total)
    # Rarest first, while the chunks to score stay within the budget (10,000).
    assert selective_terms(idf, counts) == ["vacuum", "autovacuum"]
    assert selective_terms(idf, counts, budget=1_000) == ["vacuum", "autovacuum"]
    assert selective_terms(idf, counts, budget=40_000) == ["vacuum", "autovacuum", "table"]
    assert selective_terms(idf, counts, budget=100_000) == ["vacuum", "autovacuum", "table", "size"]
    assert lexical_lookup(idf, counts, total) == LexicalLookup(("vacuum", "autovacuum"))
    # The rarest term is looked up even past the budget; "the" (60 %) never joins it.
    common = {"the": 600_000, "and": 550_000}
    assert selective_terms(idf_from_counts(common, total), common) == ["and"]
    # A small index: three terms always fit; only terms in over 5 % of its chunks go, beyond
    # the rarest three.
    small = {"vacuum": 4, "autovacuum": 9, "table": 120, "size": 30, "the": 900}
    assert selective_terms(idf_from_counts(small, 1_000), small) == [
        "vacuum", "autovacuum", "size"
    ]  # fmt: skip
    few = {"vacuum": 4, "table": 120, "the": 900}
    assert selective_terms(idf_from_counts(few, 1_000), few) == ["vacuum", "table", "the"]


def test_a_lookup_of_common_terms_only_takes_the_chunks_holding_the_rarest_together() -> None:
    from assistant.catalog import idf_from_counts
    from assistant.retrieval import LexicalLookup, lexical_lookup

    total = 1_000_000

    def lookup(counts: dict[str, int], budget: int = 10_000) -> LexicalLookup:
        return lexical_lookup(idf_from_counts(counts, total), counts, total, budget)

    # Even the rarest term is in more chunks than the budget: the rarest together, until
    # their expected intersection (1M x 6.3 % x 7.2 % = 4,536 chunks) is within it.
    counts = {"call": 215_000, "base": 63_000, "log": 72_000, "python": 1_000_000}
    assert lookup(counts) == LexicalLookup(("base", "log"), every_term=True)
    assert lookup(counts, budget=1_000) == LexicalLookup(("base", "log", "call"), True)
    # No set of them gets there: no BM25 lookup (a term in every chunk narrows nothing).
    assert lookup({"call": 215_000, "python": 1_000_000}) == LexicalLookup(())
    assert lookup({"the": 600_000, "and": 550_000}) == LexicalLookup(())
    assert lookup({"call": 215_000}) == LexicalLookup(())
    # A rare term keeps the lookup of any term, within the budget.
    assert lookup({"call": 215_000, "vacuum": 40}) == LexicalLookup(("vacuum",))


def test_passages_are_read_for_the_hits_still_wanted_only(
    seed_assistant: Assistant, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each row read costs its document's text and headings: rows are read for as many fused
    hits as are still wanted, and a hit without a row (a dense hit of an uncommitted or removed
    chunk) is skipped, the next one read in its place."""
    retriever = seed_assistant.retriever
    catalog = seed_assistant.catalog
    ids = sorted(catalog.chunk_ids_of(["default"]))
    assert len(ids) >= 4
    asked: list[list[str]] = []
    read = catalog.chunks

    def chunks(
        vector_ids: Sequence[str], collections: Sequence[str] | None = None
    ) -> dict[str, ChunkRow]:
        asked.append(list(vector_ids))
        return read(vector_ids, collections)

    monkeypatch.setattr(catalog, "chunks", chunks)
    fused = [("gone:0", 0.9), (ids[0], 0.8), ("gone:1", 0.7), (ids[1], 0.6), (ids[2], 0.5)]
    fused.append((ids[3], 0.4))
    pool = retriever._passages(fused, 3)
    assert [(p.chunk_id, p.score) for p in pool] == [(i, s) for i, s in fused if i in ids[:3]]
    assert asked == [["gone:0", ids[0], "gone:1"], [ids[1], ids[2]]]  # never ids[3]
    assert [p.chunk_id for p in retriever._passages(fused[:3], 3)] == [ids[0]]  # none left


def test_term_coverage_does_not_depend_on_the_order_of_the_terms() -> None:
    """The terms come in a set's order, which string hashing changes from process to process:
    a plain sum of 0.1, 0.2 and 0.3 differs in its last bit by order, and the models fitted on
    such features differed from run to run."""
    weights = {"alpha": 0.1, "beta": 0.2, "gamma": 0.3, "delta": 1.0}
    reverse = dict(reversed(list(weights.items())))
    assert (0.1 + 0.2) + 0.3 != (0.3 + 0.2) + 0.1  # what a plain sum would have done
    found = {"alpha", "beta", "gamma"}
    assert _coverage(found, weights) == _coverage(found, reverse) == 0.6 / 1.6


def test_code_cut_out_of_its_statement_is_no_candidate_window() -> None:
    """A line that opens brackets it does not close, or closes brackets it never opened
    ("extend=true));"), is no window of its own; the lead-in's window holds the statement."""
    text = (
        "Extending the ticks draws a grid over the whole graph, like this:\n"
        'xaxis("$x$",BottomTop,LeftTicks(begin=false,\n'
        "extend=true));\n"
        "The grid lines are drawn in the tick pen."
    )
    windows = windows_of("How do I draw grid lines from the ticks?", text)
    assert windows == [
        "Extending the ticks draws a grid over the whole graph, like this:\n"
        'xaxis("$x$",BottomTop,LeftTicks(begin=false,\nextend=true));',
        "The grid lines are drawn in the tick pen.",
    ]


def test_warming_up_reads_the_common_english_words_before_the_first_question(
    tmp_path: Path,
) -> None:
    from assistant.answerers.extractive import ExtractiveAnswerer
    from assistant.interpret import common_terms
    from tests.conftest import make_settings

    common_terms.cache_clear()
    ExtractiveAnswerer(make_settings(tmp_path / "index")).warm_up()
    assert common_terms.cache_info().currsize == 1
    # Plural or not, an English word is common; a product's name is not.
    assert {"resolv", "voucher", "cutoff"} <= common_terms()
    assert not {"kubernet", "selinux", "quic", "gmail"} & common_terms()
