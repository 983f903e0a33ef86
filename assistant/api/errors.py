"""API errors: every 4xx and 5xx is JSON in OpenAI's `{"error": {message, type, code, param}}`."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from assistant.api.schemas import ErrorResponse
from assistant.collections import CollectionError
from assistant.errors import (
    AssistantError,
    BadQuestionError,
    CatalogUnavailableError,
    IndexBusyError,
    IndexMissingError,
    IndexUnusableError,
    VectorStoreError,
)

log = logging.getLogger(__name__)

INVALID_REQUEST = "invalid_request_error"
AUTHENTICATION = "authentication_error"
PERMISSION = "permission_error"
SERVER = "server_error"

# Documented on every /v1 operation, so the OpenAPI schema lists what the server can answer.
ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    400: {"model": ErrorResponse, "description": "Bad request: invalid JSON or question."},
    401: {"model": ErrorResponse, "description": "Missing or wrong API key."},
    404: {"model": ErrorResponse, "description": "Unknown model or endpoint."},
    413: {"model": ErrorResponse, "description": "Request body over `max_request_bytes`."},
    422: {"model": ErrorResponse, "description": "The body does not match the schema."},
    429: {"model": ErrorResponse, "description": "Busy: too many waiting; see Retry-After."},
    500: {"model": ErrorResponse, "description": "A bug; the server logged it."},
    503: {
        "model": ErrorResponse,
        "description": "No index yet, the vector store or catalog database is unreachable, "
        "or busy (Retry-After).",
    },
}
_RETRY_SOON = {"Retry-After": "5"}  # a restarting vector store is back within seconds
_RETRY_LATER = {"Retry-After": "30"}  # an ingest or sync holds the index for longer
_STATUS_CODES = {400: "bad_request", 404: "not_found", 405: "method_not_allowed"}
_NOT_JSON = "the body must be a JSON object, sent as Content-Type: application/json"
_UNPARSED = "There was an error parsing the body"


class ApiError(Exception):
    """An error the API answers with a status and an OpenAI-shaped JSON body."""

    def __init__(
        self,
        status: int,
        message: str,
        *,
        code: str | None = None,
        kind: str = INVALID_REQUEST,
        param: str | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.code = code
        self.kind = kind
        self.param = param
        self.headers = dict(headers or {})

    def body(self) -> dict[str, Any]:
        """The JSON body."""
        return error_body(self.message, kind=self.kind, code=self.code, param=self.param)

    def response(self) -> JSONResponse:
        """The whole HTTP response."""
        return JSONResponse(self.body(), status_code=self.status, headers=self.headers)


def error_body(
    message: str, *, kind: str = INVALID_REQUEST, code: str | None = None, param: str | None = None
) -> dict[str, Any]:
    """`{"error": {...}}` as sent."""
    return {"error": {"message": message, "type": kind, "code": code, "param": param}}


def api_error_for(exc: Exception) -> ApiError:
    """The API error for an exception raised while answering."""
    if isinstance(exc, ApiError):
        return exc
    if isinstance(exc, BadQuestionError):
        return ApiError(400, str(exc), code="invalid_question")
    if isinstance(exc, CollectionError):
        return ApiError(400, str(exc), code="invalid_collection", param="collections")
    if isinstance(exc, IndexMissingError):
        # Not the message: it names the server's folder, which is no client's business.
        message = "no documents are indexed yet: run `assistant ingest` on the server"
        return ApiError(503, message, code="index_missing", kind=SERVER)
    if isinstance(exc, IndexUnusableError):
        return ApiError(503, str(exc), code="index_unusable", kind=SERVER)
    if isinstance(exc, IndexBusyError):
        return ApiError(503, str(exc), code="index_busy", kind=SERVER, headers=_RETRY_LATER)
    if isinstance(exc, CatalogUnavailableError):
        return ApiError(503, str(exc), code="catalog_unavailable", kind=SERVER, headers=_RETRY_SOON)
    if isinstance(exc, VectorStoreError):
        return ApiError(
            503, str(exc), code="vector_store_unavailable", kind=SERVER, headers=_RETRY_SOON
        )
    if isinstance(exc, AssistantError):
        return ApiError(500, str(exc), code="assistant_error", kind=SERVER)
    log.error("the API failed", exc_info=exc)
    return ApiError(500, "the server failed; the error was logged", code="internal", kind=SERVER)


def validation_error(exc: RequestValidationError, sent_as_json: bool) -> ApiError:
    """400 for a body that is not JSON (none, or not sent as JSON: `sent_as_json` False), 422
    (naming the field) for JSON that breaks the schema."""
    errors = list(exc.errors())
    first = errors[0] if errors else {}
    if first.get("type") == "json_invalid":
        detail = (first.get("ctx") or {}).get("error", "")
        return ApiError(
            400, f"the body is not valid JSON{': ' + detail if detail else ''}", code="invalid_json"
        )
    location = [str(part) for part in first.get("loc", ()) if part != "body"]
    param = ".".join(location) or None
    message = str(first.get("msg", "invalid request"))
    if not location and (first.get("type") == "missing" or not sent_as_json):
        return ApiError(400, _NOT_JSON, code="invalid_json")  # no body, a form, plain text
    if not location:  # the body as a whole: JSON, but not an object
        message = _NOT_JSON
    elif param:
        message = f"{param}: {message}"
    more = len(errors) - 1
    if more > 0:
        message += f" (and {more} more {'problem' if more == 1 else 'problems'})"
    return ApiError(422, message, code="invalid_body", param=param)


def install_error_handlers(app: FastAPI) -> None:
    """Make every error of `app` (not of a mounted app) an OpenAI-shaped JSON response."""

    async def on_api_error(request: Request, exc: Exception) -> JSONResponse:
        return api_error_for(exc).response()

    async def on_validation(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, RequestValidationError)
        media = request.headers.get("content-type", "").split(";")[0].strip().lower()
        sent_as_json = media == "application/json" or media.endswith("+json")
        return validation_error(exc, sent_as_json).response()

    async def on_http(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, StarletteHTTPException)
        message = exc.detail if isinstance(exc.detail, str) else "request failed"
        code = _STATUS_CODES.get(exc.status_code)
        if exc.status_code == 400 and message == _UNPARSED:
            # FastAPI's own words for a body it could not decode (not UTF-8, nested too deep).
            message, code = f"the body is not valid JSON: {_UNPARSED.lower()}", "invalid_json"
        return ApiError(exc.status_code, message, code=code, headers=exc.headers).response()

    app.add_exception_handler(ApiError, on_api_error)
    app.add_exception_handler(AssistantError, on_api_error)
    app.add_exception_handler(RequestValidationError, on_validation)
    app.add_exception_handler(StarletteHTTPException, on_http)
    app.add_exception_handler(Exception, on_api_error)
