"""Follow-ups asked as a chat asks them: after the assistant's own answer, in a few minutes.

    python -m benchmarks.followups --work DIR [--pending] [--show]
    python -m benchmarks.followups --corpora seed --work DIR   # a quick check
    python -m benchmarks.followups --work DIR --pending --save before.json
    (edit the follow-up rewriting)
    python -m benchmarks.followups --work DIR --pending --against before.json

A golden follow-up's `history` holds the answer its writer expected, a right one. In the chat,
the answer before a follow-up is the assistant's own, right or wrong, and the follow-up's "it"
or "that" is resolved against it (`assistant/condense.py`). This asks every answerable
follow-up of the tuning (and with `--pending` the pending) corpora twice: after its golden
history, and after that history with its last answer replaced by the assistant's own answer to
the question before (earlier turns keep their golden answers). Each corpus is answered by a
model fitted on the other tuning corpora (a pending one by a model fitted on every tuning
corpus), as `benchmarks.window_choice` does, refusing none; the same model writes the answer
before the follow-up through `Assistant.ask`, as `assistant eval --own-answers` does, with its
refusals ("The documents don't answer this." names nothing to point back at). Held-out corpora
are never read. `--corpora` runs on those alone; with fewer than two tuning corpora selected,
the shipped model answers (fitted on them too: a check that the steps run, not a number to
report).

`--show` prints each follow-up's rewrite after both histories; `--save FILE` keeps each
follow-up's outcomes after the assistant's own answer, and `--against FILE` weighs a later run
against them, question by question (`benchmarks.window_choice`'s format and test).
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Sequence

from assistant.core import Assistant
from assistant.evaluation.calibrate import Observation, observe
from assistant.evaluation.golden import load_golden
from assistant.evaluation.runner import after_own_answer, is_followup
from benchmarks.common import scratch_dir
from benchmarks.eval_corpora import index_corpus
from benchmarks.window_choice import (
    Choice,
    add_arguments,
    choose,
    compare_and_save,
    keyed_outcomes,
    load_outcomes,
    models_without,
    selected,
)


def row(name: str, role: str, golden: Choice, own: Choice) -> str:
    """A corpus's line: follow-ups, then the answer holding a key fact (and some window holding
    one) after the golden answer and after the assistant's own."""
    cells = " | ".join(f"{c.composed} ({c.ceiling})" for c in (golden, own))
    return f"| {name} | {role} | {golden.questions} | {cells} |"


def main(argv: Sequence[str] | None = None) -> int:
    """Observe, fit leave-one-corpus-out, ask the follow-ups twice, print the table."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    add_arguments(parser)
    parser.add_argument("--show", action="store_true", help="print every follow-up's rewrites")
    args = parser.parse_args(argv)
    before = load_outcomes(args.against) if args.against is not None else None
    corpora = selected(args)
    if corpora is None:
        return 2
    work = args.work or scratch_dir("assistant-followups-")
    assistants = {name: Assistant(index_corpus(c, work)) for name, c in corpora.items()}
    items = {name: load_golden(c.golden) for name, c in corpora.items()}
    tuning = [name for name, c in corpora.items() if c.role == "tuning"]
    fitting = (
        {name: observe(assistants[name], items[name], name) for name in tuning}
        if len(tuning) > 1
        else {}
    )

    model_for = models_without(fitting)

    print(
        "| corpus | role | answerable follow-ups | after the golden answer: answer holds a key "
        "fact (some window does) | after the assistant's own answer |"
    )
    print("|---|---|---|---|---|")
    golden_choices: dict[str, Choice] = {}
    own_choices: dict[str, Choice] = {}
    models = scratch_dir("assistant-followups-models-")
    for name, c in corpora.items():
        model = model_for(name)
        # The answer before each follow-up: `assistant eval --own-answers`'s, by this model.
        path = models / f"{name}.json"
        path.write_text(json.dumps(model.to_json()), "utf-8")
        answering = Assistant(
            assistants[name].settings.with_overrides(extractive_model=path, question_log_days=0)
        )
        followups = [item for item in items[name] if item.answerable and is_followup(item)]
        golden: list[Observation] = observe(assistants[name], followups, name)
        own_items = [after_own_answer(answering, item) for item in followups]
        own: list[Observation] = observe(assistants[name], own_items, name)
        golden_choices[name], own_choices[name] = choose(golden, model), choose(own, model)
        print(row(name, c.role, golden_choices[name], own_choices[name]), flush=True)
        if args.show:
            for g, o in zip(golden, own, strict=True):
                mark = "".join(
                    "+" if choice.outcomes[g.item.id]["answer"] else "-"
                    for choice in (golden_choices[name], own_choices[name])
                )
                print(f"    {mark} {g.item.id}: {g.item.question}")
                print(f"        golden -> {g.question.standalone}")
                print(f"        own    -> {o.question.standalone}")
                print(f"        (own answer: {o.item.history[-1].content[:160]!r})")
    totals = [
        sum(c.composed for c in choices.values()) for choices in (golden_choices, own_choices)
    ]
    count = sum(c.questions for c in golden_choices.values())
    print(
        f"\nOf {count} answerable follow-ups, the answer holds a key fact for {totals[0]} after "
        f"the golden answer, for {totals[1]} after the assistant's own"
    )
    return compare_and_save(keyed_outcomes(own_choices), before, args.save)


if __name__ == "__main__":
    raise SystemExit(main())
