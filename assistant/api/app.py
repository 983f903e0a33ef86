"""The FastAPI app: OpenAI-compatible chat completions, ask, documents, models and health."""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version
from typing import Any

from fastapi import APIRouter, Depends, FastAPI, Query
from fastapi import Path as PathParam
from fastapi.responses import Response, StreamingResponse
from fastapi.routing import APIRoute
from starlette.concurrency import run_in_threadpool

from assistant.account_types import User
from assistant.api.auth import ApiKeys, AuthMiddleware, Caller, caller_check, caller_of
from assistant.api.chat import SSE_HEADERS, completion, conversation, prompt_tokens, stream_events
from assistant.api.errors import ERROR_RESPONSES, PERMISSION, ApiError, install_error_handlers
from assistant.api.limits import BodyLimitMiddleware
from assistant.api.models import Models
from assistant.api.requestid import RequestIdMiddleware
from assistant.api.routing import API_PREFIX, add_fallback, register_schema
from assistant.api.schemas import (
    AskRequest,
    AskResponse,
    ChatCompletion,
    ChatCompletionChunk,
    ChatCompletionRequest,
    CollectionInfo,
    CollectionList,
    ConversationList,
    DeletedConversation,
    DeletedDocument,
    DocumentInfo,
    DocumentList,
    ErrorResponse,
    Health,
    ModelInfo,
    ModelList,
    SuggestionList,
    SyncHealth,
)
from assistant.api.slots import AnswerSlots
from assistant.conversation_views import conversation_markdown
from assistant.core import Assistant
from assistant.errors import AccountError
from assistant.proxyauth import TrustedProxy
from assistant.types import Answer, Conversation

# FastAPI's own OpenTelemetry hooks, off: nothing of a request leaves the machine.
_NO_TELEMETRY: Any = {
    "tracing": False,
    "metrics": False,
    "logs": False,
    "operation_spans": False,
    "auto_configure": False,
}
_DESCRIPTION = (
    "Answers from the indexed documents with numbered citations of exact source spans, or a "
    "refusal. `/v1/chat/completions` speaks OpenAI's chat API (the `openai` clients work "
    "unchanged) and adds `citations` and `refused`; `/v1/ask` returns the JSON of "
    "`assistant ask --json`; `DELETE /v1/documents/{doc_id}` takes a document out of the index "
    "(administrators only). See docs/api.md."
)
_DELETE_RESPONSES: dict[int | str, dict[str, Any]] = {
    403: {
        "model": ErrorResponse,
        "description": "The caller is a member, not an administrator, or the server deletes "
        "nothing over the API (`api_allow_delete` off).",
    },
    404: {"model": ErrorResponse, "description": "No document with this id, or no endpoint."},
}
_CONVERSATION_RESPONSES: dict[int | str, dict[str, Any]] = {
    403: {"model": ErrorResponse, "description": "The caller is no user (a service key)."},
    404: {"model": ErrorResponse, "description": "No conversation with this id of the caller's."},
}


_CONVERSATION_ID = PathParam(description="An `id` from `GET /v1/conversations`.")


def _no_conversation() -> ApiError:
    """The 404 of an id none of the caller's conversations has (another user's included)."""
    return ApiError(
        404,
        "no such conversation of yours (GET /v1/conversations lists them)",
        code="conversation_not_found",
        param="conversation_id",
    )


_STREAM_DOC = (
    "The completion (application/json), or with `stream: true` server-sent events "
    "(text/event-stream): one `data: {json}` line per "
    "ChatCompletionChunk (the last one with `finish_reason` carries `citations` and "
    "`refused`), `: keep-alive` comments while the answer is prepared, then `data: [DONE]`."
)


def create_app(assistant: Assistant) -> FastAPI:
    """The API over one (shared) Assistant; keys, limits and models come from its settings."""
    settings = assistant.settings
    keys = ApiKeys.from_settings(settings)
    models = Models(assistant)
    slots = AnswerSlots.from_settings(settings)
    app = FastAPI(
        title="Document assistant API",
        version=_version(),
        description=_DESCRIPTION,
        docs_url=None,  # the Swagger and ReDoc pages would load scripts from a CDN
        redoc_url=None,
        telemetry=_NO_TELEMETRY,
    )
    install_error_handlers(app)
    app.state.answer_slots = slots  # observable by operators' tooling and the tests
    app.add_middleware(BodyLimitMiddleware, max_bytes=settings.max_request_bytes, prefix=API_PREFIX)
    # Outside the size limit: a caller without a valid key uploads nothing and learns nothing.
    check = caller_check(keys, assistant.accounts, TrustedProxy.from_settings(settings))
    app.add_middleware(AuthMiddleware, check=check, prefix=API_PREFIX)
    app.add_middleware(RequestIdMiddleware)  # outermost: even a 401 or 413 carries its id
    router = APIRouter(
        prefix=API_PREFIX, dependencies=[Depends(caller_of)], responses=ERROR_RESPONSES
    )
    # Endpoints that need the caller ask for the same dependency: FastAPI computes it once.
    called = Depends(caller_of)

    @router.post(
        "/chat/completions",
        response_model=ChatCompletion,
        summary="Answer the last user message (OpenAI chat completions)",
        responses={
            200: {
                "description": _STREAM_DOC,
                "content": {"text/event-stream": {"schema": {"type": "string"}}},
            }
        },
        openapi_extra={"x-stream-chunk": {"$ref": "#/components/schemas/ChatCompletionChunk"}},
    )
    async def chat_completions(body: ChatCompletionRequest, caller: Caller = called) -> Any:
        """An answer in OpenAI's chat completion shape, with `citations` and `refused` added."""
        question, history = conversation(body.messages)
        max_tokens = body.max_completion_tokens or body.max_tokens
        answerer = models.answerer(body.model, max_tokens, body.temperature)
        name = models.resolve(body.model)
        prompt = prompt_tokens(body.messages)

        def answer() -> Answer:
            return assistant.ask(
                question,
                history,
                answerer=answerer,
                collections=body.collections,
                user=caller.user,
                request_id=caller.request_id,
            )

        if not body.stream:
            async with slots.hold():
                return completion(await run_in_threadpool(answer), name, prompt)
        # A bad question, no index or a full queue: an HTTP error now, before the stream starts.
        await run_in_threadpool(_check_question, assistant, question, body.collections, caller.user)
        slots.admit()
        include_usage = bool(body.stream_options and body.stream_options.include_usage)
        events = stream_events(answer, name, prompt, include_usage, slots)
        return StreamingResponse(events, media_type="text/event-stream", headers=SSE_HEADERS)

    @router.post("/ask", response_model=AskResponse, summary="Answer a question (CLI JSON)")
    async def ask(body: AskRequest, caller: Caller = called) -> AskResponse:
        """The answer as `assistant ask --json` prints it."""
        answerer = models.answerer(body.model)
        async with slots.hold():
            answer = await run_in_threadpool(
                assistant.ask,
                body.question,
                body.history,
                k=body.k,
                answerer=answerer,
                collections=body.collections,
                user=caller.user,
                request_id=caller.request_id,
            )
        return AskResponse.model_validate(answer.to_json_dict())

    @router.get("/documents", response_model=DocumentList, summary="The indexed documents")
    def documents(caller: Caller = called) -> DocumentList:
        """Every indexed document the caller may read, with its passage count and index time."""
        records = sorted(assistant.documents(caller.user), key=lambda record: record.source)
        listed = [DocumentInfo.model_validate(record, from_attributes=True) for record in records]
        return DocumentList(
            documents=listed, count=len(listed), chunks=sum(r.chunks for r in records)
        )

    @router.delete(
        "/documents/{doc_id}",
        response_model=DeletedDocument,
        summary="Delete a document from the index (administrators)",
        responses=_DELETE_RESPONSES,
    )
    def delete_document(
        doc_id: str = PathParam(description="The document's `doc_id` from `GET /v1/documents`."),
        caller: Caller = called,
    ) -> DeletedDocument:
        """Take a document and its passages out of the index, so no answer cites it again.
        Administrators, service keys and an API open without keys or users may; a member gets
        403. A file in a document folder stays on disk: the next sync or ingest indexes it
        again (an uploaded file is deleted with it). The audit log records a `delete` event
        under the request's `X-Request-Id`."""
        if not assistant.settings.api_allow_delete:
            raise ApiError(
                403,
                "this server deletes no documents over the API (api_allow_delete is off)",
                code="forbidden",
                kind=PERMISSION,
            )
        try:
            removed = assistant.delete_document(doc_id, caller.user, caller.request_id)
        except AccountError as exc:
            raise ApiError(403, str(exc), code="forbidden", kind=PERMISSION) from None
        if removed is None:
            raise ApiError(
                404,
                "no such document in the index (GET /v1/documents lists them)",
                code="document_not_found",
                param="doc_id",
            )
        return DeletedDocument.model_validate(removed, from_attributes=True)

    def owner_of(caller: Caller) -> tuple[str, User]:
        """The caller's conversations are the web chat's of the same user."""
        if caller.user is None:
            raise ApiError(
                403,
                "conversations belong to a user: call with a personal API key "
                "(`assistant api-keys create --user NAME`)",
                code="no_user",
                kind=PERMISSION,
            )
        return f"user:{caller.user.name}", caller.user

    def found(caller: Caller, conversation_id: str) -> Conversation:
        owner, user = owner_of(caller)
        conversation = assistant.conversation(owner, conversation_id, user)
        if conversation is None:
            raise _no_conversation()
        return conversation

    @router.get(
        "/conversations",
        response_model=ConversationList,
        summary="The caller's conversations of the web chat",
        responses=_CONVERSATION_RESPONSES,
    )
    def conversations(
        caller: Caller = called,
        q: str = Query("", max_length=200, description="Only those holding every word of it."),
    ) -> ConversationList:
        """The conversations the caller's user has in the web chat, newest first; `q` keeps
        those whose title, questions or answers hold every word (answers the user may no
        longer read are not searched)."""
        owner, user = owner_of(caller)
        listed = assistant.find_conversations(owner, q, user)
        return ConversationList(conversations=listed, count=len(listed))

    @router.get(
        "/conversations/{conversation_id}",
        response_model=Conversation,
        summary="One conversation with its answers and citations",
        responses=_CONVERSATION_RESPONSES,
    )
    def conversation_detail(
        conversation_id: str = _CONVERSATION_ID,
        caller: Caller = called,
    ) -> Conversation:
        """Every question and answer of the conversation, oldest first, with the answers'
        citations; an answer citing a document the user may no longer read is withheld."""
        return found(caller, conversation_id)

    @router.get(
        "/conversations/{conversation_id}/export",
        summary="One conversation as Markdown with its numbered sources",
        responses={
            **_CONVERSATION_RESPONSES,
            200: {"content": {"text/markdown": {"schema": {"type": "string"}}}},
        },
        response_class=Response,
    )
    def conversation_export(
        conversation_id: str = _CONVERSATION_ID,
        caller: Caller = called,
    ) -> Response:
        """The same Markdown as the chat's *Export* (questions, answers, numbered sources)."""
        text = conversation_markdown(found(caller, conversation_id))
        return Response(text, media_type="text/markdown; charset=utf-8")

    @router.delete(
        "/conversations/{conversation_id}",
        response_model=DeletedConversation,
        summary="Delete one of the caller's conversations",
        responses=_CONVERSATION_RESPONSES,
    )
    def conversation_delete(
        conversation_id: str = _CONVERSATION_ID,
        caller: Caller = called,
    ) -> DeletedConversation:
        """Delete the conversation (the chat's list loses it too)."""
        owner, _ = owner_of(caller)
        if not assistant.conversations.delete(owner, conversation_id):
            raise _no_conversation()
        return DeletedConversation(id=conversation_id)

    @router.get("/suggestions", response_model=SuggestionList, summary="Suggested questions")
    def suggestions(
        caller: Caller = called,
        limit: int = Query(4, ge=0, le=12, description="At most this many."),
    ) -> SuggestionList:
        """Short questions the documents the caller may read answer (each asked before it is
        offered), for an empty chat; none when no candidate is answered well."""
        return SuggestionList(questions=assistant.suggested_questions(limit, caller.user))

    @router.get("/collections", response_model=CollectionList, summary="The collections")
    def collections(caller: Caller = called) -> CollectionList:
        """Every collection the caller may read, with its document and passage counts."""
        found = assistant.collections(caller.user)
        return CollectionList(
            collections=[CollectionInfo.model_validate(c, from_attributes=True) for c in found]
        )

    @router.get("/models", response_model=ModelList, summary="The model names accepted")
    def list_models() -> ModelList:
        """`default` and every answerer (OpenAI's model list shape)."""
        names = models.names()
        return ModelList(data=[ModelInfo(id=name, answerer=names[name]) for name in names])

    @router.get("/models/{model_id}", response_model=ModelInfo, summary="One model name")
    def get_model(model_id: str) -> ModelInfo:
        """A model name and the answerer it stands for (404 `model_not_found`)."""
        answerer = models.resolve(model_id)
        return ModelInfo(id=model_id, answerer=answerer)

    app.include_router(router)

    @app.get("/healthz", response_model=Health, summary="Whether the server can answer")
    def healthz() -> Health:
        """Index presence and size, the default answerer and the last sync (no key needed)."""
        records = assistant.documents()
        chunks = sum(c.chunks for c in assistant.collections()) if records else 0
        synced = assistant.sync_status()
        return Health(
            sync=None
            if synced is None
            else SyncHealth(
                status=synced.state,
                last_sync_at=synced.last_sync_at,
                last_success_at=synced.last_success_at,
                failed_files=len(synced.failed),
            ),
            status="ok" if chunks else "no_index",
            index_ready=bool(chunks),
            documents=len(records),
            chunks=chunks,
            answerer=models.default,
            version=_version(),
        )

    paths: dict[str, set[str]] = {}
    for route in [*router.routes, *app.routes]:
        if isinstance(route, APIRoute):
            paths.setdefault(route.path, set()).update(route.methods or ())
    add_fallback(app, paths)
    register_schema(app, ChatCompletionChunk)
    return app


def _check_question(
    assistant: Assistant,
    question: str,
    collections: list[str] | None = None,
    user: User | None = None,
) -> None:
    assistant.prepare_question(question)
    assistant.require_index()
    assistant.check_collections(collections, user)


def _version() -> str:
    try:
        return version("assistant")
    except PackageNotFoundError:  # pragma: no cover - running from a source tree
        return "0.0.0"
