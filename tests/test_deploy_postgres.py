"""Server mode on PostgreSQL: two `assistant serve` replicas, each with an empty index folder of
its own, share one catalog in a real PostgreSQL and the vectors in a real `chroma run`, behind
Debian's nginx with the shipped site; an ingest job working from a third folder adds, changes and
deletes documents, and both replicas answer from what it commits on the next question. A
PostgreSQL restart gives clear 503s and the replicas recover without being restarted."""

from __future__ import annotations

import shutil
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from tests.conftest import SEEDS
from tests.pg_server import PASSWORD, Postgres, remove_postgres, start_postgres
from tests.servers import (
    Server,
    launch_server,
    refused_port,
    server_env,
    start_chroma,
    start_with_port_retries,
    stop_process,
    stop_server,
)
from tests.test_deploy import NGINX, PARKING_QUESTION, Stack, behind_nginx


@dataclass
class PgStack:
    """The stack of tests/test_deploy.py, its catalog in PostgreSQL."""

    stack: Stack
    postgres: Postgres
    job_index: Path  # the ingest job's own folder

    @property
    def bases(self) -> list[str]:
        """Both replicas directly, then nginx."""
        return [*(r.url for r in self.stack.replicas), self.stack.https]


@pytest.fixture(scope="module")
def pg_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PgStack]:
    if not Path(NGINX).exists():
        pytest.fail(f"{NGINX} is missing: run `make system-deps`")
    root = tmp_path_factory.mktemp("deploy-pg")
    postgres = start_postgres()
    processes: list[subprocess.Popen[bytes]] = []
    replicas: list[Server] = []
    try:
        url = postgres.create_database("assistant")
        chroma_port, chroma = start_with_port_retries(
            lambda port: (port, start_chroma(port, root / "chroma", root / "chroma.log"))
        )
        processes.append(chroma)
        docs, data_dir = root / "docs", root / "data"
        shutil.copytree(SEEDS, docs)
        job_index = root / "job" / "index"
        env = server_env(
            root,
            data_dir,
            index_dir=str(job_index),
            sources=str(docs),
            chroma_mode="http",
            chroma_port=str(chroma_port),
            catalog_url=url,
        )
        Stack(env, docs, [], "", "", root, root, root).ingest()
        for name in ("one", "two"):
            own = root / name / "index"  # empty: the catalog and vectors are on the servers
            own.mkdir(parents=True)
            replicas.append(
                launch_server(
                    [sys.executable, "-m", "assistant.cli", "serve"],
                    root / name,
                    own,
                    data_dir,
                    {**env, "ASSISTANT_INDEX_DIR": str(own)},
                    "healthz",
                )
            )
        stack, nginx = behind_nginx(root, env, docs, replicas)
        processes.append(nginx)
        yield PgStack(stack, postgres, job_index)
    finally:
        for replica in replicas:
            stop_server(replica)
        for process in reversed(processes):
            stop_process(process)
        remove_postgres(postgres)


def citations(answer: dict[str, object]) -> list[tuple[object, ...]]:
    cited = answer["citations"]
    assert isinstance(cited, list)
    return [(c["source"], c["start"], c["end"], c["quote"]) for c in cited]


def test_replicas_with_empty_folders_answer_from_what_the_job_commits(pg_stack: PgStack) -> None:
    stack = pg_stack.stack
    for replica in stack.replicas:  # nothing of the index on a replica's disk
        assert not (replica.index_dir / "chroma").exists()
    note = stack.docs / "parking.md"
    for fact, bay in (
        ("Visitors to the Leeds office park in bay C, behind the loading dock.", "bay C"),
        ("Visitors to the Leeds office now park in bay F, beside the bike shed.", "bay F"),
    ):
        note.write_text(f"# Visitor parking\n\n{fact}\n", encoding="utf-8")
        stack.ingest()  # added, then changed
        answers = [stack.ask(base, PARKING_QUESTION) for base in pg_stack.bases]
        for answer in answers:
            assert bay in answer["answer"], answer
            assert answer["citations"][0]["source"].endswith("parking.md")
        assert all(citations(a) == citations(answers[0]) for a in answers[1:])
    note.unlink()
    stack.ingest()  # deleted
    for base in pg_stack.bases:
        answer = stack.ask(base, PARKING_QUESTION)
        assert "bay F" not in answer["answer"]
        assert not any(c["source"].endswith("parking.md") for c in answer["citations"])


def test_a_postgresql_restart_is_a_clear_503_and_the_replicas_recover(pg_stack: PgStack) -> None:
    stack, postgres = pg_stack.stack, pg_stack.postgres
    question = {"question": "Which companies had to halt their stablecoin plans?"}
    postgres.stop()
    try:
        with refused_port(postgres.port), stack.client() as http:  # the port held while down
            for base in pg_stack.bases:
                down = http.post(base + "v1/ask", json=question)
                assert down.status_code == 503, down.text
                assert down.json()["error"]["code"] == "catalog_unavailable"
                assert "Retry-After" in down.headers
                assert PASSWORD not in down.text
    finally:
        postgres.start()
    with httpx.Client(timeout=120) as http:  # the same processes, no restart
        for replica in stack.replicas:
            up = http.post(replica.url + "v1/ask", json=question)
            assert up.status_code == 200, up.text
            assert not up.json()["refused"]
