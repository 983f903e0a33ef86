"""Request and response bodies of the HTTP API; FastAPI builds the OpenAPI schema from them.

The chat completion shapes follow OpenAI's chat API (so its clients parse them unchanged);
`Citation`, `RelatedPassage` and `Message` are the assistant's own value objects, shared with
the CLI and the UI.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field

from assistant.settings_pipeline import MAX_TOP_K
from assistant.types import Citation, ConversationSummary, Message, RelatedPassage

# -- errors ---------------------------------------------------------------------------------


class ErrorDetail(BaseModel):
    """What went wrong, in OpenAI's error shape."""

    message: str = Field(description="A sentence for a human.")
    type: str = Field(
        description="invalid_request_error, authentication_error, permission_error or server_error."
    )
    code: str | None = Field(None, description="A stable identifier for programs.")
    param: str | None = Field(None, description="The request field at fault, if one is.")


class ErrorResponse(BaseModel):
    """The body of every 4xx and 5xx answer of the API."""

    error: ErrorDetail


# -- chat completions -------------------------------------------------------------------------


class ContentPart(BaseModel):
    """A part of a message's content; only `text` parts are understood."""

    model_config = ConfigDict(extra="ignore")

    type: str = Field(description='"text" (other kinds, such as images, are refused with 400).')
    text: str | None = None


class ChatMessage(BaseModel):
    """One message of the conversation sent to /v1/chat/completions."""

    model_config = ConfigDict(extra="ignore")

    role: Literal["system", "developer", "user", "assistant", "tool", "function"] = Field(
        description="system, developer, tool and function messages are accepted and ignored "
        "(a client's tool calls are not the documents' answer)."
    )
    content: str | list[ContentPart] | None = None
    name: str | None = None


class StreamOptions(BaseModel):
    """OpenAI's streaming options."""

    model_config = ConfigDict(extra="ignore")

    include_usage: bool = Field(
        False,
        strict=True,
        description="Send a last chunk with `usage` and no choices before [DONE].",
    )


class ChatCompletionRequest(BaseModel):
    """OpenAI's chat completion request; parameters not listed are accepted and ignored."""

    model_config = ConfigDict(extra="ignore")

    model: str = Field(
        "default",
        description="The answerer: `default` (the server's choice) or a name from /v1/models.",
    )
    messages: list[ChatMessage] = Field(
        min_length=1,
        description="The conversation: the last message is the user's question, earlier user "
        "and assistant messages are its history.",
    )
    stream: bool = Field(
        False, strict=True, description="Answer as server-sent events (text/event-stream)."
    )
    stream_options: StreamOptions | None = None
    max_tokens: int | None = Field(
        None,
        ge=1,
        strict=True,
        description="Generation limit of LLM answerers (clamped to 8..4096).",
    )
    max_completion_tokens: int | None = Field(
        None,
        ge=1,
        strict=True,
        description="Same as max_tokens (OpenAI's newer name); wins when both are set.",
    )
    temperature: float | None = Field(
        None, ge=0.0, le=2.0, strict=True, description="Sampling temperature of LLM answerers."
    )
    n: int = Field(
        1, ge=1, le=1, strict=True, description="Number of choices: only 1 is supported."
    )
    collections: list[str] | None = Field(
        None,
        description="Answer only from these collections (default: all); see GET /v1/collections.",
    )


class AnswerExtras(BaseModel):
    """What a citation-aware client gets beyond OpenAI's fields."""

    citations: list[Citation] = Field(
        description="The sources of the [n] markers in the content, with exact quotes."
    )
    refused: bool = Field(description="True when the documents don't answer the question.")
    confidence: float = Field(description="How sure the answerer is that the documents answer.")
    notice: str | None = Field(None, description="A note for the user, e.g. a fallback.")
    standalone_question: str | None = Field(
        None, description="The follow-up rewritten as a self-contained question, if it was one."
    )
    related: list[RelatedPassage] = Field(
        default_factory=list,
        description="Where to read on: the best sentence of each retrieved passage that no "
        "citation quotes, best first (a refusal's: of the closest passages found).",
    )


class AssistantReply(BaseModel):
    """The assistant's message in a completion."""

    role: Literal["assistant"] = "assistant"
    content: str = Field(description="The answer with [n] citation markers, or the refusal.")
    refusal: None = Field(None, description="Always null: a refusal is content plus `refused`.")


class Choice(BaseModel):
    """The one choice of a completion."""

    index: int = 0
    message: AssistantReply
    finish_reason: Literal["stop"] = "stop"
    logprobs: None = None


class Usage(BaseModel):
    """Approximate token counts (about four characters per token)."""

    prompt_tokens: int = Field(description="Of the request's messages.")
    completion_tokens: int = Field(description="Of the answer.")
    total_tokens: int


class OpenAICompletion(BaseModel):
    """OpenAI's chat completion fields."""

    id: str
    object: Literal["chat.completion"] = "chat.completion"
    created: int = Field(description="Unix time in seconds.")
    model: str = Field(description="The answerer that answered.")
    choices: list[Choice]
    usage: Usage


# Pydantic puts the fields of later bases first: OpenAI's fields lead in the JSON.
class ChatCompletion(AnswerExtras, OpenAICompletion):
    """OpenAI's chat completion, plus the answer's citations and refusal flag."""


class ChunkDelta(BaseModel):
    """The new part of the message in a stream chunk."""

    role: Literal["assistant"] | None = None
    content: str | None = None


class ChunkChoice(BaseModel):
    """The one choice of a stream chunk."""

    index: int = 0
    delta: ChunkDelta
    finish_reason: Literal["stop"] | None = None


class ChatCompletionChunk(BaseModel):
    """One server-sent event of a streamed completion (`data: {...}`).

    The chunk with `finish_reason` "stop" also carries `citations`, `refused`, `confidence`,
    `notice`, `standalone_question` and `related`; a usage chunk (no choices) may follow; then
    `[DONE]`.
    """

    id: str
    object: Literal["chat.completion.chunk"] = "chat.completion.chunk"
    created: int
    model: str
    choices: list[ChunkChoice]
    usage: Usage | None = None
    citations: list[Citation] | None = None
    refused: bool | None = None
    confidence: float | None = None
    notice: str | None = None
    standalone_question: str | None = None
    related: list[RelatedPassage] | None = None


# -- models ---------------------------------------------------------------------------------


class ModelInfo(BaseModel):
    """A model name the API accepts: an answerer, or the `default` alias."""

    id: str
    object: Literal["model"] = "model"
    created: int = 0
    owned_by: str = "assistant"
    answerer: str = Field(description="The answerer this name stands for.")


class ModelList(BaseModel):
    """Every model name the API accepts."""

    object: Literal["list"] = "list"
    data: list[ModelInfo]


# -- ask ------------------------------------------------------------------------------------


def _pair_as_turn(value: object) -> object:
    """A `[role, content]` pair as the `{"role", "content"}` object it stands for (a list of
    another length is no turn)."""
    if isinstance(value, list):
        if len(value) != 2:
            raise ValueError(
                f"a turn is a {{role, content}} object or a [role, content] pair, "
                f"not a list of {len(value)}"
            )
        return {"role": value[0], "content": value[1]}
    return value


# A turn as `Assistant.ask` takes it: an object, or a [role, content] pair.
Turn = Annotated[
    Message,
    BeforeValidator(
        _pair_as_turn,
        json_schema_input_type=Message | tuple[Literal["user", "assistant"], str],
    ),
]


class AskRequest(BaseModel):
    """A question, optionally with the conversation so far."""

    model_config = ConfigDict(extra="forbid")

    # Not min_length: an empty question is refused as a blank one is, 400 invalid_question.
    question: str = Field(description="The question (at most `max_question_chars` characters).")
    history: list[Turn] = Field(
        default_factory=list,
        description='Earlier turns, oldest first, for follow-up questions: `{"role", '
        '"content"}` objects or `["user" or "assistant", content]` pairs.',
    )
    # Strict, as `Assistant.ask` is: true, "2" and 2.0 are not a number of passages.
    k: int | None = Field(
        None, ge=1, le=MAX_TOP_K, strict=True, description="Passages to retrieve (default 5)."
    )
    model: str | None = Field(None, description="The answerer, as in /v1/models.")
    collections: list[str] | None = Field(
        None,
        description="Answer only from these collections (default: all); see GET /v1/collections.",
    )


class AskResponse(BaseModel):
    """Exactly the JSON of `assistant ask --json` (`Answer.to_json_dict()`)."""

    answer: str = Field(description="The answer with [n] citation markers, or the refusal.")
    refused: bool
    confidence: float
    support: float | None = Field(description="Share of the sentences the sources support.")
    unsupported_sentences: list[str]
    standalone_question: str | None
    notice: str | None
    citations: list[Citation]
    related: list[RelatedPassage]
    timings_ms: dict[str, float]


# -- documents and health -------------------------------------------------------------------


class DocumentInfo(BaseModel):
    """One indexed document (read from the catalog's record)."""

    model_config = ConfigDict(from_attributes=True)

    doc_id: str
    source: str = Field(description="The path as ingested; citations name it too.")
    title: str
    format: str
    size: int = Field(description="Bytes of the source file.")
    chunks: int = Field(description="Passages the document was split into.")
    content_hash: str
    ingested_at: datetime = Field(description="When it was last indexed (UTC; from Unix time).")
    collection: str = Field(description="The collection the document belongs to.")


class CollectionInfo(BaseModel):
    """One collection of the index."""

    model_config = ConfigDict(from_attributes=True)

    name: str
    documents: int
    chunks: int = Field(description="Passages of its documents.")


class CollectionList(BaseModel):
    """The index's collections, by name."""

    collections: list[CollectionInfo]


class SuggestionList(BaseModel):
    """Suggested questions for an empty chat, best first."""

    questions: list[str]


class DocumentList(BaseModel):
    """The indexed documents, by source."""

    documents: list[DocumentInfo]
    count: int
    chunks: int = Field(description="Passages in the whole index.")


class DeletedDocument(BaseModel):
    """A document `DELETE /v1/documents/{doc_id}` took out of the index (read from the removed
    document's catalog record)."""

    model_config = ConfigDict(from_attributes=True)

    doc_id: str
    source: str = Field(description="The path as ingested (as `GET /v1/documents` named it).")
    title: str
    collection: str = Field(description="The collection it belonged to.")
    chunks_removed: int = Field(
        validation_alias="chunks", description="Passages (with their vectors) removed."
    )


class SyncHealth(BaseModel):
    """The last `assistant sync` or `assistant watch` sync (file names and reasons: the
    Documents tab and `assistant sync`, never this keyless endpoint)."""

    status: Literal["ok", "partial", "failed"] = Field(
        description="ok: the last sync completed and no file fails; partial: it completed "
        "but some files fail; failed: the last sync did not complete."
    )
    last_sync_at: datetime = Field(description="When the last sync ended (UTC).")
    last_success_at: datetime | None = Field(description="When a sync last completed (UTC).")
    failed_files: int = Field(description="Files (or folders) that failed in their last sync.")


class Health(BaseModel):
    """Whether the server can answer (no secrets, no paths)."""

    status: Literal["ok", "no_index"]
    index_ready: bool = Field(description="Whether an index with passages exists.")
    documents: int
    chunks: int
    answerer: str = Field(description="The answerer behind the model name `default`.")
    version: str
    sync: SyncHealth | None = Field(None, description="The last sync; null: never synced.")


class ConversationList(BaseModel):
    """The caller's conversations of the web chat, newest first (`GET /v1/conversations`)."""

    conversations: list[ConversationSummary]
    count: int


class DeletedConversation(BaseModel):
    """A conversation `DELETE /v1/conversations/{id}` deleted."""

    id: str
    deleted: bool = True
