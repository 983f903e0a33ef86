"""`assistant eval generate`: drafts with verbatim quotes, for review, never silently scored."""

from __future__ import annotations

import json
from pathlib import Path

from assistant import Assistant
from assistant.evaluation.attribution import normalize_quote
from assistant.evaluation.generate import draft_items, draft_questions
from assistant.evaluation.golden import GoldenItem, load_golden
from tests.conftest import SEED_FILE, run_cli


def assert_drafts_quote_their_documents(items: list[GoldenItem], assistant: Assistant) -> None:
    """Each draft is marked, quotes its source verbatim, and its key terms are in the quote."""
    texts = {
        record.source: assistant.catalog.document_structure(record.doc_id)[0]
        for record in assistant.documents()
    }
    for item in items:
        assert item.draft, item.id
        assert item.note
        (source,) = item.sources
        assert source.source in texts
        assert source.quote is not None
        assert source.quote in texts[source.source], item.id
        assert item.must_contain_any, item.id
        for term in item.must_contain_any:
            assert normalize_quote(term) in normalize_quote(source.quote), (item.id, term)
        assert item.question.endswith("?")


def test_generate_prints_jsonl_drafts_of_the_seed_article(
    seed_index: Path, seed_assistant: Assistant, tmp_path: Path
) -> None:
    result = run_cli("eval", "generate", "--index", str(seed_index), "-n", "5", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    items = [GoldenItem.model_validate(json.loads(line)) for line in result.stdout.splitlines()]
    assert 1 <= len(items) <= 5
    assert [item.id for item in items] == [f"draft-{n:03d}" for n in range(1, len(items) + 1)]
    assert_drafts_quote_their_documents(items, seed_assistant)
    assert all(item.sources[0].source.endswith(SEED_FILE.name) for item in items)


def test_generate_writes_yaml_appends_and_drafts_are_not_scored(
    seed_index: Path, tmp_path: Path
) -> None:
    out = tmp_path / "drafts.yaml"
    base = ["eval", "generate", "--index", str(seed_index), "--out", str(out)]
    first = run_cli(*base, "-n", "2", "--answerer", "extractive", cwd=tmp_path)
    assert first.returncode == 0, first.stderr
    assert "review each" in first.stderr
    drafted = load_golden(out)
    assert len(drafted) == 2
    # The extractive answerer's cited answer joins the template's answer as a candidate, or
    # the note tells the reviewer why not.
    for item in drafted:
        assert len(item.answers) == 2 or "the answerer" in (item.note or ""), item
    assert any(len(item.answers) == 2 for item in drafted)
    again = run_cli(*base, "-n", "2", cwd=tmp_path)
    assert again.returncode == 2
    assert "pass --append" in again.stderr
    assert load_golden(out) == drafted  # nothing lost
    more = run_cli(*base, "-n", "5", "--append", cwd=tmp_path)
    assert more.returncode == 0, more.stderr
    grown = load_golden(out)
    assert grown[:2] == drafted
    quotes = [item.sources[0].quote for item in grown]
    assert len(quotes) == len(set(quotes))
    assert [item.id for item in grown] == [f"draft-{n:03d}" for n in range(1, len(grown) + 1)]

    unreviewed = run_cli("eval", str(out), "--index", str(seed_index), cwd=tmp_path)
    assert unreviewed.returncode == 2
    assert f"all {len(grown)} questions are unreviewed drafts" in unreviewed.stderr


def test_drafting_is_deterministic_and_skips_known_quotes(seed_assistant: Assistant) -> None:
    first = draft_questions(seed_assistant, n=3, seed=7)
    assert first == draft_questions(seed_assistant, n=3, seed=7)
    known = frozenset(draft.quote for draft in first)
    assert not {draft.quote for draft in draft_questions(seed_assistant, 3, 7, known)} & known
    items = draft_items(first, start=11)
    assert [item.id for item in items] == [f"draft-{11 + i:03d}" for i in range(len(first))]
    assert_drafts_quote_their_documents(items, seed_assistant)


def test_appended_drafts_are_numbered_after_the_highest_draft_id() -> None:
    from assistant.evaluation.generate import next_draft_number

    assert next_draft_number([]) == 1
    ids = ["draft-002", "q-9", "draft-010", "draft-x", "my-draft-50", "draft-²"]
    assert next_draft_number(ids) == 11  # "draft-²" once stopped `eval generate --append`


def test_a_drafted_key_term_is_not_a_word_the_question_asks_by_its_plural() -> None:
    from assistant.drafting import key_terms

    rarity = {"CPUs": 3.0, "scheduler": 2.0, "default": 1.0}.get
    # "CPUs" in the question and the answer is one term ("cpu"): not a key term to look for.
    assert key_terms(
        "Use CPUs and the default scheduler.", "How many CPUs?", lambda w: rarity(w, 0.0)
    ) == ("scheduler", "default")


def test_a_sentences_common_first_words_or_a_label_are_no_subject_to_ask_about() -> None:
    from assistant.drafting import _subject_draft

    rarity = {"Beijing": 3.0}.get

    def draft(sentence: str) -> str | None:
        made = _subject_draft("a.txt", sentence, lambda w: rarity(w, 0.0))
        return None if made is None else made.question

    assert draft("Beijing regulators pulled the plug on the stablecoin plans in Hong Kong.") == (
        "Who pulled the plug on the stablecoin plans in Hong Kong?"
    )
    # util-linux's notes drafted "What deprecated utils are in maintenance mode ...?" with the
    # answer "All", and "What does not belong to fdisk ...?" with the answer "Why: this".
    assert draft("All deprecated utils are in maintenance mode and kept for compatibility.") is None
    assert draft("It's expected that each invasive change will include a test with it.") is None
    assert draft("Why: this does not belong to fdisk, use the blockdev command instead.") is None


def test_a_sentence_that_introduces_what_follows_is_no_draft() -> None:
    from assistant.drafting import document_drafts

    def drafted(text: str) -> list[str]:
        return [d.question for d in document_drafts("a.txt", "A", text, (), lambda w: 1.0)]

    # util-linux's blkid notes drafted "What is as follows - there are two normal usage
    # patterns?" with the answer "Basic usage".
    lead_in = "Basic usage is as follows - there are two normal usage patterns:\n"
    stated = "Beijing regulators pulled the plug on the stablecoin plans in Hong Kong.\n"
    assert drafted(lead_in) == []
    assert drafted(stated) == ["Who pulled the plug on the stablecoin plans in Hong Kong?"]
