"""A Chroma server that goes down and comes back: a clear error naming host:port through the Python
API, the HTTP API and the web chat; an ingest during the outage damages nothing and completes
later; queries work again with no restart of the assistant."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest

from assistant import Assistant
from assistant.errors import VectorStoreError
from assistant.ui.app import answer_stream
from tests.conftest import make_settings
from tests.servers import free_port, serving

pytestmark = pytest.mark.integration

QUESTION = "Which tech giants had their Hong Kong stablecoin plans stopped by Beijing?"
PARKING = "Visitors park in bay C, next to the loading dock."


@contextmanager
def chroma_run(port: int, data: Path) -> Iterator[subprocess.Popen[bytes]]:
    """`chroma run` on loopback `port` keeping its data in `data`, until the block ends."""
    chroma = Path(sys.executable).with_name("chroma")
    log = data.parent / f"chroma-{port}.log"
    with log.open("ab") as handle:
        process = subprocess.Popen(
            [str(chroma), "run", "--path", str(data), "--host", "127.0.0.1", "--port", str(port)],
            stdout=handle,
            stderr=subprocess.STDOUT,
            env={**os.environ, "ANONYMIZED_TELEMETRY": "False"},
        )
    try:
        deadline = time.monotonic() + 90
        while True:
            try:
                if httpx.get(f"http://127.0.0.1:{port}/api/v2/heartbeat", timeout=2).is_success:
                    break
            except httpx.HTTPError:
                pass
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"chroma run did not start: {log.read_text()[-2000:]}")
            time.sleep(0.3)
        yield process
    finally:
        process.terminate()
        process.wait(timeout=30)


def test_chroma_down_then_back(tmp_path: Path, corpus: Path) -> None:
    from assistant.api.app import create_app

    port = free_port()
    data = tmp_path / "chroma-data"
    settings = make_settings(
        tmp_path / "index", chroma_mode="http", chroma_port=port, collection="outage"
    )
    assistant = Assistant(settings)
    where = f"127.0.0.1:{port}"
    with chroma_run(port, data):
        first = assistant.ingest([corpus])
        assert first.added == 1
        assert "Ant Group" in assistant.ask(QUESTION).text
    chunks = assistant.catalog.chunk_count()

    # Down: every door gives a clear message naming the server.
    with pytest.raises(VectorStoreError, match=f"cannot reach the Chroma server at {where}"):
        assistant.ask(QUESTION)
    shown = [html for html, _ in answer_stream(assistant, QUESTION, [], {})][-1]
    assert f"cannot reach the Chroma server at {where}" in shown
    with serving(create_app(assistant)) as url, httpx.Client(base_url=url, timeout=60) as http:
        body = {"messages": [{"role": "user", "content": QUESTION}]}
        response = http.post("v1/chat/completions", json=body)
        assert response.status_code == 503
        assert response.headers["Retry-After"]
        error = response.json()["error"]
        assert error["code"] == "vector_store_unavailable"
        assert where in error["message"]
        streamed = http.post("v1/chat/completions", json={**body, "stream": True})
        assert "vector_store_unavailable" in streamed.text  # after the status line: in-band
        assert streamed.text.rstrip().endswith("data: [DONE]")
        assert http.get("healthz").status_code == 200  # the catalog still answers

    # An ingest during the outage fails clearly and leaves the index as it was.
    (corpus / "parking.md").write_text(f"# Parking\n\n{PARKING}\n", "utf-8")
    with pytest.raises(VectorStoreError, match=where):
        assistant.ingest([corpus])
    assert assistant.catalog.chunk_count() == chunks
    assert [record.source for record in assistant.documents()] == [
        record.source for record in Assistant(settings).documents()
    ]
    assert len(assistant.documents()) == 1

    # Back on the same port and data: the same Assistant answers, and the ingest completes.
    with chroma_run(port, data):
        assert "Ant Group" in assistant.ask(QUESTION).text
        second = assistant.ingest([corpus])
        assert second.added == 1
        assert second.unchanged == 1
        assert assistant.store.count() == assistant.catalog.chunk_count()
        assert assistant.catalog.pending() == {}
        answer = assistant.ask("Where do visitors park?")
        assert "bay C" in answer.text
