"""End to end on seeds/: cited answers whose quotes are the exact source text, and refusals."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from assistant import (
    Answer,
    Assistant,
    BadArgumentError,
    BadQuestionError,
    IndexMissingError,
    Message,
)
from assistant.answerers.extractive import assess
from assistant.citations import MAX_RELATED, related_passages, related_spans
from assistant.errors import UsageError
from assistant.line_shapes import looks_like_code
from assistant.types import Citation, Passage
from assistant.verify import strip_markers
from tests.conftest import SEED_FILE, make_settings

SEED_TEXT = SEED_FILE.read_text(encoding="utf-8")


def assert_citations_exact(answer: Answer) -> None:
    """Every [n] has a citation and every quote is the seed text at [start:end]."""
    for citation in answer.citations:
        assert citation.source.endswith(SEED_FILE.name)
        assert SEED_TEXT[citation.start : citation.end] == citation.quote
        assert f"[{citation.id}]" in answer.text
        assert 0.0 <= citation.score <= 1.0


@pytest.mark.xfail(
    strict=True,
    reason="known miss of the fitted extractive answerer (docs/evaluation.md, what still fails): "
    "it quotes sentences about the companies, not the one that names them",
)
def test_flagship_question_names_both_companies(seed_assistant: Assistant) -> None:
    answer = seed_assistant.ask("Which companies had to halt their stablecoin plans in Hong Kong?")
    assert not answer.refused
    assert "Ant Group" in answer.text
    assert "JD.com" in answer.text
    assert answer.citations
    assert_citations_exact(answer)
    assert any("Ant Group" in c.quote for c in answer.citations)
    assert set(answer.timings_ms) >= {"embed", "dense", "lexical", "answer", "total"}


@pytest.mark.parametrize(
    ("question", "expected"),
    [
        ("What is the central concern for authorities in Beijing?", "monetary sovereignty"),
        ("What does the Web3 decentralization ideal fundamentally contradict?", "centralization"),
        ("What drives demand for Bitcoin and other hard-money assets?", "Geopolitical tensions"),
    ],
)
def test_answers_quote_the_supporting_sentence(
    seed_assistant: Assistant, question: str, expected: str
) -> None:
    answer = seed_assistant.ask(question)
    assert not answer.refused
    assert expected in answer.text
    assert_citations_exact(answer)
    assert all(c.section for c in answer.citations)


@pytest.mark.parametrize(
    "question",
    ["What is the capital city of Canada?", "Who wrote the novel Pride and Prejudice?"],
)
def test_unanswerable_questions_are_refused(seed_assistant: Assistant, question: str) -> None:
    answer = seed_assistant.ask(question)
    assert answer.refused
    assert answer.text == "The documents don't answer this."
    assert answer.citations == ()


def test_follow_up_uses_the_history(seed_assistant: Assistant) -> None:
    history = [
        Message(role="user", content="What is the name of China's state-backed digital currency?"),
        Message(role="assistant", content="The digital yuan (e-CNY) [1]."),
    ]
    answer = seed_assistant.ask("How many users is it being tested with?", history=history)
    assert answer.standalone_question is not None
    assert "digital currency" in answer.standalone_question
    assert "hundreds of millions" in answer.text
    assert_citations_exact(answer)


def test_history_accepts_plain_dicts(seed_assistant: Assistant) -> None:
    answer = seed_assistant.ask(
        "And who reported it first?",
        history=[{"role": "user", "content": "Which companies had to halt stablecoin plans?"}],
    )
    assert answer.standalone_question is not None


def test_a_history_of_hundreds_of_follow_ups_is_answered(seed_assistant: Assistant) -> None:
    """Each follow-up is read through the one before it: 600 of them in a row were as many
    nested rewrites (a RecursionError, a 500 over HTTP)."""
    chat = [{"role": "user", "content": "hi"}, {"role": "assistant", "content": "hello"}] * 600
    history = [{"role": "user", "content": "Which companies had to halt stablecoin plans?"}]
    answer = seed_assistant.ask("And who reported it first?", history=history + chat)
    assert answer.standalone_question is not None
    assert answer.text


def test_stream_yields_text_then_the_final_answer(seed_assistant: Assistant) -> None:
    events = list(seed_assistant.stream("What is the central concern for authorities in Beijing?"))
    final = events[-1]
    assert isinstance(final, Answer)
    pieces = events[:-1]
    assert len(pieces) > 3
    assert all(isinstance(p, str) for p in pieces)
    assert "".join(pieces) == final.text  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("question", "message"),
    [("", "empty"), ("   \n\t ", "empty"), ("\x00\x01\x02", "empty"), ("x" * 2001, "too long")],
)
def test_bad_questions_get_a_clear_error(
    seed_assistant: Assistant, question: str, message: str
) -> None:
    with pytest.raises(BadQuestionError, match=message):
        seed_assistant.ask(question)


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        ({"k": 0}, "k must be a whole number from 1 to 50, not 0"),
        ({"k": -1}, "k must be a whole number from 1 to 50, not -1"),
        ({"k": 10**12}, "k must be a whole number from 1 to 50"),
        ({"k": "5"}, "k must be a whole number from 1 to 50, not '5'"),
        ({"k": 2.5}, "k must be a whole number"),
        ({"user": "alice"}, "user must be an assistant User"),
        ({"history": "hi"}, "the history must be a list of earlier turns, not text"),
        ({"history": 5}, "the history must be a list of earlier turns, not int"),
        ({"history": {"role": "user"}}, "the history must be a list of earlier turns, not dict"),
        ({"history": [1]}, "turn 1 of the history is not a turn: a turn is a {'role'"),
        ({"history": [None]}, "turn 1 of the history is not a turn: a turn is a {'role'"),
        ({"history": [{}]}, "turn 1 of the history is not a turn: its role must be 'user' or"),
        (
            {"history": [("user", "hi"), {"role": "bot", "content": "x"}]},
            "turn 2 of the history is not a turn: its role must be 'user' or 'assistant', not "
            "'bot'",
        ),
        (
            {"history": [{"role": "user", "content": 5}]},
            "turn 1 of the history is not a turn: its content must be text, not int",
        ),
        ({"history": [("a", "b", "c")]}, "turn 1 of the history is not a turn"),
        ({"collections": 5}, "collections must be a list of collection names, not int"),
        ({"answerer": "extractive"}, "answerer must be an Answerer"),
    ],
)
def test_bad_arguments_of_ask_get_a_clear_error(
    seed_assistant: Assistant, arguments: dict[str, object], message: str
) -> None:
    with pytest.raises(ValueError, match=re.escape(message)):
        seed_assistant.ask("Who pulled the plug on the stablecoin plans?", **arguments)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match=re.escape(message)):
        list(seed_assistant.stream("Who pulled the plug on the stablecoin plans?", **arguments))  # type: ignore[arg-type]


@pytest.mark.parametrize("query", ["", "   "])
def test_an_empty_query_is_refused_by_retrieve_as_by_ask(
    seed_assistant: Assistant, query: str
) -> None:
    with pytest.raises(BadQuestionError, match="the query is empty"):
        seed_assistant.retrieve(query)


def test_one_collection_may_be_named_alone(seed_assistant: Assistant) -> None:
    """A string is one collection's name, not a list of one-letter names."""
    answer = seed_assistant.ask(
        "Which companies had to halt their stablecoin plans?", collections="default"
    )
    assert not answer.refused


def test_control_characters_are_cleaned(seed_assistant: Assistant) -> None:
    answer = seed_assistant.ask("What is the central\x00 concern\x07 for authorities in Beijing?")
    assert answer.question == "What is the central concern for authorities in Beijing?"


def test_a_question_typed_without_apostrophes_reads_as_one_typed_with_them(
    seed_assistant: Assistant,
) -> None:
    # "Im" and "whats" were words of their own that no document uses: confidence 0.48, not 0.73.
    careful = seed_assistant.ask("I'm confused, what's the e-CNY?")
    casual = seed_assistant.ask("Im confused, whats the e-CNY?")
    assert casual.question == "I'm confused, what's the e-CNY?"
    assert (casual.text, casual.confidence) == (careful.text, careful.confidence)
    assert not casual.refused
    # The asker's earlier turns are read so too, for the follow-up's rewrite.
    history = [("user", "whats the e-CNY?"), ("assistant", careful.text)]
    prepared = seed_assistant.prepare_question("How many users is it tested with?", history)
    assert prepared.history[0].content == "what's the e-CNY?"


def test_a_name_typed_in_lower_case_that_the_documents_lack_is_refused(
    seed_assistant: Assistant,
) -> None:
    # In lower case "solana" was no name, and the question was answered (confidence 0.50).
    for question in (
        "How does Solana compare to the digital yuan?",
        "How does solana compare to the digital yuan?",  # capitalised as a phone does
        "how does solana compare to the digital yuan",
    ):
        assert seed_assistant.ask(question).refused, question
    # Lower case alone costs nothing: ordinary words and the documents' own names are no cause.
    # Nor is a slip: "brokrages" is a word the corpus lacks, but plainly the evidence's own.
    for question in (
        "what did the csrc tell local brokerages to do",
        "what did the csrc tell local brokrages to do",
    ):
        answer = seed_assistant.ask(question)
        assert not answer.refused, question
        assert "RWA tokenization" in answer.text


def test_an_answer_in_the_history_keeps_its_lines(seed_assistant: Assistant) -> None:
    """A history answer is cleaned line by line: its code block stays a code block, not a run
    of "`console $ hatch version ...`" that a follow-up then took for the name it points at."""
    answer = (
        "For example, to release a preview of your project's first major version:\n\n"
        "```console\n$ hatch version major,rc\x1b[31m\nOld: 0.2.0\n```  [1]"
    )
    history = [("user", "How do I bump the version?"), ("assistant", answer)]
    prepared = seed_assistant.prepare_question("Where does hatch store the version?", history)
    assert prepared.history[-1].content == (
        "For example, to release a preview of your project's first major version:\n\n"
        "```console\n$ hatch version major,rc\nOld: 0.2.0\n``` [1]"
    )
    assert "console" not in prepared.standalone
    # A question in the history stays one line, as the question asked now.
    asked = seed_assistant.prepare_question("And on Windows?", [("user", "How do I\ninstall it?")])
    assert asked.history[0].content == "How do I install it?"


def test_a_follow_up_does_not_quote_the_last_answer_again(seed_assistant: Assistant) -> None:
    """ "Why?" after an answer is not that answer again: its sentence, quoted before its marker
    and full stop ("... in Hong Kong [1]."), is recognised as said."""
    question = "What did the CSRC tell brokerages?"
    first = seed_assistant.ask(question)
    assert not first.refused
    said = strip_markers(first.text).rstrip(".")
    again = seed_assistant.ask("Why?", history=[("user", question), ("assistant", first.text)])
    assert said not in strip_markers(again.text)


LEAVE_POLICY = """# Leave Policy

## Annual leave

Full-time employees receive 25 days of paid annual leave per calendar year.
Part-time employees receive leave pro rata to their contracted hours.

Unused annual leave of up to 5 days may be carried over to the next year.
Carried-over days expire on 31 March.

## Parental leave

Birth parents are entitled to 16 weeks of fully paid parental leave.
Partners are entitled to 4 weeks of fully paid leave, to be taken within the first year.
"""


@pytest.mark.parametrize(
    ("question", "follow_up", "fact"),
    [
        # The answer to the follow-up was said before, beside the first answer's own fact.
        ("How long is parental leave for birth parents?", "And for partners?", "4 weeks"),
        # Asked of another kind of the same people, and answered next to the first fact.
        (
            "How many days of annual leave do full-time employees get?",
            "And part-time employees?",
            "pro rata",
        ),
    ],
)
def test_a_follow_up_after_the_assistants_own_answer_finds_its_fact(
    tmp_path, question: str, follow_up: str, fact: str
) -> None:  # type: ignore[no-untyped-def]
    # A client sends the assistant's own answer back as history (the OpenAI API does): a
    # sentence said before that holds what the follow-up brings is its answer, not a repeat
    # to skip for an unrelated passage.
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "leave-policy.md").write_text(LEAVE_POLICY, encoding="utf-8")
    assistant = Assistant(make_settings(tmp_path / "index"))
    assistant.ingest([tmp_path / "docs"])
    first = assistant.ask(question)
    assert not first.refused
    answer = assistant.ask(follow_up, history=[("user", question), ("assistant", first.text)])
    assert not answer.refused
    assert fact in answer.text


OFFICE_FACTS = """Office facts

The Zürich office is at Bahnhofstrasse 12, on the third floor. The kitchen has free coffee and tea.
The office opens at 07:30 and closes at 20:00. Visitors must sign in at reception and wear a badge.
Bicycle parking is available in the basement; the code for the bike room is changed every month.
"""


def _office(tmp_path: Path) -> Assistant:
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "office.txt").write_text(OFFICE_FACTS, encoding="utf-8")
    assistant = Assistant(make_settings(tmp_path / "index"))
    assistant.ingest([tmp_path / "docs"])
    return assistant


def test_a_time_on_the_24_hour_clock_answers_when(tmp_path: Path) -> None:
    # "07:30" was no time to the answer typing: a "when" answer went looking for one and added
    # the bicycle room's "changed every month".
    answer = _office(tmp_path).ask("When does the office open?")
    assert answer.text == "The office opens at 07:30 and closes at 20:00 [1]."


def test_a_small_set_of_documents_gives_no_stray_second_sentence(tmp_path: Path) -> None:
    # Every passage of a few documents is retrieved: the meals allowance and the password's
    # 180 days were added to the leave days for sharing the word "days".
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "leave-policy.md").write_text(LEAVE_POLICY, encoding="utf-8")
    (docs / "expenses.md").write_text(
        "# Expenses\n\nMeals during business travel are reimbursed up to 60 EUR per day. "
        "Receipts must be submitted within 30 days.\n",
        encoding="utf-8",
    )
    (docs / "office.txt").write_text(OFFICE_FACTS, encoding="utf-8")
    assistant = Assistant(make_settings(tmp_path / "index"))
    assistant.ingest([docs])
    answer = assistant.ask("How many vacation days do I get?")
    assert answer.text == (
        "Full-time employees receive 25 days of paid annual leave per calendar year [1]."
    )
    bike = assistant.ask("Where can I leave my bike?")
    assert [Path(c.source).name for c in bike.citations] == ["office.txt"]
    assert "Bicycle parking is available in the basement" in bike.text


def test_the_table_row_asked_about_is_the_answer_not_the_whole_table(tmp_path: Path) -> None:
    # The row was quoted with its table and the table's lead-in: five cities for one.
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "travel.md").write_text(
        "# Travel\n\n## Hotel limits\n\nThe company pays for hotels up to the following "
        "amounts per night, including breakfast and city tax:\n\n"
        "| City | Maximum per night |\n|------|------|\n| Berlin, Hamburg | 150 EUR |\n"
        "| Munich | 170 EUR |\n| London, Paris, Zurich | 210 EUR |\n"
        "| All other cities abroad | 160 EUR |\n\n"
        "## Own car\n\nIf you drive your own car on business, you are paid 0.30 EUR per "
        "kilometre.\n",
        encoding="utf-8",
    )
    assistant = Assistant(make_settings(tmp_path / "index"))
    assistant.ingest([docs])
    answer = assistant.ask("whats the hotel limit in london")
    assert answer.text == "City: London, Paris, Zurich | Maximum per night: 210 EUR [1]"


def test_a_name_typed_without_its_diacritics_is_the_documents_name(tmp_path: Path) -> None:
    # "Zurich" was a word the documents lack ("Zürich"): refused, with the answer retrieved.
    assistant = _office(tmp_path)
    for question in ("Where is the Zurich office?", "Where is the Zürich office?"):
        answer = assistant.ask(question)
        assert not answer.refused, question
        assert "Bahnhofstrasse 12" in answer.text


def test_missing_index_says_to_ingest(tmp_path) -> None:  # type: ignore[no-untyped-def]
    assistant = Assistant(make_settings(tmp_path / "nothing-here"))
    with pytest.raises(IndexMissingError, match="assistant ingest"):
        assistant.ask("Anything?")


def test_code_lines() -> None:
    assert looks_like_code(">>> print(json.dumps({'a': 1}))")
    assert looks_like_code("shutil.rmtree(path, ignore_errors=False, onerror=None)")
    assert not looks_like_code("Return the greatest common divisor of the arguments.")


def test_k_and_answerer_can_be_chosen_per_question(seed_assistant: Assistant) -> None:
    from tests.fake_answerer import FakeAnswerer

    fake = FakeAnswerer(seed_assistant.settings)  # an instance: no registration needed
    question = "Which tech giants had their Hong Kong stablecoin plans stopped by Beijing?"
    events = list(seed_assistant.stream(question, answerer=fake, k=1))
    final = events[-1]
    assert isinstance(final, Answer)
    # The model reads evidence windows of the one passage retrieved, never more than five.
    only = seed_assistant.retrieve(question, 1).passages[0]
    prompt = fake.llm.calls[-1][-1].content or ""
    assert '<source id="1"' in prompt
    assert '<source id="6"' not in prompt
    assert all(only.start <= c.start and c.end <= only.end for c in final.citations)
    answer = seed_assistant.ask(question, answerer=fake, k=3)
    assert_citations_exact(answer)
    passages = seed_assistant.retrieve(question, 3).passages
    assert all(
        any(p.start <= c.start and c.end <= p.end for p in passages) for c in answer.citations
    )
    # Under an LLM's answer too, the places to read on are the ranking's best windows of the
    # passages, at most one from each, none overlapping what the answer cites.
    assert answer.related
    for related in answer.related:
        holder = next(p for p in passages if p.start <= related.start and related.end <= p.end)
        assert len(related.text) < len(holder.text)
        assert SEED_TEXT[related.start : related.end] == related.text
        assert not any(c.start < related.end and related.start < c.end for c in answer.citations)
    assert len(answer.related) <= len(passages)
    assert seed_assistant.answerer.name == "extractive"  # the configured one is untouched


def test_the_best_sentence_of_each_passage_not_quoted_is_listed_to_read_on(
    seed_assistant: Assistant,
) -> None:
    question = "What drives demand for Bitcoin and other hard-money assets?"
    answer = seed_assistant.ask(question)
    retrieval = seed_assistant.retrieve(question)
    assert answer.citations
    assert answer.related
    windows = [
        (c.passage.chunk_id, c.window.start, c.window.end)
        for c in assess(seed_assistant.prepare_question(question), retrieval).candidates
    ]
    spans = [(start, end) for _, start, end in windows]
    order = [spans.index((r.start, r.end)) for r in answer.related]
    assert order == sorted(order)  # the answerer's ranking of its windows, best first
    passages = [windows[i][0] for i in order]
    assert len(set(passages)) == len(passages)  # one sentence from each passage at most
    listed = [*answer.citations, *answer.related]
    for related in answer.related:
        assert SEED_TEXT[related.start : related.end] == related.text
        assert related.source.endswith(SEED_FILE.name)
        assert related.doc_id
        others = [x for x in listed if x is not related]
        assert not any(x.start < related.end and related.start < x.end for x in others)
    # A sentence, not a whole passage: shorter than the passage it comes from.
    by_id = {p.chunk_id: p for p in retrieval.passages}
    assert all(
        len(r.text) < len(by_id[chunk].text)
        for r, chunk in zip(answer.related, passages, strict=True)
    )
    assert len(answer.related) <= MAX_RELATED

    unanswerable = "What is the capital city of Canada?"
    refusal = seed_assistant.ask(unanswerable)
    assert refusal.refused
    assert not refusal.citations
    best = assess(
        seed_assistant.prepare_question(unanswerable), seed_assistant.retrieve(unanswerable)
    ).candidates[0]
    assert (refusal.related[0].start, refusal.related[0].end) == (
        best.window.start,
        best.window.end,
    )
    assert refusal.to_json_dict()["related"] == [r.model_dump() for r in refusal.related]


def _passage(doc: str, start: int, end: int) -> Passage:
    return Passage(f"{doc}:{start}", doc, f"{doc}.txt", doc, "x" * (end - start), start, end, 1.0)


def test_related_passages_skip_what_is_quoted_or_already_listed() -> None:
    cited = Citation(id=1, source="a.txt", start=120, end=140, quote="x" * 20, score=1, doc_id="a")
    passages = [
        _passage("a", 100, 200),  # holds the quote
        _passage("a", 180, 300),  # overlaps the quote's passage only: listed
        _passage("b", 100, 200),  # another document, same offsets: listed
        _passage("a", 250, 400),  # overlaps a listed passage
        _passage("c", 0, 50),
        _passage("d", 0, 50),
        _passage("e", 0, 50),  # beyond the limit
    ]
    found = related_passages(passages, [cited])
    assert [(r.doc_id, r.start) for r in found] == [("a", 180), ("b", 100), ("c", 0), ("d", 0)]
    assert len(found) == MAX_RELATED
    assert related_passages(passages, [cited], limit=1)[0].start == 180
    assert related_passages([], [cited]) == ()


def test_related_windows_one_per_passage_past_the_quotes() -> None:
    cited = Citation(id=1, source="a.txt", start=120, end=140, quote="x" * 20, score=1, doc_id="a")
    a, a2, b, c = (
        _passage("a", 100, 200),
        _passage("a", 180, 300),  # overlaps a's end
        _passage("b", 0, 100),
        _passage("c", 0, 100),
    )
    windows = [  # best first, as an answerer ranks them
        (a, 120, 140),  # the quote itself
        (a, 150, 190),  # the quoted passage's next best sentence: listed
        (a2, 185, 195),  # overlaps the sentence just listed
        (b, 10, 30),
        (b, 40, 60),  # b already has its sentence
        (a2, 200, 230),
        (c, 0, 20),  # beyond the limit
    ]
    found = related_spans(windows, [cited], limit=3)
    assert [(r.doc_id, r.start, r.end) for r in found] == [
        ("a", 150, 190),
        ("b", 10, 30),
        ("a", 200, 230),
    ]
    assert [r.text for r in found] == ["x" * 40, "x" * 20, "x" * 30]


def test_stream_refuses_a_bad_question_before_the_first_piece(seed_assistant: Assistant) -> None:
    # As `ask` does: a generator that raised only at its first next() let a caller start a
    # response (an HTTP stream, a progress line) for a question that was never valid.
    with pytest.raises(BadQuestionError):
        seed_assistant.stream("   ")
    with pytest.raises(BadArgumentError):
        seed_assistant.stream("What is e-CNY?", k=0)


def test_the_errors_the_readme_names_come_from_the_package() -> None:
    import assistant

    for name in ("CollectionError", "IndexUnusableError", "IndexBusyError", "IndexMissingError"):
        error = getattr(assistant, name)
        assert issubclass(error, assistant.AssistantError)
        assert name in assistant.__all__


def test_an_empty_list_of_paths_reads_nothing_and_a_with_block_closes(tmp_path) -> None:  # type: ignore[no-untyped-def]
    folder = tmp_path / "docs"
    folder.mkdir()
    (folder / "leave-policy.md").write_text(LEAVE_POLICY, encoding="utf-8")
    with Assistant(make_settings(tmp_path / "index", sources=[folder])) as assistant:
        # A caller's filter that kept no file: nothing read (it read the configured folders).
        assert assistant.ingest([]).added == 0
        assert assistant.documents() == []
        with pytest.raises(UsageError):  # a rebuild of nothing would empty the index
            assistant.ingest([], rebuild=True)
        assert assistant.ingest().added == 1  # None: the configured folders
