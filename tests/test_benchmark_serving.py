"""The benchmarks that start or load a real server run end to end on a tiny size (the other
benchmarks: tests/test_benchmark_modules.py)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.servers import start_server, stop_server
from tests.test_benchmark_modules import results_untouched, run  # noqa: F401  (a fixture)

pytestmark = pytest.mark.usefixtures("results_untouched")


def test_cold_start_of_the_server_once(tmp_path: Path) -> None:
    run("bench_coldstart", "--runs", "1", "--out", str(tmp_path))
    data = json.loads((tmp_path / "coldstart.json").read_text(encoding="utf-8"))
    assert data["serve_first_answer_ms"]["p50"] >= data["serve_page_ms"]["p50"] > 0


def test_load_of_two_short_sessions(seed_index: Path, tmp_path: Path) -> None:
    server = start_server(tmp_path / "server", seed_index)
    try:
        out = tmp_path / "load.json"
        run("bench_load", "--url", server.url, "--sessions", "2", "--turns", "2", "--out", str(out))
    finally:
        stop_server(server)
    data = json.loads(out.read_text(encoding="utf-8"))
    assert data["sessions"] == 2
