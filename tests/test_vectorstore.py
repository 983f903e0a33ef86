"""The embedded Chroma store: its search depth, on new and on older indexes, and its saved graph."""

from __future__ import annotations

import sqlite3
import warnings
from pathlib import Path

import numpy as np
import pytest

from assistant.vectorstore import EF_SEARCH, SYNC_THRESHOLD, VectorStore, _configure
from tests.conftest import make_settings


def _vectors(count: int) -> np.ndarray:
    """Deterministic, spread-out unit vectors (no random generator)."""
    rows = np.array(
        [[np.sin(1.7 * i * (j + 1) + 0.3 * j) for j in range(384)] for i in range(count)],
        dtype=np.float32,
    )
    return rows / np.linalg.norm(rows, axis=1, keepdims=True)


def test_a_new_store_searches_deep_enough_to_be_exact_at_a_few_hundred(tmp_path: Path) -> None:
    store = VectorStore(make_settings(tmp_path / "index"))
    vectors = _vectors(400)
    ids = [f"c{i}" for i in range(len(vectors))]
    store.add(ids, vectors, ["doc"] * len(ids))
    assert store.collection.configuration["hnsw"]["ef_search"] == EF_SEARCH

    for q in range(0, 400, 37):
        query = vectors[q] * 0.6 + vectors[(q * 7 + 3) % 400] * 0.4
        exact = np.argsort(-(vectors @ query), kind="stable")[:10]
        found = [hit for hit, _ in store.query(query.astype(np.float32), 10)]
        assert found == [ids[i] for i in exact]


def test_an_index_made_with_chromas_default_depth_is_raised_on_open(tmp_path: Path) -> None:
    import chromadb
    from chromadb.config import Settings as ChromaSettings

    settings = make_settings(tmp_path / "index")
    old = chromadb.PersistentClient(
        path=str(tmp_path / "index" / "chroma"),
        settings=ChromaSettings(anonymized_telemetry=False),
    ).create_collection(
        settings.collection, embedding_function=None, configuration={"hnsw": {"space": "cosine"}}
    )
    assert old.configuration["hnsw"]["ef_search"] < EF_SEARCH  # what older indexes have

    store = VectorStore(settings)
    assert store.collection.configuration["hnsw"]["ef_search"] == EF_SEARCH
    store.refresh()  # a fresh client reads what was stored
    assert store.collection.configuration["hnsw"]["ef_search"] == EF_SEARCH
    assert store.collection.configuration["hnsw"]["space"] == "cosine"


def _applied_up_to(chroma_dir: Path) -> list[int]:
    """The last log entry each of Chroma's segments (metadata, vectors) has saved, one per
    segment that saved any (Chroma's own bookkeeping, read here only to check that the graph
    on disk holds every vector written)."""
    with sqlite3.connect(chroma_dir / "chroma.sqlite3") as db:
        return sorted(row[0] for row in db.execute("SELECT seq_id FROM max_seq_id"))


def test_settle_saves_every_written_vector_into_the_graph_on_disk(tmp_path: Path) -> None:
    store = VectorStore(make_settings(tmp_path / "index"))
    vectors = _vectors(1500)
    ids = [f"c{i}" for i in range(len(vectors))]
    store.add(ids, vectors, ["doc"] * len(ids))
    store.query(vectors[0], 1)
    # Chroma saved its graph at 1,000 vectors; the other 500 would be inserted again, in an
    # order of its own, by every process that opens the store.
    assert _applied_up_to(store.path) == [1000, 1500]

    store.settle()

    assert _applied_up_to(store.path) == [1500, 1500]  # the vectors caught up with the log
    assert store.collection.configuration["hnsw"]["sync_threshold"] == SYNC_THRESHOLD
    query = vectors[3] * 0.6 + vectors[700] * 0.4
    exact = np.argsort(-(vectors @ query), kind="stable")[:10]
    assert [hit for hit, _ in store.query(query.astype(np.float32), 10)] == [ids[i] for i in exact]


def test_settle_of_an_empty_store_leaves_it_as_it_was(tmp_path: Path) -> None:
    store = VectorStore(make_settings(tmp_path / "index"))
    store.settle()
    assert store.count() == 0
    assert store.collection.configuration["hnsw"]["sync_threshold"] == SYNC_THRESHOLD


def test_a_settle_cut_short_has_its_save_threshold_put_back_on_open(tmp_path: Path) -> None:
    store = VectorStore(make_settings(tmp_path / "index"))
    store.collection.modify(configuration={"hnsw": {"sync_threshold": 2}})  # as a killed settle
    store.refresh()
    assert store.collection.configuration["hnsw"]["sync_threshold"] == SYNC_THRESHOLD
    store.refresh()  # and it was stored, not just set on this handle
    assert store.collection.configuration["hnsw"]["sync_threshold"] == SYNC_THRESHOLD


def test_an_ingest_run_leaves_every_vector_in_the_saved_graph(corpus: Path, tmp_path: Path) -> None:
    from assistant.core import Assistant

    assistant = Assistant(make_settings(tmp_path / "index"))
    assistant.ingest([corpus])  # a few vectors: far below Chroma's own save threshold
    saved = _applied_up_to(assistant.store.path)
    assert len(saved) == 2  # the vector segment saved too, and as far as the metadata
    assert saved[0] == saved[1]
    assert assistant.store.count() == assistant.catalog.chunk_count()
    assert assistant.store.collection.configuration["hnsw"]["sync_threshold"] == SYNC_THRESHOLD


class _BusyCollection:
    """Stands in for a Chroma collection whose SQLite file is locked for the first `busy`
    configuration writes (Chroma's own error text, as seen in a CI run), then free."""

    def __init__(self, busy: int, message: str = "database is locked") -> None:
        self.busy = busy
        self.message = message
        self.written: list[dict[str, object]] = []

    def modify(self, configuration: dict[str, object]) -> None:
        if self.busy:
            self.busy -= 1
            raise RuntimeError(
                f"Database error: error returned from database: (code: 5) {self.message}"
            )
        self.written.append(configuration)


def test_a_configuration_write_waits_out_a_locked_database() -> None:
    collection = _BusyCollection(busy=3)
    _configure(collection, {"ef_search": EF_SEARCH})
    assert collection.written == [{"hnsw": {"ef_search": EF_SEARCH}}]
    assert collection.busy == 0


def test_a_lock_that_stays_and_other_errors_are_passed_on() -> None:
    stays = _BusyCollection(busy=100)
    with pytest.raises(RuntimeError, match="database is locked"):
        _configure(stays, {"ef_search": EF_SEARCH})
    assert stays.written == []
    assert stays.busy == 94  # six tries, then the error

    broken = _BusyCollection(busy=1, message="no such table: collections")
    with pytest.raises(RuntimeError, match="no such table"):
        _configure(broken, {"ef_search": EF_SEARCH})
    assert broken.busy == 0  # tried once: only a lock is waited out


def test_opening_a_store_warns_nothing(tmp_path: Path) -> None:
    # Chroma calls a collection without its own embedding function "legacy config": a
    # DeprecationWarning in every team's pytest run that opened an index.
    VectorStore(make_settings(tmp_path / "index")).add(["c0"], _vectors(1), ["doc"])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert VectorStore(make_settings(tmp_path / "index")).collection.count() == 1
