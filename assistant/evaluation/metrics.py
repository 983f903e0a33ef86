"""The named metrics, and pure functions: SQuAD answer scores, ranking scores, percentiles."""

from __future__ import annotations

import math
import re
import string
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from statistics import NormalDist
from typing import Literal

Group = Literal["answers", "retrieval", "citations", "refusals"]


@dataclass(frozen=True)
class Metric:
    """A named metric: its label, group, which direction is better, and what it measures."""

    name: str
    label: str
    group: Group
    description: str
    higher_is_better: bool = True
    rate: bool = True  # a share or a score from 0 to 1 (False: a length)


METRICS: dict[str, Metric] = {
    metric.name: metric
    for metric in [
        Metric("accuracy", "Accuracy", "answers", "answerable: answered with a key term; "
               "unanswerable: refused"),
        Metric("pass_rate", "Pass rate", "answers", "correct, citing an expected source, every "
               "citation valid (what the pytest plugin checks per question)"),
        Metric("exact_match", "Exact match", "answers", "answer equals an acceptable answer "
               "after SQuAD normalisation (answerable questions)"),
        Metric("f1", "Token F1", "answers", "best SQuAD token F1 against the acceptable answers "
               "(answerable questions)"),
        Metric("answer_chars_p50", "Answer length p50", "answers", "median characters of the "
               "answers given (refusals excluded)", higher_is_better=False, rate=False),
        Metric("key_term_hit_rate", "Key-term hits", "answers", "answer holds a key term "
               "(answerable questions; a refusal holds none)"),
        Metric("key_term_in_reach_rate", "Key term within reach", "answers", "the answer or "
               "the sentences it lists under Also found hold a key term (answerable questions; "
               "those under a refusal count)"),
        Metric("hit_at_k", "Hit@k", "retrieval", "an expected source among the top k passages"),
        Metric("recall_at_k", "Recall@k", "retrieval", "share of expected sources in the top k"),
        Metric("mrr", "MRR", "retrieval", "1 / rank of the first passage from an expected source"),
        Metric("ndcg_at_10", "nDCG@10", "retrieval", "binary-gain nDCG of the first 10 distinct "
               "sources"),
        Metric("evidence_at_k", "Evidence@k", "retrieval", "an expected quote lies inside a top-k "
               "passage"),
        Metric("key_term_at_k", "Key fact@k", "retrieval", "a key term lies inside a top-k "
               "passage of an expected source"),
        Metric("citation_precision", "Citation precision", "citations", "citations whose quote "
               "supports the citing sentence or holds the expected evidence (ALCE)"),
        Metric("citation_recall", "Citation recall", "citations", "sentences supported by their "
               "citations or citing the expected evidence (ALCE)"),
        Metric("valid_citation_rate", "≥1 valid citation", "citations", "answers with at least "
               "one valid citation"),
        Metric("source_citation_rate", "Cites expected source", "citations", "answered "
               "answerable questions citing an expected source"),
        Metric("page_citation_rate", "Cites expected page", "citations", "answered "
               "answerable questions whose expected source names a page citing that page"),
        Metric("faithfulness", "Faithfulness", "citations", "answer sentences supported by "
               "their cited spans"),
        Metric("refusal_precision", "Refusal precision", "refusals", "refusals that were of "
               "unanswerable questions"),
        Metric("refusal_recall", "Refusal recall", "refusals", "unanswerable questions refused"),
        Metric("refusal_accuracy", "Refusal accuracy", "refusals", "refused exactly when "
               "unanswerable (all questions)"),
        Metric("false_refusal_rate", "False refusals", "refusals", "answerable questions "
               "refused", higher_is_better=False),
    ]
}  # fmt: skip


def latency_metric(stage: str, percentile: int) -> str:
    """Name of a latency metric, e.g. latency_total_p95_ms."""
    return f"latency_{stage}_p{percentile}_ms"


# The stages of `Answer.timings_ms` (the retrieval's, the answerers'), and `retrieve`, their
# sum up to the fusion (`results.RETRIEVE_PARTS`).
LATENCY_STAGES = (
    "embed", "dense", "sentences", "lexical", "lexical_wait", "fuse", "retrieve", "answer",
    "gate", "generate", "verify", "total",
)  # fmt: skip


def is_known_metric(name: str) -> bool:
    """Whether `name` is a quality metric or the latency of a known stage."""
    return name in METRICS or any(
        name in (latency_metric(stage, 50), latency_metric(stage, 95)) for stage in LATENCY_STAGES
    )


def is_rate(name: str) -> bool:
    """Whether a metric is a rate or a score from 0 to 1 (not a length or a latency)."""
    metric = METRICS.get(name)
    return metric is not None and metric.rate


def higher_is_better(name: str) -> bool:
    """Direction of a metric (latencies: lower is better)."""
    metric = METRICS.get(name)
    return metric.higher_is_better if metric is not None else False


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


# The level of the intervals below, and the p-value under which a paired change is "unlikely
# to be chance" (1 - the level, written out: 1 - 0.95 is 0.050000000000000044 in floating point).
CONFIDENCE_LEVEL = 0.95
SIGNIFICANCE = 0.05


def rate_interval(
    flags: Sequence[bool], level: float = CONFIDENCE_LEVEL
) -> tuple[float, float] | None:
    """The Wilson score interval of a rate, None for no flags. Unlike the textbook interval it
    stays inside [0, 1] and is not zero-wide at 0 of 40 or 40 of 40. (Arithmetic and the
    standard library's normal quantile, equal to scipy's to 1e-15, rather than scipy.stats: a
    pytest session run in-process, as the plugin's own tests run one, re-imports what it
    imported, and the numpy extension modules under scipy.stats refuse a second import.)"""
    if not flags:
        return None
    n = len(flags)
    share = sum(flags) / n
    z = NormalDist().inv_cdf(0.5 + level / 2)
    scale = 1 + z * z / n
    centre = (share + z * z / (2 * n)) / scale
    half = z * math.sqrt(share * (1 - share) / n + z * z / (4 * n * n)) / scale
    return max(0.0, centre - half), min(1.0, centre + half)


def sign_test(better: int, worse: int) -> float:
    """The two-sided p-value of McNemar's exact test on paired verdicts (the binomial test of
    the questions that changed, each as likely to go either way): how often chance alone moves
    at least this many of them one way. 1.0 when none changed."""
    if better < 0 or worse < 0:
        raise ValueError("counts of questions are not negative")
    changed = better + worse
    tail = sum(math.comb(changed, k) for k in range(min(better, worse) + 1))
    # 2 ** changed equally likely outcomes, written as a shift: an int to the power of an int
    # is typed as possibly a float (a negative power), which mypy reports as Any.
    return min(1.0, 2 * tail / (1 << changed))
