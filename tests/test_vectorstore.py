"""The embedded Chroma store: its search depth, on new and on older indexes."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from assistant.vectorstore import EF_SEARCH, VectorStore
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
