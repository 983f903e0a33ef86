"""Where the API lives (`/v1`) and what answers there besides its endpoints: a JSON 405 for
another method on an endpoint's path, a JSON 404 for an unknown path under `/v1`, and the
stream chunk's schema in the OpenAPI document.

`app.py` declares the endpoints; this is the wiring around them, the same whatever endpoints
there are, so it has its own home.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import Response
from starlette.routing import Match, Route
from starlette.types import Receive, Scope, Send

from assistant.api.errors import ApiError
from assistant.api.schemas import ChatCompletionChunk

API_PREFIX = "/v1"


def add_fallback(app: FastAPI, paths: dict[str, set[str]]) -> None:
    """JSON 405 for other methods on the API's paths, and 404 for unknown paths under /v1.

    Without these the request would reach the web chat mounted at `/`, which answers in its
    own shape.
    """
    for path, methods in paths.items():
        allowed = sorted(methods)
        app.router.routes.append(_AnyMethod(path, _method_not_allowed(allowed)))

    def unknown(request: Request) -> Response:
        raise ApiError(404, f"no endpoint {request.url.path}", code="not_found")

    app.router.routes.append(_AnyMethod(API_PREFIX + "/{rest:path}", unknown))


class _AnyMethod(Route):
    """A route that takes every HTTP method, even ones Starlette does not list."""

    def matches(self, scope: Scope) -> tuple[Match, Scope]:
        """A full match whenever the path matches."""
        match, child = super().matches(scope)
        return (Match.FULL if match is Match.PARTIAL else match), child

    async def handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        """The endpoint, whatever the method."""
        await self.app(scope, receive, send)


def _method_not_allowed(allowed: list[str]) -> Callable[[Request], Response]:
    def refuse(request: Request) -> Response:
        raise ApiError(
            405,
            f"{request.method} is not allowed here; use {', '.join(allowed)}",
            code="method_not_allowed",
            headers={"Allow": ", ".join(allowed)},
        )

    return refuse


def register_schema(app: FastAPI, model: type[ChatCompletionChunk]) -> None:
    """Put a model only named in a description (the stream chunk) into the OpenAPI components."""
    build = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            schema = build()
            components = schema.setdefault("components", {}).setdefault("schemas", {})
            definition = model.model_json_schema(ref_template="#/components/schemas/{model}")
            for name, nested in definition.pop("$defs", {}).items():
                components.setdefault(name, nested)
            components[model.__name__] = definition
            app.openapi_schema = schema
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
