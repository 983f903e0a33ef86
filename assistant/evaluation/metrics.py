"""Pure metric functions: SQuAD answer scores, ranked-retrieval scores, rates and percentiles."""

from __future__ import annotations

import math
import re
import string
from collections import Counter
from collections.abc import Sequence

_ARTICLES = re.compile(r"\b(a|an|the)\b", re.UNICODE)
_PUNCTUATION = set(string.punctuation) | set("‘’“”–—…")
_MARKER = re.compile(r"\s*\[\d+\]")


def normalize_answer(text: str) -> str:
    """SQuAD normalisation: lower case, no punctuation, no articles, single spaces."""
    text = _MARKER.sub("", text).lower()
    text = "".join(character for character in text if character not in _PUNCTUATION)
    return " ".join(_ARTICLES.sub(" ", text).split())


def exact_match(prediction: str, answers: Sequence[str]) -> float:
    """1.0 when the normalised prediction equals a normalised acceptable answer."""
    normalized = normalize_answer(prediction)
    return float(any(normalized == normalize_answer(answer) for answer in answers))


def token_f1(prediction: str, answers: Sequence[str]) -> float:
    """The best SQuAD token F1 of the prediction against any acceptable answer."""
    predicted = normalize_answer(prediction).split()
    best = 0.0
    for answer in answers:
        gold = normalize_answer(answer).split()
        if not predicted or not gold:
            best = max(best, float(predicted == gold))
            continue
        common = sum((Counter(predicted) & Counter(gold)).values())
        if common:
            precision, recall = common / len(predicted), common / len(gold)
            best = max(best, 2 * precision * recall / (precision + recall))
    return best


def first_relevant_rank(relevant: Sequence[bool]) -> int | None:
    """1-based rank of the first relevant item, or None."""
    return next((rank for rank, hit in enumerate(relevant, start=1) if hit), None)


def hit_at(relevant: Sequence[bool], k: int) -> float:
    """1.0 when any of the first k items is relevant."""
    return float(any(relevant[:k]))


def reciprocal_rank(relevant: Sequence[bool]) -> float:
    """1 / rank of the first relevant item (0 when none is)."""
    rank = first_relevant_rank(relevant)
    return 0.0 if rank is None else 1.0 / rank


def ndcg_at(relevant: Sequence[bool], k: int, total_relevant: int) -> float:
    """Binary-gain nDCG@k, the ideal ranking placing all `total_relevant` items first."""
    dcg = sum(1.0 / math.log2(rank + 1) for rank, hit in enumerate(relevant[:k], 1) if hit)
    ideal = sum(1.0 / math.log2(rank + 1) for rank in range(1, min(k, total_relevant) + 1))
    return dcg / ideal if ideal else 0.0


def rate(flags: Sequence[bool]) -> float | None:
    """The share of true flags, or None for an empty sequence (a metric that does not apply)."""
    return sum(flags) / len(flags) if flags else None


def mean(values: Sequence[float]) -> float | None:
    """The arithmetic mean, or None for an empty sequence."""
    return sum(values) / len(values) if values else None


def percentile(values: Sequence[float], q: float) -> float | None:
    """The q-th percentile (0..100) with linear interpolation, or None for no values."""
    if not values:
        return None
    ordered = sorted(values)
    position = (len(ordered) - 1) * q / 100.0
    low = math.floor(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def precision_recall(
    predicted: Sequence[bool], actual: Sequence[bool]
) -> tuple[float | None, float | None]:
    """Precision and recall of boolean predictions (None when undefined: nothing predicted/true)."""
    true_positive = sum(p and a for p, a in zip(predicted, actual, strict=True))
    predicted_count, actual_count = sum(predicted), sum(actual)
    precision = true_positive / predicted_count if predicted_count else None
    recall = true_positive / actual_count if actual_count else None
    return precision, recall
