"""No outbound network: ingest, ask and serve never try to reach another host.

The commands run as subprocesses with `netguard/sitecustomize.py` first on PYTHONPATH, which
records and refuses every non-loopback connection or name lookup. The environment lacks the
usual offline switches (HF_HUB_OFFLINE, GRADIO_ANALYTICS_ENABLED, ANONYMIZED_TELEMETRY), so
the program itself must keep models, analytics, telemetry and version checks off the network.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import httpx
import pytest

from tests.conftest import SEEDS
from tests.servers import Server, launch_server, server_env, stop_server
from tests.ui.test_browser import ask

pytestmark = pytest.mark.integration

NETGUARD = Path(__file__).parent / "netguard"
QUESTION = "Which tech giants had their Hong Kong stablecoin plans stopped by Beijing?"
# Switches a developer's shell or the Makefile usually sets; the program must not need them.
OFFLINE_SWITCHES = (
    "HF_HUB_OFFLINE",
    "TRANSFORMERS_OFFLINE",
    "HF_DATASETS_OFFLINE",
    "GRADIO_ANALYTICS_ENABLED",
    "ANONYMIZED_TELEMETRY",
    "CHROMA_ANONYMIZED_TELEMETRY",
    "DO_NOT_TRACK",
)
# A public address: Gradio would fetch it for any client through its file route.
OUTSIDE = "http://example.com/leak.txt"
LINKING_ELEMENTS = (
    "script[src], link[href], img[src], iframe[src], source[src], video[src], audio[src], "
    "object[data], embed[src]"
)


@dataclass
class Guarded:
    """A folder whose subprocesses run behind the network guard, and what the guard saw."""

    root: Path
    record: Path
    env: dict[str, str]

    def attempts(self) -> list[dict[str, Any]]:
        """Every refused connection or lookup so far (empty is the goal)."""
        if not self.record.exists():
            return []
        return [json.loads(line) for line in self.record.read_text().splitlines() if line]

    def run(self, *args: str) -> subprocess.CompletedProcess[str]:
        """`assistant ARGS` behind the guard."""
        return subprocess.run(
            [sys.executable, "-m", "assistant.cli", *args],
            capture_output=True,
            text=True,
            env=self.env,
            cwd=self.root,
            timeout=900,
        )


def guarded_env(root: Path, record: Path) -> dict[str, str]:
    """A server's environment without the offline switches, with the guard first on the path."""
    env = server_env(root, root / "data")
    for name in OFFLINE_SWITCHES:
        env.pop(name, None)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(NETGUARD), env.get("PYTHONPATH")]))
    env["NETGUARD_RECORD"] = str(record)
    return env


@pytest.fixture(scope="module")
def guarded(tmp_path_factory: pytest.TempPathFactory) -> Guarded:
    root = tmp_path_factory.mktemp("netguard")
    record = root / "attempts.jsonl"
    return Guarded(root, record, guarded_env(root, record))


def describe(attempts: list[dict[str, Any]]) -> str:
    return "\n".join(f"{a['kind']} {a['target']}\n{''.join(a['stack'])}" for a in attempts)


def test_the_guard_records_and_refuses(guarded: Guarded, tmp_path: Path) -> None:
    """The guard itself works: a real attempt is recorded and fails; loopback passes."""
    record = tmp_path / "probe.jsonl"
    code = (
        "import socket, urllib.request\n"
        "try:\n"
        f"    urllib.request.urlopen({OUTSIDE!r}, timeout=5)\n"
        "except OSError as exc:\n"
        "    print('refused', exc)\n"
        "with socket.socket() as s:\n"
        "    s.bind(('127.0.0.1', 0)); s.listen(); c = socket.create_connection(s.getsockname())\n"
        "    c.close(); print('loopback ok')\n"
    )
    env = {**guarded.env, "NETGUARD_RECORD": str(record)}
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=60
    )
    assert "refused" in result.stdout
    assert "netguard" in result.stdout
    assert "loopback ok" in result.stdout
    attempts = [json.loads(line) for line in record.read_text().splitlines()]
    assert [a["target"] for a in attempts] == ["('example.com', 80)"]


def test_ingest_and_ask_never_reach_the_network(guarded: Guarded) -> None:
    index = guarded.root / "index"
    ingest = guarded.run("ingest", str(SEEDS), "--index", str(index), "--json")
    assert ingest.returncode == 0, ingest.stderr
    assert json.loads(ingest.stdout)["documents"]["added"] == 1
    ask = guarded.run("ask", QUESTION, "--index", str(index), "--json")
    assert ask.returncode == 0, ask.stderr
    assert "Ant Group" in json.loads(ask.stdout)["answer"]
    streamed = guarded.run("ask", QUESTION, "--index", str(index))
    assert streamed.returncode == 0, streamed.stderr
    # The bundled SmolLM2 loads from disk too.
    local = guarded.run("ask", QUESTION, "--index", str(index), "--answerer", "llamacpp", "--json")
    assert local.returncode == 0, local.stderr
    generated = json.loads(local.stdout)
    assert "generate" in generated["timings_ms"]  # the model was loaded and ran
    assert generated["notice"] is None or "unavailable" not in generated["notice"]
    assert guarded.attempts() == [], describe(guarded.attempts())


@pytest.fixture(scope="module")
def guarded_server(guarded: Guarded) -> Iterator[Server]:
    """`assistant serve` behind the guard, on the index the guarded ingest built."""
    index = guarded.root / "index"
    if not index.exists():
        assert guarded.run("ingest", str(SEEDS), "--index", str(index)).returncode == 0
    server = launch_server(
        [sys.executable, "-m", "assistant.cli", "serve", "--index", str(index)],
        guarded.root,
        index,
        guarded.root / "data",
        guarded.env,
        "healthz",
    )
    yield server
    stop_server(server)


def test_serving_never_reaches_the_network(
    guarded: Guarded, guarded_server: Server, browser: Any
) -> None:
    from gradio_client import Client

    url = guarded_server.url
    assert "uvloop" not in guarded_server.log.read_text()
    with httpx.Client(base_url=url, timeout=120) as http:
        assert http.get("/").status_code == 200
        assert http.get("/config").status_code == 200
        assert http.get("/healthz").json()["index_ready"] is True
        answer = http.post("/v1/ask", json={"question": QUESTION}).json()
        assert "Ant Group" in answer["answer"]
        # Gradio's file route fetches http(s) URLs for the client; this server must not.
        for route in ("/gradio_api/file=", "/file=", "/gradio_api/file/", "/file/"):
            for target in (OUTSIDE, "https://1.1.1.1/x", "HTTP://example.com/"):
                proxied = http.get(route + target)
                assert proxied.status_code == 403, (route + target, proxied.text)
    client = Client(url, verbose=False)
    try:
        reply = client.predict(QUESTION, api_name="/ask")
    finally:
        client.close()
    assert "Ant Group" in reply["answer"]

    requested: list[str] = []
    context = browser.new_context()
    try:
        page = context.new_page()
        page.set_default_timeout(120_000)
        page.on("request", lambda request: requested.append(request.url))
        page.goto(url)
        # ask(): once the chat is done with the question, so the click lands on the final
        # drawing of the link (a click on one Gradio is still redrawing can be lost).
        answer = ask(page, QUESTION)
        answer.locator(".qa-text a.qa-cite").first.click()
        page.wait_for_selector(".qa-viewer mark.qa-quote")
        linked = page.evaluate(
            "sel => [...document.querySelectorAll(sel)].map(e => new URL("
            "e.getAttribute('src') || e.getAttribute('href') || e.getAttribute('data'),"
            " document.baseURI).href)",
            LINKING_ELEMENTS,
        )
    finally:
        context.close()
    assert requested, "the page made no requests at all"
    addresses = [a for a in [*requested, *linked] if urlparse(a).scheme not in ("data", "blob")]
    hosts = {urlparse(address).hostname for address in addresses}
    assert hosts == {"127.0.0.1"}, sorted(a for a in addresses if not a.startswith(url))
    assert guarded.attempts() == [], describe(guarded.attempts())
