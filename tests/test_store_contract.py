"""One contract, two vector-store modes: embedded Chroma and a real `chroma run` server."""

from __future__ import annotations

import itertools
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from assistant import Assistant, Settings
from tests.conftest import SEED_FILE, make_settings
from tests.servers import refused_port, start_chroma, start_with_port_retries, stop_process

_collections = itertools.count()


@pytest.fixture(scope="session")
def chroma_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[int]:
    """A real Chroma server on a free loopback port for the whole session."""
    path = tmp_path_factory.mktemp("chroma-server")
    # `chroma run` cannot report a port it picked: a port taken before it binds is retried.
    port, process = start_with_port_retries(
        lambda port: (port, start_chroma(port, path / "data", path / "server.log"))
    )
    yield port
    stop_process(process)


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

    # A move copies the stored vectors (read back from the store) to the new path's ids.
    (corpus / "moved").mkdir()
    seed.rename(corpus / "moved" / seed.name)
    moved = assistant.ingest([corpus])
    assert (moved.renamed, moved.added, moved.deleted) == (1, 0, 0)
    chunk_ids = {row[0] for row in assistant.catalog.db.execute("SELECT chunk_id FROM chunks")}
    assert assistant.store.all_ids() == chunk_ids
    answer = assistant.ask("Which publication first reported the move?")
    assert answer.citations[0].source.endswith(f"moved/{seed.name}")


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
    with refused_port() as port:
        settings = make_settings(tmp_path / "index", chroma_mode=mode, chroma_port=port)
        with pytest.raises(VectorStoreError, match="cannot reach the Chroma server"):
            Assistant(settings).store.count()
