"""Sweep retrieval settings on the tuning corpora: key fact and right document in the top k.

    python -m benchmarks.tune_retrieval [--work DIR] [--configs CONFIG ...] [--k 5]
                                        [--corpora NAME ...]

A CONFIG sets the retriever's knobs, comma-separated: `rerank=0.5` (the second stage's
weight), `depth=20` (how many fused passages it reorders), `cand=30` (candidates per search
before fusion), `sentences=0` (no sentence-level list, `assistant/sentence_search.py`), `rrf=60`
(reciprocal rank fusion's constant); unset
knobs keep the shipped values. Indexes each corpus into WORK
(incremental, shared with `benchmarks.eval_corpora`) and, for every config, retrieves each
answerable golden question's standalone form and reports the share with a key term inside a
top-k passage of an expected document (key fact@k, at depths 1, 3, 5 and 10) and with an
expected document in the top k (hit@k), per corpus, and the mean key fact@k over corpora. The
shipped values in `assistant.retrieval` are the config with the best mean. `--corpora` may name
pending corpora (sets waiting for their role); held-out corpora are never read.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path

from assistant.core import Assistant
from assistant.evaluation.golden import load_golden
from assistant.evaluation.runner import judge_retrieval
from assistant.retrieval import HybridRetriever
from benchmarks.corpora import all_corpora, corpus
from benchmarks.eval_corpora import index_corpus

KNOBS = {
    "rerank": "rerank_weight",
    "cand": "candidates",
    "depth": "rerank_depth",
    "sentences": "sentences",
    "rrf": "rrf_k",
}
DEPTHS = (1, 3, 5, 10)


def configure(retriever: HybridRetriever, config: str, shipped: dict[str, object]) -> None:
    """Set the retriever's knobs as `config` says, the others to their shipped values."""
    for attribute, value in shipped.items():
        setattr(retriever, attribute, value)
    for part in filter(None, config.split(",")):
        key, _, value = part.partition("=")
        if key not in KNOBS:
            raise SystemExit(f"unknown knob {key!r} in {config!r} (known: {', '.join(KNOBS)})")
        if key == "sentences":  # 0: no sentence-level list; else the shipped search
            retriever.sentences = shipped["sentences"] if int(value) else None  # type: ignore[assignment]
        else:
            setattr(retriever, KNOBS[key], float(value) if key == "rerank" else int(value))


def main(argv: Sequence[str] | None = None) -> int:
    """Print key fact@k and hit@k per tuning corpus and config."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--work", type=Path, help="where the indexes go (default: tmp)")
    parser.add_argument("--configs", nargs="*", default=["", "rerank=0"])
    parser.add_argument("--k", type=int, default=5)
    parser.add_argument(
        "--corpora", nargs="*", help="only these tuning or pending corpora (default: all tuning)"
    )
    args = parser.parse_args(argv)
    work = args.work or Path(tempfile.mkdtemp(prefix="assistant-tune-"))
    configs = args.configs or [""]
    if args.corpora:
        tuning = {name: corpus(name) for name in args.corpora}
        if held_out := [n for n, c in tuning.items() if c.role == "held-out"]:
            raise SystemExit(f"held-out corpora are never tuned on: {held_out}")
        if missing := [n for n, c in tuning.items() if not c.available]:
            raise SystemExit(f"not on this machine: {missing} (make corpora)")
    else:
        tuning = {n: c for n, c in all_corpora().items() if c.role == "tuning" and c.available}
    depth = max(args.k, *DEPTHS)
    header = " | ".join(f"key fact@{d}" for d in DEPTHS)
    print(f"| corpus | config | {header} | hit@{args.k} |")
    print("|---|---|" + "---|" * (len(DEPTHS) + 1))
    means = {config: 0.0 for config in configs}
    for name, chosen in tuning.items():
        assistant = Assistant(index_corpus(chosen, work))
        retriever = assistant.retriever
        shipped = {attribute: getattr(retriever, attribute) for attribute in KNOBS.values()}
        items = [i for i in load_golden(chosen.golden) if i.answerable and i.sources]
        questions = [assistant.prepare_question(i.question, i.history).standalone for i in items]
        for config in configs:
            configure(retriever, config, shipped)
            found = [assistant.retrieve(q, depth) for q in questions]
            # Each depth judged once (the table's depths and --k): key fact and hit rates.
            key_at, hit_at = {}, {}
            for d in sorted({*DEPTHS, args.k}):
                verdicts = [judge_retrieval(i, r, d) for i, r in zip(items, found, strict=True)]
                key = [v.key_term_at_k for v in verdicts if v and v.key_term_at_k is not None]
                hit = [v.hit_at_k for v in verdicts if v]
                key_at[d] = sum(key) / max(1, len(key))
                hit_at[d] = sum(hit) / max(1, len(hit))
            means[config] += key_at[args.k] / len(tuning)
            cells = " | ".join(f"{key_at[d]:.3f}" for d in DEPTHS)
            row = f"| {name} | {config or 'shipped'} | {cells} | {hit_at[args.k]:.3f} |"
            print(row, flush=True)
    for config in configs:
        print(f"mean key fact@{args.k} {config or 'shipped'}: {means[config]:.3f}")
    best = max(configs, key=lambda c: means[c])
    print(f"best mean key fact@{args.k}: {best or 'shipped'} ({means[best]:.3f})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
