"""One real `assistant serve` (web chat and API, with an API key) for the session's API tests."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from assistant.security import hash_api_key
from tests.servers import Server, start_server, stop_server

API_KEY = "qa-suite-key-7c1e5f0b9d2a4e68"
QUESTION = "Which tech giants had their Hong Kong stablecoin plans stopped by Beijing?"
# A follow-up and the question before it ("it" is the digital yuan).
CURRENCY = "What is the name of China's state-backed digital currency?"
FOLLOW_UP = "And how many users is it being tested with?"
FOLLOW_UP_ANSWER = "hundreds of millions"
OFF_TOPIC = "What is the boiling point of mercury on Mars?"


@pytest.fixture(scope="session")
def api_server(seed_index: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """`assistant serve` on a copy of the seed index; /v1 needs API_KEY."""
    server = start_server(
        tmp_path_factory.mktemp("api-server"),
        seed_index,
        api_keys=json.dumps({"tests": hash_api_key(API_KEY)}),
    )
    yield server
    stop_server(server)


@pytest.fixture(scope="session")
def http(api_server: Server) -> Iterator[httpx.Client]:
    """A plain HTTP client of the server, sending the API key."""
    headers = {"Authorization": f"Bearer {API_KEY}"}
    with httpx.Client(base_url=api_server.url, headers=headers, timeout=180) as client:
        yield client


def error_of(response: httpx.Response) -> dict[str, Any]:
    """The OpenAI-shaped error of a response, checked for shape."""
    assert response.headers["content-type"].startswith("application/json")
    body = response.json()
    assert set(body) == {"error"}
    assert set(body["error"]) == {"message", "type", "code", "param"}
    assert body["error"]["message"]
    error: dict[str, Any] = body["error"]
    return error
