"""The pipeline's settings: documents, embedding and chunking, retrieval, answering, the stores.

`assistant.settings.Settings`, the one settings object, is built on these: their fields come
first, in this order, then its own (web UI, audit, access, API, load). Construct that, never
`PipelineSettings` on its own: the environment prefix, TOML file and sources are its.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Literal

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, NoDecode

if TYPE_CHECKING:
    from assistant.loaders.ocr import Ocr


def split_commas(value: Any) -> Any:
    """A comma-separated string (as the environment gives a list) as its stripped parts."""
    if isinstance(value, str):
        return [part.strip() for part in value.split(",") if part.strip()]
    return value


# The most passages a question may be answered from (`top_k`, a call's or request's `k`).
MAX_TOP_K = 50


class PipelineSettings(BaseSettings):
    """What loading, chunking, embedding, storing, retrieval and answering read (and the
    server's address); the first fields of `Settings`."""

    # Where things live.
    index_dir: Path = Field(Path("index"), description="On-disk index: Chroma store and catalog.")
    data_dir: Path = Field(Path("data"), description="User-written data such as feedback.")
    catalog_url: SecretStr | None = Field(
        None,
        description="PostgreSQL catalog shared by every `assistant serve` replica, "
        "postgresql://USER:PASSWORD@HOST[:PORT]/DATABASE (never logged); None or empty: the "
        "SQLite file in index_dir (docs/deployment.md).",
    )
    catalog_statement_timeout: float = Field(
        30.0,
        ge=0,
        le=86400,
        description="Seconds a statement of the PostgreSQL catalog may run while answering a "
        "request (a lock wait, an overloaded server) before it is cancelled and the request "
        "fails as for an outage (HTTP 503); 0: no limit. Migrations, ingest writes, VACUUM and "
        "catalog-copy have none.",
    )
    sources: Annotated[list[Path], NoDecode] = Field(
        default_factory=lambda: [Path("seeds")],
        description="Default documents or folders to ingest.",
    )
    ocr: bool = Field(
        True,
        description="Read scanned PDF pages and images with Tesseract OCR (tesseract-ocr).",
    )
    ocr_languages: str = Field(
        "eng",
        pattern=r"^[A-Za-z_]{3,}(\+[A-Za-z_]{3,})*$",
        description="Tesseract languages, e.g. eng or eng+deu (their data must be installed).",
    )
    collection_folders: dict[Path, str] = Field(
        default_factory=dict,
        description="Folder -> collection: files under a folder are indexed into its collection "
        "(the deepest folder wins; `ingest --collection` overrides).",
    )

    # Embedding and chunking.
    embedding_model: Path | None = Field(
        None, description="Directory of a sentence-transformers model; default: bundled MiniLM."
    )
    chunk_size: int = Field(160, ge=32, le=250, description="Chunk size in model word pieces.")
    chunk_overlap: int = Field(16, ge=0, le=120, description="Overlap between chunks.")
    embed_batch_size: int = Field(32, ge=1, le=512, description="Texts embedded per batch.")
    embedding_backend: Literal["auto", "onnx", "onnx-int8", "torch"] = Field(
        "auto",
        description="onnx: ONNX Runtime on a graph exported once from the model (faster, same "
        "vectors); onnx-int8: that graph with 8-bit matrix products (about 2x faster ingest, "
        "vectors within ~0.006 cosine; docs/evaluation.md); torch: sentence-transformers; "
        "auto: onnx when available.",
    )
    model_cache_dir: Path | None = Field(
        None, description="Where the exported ONNX graph is cached (default ~/.cache/assistant)."
    )
    embed_threads: int | None = Field(
        None,
        ge=1,
        le=256,
        description="Threads the ONNX embedding model runs on; None: every core this process "
        "may use (its CPU affinity, as taskset and container limits set it).",
    )

    # Retrieval.
    top_k: int = Field(5, ge=1, le=MAX_TOP_K, description="Passages handed to the answerer.")
    candidates: int = Field(30, ge=1, le=500, description="Candidates per retriever before fusion.")
    # 10-30 found a few more tuning and pending facts (`python -m benchmarks.tune_retrieval
    # --configs "" rrf=20 ...`: key fact@5 0.843 against 0.836) and lost held-out ones
    # (docs/evaluation-history.md): the usual 60.
    rrf_k: int = Field(
        60,
        ge=1,
        description="Reciprocal rank fusion constant: each ranked list adds 1 / (rrf_k + rank) "
        "(smaller: the lists' top ranks count more).",
    )
    rerank_depth: int = Field(
        20,
        ge=0,
        le=200,
        description="Fused passages re-scored by their best sentence before the top-k cut "
        "(0: no rerank).",
    )
    sentence_search_limit: int = Field(
        200_000,
        ge=0,
        description="Indexes of up to this many sentences are also searched sentence by "
        "sentence, in memory (~1.5 KB a sentence, ~9 a chunk); larger ones by chunk vectors "
        "and BM25 alone (0: off).",
    )

    # Answering.
    answerer: str = Field("extractive", description="Answerer backend by name.")
    refusal_threshold: float | None = Field(
        None,
        ge=0.0,
        le=1.0,
        description="Minimum answer confidence; default: the threshold fitted with the "
        "extractive model on the tuning corpora (docs/evaluation.md).",
    )
    extractive_model: Path | None = Field(
        None,
        description="Model file of the extractive answerer (from `python -m "
        "assistant.evaluation.calibrate INDEX_DIR GOLDEN --out FILE`); default: the one "
        "shipped, fitted on the tuning corpora.",
    )
    max_question_chars: int = Field(2000, ge=10, description="Longer questions are rejected.")

    # Ingestion limits.
    max_file_mb: float = Field(50.0, gt=0, description="Files larger than this are skipped.")
    ingest_lock_timeout: float = Field(
        60.0, ge=0, description="Seconds to wait for another ingest of the same index."
    )

    # Vector store.
    chroma_mode: Literal["embedded", "http"] = "embedded"
    chroma_host: str = "127.0.0.1"
    chroma_port: int = Field(8000, ge=1, le=65535)
    chroma_token: SecretStr | None = None
    collection: str = "assistant"

    # Serving.
    host: str = "127.0.0.1"
    port: int = Field(
        7860, ge=0, le=65535, description="0: any free port (`serve` prints the URL it bound)."
    )

    # Generative answerers (llamacpp, openai): model, endpoint, generation and verification.
    llm_model_path: Path | None = Field(
        None, description="GGUF file for `llamacpp`; default: bundled SmolLM2-135M-Instruct."
    )
    llm_base_url: str = Field(
        "http://127.0.0.1:8080/v1", description="OpenAI-compatible endpoint for `openai`."
    )
    llm_model: str = Field("default", description="Model name sent to the `openai` endpoint.")
    llm_api_key: SecretStr | None = Field(
        None, description="API key for the `openai` endpoint (never logged)."
    )
    llm_timeout: float = Field(
        120.0, gt=0, description="Seconds a generation may take before the extractive fallback."
    )
    llm_retries: int = Field(1, ge=0, le=10, description="Retries of a failed endpoint request.")
    llm_max_tokens: int = Field(160, ge=8, le=4096, description="Tokens generated at most.")
    llm_temperature: float = Field(0.0, ge=0.0, le=2.0, description="0 = greedy, repeatable.")
    llm_context_window: int = Field(
        4096, ge=512, le=262144, description="Context tokens of the in-process model."
    )
    llm_threads: int | None = Field(
        None, ge=1, le=256, description="CPU threads of the in-process model; default: all."
    )
    llm_gate_threshold: float | None = Field(
        None,
        ge=0.0,
        le=1.0,
        description="Retrieval confidence below which an LLM answerer refuses without "
        "generating; default: the extractive answerer's refusal threshold.",
    )
    min_support: float = Field(
        0.5,
        ge=0.0,
        le=1.0,
        description="Share of an LLM answer's sentences the sources must support, else refusal.",
    )
    prompts_dir: Path | None = Field(
        None, description="Directory of the prompt files; default: the repository's prompts/."
    )

    @field_validator("sources", mode="before")
    @classmethod
    def _split_sources(cls, value: Any) -> Any:
        """Accept a comma-separated string for ASSISTANT_SOURCES."""
        return split_commas(value)

    @property
    def document_folders(self) -> list[Path]:
        """What `ingest` and `sync` read by default: `sources`, then each `collection_folders`
        folder not already inside one of them."""
        folders = list(dict.fromkeys(self.sources))
        for folder in self.collection_folders:
            inside = any(
                folder == source or Path(source).resolve() in Path(folder).resolve().parents
                for source in folders
            )
            if not inside:
                folders.append(folder)
        return folders

    @property
    def reader_ocr(self) -> Ocr | None:
        """The OCR documents are read with (None: switched off)."""
        from assistant.loaders.ocr import Ocr

        return Ocr(self.ocr_languages, self.index_dir / "ocr-cache") if self.ocr else None

    @field_validator("catalog_url", mode="before")
    @classmethod
    def _catalog_url(cls, value: Any) -> Any:
        # Empty (ASSISTANT_CATALOG_URL=) is the default. The URL is checked when the catalog
        # opens (assistant.catalog_pg), where an error can leave its password out.
        text = value.get_secret_value() if isinstance(value, SecretStr) else value
        return None if isinstance(text, str) and not text.strip() else value

    @field_validator("index_dir")
    @classmethod
    def _index_is_a_folder(cls, value: Path) -> Path:
        # Checked here, at the edge, so that every command says it in one line (a file there
        # failed deep in the first write, FileExistsError).
        if value.exists() and not value.is_dir():
            raise ValueError(f"{value} is a file, not a folder: give the index's folder")
        return value

    @field_validator("collection_folders")
    @classmethod
    def _collection_names(cls, value: dict[Path, str]) -> dict[Path, str]:
        from assistant.collections import check_name

        for name in value.values():
            check_name(name)
        return value

    @field_validator("chunk_overlap")
    @classmethod
    def _overlap_below_size(cls, value: int, info: Any) -> int:
        size = info.data.get("chunk_size", cls.model_fields["chunk_size"].default)
        if value >= size:
            raise ValueError(f"chunk_overlap ({value}) must be smaller than chunk_size ({size})")
        return value
