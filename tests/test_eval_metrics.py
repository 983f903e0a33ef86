"""Metric functions against hand-computed values (SQuAD normalisation, ranking, percentiles)."""

from __future__ import annotations

import math

import pytest

from assistant.evaluation import metrics as m


def test_squad_normalisation_drops_case_punctuation_articles_and_markers() -> None:
    assert m.normalize_answer("The  Ant Group, and JD.com! [1]") == "ant group and jdcom"
    assert m.normalize_answer("“An” apple — a day") == "apple day"


@pytest.mark.parametrize(
    ("prediction", "answers", "em", "f1"),
    [
        ("Ant Group and JD.com", ["ant group and jd.com"], 1.0, 1.0),
        ("the Ant Group", ["Ant Group"], 1.0, 1.0),
        # 2 common tokens; precision 2/4, recall 2/2 -> F1 2/3
        ("Beijing regulators pulled it", ["Beijing regulators"], 0.0, 2 / 3),
        ("nothing in common", ["Ant Group"], 0.0, 0.0),
        # the best of several acceptable answers counts
        ("JD.com", ["Ant Group", "JD.com"], 1.0, 1.0),
        ("", ["Ant Group"], 0.0, 0.0),
    ],
)
def test_exact_match_and_token_f1(
    prediction: str, answers: list[str], em: float, f1: float
) -> None:
    assert m.exact_match(prediction, answers) == em
    assert m.token_f1(prediction, answers) == pytest.approx(f1)


def test_token_f1_counts_repeated_tokens_once_each() -> None:
    # "x x y" vs "x y y": common = min counts (x:1, y:1) = 2, so P = R = 2/3
    assert m.token_f1("x x y", ["x y y"]) == pytest.approx(2 / 3)


def test_ranking_metrics() -> None:
    relevant = [False, True, False, True]
    assert m.hit_at(relevant, 1) == 0.0
    assert m.hit_at(relevant, 2) == 1.0
    assert m.reciprocal_rank(relevant) == 0.5
    assert m.reciprocal_rank([False, False]) == 0.0
    expected = (1 / math.log2(3) + 1 / math.log2(5)) / (1 + 1 / math.log2(3))
    assert m.ndcg_at(relevant, 10, total_relevant=2) == pytest.approx(expected)
    assert m.ndcg_at([True], 10, total_relevant=1) == 1.0
    # a relevant item beyond the cut-off earns nothing
    assert m.ndcg_at([False, False, True], 2, total_relevant=1) == 0.0


def test_rates_percentiles_and_undefined_values() -> None:
    assert m.rate([True, False, True, True]) == 0.75
    assert m.rate([]) is None
    assert m.mean([]) is None
    assert m.percentile([10.0, 20.0, 30.0, 40.0], 50) == 25.0
    assert m.percentile([10.0, 20.0, 30.0, 40.0], 95) == pytest.approx(38.5)
    assert m.percentile([], 50) is None


def test_a_rate_comes_with_the_interval_its_question_count_allows() -> None:
    # Wilson score intervals at 95 % (reference values of the formula).
    low, high = m.rate_interval([True] * 5 + [False] * 5) or (0.0, 0.0)
    assert (round(low, 4), round(high, 4)) == (0.2366, 0.7634)
    low, high = m.rate_interval([True] * 40) or (0.0, 0.0)
    assert round(low, 4) == 0.9124  # not zero-wide at 40 of 40
    assert high == pytest.approx(1.0)
    assert m.rate_interval([]) is None
    # Four times the questions: about half as wide.
    narrow = m.rate_interval([True] * 20 + [False] * 20) or (0.0, 0.0)
    wide = m.rate_interval([True] * 5 + [False] * 5) or (0.0, 0.0)
    assert 0.45 < (narrow[1] - narrow[0]) / (wide[1] - wide[0]) < 0.6


def test_paired_changes_are_weighed_against_chance() -> None:
    assert m.sign_test(0, 0) == 1.0
    assert m.sign_test(2, 2) == 1.0
    assert m.sign_test(5, 0) == pytest.approx(0.0625)  # 2 * (1/2)**5
    assert m.sign_test(3, 1) == pytest.approx(0.625)
    assert m.sign_test(9, 1) == pytest.approx(0.021484375)  # 2 * 11 / 1024
    assert m.sign_test(1, 9) == m.sign_test(9, 1)
    with pytest.raises(ValueError, match="not negative"):
        m.sign_test(-1, 2)
