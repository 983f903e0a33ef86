"""What the served pages may do: Gradio's file routes serve no URL and none of our folders,
and the browser may load nothing from another host (Content-Security-Policy).

Gradio's `/gradio_api/file=<url>` fetches any public http(s) URL for whoever asks (it even
resolves names through Google's DNS-over-HTTPS): an offline server must not reach out for a
client, so such requests are refused before Gradio sees them. Local paths are left to Gradio's
own allow-list (its upload folder only; no `allowed_paths` are given), and the assistant's own
folders are put on its block-list as well.
"""

from __future__ import annotations

import re

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from assistant.settings import Settings, config_path

# `/file=URL`, `/file/URL` and the same under `/gradio_api`, for any scheme (http:, file:, ...).
_REMOTE = re.compile(r"^(?:/gradio_api)?/file(?:=|/)[a-z][a-z0-9+.\-]*:", re.IGNORECASE)


class NoRemoteFiles:
    """Answer 403 to a request asking Gradio's file route for a URL instead of a local file."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Refuse file-route URLs; pass everything else on."""
        if scope["type"] == "http" and _REMOTE.match(scope.get("path", "")):
            body = b'{"detail":"This server does not fetch URLs."}'
            await send(
                {
                    "type": "http.response.start",
                    "status": 403,
                    "headers": [
                        (b"content-type", b"application/json"),
                        (b"content-length", str(len(body)).encode()),
                    ],
                }
            )
            await send({"type": "http.response.body", "body": body})
            return
        await self.app(scope, receive, send)


# The page may talk to and load from this server only. Inline scripts and eval stay allowed:
# Gradio's page needs them (its config script, gr.HTML's js_on_load); scripts in documents and
# answers never reach the page as markup (they are escaped), and even a stray image, frame or
# request aimed at another host is blocked by the browser.
CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self' 'unsafe-inline' 'unsafe-eval'",
        "style-src 'self' 'unsafe-inline'",
        "img-src 'self' data: blob:",
        "media-src 'self' data: blob:",
        "font-src 'self' data:",
        "connect-src 'self'",
        "frame-src 'none'",
        "object-src 'none'",
        "base-uri 'self'",
        "form-action 'self'",
        "frame-ancestors 'self'",
    ]
)
_HEADERS = [
    (b"content-security-policy", CONTENT_SECURITY_POLICY.encode()),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"no-referrer"),
]


class SecurityHeaders:
    """Add the Content-Security-Policy and related headers to every HTTP response."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Pass the request on; add the headers to the response's start."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                names = {name.lower() for name, _ in message.get("headers", [])}
                extra = [(name, value) for name, value in _HEADERS if name not in names]
                message = {**message, "headers": [*message.get("headers", []), *extra]}
            await send(message)

        await self.app(scope, receive, send_with_headers)


def blocked_paths(settings: Settings) -> list[str]:
    """Folders and files Gradio must never serve: index, data, sources, the settings file."""
    config = config_path()
    paths = [
        settings.index_dir,
        settings.data_dir,
        *settings.sources,
        *([config] if config else []),
    ]
    return [str(path.resolve()) for path in paths]
