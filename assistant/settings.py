"""The one settings object: environment (ASSISTANT_*), an optional TOML file, then defaults."""

from __future__ import annotations

import ipaddress
import os
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Literal

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import (
    BaseSettings,
    NoDecode,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

CONFIG_FILE_ENV = "ASSISTANT_CONFIG"
if TYPE_CHECKING:
    from assistant.loaders.ocr import Ocr

DEFAULT_CONFIG_FILE = "assistant.toml"


def config_path() -> Path:
    """The TOML settings file read: $ASSISTANT_CONFIG, else ./assistant.toml."""
    return Path(os.environ.get(CONFIG_FILE_ENV, DEFAULT_CONFIG_FILE))


class Settings(BaseSettings):
    """Every tunable of the assistant; read once at the edge (CLI, UI, API) and passed down."""

    model_config = SettingsConfigDict(
        env_prefix="ASSISTANT_",
        extra="forbid",
        frozen=True,
        toml_file=DEFAULT_CONFIG_FILE,
    )

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
    embed_batch_size: int = Field(32, ge=1, le=512)
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
    top_k: int = Field(5, ge=1, le=50, description="Passages handed to the answerer.")
    candidates: int = Field(30, ge=1, le=500, description="Candidates per retriever before fusion.")
    # 10-30 found a few more tuning and pending facts (`python -m benchmarks.tune_retrieval
    # --configs "" rrf=20 ...`: key fact@5 0.843 against 0.836) and lost held-out ones
    # (docs/evaluation.md): the usual 60.
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
        "assistant.evaluation.calibrate --out`); default: the one shipped, fitted on the "
        "tuning corpora.",
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

    @field_validator("sources", "trusted_proxies", "ldap_admin_groups", mode="before")
    @classmethod
    def _split_lists(cls, value: Any) -> Any:
        """Accept a comma-separated string for ASSISTANT_SOURCES, ASSISTANT_TRUSTED_PROXIES and
        ASSISTANT_LDAP_ADMIN_GROUPS."""
        if isinstance(value, str):
            return [part.strip() for part in value.split(",") if part.strip()]
        return value

    def is_upload(self, path: str | Path) -> bool:
        """Whether an indexed file (its absolute path, as the catalog records it) is an upload
        saved by the web UI."""
        return Path(path).parent == Path(os.path.abspath(self.uploads_dir))

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

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        """Precedence: explicit arguments, environment, TOML file, defaults."""
        return (
            init_settings,
            env_settings,
            TomlConfigSettingsSource(settings_cls, toml_file=config_path()),
        )

    def with_overrides(self, **changes: Any) -> Settings:
        """A copy with some fields replaced (None values are ignored), validated again."""
        data = self.model_dump()
        data.update({key: value for key, value in changes.items() if value is not None})
        return type(self).model_validate(data)

    # -- Web UI (`assistant serve`; docs/ui.md) ------------------------------------------
    ui_title: str = Field("Document assistant", description="Title shown on the web chat.")
    ui_allow_upload: bool = Field(True, description="Let web users upload documents to index.")
    ui_allow_reindex: bool = Field(True, description="Let web users re-index the sources.")
    max_upload_mb: float = Field(20.0, gt=0, description="Largest file the web UI accepts.")
    ui_examples: int = Field(4, ge=0, le=12, description="Suggested questions on the empty chat.")
    auth_users: dict[str, SecretStr] = Field(
        default_factory=dict,
        description="Web UI logins: username -> password hash from `assistant hash-password`.",
    )
    auth_file: Path | None = Field(
        None, description="File of `username:hash` lines (more web UI logins)."
    )

    conversation_retention_days: float = Field(
        0,
        ge=0,
        le=36500,
        description="Days a web chat conversation is kept after its last question; 0: forever. "
        "Applied when the server starts and then daily.",
    )

    question_log_days: float = Field(
        90,
        ge=0,
        le=36500,
        description="Days each answered question (who, when, what, refused, cited documents) is "
        "kept in the question log beside the index, for `assistant quality` and audits; "
        "0: no log.",
    )

    audit_log: Path | None = Field(
        None,
        description="The audit log (JSON lines: sign-ins, questions, documents shown, "
        "uploads, deletes, user and permission changes, API key use); None: "
        "<index_dir>/audit.log.",
    )
    audit_max_bytes: int = Field(
        10_000_000,
        ge=4096,
        le=10_000_000_000,
        description="Size at which the audit log is rotated (audit.log -> audit.log.1 ...).",
    )
    audit_keep: int = Field(
        10, ge=1, le=1000, description="Rotated audit log files kept (the oldest is dropped)."
    )
    audit_retention_days: float = Field(
        0,
        ge=0,
        le=36500,
        description="Days audit records are kept; 0: forever. Applied on a process's first "
        "record, then daily: older rows of the catalog database's table are deleted, and "
        "rotated files whose newest record is older are removed.",
    )

    @property
    def audit_path(self) -> Path:
        """Where the audit log is appended (assistant.audit)."""
        return self.audit_log if self.audit_log is not None else self.index_dir / "audit.log"

    @property
    def questions_path(self) -> Path:
        """The question log (SQLite, beside the index; assistant.questionlog)."""
        return self.index_dir / "questions.sqlite3"

    @property
    def conversations_path(self) -> Path:
        """The web chat's stored conversations (SQLite, beside the index)."""
        return self.index_dir / "conversations.sqlite3"

    @property
    def feedback_path(self) -> Path:
        """Where the web UI appends answer feedback (JSON lines)."""
        return self.data_dir / "feedback.jsonl"

    @property
    def uploads_dir(self) -> Path:
        """Where the web UI saves uploaded documents before indexing them."""
        return self.data_dir / "uploads"

    # -- A directory (LDAP) as a second source of users and groups (docs/teams.md) ----------
    ldap_url: str | None = Field(
        None,
        pattern=r"^ldaps?://[^/\s]+/?$",
        description="The directory's server, ldap://HOST[:PORT] or ldaps://HOST[:PORT]; "
        "None: no directory, the catalog's users only.",
    )
    ldap_start_tls: bool = Field(
        False,
        description="Upgrade an ldap:// connection to TLS (StartTLS) before anything is sent, "
        "so passwords never cross the network in clear; ldaps:// is TLS from the start.",
    )
    ldap_ca_file: Path | None = Field(
        None,
        description="CA certificates (PEM) that sign the directory's certificate, for ldaps:// "
        "and StartTLS; None: the system's. The certificate and its name are always checked.",
    )
    ldap_user_dn_template: str | None = Field(
        None,
        description="A user's DN with {username}, e.g. uid={username},ou=people,dc=example,dc=org "
        "(else ldap_user_search_base finds it).",
    )
    ldap_user_search_base: str | None = Field(
        None, description="Where a user's entry is searched for by ldap_user_filter."
    )
    ldap_user_filter: str = Field(
        "(uid={username})", description="The search for a user's entry ({username} escaped)."
    )
    ldap_bind_dn: str | None = Field(
        None,
        description="A service account to search with (users, groups); None: anonymous searches "
        "(groups read at sign-in as the user).",
    )
    ldap_bind_password: SecretStr | None = Field(
        None, description="The service account's password (never logged)."
    )
    ldap_group_search_base: str | None = Field(
        None, description="Where groups are searched; None: directory users have no groups."
    )
    ldap_group_filter: str = Field(
        "(|(member={dn})(uniqueMember={dn})(memberUid={username}))",
        description="The search for a user's groups ({dn} and {username} escaped).",
    )
    ldap_group_attribute: str = Field("cn", description="The attribute naming a group.")
    ldap_timeout: float = Field(
        5.0, gt=0, le=120, description="Seconds to connect to or wait for the directory."
    )
    ldap_cache_seconds: float = Field(
        60.0,
        ge=0,
        le=3600,
        description="Seconds a directory user's groups are kept before they are read again.",
    )
    ldap_admin_groups: Annotated[list[str], NoDecode] = Field(
        default_factory=list,
        description="Directory groups whose members are admins (read every collection, use the "
        "Admin and Quality tabs); none: directory users are members. Comma-separated in the "
        "environment.",
    )

    @model_validator(mode="after")
    def _one_way_to_find_users(self) -> Settings:
        if self.ldap_url is not None and (self.ldap_user_dn_template is None) == (
            self.ldap_user_search_base is None
        ):
            raise ValueError(
                "with ldap_url, set exactly one of ldap_user_dn_template and ldap_user_search_base"
            )
        template = self.ldap_user_dn_template
        if template is not None and "{username}" not in template:
            raise ValueError("ldap_user_dn_template needs {username}")
        if self.ldap_start_tls and (self.ldap_url or "").lower().startswith("ldaps://"):
            raise ValueError(
                "ldap_start_tls upgrades an ldap:// connection; ldaps:// is TLS already"
            )
        if self.ldap_ca_file is not None and not self.ldap_ca_file.is_file():
            raise ValueError(f"ldap_ca_file {self.ldap_ca_file} is not a file")
        return self

    # -- A trusted SSO proxy in front (oauth2-proxy and the like; docs/teams.md) ------------
    trusted_user_header: str | None = Field(
        None,
        pattern=r"^[A-Za-z0-9-]{1,64}$",
        description="The header in which an SSO proxy names the signed-in user (e.g. "
        "X-Forwarded-User), believed only from trusted_proxies; None: no proxy sign-in.",
    )
    trusted_groups_header: str | None = Field(
        None,
        pattern=r"^[A-Za-z0-9-]{1,64}$",
        description="The header with that user's groups, comma-separated (e.g. "
        "X-Forwarded-Groups); None: the groups of the catalog or directory only.",
    )
    trusted_proxies: Annotated[list[str], NoDecode] = Field(
        default_factory=list,
        description="Addresses (CIDRs, e.g. 127.0.0.1/32) of the proxies whose user header is "
        "believed; from any other peer it is ignored. Comma-separated in the environment.",
    )

    @field_validator("trusted_proxies")
    @classmethod
    def _proxy_networks(cls, value: list[str]) -> list[str]:
        for network in value:
            try:
                ipaddress.ip_network(network, strict=False)
            except ValueError:
                raise ValueError(
                    f"trusted_proxies: {network!r} is not an address or CIDR"
                ) from None
        return value

    @model_validator(mode="after")
    def _proxy_header_needs_proxies(self) -> Settings:
        if self.trusted_user_header is not None and not self.trusted_proxies:
            raise ValueError("trusted_user_header needs trusted_proxies (the proxies' addresses)")
        if self.trusted_groups_header is not None and self.trusted_user_header is None:
            raise ValueError("trusted_groups_header needs trusted_user_header")
        return self

    # -- HTTP API (`assistant serve`: /v1 and /healthz; docs/api.md) -----------------------
    api_keys: dict[str, SecretStr] = Field(
        default_factory=dict,
        description="API clients: name -> key hash from `assistant hash-api-key`. When set, "
        "every /v1 request needs one of the keys as a bearer token.",
    )
    allow_unauthenticated_remote: bool = Field(
        False,
        description="Serve the chat without logins or the API without keys on a non-loopback "
        "address, with a loud warning (else serve refuses; docs/security.md).",
    )
    max_request_bytes: int = Field(
        1_000_000, ge=1024, le=100_000_000, description="Largest API request body (else 413)."
    )
    api_default_model: str | None = Field(
        None,
        description="Answerer behind the API model name `default`; None: the `answerer` setting.",
    )
    api_allow_delete: bool = Field(
        True,
        description="Let administrators and service keys delete documents with "
        "`DELETE /v1/documents/{doc_id}` (off: 403 for everyone, as a read-only chat).",
    )

    # -- Reliability (issue 7: crash-safe ingestion, docs/reliability.md) ------------------
    ingest_group_chunks: int = Field(
        256,
        ge=1,
        le=100_000,
        description="Chunks embedded together before their documents are committed; smaller "
        "loses less work to a crash and shows documents sooner, larger writes less often.",
    )

    # -- Security (docs/security.md) ---------------------------------------------------------
    log_level: Literal["debug", "info", "warning", "error"] = Field(
        "warning",
        description="Log level of `assistant serve` (debug logs every request; never a secret).",
    )

    # -- Concurrency and load (`assistant serve`; docs/deployment.md "Concurrency and load") --
    # Sized for 2 cores: an extractive answer is ~10 ms of CPU, so a few at once keep both
    # cores busy while one waits on SQLite or Chroma; more would only add context switches.
    # An in-process LLM answers one question at a time whatever these say (its model lock).
    ui_concurrency: int = Field(
        4, ge=1, le=64, description="Web chat answers worked on at once (Gradio queue workers)."
    )
    ui_queue_size: int = Field(
        256,
        ge=1,
        le=100_000,
        description="Web chat requests waiting for a worker; beyond this users are told the "
        "server is busy and to retry.",
    )
    api_concurrency: int = Field(
        4, ge=1, le=64, description="API answers computed at once (the rest wait their turn)."
    )
    api_queue_size: int = Field(
        256,
        ge=0,
        le=100_000,
        description="API requests waiting for an answer slot; beyond this: 429 with Retry-After.",
    )
    api_queue_timeout: float = Field(
        60.0,
        gt=0,
        description="Seconds an API request waits for an answer slot; then 503 with Retry-After.",
    )
    busy_retry_after: int = Field(
        5, ge=1, le=3600, description="Seconds a busy server asks clients to wait (Retry-After)."
    )
