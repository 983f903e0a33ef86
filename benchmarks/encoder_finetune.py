"""Would an encoder fine-tuned on the tuning sets rank windows better? A measurement, not shipped.

    python -m benchmarks.encoder_finetune --work DIR [--pending] [--lora RANK]
    python -m benchmarks.encoder_finetune --corpora seed --work DIR --max-triplets 32  # a check

The bundled all-MiniLM-L6-v2 was trained on question and answer pairs from the web, not on
staff scenarios against manuals; it is the ranking's only judge of meaning. This fine-tunes a
copy of it on the tuning golden sets and measures the window ranking with it, on questions the
copy never saw:

- each tuning corpus's golden questions are split by their order into two halves (even, odd);
- the copy is trained on the first halves: each answerable question (and its asking clause)
  against each of its two best-ranked windows that hold a key fact, with the shipped ranking's
  best three windows that do not as hard negatives (sentence-transformers'
  MultipleNegativesRankingLoss, one epoch, AdamW at 2e-5, batches of 16, seeded; a window is
  given as the sentence embedded after its title and section, as ingest embeds it);
- the second halves and the pending corpora (never trained on) are then scored as
  `benchmarks.window_choice` scores them, the ranking refitted leave-one-corpus-out on the
  second halves, twice: with the four similarity features (`semantic`, `semantic_focus`,
  `context`, `context_focus`) recomputed by the bundled encoder, each sentence embedded alone
  and after its title and section, and recomputed the same way by the fine-tuned copy.

With `--lora RANK` the copy keeps the bundled weights and learns a LoRA adapter of that rank on
every linear layer (peft, the `bench` extra; at 3e-4, merged in before scoring): the form in
which a fitted encoder could be carried in the repository (under 1 MB at rank 8, where the
weights are 90 MB).

Both columns embed the same texts the same way, so they differ only by the encoder; neither is
the shipped pipeline's own number (its `semantic` pools the chunk's word pieces over the
sentence). Retrieval is left as it is. Held-out corpora are never read. CPU only, about 10
minutes on two cores (the training about 7 of them); `--max-triplets` caps the training set.
"""

from __future__ import annotations

import argparse
import importlib.util
import random
import sys
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np

from assistant.answerers.extractive import shipped_model
from assistant.answerers.window_features import Candidate, set_relative
from assistant.embed_inputs import in_context as sentence_in_context
from assistant.embedding import default_model_path
from assistant.evaluation.calibrate import Observation
from assistant.interpret import analyse
from assistant.types import section_at
from benchmarks.common import scratch_dir
from benchmarks.window_choice import choose, models_without, observed, selected

# The training, fixed: one pass, the rate and batch sentence-transformers' examples use.
EPOCHS = 1
LEARNING_RATE = 2e-5
LORA_LEARNING_RATE = 3e-4  # an adapter starts at zero and has few weights: the usual LoRA rate
BATCH = 16
POSITIVES = 2  # windows holding a key fact, best-ranked first
NEGATIVES = 3  # the shipped ranking's best windows that hold none
SEED = 0


def sentence_of(candidate: Candidate) -> str:
    """The sentence a window grew from."""
    window = candidate.window
    return candidate.passage.sentence_text(window.sentence_start, window.sentence_end)


def in_context(candidate: Candidate) -> str:
    """The sentence after its document's title and its section's, as ingest embeds it."""
    passage = candidate.passage
    section = section_at(passage.headings, candidate.window.sentence_start)
    return sentence_in_context(passage.title, section, sentence_of(candidate))


def halves(
    observations: dict[str, list[Observation]], tuning: Sequence[str]
) -> tuple[dict[str, list[Observation]], dict[str, list[Observation]]]:
    """The tuning corpora's first halves (to train on) and everything else (to score)."""
    train = {name: observations[name][0::2] for name in tuning}
    scored = {name: some[1::2] if name in tuning else some for name, some in observations.items()}
    return train, scored


def triplets(train: dict[str, list[Observation]]) -> list[tuple[str, str, str]]:
    """(question or asking clause, a window holding a key fact, a hard negative)."""
    ranking = shipped_model().rank
    result = []
    for some in train.values():
        for observation in some:
            if not observation.item.answerable or not any(observation.labels):
                continue
            ranked = sorted(
                zip(observation.candidates, observation.labels, strict=True),
                key=lambda pair: -ranking.probability(pair[0].features),
            )
            positives = [c for c, holds in ranked if holds][:POSITIVES]
            negatives = [c for c, holds in ranked if not holds][:NEGATIVES]
            standalone = observation.question.standalone
            for asked in dict.fromkeys([standalone, analyse(standalone).focus]):
                for positive in positives:
                    for negative in negatives:
                        result.append((asked, in_context(positive), in_context(negative)))
    return result


def fine_tuned(examples: list[tuple[str, str, str]], lora_rank: int = 0) -> Any:
    """A copy of the bundled encoder trained on the triplets (seeded, CPU): every weight, or
    with `lora_rank` a LoRA adapter of that rank on every linear layer, merged in after."""
    import torch
    from sentence_transformers import SentenceTransformer
    from sentence_transformers.sentence_transformer.losses import MultipleNegativesRankingLoss

    torch.manual_seed(SEED)
    order = random.Random(SEED)
    model = SentenceTransformer(str(default_model_path()), device="cpu")
    adapted = None
    if lora_rank:
        from peft import LoraConfig, get_peft_model

        config = LoraConfig(
            r=lora_rank,
            lora_alpha=2 * lora_rank,
            lora_dropout=0.0,
            target_modules=["query", "key", "value", "dense"],
        )
        adapted = get_peft_model(model[0].auto_model, config)
        model[0].auto_model = adapted
    loss = MultipleNegativesRankingLoss(model)
    trained = [p for p in model.parameters() if p.requires_grad]
    optimiser = torch.optim.AdamW(trained, lr=LORA_LEARNING_RATE if lora_rank else LEARNING_RATE)
    model.train()
    for _ in range(EPOCHS):
        shuffled = list(examples)
        order.shuffle(shuffled)
        for start in range(0, len(shuffled), BATCH):
            batch = shuffled[start : start + BATCH]
            features = [model.preprocess([example[i] for example in batch]) for i in range(3)]
            loss(features, None).backward()
            optimiser.step()
            optimiser.zero_grad()
    model.eval()
    if adapted is not None:
        model[0].auto_model = adapted.merge_and_unload()
    return model


def refeatured(
    encoder: Any, observations: dict[str, list[Observation]]
) -> dict[str, list[Observation]]:
    """The observations with their similarity features recomputed by `encoder`."""
    result = {}
    for name, some in observations.items():
        changed = []
        for observation in some:
            candidates = observation.candidates
            if not candidates:
                changed.append(observation)
                continue
            standalone = observation.question.standalone
            texts = [standalone, analyse(standalone).focus]
            texts += [sentence_of(c) for c in candidates] + [in_context(c) for c in candidates]
            vectors = encoder.encode(
                texts, batch_size=64, normalize_embeddings=True, convert_to_numpy=True
            )
            query, focus = vectors[0], vectors[1]
            alone, context = vectors[2 : 2 + len(candidates)], vectors[2 + len(candidates) :]
            renewed = []
            for index, candidate in enumerate(candidates):
                features = dict(candidate.features)
                features["semantic"] = float(np.clip(alone[index] @ query, 0.0, 1.0))
                features["semantic_focus"] = float(np.clip(alone[index] @ focus, 0.0, 1.0))
                features["context"] = float(context[index] @ query)
                features["context_focus"] = float(context[index] @ focus)
                renewed.append(Candidate(candidate.window, features))
            set_relative([c.features for c in renewed])
            changed.append(replace(observation, candidates=tuple(renewed)))
        result[name] = changed
    return result


def main(argv: Sequence[str] | None = None) -> int:
    """Split, fine-tune on the first halves, score the rest with both encoders, print."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--work", type=Path, help="where the indexes are (default: tmp)")
    parser.add_argument("--pending", action="store_true", help="also score the pending corpora")
    parser.add_argument("--corpora", nargs="*", help="only these tuning or pending corpora")
    parser.add_argument(
        "--max-triplets", type=int, default=None, help="train on at most this many (a check)"
    )
    parser.add_argument(
        "--lora",
        type=int,
        default=0,
        metavar="RANK",
        help="train a LoRA adapter of this rank, not every weight (needs peft: the bench extra)",
    )
    parser.set_defaults(save=None)  # window_choice.selected's: nothing is saved here
    args = parser.parse_args(argv)
    if args.lora < 0:
        parser.error("--lora wants a rank of 1 or more (0: every weight is trained)")
    if args.lora and importlib.util.find_spec("peft") is None:
        raise SystemExit("--lora needs peft: pip install -e '.[bench]' (or make bench)")
    corpora = selected(args)
    if corpora is None:
        return 2
    from sentence_transformers import SentenceTransformer

    observations = observed(corpora, args.work or scratch_dir("assistant-finetune-"))
    tuning = [name for name, c in corpora.items() if c.role == "tuning"]
    train, scored = halves(observations, tuning)
    examples = triplets(train)[: args.max_triplets]
    how = f"a LoRA adapter of rank {args.lora}" if args.lora else "every weight"
    print(f"Fine-tuning {how} on {len(examples)} triplets from the tuning corpora's first halves")
    encoders = {
        "bundled": SentenceTransformer(str(default_model_path()), device="cpu"),
        "fine-tuned": fine_tuned(examples, args.lora),
    }
    choices = {}
    for label, encoder in encoders.items():
        features = refeatured(encoder, scored)
        model_for = models_without({name: features[name] for name in tuning})
        choices[label] = {name: choose(features[name], model_for(name)) for name in corpora}
    print(
        "\n| corpus | role | answerable scored | lead holds a key fact: bundled / fine-tuned "
        "| answer holds one: bundled / fine-tuned |"
    )
    print("|---|---|---|---|---|")
    before, after = choices["bundled"], choices["fine-tuned"]
    for name, corpus in corpora.items():
        role = corpus.role if corpus.role != "tuning" else "tuning (second half)"
        print(
            f"| {name} | {role} | {before[name].questions} | {before[name].lead} / "
            f"{after[name].lead} | {before[name].composed} / {after[name].composed} |"
        )
    total = sum(c.questions for c in before.values())
    print(
        f"\nOf {total} answerable questions scored: the lead holds a key fact for "
        f"{sum(c.lead for c in before.values())} / {sum(c.lead for c in after.values())}, the "
        f"answer for {sum(c.composed for c in before.values())} / "
        f"{sum(c.composed for c in after.values())} (bundled / fine-tuned)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
