"""The backends that run the embedding model's transformer for `assistant.embedding`: `torch`
(sentence-transformers' own model) and `onnx` / `onnx-int8` (ONNX Runtime on a graph exported once
from the bundled weights, optionally quantized, and cached by the weights' fingerprint)."""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
import warnings
from pathlib import Path
from typing import Any, Literal, Protocol

import numpy as np
import numpy.typing as npt

from assistant.atomic import write_text_atomic

Backend = Literal["auto", "onnx", "onnx-int8", "torch"]

log = logging.getLogger(__name__)


class Encoder(Protocol):
    """Runs the transformer: token ids and attention mask in, token vectors out."""

    name: str

    def forward(
        self, ids: npt.NDArray[np.int64], mask: npt.NDArray[np.int64]
    ) -> npt.NDArray[np.float32]: ...


def load_encoder(model_path: Path, backend: Backend, cache_dir: Path, threads: int) -> Encoder:
    _check_pooling(model_path)
    if backend != "torch":
        try:
            return _OnnxEncoder(model_path, cache_dir, int8=backend == "onnx-int8", threads=threads)
        except Exception as exc:  # no onnxruntime, or the export failed
            if backend != "auto":
                raise
            log.warning("ONNX backend unavailable (%s); using torch", exc)
    return _TorchEncoder(model_path)


class _TorchEncoder:
    """The sentence-transformers model's transformer, run by PyTorch."""

    name = "torch"

    def __init__(self, model_path: Path) -> None:
        import torch

        self._torch = torch
        self._model = _sentence_transformer(str(model_path))[0].auto_model.eval()

    def forward(
        self, ids: npt.NDArray[np.int64], mask: npt.NDArray[np.int64]
    ) -> npt.NDArray[np.float32]:
        torch = self._torch
        with torch.inference_mode():
            output = self._model(
                input_ids=torch.from_numpy(ids),
                attention_mask=torch.from_numpy(mask),
                token_type_ids=torch.zeros_like(torch.from_numpy(ids)),
            )
        return np.asarray(output.last_hidden_state.float().numpy(), dtype=np.float32)


class _OnnxEncoder:
    """The same transformer exported to ONNX once (cached), run by ONNX Runtime."""

    def __init__(self, model_path: Path, cache_dir: Path, int8: bool, threads: int) -> None:
        import onnxruntime

        graph = _exported_graph(model_path, cache_dir)
        if int8:
            graph = _quantized_graph(graph)
        self.name = "onnx-int8" if int8 else "onnx"
        options = onnxruntime.SessionOptions()
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
        options.log_severity_level = 3
        # Idle worker threads sleep instead of spinning, leaving the cores to the BM25 lookup
        # and other requests of a server.
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        self._session = onnxruntime.InferenceSession(
            str(graph), options, providers=["CPUExecutionProvider"]
        )

    def forward(
        self, ids: npt.NDArray[np.int64], mask: npt.NDArray[np.int64]
    ) -> npt.NDArray[np.float32]:
        feeds = {"input_ids": ids, "attention_mask": mask, "token_type_ids": np.zeros_like(ids)}
        return np.asarray(self._session.run(None, feeds)[0], dtype=np.float32)


def _exported_graph(model_path: Path, cache_dir: Path) -> Path:
    """The model's ONNX graph, exported from the local weights on first use."""
    from filelock import FileLock

    target = (
        cache_dir / f"{model_path.parent.name}-{_weights_fingerprint(model_path, cache_dir)}.onnx"
    )
    if target.exists():
        return target
    cache_dir.mkdir(parents=True, exist_ok=True)
    with FileLock(str(target) + ".lock"):
        if not target.exists():
            partial = target.with_suffix(".partial")
            _export(model_path, partial)
            os.replace(partial, target)  # atomic: a half-written graph is never used
    return target


def _weights_fingerprint(model_path: Path, cache_dir: Path) -> str:
    """A digest of the model's configuration and weights, by their contents.

    A reinstalled or copied model (every new virtual environment) has new modification times
    but the same bytes, so it finds the graph exported before. Hashing ~90 MB costs ~0.2 s, so
    each file's digest is remembered in `cache_dir`, keyed by its path, size and modification
    time: a process that starts later reads it back.
    """
    fingerprint = hashlib.sha256()
    for name in ("config.json", "model.safetensors", "pytorch_model.bin"):
        candidate = model_path / name
        if candidate.exists():
            fingerprint.update(f"{name}:{_file_digest(candidate, cache_dir)}".encode())
    return fingerprint.hexdigest()[:16]


def _file_digest(path: Path, cache_dir: Path) -> str:
    stat = path.stat()
    key = hashlib.sha256(f"{path.resolve()}:{stat.st_size}:{stat.st_mtime_ns}".encode())
    remembered = cache_dir / "digests" / key.hexdigest()[:32]
    try:
        return remembered.read_text().strip()
    except OSError:
        pass
    with path.open("rb") as stream:
        digest = hashlib.file_digest(stream, "sha256").hexdigest()
    with contextlib.suppress(OSError):  # a read-only cache: hash again next time
        write_text_atomic(remembered, digest)
    return digest


def _quantized_graph(graph: Path) -> Path:
    """The graph with its matrix products in 8-bit integers (weights per output channel),
    quantized once from the exported graph and cached beside it."""
    from filelock import FileLock

    target = graph.with_name(graph.stem + "-int8.onnx")
    if target.exists():
        return target
    with FileLock(str(target) + ".lock"):
        if not target.exists():
            from onnxruntime.quantization import QuantType, quantize_dynamic

            partial = target.with_suffix(".partial")
            previous = logging.root.manager.disable
            logging.disable(logging.WARNING)  # its advice to pre-process, on the root logger
            try:
                quantize_dynamic(
                    graph,
                    partial,
                    weight_type=QuantType.QInt8,
                    per_channel=True,
                    op_types_to_quantize=["MatMul"],
                )
            finally:
                logging.disable(previous)
            os.replace(partial, target)  # atomic, as the export
    return target


def _export(model_path: Path, target: Path) -> None:
    import torch

    model = _sentence_transformer(str(model_path))[0].auto_model.eval()

    class _LastHidden(torch.nn.Module):
        def __init__(self, inner: Any) -> None:
            super().__init__()
            self.inner = inner

        def forward(self, input_ids: Any, attention_mask: Any, token_type_ids: Any) -> Any:
            return self.inner(
                input_ids=input_ids, attention_mask=attention_mask, token_type_ids=token_type_ids
            ).last_hidden_state

    sample = torch.ones((2, 8), dtype=torch.int64)
    axes = {0: "batch", 1: "tokens"}
    with torch.inference_mode(), warnings.catch_warnings():
        warnings.simplefilter("ignore")  # tracer chatter about Python control flow
        torch.onnx.export(
            _LastHidden(model),
            (sample, sample, torch.zeros_like(sample)),
            str(target),
            input_names=["input_ids", "attention_mask", "token_type_ids"],
            output_names=["last_hidden_state"],
            dynamic_axes={
                "input_ids": axes,
                "attention_mask": axes,
                "token_type_ids": axes,
                "last_hidden_state": axes,
            },
            opset_version=17,
            dynamo=False,
        )


# -- model files ---------------------------------------------------------------------------


def _sentence_transformer(path: str) -> Any:
    # Models come from disk only: never let the hub be asked.
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    from sentence_transformers import SentenceTransformer

    return SentenceTransformer(path, device="cpu", local_files_only=True)


def _check_pooling(model_path: Path) -> None:
    """Refuse a model that pools its token vectors other than by their mean (what the encoders
    here do), in either way sentence-transformers writes it: `pooling_mode_mean_tokens` (up to
    version 4) or `pooling_mode` (a model saved by a later one)."""
    config_path = model_path / "1_Pooling" / "config.json"
    if config_path.exists():
        config = json.loads(config_path.read_text())
        mean = config.get("pooling_mode_mean_tokens", False) or config.get("pooling_mode") == "mean"
        if not mean:
            raise ValueError(f"{model_path}: only mean-pooling sentence-transformers are supported")
