"""`assistant serve`: the web chat at `/` and the HTTP API under `/v1` in one process."""

from __future__ import annotations

import os
import sys
import time

from fastapi import FastAPI

from assistant.core import Assistant
from assistant.errors import AssistantError
from assistant.security import is_loopback
from assistant.settings import Settings


class UnsafeBindError(AssistantError):
    """The API would be open to the network without keys."""


def check_bind(settings: Settings, api: bool) -> None:
    """Refuse to serve the API beyond this machine without keys, unless explicitly allowed."""
    if not api or is_loopback(settings.host) or settings.api_keys:
        return
    if settings.api_allow_unauthenticated_remote:
        return
    raise UnsafeBindError(
        f"refusing to serve the API on {settings.host} without API keys: anyone who can reach "
        "it could query every document. Add a key (`assistant hash-api-key`, then the api_keys "
        "setting; see docs/api.md), bind to 127.0.0.1, serve the chat alone (--ui-only), or "
        "allow it with --allow-unauthenticated-remote"
    )


def build_server(assistant: Assistant, *, api: bool = True, ui: bool = True) -> FastAPI:
    """The ASGI app: the API's routes first, then the web chat mounted at `/`."""
    if api:
        from assistant.api.app import create_app

        app = create_app(assistant)
    else:
        app = FastAPI(docs_url=None, redoc_url=None, openapi_url=None)
    if ui:
        from assistant.ui.app import mount_ui
        from assistant.ui.auth import load_users, open_bind_warning

        users = load_users(assistant.settings)
        if not users and not is_loopback(assistant.settings.host):
            print(open_bind_warning(assistant.settings.host), file=sys.stderr, flush=True)
        mount_ui(app, assistant, users)
    return app


def warm_up(assistant: Assistant) -> None:
    """Load the embedding model, open the store and build the answerer before serving."""
    started = time.perf_counter()
    try:
        assistant.retrieve("warm up", k=1)
        answerer = assistant.answerer
        prepare = getattr(answerer, "warm_up", None)
        if callable(prepare):  # e.g. an LLM answerer loading its model file
            prepare()
    except AssistantError as exc:
        print(f"assistant: {exc}", file=sys.stderr)
    print(f"assistant: ready in {time.perf_counter() - started:.1f} s", file=sys.stderr)


def serve(settings: Settings, *, api: bool = True, ui: bool = True) -> None:
    """Serve until interrupted; fails before loading anything when the settings are unsafe."""
    import uvicorn

    os.environ["GRADIO_ANALYTICS_ENABLED"] = "False"
    check_bind(settings, api)
    assistant = Assistant(settings)
    app = build_server(assistant, api=api, ui=ui)  # checks logins and key hashes
    warm_up(assistant)
    base = f"http://{_url_host(settings.host)}:{settings.port}"
    offered = [f"the chat at {base}/"] if ui else []
    offered += [f"the API at {base}/v1 (docs/api.md)"] if api else []
    print(f"assistant: serving {' and '.join(offered)}", file=sys.stderr, flush=True)
    uvicorn.run(app, host=settings.host, port=settings.port, log_level="warning")


def _url_host(host: str) -> str:
    return f"[{host}]" if ":" in host and not host.startswith("[") else host
