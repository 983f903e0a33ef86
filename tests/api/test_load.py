"""Load: 50 concurrent chat sessions of 10 questions each through the web chat and the API."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from benchmarks.bench_load import run_load
from tests.api.conftest import API_KEY
from tests.servers import Server

pytestmark = [pytest.mark.slow, pytest.mark.integration]

SESSIONS = 50
TURNS = 10


def test_fifty_concurrent_sessions_get_only_well_formed_answers(
    api_server: Server, tmp_path: Path
) -> None:
    result = run_load(api_server.url, SESSIONS, TURNS, api_key=API_KEY)
    summary = {"sessions": SESSIONS, "turns": TURNS, **result.summary()}
    (tmp_path / "load.json").write_text(json.dumps(summary, indent=2) + "\n", encoding="utf-8")
    print(f"\nload: {json.dumps(summary)}")  # the figures docs/deployment.md quotes
    assert result.errors == []
    assert result.requests == SESSIONS * TURNS
    assert set(result.latencies) == {"gradio", "api", "api_stream"}
    assert api_server.process.poll() is None  # the server lived through it
