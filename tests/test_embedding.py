"""Both embedding backends give SentenceTransformer.encode's vectors; late chunking is sound."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from assistant.embedding import Embedder, default_model_path
from assistant.embedding_backends import _check_pooling, _sentence_transformer
from assistant.text import sentence_spans
from tests.conftest import SEED_FILE

TEXTS = [
    SEED_FILE.read_text(encoding="utf-8")[:1200],
    "Which companies had to halt their stablecoin plans?",
    "  leading spaces and Ünïcödé — façade",
    "word " * 400,  # longer than the model window: truncated the same way
]


@pytest.fixture(scope="module")
def reference() -> np.ndarray:
    model = _sentence_transformer(str(default_model_path()))
    return np.asarray(model.encode(TEXTS, normalize_embeddings=True))


@pytest.fixture(scope="module")
def graph_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A cache of its own for the exported graphs (exported once for this module's tests)."""
    return tmp_path_factory.mktemp("graphs")


@pytest.mark.parametrize("backend", ["onnx", "torch"])
def test_backends_match_sentence_transformers(
    backend: str, reference: np.ndarray, graph_cache: Path
) -> None:
    embedder = Embedder(backend=backend, cache_dir=graph_cache if backend == "onnx" else None)  # type: ignore[arg-type]
    vectors = embedder.embed_texts(TEXTS)
    assert embedder.backend_name == backend
    assert vectors.shape == (len(TEXTS), 384)
    assert np.allclose((vectors * reference).sum(axis=1), 1.0, atol=1e-4)
    assert np.allclose(embedder.embed_query(TEXTS[1]), vectors[1], atol=1e-5)


def test_sentence_vectors_point_at_their_own_sentence() -> None:
    embedder = Embedder()
    text = SEED_FILE.read_text(encoding="utf-8")[:900]  # fits the 256-piece window
    spans = sentence_spans(text)
    [chunk] = embedder.embed_chunks([text], [spans], prefixes=["A title\n"])
    assert chunk.sentence_vectors.shape == (len(spans), 384)
    norms = np.linalg.norm(chunk.sentence_vectors.astype(np.float32), axis=1)
    assert np.allclose(norms, 1.0, atol=1e-2)
    # Each sentence's pooled vector ranks its own separately embedded text first or second
    # among the chunk's sentences: context bleeds in, but sentences stay distinguishable.
    separate = embedder.embed_texts([text[s:e] for s, e in spans])
    similarity = chunk.sentence_vectors.astype(np.float32) @ separate.T
    for index, row in enumerate(similarity):
        assert int((row > row[index]).sum()) <= 1, index
        assert row[index] > np.median(row) + 0.05, index


def test_empty_input() -> None:
    assert Embedder().embed_texts([]).shape == (0, 384)


def test_int8_vectors_stay_close_to_the_float_ones(
    reference: np.ndarray, graph_cache: Path
) -> None:
    embedder = Embedder(backend="onnx-int8", cache_dir=graph_cache)
    vectors = embedder.embed_texts(TEXTS)
    assert embedder.backend_name == "onnx-int8"
    assert embedder.vector_kind == "+int8"
    float_embedder = Embedder(backend="auto", cache_dir=graph_cache)
    assert (float_embedder.backend_name, float_embedder.vector_kind) == ("onnx", "")
    (int8_graph,) = graph_cache.glob("*-int8.onnx")
    float_graph = int8_graph.with_name(int8_graph.name.replace("-int8", ""))
    assert float_graph.is_file()  # exported once, then quantized; both cached
    cosines = (vectors * reference).sum(axis=1)
    assert (cosines > 0.97).all(), cosines
    assert (cosines < 1 - 1e-4).any()  # really the 8-bit graph, not the float one
    # The question still finds the article it was written about among the texts.
    similarity = vectors @ vectors[1]
    assert int(np.argsort(-similarity)[1]) == 0


def test_the_model_runs_on_the_cores_it_may_use_or_the_threads_set(
    graph_cache: Path, reference: np.ndarray, tmp_path: Path
) -> None:
    import os

    from assistant.embedding import usable_cores
    from tests.conftest import make_settings

    assert usable_cores() == len(os.sched_getaffinity(0))
    assert Embedder(backend="onnx", cache_dir=graph_cache).threads == usable_cores()
    one = Embedder.from_settings(
        make_settings(tmp_path / "index", embed_threads=1, model_cache_dir=graph_cache,
                      embedding_backend="onnx")
    )  # fmt: skip
    assert one.threads == 1
    session = one.encoder._session  # type: ignore[attr-defined]
    assert session.get_session_options().intra_op_num_threads == 1
    vectors = one.embed_texts(TEXTS)  # the same vectors on one thread
    assert np.allclose((vectors * reference).sum(axis=1), 1.0, atol=1e-4)


def test_a_copy_of_the_model_with_new_times_finds_the_graph_exported_before(
    tmp_path: Path,
) -> None:
    """A new virtual environment installs the same model files with new modification times:
    the cached graph is keyed by their contents, so it is not exported again."""
    import os
    import shutil

    from assistant.embedding_backends import _weights_fingerprint

    model = default_model_path()
    copy = tmp_path / model.parent.name / model.name
    shutil.copytree(model, copy)
    for name in ("config.json", "model.safetensors"):
        os.utime(copy / name, ns=(1_000_000_000, 1_000_000_000))
    cache = tmp_path / "cache"
    original = _weights_fingerprint(model, cache)
    assert _weights_fingerprint(copy, cache) == original
    assert len(list((cache / "digests").iterdir())) == 4  # two files of each copy remembered
    assert _weights_fingerprint(copy, cache) == original  # read back from what was remembered
    # Other weights (or another configuration) are another model: another graph.
    config = copy / "config.json"
    config.write_text(config.read_text().replace('"hidden_act"', ' "hidden_act"'))
    assert _weights_fingerprint(copy, cache) != original


@pytest.mark.parametrize(
    ("config", "accepted"),
    [
        ({"pooling_mode_mean_tokens": True, "pooling_mode_cls_token": False}, True),
        ({"pooling_mode_mean_tokens": False, "pooling_mode_cls_token": True}, False),
        ({"embedding_dimension": 384, "pooling_mode": "mean"}, True),  # saved by ST 5 and later
        ({"embedding_dimension": 384, "pooling_mode": "cls"}, False),
        (None, True),  # no pooling module: a bare transformer, mean-pooled here
    ],
)
def test_only_mean_pooling_models_are_taken_in_either_config_format(
    tmp_path: Path, config: dict[str, object] | None, accepted: bool
) -> None:
    if config is not None:
        (tmp_path / "1_Pooling").mkdir()
        (tmp_path / "1_Pooling" / "config.json").write_text(json.dumps(config))
    if accepted:
        _check_pooling(tmp_path)
    else:
        with pytest.raises(ValueError, match="only mean-pooling sentence-transformers"):
            _check_pooling(tmp_path)
