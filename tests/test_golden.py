"""The golden-set format: JSONL and YAML, clear errors, and writing it back."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from assistant.evaluation.golden import (
    GoldenFormatError,
    dumps_golden,
    load_golden,
    load_golden_files,
    write_golden,
)
from tests.conftest import GOLDEN, SEED_FILE, make_settings

YAML_SET = """\
# A team's golden set, written by hand.
- id: leave-1
  question: How many days of annual leave do staff get?
  kind: numeric
  answers: ["25 days"]
  must_contain_any: ["25"]
  sources:
    - source: handbook/leave.md
      quote: Staff get 25 days of annual leave.
- id: leave-2
  question: And can they carry it over?
  kind: followup
  history:
    - role: user
      content: How many days of annual leave do staff get?
    - role: assistant
      content: 25 days.
  must_contain_any: [carry over, five days]
  sources: [{source: handbook/leave.md}]
- id: leave-3
  question: What is the CEO's salary?
  kind: unanswerable
"""


def test_shipped_golden_sets_are_well_formed() -> None:
    seed = load_golden(GOLDEN / "seed_qa.jsonl")
    pydocs = load_golden(GOLDEN / "pydocs_qa.jsonl")
    assert len(seed) == 50
    assert len(pydocs) >= 60
    for items in (seed, pydocs):
        assert sum(not item.answerable for item in items) >= 5
        assert not any(item.draft for item in items)
        assert all(item.sources for item in items if item.answerable)
    seed_text = SEED_FILE.read_text("utf-8")
    for item in seed:
        for source in item.sources:
            assert source.quote is None or source.quote in seed_text, item.id


def test_yaml_and_jsonl_hold_the_same_items(tmp_path: Path) -> None:
    yaml_file = tmp_path / "set.yaml"
    yaml_file.write_text(YAML_SET, "utf-8")
    items = load_golden(yaml_file)
    assert [item.id for item in items] == ["leave-1", "leave-2", "leave-3"]
    assert items[1].history[1].role == "assistant"
    assert items[1].sources[0].quote is None
    assert not items[2].answerable
    jsonl_file = tmp_path / "set.jsonl"
    write_golden(items, jsonl_file)
    assert load_golden(jsonl_file) == items
    write_golden(items, tmp_path / "again.yml")
    assert load_golden(tmp_path / "again.yml") == items
    # Defaults stay out of the written records; id, question and kind always lead.
    first_line = dumps_golden(items).splitlines()[2]
    assert first_line.startswith('{"id": "leave-3", "question": "What is the CEO')
    assert "draft" not in first_line


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        (
            "bad.jsonl",
            '{"id": "a", "question": "Q?"}\n\n{"id": "b", "question": }\n',
            "bad.jsonl:3: invalid JSON",
        ),
        (
            "extra.jsonl",
            '{"id": "a", "question": "Q?", "answers": ["x"], "colour": "red"}\n',
            "item 1 ('a'): colour: unknown field",
        ),
        (
            "blank.jsonl",
            '{"id": "a", "question": "   "}\n',
            "item 1 ('a'): question: must not be empty",
        ),
        (
            "kind.jsonl",
            '{"id": "a", "question": "Q?", "kind": "two words"}\n',
            "item 1 ('a'): kind:",
        ),
        (
            "dupe.jsonl",
            '{"id": "a", "question": "Q?", "answers": ["x"]}\n'
            '{"id": "a", "question": "R?", "answers": ["y"]}\n',
            "duplicate ids ['a']",
        ),
        (
            "typo.jsonl",
            '{"id": "a", "question": "Q?", "must_contain": ["x"]}\n',
            "item 1 ('a'): must_contain: unknown field; did you mean 'must_contain_any'?",
        ),
        (
            "quote.jsonl",
            '{"id": "a", "question": "Q?", "answers": ["x"],'
            ' "sources": [{"source": "a", "qoute": "x"}]}\n',
            "item 1 ('a'): sources.0.qoute: unknown field; did you mean 'quote'?",
        ),
        (
            "string.jsonl",
            '{"id": "a", "question": "Q?", "must_contain_any": "25 days"}\n',
            "item 1 ('a'): must_contain_any: should be a list",
        ),
        (
            "noterms.jsonl",
            '{"id": "a", "question": "Q?", "history": []}\n',
            "item 1 ('a'): nothing to judge the answer by: give `answers` or `must_contain_any`",
        ),
        (
            "emptyterm.jsonl",
            '{"id": "a", "question": "Q?", "must_contain_any": [""]}\n',
            "item 1 ('a'): must_contain_any: an empty term matches every answer",
        ),
        (
            "emptylist.jsonl",
            '{"id": "a", "question": "Q?", "must_contain_any": []}\n',
            "item 1 ('a'): nothing to judge the answer by",
        ),
        (
            "misspelt.jsonl",
            '{"id": "a", "question": "Q?", "kind": "unanswerble"}\n',
            "item 1 ('a'): kind 'unanswerble': did you mean 'unanswerable'?",
        ),
        (
            "both.jsonl",
            '{"id": "a", "question": "Q?", "kind": "unanswerable", "answers": ["x"]}\n',
            "item 1 ('a'): a `kind: unanswerable` question is right when refused",
        ),
        ("map.yaml", "id: a\nquestion: Q?\n", "expected a list of questions"),
        ("broken.yaml", "- id: a\n  question: [Q?\n", "broken.yaml: invalid YAML at line 2"),
    ],
)
def test_bad_golden_files_get_one_clear_error(
    tmp_path: Path, name: str, content: str, message: str
) -> None:
    path = tmp_path / name
    path.write_text(content, "utf-8")
    with pytest.raises(GoldenFormatError) as error:
        load_golden(path)
    assert message in str(error.value)
    assert str(path) in str(error.value)


def test_missing_file_and_ids_repeated_across_files(tmp_path: Path) -> None:
    with pytest.raises(GoldenFormatError, match="cannot read golden file"):
        load_golden(tmp_path / "none.jsonl")
    (tmp_path / "a.jsonl").write_text('{"id": "x", "question": "Q?", "answers": ["q"]}\n', "utf-8")
    (tmp_path / "b.jsonl").write_text('{"id": "x", "question": "R?", "answers": ["r"]}\n', "utf-8")
    with pytest.raises(GoldenFormatError, match="id 'x' is also used in"):
        load_golden_files([tmp_path / "a.jsonl", tmp_path / "b.jsonl"])
    with pytest.raises(GoldenFormatError, match=r"a\.jsonl is named twice"):
        load_golden_files([tmp_path / "a.jsonl", tmp_path / ".." / tmp_path.name / "a.jsonl"])


def test_a_golden_file_may_open_with_a_byte_order_mark_and_be_named_as_text(
    tmp_path: Path,
) -> None:
    # Windows editors write a BOM and CRLF; the fixture's example names the file as a string.
    path = tmp_path / "bom.jsonl"
    path.write_bytes(b'\xef\xbb\xbf{"id": "x", "question": "Q?", "answers": ["q"]}\r\n')
    assert [item.id for item in load_golden(str(path))] == ["x"]


def test_any_label_is_a_kind_and_only_unanswerable_means_refusal(tmp_path: Path) -> None:
    path = tmp_path / "labels.jsonl"
    path.write_text(
        '{"id": "a", "question": "Q?", "kind": "Procedural", "answers": ["q"]}\n'
        '{"id": "b", "question": "R?", "kind": "two-part", "answers": ["r"]}\n'
        '{"id": "c", "question": "S?", "kind": "unanswerable"}\n'
        '{"id": "d", "question": "T?", "answers": ["t"],'
        ' "sources": [{"source": "m.pdf", "page": 3}]}\n'
        '{"id": "e", "question": "U?", "kind": "answerable", "answers": ["u"]}\n',
        "utf-8",
    )
    items = load_golden(path)
    kinds = ["procedural", "two-part", "unanswerable", "factual", "answerable"]
    assert [item.kind for item in items] == kinds
    assert [item.answerable for item in items] == [True, True, False, True, True]
    assert items[3].sources[0].page == 3


def test_calibration_fits_a_model_the_answerer_can_load(
    seed_index: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from assistant.answerers.extractive import ExtractiveAnswerer
    from assistant.answerers.window_features import RANK_FEATURES
    from assistant.evaluation import calibrate

    out = tmp_path / "model.json"
    assert calibrate.main([str(seed_index), str(GOLDEN / "seed_qa.jsonl"), "--out", str(out)]) == 0
    printed = json.loads(capsys.readouterr().out)
    assert set(printed["rank"]["weights"]) == set(RANK_FEATURES)
    assert 0.0 < printed["threshold"] < 1.0
    assert printed["fitted_on"] == ["seed_qa"]
    settings = make_settings(seed_index, extractive_model=out)
    answerer = ExtractiveAnswerer(settings)
    assert answerer.model.to_json() == printed
    assert answerer.threshold == printed["threshold"]


def test_the_fitted_threshold_refuses_at_most_five_percent_of_answerable_questions() -> None:
    import numpy as np

    from assistant.evaluation.calibrate import answer_first_threshold

    # 20 answerable questions (two with a low confidence) and 4 unanswerable ones.
    probabilities = np.array([0.305, 0.345] + [0.6] * 18 + [0.1, 0.2, 0.25, 0.5])
    answerable = np.array([True] * 20 + [False] * 4)
    # One answerable question in 20 (5 %) may be refused: up to 0.34, not above.
    assert answer_first_threshold(probabilities, answerable) == pytest.approx(0.34)
    assert answer_first_threshold(probabilities, answerable, max_false_refusals=0.0) == (
        pytest.approx(0.30)
    )
    # Each corpus counts the same: a small corpus with one answerable question at 0.315 holds
    # the threshold down although it brings few questions.
    groups = np.array(["big"] * 24 + ["small"] * 4)
    probabilities = np.concatenate([probabilities, [0.315, 0.6, 0.6, 0.6]])
    answerable = np.concatenate([answerable, [True] * 4])
    # At 0.32: big refuses 1 in 20, small 1 in 4 (mean 0.15); at 0.31: 0.05 and 0 (0.025).
    assert answer_first_threshold(probabilities, answerable, groups) == pytest.approx(0.31)
    # None allowed: the lowest threshold of the grid.
    assert answer_first_threshold(np.array([0.01, 0.02]), np.array([True, True])) == (
        pytest.approx(0.05)
    )


def test_each_corpus_is_judged_by_a_confidence_model_that_never_saw_it() -> None:
    import numpy as np

    from assistant.answerers.window_features import CONFIDENCE_FEATURES
    from assistant.evaluation.calibrate import out_of_corpus_confidences

    width = len(CONFIDENCE_FEATURES)

    def corpus(answerable_at: float, unanswerable_at: float) -> tuple[np.ndarray, np.ndarray]:
        # Ten answerable questions around `answerable_at` on the first feature, four
        # unanswerable ones around `unanswerable_at`; the other features zero.
        first = [answerable_at + 0.01 * i for i in range(10)]
        first += [unanswerable_at + 0.01 * i for i in range(4)]
        rows = np.zeros((14, width))
        rows[:, 0] = first
        return rows, np.array([True] * 10 + [False] * 4)

    # Two corpora alike, and a third whose questions all score lower: its answerable ones
    # nearer the others' unanswerable ones than their answerable ones.
    parts = [corpus(3.0, 0.0), corpus(3.0, 0.0), corpus(1.0, -2.0)]
    cx = np.vstack([rows for rows, _ in parts])
    cy = np.concatenate([labels for _, labels in parts])
    corpora = np.array(["a"] * 14 + ["b"] * 14 + ["odd"] * 14)
    unseen = out_of_corpus_confidences(cx, cy, corpora)
    odd = corpora == "odd"
    # Fitted without it, "odd"'s answerable questions look unanswerable (in-sample, a model
    # that saw them puts them near 0.7: its boundary moves down to take them in).
    assert np.all(unseen[odd & cy] < 0.3)
    assert np.all(unseen[~odd & cy] > 0.5)
    assert np.all(unseen[~odd & ~cy] < 0.5)
    # A corpus whose others hold only answerable questions gets the model fitted on every
    # corpus (no model can be fitted on one class).
    only = np.array([True] * 14 + list(cy[14:28]))
    mixed = out_of_corpus_confidences(cx[:28], only, corpora[:28])
    assert np.all(mixed[14:24] > 0.5)
    assert np.all(mixed[24:28] < 0.5)


@pytest.mark.parametrize("listing", sorted(GOLDEN.glob("*_corpus.txt")), ids=lambda path: path.stem)
def test_every_corpus_golden_set_is_written_as_staff_ask(listing: Path) -> None:
    """Each evaluation corpus's set (docs/evaluation.md): at least 40 questions, on-topic
    unanswerable ones, follow-ups that carry their history, and every expected source a file
    of the corpus's own listing."""
    from benchmarks.corpora import listed_files

    items = load_golden(listing.with_name(listing.name.replace("_corpus.txt", "_qa.jsonl")))
    listed = [str(path) for path in listed_files(listing)]
    assert len(items) >= 40
    assert len({item.id for item in items}) == len(items)
    assert sum(not item.answerable for item in items) >= 5
    followups = [item for item in items if item.kind == "followup"]
    assert len(followups) >= 3
    assert all(item.history for item in followups)
    for item in items:
        if item.answerable:
            assert item.key_terms, item.id
            assert item.sources, item.id
        for source in item.sources:  # as the evaluation matches a cited document's path
            assert any(source.matches(path) for path in listed), (item.id, source.source)
