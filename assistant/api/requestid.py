"""A request id for every API request: in `request.state.request_id` for the audit log, and
echoed in the `X-Request-Id` response header so a client can quote it."""

from __future__ import annotations

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from assistant.audit import new_request_id

HEADER = "X-Request-Id"


class RequestIdMiddleware:
    """Give each HTTP request a fresh id (a client's own header is not trusted: ids are ours)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Set the id on the request's state and add it to the response's headers."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = new_request_id()
        scope.setdefault("state", {})["request_id"] = request_id

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                MutableHeaders(scope=message)[HEADER] = request_id
            await send(message)

        await self.app(scope, receive, send_with_id)


def request_id_of(request: object) -> str | None:
    """The id the middleware gave a request (None outside it)."""
    state = getattr(request, "state", None)
    found = getattr(state, "request_id", None)
    return found if isinstance(found, str) else None
