"""A Chroma server that goes down and comes back: a clear error naming host:port through the Python
API, the HTTP API and the web chat; an ingest during the outage damages nothing and completes
later; queries work again with no restart of the assistant."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from assistant import Assistant
from assistant.errors import VectorStoreError
from assistant.ui.app import answer_stream
from tests.conftest import make_settings
from tests.servers import (
    refused_port,
    serving,
    start_chroma,
    start_with_port_retries,
    stop_process,
)

pytestmark = pytest.mark.integration

QUESTION = "Which tech giants had their Hong Kong stablecoin plans stopped by Beijing?"
PARKING = "Visitors park in bay C, next to the loading dock."


def test_chroma_down_then_back(tmp_path: Path, corpus: Path) -> None:
    from assistant.api.app import create_app

    data, log = tmp_path / "chroma-data", tmp_path / "chroma.log"
    # `chroma run` cannot report a port it picked: a port taken before it binds is retried.
    port, process = start_with_port_retries(lambda port: (port, start_chroma(port, data, log)))
    settings = make_settings(
        tmp_path / "index", chroma_mode="http", chroma_port=port, collection="outage"
    )
    assistant = Assistant(settings)
    where = f"127.0.0.1:{port}"
    try:
        first = assistant.ingest([corpus])
        assert first.added == 1
        assert "Ant Group" in assistant.ask(QUESTION).text
    finally:
        stop_process(process)
    chunks = assistant.catalog.chunk_count()

    # Held, bound but not listening, during the outage: connections are refused and no other
    # process can take the port Chroma comes back on.
    with refused_port(port):
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
    process = start_chroma(port, data, log)
    try:
        assert "Ant Group" in assistant.ask(QUESTION).text
        second = assistant.ingest([corpus])
        assert second.added == 1
        assert second.unchanged == 1
        assert assistant.store.count() == assistant.catalog.chunk_count()
        assert assistant.catalog.pending() == {}
        answer = assistant.ask("Where do visitors park?")
        assert "bay C" in answer.text
    finally:
        stop_process(process)
