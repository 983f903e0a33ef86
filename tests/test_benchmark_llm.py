"""The generative-latency benchmark runs end to end on one question (llama.cpp: the llm tier)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.test_benchmark_modules import results_untouched, run  # noqa: F401  (a fixture)

pytestmark = pytest.mark.usefixtures("results_untouched")


def test_generative_latency_on_one_question(tmp_path: Path) -> None:
    run("bench_generative", "--questions", "1", "--out", str(tmp_path))
    data = json.loads((tmp_path / "generative.json").read_text(encoding="utf-8"))
    assert data["questions"] == 1
    assert data["full_answer_ms"]["p50"] > 0
