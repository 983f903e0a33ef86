"""The one settings object: environment (ASSISTANT_*), an optional TOML file, then defaults."""

from __future__ import annotations

import ipaddress
import os
import tomllib
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import (
    BaseSettings,
    NoDecode,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    SettingsError,
    TomlConfigSettingsSource,
)

from assistant.settings_pipeline import PipelineSettings, split_commas

CONFIG_FILE_ENV = "ASSISTANT_CONFIG"
DEFAULT_CONFIG_FILE = "assistant.toml"


def config_path() -> Path | None:
    """The TOML settings file: $ASSISTANT_CONFIG (set empty: none), else ./assistant.toml."""
    named = os.environ.get(CONFIG_FILE_ENV)
    if named is None:
        return Path(DEFAULT_CONFIG_FILE)
    return Path(named) if named.strip() else None


def _config_files() -> list[Path]:
    """The settings file to read, checked to be readable TOML (SettingsError, one line naming
    the file, rather than a decoder's traceback). ./assistant.toml is read when it is there;
    a file $ASSISTANT_CONFIG names must be there (a mistyped name would run with none of its
    settings: its login, its bind address, its limits)."""
    path = config_path()
    if path is None:
        return []
    if not path.is_file():
        if os.environ.get(CONFIG_FILE_ENV) is None:
            return []
        what = "is a folder, not a file" if path.is_dir() else "does not exist"
        raise SettingsError(
            f"the settings file {path} ({CONFIG_FILE_ENV}) {what}; set "
            f"{CONFIG_FILE_ENV} to an existing file, or to nothing for no settings file"
        )
    try:
        tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise SettingsError(f"cannot read the settings file {path}: {exc}") from exc
    return [path]


class Settings(PipelineSettings):
    """Every tunable of the assistant; read once at the edge (CLI, UI, API) and passed down."""

    model_config = SettingsConfigDict(
        env_prefix="ASSISTANT_",
        extra="forbid",
        frozen=True,
        toml_file=DEFAULT_CONFIG_FILE,
    )
    # PipelineSettings' fields come first; the order (repr, JSON schema) is theirs, then these.

    @field_validator("trusted_proxies", "ldap_admin_groups", mode="before")
    @classmethod
    def _split_lists(cls, value: Any) -> Any:
        """Accept a comma-separated string for ASSISTANT_TRUSTED_PROXIES and
        ASSISTANT_LDAP_ADMIN_GROUPS (ASSISTANT_SOURCES: PipelineSettings)."""
        return split_commas(value)

    def is_upload(self, path: str | Path) -> bool:
        """Whether an indexed file (its absolute path, as the catalog records it) is an upload
        saved by the web UI."""
        return Path(path).parent == Path(os.path.abspath(self.uploads_dir))

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
            TomlConfigSettingsSource(settings_cls, toml_file=_config_files()),
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
