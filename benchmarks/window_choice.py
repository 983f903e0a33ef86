"""How well the extractive answerer picks its windows, leave-one-corpus-out, in about a minute.

    python -m benchmarks.window_choice --work DIR [--pending]
    python -m benchmarks.window_choice --corpora seed --work DIR   # a quick check
    python -m benchmarks.window_choice --work DIR --pending --show  # and every miss
    python -m benchmarks.window_choice --work DIR --pending --slip  # questions with a typo

The tuning corpora are indexed into DIR as `python -m benchmarks.eval_corpora --work DIR` does
(incremental: its indexes are reused). Every golden question is retrieved once and its candidate
windows described (`calibrate.observe`); then each tuning corpus is answered by a model fitted on
the other tuning corpora, and its answerable questions are scored as if nothing were refused:
how often the lead window holds a key fact, how often the composed answer does, how often any
candidate window does (the ceiling of window choice: retrieval's share of the misses), and the
median answer; then the counts summed over every corpus shown (one question moved reads as one,
whatever its corpus). `--pending` adds the pending corpora, answered by a model fitted on every
tuning corpus. Held-out corpora are never read. `--corpora` runs on those alone; a tuning corpus
with no other tuning corpus selected is then answered by the shipped model (fitted on it too: a
check that the steps run, not a number to report).

`--show` lists, after the table, each corpus's questions whose answer misses while some window
holds a key fact: the answer's windows, the best-ranked window holding one (its rank and score),
and the features by which the lead outranked it (each feature's weight times the difference).

`--casual` answers every question retyped as a chat often has it (lower case, no apostrophes,
no closing "?": `casually`), `--slip` also with two letters of its longest word swapped
(`with_a_slip`), by the models fitted on the questions as written: what hurried typing costs.

`--save FILE` keeps each question's two outcomes (the lead holds a key fact, the answer
does); `--against FILE` compares this run with such a file question by question and weighs the
questions that changed against chance (McNemar's exact test, as `assistant eval --compare`
does): on ~500 questions a change of a handful is what chance alone gives.

    python -m benchmarks.window_choice --work DIR --pending --save before.json
    (edit the features or the composition)
    python -m benchmarks.window_choice --work DIR --pending --against before.json

Retrieval is left to `benchmarks.tune_retrieval`, refusal to `benchmarks.refusal_choice`,
follow-up rewriting to `benchmarks.followups`, and all of them together to the full protocol
(`make eval-benchmark`, ~20 minutes); this isolates the ranking features, their fit and the
composition, so that a change to one of them shows in a minute.
"""

from __future__ import annotations

import argparse
import json
import re
import statistics
import sys
import tempfile
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from assistant.answerers.extractive import ExtractiveModel, compose, shipped_model
from assistant.answerers.window_features import Candidate
from assistant.core import Assistant
from assistant.evaluation.calibrate import Observation, fit, holds_key_fact, observe, rank
from assistant.evaluation.compare import describe_paired, paired_change
from assistant.evaluation.golden import load_golden
from assistant.text import one_line
from benchmarks.corpora import ROLES, Corpus, corpus
from benchmarks.eval_corpora import index_corpus


@dataclass(frozen=True)
class Choice:
    """One corpus's answerable questions: how many hold a key fact where."""

    questions: int
    lead: int  # the first window holds a key fact
    composed: int  # the composed answer does
    ceiling: int  # some candidate window does
    median_chars: float
    # Per answerable question (by id): whether the lead, and the answer, hold a key fact.
    outcomes: dict[str, dict[str, bool]]

    def row(self, name: str, role: str) -> str:
        """The corpus's line of the table."""
        shares = (self.lead, self.composed, self.ceiling)
        cells = " | ".join(f"{count / max(1, self.questions):.3f}" for count in shares)
        return f"| {name} | {role} | {self.questions} | {cells} | {self.median_chars:.0f} |"


def any_holds(observation: Observation, windows: Sequence[Candidate]) -> bool:
    """Whether one of the windows holds a key fact of the observation's question."""
    return any(holds_key_fact(observation.item, window) for window in windows)


def answered(
    observations: Sequence[Observation], model: ExtractiveModel
) -> Iterator[tuple[Observation, list[Candidate], list[Candidate]]]:
    """Each answerable question with its windows as the model ranks them and the windows its
    answer quotes, refusing none."""
    for observation in observations:
        if observation.item.answerable:
            ranked = rank(observation, model.rank)
            yield observation, ranked, compose(ranked, model.second_window_gain) if ranked else []


def choose(observations: Sequence[Observation], model: ExtractiveModel) -> Choice:
    """Score a corpus's answerable questions with a model, refusing none."""
    counts = [0, 0, 0]
    lengths = []
    outcomes = {}
    for observation, ranked, chosen in answered(observations, model):
        lead_holds = any_holds(observation, ranked[:1])
        answer_holds = any_holds(observation, chosen)
        outcomes[observation.item.id] = {"lead": lead_holds, "answer": answer_holds}
        if not ranked:
            lengths.append(0)
            continue
        counts[0] += lead_holds
        counts[1] += answer_holds
        counts[2] += any(observation.labels)
        lengths.append(sum(len(c.text) for c in chosen))
    median = statistics.median(lengths) if lengths else 0.0
    leads, answers, ceiling = counts
    return Choice(len(outcomes), leads, answers, ceiling, median, outcomes)


# How much of a window --show prints, and how many of the lead's winning features.
SHOWN_CHARS = 160
SHOWN_FEATURES = 4


def show_misses(observations: Sequence[Observation], model: ExtractiveModel) -> None:
    """Print every answerable question whose answer misses a key fact that some candidate
    window holds: the answer's windows, the first window holding one, and why the lead won."""
    for observation, ranked, chosen in answered(observations, model):
        holding = [i for i, c in enumerate(ranked) if holds_key_fact(observation.item, c)]
        if not holding or any_holds(observation, chosen):
            continue
        item, lead, good = observation.item, ranked[0], ranked[holding[0]]
        print(f"    {item.id}: {one_line(item.question, SHOWN_CHARS)}")
        print(f"        key terms: {', '.join(item.key_terms)}")
        for number, window in enumerate(chosen, start=1):
            print(f"        [{number}] {window.score:.2f} {one_line(window.text, SHOWN_CHARS)}")
        print(f"        #{holding[0] + 1} {good.score:.2f} {one_line(good.text, SHOWN_CHARS)}")
        margins = sorted(
            (
                (weight * (lead.features.get(name, 0.0) - good.features.get(name, 0.0)), name)
                for name, weight in model.rank.weights.items()
            ),
            reverse=True,
        )
        print(
            "        the lead wins by: "
            + ", ".join(f"{name} {margin:+.2f}" for margin, name in margins[:SHOWN_FEATURES])
        )


# What --save writes and --against reads.
OUTCOMES_SCHEMA = "window-choice/1"
# The outcomes compared, and how the comparison names them.
COMPARED = (("answer", "answer holds a key fact"), ("lead", "lead holds a key fact"))
# Each question's outcomes, keyed "corpus/id": whether the answer (the lead, ...) holds a key fact.
Outcomes = dict[str, dict[str, bool]]


def keyed_outcomes(choices: dict[str, Choice]) -> Outcomes:
    """Every answerable question's outcomes, keyed "corpus/id"."""
    return {
        f"{name}/{question}": outcome
        for name, choice in choices.items()
        for question, outcome in choice.outcomes.items()
    }


def save_outcomes(outcomes: Outcomes, path: Path) -> None:
    """Write every question's outcomes for a later --against."""
    document = {"schema": OUTCOMES_SCHEMA, "questions": outcomes}
    path.write_text(json.dumps(document), "utf-8")


def load_outcomes(
    path: Path, compared: Sequence[tuple[str, str]] = COMPARED
) -> dict[str, dict[str, bool]]:
    """Outcomes written by --save; SystemExit with what is wrong when the file is not one (or
    holds other outcomes than `compared`: another benchmark's)."""
    try:
        saved = json.loads(path.read_text("utf-8"))
    except (OSError, ValueError) as exc:
        raise SystemExit(f"cannot read {path}: {exc}") from exc
    questions = saved.get("questions") if isinstance(saved, dict) else None
    if (
        not isinstance(saved, dict)
        or saved.get("schema") != OUTCOMES_SCHEMA
        or not isinstance(questions, dict)
        or not all(
            isinstance(outcome, dict)
            and all(isinstance(outcome.get(key), bool) for key, _ in compared)
            for outcome in questions.values()
        )
    ):
        keys = ", ".join(key for key, _ in compared)
        raise SystemExit(f"{path} was not written by --save ({OUTCOMES_SCHEMA}: {keys})")
    return questions


def compare_outcomes(
    now: Outcomes, before: Outcomes, compared: Sequence[tuple[str, str]] = COMPARED
) -> list[str]:
    """This run against saved outcomes: for the questions in both, how many got better and
    worse, and whether that could be chance; and how many questions only one of them has (another
    selection of corpora, or a golden set changed since)."""
    common = [key for key in now if key in before]
    lines = [f"Against the saved outcomes ({len(common)} questions in both"]
    only_saved, only_now = len(before.keys() - now.keys()), len(now.keys() - before.keys())
    if only_saved or only_now:
        lines[0] += f"; {only_saved} only in the file, {only_now} only in this run"
    lines[0] += "):"
    for key, label in compared:
        row = paired_change([before[q][key] for q in common], [now[q][key] for q in common])
        lines.append(f"  {describe_paired(label, row)}")
    return lines


def compare_and_save(
    now: Outcomes,
    before: Outcomes | None,
    save: Path | None,
    compared: Sequence[tuple[str, str]] = COMPARED,
) -> int:
    """Print the comparison with the saved outcomes (--against), keep these (--save): 0."""
    if before is not None:
        print("\n".join(compare_outcomes(now, before, compared)))
    if save is not None:
        save_outcomes(now, save)
    return 0


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The options of the development loop's benchmarks: where, which corpora, --save and
    --against."""
    parser.add_argument("--work", type=Path, help="where the indexes are (default: tmp)")
    parser.add_argument("--pending", action="store_true", help="also the pending corpora")
    parser.add_argument("--corpora", nargs="*", help="only these tuning or pending corpora")
    parser.add_argument("--save", type=Path, metavar="FILE", help="keep each question's outcomes")
    parser.add_argument(
        "--against",
        type=Path,
        metavar="FILE",
        help="compare with outcomes kept by --save, question by question, against chance",
    )


def add_typing_arguments(parser: argparse.ArgumentParser) -> None:
    """--casual and --slip: every question retyped as chat has it, after the models are fitted
    on the questions as written."""
    typing = parser.add_mutually_exclusive_group()
    typing.add_argument(
        "--casual",
        action="store_true",
        help="every question typed in lower case, without apostrophes and '?'",
    )
    typing.add_argument(
        "--slip",
        action="store_true",
        help="as --casual, and two letters of the question's longest word swapped",
    )


def retyping(args: argparse.Namespace) -> Callable[[str], str] | None:
    """How --casual or --slip retypes a question (None: as written)."""
    return with_a_slip if args.slip else casually if args.casual else None


def casually(question: str) -> str:
    """A question as typed in a hurry: lower case, no apostrophe inside a word, no closing
    question mark ("What's the PID?" -> "whats the pid")."""
    return re.sub(r"\?+$", "", re.sub(r"(?<=\w)['’](?=\w)", "", question.strip().lower()))


def with_a_slip(question: str) -> str:
    """A question typed casually (`casually`) with a slip: the third and fourth letters of its
    longest word of six letters or more swapped, the first of that length ("How do I rotate
    the certificates?" -> "how do i rotate the cetrificates")."""
    typed = casually(question)
    found = list(re.finditer(r"[a-z]{6,}", typed))
    if not found:
        return typed
    word = max(found, key=lambda m: (len(m.group()), -m.start()))
    w = word.group()
    return typed[: word.start()] + w[:2] + w[3] + w[2] + w[4:] + typed[word.end() :]


def selected(args: argparse.Namespace) -> dict[str, Corpus] | None:
    """The tuning (and pending) corpora the options select, never a held-out one; None (said on
    stderr) when one is missing. SystemExit when there is nowhere to save, or no corpus."""
    if args.save is not None and not args.save.parent.is_dir():
        raise SystemExit(f"cannot save to {args.save}: no directory {args.save.parent}")
    roles = {"tuning", "pending"} if args.pending or args.corpora else {"tuning"}
    corpora = {
        name: corpus(name)
        for name, role in ROLES.items()
        if role in roles and (not args.corpora or name in args.corpora)
    }
    if not corpora:
        raise SystemExit(f"no tuning or pending corpus among {args.corpora}")
    missing = [name for name, c in corpora.items() if not c.available]
    if missing:
        print(f"missing corpora {missing}: run `make corpora`", file=sys.stderr)
        return None
    return corpora


def observed(
    corpora: dict[str, Corpus], work: Path, typed: Callable[[str], str] | None = None
) -> dict[str, list[Observation]]:
    """Every golden question of each corpus retrieved once and its windows described (the
    indexes built into `work` first, or reused); each question retyped by `typed` first, when
    given (its earlier turns as written)."""
    found = {}
    for name, c in corpora.items():
        items = load_golden(c.golden)
        if typed is not None:
            items = [item.model_copy(update={"question": typed(item.question)}) for item in items]
        found[name] = observe(Assistant(index_corpus(c, work)), items, name)
    return found


def models_without(tuning: dict[str, list[Observation]]) -> Callable[[str], ExtractiveModel]:
    """The model each corpus is answered by, from the tuning corpora's observations: a tuning
    corpus's fitted on the other tuning corpora; a pending one's on every tuning corpus
    (refitted, so that a scratch edit of the features is measured); with fewer than two
    tuning corpora, the shipped model."""

    @cache
    def fitted_without(left_out: str | None) -> ExtractiveModel:
        return fit([o for name, some in tuning.items() if name != left_out for o in some])

    def model_for(name: str) -> ExtractiveModel:
        if len(tuning) < 2:
            return shipped_model()
        return fitted_without(name if name in tuning else None)

    return model_for


def main(argv: Sequence[str] | None = None) -> int:
    """Observe, fit leave-one-corpus-out, print the table."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    add_arguments(parser)
    parser.add_argument(
        "--show",
        action="store_true",
        help="list the questions whose answer misses what a window holds, and why",
    )
    add_typing_arguments(parser)
    args = parser.parse_args(argv)
    # Before a minute of work: a file to compare with that is not one, or nowhere to save.
    before = load_outcomes(args.against) if args.against is not None else None
    corpora = selected(args)
    if corpora is None:
        return 2
    work = args.work or Path(tempfile.mkdtemp(prefix="assistant-windows-"))
    observations = observed(corpora, work)
    tuning = [name for name, c in corpora.items() if c.role == "tuning"]
    model_for = models_without({name: observations[name] for name in tuning})
    typed = retyping(args)
    if typed is not None:
        print(f"Every question retyped ({typed.__name__}), the models fitted as written.")
        observations = observed(corpora, work, typed=typed)

    print(
        "| corpus | role | answerable | lead holds a key fact | answer holds one "
        "| some window holds one | median answer (chars) |"
    )
    print("|---|---|---|---|---|---|---|")
    choices = {name: choose(observations[name], model_for(name)) for name in corpora}
    for name, choice in choices.items():
        print(choice.row(name, corpora[name].role))
    composed = [c.composed / max(1, c.questions) for n, c in choices.items() if n in tuning]
    if composed:
        print(f"\nTuning corpora, answer holds a key fact, mean: {statistics.fmean(composed):.4f}")
    # Counts over every corpus shown: a change of one question reads as one, whatever its corpus.
    shown = choices.values()
    print(
        f"All {len(choices)} corpora shown, of {sum(c.questions for c in shown)} answerable "
        f"questions: the answer holds a key fact for {sum(c.composed for c in shown)}, the lead "
        f"window for {sum(c.lead for c in shown)}, some window for {sum(c.ceiling for c in shown)}"
    )
    if args.show:  # after the table, so that it stays one table
        for name in corpora:
            print(f"\n{name}: the answers that miss what some window holds")
            show_misses(observations[name], model_for(name))
    return compare_and_save(keyed_outcomes(choices), before, args.save)


if __name__ == "__main__":
    raise SystemExit(main())
