"""The `ask` API endpoint through gradio_client against the real server."""

from __future__ import annotations

from typing import Any

import pytest

from assistant.catalog_sqlite import SqliteCatalog
from tests.ui.conftest import Server

pytestmark = pytest.mark.integration

QUESTION = "Which tech giants had their Hong Kong stablecoin plans stopped by Beijing?"


@pytest.fixture(scope="module")
def client(ui_server: Server) -> Any:
    from gradio_client import Client

    return Client(ui_server.url, verbose=False)


def test_ask_returns_the_answer_and_exact_citations(client: Any, ui_server: Server) -> None:
    reply = client.predict(QUESTION, api_name="/ask")
    assert set(reply) >= {"answer", "refused", "confidence", "citations", "standalone_question"}
    assert reply["refused"] is False
    assert "Ant Group" in reply["answer"]
    catalog = SqliteCatalog(ui_server.index_dir / "catalog.sqlite3")
    for citation in reply["citations"]:
        assert f"[{citation['id']}]" in reply["answer"]
        text = catalog.document_structure(citation["doc_id"])[0]
        assert text[citation["start"] : citation["end"]] == citation["quote"]
        assert citation["source"] == "seeds/000_4f69a52559980107.txt"
    catalog.close()


def test_ask_understands_a_follow_up_with_history(client: Any) -> None:
    history = [
        {"role": "user", "content": "What is the name of China's state-backed digital currency?"}
    ]
    reply = client.predict("And how many users is it being tested with?", history, api_name="/ask")
    assert "digital currency" in reply["standalone_question"]
    assert "hundreds of millions" in reply["answer"]


def test_ask_refuses_and_rejects_bad_input(client: Any) -> None:
    from gradio_client.exceptions import AppError

    assert client.predict("What is the boiling point of mercury on Mars?", api_name="/ask")[
        "refused"
    ]
    with pytest.raises(AppError, match="the question is empty"):
        client.predict("   ", api_name="/ask")
    with pytest.raises(AppError, match="turn 1 of the history is not a turn: its role must be"):
        client.predict("And then?", [{"role": "robot", "content": "x"}], api_name="/ask")


def test_only_the_ask_endpoint_is_public(client: Any) -> None:
    endpoints = client.view_api(print_info=False, return_format="dict")["named_endpoints"]
    assert list(endpoints) == ["/ask"]
