"""Sweep the rerank weight on the tuning corpora: key fact and right document in the top k.

    python -m benchmarks.tune_retrieval [--work DIR] [--weights 0,0.25,0.5,0.75] [--k 5]
                                        [--corpora NAME ...]

Indexes each tuning corpus into WORK (incremental, shared with `benchmarks.eval_corpora`) and,
for every weight, retrieves each answerable golden question's standalone form and reports the
share with a key term inside a top-k passage of an expected document (key fact@k) and with an
expected document in the top k (hit@k). `retrieval.RERANK_WEIGHT` is the weight with the best
mean key fact@k over the tuning corpora. Held-out corpora are never read.
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
from benchmarks.corpora import all_corpora
from benchmarks.eval_corpora import index_corpus


def main(argv: Sequence[str] | None = None) -> int:
    """Print key fact@k and hit@k per tuning corpus and weight."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--work", type=Path, help="where the indexes go (default: tmp)")
    parser.add_argument("--weights", default="0,0.25,0.5,0.75")
    parser.add_argument("--k", type=int, default=5)
    parser.add_argument("--corpora", nargs="*", help="only these tuning corpora (default: all)")
    args = parser.parse_args(argv)
    work = args.work or Path(tempfile.mkdtemp(prefix="assistant-tune-"))
    weights = [float(w) for w in args.weights.split(",")]
    tuning = {
        n: c
        for n, c in all_corpora().items()
        if c.role == "tuning" and c.available and (not args.corpora or n in args.corpora)
    }
    print("| corpus | " + " | ".join(f"w={w:g} key fact / hit" for w in weights) + " |")
    print("|---|" + "---|" * len(weights))
    means = {w: 0.0 for w in weights}
    for name, corpus in tuning.items():
        assistant = Assistant(index_corpus(corpus, work))
        items = [i for i in load_golden(corpus.golden) if i.answerable and i.sources]
        questions = [assistant.prepare_question(i.question, i.history).standalone for i in items]
        cells = []
        for weight in weights:
            assistant.retriever.rerank_weight = weight
            verdicts = [
                judge_retrieval(item, assistant.retrieve(q, args.k), args.k)
                for item, q in zip(items, questions, strict=True)
            ]
            key = [v.key_term_at_k for v in verdicts if v and v.key_term_at_k is not None]
            hit = [v.hit_at_k for v in verdicts if v]
            key_rate = sum(key) / max(1, len(key))
            means[weight] += key_rate / len(tuning)
            cells.append(f"{key_rate:.3f} / {sum(hit) / max(1, len(hit)):.3f}")
        print(f"| {name} | " + " | ".join(cells) + " |")
    best = max(weights, key=lambda w: means[w])
    print(f"best mean key fact@{args.k}: weight {best:g} ({means[best]:.3f})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
