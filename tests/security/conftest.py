"""A hostile corpus (prompt injections, fake citations and system turns, script payloads) and
one real server over it, shared by the security tests."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from assistant import Answer, Assistant
from assistant.catalog import Catalog
from assistant.injection import instruction_spans
from tests.conftest import INJECTION_FILE, REPO, SEEDS, make_settings
from tests.servers import Server, start_server, stop_server

HOSTILE = REPO / "tests" / "corpus" / "hostile"
_MARKER = re.compile(r"(?<!\w)\[(\d+)\]")


@pytest.fixture(scope="session")
def hostile_index(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """seeds/, the injection document and the hostile corpus, indexed once (read-only)."""
    index_dir = tmp_path_factory.mktemp("hostile-index")
    report = Assistant(make_settings(index_dir)).ingest([SEEDS, INJECTION_FILE, HOSTILE])
    assert report.added == 2 + len(list(HOSTILE.iterdir()))
    assert not report.failed
    return index_dir


@pytest.fixture(scope="session")
def hostile_server(
    hostile_index: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Server]:
    """The web chat and API over a copy of the hostile index; uploads limited to 1 MB."""
    server = start_server(
        tmp_path_factory.mktemp("hostile-server"), hostile_index, max_upload_mb="1"
    )
    yield server
    stop_server(server)


def assert_honest_citations(answer: Answer | dict[str, Any], catalog: Catalog) -> None:
    """Every [n] in the answer names one of its citations, and every citation quotes exactly
    the document text at its offsets, never a sentence that reads like an instruction."""
    data = answer.to_json_dict() if isinstance(answer, Answer) else answer
    ids = {citation["id"] for citation in data["citations"]}
    assert {int(n) for n in _MARKER.findall(data["answer"])} <= ids, data["answer"]
    for citation in data["citations"]:
        text = catalog.document_structure(citation["doc_id"])[0]
        assert text[citation["start"] : citation["end"]] == citation["quote"]
        for start, end in instruction_spans(text):
            assert citation["end"] <= start or citation["start"] >= end, citation["quote"]


@contextmanager
def chat_page(browser: Any, server: Server) -> Iterator[Any]:
    """A fresh browser page on the server's chat, closed afterwards."""
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    try:
        page = context.new_page()
        page.set_default_timeout(120_000)
        page.goto(server.url)
        page.wait_for_selector("#qa-chat")
        yield page
    finally:
        context.close()
