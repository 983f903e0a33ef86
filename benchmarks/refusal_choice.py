"""How well the extractive answerer decides to refuse, leave-one-corpus-out, in about 20 seconds.

    python -m benchmarks.refusal_choice --work DIR [--pending] [--show]
    python -m benchmarks.refusal_choice --corpora seed --work DIR   # a quick check
    python -m benchmarks.refusal_choice --work DIR --pending --save before.json
    (edit the confidence features or how the question is read)
    python -m benchmarks.refusal_choice --work DIR --pending --against before.json
    python -m benchmarks.refusal_choice --work DIR --pending --casual   # typed in a hurry
    python -m benchmarks.refusal_choice --work DIR --pending --slip     # and with a typo

Every golden question of the tuning (and with `--pending` the pending) corpora is retrieved
once and its windows described (`calibrate.observe`, as `benchmarks.window_choice` does). Each
tuning corpus is then decided by a model fitted on the other tuning corpora: its ranking, its
confidence model and its threshold, fitted as `make fit` fits the shipped ones on all of them (a
pending corpus by a model fitted on every tuning corpus). A question is refused when its
confidence is below that threshold (or it has no window to quote), as the answerer does. The
table: per corpus, the share of answerable questions refused, of unanswerable ones refused,
and their balanced accuracy (the mean of answerable answered and unanswerable refused); then
the mean balanced accuracy of the tuning corpora and of the pending ones. The tuning rows are the
refusal columns of the protocol's table (`make eval-benchmark`), in seconds instead of minutes,
without the follow-up rewriting's own answers or the answers themselves. Held-out corpora are
never read. `--corpora` runs on those alone; with fewer than two tuning corpora selected the
shipped model decides (fitted on them too: a check that the steps run, not a number to report).

`--casual` decides every question as a chat often has it typed: in lower case, without the
apostrophes of its contractions and without its closing question mark ("whats the default
port"; `window_choice.casually`), by the same models, fitted on the questions as written (the
shipped model is fitted on careful questions, and staff type both ways); its earlier turns
stay as written. How much a question's case and apostrophes decide its refusal. `--slip`
also swaps two letters of its longest word (`window_choice.with_a_slip`): how much a typo
does.

`--show` lists, after the table, every question decided wrongly, with its confidence and the
confidence features; `--save FILE` keeps whether each question was decided right, and
`--against FILE` weighs a later run against it, question by question
(`benchmarks.window_choice`'s format and test).
"""

from __future__ import annotations

import argparse
import statistics
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from assistant.answerers.extractive import ExtractiveModel, assess
from assistant.evaluation.calibrate import Observation, balanced_accuracy
from benchmarks.common import scratch_dir
from benchmarks.window_choice import (
    Outcomes,
    add_arguments,
    add_typing_arguments,
    compare_and_save,
    load_outcomes,
    models_without,
    observed,
    retyping,
    selected,
)

# What --save keeps of each question, and how --against names it.
COMPARED = (("right", "refusal decided right"),)


@dataclass(frozen=True)
class Decision:
    """One question: its confidence (None: no window to quote, or a question about nothing),
    the features it came from, and whether it was refused."""

    observation: Observation
    confidence: float | None
    features: dict[str, float]
    refused: bool

    @property
    def right(self) -> bool:
        """Refused exactly when the question is unanswerable."""
        return self.refused != self.observation.item.answerable


def decide(observations: Sequence[Observation], model: ExtractiveModel) -> list[Decision]:
    """Each question refused or answered as the extractive answerer with `model` decides
    (`extractive.assess`, then its threshold; a team's `refusal_threshold` setting aside)."""
    decisions = []
    for observation in observations:
        assessment = assess(observation.question, observation.retrieval, model)
        if not assessment.candidates:
            decisions.append(Decision(observation, None, {}, refused=True))
            continue
        confidence = assessment.confidence
        refused = confidence < model.threshold
        decisions.append(Decision(observation, confidence, assessment.confidence_features, refused))
    return decisions


@dataclass(frozen=True)
class Refusals:
    """A corpus's decisions, counted."""

    answerable: int
    unanswerable: int
    false_refusals: int  # answerable questions refused
    refusals: int  # unanswerable questions refused
    # The mean of answerable questions answered and unanswerable ones refused (of the kinds the
    # corpus has), as the threshold's fit reads it (`calibrate.balanced_accuracy`).
    balanced_accuracy: float

    @classmethod
    def of(cls, decisions: Sequence[Decision]) -> Refusals:
        """The counts of a corpus's decisions."""
        answerable = [d for d in decisions if d.observation.item.answerable]
        unanswerable = [d for d in decisions if not d.observation.item.answerable]
        balanced = balanced_accuracy(
            np.array([not d.refused for d in decisions], dtype=bool),
            np.array([d.observation.item.answerable for d in decisions], dtype=bool),
        )
        return cls(
            len(answerable),
            len(unanswerable),
            sum(d.refused for d in answerable),
            sum(d.refused for d in unanswerable),
            balanced,
        )

    def row(self, name: str, role: str, threshold: float) -> str:
        """The corpus's line of the table."""
        false = self.false_refusals / max(1, self.answerable)
        true = self.refusals / max(1, self.unanswerable)
        return (
            f"| {name} | {role} | {threshold:.2f} | {self.answerable} | {false:.2f} "
            f"| {self.unanswerable} | {true:.2f} | {self.balanced_accuracy:.3f} |"
        )


def show(decisions: Sequence[Decision]) -> None:
    """Print the questions decided wrongly, with their confidence and features."""
    for d in decisions:
        if d.right:
            continue
        item = d.observation.item
        what = "refused, answerable" if d.refused else "answered, unanswerable"
        confidence = "no window" if d.confidence is None else f"{d.confidence:.2f}"
        features = " ".join(f"{name}={value:.2f}" for name, value in d.features.items())
        print(f"    {item.id} ({what}, confidence {confidence}): {item.question}")
        if features:
            print(f"        {features}")


def main(argv: Sequence[str] | None = None) -> int:
    """Observe, fit leave-one-corpus-out, decide every question, print the table."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    add_arguments(parser)
    parser.add_argument(
        "--show", action="store_true", help="list the questions decided wrongly, with features"
    )
    add_typing_arguments(parser)
    args = parser.parse_args(argv)
    before = load_outcomes(args.against, COMPARED) if args.against is not None else None
    corpora = selected(args)
    if corpora is None:
        return 2
    work = args.work or scratch_dir("assistant-refusals-")
    observations = observed(corpora, work)
    tuning = {name: observations[name] for name, c in corpora.items() if c.role == "tuning"}
    model_for = models_without(tuning)
    typed = retyping(args)
    if typed is not None:
        print(f"Every question retyped ({typed.__name__}), the models fitted as written.")
        observations = observed(corpora, work, typed=typed)

    print(
        "| corpus | role | threshold | answerable | refused | unanswerable | refused "
        "| balanced accuracy |"
    )
    print("|---|---|---|---|---|---|---|---|")
    outcomes: Outcomes = {}
    means: dict[str, list[float]] = {"tuning": [], "pending": []}
    decided = {}
    for name, c in corpora.items():
        model = model_for(name)
        decided[name] = decisions = decide(observations[name], model)
        counted = Refusals.of(decisions)
        print(counted.row(name, c.role, model.threshold), flush=True)
        means[c.role].append(counted.balanced_accuracy)
        for d in decisions:
            outcomes[f"{name}/{d.observation.item.id}"] = {"right": d.right}
    print()
    for role, values in means.items():
        if values:
            print(f"Balanced accuracy, mean of the {role} corpora: {statistics.fmean(values):.3f}")
    if args.show:  # after the table, so that it stays one table
        for name, decisions in decided.items():
            print(f"\n{name}: the questions decided wrongly")
            show(decisions)
    return compare_and_save(outcomes, before, args.save, COMPARED)


if __name__ == "__main__":
    raise SystemExit(main())
