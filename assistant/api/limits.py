"""The request size limit of the API, enforced before anything parses the body."""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from assistant.api.errors import ApiError


class BodyLimitMiddleware:
    """Answer 413 (JSON) to API requests whose body exceeds `max_bytes`.

    A declared Content-Length over the limit is refused without reading the body; a chunked
    body is read up to the limit and then refused. Only paths under `prefix` are limited: the
    mounted web chat has its own (larger) upload limit.
    """

    def __init__(self, app: ASGIApp, max_bytes: int, prefix: str = "/v1") -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.prefix = prefix

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Pass small requests on with their body replayed; refuse large ones."""
        if not under(scope, self.prefix):
            await self.app(scope, receive, send)
            return
        declared = _content_length(scope)  # the HTTP server has refused a malformed one
        if declared is not None and declared > self.max_bytes:
            await refuse(self._too_large(), scope, send)
            return
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.max_bytes:
                await refuse(self._too_large(), scope, send)
                return
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        body = b"".join(chunks)
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()  # after the body: wait for the disconnect

        await self.app(scope, replay, send)

    def _too_large(self) -> ApiError:
        return ApiError(
            413,
            f"the request body is larger than the limit of {self.max_bytes} bytes",
            code="request_too_large",
        )


def under(scope: Scope, prefix: str) -> bool:
    """Whether `scope` is an HTTP request for `prefix` or a path below it (the requests the API's
    middleware guards; the rest, the mounted web chat's, pass on untouched)."""
    path = scope["path"] if scope["type"] == "http" else None
    return path is not None and (path == prefix or path.startswith(prefix + "/"))


def _content_length(scope: Scope) -> int | None:
    for key, value in scope.get("headers", ()):
        if key.lower() == b"content-length":
            try:
                length = int(value)
            except ValueError:
                return None
            return length if length >= 0 else None
    return None


async def refuse(error: ApiError, scope: Scope, send: Send) -> None:
    """Answer `error` without reading the request's body, and close the connection."""
    response = error.response()
    response.headers["Connection"] = "close"  # the unread body must not be taken as a request
    await response(scope, _no_receive, send)


async def _no_receive() -> Message:
    return {"type": "http.disconnect"}
