"""The real server's responses validated against its own OpenAPI schema by schemathesis."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from tests.api.conftest import API_KEY
from tests.servers import Server

pytestmark = pytest.mark.integration

# A bounded run (a few valid and invalid requests per operation, a fixed seed, no example
# database on disk) with every check but `positive_data_acceptance`: some bodies the schema
# allows are refused by rules a JSON schema cannot state (a blank question, a last message that
# is not the user's, a question over `max_question_chars`); they get a documented 400.
# DELETE is left out: schemathesis feeds ids from responses (GET /v1/documents) to other
# operations, so it would delete the session's shared document; tests/api/
# test_delete_document.py checks the delete on a server of its own.
MAX_EXAMPLES = 8
SEED = 20260105


def test_responses_match_the_published_schema(api_server: Server, tmp_path: Path) -> None:
    command = [
        sys.executable,
        "-m",
        "schemathesis.cli",
        "run",
        api_server.url + "openapi.json",
        "--header",
        f"Authorization: Bearer {API_KEY}",
        "--checks",
        "all",
        "--exclude-checks",
        "positive_data_acceptance",
        "--exclude-method",
        "DELETE",
        "--max-examples",
        str(MAX_EXAMPLES),
        "--seed",
        str(SEED),
        "--workers",
        "1",
        "--generation-database",
        "none",
        "--request-timeout",
        "300",
        "--no-color",
    ]
    # In a scratch folder: schemathesis keeps a cache (.schemathesis/) in its working directory.
    result = subprocess.run(command, capture_output=True, text=True, timeout=900, cwd=tmp_path)
    report = result.stdout + result.stderr
    assert result.returncode == 0, report
    tested = report.split("API Operations:", 1)[1]
    # chat completions, ask, documents, collections, suggestions, models and one model,
    # healthz, and the conversations' list, detail and export (a service key has none: a
    # documented 403)
    assert "Tested: 11" in tested
    assert API_KEY not in report  # schemathesis masks the header; so must everything else


def test_schema_documents_the_stream_and_the_key(api_server: Server) -> None:
    schema = httpx.get(api_server.url + "openapi.json", timeout=60).json()
    chat = schema["paths"]["/v1/chat/completions"]["post"]
    content = chat["responses"]["200"]["content"]
    assert content["application/json"]["schema"]["$ref"].endswith("/ChatCompletion")
    assert "text/event-stream" in content
    assert chat["x-stream-chunk"]["$ref"] == "#/components/schemas/ChatCompletionChunk"
    assert "ChatCompletionChunk" in schema["components"]["schemas"]
    assert chat["security"] == [{"ApiKey": []}, {"Password": []}]  # either one
    assert schema["components"]["securitySchemes"]["ApiKey"]["scheme"] == "bearer"
    assert schema["components"]["securitySchemes"]["Password"]["scheme"] == "basic"
    assert "security" not in schema["paths"]["/healthz"]["get"]
    for status in ("400", "401", "413", "422", "503"):
        assert chat["responses"][status]["content"]["application/json"]["schema"]["$ref"]
