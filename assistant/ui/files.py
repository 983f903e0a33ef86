"""What Gradio's file routes may serve: never a remote URL, never the index, data or config.

Gradio's `/gradio_api/file=<url>` fetches any public http(s) URL for whoever asks (it even
resolves names through Google's DNS-over-HTTPS): an offline server must not reach out for a
client, so such requests are refused before Gradio sees them. Local paths are left to Gradio's
own allow-list (its upload folder only; no `allowed_paths` are given), and the assistant's own
folders are put on its block-list as well.
"""

from __future__ import annotations

import re
from pathlib import Path

from starlette.types import ASGIApp, Receive, Scope, Send

from assistant.settings import DEFAULT_CONFIG_FILE, Settings

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


def blocked_paths(settings: Settings) -> list[str]:
    """Folders and files Gradio must never serve: index, data, sources, ./assistant.toml."""
    paths = [settings.index_dir, settings.data_dir, *settings.sources, Path(DEFAULT_CONFIG_FILE)]
    return [str(path.resolve()) for path in paths]
