"""One contract, two vector-store modes: embedded Chroma and a real `chroma run` server."""

from __future__ import annotations

import itertools
import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from assistant import Assistant, Settings
from tests.conftest import SEED_FILE, make_settings

_collections = itertools.count()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="session")
def chroma_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[int]:
    """A real Chroma server on a free loopback port for the whole session."""
    chroma = Path(sys.executable).with_name("chroma")
    port = free_port()
    path = tmp_path_factory.mktemp("chroma-server")
    log = (path / "server.log").open("wb")
    process = subprocess.Popen(
        [str(chroma), "run", "--path", str(path / "data"), "--host", "127.0.0.1",
         "--port", str(port)],
        stdout=log,
        stderr=subprocess.STDOUT,
        env={**os.environ, "ANONYMIZED_TELEMETRY": "False"},
    )  # fmt: skip
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            break
        except OSError as exc:
            if process.poll() is not None:
                log_text = (path / "server.log").read_text()
                raise RuntimeError(f"chroma run exited: {log_text}") from exc
            time.sleep(0.3)
    else:
        raise TimeoutError("chroma run did not start")
    yield port
    process.terminate()
    process.wait(timeout=30)
    log.close()


@pytest.fixture(params=["embedded", "http"])
def settings(request: pytest.FixtureRequest, tmp_path: Path) -> Settings:
    """Settings for a fresh index in either mode (each test gets its own collection)."""
    if request.param == "embedded":
        return make_settings(tmp_path / "index")
    port = request.getfixturevalue("chroma_server")
    return make_settings(
        tmp_path / "index",
        chroma_mode="http",
        chroma_port=port,
        collection=f"contract-{os.getpid()}-{next(_collections)}",
    )


def test_ingest_ask_update_delete(settings: Settings, corpus: Path) -> None:
    assistant = Assistant(settings)
    first = assistant.ingest([corpus])
    assert first.added == 1
    assert assistant.store.count() == assistant.catalog.chunk_count() == first.chunks
    answer = assistant.ask(
        "Which tech giants had their Hong Kong stablecoin plans stopped by Beijing?"
    )
    assert "Ant Group" in answer.text
    assert "JD.com" in answer.text

    seed = corpus / SEED_FILE.name
    seed.write_text(
        seed.read_text(encoding="utf-8").replace("Financial Times", "Harbour Courier"), "utf-8"
    )
    updated = assistant.ingest([corpus])
    assert updated.updated == 1
    passages = assistant.retrieve("first reported by Financial Times", k=20).passages
    assert all("Financial Times" not in p.text for p in passages)
    assert assistant.store.all_ids() == set(assistant.catalog.vector_ids(passages[0].doc_id))

    (corpus / "extra.md").write_text("# Parking\n\nVisitors park in bay C.\n", "utf-8")
    assistant.ingest([corpus])
    (corpus / "extra.md").unlink()
    removed = assistant.ingest([corpus])
    assert removed.deleted == 1
    assert assistant.store.count() == assistant.catalog.chunk_count()


def test_two_processes_share_one_index(settings: Settings, corpus: Path, tmp_path: Path) -> None:
    """A second process (another replica) answers from the same catalog and vector store."""
    Assistant(settings).ingest([corpus])
    script = (
        "import sys, json\n"
        "from assistant import Assistant, Settings\n"
        "settings = Settings.model_validate_json(sys.argv[1])\n"
        "question = 'What is the central concern for authorities in Beijing?'\n"
        "answer = Assistant(settings).ask(question)\n"
        "print(json.dumps(answer.to_json_dict()))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", script, settings.model_dump_json()],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr
    assert "monetary sovereignty" in result.stdout


def test_rebuild_in_either_mode(settings: Settings, corpus: Path) -> None:
    assistant = Assistant(settings)
    assistant.ingest([corpus])
    rebuilt = assistant.ingest([corpus], rebuild=True)
    assert rebuilt.added == 1
    assert assistant.store.count() == assistant.catalog.chunk_count() == rebuilt.chunks


@pytest.mark.parametrize("mode", ["http"])
def test_unreachable_server_is_a_clear_error(mode: str, tmp_path: Path) -> None:
    from assistant.vectorstore import VectorStoreError

    shutil.rmtree(tmp_path / "index", ignore_errors=True)
    settings = make_settings(tmp_path / "index", chroma_mode=mode, chroma_port=free_port())
    with pytest.raises(VectorStoreError, match="cannot reach the Chroma server"):
        Assistant(settings).store.count()
