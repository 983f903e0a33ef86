"""Calibrate the extractive answerer's confidence model and refusal threshold on golden sets.

    python -m assistant.evaluation.calibrate INDEX_DIR GOLDEN [INDEX_DIR GOLDEN ...]

For every golden question it takes the features of the best-ranked sentence, fits a logistic
model of "the documents answer this question", and picks the threshold that maximises accuracy
(answered with a key term, or refused when unanswerable). It prints the fitted weights, the
threshold and the per-set metrics; the answerer's constants come from this output.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt

from assistant.answerers.extractive import (
    CONFIDENCE_BIAS,
    CONFIDENCE_WEIGHTS,
    ExtractiveAnswerer,
    score_candidates,
)
from assistant.core import Assistant
from assistant.evaluation.golden import GoldenItem, load_golden
from assistant.evaluation.runner import contains_key_term

FEATURES = ("semantic", "passage_lexical", "missing")


@dataclass(frozen=True)
class Observation:
    """One golden question: the best sentence's features and whether answering was right."""

    item_id: str
    features: tuple[float, ...]
    answerable: bool
    hit: bool  # the answer given without a threshold holds a key term


def observe(assistant: Assistant, items: Sequence[GoldenItem]) -> list[Observation]:
    """Features and outcomes for each golden question (the answerer never refuses here)."""
    answerer = ExtractiveAnswerer(assistant.settings.with_overrides(refusal_threshold=0.0))
    observations = []
    for item in items:
        question = assistant.prepare_question(item.question, item.history)
        retrieval = assistant.retrieve(question.standalone)
        candidates = score_candidates(question, retrieval)
        features = candidates[0].features() if candidates else {}
        answer = answerer.answer(question, retrieval)
        observations.append(
            Observation(
                item.id,
                tuple(features.get(name, 0.0) for name in FEATURES),
                item.answerable,
                item.answerable and contains_key_term(answer.text, item.must_contain_any),
            )
        )
    return observations


def fit_logistic(
    x: npt.NDArray[np.float64], y: npt.NDArray[np.float64], l2: float = 0.01, steps: int = 50
) -> tuple[npt.NDArray[np.float64], float]:
    """L2-regularised logistic regression by Newton's method: (weights, bias)."""
    design = np.hstack([x, np.ones((len(x), 1))])
    theta = np.zeros(design.shape[1])
    penalty = np.eye(design.shape[1]) * l2
    penalty[-1, -1] = 0.0  # the bias is not shrunk
    for _ in range(steps):
        p = 1.0 / (1.0 + np.exp(-design @ theta))
        gradient = design.T @ (p - y) + penalty @ theta
        hessian = design.T @ (design * (p * (1 - p))[:, None]) + penalty
        theta -= np.linalg.solve(hessian, gradient)
    return theta[:-1], float(theta[-1])


def accuracy(
    probabilities: npt.NDArray[np.float64], observations: Sequence[Observation], threshold: float
) -> dict[str, float]:
    """Overall accuracy, share of answerable answered correctly, and refusal recall."""
    answered = probabilities >= threshold
    answerable = np.array([o.answerable for o in observations])
    hit = np.array([o.hit for o in observations])
    right = (answerable & answered & hit) | (~answerable & ~answered)
    return {
        "accuracy": float(right.mean()),
        "answered_correctly": float((answered & hit)[answerable].mean()) if answerable.any() else 0,
        "refusal_recall": float((~answered)[~answerable].mean()) if (~answerable).any() else 0,
    }


def best_threshold(
    probabilities: npt.NDArray[np.float64], observations: Sequence[Observation]
) -> float:
    """The threshold with the highest accuracy (the middle of the best plateau)."""
    grid = np.round(np.arange(0.05, 0.96, 0.01), 2)
    scores = [accuracy(probabilities, observations, t)["accuracy"] for t in grid]
    top = max(scores)
    plateau = [t for t, s in zip(grid, scores, strict=True) if s >= top - 1e-9]
    return float(plateau[len(plateau) // 2])


@dataclass(frozen=True)
class ThresholdFit:
    """The best refusal threshold for a golden set under the shipped confidence model."""

    threshold: float
    accuracy: dict[str, float]  # at the best threshold
    current_threshold: float
    current_accuracy: dict[str, float]
    questions: int

    def describe(self) -> str:
        """One paragraph for a terminal."""
        best, now = self.accuracy, self.current_accuracy
        return (
            f"calibration on {self.questions} questions (extractive confidence model): "
            f"best refusal_threshold = {self.threshold:.2f} (accuracy {best['accuracy']:.3f}, "
            f"answered correctly {best['answered_correctly']:.3f}, refusal recall "
            f"{best['refusal_recall']:.3f}); the current {self.current_threshold:.2f} gives "
            f"accuracy {now['accuracy']:.3f}. Set it with ASSISTANT_REFUSAL_THRESHOLD or "
            "refusal_threshold in assistant.toml."
        )


def shipped_confidence(observations: Sequence[Observation]) -> npt.NDArray[np.float64]:
    """The extractive answerer's confidence for each observation, as shipped."""
    weights = np.array([CONFIDENCE_WEIGHTS.get(name, 0.0) for name in FEATURES])
    features = np.array([o.features for o in observations], dtype=np.float64).reshape(-1, 3)
    return np.asarray(1.0 / (1.0 + np.exp(-(features @ weights + CONFIDENCE_BIAS))))


def fit_threshold(assistant: Assistant, items: Sequence[GoldenItem]) -> ThresholdFit:
    """The accuracy-maximising refusal threshold on these items, with the shipped weights."""
    observations = observe(assistant, items)
    probabilities = shipped_confidence(observations)
    threshold = best_threshold(probabilities, observations)
    current = assistant.settings.refusal_threshold
    return ThresholdFit(
        threshold=threshold,
        accuracy=accuracy(probabilities, observations, threshold),
        current_threshold=current,
        current_accuracy=accuracy(probabilities, observations, current),
        questions=len(observations),
    )


def main(argv: Sequence[str] | None = None) -> int:
    """Fit on the given (index, golden set) pairs and print the result."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("pairs", nargs="+", help="INDEX_DIR GOLDEN_FILE, repeated")
    args = parser.parse_args(argv)
    if len(args.pairs) % 2:
        parser.error("give pairs of INDEX_DIR GOLDEN_FILE")
    sets: dict[str, list[Observation]] = {}
    for index_dir, golden in zip(args.pairs[::2], args.pairs[1::2], strict=True):
        assistant = Assistant(index_dir=Path(index_dir))
        sets[golden] = observe(assistant, load_golden(Path(golden)))
    pooled = [o for observations in sets.values() for o in observations]
    x = np.array([o.features for o in pooled], dtype=np.float64)
    y = np.array([o.answerable for o in pooled], dtype=np.float64)
    weights, bias = fit_logistic(x, y)

    def predict(observations: Sequence[Observation]) -> npt.NDArray[np.float64]:
        features = np.array([o.features for o in observations], dtype=np.float64)
        return np.asarray(1.0 / (1.0 + np.exp(-(features @ weights + bias))))

    threshold = best_threshold(predict(pooled), pooled)
    print(
        "CONFIDENCE_WEIGHTS =",
        {n: round(float(w), 3) for n, w in zip(FEATURES, weights, strict=True)},
    )
    print("CONFIDENCE_BIAS =", round(bias, 3))
    print("refusal_threshold =", threshold)
    for name, observations in {**sets, "pooled": pooled}.items():
        metrics = accuracy(predict(observations), observations, threshold)
        print(f"{name}: " + ", ".join(f"{k}={v:.3f}" for k, v in metrics.items()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
