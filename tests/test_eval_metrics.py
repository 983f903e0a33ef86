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
    precision, recall = m.precision_recall([True, True, False], [True, False, True])
    assert (precision, recall) == (0.5, 0.5)
    assert m.precision_recall([False, False], [False, True]) == (None, 0.0)
