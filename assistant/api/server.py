"""`assistant serve`: the web chat at `/` and the HTTP API under `/v1` in one process."""

from __future__ import annotations

import asyncio
import logging
import os
import socket
import sys
import time

from fastapi import FastAPI

from assistant.core import Assistant
from assistant.errors import AssistantError
from assistant.security import is_loopback
from assistant.settings import Settings


class UnsafeBindError(AssistantError):
    """The server would be open to the network without logins or keys."""


class PortInUseError(AssistantError):
    """The address to serve on cannot be bound (taken, or not this machine's)."""


def bind_listener(host: str, port: int) -> socket.socket:
    """A socket bound to `host:port` (port 0: any free port, read it back with getsockname)."""
    family = socket.AF_INET6 if ":" in host.strip("[]") else socket.AF_INET
    listener = socket.socket(family, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        listener.bind((host.strip("[]"), port))
    except OSError as exc:
        listener.close()
        raise PortInUseError(
            f"cannot listen on {host}:{port}: {exc.strerror or exc}; "
            "choose another --port (0 picks a free one)"
        ) from exc
    return listener


def unguarded_parts(
    settings: Settings, *, api: bool, ui: bool, has_logins: bool, has_accounts: bool = False
) -> list[str]:
    """What would be served beyond this machine without a login: the web chat, the API.

    The API is guarded by service keys (`api_keys`) or by accounts: users in the catalog, a
    directory or a trusted SSO proxy, after which every request needs a user's key or password
    (`assistant.api.auth.caller_check`)."""
    if is_loopback(settings.host):
        return []
    parts = ["the web chat"] if ui and not has_logins else []
    guarded = bool(settings.api_keys) or has_accounts
    return parts + (["the API"] if api and not guarded else [])


def check_bind(
    settings: Settings,
    *,
    api: bool = True,
    ui: bool = True,
    has_logins: bool = False,
    has_accounts: bool = False,
) -> str | None:
    """One rule for `serve`: beyond loopback, every part served needs its login (chat) or keys
    (API). Otherwise refuse, unless explicitly allowed; then return the warning to print."""
    unguarded = unguarded_parts(
        settings, api=api, ui=ui, has_logins=has_logins, has_accounts=has_accounts
    )
    if not unguarded:
        return None
    if settings.allow_unauthenticated_remote:
        from assistant.ui.auth import open_bind_warning

        return open_bind_warning(settings.host, unguarded)
    remedies = []
    if "the web chat" in unguarded:
        remedies.append(
            "add web chat logins (`assistant users add`, docs/teams.md; or `assistant "
            "hash-password`, then auth_users or auth_file; docs/ui.md)"
        )
    if "the API" in unguarded:
        remedies.append(
            "add API keys (`assistant hash-api-key`, then the api_keys setting; docs/api.md) "
            "or users (`assistant users add`; docs/teams.md)"
            + (" or serve the chat alone (--ui-only)" if len(unguarded) == 1 else "")
        )
    missing = " and ".join(
        need
        for part, need in (("the web chat", "logins"), ("the API", "API keys"))
        if part in unguarded
    )
    raise UnsafeBindError(
        f"refusing to serve {' and '.join(unguarded)} on {settings.host} without {missing}: "
        f"anyone who can reach it could read every document. To fix: {'; '.join(remedies)}; "
        "or bind to 127.0.0.1; or allow it with --allow-unauthenticated-remote "
        "(docs/security.md)"
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
        from assistant.ui.auth import load_users

        mount_ui(app, assistant, load_users(assistant.settings))
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


GRACEFUL_SHUTDOWN_S = 10


def serve(settings: Settings, *, api: bool = True, ui: bool = True) -> None:
    """Serve until interrupted; fails before loading anything when the settings are unsafe."""
    import uvicorn

    os.environ["GRADIO_ANALYTICS_ENABLED"] = "False"
    logging.basicConfig(
        level=settings.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    from assistant.accounts import Accounts
    from assistant.ui.auth import load_users

    # The chat asks for a login when the settings have logins or the catalog has users.
    users = Accounts.from_settings(settings).any_users()
    proxied = settings.trusted_user_header is not None  # a trusted SSO proxy signs in
    has_logins = ui and (bool(load_users(settings)) or users or proxied)
    warning = check_bind(
        settings, api=api, ui=ui, has_logins=has_logins, has_accounts=users or proxied
    )
    if warning:
        print(warning, file=sys.stderr, flush=True)
    # Bound before anything loads: a taken port fails at once, and port 0 becomes the real port
    # the chat, the API and the printed URL all use.
    listener = bind_listener(settings.host, settings.port)
    settings = settings.with_overrides(port=listener.getsockname()[1])
    assistant = Assistant(settings)
    app = build_server(assistant, api=api, ui=ui)  # checks logins and key hashes
    warm_up(assistant)
    base = f"http://{_url_host(settings.host)}:{settings.port}"
    offered = [f"the chat at {base}/"] if ui else []
    offered += [f"the API at {base}/v1 (docs/api.md)"] if api else []
    print(f"assistant: serving {' and '.join(offered)}", file=sys.stderr, flush=True)
    # No proxy headers: the peer a request came from is the socket's, so an X-Forwarded-For
    # cannot pose as a trusted SSO proxy (trusted_proxies; assistant.proxyauth).
    # On SIGTERM or Ctrl-C, requests in flight get GRACEFUL_SHUTDOWN_S to finish; the chat's
    # event streams never end by themselves, and without a limit an open browser tab kept the
    # server up until a service manager killed it.
    config = uvicorn.Config(
        app,
        log_level=settings.log_level,
        proxy_headers=False,
        timeout_graceful_shutdown=GRACEFUL_SHUTDOWN_S,
    )
    logging.getLogger("uvicorn.error").addFilter(_cancelled_at_shutdown)  # after its set-up
    uvicorn.Server(config).run(sockets=[listener])


def _cancelled_at_shutdown(record: logging.LogRecord) -> bool:
    """Leave out the traceback of a request that uvicorn cancelled when the grace period ran
    out (an open chat tab's event stream): its one line "Cancel 1 running task(s), timeout
    graceful shutdown exceeded" says it all, and an "Exception in ASGI application" with forty
    lines of stack after it read like a crash."""
    error = record.exc_info[1] if record.exc_info else None
    return not isinstance(error, asyncio.CancelledError)


def _url_host(host: str) -> str:
    return f"[{host}]" if ":" in host and not host.startswith("[") else host
