"""docs/api.md's curl and Python examples run as written against the real server."""

from __future__ import annotations

import contextlib
import io
import json
import os
import re
import subprocess

import pytest

from tests.api.conftest import API_KEY
from tests.conftest import REPO, SEED_FILE
from tests.servers import Server

pytestmark = pytest.mark.integration

DOC = (REPO / "docs" / "api.md").read_text(encoding="utf-8")
DOC_URL = "http://127.0.0.1:7860"
BLOCKS = re.findall(r"```(\w+)\n(.*?)```", DOC, re.DOTALL)
CURLS = [code for kind, code in BLOCKS if kind == "sh" and code.startswith("curl")]
# A delete would take the seed document out of the session's shared server: the delete
# example runs against a server of its own (tests/api/test_delete_document.py).
DELETE_CURL = [code for code in CURLS if "-X DELETE" in code]
CURL = [code for code in CURLS if code not in DELETE_CURL]
PYTHON = [code for kind, code in BLOCKS if kind == "python"]


def on(server: Server, code: str) -> str:
    """The example pointed at the test server."""
    return code.replace(DOC_URL, server.url.rstrip("/"))


def test_the_doc_has_examples_of_every_kind() -> None:
    assert len(CURL) >= 4
    assert len(PYTHON) >= 2
    assert all(DOC_URL in code for code in CURL)
    assert DOC_URL in PYTHON[0]
    named = " ".join(CURL)
    for endpoint in ("/v1/chat/completions", "/v1/ask", "/v1/documents", "/healthz"):
        assert endpoint in named


def json_objects(text: str) -> list[dict[str, object]]:
    """The JSON objects printed one after another (curl adds no newline)."""
    decoder, found, at = json.JSONDecoder(), [], 0
    while at < len(text.rstrip()):
        value, end = decoder.raw_decode(text, at)
        found.append(value)
        at = end + len(text[end:]) - len(text[end:].lstrip())
    return found


@pytest.mark.parametrize("number", range(len(CURL)))
def test_curl_example_runs(api_server: Server, number: int) -> None:
    command = on(api_server, CURL[number])
    result = subprocess.run(
        ["bash", "-euo", "pipefail", "-c", command],
        capture_output=True,
        text=True,
        env={**os.environ, "QA_API_KEY": API_KEY},
        timeout=300,
    )
    assert result.returncode == 0, result.stderr
    output = result.stdout
    assert '"error"' not in output
    if '"stream": true' in command:
        events = [line for line in output.splitlines() if line.startswith("data: ")]
        assert events[-1] == "data: [DONE]"
        assert json.loads(events[-2].removeprefix("data: "))["citations"]
        return
    replies = json_objects(output)
    assert replies
    if "/chat/completions" in command:
        assert replies[0]["citations"]
        assert "Ant Group" in str(replies[0]["choices"])
    if "/v1/ask" in command:
        assert "hundreds of millions" in str(replies[0]["answer"])
    if "/healthz" in command:
        assert replies[-1]["status"] == "ok"


def test_python_examples_run_in_order(api_server: Server, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("QA_API_KEY", API_KEY)
    namespace: dict[str, object] = {}
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        for number, code in enumerate(PYTHON):
            exec(compile(on(api_server, code), f"docs/api.md python #{number}", "exec"), namespace)
    output = printed.getvalue()
    assert "Ant Group" in output
    assert "refused: False" in output
    assert re.search(rf"\[1\] seeds/{re.escape(SEED_FILE.name)} \d+-\d+:", output)
    assert f"sources: [1] seeds/{SEED_FILE.name}" in output
    assert "hundreds of millions" in output
    assert "searched for: And how many users is China's state-backed digital currency" in output
    client = namespace["client"]
    client.close()  # type: ignore[attr-defined]


def test_readme_api_example_runs(api_server: Server) -> None:
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    section = readme.split("## The HTTP API", 1)[1].split("\n## ", 1)[0]
    block = re.search(r"```python\n(.*?)```", section, re.DOTALL)
    assert block is not None
    code = on(api_server, block.group(1))
    assert '"qa-..."' in code
    code = code.replace('"qa-..."', repr(API_KEY))
    namespace: dict[str, object] = {}
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        exec(compile(code, "README.md", "exec"), namespace)
    output = printed.getvalue()
    assert "Ant Group" in output
    assert re.search(rf"^1 seeds/{re.escape(SEED_FILE.name)} \d+ \d+ ", output, re.MULTILINE)
    namespace["client"].close()  # type: ignore[attr-defined]
